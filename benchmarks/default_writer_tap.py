"""The tap with the SDK's default message writer instead of its msgspec one.

`make bench` runs it beside the real console script to report records/s with both
writers; it is the same tap in every other respect.
"""

from __future__ import annotations

from singer_sdk.io_base import SingerWriter

from tap_linkedin_messages.tap import TapLinkedInMessages

if __name__ == "__main__":
    TapLinkedInMessages.message_writer_class = SingerWriter
    TapLinkedInMessages.cli()
