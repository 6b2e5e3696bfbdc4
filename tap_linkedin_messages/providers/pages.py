"""An adapter's requests and pages, as data: what a request asks (`ApiRequest`,
`PageAsk`) and how the provider spells it (`AskParams`), where an answer keeps its items
and cursor and how an item becomes our record (`PageShape`), and one listing to walk
(`Listing`, its `Route`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

from singer_sdk.helpers.jsonpath import extract_jsonpath

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from tap_linkedin_messages.records import Record


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request, relative to the provider's `api_url`."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None


@dataclass(frozen=True)
class PageAsk:
    """What a stream asks an adapter for: one page of one listing of one account."""

    account_id: str
    cursor: str | None
    page_size: int
    #: The inbox category (inbox listings).
    category: str | None = None
    #: The conversation whose messages are asked for (conversation listings).
    conversation_id: str | None = None
    #: Exclusive: a hint for providers that filter by time themselves (the stream
    #: filters again, so adapters without such a filter ignore it).
    newer_than: datetime | None = None


@dataclass(frozen=True)
class AskParams:
    """How a provider spells a `PageAsk` in its request: the parameter (or body field)
    each part goes under, None where it is not sent. Declared beside the page shapes."""

    cursor: str
    page_size: str
    #: The provider's most items per page (the ask's size is kept within 1 and this).
    max_page_size: int | None = None
    #: The inbox category, sent as is.
    category: str | None = None
    #: `(name, value)` sent for the UNREAD category only: INBOX sends no filter at all
    #: (a `false` would ask for read conversations only).
    unread: tuple[str, str] | None = None
    conversation_id: str | None = None
    #: The provider's time filter, from the ask's exclusive `newer_than`.
    newer_than: Callable[[datetime], dict[str, Any]] | None = None

    def of(self, ask: PageAsk, *, filter_by_time: bool = False) -> dict[str, Any]:
        """The ask's parameters; its time filter only where `filter_by_time` says the
        provider takes one on this page (`ConversationApi.filters_by_time`)."""
        size = ask.page_size
        if self.max_page_size is not None:
            size = max(1, min(self.max_page_size, size))
        params: dict[str, Any] = {self.page_size: size}
        if self.category is not None:
            params[self.category] = ask.category
        if self.unread is not None and ask.category == "UNREAD":
            params[self.unread[0]] = self.unread[1]
        if self.conversation_id is not None:
            params[self.conversation_id] = ask.conversation_id
        if ask.cursor:
            params[self.cursor] = ask.cursor
        if filter_by_time and self.newer_than is not None and ask.newer_than is not None:
            params.update(self.newer_than(ask.newer_than))
        return params


@dataclass(frozen=True)
class Page:
    """One page of a listing, already turned into our records."""

    records: list[Record]
    #: The cursor of the next page; None at the end.
    next_cursor: str | None
    #: Credits the provider billed for this page.
    credits: int
    #: Items the response held (some may not become records); none ends the listing.
    items: int
    #: Items left out for lacking the shape's `requires` field.
    left_out: int = 0


EMPTY_PAGE = Page([], None, 0, 0)


def first(expression: str, payload: Any) -> Any:
    """The first value a JSONPath finds in `payload` (None where it finds nothing)."""
    return next(iter(extract_jsonpath(expression, payload)), None)


class UnreadablePageError(ValueError):
    """An answer that does not hold its listing as documented (what is wrong, for the
    run's one line): read as an empty page, it would end the listing early, and the
    bookmark would pass what it held."""


def listed(container: str, payload: Any) -> list[Any]:
    """The list at `container` (a JSONPath): an empty list is an empty page; no list
    there at all is an `UnreadablePageError`."""
    found = first(container, payload) if isinstance(payload, dict) else None
    if not isinstance(found, list):
        msg = f"the answer holds no `{container.removeprefix('$.')}` list"
        raise UnreadablePageError(msg)
    return found


@dataclass(frozen=True)
class PageShape:
    """Where a provider's answer keeps its items and its next cursor, and how an item
    becomes our record: JSONPath expressions, as the SDK's `records_jsonpath` and
    `next_page_token_jsonpath`, or a function where a path cannot say it.
    """

    items: str | Callable[[Any], list[Any]]
    record: Callable[..., Record]
    cursor: str | Callable[[Any], Any]
    #: A flag that ends the listing when it is false (`hasMore`, `has_next_page`).
    more: str | None = None
    #: What the provider says the page cost; otherwise the adapter's per-item rule.
    credits: str | None = None
    #: Records without this field are left out (still counted as items, and named in a
    #: warning): a conversation with no activity time has nothing to bookmark.
    requires: str | None = None

    def read(self, payload: Any, credits_for: Callable[[int], int], **fields: Any) -> Page:
        """The page in `payload`; `fields` go to the record builder (the category)."""
        items = (
            self.items(payload)
            if callable(self.items)
            else listed(self.items.removesuffix("[*]"), payload)
        )
        build = partial(self.record, **fields) if fields else self.record
        records = [built_record(build, item, number) for number, item in enumerate(items, 1)]
        built = len(records)
        if self.requires:
            records = [record for record in records if record.get(self.requires)]
        cursor = self.cursor(payload) if callable(self.cursor) else first(self.cursor, payload)
        if self.more is not None and first(self.more, payload) is False:
            cursor = None
        billed = first(self.credits, payload) if self.credits else None
        return Page(
            records=records,
            next_cursor=str(cursor) if cursor not in (None, "") else None,
            # A count the provider could not have billed (negative, a flag) is not taken.
            credits=billed if type(billed) is int and billed >= 0 else credits_for(len(items)),
            items=len(items),
            left_out=built - len(records),
        )


#: What a record builder raises on a value of the wrong type or range (a time that is
#: no time, an object where a string was documented).
MALFORMED_VALUE = (ValueError, TypeError, AttributeError, KeyError, OSError, OverflowError)


def built_record(build: Callable[[Any], Record], item: Any, number: int) -> Record:
    """Item `number` of a page as our record; an `UnreadablePageError` saying which item, where
    it is no object or holds a value its builder cannot read."""
    if not isinstance(item, dict):
        msg = f"item {number} is {type(item).__name__}, not an object"
        raise UnreadablePageError(msg)
    try:
        return build(item)
    except MALFORMED_VALUE as error:
        msg = f"item {number} holds a value that cannot be read ({error})"
        raise UnreadablePageError(msg) from None


class Route(str, Enum):
    """What a listing lists: for the error tables (a rule may hold for one route only)
    and for messages."""

    INBOX = "inbox"
    CONVERSATION = "conversation"
    PEOPLE = "people"
    ACCOUNT = "account"
    SNAPSHOT = "snapshot"
    CHANGELOG = "changelog"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Listing:
    """One paged listing a stream walks: an adapter's request for a page at a cursor,
    and its reading of the answer."""

    #: What is listed, for the error table and messages.
    route: Route
    request: Callable[[str | None, int], ApiRequest]
    page: Callable[[Any], Page]
    #: The records' id and time fields.
    id_key: str
    time_key: str
    #: Newest first: paging stops at the cutoff, and a page repeating one is refused.
    newest_first: bool = True
    #: Whether the request for the page at a cursor asks the provider for nothing older
    #: than the cutoff: only new items come back (and are billed), so that page is asked
    #: at full size.
    filtered: Callable[[str | None], bool] | None = None


class People(dict[str, "Record"]):
    """A conversation's members (`records.member`), by every id its messages may name them."""

    @classmethod
    def of(cls, members: Iterable[Record]) -> People:
        people = cls()
        for member in members:
            for member_id in member["ids"]:
                people.setdefault(member_id, member)
        return people

    @property
    def others(self) -> list[Record]:
        """The participants other than the account owner, each once, as first listed."""
        seen: dict[int, Record] = {}
        for member in self.values():
            if member["is_me"] is not True:
                seen.setdefault(id(member), member["participant"])
        return list(seen.values())
