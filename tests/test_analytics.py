"""The inbox analytics on the embedded default: `meltano run tap-linkedin-messages
target-duckdb dbt-duckdb:build` on the sample archive, as `make demo` runs it.

The run must load every record the tap emits, build the models and pass their dbt data
tests and unit tests (transform/); the models, and the figures `make demo` prints
(scripts/inbox_report.py), must be what tests/inbox_answers.py computes in Python from the
tap's own records. The same models on PostgreSQL: tests/test_postgres_e2e.py.
"""

from __future__ import annotations

import json
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from scripts import inbox_report
from tests import inbox_answers
from tests.conftest import REPO, SyncOutput, run_tap
from tests.meltano_project import EXTRACTOR, Meltano

SAMPLE = REPO / "samples" / "linkedin-export-sample.zip"
MODELS = "linkedin_messages"


@dataclass
class BuiltInbox:
    database: Path
    #: dbt's record of the build: one result per model, data test and unit test.
    run_results: list[dict[str, Any]]
    tap: SyncOutput


@pytest.fixture(scope="module")
def built(meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> BuiltInbox:
    root = tmp_path_factory.mktemp("analytics")
    sys_dir = meltano.machine(root / "meltano")
    database = root / "inbox.duckdb"
    env = meltano.env(
        {
            "TAP_LINKEDIN_MESSAGES_PROVIDER": "linkedin_export",
            "TAP_LINKEDIN_MESSAGES_EXPORT_PATH": str(SAMPLE),
            "TARGET_DUCKDB_PATH": str(database),
            "DBT_DUCKDB_PATH": str(database),
        },
        sys_dir=sys_dir,
    )
    meltano("run", EXTRACTOR, "target-duckdb", "dbt-duckdb:build", env=env)
    results = json.loads((sys_dir / "run" / "dbt" / "target" / "run_results.json").read_text())
    tap = run_tap({"provider": "linkedin_export", "export_path": str(SAMPLE)})
    return BuiltInbox(database, results["results"], tap)


def rows(database: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(sql)
        assert cursor.description is not None, sql
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_build_ran_the_unit_tests_and_data_tests_and_all_passed(built: BuiltInbox) -> None:
    by_kind: dict[str, list[str]] = {}
    for result in built.run_results:
        by_kind.setdefault(result["unique_id"].split(".")[0], []).append(result["status"])
    assert len(by_kind["unit_test"]) >= 2
    assert len(by_kind["test"]) >= 20
    assert set(by_kind["model"]) == {"success"}
    assert set(by_kind["unit_test"]) | set(by_kind["test"]) == {"pass"}


def test_target_duckdb_loads_every_record_the_tap_emits(built: BuiltInbox) -> None:
    """target-duckdb 0.8.0 drops the first row of every batch beside duckdb 1.3 and later:
    meltano.yml pins duckdb below 1.3."""
    for stream, key in (("messages", "message_id"), ("conversations", "conversation_id")):
        loaded = rows(built.database, f"select {key} from linkedin.{stream}")
        assert sorted(row[key] for row in loaded) == sorted(r[key] for r in built.tap.of(stream))


def test_each_conversation_is_what_python_computes_from_the_tap_records(
    built: BuiltInbox,
) -> None:
    expected = inbox_answers.conversation_answers(built.tap.of("messages"))
    models = {
        (row.pop("account_id"), row.pop("conversation_id")): row
        for row in rows(
            built.database,
            f"""select account_id, conversation_id, started_at, started_by_me, messages_sent,
                       messages_received, last_message_at, last_message_from_me,
                       awaiting_my_reply, first_response_minutes
                from {MODELS}.linkedin_messages__conversations""",
        )
    }
    assert len(models) == len(built.tap.of("conversations"))
    assert set(expected) <= set(models)
    for key, answers in expected.items():
        row = models[key]
        computed = row.pop("first_response_minutes")
        assert row == {name: getattr(answers, name) for name in row}, f"conversation {key[1]}"
        assert computed == pytest.approx(answers.first_response_minutes), key[1]
    # The sample has both kinds: awaiting a reply, and answered.
    assert {a.awaiting_my_reply for a in expected.values()} == {True, False}


def test_each_day_and_each_reply_is_what_python_computes_from_the_tap_records(
    built: BuiltInbox,
) -> None:
    messages = built.tap.of("messages")
    daily = {
        (row["account_id"], row["activity_date"]): (
            row["messages_sent"],
            row["messages_received"],
            row["conversations_started_by_me"],
            row["conversations_started_by_them"],
        )
        for row in rows(built.database, f"select * from {MODELS}.linkedin_messages__daily_activity")
    }
    assert daily == inbox_answers.daily_activity(messages)
    replies = {
        row["message_id"]: (row["reply_minutes"], row["messages_answered"], row["answered_contact"])
        for row in rows(built.database, f"select * from {MODELS}.int_linkedin_messages__replies")
    }
    expected = inbox_answers.replies(messages)
    assert len(expected) > 10
    assert set(replies) == {reply.message_id for reply in expected}
    for reply in expected:
        minutes, answered, contact = replies[reply.message_id]
        assert (answered, contact) == (reply.answered, reply.answered_contact)
        assert minutes == pytest.approx(reply.minutes)


def test_each_contact_counts_what_was_exchanged_with_them(built: BuiltInbox) -> None:
    """Contacts of 1:1 conversations: their messages, the member's, and the median time
    of the member's replies to them."""
    messages = built.tap.of("messages")
    threads = inbox_answers.conversations_of(messages)
    contacts = {
        row["contact"]: row
        for row in rows(built.database, f"select * from {MODELS}.linkedin_messages__contacts")
    }
    me = {m.sender for thread in threads.values() for m in thread if m.is_me}
    assert not me & set(contacts), "the member is never their own contact"
    replies = inbox_answers.replies(messages)
    one_to_one = {
        others.pop(): thread
        for thread in threads.values()
        if len(others := {m.sender for m in thread if m.is_me is False}) == 1
    }
    checked = 0
    for contact, thread in one_to_one.items():
        mine = [m for m in thread if m.is_me]
        theirs = [m for m in thread if m.is_me is False]
        row = contacts[contact]
        if row["conversations"] > 1:
            continue  # also in a group chat: counted there too
        assert (row["messages_sent"], row["messages_received"]) == (len(mine), len(theirs))
        assert row["first_contact_at"] == min(m.sent_at for m in mine + theirs)
        times = [r.minutes for r in replies if r.answered_contact == contact]
        if times:
            assert row["median_my_reply_minutes"] == pytest.approx(inbox_answers.median(times))
        else:
            assert row["median_my_reply_minutes"] is None
        checked += 1
    assert checked > 5


def test_the_demo_report_prints_the_figures_python_computes(
    built: BuiltInbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert inbox_report.main([str(built.database), "--top", "3"]) == 0
    printed = capsys.readouterr().out.splitlines()

    messages = built.tap.of("messages")
    conversations = inbox_answers.conversation_answers(messages)
    awaiting = sorted(
        ((a.last_message_at, key[1]) for key, a in conversations.items() if a.awaiting_my_reply),
        key=lambda item: (-item[0].timestamp(), item[1]),
    )
    sent = sum(a.messages_sent for a in conversations.values())
    received = sum(a.messages_received for a in conversations.values())
    median = inbox_answers.median([r.minutes for r in inbox_answers.replies(messages)])
    replies = len(inbox_answers.replies(messages))
    assert median is not None

    totals = f"{len(built.tap.of('conversations'))} conversations, {sent} messages sent, "
    assert f"    {totals}{received} received" in printed
    assert f"    awaiting your reply: {len(awaiting)} conversations; most recent:" in printed
    shown = [line for line in printed if line.startswith("      ")]
    assert [line.split()[-1] for line in shown] == [cid for _, cid in awaiting[:3]]
    assert [line.split()[0] + " " + line.split()[1] for line in shown] == [
        f"{at:%Y-%m-%d %H:%M}" for at, _ in awaiting[:3]
    ]
    assert f"    median reply time: {median:.1f} minutes over {replies} replies" in printed


def test_the_demo_picture_is_written_beside_the_database(built: BuiltInbox) -> None:
    picture = built.database.with_suffix(".png")
    picture.unlink(missing_ok=True)
    assert inbox_report.main([str(built.database)]) == 0
    header = picture.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert (width, height) == (1200, 450)


def test_the_report_names_a_file_without_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert inbox_report.main([str(empty)]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "has no built models" in error
    assert "dbt-duckdb:build" in error


def analyze(meltano: Meltano, sys_dir: Path, config: Path, database: Path) -> Any:
    """scripts/analyze.sh, as `make analyze CONFIG=… DB=…` runs it."""
    return subprocess.run(
        ["bash", "scripts/analyze.sh", str(config), str(database)],
        cwd=REPO,
        env=meltano.env(sys_dir=sys_dir),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_make_analyze_builds_the_models_from_a_users_config_and_keeps_its_state(
    meltano: Meltano, tmp_path: Path
) -> None:
    """The tap's own config into a DuckDB file: the models built, the report printed,
    the picture beside the file, and the tap's state beside it; a second run starts from
    that state and adds no duplicates; a failing run leaves the state as it was."""
    sys_dir = meltano.machine(tmp_path / "meltano")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"provider": "linkedin_export", "export_path": str(SAMPLE)}))
    database = tmp_path / "mine" / "inbox.duckdb"
    state = database.with_name("inbox.duckdb.state.json")

    first = analyze(meltano, sys_dir, config, database)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "(full sync)" in first.stdout
    assert "awaiting your reply:" in first.stdout
    assert database.with_suffix(".png").stat().st_size > 0
    saved = json.loads(state.read_text())
    assert saved["bookmarks"]["messages"]
    loaded = rows(database, "SELECT count(*) AS n FROM linkedin.messages")[0]["n"]
    built = rows(database, f"SELECT count(*) AS n FROM {MODELS}.linkedin_messages__conversations")
    assert loaded > 0
    assert built[0]["n"] > 0

    second = analyze(meltano, sys_dir, config, database)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"(incremental, from {state})" in second.stdout
    assert rows(database, "SELECT count(*) AS n FROM linkedin.messages")[0]["n"] == loaded

    before = state.read_text()
    config.write_text(
        json.dumps({"provider": "linkedin_export", "export_path": str(tmp_path / "none.zip")})
    )
    failed = analyze(meltano, sys_dir, config, database)
    assert failed.returncode != 0
    assert "export_path" in failed.stderr
    assert state.read_text() == before


def test_make_analyze_names_the_missing_setting(meltano: Meltano, tmp_path: Path) -> None:
    completed = analyze(meltano, tmp_path, tmp_path / "absent.json", tmp_path / "x.duckdb")
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"analyze: CONFIG: no file at {tmp_path / 'absent.json'}"
