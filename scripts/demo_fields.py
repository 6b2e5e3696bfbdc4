"""make demo: how many loaded records carry each field the tap added in this version
(filled where the source gives it, null where it does not)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

CONVERSATION_FIELDS = ("folder", "mailbox", "is_read", "last_read_at")
MESSAGE_FIELDS = ("reply_to_message_id",)


def filled(rows: list[dict], field: str) -> str:
    return f"{field} {sum(row.get(field) is not None for row in rows)}/{len(rows)}"


def main(folder: Path) -> None:
    conversations = [json.loads(line) for line in (folder / "conversations.jsonl").open()]
    messages = [json.loads(line) for line in (folder / "messages.jsonl").open()]
    attachments = [a for m in messages for a in m.get("attachments") or []]
    print(
        "    fields filled: conversations "
        + ", ".join(filled(conversations, field) for field in CONVERSATION_FIELDS)
    )
    print(
        "                   messages "
        + ", ".join(
            [filled(messages, field) for field in MESSAGE_FIELDS]
            + [f"attachment url_expires_at {filled(attachments, 'url_expires_at').split()[1]}"]
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
