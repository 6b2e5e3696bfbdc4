"""What one read of a partition needs, in one object, and the paging rules it follows.

A `Read` is created in a stream's `get_records` for its partition (an account, or one
conversation of an account) and, for each listing walked, copied with that listing
(`Read.walking`); it is handed to the paginator and to the prefetch workers. Nothing
of a read lives on the stream beyond the one being walked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pendulum
from singer_sdk.pagination import BaseAPIPaginator

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.normalize import datetime_to_rfc3339, parse_timestamp
from tap_linkedin_messages.providers.base import HttpSource
from tap_linkedin_messages.providers.pages import EMPTY_PAGE, Route, UnreadablePageError

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_linkedin_messages.providers.base import Position, Source
    from tap_linkedin_messages.providers.pages import Listing, Page
    from tap_linkedin_messages.records import Record


@dataclass(frozen=True)
class Cutoff:
    """Where an incremental read stops: records at or before `value` were emitted already.

    A bookmark is exclusive (its record was emitted by the run that set it); a bare
    `start_date` is inclusive ("nothing older is emitted").
    """

    value: str
    inclusive: bool

    def admits(self, timestamp: str) -> bool:
        """Is a record with this (normalised RFC 3339) timestamp new?"""
        return timestamp >= self.value if self.inclusive else timestamp > self.value

    @property
    def newer_than(self) -> datetime:
        """The cutoff as an exclusive datetime, for adapters that filter by time themselves."""
        moment = parse_timestamp(self.value)
        # An inclusive cutoff (start_date) admits its own millisecond.
        return moment - timedelta(milliseconds=1) if self.inclusive else moment


def start_date_floor(start_date: str | None) -> Cutoff | None:
    """`start_date`, inclusive: nothing older is emitted."""
    if not start_date:
        return None
    moment = cast("datetime", pendulum.parse(str(start_date)))
    return Cutoff(datetime_to_rfc3339(moment), inclusive=True)


def bookmark_cutoff(
    bookmark: datetime | None, *, start_date: str | None, lookback_minutes: float
) -> Cutoff | None:
    """The cutoff a bookmark sets: moved back by `lookback_minutes`, so items a provider
    indexes late (stamped a little before the bookmark) are still found; `start_date`
    stays a floor."""
    if bookmark is None:
        return None
    floor = start_date_floor(start_date)
    since = datetime_to_rfc3339(bookmark - timedelta(minutes=lookback_minutes))
    if floor is not None and since <= floor.value:
        return floor
    return Cutoff(since, inclusive=False)


def undated_warnings(page: Page, listing: Listing) -> list[str]:
    """What a page listed without the listing's time: left out where the page shape
    requires it, or, for an inbox, read every run."""
    warnings = []
    if page.left_out:
        warnings.append(
            f"{page.left_out} listed without a {listing.time_key} were left out "
            "(their messages are not read)"
        )
    undated = sum(1 for record in page.records if not record.get(listing.time_key))
    if undated and listing.route is Route.INBOX:
        warnings.append(
            f"{undated} listed without a {listing.time_key}: read every run, as nothing "
            "tells whether they changed (only their messages past the bookmark are emitted)"
        )
    return warnings


def describe(context: Context | None) -> str:
    """Which partition, in words, for error messages."""
    keys = ("account_id", "category", "conversation_id")
    return ", ".join(f"{key} {context[key]}" for key in keys if context and context.get(key))


@dataclass
class Read:
    """One read: the partition, its source and cutoff, the listing being walked (if any),
    and what the walk has read so far."""

    context: Context
    source: Source
    cutoff: Cutoff | None
    #: The position the account's last run left, for a source that keeps one (None: a
    #: first run, or a source read by activity time).
    resume_from: Position | None = None
    listing: Listing | None = None
    #: Called with each page's records before they are emitted (prefetch announcements).
    on_page: Callable[[list[Record]], None] | None = None
    #: Items the listing returned so far (page sizes grow with it).
    items_read: int = 0
    #: Pages read so far.
    pages: int = 0
    #: Records the stream has completed so far (`InboxStream.kept`; named in errors).
    position: int = 0
    #: Whether the conversation read was found gone (skipped, not a read that gave nothing).
    gone: bool = False
    #: Credits the ledger reserved for the request in flight.
    reserved: int = 0
    #: The last answer, with its decoded body and its page once read.
    answer: tuple[requests.Response, Any, Page | None] | None = field(default=None, repr=False)
    #: The oldest time the walk has seen, and the ids seen at exactly that time.
    oldest: str | None = None
    ids_at_oldest: set[str] = field(default_factory=set)

    def walking(
        self,
        listing: Listing,
        context: Context | None = None,
        on_page: Callable[[list[Record]], None] | None = None,
    ) -> Read:
        """This read, at the start of one of its listings."""
        return replace(
            self,
            listing=listing,
            context=context or self.context,
            on_page=on_page,
            items_read=0,
            pages=0,
            reserved=0,
            answer=None,
            oldest=None,
            ids_at_oldest=set(),
        )

    @property
    def api(self) -> HttpSource:
        """The source as an HTTP API (a listing is only walked for one)."""
        if not isinstance(self.source, HttpSource):
            msg = f"{self.source.name} reads files; it has no HTTP requests"
            raise TypeError(msg)
        return self.source

    @property
    def account_id(self) -> str:
        """The account the read belongs to."""
        return str(self.context.get("account_id"))

    @property
    def label(self) -> str:
        """`linkup: messages of account_id acc_1, conversation_id urn:...`."""
        return describe(self.context)

    @property
    def newer_than(self) -> datetime | None:
        return self.cutoff.newer_than if self.cutoff is not None else None

    def page_size(self, largest: int, cursor: str | None) -> int:
        """Items to ask for in the next request of this listing (the page at `cursor`).

        A full sync, a listing in no time order, or a page the provider filters by time
        itself (only new items come back) asks for `page_size`. Otherwise an incremental
        read starts at the provider's billing unit, where most reads end (a few new items
        and the one older item that shows where to stop), and grows with what the listing
        has read: each page is a tenth of the items read so far (in whole billing units,
        up to `page_size`). Only the page that crosses the bookmark can return items
        nobody needed, so the credits wasted stay under a tenth of the credits needed; a
        long backlog still takes few requests, the pages growing by 10% each.
        """
        if self.cutoff is None or self.cutoff.inclusive or not self._newest_first:
            return largest
        filtered = self.listing.filtered if self.listing is not None else None
        if filtered is not None and filtered(cursor):
            return largest
        unit = self.api.billing_unit
        return max(unit, min(largest, self.items_read // 10 // unit * unit))

    @property
    def _newest_first(self) -> bool:
        return self.listing is not None and self.listing.newest_first

    def check(self, page: Page, label: str) -> list[Record]:
        """The page's records, once it is known not to repeat what this listing returned.

        Providers list newest first, so a page holding anything newer than the previous
        page's oldest record means the provider is looping: the run stops rather than
        paying for and emitting duplicates. A page that starts again with the previous
        page's last item(s) is an inclusive cursor, not a loop: those are dropped (a page
        with nothing else is stuck, and stops the run too).
        """
        listing = self.listing
        if listing is None or not listing.newest_first or not page.records:
            return page.records
        id_key, time_key = listing.id_key, listing.time_key
        kept = page.records
        if self.oldest is not None:
            newer = [r[id_key] for r in page.records if (r[time_key] or "") > self.oldest]
            boundary = {r[id_key] for r in page.records if r[id_key] in self.ids_at_oldest}
            if newer or (boundary and len(boundary) == len(page.records)):
                repeated = newer or sorted(boundary)
                msg = (
                    f"{label}: page {self.pages + 1} repeats {len(repeated)} item(s) "
                    f"an earlier page returned (first: {repeated[0]}); stopping rather than "
                    "emitting duplicates"
                )
                raise ProviderError(msg)
            kept = [r for r in page.records if r[id_key] not in boundary]
        # A record without a time (a chat nobody dated) says nothing of the order.
        times = [record[time_key] for record in kept if record[time_key]]
        if not times:
            return kept
        oldest = min(times)
        at_oldest = {r[id_key] for r in kept if r[time_key] == oldest}
        if oldest == self.oldest:
            at_oldest |= self.ids_at_oldest
        self.oldest, self.ids_at_oldest = oldest, at_oldest
        return kept

    def remember(self, response: requests.Response, payload: Any) -> None:
        """The decoded body of the answer just validated (None: the listing ended)."""
        self.answer = (response, payload, None)

    def page_of(self, response: requests.Response) -> Page:
        """The page an answer holds, read once however often it is asked for."""
        if self.answer is None or self.answer[0] is not response or self.listing is None:
            msg = "page_of() called for a response that was not validated"
            raise RuntimeError(msg)
        _, payload, page = self.answer
        if page is None:
            try:
                page = EMPTY_PAGE if payload is None else self.listing.page(payload)
            except UnreadablePageError as unreadable:
                msg = (
                    f"{self.source.name}: {self.listing.route} page {self.pages + 1} of "
                    f"{self.label}: {unreadable}; stopping, nothing of this page emitted"
                )
                raise ProviderError(msg) from None
            self.answer = (response, payload, page)
        return page


class ListingPaginator(BaseAPIPaginator[str | None]):
    """Follows a provider's cursor to its end, or until a page reaches the cutoff.

    Providers list newest first, so once the oldest record of a page is not new, no
    later page can hold a new one: asking for it would only cost credits. A listing in
    no time order is followed to its end.
    """

    def __init__(self, read: Read, label: str) -> None:
        super().__init__(None)
        self.read = read
        self._label = label

    @property
    def _listing(self) -> Listing:
        assert self.read.listing is not None  # a paginator is made for a walk
        return self.read.listing

    def advance(self, response: requests.Response) -> None:
        """The SDK's advance, whose loop detection (a repeated cursor) ends in one line."""
        try:
            super().advance(response)
        except RuntimeError as loop:
            msg = f"{self._label}: the provider sent the same cursor twice ({loop})"
            raise ProviderError(msg) from None

    def has_more(self, response: requests.Response) -> bool:
        """False at the provider's end, or when this page already reached the cutoff."""
        page = self.read.page_of(response)
        if not page.next_cursor or not page.items:
            return False
        cutoff = self.read.cutoff
        if cutoff is None or not page.records or not self._listing.newest_first:
            return True
        times = [record[self._listing.time_key] for record in page.records]
        dated = [time for time in times if time]
        return not dated or cutoff.admits(min(dated))

    def continue_if_empty(self, response: requests.Response) -> bool:
        """A page whose items the adapter all skipped is not the end of the listing."""
        return self.has_more(response)

    def get_next(self, response: requests.Response) -> str | None:
        """The provider's cursor for the next page."""
        return self.read.page_of(response).next_cursor
