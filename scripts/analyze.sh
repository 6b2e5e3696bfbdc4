#!/usr/bin/env bash
# make analyze CONFIG=<tap config> DB=<duckdb file>: your own inbox into an embedded DuckDB
# file, with the analytics models (transform/) built in its schema `linkedin_messages`,
# their answers printed and `<file stem>.png` drawn beside it.
#
# The tap reads CONFIG (any provider, as `tap-linkedin-messages --config`), target-duckdb
# loads schema `linkedin`, and the tap's state is kept beside the file (<DB>.state.json):
# run it again and only what changed is read (and billed). The state is replaced only
# when the tap and the target both succeed.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: make analyze CONFIG=<tap config.json> DB=<file.duckdb>"
config=${1:-}
database=${2:-}
if [ -z "$config" ] || [ -z "$database" ]; then
  echo "analyze: CONFIG and DB are required; $usage" >&2
  exit 2
fi
if [ ! -f "$config" ]; then
  echo "analyze: CONFIG: no file at $config" >&2
  exit 2
fi
mkdir -p "$(dirname "$database")"
database=$(cd "$(dirname "$database")" && pwd)/$(basename "$database")
state="$database.state.json"

# shellcheck source=scripts/meltano_venv.sh
. scripts/meltano_venv.sh
"$MELTANO" --log-level=warning install loader target-duckdb
"$MELTANO" --log-level=warning install transformer dbt-duckdb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TARGET_DUCKDB_PATH="$database" DBT_DUCKDB_PATH="$database"
state_args=()
if [ -s "$state" ]; then
  state_args=(--state "$state")
  echo "==> tap-linkedin-messages (incremental, from $state) | target-duckdb $database"
else
  echo "==> tap-linkedin-messages (full sync) | target-duckdb $database"
fi
.venv/bin/tap-linkedin-messages --config "$config" "${state_args[@]}" \
  | "$MELTANO" --log-level=warning invoke target-duckdb > "$work/states"
# target-duckdb writes a state line each time it has committed a batch: the last one is
# what the next run starts from.
if [ -s "$work/states" ]; then
  tail -n 1 "$work/states" > "$state.tmp" && mv "$state.tmp" "$state"
fi

echo "==> dbt build (transform/) in $database, schema linkedin_messages"
"$MELTANO" --log-level=warning invoke dbt-duckdb:build
.venv/bin/python scripts/inbox_report.py "$database"
