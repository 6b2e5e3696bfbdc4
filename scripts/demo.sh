#!/usr/bin/env bash
# make demo: `meltano run tap-linkedin-messages target-jsonl`, twice each (a full sync, then
# an incremental run that finds nothing new), on
#   1. the synthetic LinkedIn data-export archive in samples/ (no credentials, no server),
#      which then goes into an embedded DuckDB file with the analytics models built
#      (`meltano run tap-linkedin-messages target-duckdb dbt-duckdb:build`), their answers
#      printed and drawn;
#   2. a synthetic inbox served by the LinkupAPI v2 emulator on 127.0.0.1.
# No network beyond PyPI (to install Meltano, the targets and dbt).
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO=.demo
# shellcheck source=scripts/meltano_venv.sh
. scripts/meltano_venv.sh

rm -rf "$DEMO"
mkdir -p "$DEMO/output" "$DEMO/export"

echo "==> meltano install (plugins defined in meltano.yml; no Meltano Hub needed)"
"$MELTANO" --log-level=warning install extractor tap-linkedin-messages
"$MELTANO" --log-level=warning install loader target-jsonl target-duckdb
"$MELTANO" --log-level=warning install transformer dbt-duckdb

count() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }
report() {
  echo "    $1/conversations.jsonl: $(count "$1/conversations.jsonl") conversations"
  echo "    $1/messages.jsonl:      $(count "$1/messages.jsonl") messages"
}

echo "==> Part 1: LinkedIn's own data export (samples/linkedin-export-sample.zip), offline"
export TAP_LINKEDIN_MESSAGES_PROVIDER=linkedin_export
export TAP_LINKEDIN_MESSAGES_EXPORT_PATH="$PWD/samples/linkedin-export-sample.zip"
export TARGET_JSONL_DESTINATION_PATH="$DEMO/export"
"$MELTANO" --log-level=warning run --state-id-suffix=export --full-refresh tap-linkedin-messages target-jsonl
report "$DEMO/export"
.venv/bin/python scripts/demo_fields.py "$DEMO/export"
export_attachments=$(.venv/bin/python -c 'import json, sys
print(sum(len(json.loads(line).get("attachments") or []) for line in open(sys.argv[1])))' "$DEMO/export/messages.jsonl")
echo "    attachments loaded: $export_attachments (links to the files, as the export gives them)"
echo "    (the SPAM conversation is skipped: exclude_folders defaults to [SPAM];"
echo "     guide_messages.csv and learning_role_play_messages.csv are not the inbox)"
export_messages=$(count "$DEMO/export/messages.jsonl")
"$MELTANO" --log-level=warning run --state-id-suffix=export tap-linkedin-messages target-jsonl
export_new=$(( $(count "$DEMO/export/messages.jsonl") - export_messages ))
echo "    run 2 emitted $export_new new messages"

echo "==> Part 1b: the same archive into PostgreSQL (where a server is installed)"
.venv/bin/python scripts/demo_postgres.py

echo "==> Part 1c: the same archive into DuckDB, with the analytics models (transform/)"
echo "    meltano run tap-linkedin-messages target-duckdb dbt-duckdb:build"
export TARGET_DUCKDB_PATH="$PWD/$DEMO/inbox.duckdb" DBT_DUCKDB_PATH="$PWD/$DEMO/inbox.duckdb"
"$MELTANO" --log-level=warning run --state-id-suffix=analytics --full-refresh \
  tap-linkedin-messages target-duckdb dbt-duckdb:build
.venv/bin/python scripts/inbox_report.py "$DEMO/inbox.duckdb"
unset TAP_LINKEDIN_MESSAGES_EXPORT_PATH

echo "==> Part 2: the LinkupAPI v2 emulator (25 conversations x 8 messages)"
.venv/bin/python -m tests.emulators linkup --conversations 25 --messages 8 --url-file "$DEMO/url" &
EMULATOR_PID=$!
trap 'kill $EMULATOR_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$DEMO/url" ] && break; sleep 0.1; done
API_URL=$(cat "$DEMO/url")
echo "    listening on $API_URL"

export TAP_LINKEDIN_MESSAGES_PROVIDER=linkup
export TAP_LINKEDIN_MESSAGES_API_URL="$API_URL"
export TAP_LINKEDIN_MESSAGES_API_KEY=test-linkup-key
export TAP_LINKEDIN_MESSAGES_ACCOUNT_ID=acc_test123
export TARGET_JSONL_DESTINATION_PATH="$DEMO/output"

echo "==> Run 1: meltano run tap-linkedin-messages target-jsonl (full sync)"
"$MELTANO" --log-level=warning run --full-refresh tap-linkedin-messages target-jsonl
report "$DEMO/output"
.venv/bin/python scripts/demo_fields.py "$DEMO/output"
before_conversations=$(count "$DEMO/output/conversations.jsonl")
before_messages=$(count "$DEMO/output/messages.jsonl")

echo "==> Run 2: the same command again (incremental, from the saved state)"
"$MELTANO" --log-level=warning run tap-linkedin-messages target-jsonl
new_conversations=$(( $(count "$DEMO/output/conversations.jsonl") - before_conversations ))
new_messages=$(( $(count "$DEMO/output/messages.jsonl") - before_messages ))
echo "    run 2 emitted $new_conversations new conversations and $new_messages new messages"
echo "    state: $("$MELTANO" state get dev:tap-linkedin-messages-to-target-jsonl 2>/dev/null | tr -d '\n' | cut -c1-300)"

echo "==> The same tap outside Meltano: tap-linkedin-messages --config c.json | target-jsonl"
cat > "$DEMO/config.json" <<JSON
{"provider": "linkup", "api_url": "$API_URL", "api_key": "test-linkup-key", "account_id": "acc_test123"}
JSON
mkdir -p "$DEMO/pipe"
echo "{\"destination_path\": \"$DEMO/pipe\", \"do_timestamp_file\": false}" > "$DEMO/target.json"
.venv/bin/tap-linkedin-messages --config "$DEMO/config.json" 2>/dev/null \
  | .meltano/loaders/target-jsonl/venv/bin/target-jsonl --config "$DEMO/target.json" > /dev/null
echo "    $DEMO/pipe/messages.jsonl: $(count "$DEMO/pipe/messages.jsonl") messages"

if [ "$new_messages" -ne 0 ] || [ "$before_messages" -eq 0 ] || [ "$export_messages" -eq 0 ] \
  || [ "$export_new" -ne 0 ] || [ "$export_attachments" -eq 0 ]; then
  echo "demo FAILED: expected messages (and the sample's attachments) in each first run and none new in the second" >&2
  exit 1
fi
if [ ! -s "$DEMO/inbox.png" ]; then
  echo "demo FAILED: no picture at $DEMO/inbox.png" >&2
  exit 1
fi
echo "==> Done. JSON lines in $DEMO/export and $DEMO/output; the models in $DEMO/inbox.duckdb"
echo "    (schema linkedin_messages), the picture in $DEMO/inbox.png; the emulator is stopped."
