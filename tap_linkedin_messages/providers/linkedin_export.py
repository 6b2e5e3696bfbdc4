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

Rows are read twice, streamed from the ZIP (never extracted): once to find the member
and who is who, once to build the records. Memory stays flat whatever the archive's size.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
import sys
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, ClassVar

from singer_sdk import typing as th

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import (
    datetime_to_rfc3339,
    name_key,
    profile_key,
    thread_id_from_urn,
)
from tap_linkedin_messages.providers.base import MessageListing, ProviderError
from tap_linkedin_messages.records import Record

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

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
# Folders as LinkedIn names them today; 2018 said ARCHIVED, and SENT for the member's rows
# (a message's state, not its conversation's folder).
FOLDERS = {"INBOX": "INBOX", "ARCHIVE": "ARCHIVE", "ARCHIVED": "ARCHIVE", "SPAM": "SPAM"}
YES = {"yes", "true", "1", "y"}
# Group chats join names with a bare comma; a comma and a space is inside one name.
GROUP_JOIN = re.compile(r",(?! )")
# Several attachments would be comma-joined URLs [inferred: only single ones were seen].
ATTACHMENT_SPLIT = re.compile(r",\s*(?=https?://)")
SPONSORED_TITLE = "Sponsored Conversation"
# Rows between two progress lines are counted in thousands: cheap on the hot path.
PROGRESS_EVERY_SECONDS = 10.0

csv.field_size_limit(sys.maxsize)  # a long message is one field


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
    """`FOLDER` as today's names (INBOX, ARCHIVE, SPAM); SENT and empty say nothing."""
    return FOLDERS.get((value or "").strip().upper())


def attachments_of(cell: str | None) -> list[Record] | None:
    """`ATTACHMENTS`: expiring links to each file; the export gives nothing else about
    them. None where the archive has no such column."""
    if cell is None:
        return None
    return [
        records.attachment(url=url.strip()) for url in ATTACHMENT_SPLIT.split(cell) if url.strip()
    ]


def synthesized_message_id(row: dict[str, str]) -> str:
    """Stable across re-exports: thread, time, sender and content, hashed."""
    parts = [
        row.get("CONVERSATION ID", ""),
        row.get("DATE", ""),
        profile_key(row.get("SENDER PROFILE URL")) or row.get("FROM", ""),
        row.get("CONTENT", ""),
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
    """A draft, never sent: not a message anyone received."""
    message, conversation = row.get("IS MESSAGE DRAFT"), row.get("IS CONVERSATION DRAFT")
    return bool(
        (message and message.strip().lower() in YES)
        or (conversation and conversation.strip().lower() in YES)
    )


# --- who is who -----------------------------------------------------------------------------


@dataclass(eq=False)
class Conversation:
    """What the first pass keeps of one conversation: who is in it."""

    #: People a profile URL names (senders, and recipients where the row lists URLs).
    url_keys: set[str] = field(default_factory=set)
    #: Senders without a URL, by name.
    names: set[str] = field(default_factory=set)
    #: `TO` cells of rows that list no recipient URL (2021's layout): whom they name is
    #: only known once the member is a candidate.
    to_cells: set[str] = field(default_factory=set)


class People:
    """Who is who across the archive, gathered in a first pass over its rows.

    A person is keyed by profile URL where any row gives one for their name (the member's
    own rows may lack `SENDER PROFILE URL`, while others' rows list them among the
    recipients), else by name. The member is the one person in every conversation.
    """

    def __init__(self) -> None:
        self.url_of_name: dict[str, str] = {}
        self.name_of_key: dict[str, str] = {}
        self.conversations: dict[str, Conversation] = {}
        self.urlless_senders: set[str] = set()
        self.member: str | None = None
        self.outgoing_known = False

    def learn(self, row: dict[str, str]) -> None:
        """The first pass: names and URLs that go together, and who is in which thread."""
        conversation = self.conversations.get(row["CONVERSATION ID"])
        if conversation is None:
            conversation = self.conversations[row["CONVERSATION ID"]] = Conversation()
        sender, url = row.get("FROM") or "", row.get("SENDER PROFILE URL") or ""
        if url:
            conversation.url_keys.add(self._pair(sender, url))
        elif sender:
            name = name_key(sender)
            conversation.names.add(name)
            self.urlless_senders.add(name)
        if row.get("RECIPIENT PROFILE URLS"):
            for recipient, recipient_url in recipient_pairs(row):
                if recipient_url:
                    conversation.url_keys.add(self._pair(recipient, recipient_url))
        elif row.get("TO"):
            conversation.to_cells.add(name_key(row["TO"]))
        if "DIRECTION" in row:
            self.outgoing_known = True

    def _pair(self, name: str | None, url: str) -> str:
        """Remember that a name goes with a URL; the person's key."""
        key = profile_key(url) or ""
        if name:
            self.url_of_name.setdefault(name_key(name), url)
            self.name_of_key.setdefault(key, name)
        return key

    def key(self, name: str | None, url: str | None) -> str | None:
        """One key per person, whichever of name and URL a row gives."""
        if not url and name:
            url = self.url_of_name.get(name_key(name))
        return profile_key(url) or (name_key(name) if name else None)

    def find_member(self) -> str | None:
        """The member who exported: the one person in every conversation (None if unclear).

        A person is in a conversation as a sender, as a listed recipient, or (in archives
        without recipient URLs) by name in a `TO` cell. Where several people are in every
        conversation, the member is the one whose own rows lack a `SENDER PROFILE URL`, as
        some archives write them.
        """
        if len(self.conversations) < 2:
            return None
        known = [
            (c.url_keys | {self.key(n, None) or n for n in c.names}, c.to_cells)
            for c in self.conversations.values()
        ]
        candidates: set[str] = set().union(*(keys for keys, _ in known))
        for keys, to_cells in sorted(known, key=lambda pair: len(pair[0]) + len(pair[1])):
            candidates &= keys | self._named_in(to_cells, candidates)
            if not candidates:
                return None
        if len(candidates) > 1:
            candidates &= {self.key(name, None) for name in self.urlless_senders}
        return candidates.pop() if len(candidates) == 1 else None

    def _named_in(self, cells: set[str], candidates: set[str]) -> set[str]:
        """Candidates whose name a `TO` cell holds, whole or among bare-comma-joined names."""
        if not cells:
            return set()
        named = {part for cell in cells for part in (cell, *map(name_key, split_names(cell)))}
        return {c for c in candidates if name_key(self.name_of_key.get(c, c)) in named}


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
    return [(name, None) for name in names]


# --- rows to records ------------------------------------------------------------------------


def message_record(row: dict[str, str], people: People) -> Record | None:
    """One row (in today's names) as our message record with its `conversation` entry.

    None: no readable date or conversation.
    """
    sent_at = parse_export_date(row.get("DATE") or "")
    conversation_id = (row.get("CONVERSATION ID") or "").strip()
    if not sent_at or not conversation_id:
        return None
    member = people.member
    name, url = row.get("FROM") or None, row.get("SENDER PROFILE URL") or None
    sender_key = people.key(name, url)
    outgoing = is_outgoing(row)
    is_me = (
        outgoing
        if outgoing is not None
        else (None if member is None or sender_key is None else sender_key == member)
    )
    if outgoing is not None:
        # 2018: the conversation is with the other party, whichever way the row went.
        other = row.get("TO") if outgoing else row.get("FROM")
        people_in_row: list[tuple[str | None, str | None]] = [
            (person, None) for person in split_names(other)
        ]
    else:
        people_in_row = [(name, url), *recipient_pairs(row)]
    others = [
        records.participant(name=person, profile_url=person_url)
        for person, person_url in people_in_row
        if (person or person_url) and (member is None or people.key(person, person_url) != member)
    ]
    title = row.get("CONVERSATION TITLE") or None
    message = records.message(
        message_id=synthesized_message_id(row),
        sent_at=sent_at,
        text=row.get("CONTENT") or None,
        subject=row.get("SUBJECT") or None,
        # A row with no sender at all is LinkedIn's own ("Message request accepted").
        message_type="TEXT" if name else "SYSTEM",
        sender=records.sender(name=name, profile_url=url, is_me=is_me) if name else None,
        attachments=attachments_of(row.get("ATTACHMENTS")),
    )
    thread_id = thread_id_from_urn(conversation_id)
    return records.listed(
        message,
        conversation_id=conversation_id,
        thread_id=thread_id,
        title=title,
        folder=folder_of(row.get("FOLDER")),
        type="Sponsored" if title == SPONSORED_TITLE else None,
        participants=others,
    )


def excluded_folders(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The `exclude_folders` setting (SPAM where it is not set)."""
    value = config.get("exclude_folders")
    return tuple(value) if value is not None else ("SPAM",)


class RowsRead:
    """Counts rows and conversations, and says so every ~10 s of a long read."""

    def __init__(self, origin: str, stage: str) -> None:
        self.origin, self.stage = origin, stage
        self.rows = 0
        self._started = self._said = time.monotonic()

    def tick(self, conversations: int) -> None:
        self.rows += 1
        if (
            self.rows % 1000 == 0
            and (now := time.monotonic()) - self._said >= PROGRESS_EVERY_SECONDS
        ):
            self._said = now
            LOGGER.info(
                "%s: %s: %d rows read, %d conversations found, %.0f s",
                self.origin,
                self.stage,
                self.rows,
                conversations,
                now - self._started,
            )


def rows_to_records(
    rows: Callable[[], Iterable[dict[str, str]]], origin: str, exclude_folders: Iterable[str] = ()
) -> Iterator[Record]:
    """Every row as our record, read in two passes of `rows()` (who is who, then records).

    Drafts are left out, and so are conversations in `exclude_folders`. A row no target
    could key (no date, no conversation) stops the run.
    """
    people = People()
    excluded = set(exclude_folders)
    progress = RowsRead(origin, "finding the member")
    for raw in rows():
        row = normalised(raw)
        if not is_draft(row):
            people.learn(row)
        progress.tick(len(people.conversations))
    people.member = None if people.outgoing_known else people.find_member()
    progress = RowsRead(origin, "reading messages")
    for number, raw in enumerate(rows(), start=1):
        row = normalised(raw)
        progress.tick(len(people.conversations))
        if is_draft(row):
            continue
        record = message_record(row, people)
        if record is None:
            msg = (
                f"{origin} row {number} has no readable CONVERSATION ID or DATE "
                f"({row.get('DATE')!r}); a target could not key it, so the run stops"
            )
            raise ProviderError(msg)
        if record["conversation"]["folder"] in excluded:
            continue
        yield record


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


def csv_rows(path: Path, member: str | None) -> Iterator[dict[str, str]]:
    """The rows of one inbox file, whatever its encoding, header names normalised."""
    origin = f"{path}:{member}" if member else str(path)
    encoding = encoding_of(path, member, origin)
    with opened(path, member) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding=encoding, newline=""))
        names = header_of(next(reader, None), origin)
        width = len(names)
        for values in reader:
            if not any(values):
                continue  # a blank line
            if len(values) < width:
                values += [""] * (width - len(values))
            yield {name: value for name, value in zip(names, values, strict=False) if name}


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


def inbox_entry(names: list[str], origin: str) -> str:
    """The archive's inbox file among its entries: at its root or in its top folder.

    Look-alikes are skipped with a warning naming them, so nobody wonders where their
    coaching chats went; no inbox file at all is an error naming what was there instead.
    """
    look_alikes = skip_look_alikes(names, origin)
    inboxes = sorted(
        (name for name in names if is_inbox_file(name) and name.strip("/").count("/") <= 1),
        key=lambda name: (name.count("/"), name),
    )
    if not inboxes:
        found = f" (only {', '.join(look_alikes)})" if look_alikes else ""
        msg = (
            f"linkedin_export: {origin} holds no {MESSAGES_CSV} at its root or in its top "
            f"folder{found} - check `export_path` (an archive requested with Messages ticked)"
        )
        raise ProviderError(msg)
    return inboxes[0]


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


def inbox_files(path: Path) -> list[tuple[Path, str | None]]:
    """Each archive's inbox file: a CSV itself, or the ZIP member that is the inbox."""
    files: list[tuple[Path, str | None]] = []
    for archive in archive_files(path):
        if archive.suffix.lower() != ".zip":
            files.append((archive, None))
            continue
        try:
            with zipfile.ZipFile(archive) as opened_zip:
                files.append((archive, inbox_entry(opened_zip.namelist(), str(archive))))
        except zipfile.BadZipFile:
            msg = f"linkedin_export: {archive} is not a readable ZIP archive - check `export_path`"
            raise ProviderError(msg) from None
    return files


class LinkedInExportSource(MessageListing):
    """`provider: linkedin_export`: the member's own archive, no credentials, no network."""

    name = "linkedin_export"
    title = "`linkedin_export` (LinkedIn's own data-export archive, read offline)"
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

    def read_messages(self, walk: Walk, newer_than: datetime | None) -> Iterator[Record]:
        """Every message of every archive (a message in several archives is one record)."""
        export_path = Path(str(self.config["export_path"])).expanduser()
        files = inbox_files(export_path)

        def rows() -> Iterator[dict[str, Any]]:
            for path, member in files:
                yield from csv_rows(path, member)

        if next(iter(rows()), None) is None:
            msg = (
                f"linkedin_export: {export_path} holds no messages (an empty messages.csv) - "
                "check the `export_path` setting"
            )
            raise ProviderError(msg)
        return rows_to_records(rows, "linkedin_export: message", excluded_folders(self.config))
