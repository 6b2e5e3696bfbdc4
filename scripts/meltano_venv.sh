# Sourced by scripts/demo.sh and scripts/analyze.sh, and run by the tests that run whole
# pipelines (tests/meltano_project.py): Meltano in its own virtualenv (.venv-meltano;
# each plugin then gets its own under .meltano/), with the PostgreSQL driver its state
# backend and target-postgres's tests use, and its usage tracking off. Sets MELTANO to
# its executable.
MELTANO_VENV=.venv-meltano
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
export MELTANO_DISABLE_TRACKING=true

if ! "$MELTANO_VENV/bin/python" -c "import meltano, psycopg" 2>/dev/null; then
  echo "==> Installing Meltano into $MELTANO_VENV"
  [ -x "$MELTANO_VENV/bin/python" ] || python3 -m venv "$MELTANO_VENV"
  "$MELTANO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  # `postgres`: the psycopg 3 driver.
  "$MELTANO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "meltano[postgres]>=4,<5"
fi
MELTANO="$MELTANO_VENV/bin/meltano"
