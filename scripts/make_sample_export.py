"""Write `samples/linkedin-export-sample.zip`: a synthetic LinkedIn data-export archive.

The people and messages are made up (the emulators' synthetic inbox), written in the
export's own `messages.csv` layout. `make demo` reads it with `provider: linkedin_export`.
"""

from __future__ import annotations

from pathlib import Path

from tests.emulators.export import export_rows, write_archive
from tests.emulators.inbox import Person, SyntheticInbox

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "linkedin-export-sample.zip"


def main() -> None:
    inbox = SyntheticInbox.generate(seed=2026, conversations=30, messages=lambda i: 2 + i % 9)
    members = [Person(f"sample-group-{i}", "Group", f"Member {i}", "Synthetic") for i in range(3)]
    group = inbox.add_conversation(members, type_="group")
    for member in members:
        inbox.add_message(group.thread_id, sender=member, text=f"Hello from {member.name}")
    inbox.add_message(group.thread_id, sender=inbox.owner, text='Line one\nline two, "quoted"')
    SAMPLE.parent.mkdir(exist_ok=True)
    write_archive(export_rows(inbox), SAMPLE)
    print(f"wrote {SAMPLE} ({inbox.message_count()} messages)")


if __name__ == "__main__":
    main()
