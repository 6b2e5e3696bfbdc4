"""The tap with its forked child switched off: every item made in this process.

`make bench` runs it beside the real console script to report what the child
(`tap_linkedin_messages/child_process.py`) gains on the official archives; it is the same
tap in every other respect (the path the tap takes where it cannot fork).
"""

from __future__ import annotations

from tap_linkedin_messages import child_process
from tap_linkedin_messages.tap import TapLinkedInMessages

if __name__ == "__main__":
    child_process.can_fork = lambda: False
    TapLinkedInMessages.cli()
