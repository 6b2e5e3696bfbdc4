"""Write `samples/linkedin-export-sample.zip`: a synthetic LinkedIn data-export archive.

The people and messages are made up (the emulators' synthetic inbox), written in the
export's own `messages.csv` layout, with what a real "Complete" archive also holds: the
look-alike files beside the inbox (`guide_messages.csv`,
`learning_role_play_messages.csv`), a few files sent as ATTACHMENTS links, a conversation
in SPAM (skipped by default, `exclude_folders`) and one in ARCHIVE. `make demo` reads it
with `provider: linkedin_export`.
"""

from __future__ import annotations

from pathlib import Path

from tests.emulators.export import export_rows, write_archive
from tests.emulators.inbox import Person, SyntheticInbox

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "linkedin-export-sample.zip"
ATTACHMENTS = (
    ("proposal.pdf", "application/pdf", 182_044),
    ("pricing.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 24_310),
    ("whiteboard.jpg", "image/jpeg", 402_118),
)


def main() -> None:
    inbox = SyntheticInbox.generate(seed=2026, conversations=30, messages=lambda i: 2 + i % 9)
    members = [Person(f"sample-group-{i}", "Group", f"Member {i}", "Synthetic") for i in range(3)]
    group = inbox.add_conversation(members, type_="group")
    for member in members:
        inbox.add_message(group.thread_id, sender=member, text=f"Hello from {member.name}")
    inbox.add_message(group.thread_id, sender=inbox.owner, text='Line one\nline two, "quoted"')
    # Files: one message with two, one with one.
    conversations = list(inbox.conversations.values())
    first, second = conversations[0].messages[0], conversations[1].messages[-1]
    for name, media_type, size in ATTACHMENTS[:2]:
        inbox.attach(first, name, media_type, size)
    inbox.attach(second, *ATTACHMENTS[2])
    spammer = inbox.add_conversation([Person("sample-prize-desk", "Prize", "Desk", "Winner")])
    inbox.add_message(spammer.thread_id, text="You have won a prize! Click here to claim it")
    archived = conversations[2].thread_id

    rows = export_rows(inbox)
    for row in rows:
        if row["CONVERSATION ID"] == spammer.thread_id:
            row["FOLDER"] = "SPAM"
        elif row["CONVERSATION ID"] == archived:
            row["FOLDER"] = "ARCHIVE"
    # Same columns, not the inbox: LinkedIn's coaching and role-play transcripts.
    coach = Person("sample-linkedin-coach", "LinkedIn", "Coach", "Learning")
    look_alike = {
        **rows[0],
        "CONVERSATION ID": "2-c2FtcGxlLWNvYWNoaW5n",
        "FROM": coach.name,
        "SENDER PROFILE URL": "",
        "CONTENT": "Let's practise a salary negotiation.",
        "ATTACHMENTS": "",
    }
    look_alikes = {
        "guide_messages.csv": [look_alike],
        "learning_role_play_messages.csv": [{**look_alike, "CONTENT": "Role play: cold call"}],
    }
    SAMPLE.parent.mkdir(exist_ok=True)
    write_archive(rows, SAMPLE, look_alikes=look_alikes)
    print(f"wrote {SAMPLE} ({len(rows)} inbox rows, 1 of them SPAM; 3 attachments)")


if __name__ == "__main__":
    main()
