"""The two streams. They know no provider: the adapter in `self.provider` does the talking."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from tap_linkedin_messages.client import Cutoff, InboxStream
from tap_linkedin_messages.concurrency import Prefetcher
from tap_linkedin_messages.grouping import ConversationSummary
from tap_linkedin_messages.normalize import datetime_to_rfc3339, parse_timestamp, profile_key
from tap_linkedin_messages.providers import ConversationGoneError, FileSource

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context

    from tap_linkedin_messages.providers import ApiRequest, Page


# Key of the lookback window in each account's `conversations` state.
LOOKBACK_WINDOW = "lookback_window"
# A bound on the window kept in memory (the inbox is read newest first, so only the
# first conversations of a run can fall in it).
WINDOW_PRUNE_AT = 1000


class ConversationsStream(InboxStream):
    """Conversations of the inbox, newest activity first; only changed ones on later runs."""

    name = "conversations"
    primary_keys = ("account_id", "conversation_id")
    replication_key = "last_activity_at"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Conversation ids already emitted this run: a conversation listed in two
        # categories is read (and paid for) once.
        self._emitted: set[str] = set()
        # The lookback window: conversations whose activity lies within `lookback_minutes`
        # of the bookmark, with that activity time. The previous run's copy (from state)
        # tells an unchanged conversation in the window from a changed one; this run's is
        # written to state when the run completes.
        self._window_before: dict[str, str] = {}
        self._window_seen: dict[str, str] = {}

    @property
    def partitions(self) -> list[dict]:
        """One partition per account and inbox category; state is kept per account only.

        Every account's settings are checked here, before the first request of the run.
        """
        for account_id in self.account_ids:
            self.source_for(account_id)
        return [
            {"account_id": account_id, "category": category}
            for account_id in self.account_ids
            for category in self.config["inbox_categories"]
        ]

    def request_for(self, *, cursor: str | None, page_size: int) -> ApiRequest:
        """One page of the inbox category being read."""
        return self.api.conversations_request(
            account_id=self._partition["account_id"],
            category=self._partition["category"],
            cursor=cursor,
            page_size=page_size,
            newer_than=self.newer_than,
        )

    def read_page(self, payload: Any) -> Page:
        """The adapter's conversation records."""
        return self.api.conversations_page(payload, category=self._partition["category"])

    @property
    def messages(self) -> MessagesStream:
        """The child stream."""
        (child,) = self.child_streams
        return cast("MessagesStream", child)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """One inbox category of one account."""
        self._window_before = dict(self.get_context_state(context).get(LOOKBACK_WINDOW) or {})
        try:
            yield from super().get_records(context)
        finally:
            self.messages.stop_prefetching()

    def fetch(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The provider's conversations, or, from a file source, conversations derived."""
        if isinstance(source := self.provider, FileSource):
            return self._conversations_from_messages(source.read_messages())
        if source.lists_messages:
            return self._conversations_from_messages(super().fetch(context))
        return super().fetch(context)

    def _conversations_from_messages(
        self, messages: Iterable[dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """Group a message-listing source's messages into conversations, newest first.

        Each conversation keeps a summary; only the messages the cutoff admits are kept,
        for the messages stream to emit when the SDK syncs that conversation.
        """
        summaries: dict[str, ConversationSummary] = {}
        new_messages: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            conversation_id = message["conversation_id"]
            summary = summaries.get(conversation_id)
            if summary is None:
                summary = summaries[conversation_id] = ConversationSummary(
                    conversation_id, message.get("thread_id")
                )
            summary.add(message)
            if self._cutoff is None or self._cutoff.admits(message["sent_at"]):
                new_messages.setdefault(conversation_id, []).append(message)
        ordered = sorted(summaries.values(), key=lambda s: s.newest["sent_at"] if s.newest else "")
        for summary in reversed(ordered):
            messages = new_messages.pop(summary.conversation_id, [])
            messages.sort(key=lambda m: m["sent_at"], reverse=True)
            self.messages.hand_over(summary.conversation_id, messages)
            yield summary.record()

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """One inbox page; with concurrency on, its changed conversations are announced."""
        records = list(super().parse_response(response))
        if self.messages.prefetching and not self.api.lists_messages:
            key = str(self.replication_key)
            changed = [
                {**record, "account_id": self._partition["account_id"]}
                for record in records
                if record.get(key)
                and (self._cutoff is None or self._cutoff.admits(record[key]))
                and self._changed(record)
            ]
            self.messages.announce([self.get_child_context(r, None) for r in changed])
        yield from records

    def _changed(self, record: dict) -> bool:
        """Not seen unchanged by the last run's lookback window, nor earlier in this run."""
        conversation_id = record["conversation_id"]
        return (
            self._window_before.get(conversation_id) != record["last_activity_at"]
            and conversation_id not in self._emitted
        )

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Drop conversations with no new activity, and repeats from another category."""
        record = super().post_process(row, context)
        if record is None or not self._changed(record):
            return None
        conversation_id, activity = record["conversation_id"], record["last_activity_at"]
        if len(self.config["inbox_categories"]) > 1:
            self._emitted.add(conversation_id)
        self._window_seen[conversation_id] = activity
        if len(self._window_seen) > WINDOW_PRUNE_AT:
            self._window_seen = dict(
                sorted(self._window_seen.items(), key=lambda item: item[1])[-WINDOW_PRUNE_AT:]
            )
        return record

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        """What `messages` needs to read one conversation, and to tell who "me" is."""
        last_message = record.get("last_message") or {}
        sender_key = profile_key(last_message.get("sender_profile_url"))
        participants = record.get("participants") or []
        their_profiles = {profile_key(person.get("profile_url")) for person in participants}
        if last_message.get("is_from_me") is False:
            their_profiles.add(sender_key)
        return {
            "account_id": record["account_id"],
            "conversation_id": record["conversation_id"],
            "thread_id": record.get("thread_id"),
            # Set when the last run read this conversation up to that time.
            "previous_activity_at": self._window_before.get(record["conversation_id"]),
            # Participants are "the other side" for every provider; the last message's
            # sender is me exactly when the provider says `is_from_me`.
            "my_profile": sender_key if last_message.get("is_from_me") else None,
            "their_profiles": sorted(key for key in their_profiles if key),
        }

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """At the end of the run: promote the bookmarks, then keep the new lookback window."""
        super().finalize_state_progress_markers(state)
        if state or not self.selected:
            return
        lookback = timedelta(minutes=float(self.config.get("lookback_minutes") or 0))
        for partition in self.partitions:
            partition_state = self.get_context_state(partition)
            bookmark = partition_state.get("replication_key_value")
            if not bookmark:
                continue
            since = datetime_to_rfc3339(parse_timestamp(bookmark) - lookback)
            candidates = {**partition_state.get(LOOKBACK_WINDOW, {}), **self._window_seen}
            partition_state[LOOKBACK_WINDOW] = {
                conversation_id: activity
                for conversation_id, activity in sorted(candidates.items())
                if activity > since
            }
        self._tap.state_writer.write_state(self.tap_state)
        self.ledger.report(self.logger)


class MessagesStream(InboxStream):
    """Messages of each changed conversation, newest first; only new ones on later runs."""

    name = "messages"
    parent_stream_type = ConversationsStream
    primary_keys = ("message_id",)
    replication_key = "sent_at"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        workers = int(self.config.get("max_concurrent_requests") or 1)
        self._prefetcher = Prefetcher(workers, self._fetch_in_worker) if workers > 1 else None
        self._worker_copies = threading.local()
        self._handed_over: dict[str, list[dict[str, Any]]] = {}

    def request_for(self, *, cursor: str | None, page_size: int) -> ApiRequest:
        """One page of the conversation being read."""
        return self.api.messages_request(
            account_id=self._partition["account_id"],
            conversation_id=self._partition["conversation_id"],
            cursor=cursor,
            page_size=page_size,
            newer_than=self.newer_than,
        )

    def read_page(self, payload: Any) -> Page:
        """The adapter's message records."""
        return self.api.messages_page(payload)

    def incremental_cutoff(self, context: Context | None) -> Cutoff | None:
        """The stream's cutoff, or later: a conversation the last run read up to a time."""
        cutoff = super().incremental_cutoff(context)
        previous = (context or {}).get("previous_activity_at")
        if previous and (cutoff is None or previous > cutoff.value):
            return Cutoff(previous, inclusive=False)
        return cutoff

    @property
    def prefetching(self) -> bool:
        """Whether conversations are fetched ahead, several at once."""
        return self._prefetcher is not None

    def announce(self, contexts: list[Context]) -> None:
        """Conversations whose messages will be asked for next (in that order)."""
        if self._prefetcher is not None:
            self._prefetcher.announce(contexts)

    def stop_prefetching(self) -> None:
        """End of an inbox partition (or an error): stop the workers."""
        if self._prefetcher is not None:
            self._prefetcher.close()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """One conversation's messages; one that vanished since it was listed is skipped."""
        try:
            yield from super().get_records(context)
        except ConversationGoneError as gone:
            self.logger.warning("Skipping a conversation that no longer exists: %s", gone)

    def hand_over(self, conversation_id: str, messages: list[dict[str, Any]]) -> None:
        """Messages a file source's conversation brought along (newest first)."""
        self._handed_over[conversation_id] = messages

    def fetch(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Handed-over messages (message-listing sources), or the SDK's paging loop."""
        if self.provider.lists_messages:
            handed = self._handed_over.pop((context or {}).get("conversation_id", ""), [])
            return ({k: v for k, v in m.items() if k != "conversation"} for m in handed)
        if self._prefetcher is None or context is None:
            return super().fetch(context)
        return self._prefetcher.take(context)

    def _fetch_in_worker(self, context: Context) -> Iterator[dict[str, Any]]:
        """Runs in a worker thread: the SDK's paging loop on this thread's copy of the stream.

        The cutoff comes from the run's state: the account's starting value, which the SDK
        wrote before it synced the account's first conversation (so before any prefetch).
        """
        cutoff = self.incremental_cutoff(context)
        copy = getattr(self._worker_copies, "stream", None)
        if copy is None:
            copy = MessagesStream(self._tap, ledger=self.ledger, gate=self.gate)
            self._worker_copies.stream = copy
        copy._partition, copy._cutoff = dict(context), cutoff
        copy._position = copy._items_read = 0
        return iter(copy.request_records(context))

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Attach the conversation, fill `sender.is_me` where it can be told, drop old ones."""
        partition = context or {}
        row["conversation_id"] = partition.get("conversation_id")
        row["thread_id"] = partition.get("thread_id")
        record = super().post_process(row, context)
        if record is None:
            return None
        sender = record.get("sender")
        if sender is not None and sender.get("is_me") is None:
            sender_key = profile_key(sender.get("profile_url"))
            if sender_key and sender_key == partition.get("my_profile"):
                sender["is_me"] = True
            elif sender_key and sender_key in partition.get("their_profiles", ()):
                sender["is_me"] = False
        return record
