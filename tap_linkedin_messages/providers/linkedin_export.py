"""LinkedIn's own data export ("Get a copy of your data"): `messages.csv`, offline.

The archive is a ZIP whose `messages.csv` has the columns `CONVERSATION ID, CONVERSATION
TITLE, FROM, SENDER PROFILE URL, TO, RECIPIENT PROFILE URLS, DATE, SUBJECT, CONTENT,
FOLDER` (newer archives add `ATTACHMENTS` and draft flags; older ones stop earlier, so
missing trailing columns are fine). `DATE` is `YYYY-MM-DD HH:MM:SS UTC`.
`CONVERSATION ID` is LinkedIn's `2-...` thread id, the one every API carries too.

The file has no message id: one is made from the thread, time, sender and content, so a
newer archive yields the same id for the same message and a target updates nothing twice.
The file does not mark the member's own messages either: the member is the one person in
every conversation, which is how `is_me` is told (and left null where it cannot be).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from tap_linkedin_messages.normalize import datetime_to_rfc3339, profile_key
from tap_linkedin_messages.providers.base import FileSource, ProviderError, Record

if TYPE_CHECKING:
    from collections.abc import Iterator

MESSAGES_CSV = "messages.csv"
LOGGER = logging.getLogger(__name__)
# Exports seen in the wild: UTF-8 with or without a BOM, and the odd Windows-1252 file.
ENCODINGS = ("utf-8-sig", "cp1252")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z")


def parse_export_date(value: str) -> str | None:
    """`2026-01-01 10:00:00 UTC` (or close variants) as our RFC 3339 UTC string."""
    text = value.strip()
    for date_format in DATE_FORMATS:
        try:
            moment = datetime.strptime(text, date_format)  # noqa: DTZ007 - UTC, set below
        except ValueError:
            continue
        return datetime_to_rfc3339(moment.replace(tzinfo=moment.tzinfo or timezone.utc))
    return None


def split_list(cell: str | None) -> list[str]:
    """A comma-separated cell (`TO`, `RECIPIENT PROFILE URLS`) as its non-empty items."""
    return [item.strip() for item in (cell or "").split(",") if item.strip()]


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


def people_of(row: dict[str, str]) -> list[tuple[str | None, str | None]]:
    """(name, profile URL) of the sender and every recipient of one row."""
    people: list[tuple[str | None, str | None]] = [
        (row.get("FROM") or None, row.get("SENDER PROFILE URL") or None)
    ]
    names, urls = split_list(row.get("TO")), split_list(row.get("RECIPIENT PROFILE URLS"))
    if len(names) == len(urls):
        people += list(zip(names, urls, strict=True))
    elif urls:  # names and URLs cannot be paired: keep the URLs, which identify people
        people += [(None, url) for url in urls]
    else:
        people += [(name, None) for name in names]
    return people


class People:
    """Who is who across rows: a name seen with a profile URL anywhere means that URL.

    The member's own rows often have no `SENDER PROFILE URL`, while the same member
    appears with a URL among the recipients of everyone else's rows.
    """

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.urls: dict[str, str] = {}
        for row in rows:
            for name, url in people_of(row):
                if name and url:
                    self.urls.setdefault(name.strip().lower(), url)

    def key(self, name: str | None, url: str | None) -> str | None:
        """One key per person, whichever of name and URL a row gives."""
        if not url and name:
            url = self.urls.get(name.strip().lower())
        return profile_key(url) or (name.strip().lower() if name else None)


def find_member(rows: list[dict[str, str]], people: People) -> str | None:
    """The member who exported: the one person in every conversation (None if unclear).

    Where several people are in every conversation, the member is the one whose own rows
    lack a `SENDER PROFILE URL`, as LinkedIn writes them.
    """
    conversations: dict[str, set[str]] = {}
    for row in rows:
        keys = {people.key(name, url) for name, url in people_of(row)}
        conversations.setdefault(row.get("CONVERSATION ID", ""), set()).update(
            key for key in keys if key
        )
    if len(conversations) < 2:
        return None
    everywhere = set.intersection(*conversations.values())
    if len(everywhere) > 1:
        urlless_senders = {
            people.key(row.get("FROM"), None)
            for row in rows
            if row.get("FROM") and not row.get("SENDER PROFILE URL")
        }
        everywhere &= urlless_senders
    return everywhere.pop() if len(everywhere) == 1 else None


def message_record(row: dict[str, str], people: People, member: str | None) -> Record | None:
    """One CSV row as our message record with its `conversation` entry (None: no date)."""
    sent_at = parse_export_date(row.get("DATE") or "")
    thread_id = (row.get("CONVERSATION ID") or "").strip()
    if not sent_at or not thread_id:
        return None
    sender = people.key(row.get("FROM"), row.get("SENDER PROFILE URL"))
    others = [
        {"name": name, "profile_url": url}
        for name, url in people_of(row)
        if member is None or people.key(name, url) != member
    ]
    return {
        "message_id": synthesized_message_id(row),
        "conversation_id": thread_id,
        "thread_id": thread_id,
        "sent_at": sent_at,
        "text": row.get("CONTENT") or None,
        "subject": row.get("SUBJECT") or None,
        "message_type": "TEXT",
        "sender": {
            "name": row.get("FROM") or None,
            "first_name": None,
            "last_name": None,
            "profile_url": row.get("SENDER PROFILE URL") or None,
            "is_me": None if member is None or sender is None else sender == member,
        },
        "conversation": {
            "title": row.get("CONVERSATION TITLE") or None,
            "category": row.get("FOLDER") or None,
            "participants": others,
        },
    }


def read_csv_text(raw: bytes, origin: str) -> list[dict[str, str]]:
    """Rows of one `messages.csv`, whatever its encoding, with normalised header names."""
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        reader = csv.DictReader(io.StringIO(text, newline=""))
        reader.fieldnames = [(name or "").strip().upper() for name in reader.fieldnames or []]
        if "CONVERSATION ID" not in reader.fieldnames:
            msg = f"linkedin_export: {origin} has no CONVERSATION ID column - check `export_path`"
            raise ProviderError(msg)
        return [{k: (v or "") for k, v in row.items() if k} for row in reader]
    msg = f"linkedin_export: {origin} is not text in a known encoding - check `export_path`"
    raise ProviderError(msg)


def is_inbox_file(name: str) -> bool:
    """`messages.csv` (any case; 2018 archives say `Messages.csv`), not a look-alike."""
    return PurePosixPath(name).name.lower() == MESSAGES_CSV


def is_look_alike(name: str) -> bool:
    """A file with the inbox's columns that is not the inbox: `guide_messages.csv`,
    `learning_role_play_messages.csv` (LinkedIn's coaching chats), and the like."""
    base = PurePosixPath(name).name.lower()
    return base.endswith(MESSAGES_CSV) and base != MESSAGES_CSV


def inbox_entries(names: list[str], origin: str) -> str:
    """The archive's inbox file among its entries: at its root or in its top folder.

    Look-alikes are skipped with a warning naming them, so nobody wonders where their
    coaching chats went; no inbox file at all is an error naming what was there instead.
    """
    look_alikes = sorted(name for name in names if is_look_alike(name))
    if look_alikes:
        LOGGER.warning(
            "linkedin_export: %s: skipping %s (not the inbox: only messages.csv is read)",
            origin,
            ", ".join(look_alikes),
        )
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
    `messages.csv` of archives extracted into sub-folders.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        msg = f"linkedin_export: {path} does not exist - check the `export_path` setting"
        raise ProviderError(msg)
    entries = [p for p in path.iterdir() if p.is_file()]
    entries += [p for sub in path.iterdir() if sub.is_dir() for p in sub.iterdir() if p.is_file()]
    relative = {str(p.relative_to(path).as_posix()): p for p in entries}
    look_alikes = sorted(name for name in relative if is_look_alike(name))
    if look_alikes:
        LOGGER.warning(
            "linkedin_export: %s: skipping %s (not the inbox: only messages.csv is read)",
            path,
            ", ".join(look_alikes),
        )
    found = [
        p
        for name, p in relative.items()
        if (p.parent == path and p.suffix.lower() in (".zip", ".csv") and not is_look_alike(name))
        or (p.parent != path and is_inbox_file(name))
    ]
    if not found:
        msg = (
            f"linkedin_export: {path} holds no export archive (no .zip, no {MESSAGES_CSV}) - "
            "check the `export_path` setting"
        )
        raise ProviderError(msg)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def read_archive(path: Path) -> list[dict[str, str]]:
    """The inbox rows of one ZIP (its `messages.csv`) or one CSV file."""
    if path.suffix.lower() != ".zip":
        return read_csv_text(path.read_bytes(), str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            name = inbox_entries(archive.namelist(), str(path))
            return read_csv_text(archive.read(name), f"{path}:{name}")
    except zipfile.BadZipFile:
        msg = f"linkedin_export: {path} is not a readable ZIP archive - check `export_path`"
        raise ProviderError(msg) from None


class LinkedInExportSource(FileSource):
    """`provider: linkedin_export`: the member's own archive, no credentials, no network."""

    name = "linkedin_export"
    required_settings = ("export_path",)
    # The archive holds every folder; the FOLDER column becomes each record's category.
    supported_categories: ClassVar[tuple[str, ...]] = ("INBOX",)

    def read_messages(self) -> Iterator[Record]:
        """Every message of every archive; a message in several archives comes out once."""
        rows: list[dict[str, Any]] = []
        export_path = Path(str(self.config["export_path"])).expanduser()
        for archive in archive_files(export_path):
            rows += read_archive(archive)
        if not rows:
            msg = (
                f"linkedin_export: {export_path} holds no messages (an empty messages.csv) - "
                "check the `export_path` setting"
            )
            raise ProviderError(msg)
        people = People(rows)
        member = find_member(rows, people)
        seen: set[str] = set()
        for number, row in enumerate(rows, start=1):
            record = message_record(row, people, member)
            if record is None:
                msg = (
                    f"linkedin_export: message row {number} has no readable CONVERSATION ID "
                    f"or DATE ({row.get('DATE')!r}); a target could not key it, so the run stops"
                )
                raise ProviderError(msg)
            if record["message_id"] in seen:
                continue
            seen.add(record["message_id"])
            yield record
