"""The tap's writer writes what the SDK's msgspec writer writes, SCHEMA lines kept once made."""

from __future__ import annotations

import pytest
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage, SchemaMessage

from tap_linkedin_messages.writer import InboxWriter

SCHEMA = {"type": "object", "properties": {"message_id": {"type": "string"}}}


def test_every_message_is_the_sdk_writers_line() -> None:
    ours, sdks = InboxWriter(), MsgSpecWriter()
    schema = SchemaMessage("messages", SCHEMA, ["message_id"], ["sent_at"])
    record = RecordMessage("messages", {"message_id": "m1"})
    for message in (schema, record, schema, record, schema):
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
