"""Synthetic LinkedIn data-export archives of any size, for `make bench`.

Written row by row (the generator holds no more than one row), in LinkedIn's current
layout (`messages.csv` with RECIPIENT PROFILE URLS and ATTACHMENTS, every field quoted),
with rows in random conversation order, as heavy users' exports are, some multi-line
CONTENT, names with commas and the odd attachment. Everything is made up.

    python benchmarks/archive.py 1000000 /tmp/export.zip
"""

from __future__ import annotations

import csv
import io
import random
import sys
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

COLUMNS = [
    "CONVERSATION ID",
    "CONVERSATION TITLE",
    "FROM",
    "SENDER PROFILE URL",
    "TO",
    "RECIPIENT PROFILE URLS",
    "DATE",
    "SUBJECT",
    "CONTENT",
    "FOLDER",
    "ATTACHMENTS",
]
MEMBER = ("Olive Owner, PhD", "https://www.linkedin.com/in/olive-owner-bench")
FIRST = ["Ada", "Bram", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustav", "Hana", "Ines", "José"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Ivanova", "Kim", "Haddad", "Berg", "Sato", "Duarte"]
TEXTS = [
    "Thanks for connecting!",
    "Are you free for a call on Thursday?",
    "Sharing the deck we discussed.",
    "Sounds good, talk soon!",
    "Could you send over the pricing sheet?\nAnd the contract draft, if it is ready.",
    "Happy to help 🙂",
    'Following up on my last note: "Q3 plan", pages 2-4.\n\nBest,\nOlive',
]
# A "Complete" archive's files with the inbox's columns that are not the inbox.
LOOK_ALIKES = ("guide_messages.csv", "learning_role_play_messages.csv")
START = datetime(2019, 1, 1, tzinfo=timezone.utc)


def rows(messages: int, conversations: int, seed: int = 11) -> Iterator[dict[str, str]]:
    """`messages` rows over `conversations` threads, in random thread order."""
    rng = random.Random(seed)
    people = [
        (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"https://www.linkedin.com/in/bench-{i}")
        for i in range(conversations)
    ]
    threads = [f"2-QkVOQ0g{i:08d}X0xMDA=" for i in range(conversations)]
    # Each message gets its own second of a seven-year history, in random thread order.
    seconds = sorted(rng.sample(range(7 * 365 * 86_400), messages))
    for number, offset in enumerate(seconds):
        index = rng.randrange(conversations)
        other = people[index]
        mine = rng.random() < 0.4
        sender, recipient = (MEMBER, other) if mine else (other, MEMBER)
        yield {
            "CONVERSATION ID": threads[index],
            "CONVERSATION TITLE": "",
            "FROM": sender[0],
            "SENDER PROFILE URL": sender[1],
            "TO": recipient[0],
            "RECIPIENT PROFILE URLS": recipient[1],
            "DATE": (START + timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "SUBJECT": "",
            "CONTENT": f"{rng.choice(TEXTS)} (#{number})",
            "FOLDER": "INBOX",
            "ATTACHMENTS": (
                f"https://www.linkedin.com/dms/prv/image/v2/bench-{number}/0?m=x&t=y"
                if number % 97 == 0
                else ""
            ),
        }


def write(path: Path, messages: int, conversations: int | None = None) -> Path:
    """A ZIP (or, for a `.csv` path, the bare file) holding `messages` messages."""
    conversations = conversations or max(10, messages // 200)
    path.parent.mkdir(parents=True, exist_ok=True)

    def emit(stream: io.TextIOBase) -> None:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for row in rows(messages, conversations):
            writer.writerow(row)

    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8", newline="") as file:
            emit(file)
        return path
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("messages.csv", "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        emit(text)
    with zipfile.ZipFile(path, "a") as archive:
        for name in LOOK_ALIKES:
            archive.writestr(name, ",".join(f'"{c}"' for c in COLUMNS[:10]) + "\n")
    return path


if __name__ == "__main__":
    written = write(Path(sys.argv[2]), int(sys.argv[1]))
    print(f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")
