"""Listed messages on disk, read back one conversation at a time: flat memory at any size.

A conversation record needs all of its messages (its newest, its participants), and a
source that lists messages (the data export, the portability API's snapshot) gives them
in no useful order: heavy members' archives hold a million messages in random
conversation order. Holding them until the last one arrives made memory grow with the
archive (about 4 GB at 1M messages); here each message is written to a temporary SQLite
database as it is read, and read back a conversation at a time, newest activity first.

Why SQLite: it is in the standard library, its page cache is bounded (2 MB here), and
an index built once every message is in (a sort on disk, not a B-tree grown at random)
makes "one conversation, newest first" a range scan. A message successive archives
repeat has the same id in the same conversation, so it is dropped as its conversation is
read back, with a set no larger than one conversation. The file lives under the system
temp dir and is removed when the read ends, however it ends (success, an error, Ctrl-C;
only a SIGKILL leaves it behind); its size is logged.

Order is the one the in-memory grouping had: conversations by newest message, ties in
reverse order of first appearance; messages newest first, ties in order of appearance.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from typing import TYPE_CHECKING, Any

import msgspec

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import profile_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

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

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

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
CONVERSATIONS = """
SELECT conversation_id, max(changed_at) FROM messages GROUP BY conversation_id
ORDER BY max(changed_at) DESC, min(seq) DESC
"""
NEWEST_OF = (
    "SELECT message_id, sent_at, body FROM messages WHERE conversation_id = ? "
    "ORDER BY sent_at DESC, seq LIMIT 1"
)
# A conversation's messages that changed after the cutoff, newest first.
MESSAGES_OF = (
    "SELECT message_id, sent_at, body FROM messages WHERE conversation_id = ? AND {admits} "
    "ORDER BY sent_at DESC, seq"
)
# The folder of the newest message that says one (2018's SENT rows do not).
FOLDER_OF = (
    "SELECT folder FROM messages WHERE conversation_id = ? AND folder IS NOT NULL "
    "ORDER BY sent_at DESC, seq LIMIT 1"
)
PARTICIPANTS_OF = (
    "SELECT name, profile_url FROM participants WHERE conversation_id = ? ORDER BY seq"
)


class RowSpool:
    """Rows kept on disk (a temporary file, gone when closed) to be read more than once."""

    def __init__(self) -> None:
        # Closed by __exit__; already unlinked, so even a killed run leaves nothing behind.
        self._file = tempfile.TemporaryFile(prefix="tap-linkedin-messages-")  # noqa: SIM115
        self._encode = msgspec.json.Encoder().encode

    def __enter__(self) -> RowSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def add_all(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self._file.write(self._encode(row) + b"\n")

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row so far, from the first."""
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield _decode(line)


class MessageIndex:
    """A read's messages, on disk until each conversation is read back."""

    def __init__(self, label: str, logger: logging.Logger = LOGGER) -> None:
        self.label = label
        self.logger = logger
        handle, self.path = tempfile.mkstemp(prefix="tap-linkedin-messages-", suffix=".sqlite")
        os.close(handle)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        # A scratch file: nothing to recover after a crash, so no journal and no syncs.
        self._db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
            "PRAGMA temp_store = FILE; PRAGMA cache_size = -2000;"
        )
        self._db.executescript(SCHEMA)
        self._db.execute("BEGIN")
        self._rows = 0
        # Who is known in which conversation, with a name and a URL or not.
        self._people: dict[tuple[str, str], tuple[Any, Any]] = {}

    def __enter__(self) -> MessageIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_all(self, listed: Iterable[Record]) -> None:
        """Every listed message (with its `conversation` entry), in the order listed."""
        messages: list[tuple[Any, ...]] = []
        people: list[tuple[Any, ...]] = []
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
                # Rows repeat the same people: only what adds to what is known is written.
                known = self._people.get((conversation_id, key))
                if known is None or (name and not known[0]) or (url and not known[1]):
                    self._people[(conversation_id, key)] = (
                        (known and known[0]) or name,
                        (known and known[1]) or url,
                    )
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
            os.path.getsize(self.path) / 1e6,
        )
        admits = "1" if cutoff is None else f"changed_at {'>=' if cutoff.inclusive else '>'} ?"
        query = MESSAGES_OF.format(admits=admits)
        since = () if cutoff is None else (cutoff.value,)
        for conversation_id, activity in list(self._db.execute(CONVERSATIONS)):
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
            yield record, self._latest(conversation_id, rows)

    def _latest(
        self, conversation_id: str, rows: Iterable[tuple[str, str, bytes]]
    ) -> Iterator[Record]:
        """Rows as messages, each id once: where a message came more than once (an
        archive repeating another, an edit, a deletion), in its first place with its last
        state (a message's repeats share its time, its id being made from it)."""
        group: dict[str, tuple[str, bytes]] = {}
        group_time = None
        for message_id, sent_at, body in rows:
            if sent_at != group_time:
                yield from self._messages(conversation_id, group)
                group, group_time = {}, sent_at
            # A dict keeps the first place of a key and takes its last value.
            group[message_id] = (sent_at, body)
        yield from self._messages(conversation_id, group)

    def _messages(
        self, conversation_id: str, group: dict[str, tuple[str, bytes]]
    ) -> Iterator[Record]:
        for message_id, (sent_at, body) in group.items():
            message = self._message(conversation_id, message_id, sent_at, body)
            del message["conversation"]
            yield message

    @staticmethod
    def _message(conversation_id: str, message_id: str, sent_at: str, body: bytes) -> Record:
        """A message as it was added, its fields in the order they were built in."""
        message = dict(zip(BODY, _decode(body), strict=True))
        message.update(message_id=message_id, sent_at=sent_at, conversation_id=conversation_id)
        return {name: message[name] for name in FIELDS}

    def close(self) -> None:
        """Remove the file, whatever state the read is in."""
        self._db.close()
        try:
            size = os.path.getsize(self.path)
            os.unlink(self.path)
        except OSError:
            return
        self.logger.debug("%s: removed %s (%.1f MB)", self.label, self.path, size / 1e6)


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
