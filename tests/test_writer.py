"""The tap's writer writes what the SDK's msgspec writer writes: SCHEMA lines made once and
sent once while the same, lines kept until a STATE message or the tap's exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage

from tap_linkedin_messages.writer import InboxWriter
from tests.conftest import captured_stdout

SCHEMA = {"type": "object", "properties": {"message_id": {"type": "string"}}}


def test_every_message_is_the_sdk_writers_line() -> None:
    ours, sdks = InboxWriter(), MsgSpecWriter()
    schema = SchemaMessage("messages", SCHEMA, ["message_id"], ["sent_at"])
    record = RecordMessage("messages", {"message_id": "m1"})
    partition = {"context": {"account_id": "a"}, "replication_key_value": None, "n": [1.5, {}]}
    state = StateMessage({"bookmarks": {"messages": {"partitions": [partition]}}})
    for message in (schema, record, schema, record, state, schema, StateMessage({})):
        assert bytes(ours.serialize_message(message)) == bytes(sdks.serialize_message(message))


def test_a_schema_line_is_made_once_while_its_schema_is_the_same_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = InboxWriter()
    first = writer.serialize_message(SchemaMessage("messages", SCHEMA, ["message_id"], []))

    def made_again(message: SchemaMessage) -> dict:
        raise AssertionError("the SCHEMA line was made again")

    monkeypatch.setattr(SchemaMessage, "to_dict", made_again)
    # A new message (the SDK makes one per child sync) with the same schema object.
    again = SchemaMessage("messages", SCHEMA, ["message_id"], [])
    assert writer.serialize_message(again) == first


def test_another_schema_or_other_keys_make_a_new_line() -> None:
    writer = InboxWriter()
    first = writer.serialize_message(SchemaMessage("messages", SCHEMA, ["message_id"], []))
    changed = {**SCHEMA, "properties": {"id": {"type": "string"}}}
    assert b'"id"' in writer.serialize_message(SchemaMessage("messages", changed, ["id"], []))
    other_keys = writer.serialize_message(SchemaMessage("messages", SCHEMA, ["other"], []))
    assert other_keys != first
    assert b'"other"' in other_keys


def written(messages: list[Message]) -> list[str]:
    """The lines an `InboxWriter` sends for `messages` to a captured stdout."""
    with captured_stdout() as stdout:
        writer = InboxWriter()
        for message in messages:
            writer.write_message(message)
        writer.flush()
    return stdout.getvalue().splitlines()


def test_a_schema_already_sent_for_a_stream_is_not_sent_again() -> None:
    schema = SchemaMessage("messages", SCHEMA, ["message_id"], ["sent_at"])
    record = RecordMessage("messages", {"message_id": "m1"})
    lines = written(
        [schema, record, SchemaMessage("messages", SCHEMA, ["message_id"], ["sent_at"]), record]
    )
    assert [json.loads(line)["type"] for line in lines] == ["SCHEMA", "RECORD", "RECORD"]


def test_a_changed_schema_or_another_streams_is_sent() -> None:
    changed = {**SCHEMA, "properties": {"id": {"type": "string"}}}
    lines = written(
        [
            SchemaMessage("messages", SCHEMA, ["message_id"], []),
            SchemaMessage("conversations", SCHEMA, ["message_id"], []),
            SchemaMessage("messages", changed, ["id"], []),
            SchemaMessage("messages", SCHEMA, ["message_id"], []),
        ]
    )
    assert [
        (json.loads(line)["stream"], "id" in json.loads(line)["schema"]["properties"])
        for line in lines
    ] == [
        ("messages", False),
        ("conversations", False),
        ("messages", True),
        ("messages", False),
    ]


def test_lines_are_kept_until_a_state_message_and_then_written_in_order() -> None:
    with captured_stdout() as stdout:
        writer = InboxWriter()
        writer.write_message(RecordMessage("messages", {"message_id": "m1"}))
        writer.write_message(RecordMessage("messages", {"message_id": "m2"}))
        assert stdout.getvalue() == ""  # no system call per record
        writer.write_message(StateMessage({"bookmarks": {"messages": {}}}))
        types = [json.loads(line)["type"] for line in stdout.getvalue().splitlines()]
    assert types == ["RECORD", "RECORD", "STATE"]


def test_a_run_that_fails_still_delivers_the_records_it_wrote() -> None:
    # As a tap stopped by an error: records written, no STATE after them, a traceback.
    script = (
        "from singer_sdk.singerlib import RecordMessage\n"
        "from tap_linkedin_messages.writer import InboxWriter\n"
        "writer = InboxWriter()\n"
        "for n in range(3):\n"
        "    writer.write_message(RecordMessage('messages', {'message_id': f'm{n}'}))\n"
        "raise SystemExit('the provider stopped answering')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert run.returncode == 1
    ids = [json.loads(line)["record"]["message_id"] for line in run.stdout.splitlines()]
    assert ids == ["m0", "m1", "m2"]
