"""The tap's Singer writer: the SDK's msgspec writer, with each stream's SCHEMA message
serialized once per run.

The SDK sends a stream's SCHEMA message again at every sync of a child stream, that is
once per conversation, and turns it into a dict through `dataclasses.asdict` each time:
about a millisecond, a sixth of a 100,000-message export's run. The bytes written are the
same; only their making is not repeated.
"""

from __future__ import annotations

from typing import Any

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, SchemaMessage


class InboxWriter(MsgSpecWriter):
    """`MsgSpecWriter`; an unchanged SCHEMA message's line is kept and written again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # stream -> (the schema object, its keys, the serialized line)
        self._schema_lines: dict[str, tuple[object, tuple[Any, ...], bytes]] = {}

    def serialize_message(self, message: Message) -> bytearray:
        if not isinstance(message, SchemaMessage):
            return super().serialize_message(message)
        keys = (message.key_properties, message.bookmark_properties)
        kept = self._schema_lines.get(message.stream)
        # The same schema object (the SDK's stream map holds it for the whole run).
        if kept is not None and kept[0] is message.schema and kept[1] == keys:
            return bytearray(kept[2])
        line = bytes(super().serialize_message(message))
        self._schema_lines[message.stream] = (message.schema, keys, line)
        return bytearray(line)
