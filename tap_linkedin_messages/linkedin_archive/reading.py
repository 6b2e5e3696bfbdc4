"""An archive's rows to records: each row as far as it tells (in a child process where
one can be forked), then the member found once every row is read
(`tap_linkedin_messages.linkedin_archive`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.linkedin_archive.layouts import (
    RowRecord,
    is_draft,
    message_record,
    normalised,
)
from tap_linkedin_messages.linkedin_archive.people import LEARNED_FROM, People
from tap_linkedin_messages.records import Record
from tap_linkedin_messages.whole_reads import Progress

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

LOGGER = logging.getLogger(__name__)


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


def progress_of(origin: str) -> Progress:
    """The progress of an archive's read, from its first row to the index's last record
    (`Listed.progress`)."""
    return Progress(origin, LOGGER)


def rows_to_records(
    rows: Iterable[tuple[dict[str, str], RowRecord]],
    origin: str,
    exclude_folders: Iterable[str],
    people: People,
    progress: Progress,
) -> Iterator[Record]:
    """Every row's record (`row_records`), `people` learning who is who as it goes (the
    records' senders and participants are settled from it once every row is read).

    Drafts are left out, and so are conversations in `exclude_folders`. A row no target
    could key (no date, no conversation) stops the run. `progress` is the read's
    (`progress_of`): one clock from the first row to the last record.
    """
    excluded = set(exclude_folders)
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
