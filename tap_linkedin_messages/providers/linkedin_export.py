"""LinkedIn's own data export ("Get a copy of your data"): `messages.csv`, offline.

LinkedIn documents no layout for this file; what is read here is what real archives
hold, from 2018 to 2026 (headers are matched by name, never by position):

- since 2021, `messages.csv` with `CONVERSATION ID, CONVERSATION TITLE, FROM, SENDER
  PROFILE URL, TO, DATE, SUBJECT, CONTENT, FOLDER`, to which later archives added
  `RECIPIENT PROFILE URLS` (after `TO`), `ATTACHMENTS` and the draft flags `IS MESSAGE
  DRAFT` / `IS CONVERSATION DRAFT`. `DATE` is `YYYY-MM-DD HH:MM:SS UTC`; `CONVERSATION ID`
  is LinkedIn's `2-...` thread id, the one every API carries too. `FOLDER` is `INBOX`,
  `ARCHIVE`, `SPAM` or empty, the same for every row of a conversation;
- 2018's `Messages.csv`: `From, To, Date, Subject, Content, Direction, Folder`, with US
  dates (`10/16/18, 8:36 AM`, no time zone: read as UTC [inferred]), `Direction`
  `INCOMING`/`OUTGOING` and `Folder` `INBOX`/`SENT`/`ARCHIVED`, and no conversation id:
  a conversation is everything exchanged with the same other party.

A "Complete" archive also holds files with the inbox's columns that are not the inbox
(`guide_messages.csv`, `learning_role_play_messages.csv`, `learning_coach_messages.csv`,
`coach_messages.csv`): only `messages.csv` (any case) at the archive's root or in its top
folder is read, and the others are named in a warning.

The file has no message id: one is made from the thread, time, sender and content, so a
newer archive yields the same id for the same message and a target updates nothing twice.
It does not mark the member's own messages either (2018's `Direction` aside): the member
is the one person found in every conversation, as a sender or among the recipients, which
is how `is_me` is told (and left null where it cannot be). Names are never split at a
comma followed by a space (`Ada Example, PhD` is one person); group chats join names
with a bare `,`, and `RECIPIENT PROFILE URLS`, where present, lists one URL per member.

Rows are read once, streamed from the ZIP (never extracted): each becomes a record as far
as the row alone tells, while who is who (the member, the URL a row gives a name) is
learned into a temporary SQLite database, not memory, and settled in the records as the
message index reads them back. Memory stays flat whatever the archive's size, and
however many conversations and people it holds.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import logging
import re
import sys
import zipfile
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal

from singer_sdk import typing as th

from tap_linkedin_messages import records
from tap_linkedin_messages.child_process import produced_in_child
from tap_linkedin_messages.message_index import (
    Person,
    Progress,
    ScratchDatabase,
    Seen,
    Settle,
    progress_of_read,
)
from tap_linkedin_messages.normalize import (
    datetime_to_rfc3339,
    name_key,
    profile_key,
    thread_id_from_urn,
)
from tap_linkedin_messages.providers.base import Listed, MessageListing, Position, ProviderError
from tap_linkedin_messages.records import Record

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from tap_linkedin_messages.providers.base import Walk

MESSAGES_CSV = "messages.csv"
LOGGER = logging.getLogger(__name__)
# Exports seen in the wild: UTF-8 with or without a BOM, and the odd Windows-1252 file.
ENCODINGS = ("utf-8-sig", "cp1252")
# The current DATE, read without strptime (a million rows cost a second, not ten).
CURRENT_DATE = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC")
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S %Z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",  # early 2020
    "%m/%d/%y, %I:%M %p",  # 2018
    "%B %d, %Y, %I:%M %p",  # 2017
)
# 2018's columns, and what they mean in today's names.
LEGACY_COLUMNS = {"FROM", "TO", "DATE", "CONTENT"}
# Conversations' folders as LinkedIn names them today (2018 said ARCHIVED): the values
# `exclude_folders` takes.
FOLDERS = {"INBOX": "INBOX", "ARCHIVE": "ARCHIVE", "ARCHIVED": "ARCHIVE", "SPAM": "SPAM"}
# And the folders rows name for themselves, given as they are: SENT (the member's rows; a
# conversation is SENT only where no row names another folder, `MessageIndex`) and DRAFT
# (drafts, never emitted).
ROW_FOLDERS = {**FOLDERS, "SENT": "SENT", "DRAFT": "DRAFT"}
YES = {"yes", "true", "1", "y"}
# Group chats join names with a bare comma; a comma and a space is inside one name.
GROUP_JOIN = re.compile(r",(?! )")
# Several attachments would be comma-joined URLs [inferred: only single ones were seen].
ATTACHMENT_SPLIT = re.compile(r",\s*(?=https?://)")
SPONSORED_TITLE = "Sponsored Conversation"
# Rows between two progress lines are counted in thousands: cheap on the hot path.

csv.field_size_limit(sys.maxsize)  # a long message is one field

#: A row's record as far as the row tells (None: no date or conversation; False: a draft).
RowRecord = Record | None | Literal[False]


# --- values ---------------------------------------------------------------------------------


def parse_export_date(value: str) -> str | None:
    """A `DATE` of any layout as our RFC 3339 UTC string (None: not a date)."""
    text = value.strip()
    current = CURRENT_DATE.fullmatch(text)
    if current:
        return f"{current.group(1)}T{current.group(2)}.000Z"
    for date_format in DATE_FORMATS:
        try:
            moment = datetime.strptime(text, date_format)  # noqa: DTZ007 - UTC, set below
        except ValueError:
            continue
        return datetime_to_rfc3339(moment.replace(tzinfo=moment.tzinfo or timezone.utc))
    return None


def split_urls(cell: str | None) -> list[str]:
    """`RECIPIENT PROFILE URLS`: profile URLs hold no comma, so every comma separates."""
    return [item.strip() for item in (cell or "").split(",") if item.strip()]


def split_names(cell: str | None) -> list[str]:
    """`TO`: the names a bare comma joins (a name's own `, PhD` stays in it)."""
    return [item.strip() for item in GROUP_JOIN.split(cell or "") if item.strip()]


def folder_of(value: str | None) -> str | None:
    """`FOLDER` as today's names (INBOX, ARCHIVE, SPAM, SENT, DRAFT); empty or unknown: None."""
    return ROW_FOLDERS.get((value or "").strip().upper())


def attachments_of(cell: str | None) -> list[Record] | None:
    """`ATTACHMENTS`: expiring links to each file; the export gives nothing else about
    them. None where the archive has no such column."""
    if cell is None:
        return None
    return [
        records.attachment(url=url.strip()) for url in ATTACHMENT_SPLIT.split(cell) if url.strip()
    ]


#: How `synthesized_message_id` makes ids (`MessageListing.message_ids`): 2 since they no
#: longer depend on the optional SENDER PROFILE URL column, nor on the raw DATE text.
MESSAGE_IDS = 2
MESSAGE_IDS_CHANGED = (
    "message ids are made differently since this version (from the conversation, the parsed "
    "time, the sender's name and the text: the same in every layout, with or without sender "
    "URLs)"
)


def synthesized_message_id(row: dict[str, str], sent_at: str) -> str:
    """The same in every archive and layout since 2020: made only of what each of them
    carries for a message (its conversation, its time as parsed, its sender's name as
    written, trimmed, and its text), hashed; never of an optional column (a sender URL
    one archive gives and another leaves empty). 2018 rows have no conversation id: theirs
    is made from the other party's name (`legacy_conversation_id`)."""
    parts = [
        row.get("CONVERSATION ID", "").strip(),
        sent_at,
        (row.get("FROM") or "").strip(),
        row.get("CONTENT") or "",
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"linkedin-export:{digest[:40]}"


def legacy_conversation_id(other_party: str) -> str:
    """2018 rows have no conversation id: the other party's name, hashed."""
    digest = hashlib.sha256(other_party.strip().lower().encode()).hexdigest()
    return f"linkedin-export-2018:{digest[:24]}"


def normalised(row: dict[str, str]) -> dict[str, str]:
    """A 2018 row in today's names: its conversation is its other party."""
    if "CONVERSATION ID" in row:
        return row
    outgoing = is_outgoing(row)
    other = row.get("TO", "") if outgoing else row.get("FROM", "")
    return {**row, "CONVERSATION ID": legacy_conversation_id(other), "CONVERSATION TITLE": ""}


def is_outgoing(row: dict[str, str]) -> bool | None:
    """2018's own answer to "did the member send it" (None where the file does not say)."""
    if "DIRECTION" not in row:
        return None
    direction = (row.get("DIRECTION") or "").strip().upper()
    if direction:
        return direction == "OUTGOING"
    return (row.get("FOLDER") or "").strip().upper() == "SENT"


def is_draft(row: dict[str, str]) -> bool:
    """A draft, never sent: not a message anyone received (flagged so, or in the DRAFT
    folder, as layouts without the flags file them)."""
    message, conversation = row.get("IS MESSAGE DRAFT"), row.get("IS CONVERSATION DRAFT")
    return bool(
        (message and message.strip().lower() in YES)
        or (conversation and conversation.strip().lower() in YES)
        or (row.get("FOLDER") or "").strip().upper() == "DRAFT"
    )


# --- who is who -----------------------------------------------------------------------------

PEOPLE_SCHEMA = """
-- Every conversation a row is in (one with nobody named in it too).
CREATE TABLE conversations (id TEXT PRIMARY KEY) WITHOUT ROWID;
-- Who is in which conversation, by key: people a profile URL names (senders, and
-- recipients where the row lists URLs), and, once every row is in, senders without one.
CREATE TABLE members (
    conversation TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (conversation, key)
) WITHOUT ROWID;
-- Senders without a URL, by name: their key is known once every row is in.
CREATE TABLE sender_names (
    conversation TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (conversation, name)
) WITHOUT ROWID;
-- `TO` cells of rows that list no recipient URL (2021's layout): whom they name is only
-- known once the member is a candidate.
CREATE TABLE to_cells (
    conversation TEXT NOT NULL, cell TEXT NOT NULL, PRIMARY KEY (conversation, cell)
) WITHOUT ROWID;
-- The first URL any row gives with a name (and that URL's key), the first name with a key.
CREATE TABLE url_of_name (name TEXT PRIMARY KEY, url TEXT NOT NULL, key TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE name_of_key (key TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE urlless_senders (name TEXT PRIMARY KEY) WITHOUT ROWID;
"""
# Once every row is in: senders without a URL join their conversations by the key their
# name has (a URL another row gives it, else the name), and the conversations between
# two or more people are listed with their size (people and TO cells).
RESOLVE = """
INSERT OR IGNORE INTO members (conversation, key)
    SELECT s.conversation, coalesce(nullif(u.key, ''), s.name) FROM sender_names s
    LEFT JOIN url_of_name u ON u.name = s.name AND s.name != '';
CREATE INDEX members_by_key ON members (key);
CREATE INDEX name_of_key_by_name ON name_of_key (name_key);
CREATE TABLE known (conversation TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO known (conversation, size)
    SELECT conversation, keys + cells FROM (
        SELECT c.id AS conversation,
            (SELECT count(*) FROM members m WHERE m.conversation = c.id) AS keys,
            (SELECT count(*) FROM to_cells t WHERE t.conversation = c.id) AS cells
        FROM conversations c
    ) WHERE keys + (cells > 0) >= 2;
"""
SMALLEST_KNOWN = "SELECT conversation FROM known ORDER BY size, conversation LIMIT 1"
IN_SOME_KNOWN = (
    "SELECT 1 FROM members m JOIN known k ON k.conversation = m.conversation "
    "WHERE m.key = ? LIMIT 1"
)
# The people in the most known conversations by key (senders, listed recipients).
BUSIEST_KEYS = """
SELECT m.key FROM members m JOIN known k ON k.conversation = m.conversation
GROUP BY m.key ORDER BY count(*) DESC, m.key LIMIT 5
"""
# The known conversations' TO cells, a conversation's together.
KNOWN_TO_CELLS = (
    "SELECT t.conversation, t.cell FROM to_cells t JOIN known k ON k.conversation = t.conversation "
    "ORDER BY t.conversation"
)
#: Where no one is in every conversation, the member is the person in by far the most: in
#: at least this share of them...
MEMBER_SHARE = 0.75
#: ...and in at least this many times as many as anyone else.
MEMBER_MARGIN = 4
# Known conversations a person is not among the keys of, with their TO cells (NULL: none).
WITHOUT = """
SELECT k.conversation, t.cell FROM known k LEFT JOIN to_cells t ON t.conversation = k.conversation
WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.conversation = k.conversation AND m.key = ?)
ORDER BY k.conversation
"""
# Keys of the known conversations' people with no name of their own, whose key is `?` as
# a name (`name_key` is the Python function).
UNNAMED_CALLED = """
SELECT DISTINCT m.key FROM members m JOIN known k ON k.conversation = m.conversation
WHERE name_key(m.key) = ? AND NOT EXISTS (SELECT 1 FROM name_of_key n WHERE n.key = m.key)
"""
URLLESS_SENDER = """
SELECT 1 FROM urlless_senders s LEFT JOIN url_of_name u ON u.name = s.name
WHERE s.name != '' AND coalesce(nullif(u.key, ''), s.name) = ? LIMIT 1
"""
# What rows teach, table by table (a row already there is kept: the first wins).
LEARNED = (
    "INSERT OR IGNORE INTO members VALUES (?, ?)",
    "INSERT OR IGNORE INTO sender_names VALUES (?, ?)",
    "INSERT OR IGNORE INTO to_cells VALUES (?, ?)",
    "INSERT OR IGNORE INTO url_of_name VALUES (?, ?, ?)",
    "INSERT OR IGNORE INTO name_of_key VALUES (?, ?, ?)",
    "INSERT OR IGNORE INTO urlless_senders VALUES (?)",
)
#: The cells `People.learn` reads (and `DATE`, which the error of a row without one names).
LEARNED_FROM = (
    "CONVERSATION ID",
    "FROM",
    "SENDER PROFILE URL",
    "TO",
    "RECIPIENT PROFILE URLS",
    "FOLDER",
    "DIRECTION",
    "DATE",
)
#: Rows learned from before what they taught is written.
PEOPLE_BATCH = 2000
#: Names whose URL is remembered between two look-ups (records are settled a conversation
#: at a time: the same few are asked of).
REMEMBERED_NAMES = 4096


class People(Settle):
    """Who is who across the archive, learned row by row as it is read, and settled in
    the records as they are read back (`Settle`).

    A person is keyed by profile URL where any row gives one for their name (the member's
    own rows may lack `SENDER PROFILE URL`, while others' rows list them among the
    recipients), else by name. The member is the one person in every conversation.

    What is known of each conversation and each person is in a temporary SQLite database
    (`ScratchDatabase`), not in memory: a recruiter's million messages are 50,000
    conversations. Rows are written a batch at a time, and what a recent row already
    wrote is not written again.
    """

    def __init__(self, origin: str = "linkedin_export") -> None:
        self.origin = origin
        self._scratch = ScratchDatabase(f"{origin}: people", PEOPLE_SCHEMA, LOGGER)
        self._db = self._scratch.db
        self._db.create_function("name_key", 1, name_key, deterministic=True)
        # What the rows since the last batch taught, table by table (`LEARNED`).
        self._conversations: list[tuple[str]] = []
        self._members: list[tuple[str, ...]] = []
        self._sender_names: list[tuple[str, ...]] = []
        self._to_cells: list[tuple[str, ...]] = []
        self._urls: list[tuple[str, ...]] = []
        self._names: list[tuple[str, ...]] = []
        self._urlless: list[tuple[str, ...]] = []
        # The rows met lately, by their cells that name people (a row like one of them
        # teaches nothing new), and the facts written lately, table by table.
        self._rows_seen = Seen(1 << 17)
        self._facts_seen = Seen(1 << 16)
        self._rows = 0
        self._found = 0
        self._url_of_name: dict[str, str | None] = {}
        self._known_names: dict[str, bool] = {}
        #: (name, URL) of who sent the rows in the SENT folder: only the member does.
        self.sent_by: set[tuple[str, str]] = set()
        self.member: str | None = None
        #: Conversations the member was found absent from (`by_far_the_most`).
        self.absent_from = 0
        self.outgoing_known = False

    def __enter__(self) -> People:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the database, whatever state the read is in."""
        self._scratch.close()

    def learn(self, row: dict[str, str]) -> None:
        """What one row teaches: names and URLs that go together, who is in which thread."""
        if "DIRECTION" in row:
            self.outgoing_known = True
        self._rows += 1
        if self._rows % PEOPLE_BATCH == 0:
            self._flush()
        conversation_id = row["CONVERSATION ID"]
        sender, url = row.get("FROM") or "", row.get("SENDER PROFILE URL") or ""
        to, urls = row.get("TO"), row.get("RECIPIENT PROFILE URLS")
        if not self._rows_seen.first((conversation_id, sender, url, to, urls, row.get("FOLDER"))):
            return
        seen = self._facts_seen.first
        if seen((0, conversation_id)):
            self._conversations.append((conversation_id,))
        if url:
            self._member(conversation_id, self._pair(sender, url))
        elif sender:
            name = name_key(sender)
            if seen((1, conversation_id, name)):
                self._sender_names.append((conversation_id, name))
            if seen((2, name)):
                self._urlless.append((name,))
        if sender and (row.get("FOLDER") or "").strip().upper() == "SENT":
            self.sent_by.add((sender, url))
        if urls:
            for recipient, recipient_url in recipient_pairs(row):
                if recipient_url:
                    self._member(conversation_id, self._pair(recipient, recipient_url))
        elif to and seen((3, conversation_id, cell := name_key(to))):
            self._to_cells.append((conversation_id, cell))

    def _member(self, conversation_id: str, key: str) -> None:
        if self._facts_seen.first((4, conversation_id, key)):
            self._members.append((conversation_id, key))

    def _pair(self, name: str | None, url: str) -> str:
        """Remember that a name goes with a URL; the person's key."""
        key = profile_key(url) or ""
        if name and self._facts_seen.first((5, name, url)):
            name_of = name_key(name)
            self._urls.append((name_of, url, key))
            self._names.append((key, name, name_of))
        return key

    def _flush(self) -> None:
        """What the rows since the last batch learned, into the database (first wins)."""
        db = self._db
        if self._conversations:
            self._found += db.executemany(
                "INSERT OR IGNORE INTO conversations VALUES (?)", self._conversations
            ).rowcount
        learned: tuple[list[tuple[str, ...]], ...] = (
            self._members,
            self._sender_names,
            self._to_cells,
            self._urls,
            self._names,
            self._urlless,
        )
        for statement, rows in zip(LEARNED, learned, strict=True):
            if rows:
                db.executemany(statement, rows)
                rows.clear()
        self._conversations.clear()

    def found(self) -> int:
        """Conversations found so far."""
        self._flush()
        return self._found

    def learned(self) -> None:
        """Every row is in: what they taught is written, and its size logged."""
        self._flush()
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        LOGGER.info(
            "%s: %d conversations noted in %s (%.1f MB on disk)",
            self.origin,
            self._found,
            self._scratch.path,
            self._scratch.size_mb(),
        )

    def url_of(self, name: str | None) -> str | None:
        """The profile URL another row gives for a name."""
        return self._url_of(name_key(name)) if name else None

    def _url_of(self, name: str) -> str | None:
        """The first URL a row gave with a name (a name's key), remembered a while."""
        remembered = self._url_of_name
        if name in remembered:
            return remembered[name]
        found = self._db.execute("SELECT url FROM url_of_name WHERE name = ?", (name,)).fetchone()
        if len(remembered) >= REMEMBERED_NAMES:
            remembered.clear()
        url = remembered[name] = found[0] if found else None
        return url

    def key(self, name: str | None, url: str | None) -> str | None:
        """One key per person, whichever of name and URL a row gives."""
        if not url and name:
            url = self._url_of(name_key(name))
        return profile_key(url) or (name_key(name) if name else None)

    def is_me(self, name: str | None, profile_url: str | None) -> bool | None:
        """Whether the member sent a row (None where the rows cannot tell who they are)."""
        if self.member is None:
            return None
        key = self.key(name, profile_url)
        return None if key is None else key == self.member

    def others(self, people: Iterable[Person]) -> Iterator[Person]:
        """Everyone but the member, a name some other row gives a URL for with that URL
        (one participant, not two); a `TO` cell of bare-comma-joined names split where
        each part is a person the archive knows (`names_in`)."""
        member = self.member
        for cell, cell_url in people:
            for name, url in self.names_in(cell) if cell_url is None else [(cell, cell_url)]:
                if member is None or self.key(name, url) != member:
                    yield name, url or self.url_of(name)

    def names_in(self, cell: str | None) -> list[Person]:
        """The people a name without a URL stands for: its bare-comma-joined parts where
        every one is a person some row names as a sender or with a URL, else the name
        whole (`Kim Lee,PhD` is one person unless `Kim Lee` and `PhD` both wrote)."""
        parts = split_names(cell)
        if len(parts) > 1 and all(self._is_person(name_key(part)) for part in parts):
            return [(part, None) for part in parts]
        return [(cell, None)]

    def _is_person(self, name: str) -> bool:
        """Whether some row names a person so (as a sender, or with a profile URL)."""
        known = self._known_names
        if name not in known:
            if len(known) >= REMEMBERED_NAMES:
                known.clear()
            db = self._db
            known[name] = bool(
                db.execute("SELECT 1 FROM name_of_key WHERE name_key = ?", (name,)).fetchone()
                or db.execute("SELECT 1 FROM urlless_senders WHERE name = ?", (name,)).fetchone()
            )
        return known[name]

    def find_member(self) -> str | None:
        """The member who exported (None if the rows cannot tell).

        The one sender of the SENT folder's rows, where the archive has them. Else the one
        person in every conversation between two or more people (LinkedIn's own rows, a
        sponsored message to nobody named, are in no such conversation): a person is in a
        conversation as a sender, as a listed recipient, or (in archives without recipient
        URLs) by name in a `TO` cell. Where several people are in all of them (a single
        conversation), the member is the one whose own rows lack a `SENDER PROFILE URL`, as
        some archives write them; else nobody is. Where nobody is in all of them (real
        archives hold group chats whose `TO` leaves the member out), the person in by far
        the most (`by_far_the_most`).

        Asked of the database: the candidates are the people of the smallest such
        conversation, and each is looked for in all the others.
        """
        sent_by = {self.key(name, url or None) for name, url in self.sent_by}
        if len(sent_by) == 1:
            return sent_by.pop()
        self._flush()
        self._db.executescript(RESOLVE)
        smallest = self._db.execute(SMALLEST_KNOWN).fetchone()
        if smallest is None:
            return None
        candidates = {c for c in self._people_of(smallest[0]) if self._in_every_conversation(c)}
        if not candidates:
            return self.by_far_the_most()
        if len(candidates) > 1:
            candidates = {
                c for c in candidates if self._db.execute(URLLESS_SENDER, (c,)).fetchone()
            }
        return candidates.pop() if len(candidates) == 1 else None

    def by_far_the_most(self) -> str | None:
        """The person in by far the most conversations between two or more people: in at
        least `MEMBER_SHARE` of them, and `MEMBER_MARGIN` times as many as anyone else
        (None otherwise). The conversations they are not in are counted (`absent_from`).

        The candidates are the people in the most conversations by key and the names in
        the most `TO` cells."""
        total = self._db.execute("SELECT count(*) FROM known").fetchone()[0]
        candidates = {key for (key,) in self._db.execute(BUSIEST_KEYS)}
        named: Counter[str] = Counter()
        for _conversation, rows in itertools.groupby(
            self._db.execute(KNOWN_TO_CELLS), key=lambda row: row[0]
        ):
            named.update(named_in(cell for _, cell in rows))
        for name, _count in named.most_common(5):
            candidates.update(self._keys_called(name) or {name})
        presence = sorted(((total - self._missing(c), c) for c in candidates), reverse=True)
        if not presence:
            return None
        most, member = presence[0]
        runner_up = presence[1][0] if len(presence) > 1 else 0
        if most < MEMBER_SHARE * total or most < MEMBER_MARGIN * runner_up:
            return None
        self.absent_from = total - most
        return member

    def _people_of(self, conversation_id: str) -> set[str]:
        """Who a conversation has among its keys, or names in its `TO` cells (of the
        people of any conversation between two or more)."""
        db = self._db
        keys = {
            key
            for (key,) in db.execute(
                "SELECT key FROM members WHERE conversation = ?", (conversation_id,)
            )
        }
        cells = {
            cell
            for (cell,) in db.execute(
                "SELECT cell FROM to_cells WHERE conversation = ?", (conversation_id,)
            )
        }
        for part in named_in(cells):
            keys.update(self._keys_called(part))
        return keys

    def _keys_called(self, name: str) -> set[str]:
        """The keys of the known conversations' people a name (a name's key) names."""
        db = self._db
        keys = {
            key
            for (key,) in db.execute("SELECT key FROM name_of_key WHERE name_key = ?", (name,))
            if db.execute(IN_SOME_KNOWN, (key,)).fetchone()
        }
        keys.update(key for (key,) in db.execute(UNNAMED_CALLED, (name,)))
        return keys

    def _in_every_conversation(self, candidate: str) -> bool:
        """Whether a person is in every conversation between two or more people."""
        return self._missing(candidate, stop_at=1) == 0

    def _missing(self, candidate: str, stop_at: int | None = None) -> int:
        """How many conversations between two or more people a person is not in (neither
        among its keys nor named in one of its `TO` cells), counted up to `stop_at`."""
        known = self._db.execute("SELECT name FROM name_of_key WHERE key = ?", (candidate,))
        named = known.fetchone()
        name = name_key(named[0] if named else candidate)
        missing = 0
        for _conversation, rows in itertools.groupby(
            self._db.execute(WITHOUT, (candidate,)), key=lambda row: row[0]
        ):
            cells = [cell for _, cell in rows]
            if None in cells or name not in named_in(cells):
                missing += 1
                if missing == stop_at:
                    break
        return missing


def named_in(cells: Iterable[str]) -> set[str]:
    """The names `TO` cells hold: each whole, and each of its bare-comma-joined names."""
    return {part for cell in cells for part in (cell, *map(name_key, split_names(cell)))}


def recipient_pairs(row: dict[str, str]) -> list[tuple[str | None, str | None]]:
    """(name, profile URL) of each recipient, as far as a row can tell.

    One URL: the whole `TO` cell is that person's name (a comma in it is part of it). As
    many bare-comma-joined names as URLs: in order. Otherwise the URLs alone (a
    `LinkedIn Member` has a name but no URL), or, with no URL column, the names alone.
    """
    urls = split_urls(row.get("RECIPIENT PROFILE URLS"))
    to = (row.get("TO") or "").strip()
    if len(urls) == 1 and to and not GROUP_JOIN.search(to):
        return [(to, urls[0])]
    names = split_names(to)
    if urls and len(names) == len(urls):
        return list(zip(names, urls, strict=True))
    if urls:
        return [(None, url) for url in urls]
    # No URL to line names up with: the cell whole ("Kim Lee,PhD" may be one person),
    # split once every row is read, where its parts are people (`People.others`).
    return [(to, None)] if to else []


# --- rows to records ------------------------------------------------------------------------


def message_record(row: dict[str, str]) -> Record | None:
    """One row (in today's names) as our message record with its `conversation` entry,
    as far as the row alone tells: who the member is (the sender's `is_me`, except in
    2018's rows, which say) and the URL another row gives a name are settled once every
    row is read (`People`).

    None: no readable date or conversation.
    """
    sent_at = parse_export_date(row.get("DATE") or "")
    conversation_id = (row.get("CONVERSATION ID") or "").strip()
    if not sent_at or not conversation_id:
        return None
    # Names and URLs trimmed: "Sam Roe " and "Sam Roe" are one person.
    name = (row.get("FROM") or "").strip() or None
    url = (row.get("SENDER PROFILE URL") or "").strip() or None
    outgoing = is_outgoing(row)
    if outgoing is not None:
        # 2018: the conversation is with the other party, whichever way the row went.
        other = row.get("TO") if outgoing else row.get("FROM")
        people_in_row: list[tuple[str | None, str | None]] = [
            (person, None) for person in split_names(other)
        ]
    else:
        people_in_row = [(name, url), *recipient_pairs(row)]
    sponsored = SPONSORED_TITLE in (row.get("CONVERSATION TITLE"), name)
    named = [
        records.participant(name=person, profile_url=person_url)
        for person, person_url in people_in_row
        if (person or person_url) and not (sponsored and person == SPONSORED_TITLE)
    ]
    title = row.get("CONVERSATION TITLE") or None
    message = records.message(
        message_id=synthesized_message_id(row, sent_at),
        sent_at=sent_at,
        text=row.get("CONTENT") or None,
        subject=row.get("SUBJECT") or None,
        # A row with no sender at all is LinkedIn's own ("Message request accepted").
        message_type="TEXT" if name else "SYSTEM",
        sender=records.sender(name=name, profile_url=url, is_me=outgoing) if name else None,
        attachments=attachments_of(row.get("ATTACHMENTS")),
    )
    thread_id = thread_id_from_urn(conversation_id)
    return records.listed(
        message,
        conversation_id=conversation_id,
        thread_id=thread_id,
        title=title,
        folder=folder_of(row.get("FOLDER")),
        type="Sponsored" if sponsored else None,
        participants=named,
    )


def excluded_folders(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The `exclude_folders` setting (SPAM where it is not set)."""
    value = config.get("exclude_folders")
    return tuple(value) if value is not None else ("SPAM",)


def row_records(rows: Iterable[dict[str, str]]) -> Iterator[tuple[dict[str, str], RowRecord]]:
    """Each row in today's names, with its record as far as the row alone tells
    (`message_record`; False for a draft): work on one row at a time, which the export
    does in a child process (`produced_in_child`) while this one learns and indexes.
    Of the row itself, only the cells `rows_to_records` reads are kept (`LEARNED_FROM`):
    the rest is in the record, and would only be sent down the pipe twice."""
    for raw in rows:
        row = normalised(raw)
        record: RowRecord = False if is_draft(row) else message_record(row)
        yield {column: row[column] for column in LEARNED_FROM if column in row}, record


def rows_to_records(
    rows: Iterable[tuple[dict[str, str], RowRecord]],
    origin: str,
    exclude_folders: Iterable[str],
    people: People,
) -> Iterator[Record]:
    """Every row's record (`row_records`), `people` learning who is who as it goes (the
    records' senders and participants are settled from it once every row is read).

    Drafts are left out, and so are conversations in `exclude_folders`. A row no target
    could key (no date, no conversation) stops the run. Progress is the read's
    (`progress_of_read`): one clock from the first row to the last record.
    """
    excluded = set(exclude_folders)
    progress = progress_of_read(lambda: Progress(origin, LOGGER))
    progress.begin(
        "reading messages",
        lambda read: f"{read} rows read, {people.found()} conversations found",
    )
    drafts = excluded_rows = emitted = 0
    for number, (row, record) in enumerate(rows, start=1):
        progress.tick()
        if record is False:
            drafts += 1
            continue
        people.learn(row)
        if record is None:
            msg = (
                f"{origin} row {number} has no readable CONVERSATION ID or DATE "
                f"({row.get('DATE')!r}); a target could not key it, so the run stops"
            )
            raise ProviderError(msg)
        if record["conversation"]["folder"] in excluded:
            excluded_rows += 1
            continue
        emitted += 1
        yield record
    people.learned()
    if not people.outgoing_known:
        people.member = people.find_member()
        if people.member is None and people.found():
            LOGGER.warning(
                "%s: the rows cannot tell which person is the member who exported them "
                "(no SENT rows, no one person alone in every conversation, nor one in by "
                "far the most): `is_me` stays null and `participants` include the member",
                origin,
            )
        elif people.absent_from:
            LOGGER.warning(
                "%s: %d conversations do not name the member (group chats whose TO leaves "
                "them out?); the member was found as the person in by far the most of "
                "them, and their senders there are taken as others",
                origin,
                people.absent_from,
            )
    LOGGER.info(
        "%s: %d rows read: %d message rows, %d drafts left out, %d in excluded folders (%s)",
        origin,
        progress.rows,
        emitted,
        drafts,
        excluded_rows,
        ", ".join(sorted(excluded)) or "none",
    )


# --- files ----------------------------------------------------------------------------------


def header_of(fieldnames: Iterable[str] | None, origin: str) -> list[str]:
    """Header names as today's (upper case, trimmed), or an error naming what is missing."""
    names = [" ".join((name or "").split()).upper() for name in fieldnames or []]
    if "CONVERSATION ID" not in names and not set(names) >= LEGACY_COLUMNS:
        msg = (
            f"linkedin_export: {origin} has no CONVERSATION ID column (nor 2018's From, To, "
            "Date, Content) - check `export_path`"
        )
        raise ProviderError(msg)
    return names


@contextmanager
def opened(path: Path, member: str | None) -> Iterator[IO[bytes]]:
    """The bytes of a CSV file, or of one ZIP member read in place (never extracted)."""
    if member is None:
        with path.open("rb") as file:
            yield file
        return
    with zipfile.ZipFile(path) as archive, archive.open(member) as file:
        yield file


def encoding_of(path: Path, member: str | None, origin: str) -> str:
    """The first of `ENCODINGS` the whole file decodes in, found before any row is read:
    a file that turned out not to be UTF-8 half-way would otherwise give its first rows
    twice. One pass of bytes, a megabyte at a time (about a second per 200 MB)."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with opened(path, member) as raw:
                while chunk := raw.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    msg = f"linkedin_export: {origin} is not text in a known encoding - check `export_path`"
    raise ProviderError(msg)


def csv_rows(path: Path, member: str | None, encoding: str) -> Iterator[dict[str, str]]:
    """The rows of one inbox file, in its encoding, header names normalised.

    The CSV grammar is read strictly: a file that ends inside a quoted cell (a download
    cut off) or a quote no cell can close is damaged, and nothing of it is read. Read
    leniently, the last message came out with its text cut, under an id built from that
    text, and the whole archive, downloaded again, added a second copy.
    """
    origin = f"{path}:{member}" if member else str(path)
    with opened(path, member) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding=encoding, newline=""), strict=True)
        rows = 0
        try:
            header = next(reader, None)
            if header is None:
                return  # 0 bytes, or blank lines only
            names = header_of(header, origin)
            width = len(names)
            # A column with no name (a trailing comma in the header) is left out.
            unnamed = "" in names
            for values in reader:
                if not any(values):
                    continue  # a blank line
                rows += 1
                if len(values) < width:
                    values += [""] * (width - len(values))
                row = dict(zip(names, values, strict=False))
                if unnamed:
                    row.pop("", None)
                yield row
        except csv.Error as error:
            raise damaged(origin, rows + 1, error) from None


def damaged(origin: str, number: int, error: csv.Error) -> ProviderError:
    """The one line for a file the CSV grammar cannot read to its end."""
    what = (
        "is cut off inside a quoted cell (a download that did not finish?)"
        if "unexpected end of data" in str(error)
        else f"is damaged ({error})"
    )
    msg = (
        f"linkedin_export: {origin} row {number} {what}; nothing of the export is read - "
        "download it again (check `export_path`)"
    )
    return ProviderError(msg)


def is_inbox_file(name: str) -> bool:
    """`messages.csv` (any case; 2018 archives say `Messages.csv`), not a look-alike."""
    return PurePosixPath(name).name.lower() == MESSAGES_CSV


def is_look_alike(name: str) -> bool:
    """A file with the inbox's columns that is not the inbox: `guide_messages.csv`,
    `learning_role_play_messages.csv` (LinkedIn's coaching chats), and the like."""
    base = PurePosixPath(name).name.lower()
    return base.endswith(MESSAGES_CSV) and base != MESSAGES_CSV


def skip_look_alikes(names: list[str], origin: str) -> list[str]:
    """The look-alikes among `names`, each named in a warning: they are not read."""
    look_alikes = sorted(name for name in names if is_look_alike(name))
    if look_alikes:
        LOGGER.warning(
            "linkedin_export: %s: skipping %s (not the inbox: only messages.csv is read)",
            origin,
            ", ".join(look_alikes),
        )
    return look_alikes


def inbox_entry(names: list[str], origin: str) -> list[str]:
    """The archive's inbox files among its entries: at its root or in its top folder
    (every one: a message in two is one record). Deeper ones are named in a warning.

    Look-alikes are skipped with a warning naming them, so nobody wonders where their
    coaching chats went; no inbox file at all is an error naming what was there instead.
    """
    look_alikes = skip_look_alikes(names, origin)
    inboxes = sorted(
        (name for name in names if is_inbox_file(name) and name.strip("/").count("/") <= 1),
        key=lambda name: (name.count("/"), name),
    )
    deeper = sorted(n for n in names if is_inbox_file(n) and n.strip("/").count("/") > 1)
    if deeper:
        LOGGER.warning(
            "linkedin_export: %s: skipping %s (deeper than the archive's top folder: only "
            "the inbox at its root or in its top folder is read)",
            origin,
            ", ".join(deeper),
        )
    if not inboxes:
        found = f" (only {', '.join(look_alikes + deeper)})" if look_alikes or deeper else ""
        msg = (
            f"linkedin_export: {origin} holds no {MESSAGES_CSV} at its root or in its top "
            f"folder{found} - check `export_path` (an archive requested with Messages ticked)"
        )
        raise ProviderError(msg)
    return inboxes


def archive_files(path: Path) -> list[Path]:
    """The archives `export_path` names, oldest first.

    One ZIP or CSV, or a folder of them: its ZIPs, its CSVs (look-alikes skipped), and the
    `messages.csv` of archives extracted into sub-folders. A folder that holds a
    `messages.csv` itself is an extracted archive: of its CSVs only that one is the inbox
    (`Connections.csv`, `Profile.csv`, ... are the archive's other files).
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        msg = f"linkedin_export: {path} does not exist - check the `export_path` setting"
        raise ProviderError(msg)
    entries = [p for p in path.iterdir() if p.is_file()]
    entries += [p for sub in path.iterdir() if sub.is_dir() for p in sub.iterdir() if p.is_file()]
    relative = {str(p.relative_to(path).as_posix()): p for p in entries}
    skip_look_alikes(list(relative), str(path))
    extracted = any(p.parent == path and is_inbox_file(name) for name, p in relative.items())

    def is_archive(name: str, p: Path) -> bool:
        if p.parent != path:
            return is_inbox_file(name)
        if p.suffix.lower() == ".zip":
            return True
        if p.suffix.lower() != ".csv" or is_look_alike(name):
            return False
        return is_inbox_file(name) or not extracted

    found = [p for name, p in relative.items() if is_archive(name, p)]
    if not found:
        msg = (
            f"linkedin_export: {path} holds no export archive (no .zip, no {MESSAGES_CSV}) - "
            "check the `export_path` setting"
        )
        raise ProviderError(msg)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def size_of(path: Path, member: str | None) -> int:
    """A file's size in bytes, or a ZIP member's (uncompressed)."""
    if member is None:
        return path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(member).file_size


def inbox_files(path: Path) -> list[tuple[Path, str | None]]:
    """Each archive's inbox file: a CSV itself, or the ZIP member that is the inbox."""
    files: list[tuple[Path, str | None]] = []
    for archive in archive_files(path):
        if archive.suffix.lower() != ".zip":
            files.append((archive, None))
            continue
        try:
            with zipfile.ZipFile(archive) as opened_zip:
                names = opened_zip.namelist()
            files.extend((archive, member) for member in inbox_entry(names, str(archive)))
        except zipfile.BadZipFile:
            msg = f"linkedin_export: {archive} is not a readable ZIP archive - check `export_path`"
            raise ProviderError(msg) from None
    return files


class LinkedInExportSource(MessageListing):
    """`provider: linkedin_export`: the member's own archive, no credentials, no network."""

    name = "linkedin_export"
    title = "`linkedin_export` (LinkedIn's own data-export archive, read offline)"
    message_ids = MESSAGE_IDS
    message_ids_changed = MESSAGE_IDS_CHANGED
    required_settings = ("export_path",)
    supported_categories: ClassVar[tuple[str, ...]] = ("INBOX",)
    settings = th.PropertiesList(
        th.Property(
            "export_path",
            th.StringType(min_length=1),
            title="Export path",
            description=(
                "`linkedin_export` only: LinkedIn's data-export ZIP, its `messages.csv`, or "
                "a folder of successive archives (a newer archive adds only what is new)."
            ),
        ),
        th.Property(
            "exclude_folders",
            th.ArrayType(th.StringType(allowed_values=sorted(set(FOLDERS.values())))),
            default=["SPAM"],
            title="Exclude folders",
            description=(
                "`linkedin_export` and `linkedin_dma`: LinkedIn folders (INBOX, ARCHIVE, SPAM) "
                "whose conversations are not read, messages included. Default: SPAM; `[]` "
                "reads every folder. Each conversation's `folder` says where it was."
            ),
        ),
    )

    @contextmanager
    def read_messages(self, walk: Walk, position: Position | None) -> Iterator[Listed]:
        """Every message of every archive (a message in several archives is one record):
        the archives are read whole, and what earlier runs did not emit is told
        conversation by conversation (`tap_linkedin_messages.emitted`), so no position."""
        export_path = Path(str(self.config["export_path"])).expanduser()
        files, empty = [], []
        # Each file's encoding once; a file with no rows is named and left out (in a
        # warning, or in the error where no file has any).
        for path, member in inbox_files(export_path):
            origin = f"{path}:{member}" if member else str(path)
            encoding = encoding_of(path, member, origin)
            if next(csv_rows(path, member, encoding), None) is None:
                size = size_of(path, member)
                empty.append(f"{origin} {'is empty' if size == 0 else 'holds only a header'}")
                continue
            files.append((path, member, encoding))
        if not files:
            msg = (
                f"linkedin_export: {export_path} holds no messages ({'; '.join(empty)}) - "
                "check the `export_path` setting"
            )
            raise ProviderError(msg)
        for line in empty:
            LOGGER.warning("linkedin_export: %s; skipped", line)
        rows = itertools.chain.from_iterable(
            csv_rows(path, member, encoding) for path, member, encoding in files
        )
        origin = "linkedin_export: message"
        with People(origin) as people:
            made = produced_in_child(partial(row_records, rows), origin)
            read = rows_to_records(made, origin, excluded_folders(self.config), people)
            yield Listed(read, people)
