"""The tap's Singer writer: the SDK's msgspec writer, with what it repeats done once.

- The SDK sends a stream's SCHEMA message again at every sync of a child stream, that is
  once per conversation (50,000 times for a heavy member's archive), and turns it into a
  dict through `dataclasses.asdict` each time: about a millisecond, a sixth of a
  100,000-message export's run. A stream's line is made once, and a line the target
  already has for that stream is not sent again (a SCHEMA message stands until the next
  one for its stream, in the Singer spec: https://hub.meltano.com/singer/spec#schema-message),
  which took 15 MB of an 86 MB export's output.
- The SDK's writer flushes stdout after every message, and with `PYTHONUNBUFFERED=1` (set
  in many containers) stdout has no buffer at all: a system call per record, an eighth of
  an export's run. Lines are kept here and written in order, at least every 64 KiB, so a
  target never sees a STATE before the records it follows; they are written out at each
  STATE message (the point a target can checkpoint at) and when the tap exits, however it
  exits.
- The SDK turns a STATE message into a dict through `dataclasses.asdict` too, which copies
  the whole state, every account's partitions, at every STATE: with 500 accounts, half a
  run's time went there (`make bench`, scenario 6). Its value is written as it is.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
from typing import Any, TextIO

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.singerlib import Message, SchemaMessage, StateMessage

#: Lines kept before they are written out.
FLUSH_BYTES = 64 * 1024


class InboxWriter(MsgSpecWriter):
    """`MsgSpecWriter`, each stream's SCHEMA line made and sent once while it is the
    same, stdout flushed at STATE messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # stream -> (the schema object, its keys, the serialized line)
        self._schema_lines: dict[str, tuple[object, tuple[Any, ...], bytes]] = {}
        # stream -> the SCHEMA line last sent for it
        self._sent_schemas: dict[str, bytes] = {}
        self._pending = bytearray()
        # Where the kept lines go: stdout as it was when they were written (a test that
        # captures stdout gets its own lines, even those written out at exit).
        self._out: TextIO = sys.stdout
        atexit.register(self._flush_at_exit)

    def serialize_message(self, message: Message) -> bytearray:
        if isinstance(message, StateMessage):
            return serialize_jsonl({"type": "STATE", "value": message.value})
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

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        if isinstance(message, SchemaMessage):
            if self._sent_schemas.get(message.stream) == line:
                return
            self._sent_schemas[message.stream] = bytes(line)
        if sys.stdout is not self._out:
            self.flush()
            self._out = sys.stdout
        self._pending += line
        if isinstance(message, StateMessage) or len(self._pending) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write out the lines kept so far."""
        if self._pending:
            self._out.buffer.write(self._pending)
            self._pending.clear()
        self._out.flush()

    def _flush_at_exit(self) -> None:
        # A run that stopped on an error still delivers the records it wrote (its state
        # stayed behind them); a closed pipe has nobody left to deliver them to.
        with contextlib.suppress(ValueError, OSError):
            self.flush()
