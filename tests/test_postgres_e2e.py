"""End to end into a real warehouse: `meltano run tap-linkedin-messages target-postgres`.

A PostgreSQL server is started for the test session (initdb into a temporary folder,
127.0.0.1 on a free port); Meltano and the plugins are installed once per session from
`meltano.yml`; the LinkupAPI v2 emulator serves a synthetic inbox from this process, and
Meltano runs the tap and the loader as subprocesses that reach it over HTTP. What landed
is checked with SQL. Meltano's own system database (runs, state) lives on the same server.

The table DDL and the weekly SQL example are read from docs/warehouse.md ("Loading into a
warehouse" section, so the documented commands are the tested ones.

Skipped only where no PostgreSQL server binary exists. Nothing reaches the internet
except the first install of Meltano and the plugins from PyPI (as `make demo` does).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tap_linkedin_messages.tap import TapLinkedInMessages
from tests import inbox_answers
from tests.conftest import REPO, SyncOutput, run_tap
from tests.emulators.inbox import Conversation, Message, Person, SyntheticInbox
from tests.emulators.linkup import LinkupEmulator
from tests.emulators.server import Call, Reply
from tests.meltano_project import (
    EXTRACTOR,
    MELTANO_TIMEOUT,
    PRIVATE_EXTRACTOR,
    Meltano,
)

LOADER = "target-postgres"
LOADER_USER = "meltano"
SCHEMA = "linkedin"  # `default_target_schema` in meltano.yml
DAY_MS = 24 * 3600 * 1000


# --- PostgreSQL -----------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """The folder of the newest PostgreSQL server found (`postgres`, `initdb`, `pg_ctl`)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    if found := shutil.which("postgres"):
        candidates.append(Path(found).resolve().parent)
    if pg_config := shutil.which("pg_config"):
        reported = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if reported:
            candidates.append(Path(reported))
    for bindir in candidates:
        if all((bindir / name).exists() for name in ("postgres", "initdb", "pg_ctl")):
            return bindir
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A throwaway server: superuser `postgres` over the Unix socket in `root` (trust),
    and the loader's user `meltano` over TCP on 127.0.0.1 with a password (SCRAM)."""

    bindir: Path
    root: Path
    port: int = 0
    password: str = ""
    host: str = "127.0.0.1"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def as_server_user(self, *argv: str) -> list[str]:
        """initdb and pg_ctl refuse to run as root: run them as `postgres` then."""
        if os.geteuid() != 0:
            return list(argv)
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--", *argv]
        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        initdb = subprocess.run(
            self.as_server_user(
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.data),
                "--username=postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if initdb.returncode:
            pytest.fail(f"initdb failed (as root it runs as user `postgres`):\n{initdb.stderr}")
        # A throwaway cluster: no fsync; listen on 127.0.0.1 only, socket in our folder.
        options = (
            f"-h {self.host} -k {self.root} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c log_statement=ddl"
        )
        for _attempt in range(3):
            self.port = free_port()
            started = subprocess.run(
                self.as_server_user(
                    str(self.bindir / "pg_ctl"),
                    "--pgdata",
                    str(self.data),
                    "--log",
                    str(self.log),
                    "--wait",
                    "--timeout=60",
                    "-o",
                    f"{options} -p {self.port}",
                    "start",
                ),
                capture_output=True,
                text=True,
                check=False,
            )
            if started.returncode == 0:
                break
        else:
            log = self.log.read_text() if self.log.exists() else ""
            pytest.fail(f"PostgreSQL did not start:\n{started.stderr}\n{log[-2000:]}")
        self.password = secrets.token_urlsafe(12)
        self.superuser_sql(f"CREATE ROLE {LOADER_USER} LOGIN PASSWORD '{self.password}'")

    def stop(self) -> None:
        subprocess.run(
            self.as_server_user(
                str(self.bindir / "pg_ctl"), "--pgdata", str(self.data), "-m", "fast", "stop"
            ),
            capture_output=True,
            check=False,
        )

    def psql(self, *args: str, url: str, stdin: str | None = None) -> str:
        psql = self.bindir / "psql"
        completed = subprocess.run(
            [str(psql if psql.exists() else "psql"), "-X", "-v", "ON_ERROR_STOP=1", *args, url],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    def superuser_sql(self, sql: str, database: str = "postgres") -> None:
        socket_url = f"postgresql:///{database}?host={self.root}&port={self.port}&user=postgres"
        self.psql("-q", "-c", sql, url=socket_url)

    def url(self, database: str, scheme: str = "postgresql") -> str:
        return f"{scheme}://{LOADER_USER}:{self.password}@{self.host}:{self.port}/{database}"

    def run_script(self, database: str, sql: str) -> None:
        """Run SQL statements as the loader's user, as a reader of docs/warehouse.md would."""
        self.psql("-q", "-f", "-", url=self.url(database), stdin=sql)

    def query(self, database: str, sql: str) -> list[dict[str, Any]]:
        """Rows of one SELECT (no trailing semicolon), as the loader's user."""
        wrapped = f"SELECT coalesce(json_agg(q), '[]'::json) FROM (\n{sql}\n) AS q"
        rows: list[dict[str, Any]] = json.loads(
            self.psql("-A", "-t", "-c", wrapped, url=self.url(database))
        )
        return rows

    def table_changes(self, schema: str) -> list[str]:
        """DDL on the schema's tables other than the `CREATE TABLE IF NOT EXISTS` of
        docs/warehouse.md, from the server log (`log_statement=ddl`): what the loader
        created or altered."""
        pattern = rf'(?:CREATE|ALTER) TABLE (?!IF NOT EXISTS)"?{schema}"?\.\S+'
        return re.findall(pattern, self.log.read_text())

    def create_database(self, name: str, *, time_zone: str | None = None) -> str:
        self.superuser_sql(f"CREATE DATABASE {name} OWNER {LOADER_USER}")
        if time_zone:
            self.superuser_sql(f"ALTER DATABASE {name} SET timezone TO '{time_zone}'")
        return name


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binary (postgres, initdb, pg_ctl) on this machine: "
            "`apt-get install postgresql` to run the warehouse tests"
        )
    server = PostgresServer(bindir, Path(tempfile.mkdtemp(prefix="tap-linkedin-pg-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


# --- the jobs -------------------------------------------------------------------------------


def tap_env(emulator: LinkupEmulator) -> dict[str, str]:
    return {
        "TAP_LINKEDIN_MESSAGES_PROVIDER": "linkup",
        "TAP_LINKEDIN_MESSAGES_API_URL": emulator.url,
        "TAP_LINKEDIN_MESSAGES_API_KEY": emulator.api_key,
        "TAP_LINKEDIN_MESSAGES_ACCOUNT_ID": emulator.account_id,
        "TAP_LINKEDIN_MESSAGES_BACKOFF_BASE_SECONDS": "0",
    }


def warehouse_env(server: PostgresServer, warehouse: str, system_db: str) -> dict[str, str]:
    return {
        "TARGET_POSTGRES_HOST": server.host,
        "TARGET_POSTGRES_PORT": str(server.port),
        "TARGET_POSTGRES_USER": LOADER_USER,
        "TARGET_POSTGRES_PASSWORD": server.password,
        "TARGET_POSTGRES_DATABASE": warehouse,
        # Meltano's own system database (runs, state) on the same server.
        "MELTANO_DATABASE_URI": server.url(system_db, scheme="postgresql+psycopg"),
    }


def docs_sql(title: str) -> str:
    """The ```sql block of docs/warehouse.md that starts with `-- <title>`."""
    page = (REPO / "docs" / "warehouse.md").read_text()
    for block in re.findall(r"```sql\n(.*?)```", page, flags=re.DOTALL):
        if block.startswith(f"-- {title}"):
            return str(block).strip().rstrip(";")
    raise AssertionError(f"no ```sql block starting with '-- {title}' in docs/warehouse.md")


def millis(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def week_of(ms: int) -> str:
    day = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def declared_primary_keys(emulator: LinkupEmulator) -> dict[str, list[str]]:
    tap = TapLinkedInMessages(config=emulator.config(), validate_config=False)
    return {name: list(stream.primary_keys or []) for name, stream in tap.streams.items()}


PRIMARY_KEYS_SQL = f"""
SELECT tc.table_name, array_agg(kcu.column_name::text ORDER BY kcu.ordinal_position) AS columns
FROM information_schema.table_constraints AS tc
JOIN information_schema.key_column_usage AS kcu
  ON kcu.constraint_schema = tc.constraint_schema
 AND kcu.constraint_name = tc.constraint_name
 AND kcu.table_name = tc.table_name
WHERE tc.table_schema = '{SCHEMA}' AND tc.constraint_type = 'PRIMARY KEY'
GROUP BY tc.table_name
"""

COLUMN_TYPES_SQL = f"""
SELECT table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema = '{SCHEMA}'
  AND (table_name, column_name) IN (('messages', 'sent_at'), ('conversations', 'last_activity_at'))
"""


# --- tests ----------------------------------------------------------------------------------


@dataclass
class TwoLoads:
    """Two `meltano run`s into a warehouse whose sessions are not in UTC, and what the
    inbox holds after them."""

    warehouse: str
    inbox: SyntheticInbox
    #: The conversations the second (incremental) run read, and the ones that changed.
    reread: set[str]
    changed: set[str]
    messages: dict[str, Message]
    conversations: dict[str, Conversation]
    declared_keys: dict[str, list[str]]


@pytest.fixture(scope="module")
def two_loads(postgres: PostgresServer, meltano: Meltano) -> TwoLoads:
    # A server whose sessions are not in UTC: the loaded instants must not move.
    warehouse = postgres.create_database("e2e_load", time_zone="America/New_York")
    system_db = postgres.create_database("e2e_load_meltano")
    postgres.run_script(warehouse, docs_sql("Tables"))
    # A message a day or so: the history spans several weeks.
    inbox = SyntheticInbox.generate(seed=31, conversations=10, messages=6, spacing_ms=DAY_MS)

    with LinkupEmulator(inbox, account_id="acc_e2e", api_key="key-e2e") as emulator:
        env = meltano.env(tap_env(emulator), warehouse_env(postgres, warehouse, system_db))
        meltano("run", EXTRACTOR, LOADER, env=env)
        first = postgres.query(warehouse, f"SELECT count(*) AS n FROM {SCHEMA}.messages")
        assert first == [{"n": inbox.message_count()}]

        # New activity: replies in three conversations, and a new conversation.
        threads = list(inbox.conversations)
        for thread_id in (threads[0], threads[3], threads[3], threads[7]):
            inbox.add_message(thread_id)
        newcomer = Person("member-new-e2e", "Nadia", "Novak", "CFO at Example New")
        fresh = inbox.add_conversation([newcomer]).thread_id
        inbox.add_message(fresh, sender=newcomer)
        inbox.add_message(fresh)
        emulator.reset_counters()
        meltano("run", EXTRACTOR, LOADER, env=env)
        return TwoLoads(
            warehouse=warehouse,
            inbox=inbox,
            reread=set(emulator.threads_read()),
            changed={threads[0], threads[3], threads[7], fresh},
            messages={
                emulator.message_id(m): m for c in inbox.conversations.values() for m in c.messages
            },
            conversations={emulator.conversation_id(t): c for t, c in inbox.conversations.items()},
            declared_keys=declared_primary_keys(emulator),
        )


def test_the_second_run_reads_only_the_conversations_that_changed(two_loads: TwoLoads) -> None:
    assert two_loads.reread == two_loads.changed


def test_every_message_is_loaded_once_with_its_text_sender_and_instant(
    postgres: PostgresServer, two_loads: TwoLoads
) -> None:
    messages = postgres.query(
        two_loads.warehouse,
        f"""SELECT message_id, account_id, text, sender ->> 'name' AS sender_name,
                   (extract(epoch FROM sent_at) * 1000)::bigint AS sent_at_ms
            FROM {SCHEMA}.messages""",
    )
    assert len(messages) == two_loads.inbox.message_count() == len(two_loads.messages)
    assert not [m for m, n in Counter(r["message_id"] for r in messages).items() if n > 1]
    assert {r["message_id"]: r for r in messages} == {
        message_id: {
            "message_id": message_id,
            "account_id": "acc_e2e",
            "text": m.text,
            "sender_name": m.sender.name,
            "sent_at_ms": m.sent_at_ms,
        }
        for message_id, m in two_loads.messages.items()
    }


def test_every_conversation_is_loaded_once_at_its_latest_activity(
    postgres: PostgresServer, two_loads: TwoLoads
) -> None:
    conversations = postgres.query(
        two_loads.warehouse,
        f"""SELECT account_id, conversation_id,
                   (extract(epoch FROM last_activity_at) * 1000)::bigint AS last_activity_ms
            FROM {SCHEMA}.conversations""",
    )
    assert len(conversations) == len(two_loads.inbox.conversations)
    assert len({(r["account_id"], r["conversation_id"]) for r in conversations}) == len(
        conversations
    )
    assert {r["conversation_id"]: r["last_activity_ms"] for r in conversations} == {
        conversation_id: c.last_activity_ms
        for conversation_id, c in two_loads.conversations.items()
    }
    assert {r["account_id"] for r in conversations} == {"acc_e2e"}


def test_the_readme_tables_are_what_the_loader_needs(
    postgres: PostgresServer, two_loads: TwoLoads
) -> None:
    # The loader found the tables as it needs them: it created or altered none.
    assert postgres.table_changes(SCHEMA) == [], "is the DDL of docs/warehouse.md out of date?"
    types = {
        (r["table_name"], r["column_name"]): r["data_type"]
        for r in postgres.query(two_loads.warehouse, COLUMN_TYPES_SQL)
    }
    assert types == {
        ("messages", "sent_at"): "timestamp with time zone",
        ("conversations", "last_activity_at"): "timestamp with time zone",
    }
    primary_keys = {
        r["table_name"]: r["columns"] for r in postgres.query(two_loads.warehouse, PRIMARY_KEYS_SQL)
    }
    assert primary_keys == {
        "messages": ["message_id"],
        "conversations": ["account_id", "conversation_id"],
    }
    assert primary_keys == two_loads.declared_keys, "the tables' keys are the streams' keys"


def test_the_readme_weekly_query_counts_every_message(
    postgres: PostgresServer, two_loads: TwoLoads
) -> None:
    weekly = postgres.query(two_loads.warehouse, docs_sql("Messages per week per participant"))
    assert sum(r["messages"] for r in weekly) == two_loads.inbox.message_count()
    assert len({r["week"] for r in weekly}) > 3, "the synthetic history spans several weeks"
    expected_weekly = Counter(
        (week_of(m.sent_at_ms), m.sender.name) for m in two_loads.messages.values()
    )
    assert {(r["week"], r["participant"]): r["messages"] for r in weekly} == expected_weekly


def test_the_analytics_models_build_on_postgresql_and_agree_with_python(
    postgres: PostgresServer, meltano: Meltano, two_loads: TwoLoads, tmp_path: Path
) -> None:
    """`meltano run dbt-postgres:build`: the models of transform/ built from the loaded
    tables in schema `linkedin_messages`, their data tests and unit tests passing, on a
    server whose sessions are not in UTC; each conversation and day as
    tests/inbox_answers.py computes it from the loaded messages."""
    sys_dir = meltano.machine(tmp_path / "meltano")
    env = meltano.env(
        {
            "DBT_POSTGRES_HOST": postgres.host,
            "DBT_POSTGRES_PORT": str(postgres.port),
            "DBT_POSTGRES_USER": LOADER_USER,
            "DBT_ENV_SECRET_POSTGRES_PASSWORD": postgres.password,
            "DBT_POSTGRES_DBNAME": two_loads.warehouse,
        },
        sys_dir=sys_dir,
    )
    meltano("run", "dbt-postgres:build", env=env)
    results = json.loads((sys_dir / "run" / "dbt" / "target" / "run_results.json").read_text())
    statuses: dict[str, set[str]] = {}
    for result in results["results"]:
        statuses.setdefault(result["unique_id"].split(".")[0], set()).add(result["status"])
    assert statuses == {"model": {"success"}, "test": {"pass"}, "unit_test": {"pass"}}

    messages = postgres.query(
        two_loads.warehouse,
        f"SELECT account_id, conversation_id, message_id, sent_at, sender, is_deleted "
        f"FROM {SCHEMA}.messages",
    )
    assert len(messages) == two_loads.inbox.message_count()
    expected = inbox_answers.conversation_answers(messages)
    built = {
        (row.pop("account_id"), row.pop("conversation_id")): row
        for row in postgres.query(
            two_loads.warehouse,
            """SELECT account_id, conversation_id, started_at, started_by_me, messages_sent,
                      messages_received, last_message_at, awaiting_my_reply,
                      first_response_minutes
               FROM linkedin_messages.linkedin_messages__conversations""",
        )
    }
    assert set(built) == set(expected)
    for key, answers in expected.items():
        row = built[key]
        assert inbox_answers.instant(row.pop("started_at")) == answers.started_at
        assert inbox_answers.instant(row.pop("last_message_at")) == answers.last_message_at
        assert row.pop("first_response_minutes") == pytest.approx(answers.first_response_minutes)
        assert row == {name: getattr(answers, name) for name in row}, key
    daily = {
        (row["account_id"], date.fromisoformat(row["activity_date"])): (
            row["messages_sent"],
            row["messages_received"],
            row["conversations_started_by_me"],
            row["conversations_started_by_them"],
        )
        for row in postgres.query(
            two_loads.warehouse, "SELECT * FROM linkedin_messages.linkedin_messages__daily_activity"
        )
    }
    assert daily == inbox_answers.daily_activity(messages)


class HeldLinkupEmulator(LinkupEmulator):
    """Holds every answer until `gate` opens; `arrived` tells that a request came in."""

    def __init__(self, inbox: SyntheticInbox, gate: threading.Event, **kwargs: Any) -> None:
        super().__init__(inbox, **kwargs)
        self.gate = gate
        self.arrived = threading.Event()

    def answer(self, call: Call) -> Reply:
        self.arrived.set()
        self.gate.wait(timeout=MELTANO_TIMEOUT)
        return super().answer(call)


@pytest.fixture
def fleet() -> Iterator[dict[str, HeldLinkupEmulator]]:
    """Two account groups, each an account with its own inbox, behind one gate."""
    gate = threading.Event()
    groups = {
        "group-a": HeldLinkupEmulator(
            SyntheticInbox.generate(seed=41, conversations=6, messages=4),
            gate,
            account_id="acc_group_a",
            api_key="key-a",
        ),
        "group-b": HeldLinkupEmulator(
            SyntheticInbox.generate(seed=42, conversations=5, messages=3),
            gate,
            account_id="acc_group_b",
            api_key="key-b",
        ),
    }
    with contextlib.ExitStack() as running:
        for emulator in groups.values():
            running.enter_context(emulator)
        yield groups
        gate.set()


def test_account_groups_run_side_by_side_with_their_own_state(
    postgres: PostgresServer,
    meltano: Meltano,
    fleet: dict[str, HeldLinkupEmulator],
    tmp_path: Path,
) -> None:
    warehouse = postgres.create_database("e2e_fleet")
    system_db = postgres.create_database("e2e_fleet_meltano")
    postgres.run_script(warehouse, docs_sql("Tables"))
    groups = fleet
    gate = groups["group-a"].gate
    state_ids = {group: f"dev:{EXTRACTOR}-to-{LOADER}:{group}" for group in groups}

    def job_env(group: str, machine: str | None = None) -> dict[str, str]:
        # Each job as on a machine of its own: its own `.meltano` run files, its own
        # accounts; only the PostgreSQL system database and warehouse are shared.
        sys_dir = tmp_path / (machine or group) / ".meltano"
        if not sys_dir.exists():
            meltano.machine(sys_dir)
        return meltano.env(
            tap_env(groups[group]),
            warehouse_env(postgres, warehouse, system_db),
            # The first answers are held back (below) for longer than the default timeout.
            {"TAP_LINKEDIN_MESSAGES_REQUEST_TIMEOUT": str(MELTANO_TIMEOUT)},
            sys_dir=sys_dir,
        )

    # Before the first jobs start, once (docs/warehouse.md): two Meltanos that find an empty system
    # database at the same moment both try to create its tables, and one fails.
    meltano("upgrade", "database", env=job_env("group-a"))

    jobs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for group in groups:
            jobs[group] = meltano.start(
                "run",
                f"--state-id-suffix={group}",
                EXTRACTOR,
                LOADER,
                env=job_env(group),
                log=tmp_path / f"{group}.log",
            )
        # Both jobs are mid-run at the same moment: each tap has sent its first request.
        deadline = time.monotonic() + MELTANO_TIMEOUT
        while not all(e.arrived.is_set() for e in groups.values()):
            finished = {g: j.returncode for g, j in jobs.items() if j.poll() is not None}
            assert not finished, f"a job ended before both were running: {finished}, " + "".join(
                (tmp_path / f"{g}.log").read_text()[-2000:] for g in finished
            )
            assert time.monotonic() < deadline, "the jobs did not both reach their emulator"
            time.sleep(0.05)
        # The shared system database knows group-a is running: a second group-a job,
        # started on yet another machine, is refused.
        again = meltano(
            "run", "--state-id-suffix=group-a", EXTRACTOR, LOADER,
            env=job_env("group-a", machine="elsewhere"), check=False,
        )  # fmt: skip
        assert again.returncode != 0
        assert f"Another '{state_ids['group-a']}' pipeline is already running" in (
            again.stdout + again.stderr
        )
        gate.set()
        for group, job in jobs.items():
            log = tmp_path / f"{group}.log"
            assert job.wait(timeout=MELTANO_TIMEOUT) == 0, log.read_text()[-4000:]
    finally:
        gate.set()
        for job in jobs.values():
            if job.poll() is None:
                job.kill()
                job.wait()

    listed = meltano("state", "list", env=job_env("group-a")).stdout.split()
    assert set(state_ids.values()) <= set(listed)

    def bookmark(group: str) -> dict[str, Any]:
        state = json.loads(meltano("state", "get", state_ids[group], env=job_env(group)).stdout)
        bookmarks = state["singer_state"]["bookmarks"]
        (partition,) = bookmarks["messages"]["partitions"]
        return dict(partition)

    def newest_ms(group: str) -> int:
        inbox = groups[group].inbox
        return max(m.sent_at_ms for c in inbox.conversations.values() for m in c.messages)

    marks = {group: bookmark(group) for group in groups}
    for group, emulator in groups.items():
        assert marks[group]["context"] == {"account_id": emulator.account_id}
        assert millis(marks[group]["replication_key_value"]) == newest_ms(group)

    def loaded() -> dict[str, int]:
        rows = postgres.query(
            warehouse,
            f"SELECT account_id, count(*) AS n FROM {SCHEMA}.messages GROUP BY account_id",
        )
        return {r["account_id"]: r["n"] for r in rows}

    assert loaded() == {e.account_id: e.inbox.message_count() for e in groups.values()}
    assert postgres.table_changes(SCHEMA) == []

    # One more run of group-a alone: its bookmark moves, group-b's does not.
    inbox_a = groups["group-a"].inbox
    inbox_a.add_message(next(iter(inbox_a.conversations)))
    meltano("run", "--state-id-suffix=group-a", EXTRACTOR, LOADER, env=job_env("group-a"))
    assert millis(bookmark("group-a")["replication_key_value"]) == newest_ms("group-a")
    assert bookmark("group-b") == marks["group-b"]
    assert loaded() == {e.account_id: e.inbox.message_count() for e in groups.values()}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_private_extractor_hashes_message_texts_and_changes_nothing_else(
    meltano: Meltano,
) -> None:
    inbox = SyntheticInbox.generate(seed=51, conversations=4, messages=5)
    with LinkupEmulator(inbox, account_id="acc_private", api_key="key-private") as emulator:
        invoked = meltano("invoke", PRIVATE_EXTRACTOR, env=meltano.env(tap_env(emulator)))
        plain = run_tap(emulator.config())
        texts = {
            emulator.message_id(m): m.text for c in inbox.conversations.values() for m in c.messages
        }
    private = SyncOutput.parse(invoked.stdout)

    messages = {r["message_id"]: r for r in private.of("messages")}
    assert len(messages) == len(private.of("messages")) == inbox.message_count()
    for message_id, record in messages.items():
        assert re.fullmatch(r"[0-9a-f]{32}", record["text"])
        assert record["text"] == md5(texts[message_id])
    # Nothing else changed: the plain run's records with only the texts replaced.
    assert messages == {
        r["message_id"]: {**r, "text": md5(r["text"])} for r in plain.of("messages")
    }
    conversations = private.of("conversations")
    assert conversations == [
        {**r, "last_message": {**r["last_message"], "text": md5(r["last_message"]["text"])}}
        for r in plain.of("conversations")
    ]


# --- the sample archive: attachments and folders in the warehouse --------------------------


def test_the_sample_archive_loads_its_attachments_and_skips_spam(
    postgres: PostgresServer, meltano: Meltano
) -> None:
    """`make demo`'s archive: its files land in `attachments jsonb[]`, its SPAM
    conversation and its look-alike files do not land at all."""
    warehouse = postgres.create_database("e2e_sample")
    system_db = postgres.create_database("e2e_sample_meltano")
    postgres.run_script(warehouse, docs_sql("Tables"))
    sample = REPO / "samples" / "linkedin-export-sample.zip"
    expected = run_tap({"provider": "linkedin_export", "export_path": str(sample)})
    env = meltano.env(
        {
            "TAP_LINKEDIN_MESSAGES_PROVIDER": "linkedin_export",
            "TAP_LINKEDIN_MESSAGES_EXPORT_PATH": str(sample),
        },
        warehouse_env(postgres, warehouse, system_db),
    )
    meltano("run", "--state-id-suffix=sample", EXTRACTOR, LOADER, env=env)
    (loaded,) = postgres.query(
        warehouse,
        f"""SELECT count(*) AS messages,
                   sum(cardinality(attachments)) AS attachments,
                   count(*) FILTER (WHERE text ILIKE '%prize%'
                                       OR text ILIKE '%role play%'
                                       OR text ILIKE '%salary negotiation%') AS unwanted
            FROM {SCHEMA}.messages""",
    )
    assert loaded == {"messages": len(expected.of("messages")), "attachments": 3, "unwanted": 0}
    urls = postgres.query(
        warehouse,
        f"SELECT a ->> 'url' AS url FROM {SCHEMA}.messages, unnest(attachments) AS a ORDER BY 1",
    )
    assert [r["url"].rsplit("/", 1)[-1] for r in urls] == [
        "pricing.xlsx",
        "proposal.pdf",
        "whiteboard.jpg",
    ]
    folders = postgres.query(
        warehouse, f"SELECT DISTINCT folder FROM {SCHEMA}.conversations ORDER BY 1"
    )
    assert [r["folder"] for r in folders] == ["ARCHIVE", "INBOX"]


# --- the SDK's msgspec writer, read by target-jsonl too -------------------------------------


def test_target_jsonl_loads_every_record_the_msgspec_writer_wrote(
    meltano: Meltano, tmp_path: Path
) -> None:
    """The tap writes with the SDK's msgspec writer; target-postgres loads it above, and
    target-jsonl here, record for record (texts with emoji, quotes and newlines)."""
    inbox = SyntheticInbox.generate(seed=52, conversations=5, messages=4)
    thread_id = next(iter(inbox.conversations))
    for text in ('Grüße 👋 "quoted"\nsecond line', "tab\tand backslash \\ end"):
        inbox.add_message(thread_id, text=text)
    output = tmp_path / "jsonl"
    output.mkdir()
    with LinkupEmulator(inbox, account_id="acc_jsonl", api_key="key-jsonl") as emulator:
        env = meltano.env(
            tap_env(emulator),
            {
                "TARGET_JSONL_DESTINATION_PATH": str(output),
                "TARGET_JSONL_DO_TIMESTAMP_FILE": "false",
            },
        )
        meltano("run", "--state-id-suffix=jsonl", EXTRACTOR, "target-jsonl", env=env)
        expected = run_tap(emulator.config())
    for stream in ("conversations", "messages"):
        loaded = [
            json.loads(line) for line in (output / f"{stream}.jsonl").read_text().splitlines()
        ]
        assert loaded == expected.of(stream), stream
    assert len(expected.of("messages")) == inbox.message_count()
