"""A row of any layout of `messages.csv` (2018 to today) as today's names, and as our
message record as far as the row alone tells (`tap_linkedin_messages.linkedin_archive`)."""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import (
    datetime_to_rfc3339,
    name_key,
    thread_id_from_urn,
)
from tap_linkedin_messages.records import Record

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

LOGGER = logging.getLogger(__name__)
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
