"""The ceiling for records/s: an SDK stream that only emits ready-made message records.

Same SDK, same `messages` schema as the real tap; no HTTP, no paging, no parsing.
`python benchmarks/trivial_tap.py COUNT [msgspec|default]` writes COUNT Singer RECORD
messages with the SDK's msgspec writer (the tap's) or its default one.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from singer_sdk import Stream, StreamSchema, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib.encoding.base import GenericSingerWriter

from tap_linkedin_messages.client import SCHEMAS
from tap_linkedin_messages.normalize import ms_to_rfc3339


class ReadyMadeMessages(Stream):
    """Yields `count` message records, as the real tap would emit them."""

    name = "messages"
    primary_keys = ("message_id",)
    replication_key = "sent_at"
    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS)
    # As the tap's streams: its records need no type conformance.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def get_records(self, context: Any) -> Any:
        count = int(self.config["count"])
        for index in range(count):
            yield {
                "message_id": f"urn:li:msg_message:(urn:li:fsd_profile:ACoAABENCH,2-{index:012d})",
                "conversation_id": "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAABENCH,2-T)",
                "thread_id": "2-T",
                "account_id": "acc_bench",
                "provider": "linkup",
                "sent_at": ms_to_rfc3339(1_735_689_600_000 + index * 60_000),
                "text": "Are you free for a call on Thursday?",
                "subject": None,
                "message_type": "TEXT",
                "sender": {
                    "name": "Ada Okafor",
                    "first_name": "Ada",
                    "last_name": "Okafor",
                    "profile_url": "https://www.linkedin.com/in/member-1/",
                    "is_me": False,
                },
                "attachments": None,
                "reactions": None,
                "edited_at": None,
                "is_deleted": None,
            }


class TrivialTap(Tap):
    name = "trivial-tap"
    config_jsonschema: ClassVar[dict] = {
        "type": "object",
        "properties": {"count": {"type": "integer"}},
    }

    def discover_streams(self) -> list[Stream]:
        return [ReadyMadeMessages(self)]


WRITERS: dict[str, type[GenericSingerWriter]] = {"msgspec": MsgSpecWriter, "default": SingerWriter}

if __name__ == "__main__":
    TrivialTap.message_writer_class = WRITERS[sys.argv[2] if len(sys.argv) > 2 else "msgspec"]
    tap = TrivialTap(config={"count": int(sys.argv[1])}, validate_config=False)
    tap.sync_all()
