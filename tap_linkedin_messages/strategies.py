"""The two ways an inbox is read, one per kind of source, chosen once when the tap
builds its streams (`strategy_for`).

- `ConversationApiStrategy`: list each inbox category's conversations, newest activity
  first, up to the cutoff; then, for each changed conversation the SDK syncs, page its
  messages (several at once with `max_concurrent_requests`).
- `MessageListingStrategy`: read the messages the source lists, group them into
  conversations (newest activity first), and hand each conversation's new messages to
  the messages stream when the SDK syncs that conversation.

The streams call only `conversations()` and `messages()`; they know neither strategy.
A strategy knows of a stream only what it asks of it (`ReadsFor`, `ListsInbox`): this
module imports neither the streams nor their base.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from tap_linkedin_messages.concurrency import Prefetcher
from tap_linkedin_messages.message_index import MessageIndex
from tap_linkedin_messages.normalize import is_member_id_url, name_key, profile_key
from tap_linkedin_messages.providers import (
    ConversationApi,
    ConversationGoneError,
    MessageListing,
    Source,
)
from tap_linkedin_messages.providers.pages import People
from tap_linkedin_messages.reads import Cutoff, Read

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Generator, Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

    from tap_linkedin_messages.providers import Listing
    from tap_linkedin_messages.providers.base import Position
    from tap_linkedin_messages.records import Record


class ReadsFor(Protocol):
    """What a strategy asks of the stream it reads for (`client.InboxStream`)."""

    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def logger(self) -> logging.Logger: ...

    def partition_read(self, context: Context) -> Read: ...

    def walk(
        self,
        read: Read,
        listing: Listing,
        *,
        context: Context | None = None,
        on_page: Callable[[list[Record]], None] | None = None,
    ) -> Iterable[Record]: ...


class ListsInbox(ReadsFor, Protocol):
    """The stream that lists conversations (`streams.ConversationsStream`), which also
    says which of them its child stream will read."""

    def child_context_if_new(self, record: Record, read: Read) -> Context | None: ...


class Strategy(ABC):
    """How one run reads its accounts' inboxes."""

    #: Whether the streams' bookmarks tell what is new (a source listed by activity time);
    #: False where the source tells it from a position of its own (`read.resume_from`).
    follows_bookmarks: ClassVar[bool] = True

    @abstractmethod
    def conversations(
        self, stream: ListsInbox, read: Read
    ) -> Generator[Record, None, Position | None]:
        """An account's conversation records (the stream drops those not changed); once
        they are all emitted, the position its next read starts from (None: none)."""

    @abstractmethod
    def messages(self, stream: ReadsFor, read: Read) -> Iterable[Record]:
        """One conversation's message records, newest first."""

    @abstractmethod
    def check(self, stream: ReadsFor, read: Read) -> None:
        """Whether an account answers: the first page its read asks for, walked by
        `stream`, no record emitted; raises what the source answers otherwise."""

    def who_is_who(self, conversation: Record) -> dict[str, Any]:
        """What a conversation record tells of who its member is, for `is_me`."""
        return {}

    def is_me(self, sender: Record, conversation: Context) -> bool | None:
        """Whether the member sent a message the source left undecided."""
        return None


#: What a message listing's position in the state holds: the source's own position, and
#: the record of what was emitted of a source read whole.
SOURCE = "source"
EMITTED = "emitted"
#: Which way the source made the message ids the `emitted` record names
#: (`MessageListing.message_ids`; absent: the first).
MESSAGE_IDS = "message_ids"

#: Where a listing read only to see that it answers stops: after its first page.
NOTHING_IS_NEW = Cutoff("9999-12-31T23:59:59.999Z", inclusive=False)

#: A conversation whose members' read found it gone.
GONE = People()


class ConversationApiStrategy(Strategy):
    """List conversations, then read each changed one."""

    def __init__(self, workers: int) -> None:
        self._prefetcher = Prefetcher(workers) if workers > 1 else None
        # Who is in each conversation being read (for providers whose messages name their
        # senders by id only): fetched once, for its record and then its messages.
        self._people: dict[tuple[str, str], People] = {}
        # One lock per conversation whose people are being fetched: a prefetch worker and
        # the main thread may want the same conversation's at once; it is fetched once.
        self._people_locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        # The stream that lists the inbox: a conversation found gone is confirmed by asking
        # the account again as it would (`_confirm_gone`), billed to it.
        self._inbox_stream: ListsInbox | None = None

    def who_is_who(self, conversation: Record) -> dict[str, Any]:
        """An API's participants are "the other side"; its last message's sender is the
        member exactly when it says `is_from_me`."""
        last_message = conversation.get("last_message") or {}
        sender_key = profile_key(last_message.get("sender_profile_url"))
        sender_name = name_key(last_message.get("sender_name"))
        participants = conversation.get("participants") or []
        their_profiles = {profile_key(person.get("profile_url")) for person in participants}
        their_names = {name_key(person.get("name")) for person in participants}
        if last_message.get("is_from_me") is False:
            their_profiles.add(sender_key)
            their_names.add(sender_name)
        mine = bool(last_message.get("is_from_me"))
        return {
            "my_profile": sender_key if mine else None,
            "their_profiles": sorted(key for key in their_profiles if key),
            "my_name": sender_name if mine else None,
            "their_names": sorted(name for name in their_names if name),
        }

    def is_me(self, sender: Record, conversation: Context) -> bool | None:
        """Whether the member sent a message, where its conversation tells: the sender's
        profile URL is the member's (from a last message marked as theirs) or a
        participant's.

        LinkupAPI writes the member's own URL as a member-id URL (`/in/ACoAA...`) in one
        place and a vanity one in another (its inbox example,
        https://docs.linkupapi.com/api-reference/linkup/Messages/inbox-conversations):
        where the URLs cannot tell, because either side is such an id URL or the sender
        has none, the name decides, if it is the member's and no participant's or the
        other way round [inferred]. Otherwise: null, not a guess.
        """
        key = profile_key(sender.get("profile_url"))
        mine, theirs = conversation.get("my_profile"), conversation.get("their_profiles", ())
        if key and key == mine:
            return True
        if key and key in theirs:
            return False
        if key and not (is_member_id_url(key) or is_member_id_url(mine)):
            return None
        name = name_key(sender.get("name"))
        my_name, their_names = conversation.get("my_name"), conversation.get("their_names", ())
        if name and name == my_name and name not in their_names:
            return True
        if name and name in their_names and name != my_name:
            return False
        return None

    def conversations(
        self, stream: ListsInbox, read: Read
    ) -> Generator[Record, None, Position | None]:
        api = _conversation_api(read.source)
        account_id = str(read.context["account_id"])
        self._inbox_stream = stream
        health = api.health(account_id)
        if health is not None:
            for _ in stream.walk(read, health):
                pass
        announce = self._announcer(stream, read) if self._prefetcher is not None else None
        try:
            for category in stream.config["inbox_categories"]:
                for record in stream.walk(
                    read,
                    api.inbox(account_id, category),
                    context={**read.context, "category": category},
                    on_page=announce,
                ):
                    if stream.child_context_if_new(record, read) is not None:
                        self._name_participants(stream, read, record)
                    yield record
        finally:
            self._people.clear()
            self._people_locks.clear()
            if self._prefetcher is not None:
                self._prefetcher.close()
        return None  # the bookmarks tell what is new

    def _name_participants(self, stream: ReadsFor, read: Read, record: Record) -> None:
        """A changed conversation's participants, where one more request names them."""
        try:
            people = self.people_of(stream, read, str(record["conversation_id"]))
        except ConversationGoneError:
            # Emitted as listed; its messages' read meets the same 404 and skips it.
            return
        if people:
            record["participants"] = people.others

    def people_of(self, stream: ReadsFor, read: Read, conversation_id: str) -> People | None:
        """A conversation's people (once per conversation and run), walked for `stream`."""
        account_id = str(read.context["account_id"])
        listing = _conversation_api(read.source).people(account_id, conversation_id)
        if listing is None:
            return None
        key = (account_id, conversation_id)
        with self._locks_lock:
            lock = self._people_locks.setdefault(key, threading.Lock())
        with lock:
            people = self._people.get(key)
            if people is None:
                context = {**read.context, "conversation_id": conversation_id}
                try:
                    people = People.of(stream.walk(replace(read, context=context), listing))
                except ConversationGoneError:
                    # Asked once: its messages' read is skipped without another request.
                    self._people[key] = GONE
                    raise
                self._people[key] = people
        if people is GONE:
            msg = f"{read.source.name}: conversation {conversation_id} (its members' read)"
            raise ConversationGoneError(msg)
        return people

    def messages(self, stream: ReadsFor, read: Read) -> Iterable[Record]:
        key = (str(read.context["account_id"]), str(read.context["conversation_id"]))
        try:
            if self._prefetcher is None:
                yield from stream.walk(read, self._listing(stream, read))
            else:
                yield from self._prefetcher.take(
                    read.context, lambda context: self._job(stream, context)
                )
        except ConversationGoneError as gone:
            self._confirm_gone(read)
            read.gone = True
            stream.logger.warning("Skipping a conversation that no longer exists: %s", gone)
        finally:
            self._people.pop(key, None)
            self._people_locks.pop(key, None)

    def _confirm_gone(self, read: Read) -> None:
        """A 404 means the conversation is gone only while its account still answers
        (`check`). An account that stopped answering ends its read there, naming what to
        check, so its bookmark stays before the conversations the run could not read."""
        assert self._inbox_stream is not None, "the inbox is walked before its conversations"
        self.check(self._inbox_stream, read)

    def check(self, stream: ReadsFor, read: Read) -> None:
        """The account's status (where the provider has one) and its inbox's first page."""
        api = _conversation_api(read.source)
        account_id = read.account_id
        category = str(stream.config["inbox_categories"][0])
        context = {"account_id": account_id, "category": category}
        # A cutoff nothing passes: one page, of the provider's billing unit, and no record.
        check = Read(context=context, source=read.source, cutoff=NOTHING_IS_NEW)
        for listing in (api.health(account_id), api.inbox(account_id, category)):
            if listing is not None:
                for _ in stream.walk(check, listing, context=context):
                    pass

    def _listing(self, stream: ReadsFor, read: Read) -> Any:
        conversation_id = str(read.context["conversation_id"])
        return _conversation_api(read.source).conversation(
            str(read.context["account_id"]),
            conversation_id,
            read.newer_than,
            self.people_of(stream, read, conversation_id),
        )

    def _announcer(self, stream: ListsInbox, read: Read) -> Callable[[list[Record]], None]:
        """Tells the prefetcher, page by page, which conversations the SDK will sync next."""
        prefetcher = self._prefetcher
        assert prefetcher is not None

        def announce(records: list[Record]) -> None:
            prefetcher.announce([stream.child_context_if_new(record, read) for record in records])

        return announce

    def _job(self, stream: ReadsFor, context: Context) -> Callable[[], Iterator[Record]]:
        """Prepared in the main thread (the read and its cutoff, from the run's state),
        run in a worker: the SDK's paging loop, by a walker of its own."""
        read = stream.partition_read(context)
        return lambda: iter(stream.walk(read, self._listing(stream, read)))


class MessageListingStrategy(Strategy):
    """Read the messages into an index on disk, derive the conversations from it, and
    hand each conversation's new messages over as the SDK syncs it.

    A listing's source decides `is_me` from all of its rows, and leaves it null where
    they cannot tell (its participants then include the member): nothing is inferred
    here (`who_is_who` and `is_me` as in `Strategy`).
    """

    # The source says what is new (a later archive's old rows, an event processed late):
    # message times only keep `start_date` as a floor.
    follows_bookmarks = False

    def __init__(self) -> None:
        # The conversation just emitted and its new messages, read from the index as the
        # messages stream takes them (the SDK syncs a conversation's messages at once).
        self._handed_over: tuple[str, Iterator[Record]] | None = None

    def conversations(
        self, stream: ListsInbox, read: Read
    ) -> Generator[Record, None, Position | None]:
        """The conversations with something the last runs did not emit, each with those
        messages; then where the next read starts: the source's own position, and what
        was emitted of a source read whole (`tap_linkedin_messages.emitted`)."""
        source = read.source
        assert isinstance(source, MessageListing)
        walk = partial(stream.walk, read)
        kept = read.resume_from or {}
        label = f"{source.name}: {read.label}"
        with (
            source.read_messages(walk, kept.get(SOURCE)) as listed,
            MessageIndex(label, stream.logger, listed.settle, listed.progress) as index,
        ):
            index.add_all(listed.messages)
            emitted = kept.get(EMITTED)
            # The ids `emitted` names: only a read of the whole source renews it (a
            # changelog read keeps it, and the scheme it was made with, as they were).
            ids = kept.get(MESSAGE_IDS, 1) if emitted else source.message_ids
            if listed.whole:
                if ids != source.message_ids:
                    stream.logger.warning(
                        "%s: %s; every message is emitted once more, under its new id (the "
                        "rows loaded under the old ids can be dropped: see CHANGELOG.md)",
                        label,
                        source.message_ids_changed,
                    )
                    emitted = None
                emitted, ids = index.changed_since(emitted), source.message_ids
            try:
                for conversation, messages in index.conversations(read.cutoff):
                    self._handed_over = (conversation["conversation_id"], messages)
                    yield conversation
            finally:
                # An unread hand-over holds the index's cursor (and its file) open.
                self._handed_over = None
        return {SOURCE: listed.position, EMITTED: emitted, MESSAGE_IDS: ids}

    def check(self, stream: ReadsFor, read: Read) -> None:
        """The source opened as a first read would open it, up to its first message."""
        source = read.source
        assert isinstance(source, MessageListing)
        with source.read_messages(partial(stream.walk, read), None) as listed:
            next(iter(listed.messages), None)

    def messages(self, stream: ReadsFor, read: Read) -> Iterable[Record]:
        handed, self._handed_over = self._handed_over, None
        if handed is None or handed[0] != read.context["conversation_id"]:
            return iter(())
        return handed[1]


def _conversation_api(source: Source) -> ConversationApi:
    assert isinstance(source, ConversationApi)
    return source


#: Which strategy reads which kind of source.
STRATEGIES: dict[type[Source], Callable[[int], Strategy]] = {
    ConversationApi: ConversationApiStrategy,
    MessageListing: lambda workers: MessageListingStrategy(),
}


def strategy_for(adapter: type[Source], workers: int) -> Strategy:
    """The strategy for an adapter's kind of source, from the registry above."""
    (make,) = [make for kind, make in STRATEGIES.items() if issubclass(adapter, kind)]
    return make(workers)
