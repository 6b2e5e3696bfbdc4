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

The read-back itself (the cursors, the bodies decoded, senders and participants settled)
runs in a forked child where one can be (`child_process.produced_in_child`), on the other
core while this process writes the records out; it reads the database and writes nothing.
A stream that does not take a conversation's messages still gets them made (they are
skipped here): the child cannot be told which ones will be taken.

Order is the one the in-memory grouping had: conversations by newest message, ties in
reverse order of first appearance; messages newest first, ties in order of appearance.

A long read says how far it got every ~10 s (`Progress`), on one clock from its first row
to its last record: the rows a source lists (its own stages: a snapshot's pages, each
pass over an archive), then the records read back from the index.
"""

from __future__ import annotations

import itertools
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

import msgspec

from tap_linkedin_messages import records
from tap_linkedin_messages.child_process import produced_in_child
from tap_linkedin_messages.emitted import IdDigest, id_hash, pack, unpack
from tap_linkedin_messages.message_index_sql import (
    ADD_EMITTED_BEFORE,
    ADD_MESSAGE,
    ADD_PERSON,
    ALL_MESSAGES,
    ALL_PEOPLE,
    COUNT_CONVERSATIONS,
    DIGEST_AFTER,
    EMITTED_NOW,
    FOLDER_OF,
    INDEXES,
    MESSAGE_FOLDER,
    RANK,
    RANK_ALL,
    READ_IN_ORDER,
    SCHEMA,
)
from tap_linkedin_messages.normalize import ms_to_rfc3339, name_key, profile_key, rfc3339_to_ms
from tap_linkedin_messages.whole_reads import (
    NOTHING_TO_SETTLE,
    Ahead,
    Person,
    Progress,
    ScratchDatabase,
    Seen,
    Settle,
    fetched,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

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
# Where `conversation_id` goes back in among a body's values (`message_of`: FIELDS starts
# with `message_id` and `sent_at`, and ends with the `conversation` entry).
_BEFORE_CONVERSATION_ID = FIELDS.index("conversation_id") - 2
#: Messages written to the database at once.
BATCH = 2000

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


# --- the index ------------------------------------------------------------------------------


class MessageIndex:
    """A read's messages, on disk until each conversation is read back."""

    def __init__(
        self,
        label: str,
        logger: logging.Logger = LOGGER,
        settle: Settle = NOTHING_TO_SETTLE,
        progress: Progress | None = None,
    ) -> None:
        self.label = label
        self.logger = logger
        self.settle = settle
        self._scratch = ScratchDatabase(label, SCHEMA, logger)
        self.path = self._scratch.path
        self._db = self._scratch.db
        self._db.create_function("id_hash", 1, id_hash, deterministic=True)
        self._db.create_aggregate("id_digest", 1, IdDigest)
        self._indexed = self._ranked = False
        self._rows = 0
        # Who was written lately as named in which conversation: rows repeat them.
        self._people = Seen(1 << 17)
        #: The read's progress, begun by the source's stages (`Listed.progress`); the
        #: read back goes on with it.
        self.progress = progress

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
                "mailbox": conversation.get("mailbox"),
                "last_read_at": conversation.get("last_read_at"),
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
                pair = (person.get("name"), person.get("profile_url"))
                if pair != (None, None) and written((conversation_id, *pair)):
                    people.append((conversation_id, _encode(pair)))
            if len(messages) == BATCH:
                self._write(messages, people)
        self._write(messages, people)

    def _write(self, messages: list[tuple[Any, ...]], people: list[tuple[Any, ...]]) -> None:
        """One batch into the database (the lists are emptied)."""
        self._db.executemany(ADD_MESSAGE, messages)
        self._db.executemany(ADD_PERSON, people)
        self._rows += len(messages)
        messages.clear()
        people.clear()

    def _index(self) -> None:
        """Once every message is in: the indexes, and what each conversation holds."""
        if self._indexed:
            return
        self._db.execute("COMMIT")
        self._db.executescript(INDEXES)
        self._indexed = True
        (messages,) = self._db.execute("SELECT coalesce(sum(messages), 0) FROM read").fetchone()
        # A message listed more than once (identical rows, a message in several archives,
        # an edit after its message) is one record: the count says how many rows merged.
        self.logger.info(
            "%s: %d rows indexed: %d messages, %d repeated rows merged, in %s (%.1f MB on disk)",
            self.label,
            self._rows,
            messages,
            self._rows - messages,
            self.path,
            self._scratch.size_mb(),
        )

    def changed_since(self, emitted_before: str | None) -> str:
        """Hand over only what earlier runs did not emit (`emitted_before`, the state's
        record of them; None: nothing was): of each conversation, nothing where it is
        unchanged, its messages newer than the newest emitted where only those are new,
        all of them otherwise (`tap_linkedin_messages.emitted`).

        For a source read whole (an archive, a snapshot); what it returns is the record
        to keep once this read's records are all emitted.
        """
        self._index()
        self._db.executemany(ADD_EMITTED_BEFORE, unpack(emitted_before, self.label))
        ranked: list[tuple[str, str, str | None]] = []
        for conversation_id, activity, digest, before, newest_before in fetched(
            self._db.execute(READ_IN_ORDER)
        ):
            after = None
            if before == digest:
                continue  # unchanged
            if before is not None:
                # Its messages up to the newest emitted are the ones emitted (their digest
                # is the one kept): only the newer ones are new.
                time_before = ms_to_rfc3339(newest_before)
                (newer,) = self._db.execute(DIGEST_AFTER, (conversation_id, time_before)).fetchone()
                if digest ^ (newer or 0) == before:  # no newer message: no row, None
                    after = time_before
            ranked.append((conversation_id, activity, after))
            if len(ranked) == BATCH:
                self._db.executemany(RANK, ranked)
                ranked.clear()
        self._db.executemany(RANK, ranked)
        self._ranked = True
        return pack(
            (key, digest, newest if isinstance(newest, int) else rfc3339_to_ms(newest))
            for key, digest, newest in self._db.execute(EMITTED_NOW)
        )

    def conversations(self, cutoff: Cutoff | None) -> Iterator[tuple[Record, Iterator[Record]]]:
        """Each conversation's record and its messages that changed after `cutoff`,
        newest activity first (where `changed_since` was asked: only what it hands over).

        They are read back in a child process where one can be forked
        (`produced_in_child`), on the other core while this one writes them out; the
        messages come as they are consumed (all of them before the next conversation is
        asked for), so one long conversation is not held either.
        """
        self._index()
        if not self._ranked:
            self._db.execute(RANK_ALL)
            self._ranked = True
        items = Ahead(produced_in_child(partial(self._read_back, cutoff), self.label))
        while (head := items.head) is not None:
            rank = head[0]
            listed = items.of_rank(rank)
            _, conversation = next(listed)
            yield conversation, (message for _, message in listed)
            items.skip(rank)  # what the messages stream did not take

    def _read_back(self, cutoff: Cutoff | None) -> Iterator[tuple[int, Record]]:
        """Each conversation's record, then its messages that changed after `cutoff`,
        each as (its conversation's rank, the record): one cursor walks every message in
        order, a second the conversations' people."""
        progress = self.progress or Progress(self.label, self.logger)
        (total,) = self._db.execute(COUNT_CONVERSATIONS).fetchone()
        given = 0
        progress.begin(
            "writing records", lambda rows: f"{rows} records, {given} of {total} conversations"
        )
        admits = None if cutoff is None else cutoff.admits
        rows = Ahead(fetched(self._db.execute(ALL_MESSAGES)))
        people = Ahead(fetched(self._db.execute(ALL_PEOPLE)))
        settled = self.settle.sender_of
        while rows.head is not None:
            rank, newest_time, conversation_id, activity = rows.head[:4]
            # The newest time's rows: the newest message (the first of them, in its last
            # copy) and, most often, the conversation's folder.
            newest_rows = rows.of_rank_and_time(rank, newest_time)
            first_id = newest_rows[0][4]
            _, sent_at, _, _, message_id, _, _, body, _ = next(
                row for row in reversed(newest_rows) if row[4] == first_id
            )
            newest = settled(message_of(conversation_id, message_id, sent_at, body, True))
            entry = newest.pop("conversation", None) or {}
            folder = next(
                (row[6] for row in reversed(newest_rows) if row[6] not in (None, MESSAGE_FOLDER)),
                None,
            )
            if folder is None:
                found = self._db.execute(FOLDER_OF, (conversation_id,)).fetchone()
                folder = found[0] if found else None
            participants = self._participants(_decode(person) for _, person in people.of_rank(rank))
            record = conversation_record(conversation_id, newest, participants)
            read_at = entry.get("last_read_at")
            record.update(
                category=entry.get("category"),
                type=entry.get("type"),
                folder=folder,
                mailbox=entry.get("mailbox"),
                last_activity_at=activity,
                # Its newest message read: the conversation is.
                is_read=True if read_at else None,
                last_read_at=read_at,
            )
            given += 1
            progress.tick()
            yield rank, record
            listed: Iterable[Sequence[Any]] = itertools.chain(newest_rows, rows.of_rank(rank))
            after = newest_rows[0][8]
            if after is not None:
                listed = (row for row in listed if row[1] > after)
            if admits is not None:
                listed = (row for row in listed if admits(row[5]))
            for message in self._latest(conversation_id, listed, progress):
                yield rank, message

    def _participants(self, people: Iterable[Person]) -> list[Record]:
        """A conversation's participants: one per person (their profile URL, else their
        name), in the order first named, each with the first name and the first URL
        any row gave them."""
        merged: dict[str, list[str | None]] = {}
        for name, url in self.settle.others(people):
            key = profile_key(url) or name_key(name) or ""
            if not key:
                continue
            known = merged.setdefault(key, [name, url])
            if known[0] is None:
                known[0] = name
            if known[1] is None:
                known[1] = url
        return [records.participant(name=name, profile_url=url) for name, url in merged.values()]

    def _latest(
        self, conversation_id: str, rows: Iterable[Sequence[Any]], progress: Progress
    ) -> Iterator[Record]:
        """Rows as messages, each id once: where a message came more than once (an
        archive repeating another, an edit, a deletion), in its first place with its last
        state (a message's repeats share its time, its id being made from it)."""
        group: dict[str, bytes] = {}
        group_time = ""  # no message's: every message's time is a timestamp
        tick, settled = progress.tick, self.settle.sender_of
        for row in rows:
            sent_at = row[1]
            if sent_at != group_time:
                for message_id, body in group.items():
                    tick()
                    yield settled(message_of(conversation_id, message_id, group_time, body))
                group, group_time = {}, sent_at
            # A dict keeps the first place of a key and takes its last value.
            group[row[4]] = row[7]
        for message_id, body in group.items():
            tick()
            yield settled(message_of(conversation_id, message_id, group_time, body))

    def close(self) -> None:
        """Remove the file, whatever state the read is in."""
        self._scratch.close()


def message_of(
    conversation_id: str, message_id: str, sent_at: str, body: bytes, with_entry: bool = False
) -> Record:
    """A message as it was added, its fields in the order they were built in (the
    `conversation` entry, last, only `with_entry`)."""
    values = _decode(body)
    if not with_entry:
        del values[-1]
    values[_BEFORE_CONVERSATION_ID:_BEFORE_CONVERSATION_ID] = (conversation_id,)
    return dict(zip(FIELDS, (message_id, sent_at, *values), strict=False))


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
