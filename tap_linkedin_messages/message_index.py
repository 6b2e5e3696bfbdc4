"""Listed messages on disk, read back one conversation at a time: flat memory at any size.

A conversation record needs all of its messages (its newest, its participants), and a
source that lists messages (the data export, the portability API's snapshot) gives them
in no useful order: heavy members' archives hold a million messages in random
conversation order. Holding them until the last one arrives made memory grow with the
archive (about 4 GB at 1M messages); here each message is written to a temporary SQLite
database as it is read, and read back a conversation at a time, newest activity first.
Nothing is kept per conversation or per person in memory either (a recruiter's million
messages are 50,000 conversations): who is in which conversation is a table, and the
conversations' order is a query read with a cursor.

Why SQLite: it is in the standard library, its page cache is bounded (2 MB here), and
an index built once every message is in (a sort on disk, not a B-tree grown at random)
makes "one conversation, newest first" a range scan. A message successive archives
repeat has the same id in the same conversation, so it is dropped as its conversation is
read back, with a set no larger than one conversation. The file lives under the system
temp dir and is removed when the read ends, however it ends (success, an error, Ctrl-C;
only a SIGKILL leaves it behind); its size is logged.

Order is the one the in-memory grouping had: conversations by newest message, ties in
reverse order of first appearance; messages newest first, ties in order of appearance.

A long read says how far it got every ~10 s (`Progress`), on one clock from its first row
to its last record: the rows a source lists (its own stages: a snapshot's pages, each
pass over an archive), then the records read back from the index.
"""

from __future__ import annotations

import array
import logging
import os
import sqlite3
import tempfile
import threading
import time
from typing import IO, TYPE_CHECKING, Any

import msgspec

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import profile_key

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

    from tap_linkedin_messages.reads import Cutoff
    from tap_linkedin_messages.records import Record

LOGGER = logging.getLogger(__name__)
#: A message's fields, in the order `records.message` and `records.listed` build them
#: (a record comes back out exactly as it went in: the SDK writes keys in dict order).
FIELDS = (
    *records.message(message_id=None, sent_at=None),
    "conversation_id",
    "thread_id",
    "conversation",
)
#: What a row's body holds: the fields its columns do not (a list, not a map: no key is
#: written a million times).
BODY = tuple(name for name in FIELDS if name not in ("message_id", "sent_at", "conversation_id"))
#: Messages written to the database at once.
BATCH = 2000
#: Seconds between two progress lines of a long read.
PROGRESS_EVERY_SECONDS = 10.0
#: Rows between two looks at the clock (cheap on the hot path).
PROGRESS_ROWS = 1000

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

# A scratch file: nothing to recover after a crash, so no journal and no syncs; sorts
# spill to disk, and the page cache is 2 MB.
PRAGMAS = (
    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
    "PRAGMA temp_store = FILE; PRAGMA cache_size = -2000;"
)
SCHEMA = """
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    -- when the message last changed: sent, or edited or deleted since
    changed_at TEXT NOT NULL,
    folder TEXT,
    body BLOB NOT NULL
);
CREATE TABLE participants (
    seq INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT,
    profile_url TEXT,
    UNIQUE (conversation_id, key)
);
"""
# Built once every message is in: a conversation's messages are then one range scan.
INDEXES = "CREATE INDEX by_conversation ON messages (conversation_id, sent_at DESC, seq);"
ADD_MESSAGE = (
    "INSERT INTO messages (message_id, conversation_id, sent_at, changed_at, folder, body) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
# A person seen again keeps the first name and URL any of their rows gave.
ADD_PARTICIPANT = """
INSERT INTO participants (conversation_id, key, name, profile_url) VALUES (?, ?, ?, ?)
ON CONFLICT (conversation_id, key) DO UPDATE SET
    name = coalesce(participants.name, excluded.name),
    profile_url = coalesce(participants.profile_url, excluded.profile_url)
"""
# Read with a cursor, a row at a time (SQLite sorts on disk): never a list of them all.
CONVERSATIONS = """
SELECT conversation_id, max(changed_at) FROM messages GROUP BY conversation_id
ORDER BY max(changed_at) DESC, min(seq) DESC
"""
COUNT_CONVERSATIONS = "SELECT count(*) FROM (SELECT DISTINCT conversation_id FROM messages)"
# The newest message (the first of the newest time), in its last state: a message read
# twice (an edit, a deletion, a newer archive) is emitted as its last copy says.
NEWEST_OF = (
    "SELECT message_id, sent_at, body FROM messages "
    "WHERE (conversation_id, sent_at, message_id) = ("
    "SELECT conversation_id, sent_at, message_id FROM messages WHERE conversation_id = ? "
    "ORDER BY sent_at DESC, seq LIMIT 1) "
    "ORDER BY seq DESC LIMIT 1"
)
# A conversation's messages that changed after the cutoff, newest first.
MESSAGES_OF = (
    "SELECT message_id, sent_at, body FROM messages WHERE conversation_id = ? AND {admits} "
    "ORDER BY sent_at DESC, seq"
)
# The folder of the newest message that says one (2018's SENT rows do not), as its last
# copy says (a newer archive knows where the conversation was moved to).
FOLDER_OF = (
    "SELECT folder FROM messages WHERE conversation_id = ? AND folder IS NOT NULL "
    "ORDER BY sent_at DESC, seq DESC LIMIT 1"
)
PARTICIPANTS_OF = (
    "SELECT name, profile_url FROM participants WHERE conversation_id = ? ORDER BY seq"
)


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


# The index of the read under way on this thread: its stages share the index's progress.
_reading = threading.local()


def progress_of_read(make: Callable[[], Progress]) -> Progress:
    """The progress of the read under way (the index's, made with `make` by its first
    stage); outside an index's read, a progress of its own."""
    index: MessageIndex | None = getattr(_reading, "index", None)
    if index is None:
        return make()
    if index.progress is None:
        index.progress = make()
    return index.progress


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


class RowSpool:
    """Rows kept on disk (a temporary file, gone when closed) to be read more than once."""

    def __init__(self, label: str = "rows", logger: logging.Logger = LOGGER) -> None:
        self.label, self.logger = label, logger
        # Closed by __exit__; already unlinked, so even a killed run leaves nothing behind.
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="tap-linkedin-messages-")  # noqa: SIM115
        self._encode = msgspec.json.Encoder().encode
        self.count = 0

    def __enter__(self) -> RowSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def kept(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """`rows` as they pass, each written to the spool; its size is logged at the end."""
        write, encode = self._file.write, self._encode
        for row in rows:
            write(encode(row) + b"\n")
            self.count += 1
            yield row
        self._file.flush()
        self.logger.info(
            "%s: %d rows kept in a temporary file (%.1f MB on disk)",
            self.label,
            self.count,
            self._file.tell() / 1e6,
        )

    def add_all(self, rows: Iterable[dict[str, Any]]) -> None:
        for _ in self.kept(rows):
            pass

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row so far, from the first."""
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield _decode(line)


# --- the index ------------------------------------------------------------------------------


class MessageIndex:
    """A read's messages, on disk until each conversation is read back."""

    def __init__(self, label: str, logger: logging.Logger = LOGGER) -> None:
        self.label = label
        self.logger = logger
        self._scratch = ScratchDatabase(label, SCHEMA, logger)
        self.path = self._scratch.path
        self._db = self._scratch.db
        self._rows = 0
        # Who was written lately as known in which conversation, with a name or a URL
        # or not: a person's next rows there are written only where they add one.
        self._people = Seen(1 << 17)
        #: The read's progress, shared by its stages (`progress_of_read`).
        self.progress: Progress | None = None
        _reading.index = self

    def __enter__(self) -> MessageIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_all(self, listed: Iterable[Record]) -> None:
        """Every listed message (with its `conversation` entry), in the order listed."""
        messages: list[tuple[Any, ...]] = []
        people: list[tuple[Any, ...]] = []
        written = self._people.first
        for message in listed:
            conversation = message.pop("conversation", None) or {}
            conversation_id = message["conversation_id"]
            message["conversation"] = {
                "category": conversation.get("category"),
                "type": conversation.get("type"),
            }
            messages.append(
                (
                    message["message_id"],
                    conversation_id,
                    message["sent_at"],
                    records.changed_at(message),
                    conversation.get("folder"),
                    _encode([message.get(name) for name in BODY]),
                )
            )
            for person in conversation.get("participants") or ():
                key = participant_key(person)
                if not key:
                    continue
                name, url = person.get("name"), person.get("profile_url")
                # Rows repeat the same people: the upsert keeps the first name and URL,
                # so a row that has (or lacks) them as a recent one did adds nothing.
                if written((conversation_id, key, name is None, url is None)):
                    people.append((conversation_id, key, name, url))
            if len(messages) == BATCH:
                self._write(messages, people)
        self._write(messages, people)

    def _write(self, messages: list[tuple[Any, ...]], people: list[tuple[Any, ...]]) -> None:
        """One batch into the database (the lists are emptied)."""
        self._db.executemany(ADD_MESSAGE, messages)
        self._db.executemany(ADD_PARTICIPANT, people)
        self._rows += len(messages)
        messages.clear()
        people.clear()

    def conversations(self, cutoff: Cutoff | None) -> Iterator[tuple[Record, Iterator[Record]]]:
        """Each conversation's record and its messages that changed after `cutoff`,
        newest activity first.

        The messages are read from disk as they are consumed (all of them before the
        next conversation is asked for), so one long conversation is not held either.
        """
        self._db.execute("COMMIT")
        self._db.execute(INDEXES)
        self.logger.info(
            "%s: %d messages indexed in %s (%.1f MB on disk)",
            self.label,
            self._rows,
            self.path,
            self._scratch.size_mb(),
        )
        progress = self.progress or Progress(self.label, self.logger)
        (total,) = self._db.execute(COUNT_CONVERSATIONS).fetchone()
        given = 0
        progress.begin(
            "writing records", lambda rows: f"{rows} records, {given} of {total} conversations"
        )
        admits = "1" if cutoff is None else f"changed_at {'>=' if cutoff.inclusive else '>'} ?"
        query = MESSAGES_OF.format(admits=admits)
        since = () if cutoff is None else (cutoff.value,)
        # A cursor of its own, read as the conversations are asked for.
        for conversation_id, activity in self._db.execute(CONVERSATIONS):
            newest = self._message(
                conversation_id, *self._db.execute(NEWEST_OF, (conversation_id,)).fetchone()
            )
            participants = [
                records.participant(name=name, profile_url=url)
                for name, url in self._db.execute(PARTICIPANTS_OF, (conversation_id,))
            ]
            entry = newest.pop("conversation", None) or {}
            folder = self._db.execute(FOLDER_OF, (conversation_id,)).fetchone()
            record = conversation_record(conversation_id, newest, participants)
            record.update(
                category=entry.get("category"),
                type=entry.get("type"),
                folder=folder[0] if folder else None,
                last_activity_at=activity,
            )
            rows = self._db.execute(query, (conversation_id, *since))
            given += 1
            progress.tick()
            yield record, self._latest(conversation_id, rows, progress)

    def _latest(
        self, conversation_id: str, rows: Iterable[tuple[str, str, bytes]], progress: Progress
    ) -> Iterator[Record]:
        """Rows as messages, each id once: where a message came more than once (an
        archive repeating another, an edit, a deletion), in its first place with its last
        state (a message's repeats share its time, its id being made from it)."""
        group: dict[str, tuple[str, bytes]] = {}
        group_time = None
        for message_id, sent_at, body in rows:
            if sent_at != group_time:
                yield from self._messages(conversation_id, group, progress)
                group, group_time = {}, sent_at
            # A dict keeps the first place of a key and takes its last value.
            group[message_id] = (sent_at, body)
        yield from self._messages(conversation_id, group, progress)

    def _messages(
        self, conversation_id: str, group: dict[str, tuple[str, bytes]], progress: Progress
    ) -> Iterator[Record]:
        for message_id, (sent_at, body) in group.items():
            message = self._message(conversation_id, message_id, sent_at, body)
            del message["conversation"]
            progress.tick()
            yield message

    @staticmethod
    def _message(conversation_id: str, message_id: str, sent_at: str, body: bytes) -> Record:
        """A message as it was added, its fields in the order they were built in."""
        message = dict(zip(BODY, _decode(body), strict=True))
        message.update(message_id=message_id, sent_at=sent_at, conversation_id=conversation_id)
        return {name: message[name] for name in FIELDS}

    def close(self) -> None:
        """Remove the file, whatever state the read is in."""
        if getattr(_reading, "index", None) is self:
            _reading.index = None
        self._scratch.close()


def participant_key(person: dict[str, Any]) -> str:
    """One key per person: their profile URL, else their name (lower case)."""
    return profile_key(person.get("profile_url")) or (person.get("name") or "").lower()


def conversation_record(conversation_id: str, newest: Record, participants: list[Record]) -> Record:
    """The conversation a source that lists messages implies, as the APIs' records look."""
    sender = newest.get("sender") or {}
    return records.conversation(
        conversation_id=conversation_id,
        thread_id=newest.get("thread_id"),
        participants=participants,
        last_activity_at=newest.get("sent_at"),
        last_message=records.last_message(
            text=newest.get("text"),
            sent_at=newest.get("sent_at"),
            sender_name=sender.get("name"),
            sender_profile_url=sender.get("profile_url"),
            is_from_me=sender.get("is_me"),
        ),
    )
