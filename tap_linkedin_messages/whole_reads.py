"""What reads of a whole source share (the data export, the portability API's snapshot):
settling what only the whole read tells, one clock for a long read's progress, and the
scratch databases and cursors that keep memory flat at any size
(`tap_linkedin_messages.message_index` is their main user)."""

from __future__ import annotations

import array
import itertools
import logging
import os
import sqlite3
import tempfile
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence

    from tap_linkedin_messages.records import Record


LOGGER = logging.getLogger(__name__)
#: Rows read from the database at once.
AHEAD_ROWS = 500
#: Seconds between two progress lines of a long read.
PROGRESS_EVERY_SECONDS = 10.0
#: Rows between two looks at the clock (cheap on the hot path).
PROGRESS_ROWS = 1000
# A scratch file: nothing to recover after a crash, so no journal and no syncs; sorts
# spill to disk, and the page cache is 2 MB.
PRAGMAS = (
    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
    "PRAGMA temp_store = FILE; PRAGMA cache_size = -2000;"
)


# --- what only the whole read tells ---------------------------------------------------------

#: (name, profile URL) of someone a row names.
Person = tuple[str | None, str | None]


class Settle:
    """What a source can tell only once every row is read (who the member is, the URL
    some other row gives a name), applied as the index reads its messages back: a
    listed message says who sent it and whom its row names, as the row does. By
    default, nothing is settled."""

    def is_me(self, name: str | None, profile_url: str | None) -> bool | None:
        """Whether the member sent a message its row does not say the sender of."""
        return None

    def sender_of(self, message: Record) -> Record:
        """`message`, its sender's `is_me` settled where its row could not tell."""
        sender = message["sender"]
        if sender is not None and sender["is_me"] is None:
            sender["is_me"] = self.is_me(sender["name"], sender["profile_url"])
        return message

    def others(self, people: Iterable[Person]) -> Iterable[Person]:
        """The people a conversation's rows name, as its participants: the member left
        out, each with the profile URL the read gives them."""
        return people


NOTHING_TO_SETTLE = Settle()


# --- progress ---------------------------------------------------------------------------


class Progress:
    """How far one long read got, said every ~`every()` seconds on one clock for the whole
    read, whichever stage it is in; a read over before the first line is due says nothing.

    A stage counts its own rows; what a line says of them is the stage's `status`.
    """

    def __init__(self, origin: str, logger: logging.Logger = LOGGER) -> None:
        self.origin, self.logger = origin, logger
        self.stage = ""
        self.rows = 0
        self._status: Callable[[int], str] = lambda rows: f"{rows} rows read"
        self._started = self._said = time.monotonic()

    def begin(self, stage: str, status: Callable[[int], str]) -> None:
        """A new stage: its rows are counted from 0, the clock goes on."""
        self.stage, self._status, self.rows = stage, status, 0

    def tick(self) -> None:
        """One more row of the stage."""
        self.rows += 1
        if (
            self.rows % PROGRESS_ROWS == 0
            and (now := time.monotonic()) - self._said >= PROGRESS_EVERY_SECONDS
        ):
            self._said = now
            self.logger.info(
                "%s: %s: %s, %.0f s",
                self.origin,
                self.stage,
                self._status(self.rows),
                now - self._started,
            )


# --- scratch files ------------------------------------------------------------------------


class Seen:
    """What was met lately, as a fixed table of 64-bit hashes (the same memory whatever
    the read's size): a row or a fact a recent one already wrote is not written again.

    Only hashes are kept, so two different keys with the same 64-bit hash (odds of about
    2**-64 a look-up: Python's string hash is a keyed SipHash) would be taken as one.
    """

    def __init__(self, slots: int = 1 << 16) -> None:
        self._hashes = array.array("q", bytes(8 * slots))
        self._mask = slots - 1

    def first(self, key: Hashable) -> bool:
        """Whether `key` was not met lately (it now is)."""
        digest = hash(key) or 1  # 0 is an empty slot
        slot = digest & self._mask
        if self._hashes[slot] == digest:
            return False
        self._hashes[slot] = digest
        return True


class ScratchDatabase:
    """A temporary SQLite database under the system temp dir, removed when closed, in
    one open transaction (nobody else reads it)."""

    def __init__(self, label: str, schema: str, logger: logging.Logger = LOGGER) -> None:
        self.label = label
        self.logger = logger
        handle, self.path = tempfile.mkstemp(prefix="tap-linkedin-messages-", suffix=".sqlite")
        os.close(handle)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.executescript(PRAGMAS)
            self.db.executescript(schema)
            self.db.execute("BEGIN")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ScratchDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def size_mb(self) -> float:
        return os.path.getsize(self.path) / 1e6

    def close(self) -> None:
        """Remove the file, whatever state the read is in."""
        if hasattr(self, "db"):
            self.db.close()
        try:
            size = os.path.getsize(self.path)
            os.unlink(self.path)
        except OSError:
            return
        self.logger.debug("%s: removed %s (%.1f MB)", self.label, self.path, size / 1e6)


def fetched(cursor: sqlite3.Cursor) -> Iterator[tuple[Any, ...]]:
    """A cursor's rows, `AHEAD_ROWS` at a time: SQLite steps through a batch in one go
    rather than between the work on each row (a third of the time it takes)."""
    return itertools.chain.from_iterable(iter(lambda: cursor.fetchmany(AHEAD_ROWS), []))


class Ahead:
    """Rows read one ahead, taken in runs: the rows of one rank (their first value), or
    of one rank and time (their first two)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self._rows: Iterator[Sequence[Any]] = iter(rows)
        self.head: Sequence[Any] | None = next(self._rows, None)

    def of_rank(self, rank: int) -> Iterator[Sequence[Any]]:
        """The rows from here of `rank`, each taken as it is read."""
        rows = self._rows
        while (row := self.head) is not None and row[0] == rank:
            self.head = next(rows, None)
            yield row

    def of_rank_and_time(self, rank: int, time: str) -> list[Sequence[Any]]:
        """The rows from here of `rank` and `time`."""
        rows, taken = self._rows, []
        while (row := self.head) is not None and row[0] == rank and row[1] == time:
            self.head = next(rows, None)
            taken.append(row)
        return taken

    def skip(self, rank: int) -> None:
        """Past the rows from here of `rank`."""
        for _ in self.of_rank(rank):
            pass
