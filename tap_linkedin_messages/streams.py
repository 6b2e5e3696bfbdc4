"""The two streams. They know no provider and no way of reading one: the run's strategy
(`tap_linkedin_messages.strategies`) reads, the streams decide what is new and keep state.
"""

from __future__ import annotations

import copy
import logging
from contextlib import closing, contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from singer_sdk import metrics

from tap_linkedin_messages.bookmarks import (
    LOOKBACK_WINDOW,
    POSITION,
    LookbackWindow,
    cap_at_sync_start,
    hold_progress,
    keep_for_selection,
    kept_for_selection,
)
from tap_linkedin_messages.client import InboxStream
from tap_linkedin_messages.normalize import datetime_to_rfc3339, parse_timestamp
from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.reads import Cutoff, describe
from tap_linkedin_messages.records import changed_at

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    from singer_sdk.helpers.types import Context

    from tap_linkedin_messages.providers import Source
    from tap_linkedin_messages.providers.base import Position
    from tap_linkedin_messages.reads import Read
    from tap_linkedin_messages.records import Record


# More conversations than this, listed as changed but giving no new message when read,
# are worth a warning: the provider may read its time filter otherwise than the tap.
QUIET_READS_WARNED = 5


class ConversationsStream(InboxStream):
    """Conversations of the inbox, newest activity first; only changed ones on later runs."""

    name = "conversations"
    primary_keys = ("account_id", "conversation_id")
    replication_key = "last_activity_at"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Conversation ids already emitted for the account being read: a conversation
        # listed in two categories is read (and paid for) once.
        self._emitted: set[str] = set()
        self._window = LookbackWindow(None)

    @property
    def partitions(self) -> list[dict]:
        """One partition per account, each with its own bookmark."""
        return [{"account_id": account_id} for account_id in self.accounts.ids]

    def incremental_cutoff(self, context: Context | None) -> Cutoff | None:
        """The earliest bookmark of the streams this run emits: each gets what its own
        last runs did not emit. `messages` alone selected: this stream emits nothing and
        keeps no bookmark; a stream selected again after runs without it has none, and
        the listing is read whole."""
        own = super().incremental_cutoff(context)
        (messages,) = self.child_streams
        if not self.strategy.follows_bookmarks or not messages.selected:
            return own
        # The bookmark as the last run left it: the SDK's public getter answers only once
        # a stream's own sync has begun (it reads `starting_replication_value`), and
        # `messages` syncs after this listing. Pinned by tests/test_selection.py.
        bookmark = messages.get_context_state(context).get("replication_key_value")
        theirs = self.cutoff_from(parse_timestamp(bookmark)) if bookmark else self.floor()
        if not self.selected or theirs is None:
            return theirs
        return own if own is None or own.value <= theirs.value else theirs

    @property
    def selection(self) -> tuple[str, ...]:
        """The streams this run emits."""
        return tuple(stream.name for stream in (self, *self.child_streams) if stream.selected)

    def partition_read(self, context: Context) -> Read:
        """An account's read, with the position its last run left (`POSITION`)."""
        read = super().partition_read(context)
        state = self.get_context_state(context)
        if kept_for_selection(state, self.selection):
            read.resume_from = state.get(POSITION)
        return read

    def read_partition(self, read: Read) -> Iterable[Record]:
        """An account's conversations (and, through the SDK, their messages). An error
        that is the account's alone (`Accounts.owns`) ends its read with both streams'
        bookmarks as its last run left them; the run goes on with the next account."""
        (messages,) = self.child_streams
        assert isinstance(messages, MessagesStream)
        states = (self.get_context_state(read.context), messages.get_context_state(read.context))
        before = [copy.deepcopy(state) for state in states]
        for state in states:
            hold_progress(state)
        try:
            yield from self.read_account(read, messages)
        except ProviderError as error:
            if not self.accounts.owns(read.account_id, error):
                raise
            # Progress markers of what was emitted are dropped with the rest: the SDK
            # would otherwise promote them past the conversations not read.
            for state, kept in zip(states, before, strict=True):
                state.clear()
                state.update(kept)
            self.accounts.fail(read.account_id, error)
            self.logger.error(
                "Account %s not read: %s (its bookmarks are kept; the other accounts are read)",
                read.account_id,
                error,
            )

    def read_account(self, read: Read, messages: MessagesStream) -> Iterable[Record]:
        """An account's conversations; the lookback window, or the source's position, is
        kept once all are emitted (with their messages)."""
        context = read.context
        state = self.get_context_state(context)
        # The SDK writes the "never past the sync's start" cap only for the context a
        # stream's sync() is called with (none, for a parent): each account needs its own.
        # Pinned by tests/test_sync.py::test_bookmark_never_moves_past_the_start_of_the_sync.
        signpost = self.get_replication_key_signpost(context)
        cap_at_sync_start(state, signpost)
        self._emitted = set()  # a conversation two accounts share is each one's
        by_activity = self.strategy.follows_bookmarks
        previous = state.get(LOOKBACK_WINDOW) if kept_for_selection(state, self.selection) else None
        self._window = window = LookbackWindow(previous if by_activity else None)
        with messages.account_records(context, read.source):
            conversations = self.strategy.conversations(self, read)
            reached = yield from self.until_failed(read.account_id, conversations)
        if reached is not None:
            state[POSITION] = reached
        keep_for_selection(state, self.selection)
        if not by_activity:
            state.pop(LOOKBACK_WINDOW, None)  # an earlier version's: no cutoff here
            return
        lookback = timedelta(minutes=float(self.config.get("lookback_minutes") or 0))
        ceiling = datetime_to_rfc3339(signpost) if signpost else None
        bookmark = state.get("replication_key_value")
        state[LOOKBACK_WINDOW] = window.kept(bookmark, lookback, ceiling)

    def until_failed(
        self, account_id: str, conversations: Generator[Record, None, Position | None]
    ) -> Generator[Record, None, Position | None]:
        """The strategy's conversations, and what it returns; after each one (whose
        messages the SDK reads before asking for the next), an error of the account's
        met in those messages is raised here, where the account's read can end."""
        with closing(conversations):
            while True:
                try:
                    record = next(conversations)
                except StopIteration as end:
                    return end.value
                yield record
                error = self.accounts.pending(account_id)
                if error is not None:
                    raise error

    def check_accounts(self) -> None:
        """The connection test: each account answers (the first page its read asks for;
        no record is emitted), and every one that does not is named."""
        for context in self.partitions:
            read = self.partition_read(context)
            try:
                self.strategy.check(self, read)
            except ProviderError as error:
                self.accounts.fail(read.account_id, error)
                self.logger.error("Account %s does not answer: %s", read.account_id, error)
            else:
                self.logger.info("Account %s answers", read.account_id)
        self.accounts.check_run(failing="do not answer", others="the others answer")

    def log_sync_costs(self) -> None:
        """At the end of the run (selected or not): what both streams cost, as one line
        and a `credits_consumed` metric; and how each account's read ended."""
        super().log_sync_costs()
        self.ledger.report(self.logger)
        self.accounts.report(self.logger, self.ledger)

    def _changed(self, record: dict) -> bool:
        """Not seen unchanged by the last run's lookback window, nor earlier in this run."""
        conversation_id, activity = record["conversation_id"], record["last_activity_at"]
        # Without an activity time nothing tells whether it changed: it is read.
        return (
            not (activity and self._window.unchanged(conversation_id, activity))
            and conversation_id not in self._emitted
        )

    def child_context_if_new(self, record: Record, read: Read) -> Context | None:
        """The messages stream's context for a listed conversation it will read, else None."""
        cutoff = read.cutoff
        activity = record.get("last_activity_at")
        if activity and cutoff is not None and not cutoff.admits(activity):
            return None
        if not self._changed(record):
            return None
        return self.get_child_context({**record, "account_id": read.context["account_id"]}, None)

    def kept(self, row: Record, read: Read) -> Record | None:
        """Drop conversations with no new activity, and repeats from another category."""
        record = super().kept(row, read)
        if record is None or not self._changed(record):
            return None
        if len(self.config["inbox_categories"]) > 1:
            self._emitted.add(record["conversation_id"])
        if record["last_activity_at"]:
            self._window.saw(record["conversation_id"], record["last_activity_at"])
        if self.selected:
            self.ledger.emitted(read.account_id)
        return record

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        """What `messages` needs to read one conversation, and to tell who "me" is."""
        return {
            "account_id": record["account_id"],
            "conversation_id": record["conversation_id"],
            "thread_id": record.get("thread_id"),
            **self.strategy.who_is_who(record),
        }


class MessagesStream(InboxStream):
    """Messages of each changed conversation, newest first; only new ones on later runs.

    The SDK syncs this stream once per changed conversation, and logs each sync: two lines
    ("Beginning sync", "Starting incremental sync") and two metrics (`sync_duration`,
    `record_count`, tagged with the conversation). A heavy inbox has 50,000 conversations:
    200,000 lines, and a third of the time a local archive takes to read. They are this
    stream's DEBUG-level detail: its logger shows only warnings and errors unless the
    tap's log level is DEBUG (or a logging config sets that logger's level), and the
    account's messages are counted in one `record_count` metric (`account_records`).
    """

    name = "messages"
    parent_stream_type = ConversationsStream
    primary_keys = ("message_id",)
    replication_key = "sent_at"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.logger.level == logging.NOTSET and not self.logger.isEnabledFor(logging.DEBUG):
            self.logger.setLevel(logging.WARNING)
        # The per-conversation metrics: below this stream's logger, at its level.
        self.conversation_metrics = self.logger.getChild("metrics")
        self._account_records: metrics.Counter | None = None
        # The account's conversations whose read gave no new message, and the new
        # messages so far (`account_records`).
        self._quiet_reads: list[str] = []
        self._new_messages = 0

    def log_sync_costs(self) -> None:
        """The SDK's line, then the run's verdict: an account that could not be read fails
        the run (exit 1). This is the last thing the SDK calls in a run, after every
        bookmark is written (`discover_streams` lists this stream last); pinned by
        tests/test_accounts.py."""
        super().log_sync_costs()
        self.accounts.check_run()

    def get_record_counter(
        self,
        *,
        endpoint: str | None = None,
        log_interval: float = metrics.DEFAULT_LOG_INTERVAL,
    ) -> metrics.Counter:
        """One conversation's count (the SDK's), logged as this stream's detail."""
        counter = super().get_record_counter(endpoint=endpoint, log_interval=log_interval)
        counter.logger = self.conversation_metrics
        return counter

    def get_sync_timer(self) -> metrics.Timer:
        """One conversation's sync time (the SDK's), logged as this stream's detail."""
        timer = super().get_sync_timer()
        timer.logger = self.conversation_metrics
        return timer

    @contextmanager
    def account_records(self, context: Context | None, source: Source) -> Iterator[None]:
        """The account's messages, counted in one `record_count` metric with the
        account's context (logged every minute of a long read, and at its end); and its
        conversations listed as changed whose read gave no new message, named in a
        warning where there are more than a handful."""
        self._quiet_reads = []
        if not self.selected:
            yield
            return
        with metrics.record_counter(self.name, context=dict(context or {})) as counter:
            self._account_records = counter
            try:
                yield
            finally:
                self._account_records = None
        if len(self._quiet_reads) > QUIET_READS_WARNED:
            self.logger.warning(
                "%s: %s: %d conversations listed with new activity gave no new message "
                "when read (first: %s), read with %s; reactions and read receipts move "
                "activity too, but if messages are missing the provider reads that "
                "filter otherwise",
                source.name,
                describe(context),
                len(self._quiet_reads),
                self._quiet_reads[0],
                source.time_filter,
            )

    def read_partition(self, read: Read) -> Iterable[Record]:
        """One conversation's messages (a read that gives none new is counted). An error
        that is the account's alone is handed to the account's read, which ends there
        (`ConversationsStream.until_failed`)."""
        before = self._new_messages
        try:
            yield from self.strategy.messages(self, read)
        except ProviderError as error:
            if not self.accounts.owns(read.account_id, error):
                raise
            self.accounts.put_off(read.account_id, error)
            return
        if self._new_messages == before and not read.gone:
            self._quiet_reads.append(str(read.context.get("conversation_id")))

    def changed_at(self, record: Record) -> str:
        """Sent, or edited or deleted since: an edit of an old message is news too."""
        return changed_at(record)

    def kept(self, row: Record, read: Read) -> Record | None:
        """Attach the conversation, fill `sender.is_me` where it can be told, drop old ones."""
        partition = read.context
        row["conversation_id"] = partition.get("conversation_id")
        row["thread_id"] = partition.get("thread_id")
        record = super().kept(row, read)
        if record is None:
            return None
        sender = record.get("sender")
        if sender is not None and sender.get("is_me") is None:
            sender["is_me"] = self.strategy.is_me(sender, partition)
        self._new_messages += 1
        if self._account_records is not None:
            self._account_records.increment()
            self.ledger.emitted(str(partition.get("account_id")))
        return record
