# Sourced by scripts/demo.sh and scripts/analyze.sh: Meltano in its own virtualenv
# (.venv-meltano; each plugin then gets its own under .meltano/), with its usage
# tracking off. Sets MELTANO to its executable.
MELTANO_VENV=.venv-meltano
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
export MELTANO_DISABLE_TRACKING=true

if [ ! -x "$MELTANO_VENV/bin/meltano" ]; then
  echo "==> Installing Meltano into $MELTANO_VENV"
  python3 -m venv "$MELTANO_VENV"
  "$MELTANO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$MELTANO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "meltano>=4,<5"
fi
MELTANO="$MELTANO_VENV/bin/meltano"
