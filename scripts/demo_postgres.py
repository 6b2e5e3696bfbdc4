"""The PostgreSQL leg of `make demo`: the sample export loaded with target-postgres.

Runs only where a PostgreSQL server binary exists (Debian's `postgresql`): it starts a
throwaway server on 127.0.0.1 (the warehouse tests' own helper), creates the tables as the
docs/warehouse.md says, runs `meltano run tap-linkedin-messages target-postgres` on the sample
archive twice, prints the row counts and the weekly query of docs/warehouse.md, and stops
the server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MELTANO = REPO / ".venv-meltano" / "bin" / "meltano"


def main() -> None:
    from tests.test_postgres_e2e import SCHEMA, PostgresServer, docs_sql, postgres_bindir

    bindir = postgres_bindir()
    if bindir is None:
        print("    no PostgreSQL server on this machine: skipping the target-postgres leg")
        return
    server = PostgresServer(bindir, Path(tempfile.mkdtemp(prefix="demo-postgres-")))
    server.start()
    try:
        database = server.create_database("demo")
        server.run_script(database, docs_sql("Tables"))
        env = {
            **os.environ,
            "TAP_LINKEDIN_MESSAGES_PROVIDER": "linkedin_export",
            "TAP_LINKEDIN_MESSAGES_EXPORT_PATH": str(
                REPO / "samples" / "linkedin-export-sample.zip"
            ),
            "TARGET_POSTGRES_HOST": server.host,
            "TARGET_POSTGRES_PORT": str(server.port),
            "TARGET_POSTGRES_USER": "meltano",
            "TARGET_POSTGRES_PASSWORD": server.password,
            "TARGET_POSTGRES_DATABASE": database,
        }
        meltano = [str(MELTANO), "--log-level=warning"]
        subprocess.run([*meltano, "install", "loader", "target-postgres"], env=env, check=True)
        for label, extra in (("run 1 (full)", ["--full-refresh"]), ("run 2", [])):
            subprocess.run(
                [
                    *meltano,
                    "run",
                    "--state-id-suffix=demo-postgres",
                    *extra,
                    "tap-linkedin-messages",
                    "target-postgres",
                ],
                env=env,
                check=True,
            )
            counts = server.query(
                database,
                f"SELECT (SELECT count(*) FROM {SCHEMA}.conversations) AS conversations,"
                f" (SELECT count(*) FROM {SCHEMA}.messages) AS messages,"
                f" (SELECT coalesce(sum(cardinality(attachments)), 0) FROM {SCHEMA}.messages)"
                " AS attachments",
            )[0]
            conversations, messages = counts["conversations"], counts["messages"]
            print(
                f"    {label}: {conversations} conversations, {messages} messages"
                f" ({counts['attachments']} attachments) in {SCHEMA}.*"
            )
        weekly = server.query(database, docs_sql("Messages per week per participant"))
        example = weekly[0] if weekly else None
        print(f"    the weekly query of docs/warehouse.md: {len(weekly)} rows, e.g. {example}")
    finally:
        server.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
