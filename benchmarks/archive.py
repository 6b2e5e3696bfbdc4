"""Synthetic LinkedIn data-export archives of any size, for `make bench`.

Written row by row, in LinkedIn's current layout (`messages.csv` with RECIPIENT PROFILE
URLS and ATTACHMENTS, every field quoted), with rows in random conversation order, as
heavy users' exports are, some multi-line CONTENT, names with commas and the odd
attachment. Everything is made up.

Conversation sizes are skewed as a recruiter's or a salesperson's inbox is: most
conversations hold 1-20 messages (an invitation, a reply, a follow-up), a few hold
hundreds or thousands; the mean is about `MEAN_MESSAGES` messages, so a 1,000,000-message
archive holds about 50,000 conversations. A few are group chats, some are archived, and
people recur across conversations.

    python benchmarks/archive.py 1000000 /tmp/export.zip
"""

from __future__ import annotations

import csv
import io
import math
import random
import sys
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

# Run as a script too (`python benchmarks/archive.py`): the layout is the emulator's.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.emulators.export import COLUMNS, csv_bytes, export_date

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
#: The first second of the archive's history, in Unix seconds.
START = int(datetime(2019, 1, 1, tzinfo=timezone.utc).timestamp())
#: Messages per conversation, on average; sizes are log-normal around it (median ~6).
MEAN_MESSAGES = 20
SIZE_SIGMA = 1.5
#: Shares of group chats (2-4 others) and of archived conversations.
GROUPS = 0.05
ARCHIVED = 0.1
#: The generator's seed: the same archive for the same size, run after run.
SEED = 11


def conversation_sizes(messages: int, rng: random.Random) -> list[int]:
    """Messages in each conversation, summing to `messages`: mostly 1-20, a few long."""
    # 1 + floor(log-normal): its mean is about exp(mu + sigma^2 / 2) + 0.5.
    mu = math.log(MEAN_MESSAGES - 0.5) - SIZE_SIGMA**2 / 2
    sizes: list[int] = []
    left = messages
    while left > 0:
        size = min(left, 1 + int(rng.lognormvariate(mu, SIZE_SIGMA)))
        sizes.append(size)
        left -= size
    return sizes


def rows(messages: int, seed: int = SEED) -> Iterator[dict[str, str]]:
    """`messages` rows over about `messages / MEAN_MESSAGES` threads, in random thread
    order (each message has its own second of a seven-year history)."""
    rng = random.Random(seed)
    sizes = conversation_sizes(messages, rng)
    # People recur: about one person for every 1.5 conversations.
    people = [
        (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"https://www.linkedin.com/in/bench-{i}")
        for i in range(max(1, len(sizes) * 2 // 3))
    ]
    others = [
        rng.sample(people, min(len(people), rng.randint(2, 4)))
        if rng.random() < GROUPS
        else [rng.choice(people)]
        for _ in sizes
    ]
    folders = ["ARCHIVE" if rng.random() < ARCHIVED else "INBOX" for _ in sizes]
    threads = [f"2-QkVOQ0g{i:08d}X0xMDA=" for i in range(len(sizes))]
    # Which conversation each message is in, in random order; times in increasing order.
    order = [index for index, size in enumerate(sizes) for _ in range(size)]
    rng.shuffle(order)
    seconds = sorted(rng.sample(range(7 * 365 * 86_400), messages))
    for number, (offset, index) in enumerate(zip(seconds, order, strict=True)):
        group = others[index]
        if rng.random() < 0.4:
            sender, recipients = MEMBER, group
        else:
            sender = rng.choice(group)
            recipients = [MEMBER, *(person for person in group if person != sender)]
        yield {
            "CONVERSATION ID": threads[index],
            "CONVERSATION TITLE": "",
            "FROM": sender[0],
            "SENDER PROFILE URL": sender[1],
            # Group chats join names with a bare comma (a comma and a space is in a name).
            "TO": ",".join(name for name, _ in recipients),
            "RECIPIENT PROFILE URLS": ",".join(url for _, url in recipients),
            "DATE": export_date((START + offset) * 1000),
            "SUBJECT": "",
            "CONTENT": f"{rng.choice(TEXTS)} (#{number})",
            "FOLDER": folders[index],
            "ATTACHMENTS": (
                f"https://www.linkedin.com/dms/prv/image/v2/bench-{number}/0?m=x&t=y"
                if number % 97 == 0
                else ""
            ),
        }


def conversations_in(messages: int, seed: int = SEED) -> int:
    """How many conversations `rows(messages, seed)` spreads its messages over."""
    return len(conversation_sizes(messages, random.Random(seed)))


def write(path: Path, messages: int) -> Path:
    """A ZIP (or, for a `.csv` path, the bare file) holding `messages` messages."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def emit(stream: io.TextIOBase) -> None:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for row in rows(messages):
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
            archive.writestr(name, csv_bytes([], COLUMNS[:10]))
    return path


if __name__ == "__main__":
    messages = int(sys.argv[1])
    written = write(Path(sys.argv[2]), messages)
    print(
        f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB, {messages:,} messages in "
        f"{conversations_in(messages):,} conversations)"
    )
