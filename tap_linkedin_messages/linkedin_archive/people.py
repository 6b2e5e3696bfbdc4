"""Who is who in an archive: the member, and the URL another row gives a name, learned
from every row into a scratch database and settled in the records as they are read back
(`tap_linkedin_messages.linkedin_archive`)."""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from typing import TYPE_CHECKING

from tap_linkedin_messages.linkedin_archive.layouts import named_in, recipient_pairs, split_names
from tap_linkedin_messages.linkedin_archive.people_sql import (
    BUSIEST_KEYS,
    IN_SOME_KNOWN,
    KNOWN_TO_CELLS,
    LEARNED,
    PEOPLE_SCHEMA,
    RESOLVE,
    SMALLEST_KNOWN,
    UNNAMED_CALLED,
    URLLESS_SENDER,
    WITHOUT,
)
from tap_linkedin_messages.normalize import (
    name_key,
    profile_key,
)
from tap_linkedin_messages.whole_reads import Person, ScratchDatabase, Seen, Settle

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

LOGGER = logging.getLogger(__name__)

#: Where no one is in every conversation, the member is the person in by far the most: in
#: at least this share of them...
MEMBER_SHARE = 0.75
#: ...and in at least this many times as many as anyone else.
MEMBER_MARGIN = 4

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
