"""The adapter interface: two kinds of source, for the two ways an inbox can be read.

- `ConversationApi`: an API that lists the inbox's conversations, newest activity first,
  then each conversation's messages, newest first (LinkupAPI, ConnectSafely, Unipile).
- `MessageListing`: a source that lists messages, not conversations (LinkedIn's own
  routes: the data export and the portability API); conversations are derived from them.

`tap_linkedin_messages.strategies` reads each kind its own way; the streams know neither.
An adapter states, as data where it can: its requests, where a response keeps its items
and cursor (`PageShape`), how an item becomes our record (`tap_linkedin_messages.records`),
and what its errors mean (a table of `ErrorRule`s, read by `HttpSource.check`). HTTP
itself (sessions, retries, backoff, timeouts) stays in the streams, through the SDK.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import typing as th
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.jsonpath import extract_jsonpath

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.message_index import NOTHING_TO_SETTLE, Settle
from tap_linkedin_messages.redaction import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from contextlib import AbstractContextManager
    from datetime import datetime

    import requests

    from tap_linkedin_messages.records import Record

    #: Runs the SDK's paging loop over one listing, yielding its records.
    Walk = Callable[["Listing"], Iterable[Record]]

#: A provider's error text longer than this is cut: some put a whole page in it.
MAX_ERROR_TEXT = 300
#: Every inbox category a provider may offer (LinkupAPI's list).
ALL_CATEGORIES = ("INBOX", "UNREAD", "MY_CONNECTIONS", "INMAIL", "STARRED")


# --- requests and pages ----------------------------------------------------------------


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
        items = self.items(payload) if callable(self.items) else self._all(self.items, payload)
        build = partial(self.record, **fields) if fields else self.record
        records = [build(item) for item in items if isinstance(item, dict)]
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
            credits=billed if isinstance(billed, int) else credits_for(len(items)),
            items=len(items),
            left_out=built - len(records),
        )

    @staticmethod
    def _all(expression: str, payload: Any) -> list[Any]:
        return list(extract_jsonpath(expression, payload)) if isinstance(payload, dict) else []


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


# --- errors as data ----------------------------------------------------------------------


class ConversationGoneError(ProviderError):
    """The conversation being read no longer exists; the run skips it and goes on."""


class TransientError(RetriableAPIError):
    """An answer worth asking again; `hint` says what to check if it never passes."""

    def __init__(self, message: str, response: requests.Response, hint: str) -> None:
        super().__init__(message, response)
        self.hint = hint


class Outcome(Enum):
    """What a failed answer means for the run."""

    RETRY = "retry"
    FAIL = "fail"
    #: The conversation being read is gone: skip it.
    GONE = "gone"
    #: The listing has no more pages (a provider that says so with an error status).
    END = "end"


@dataclass(frozen=True)
class Failure:
    """What a failed answer says, read once: status, the provider's code and text."""

    status: int
    code: str | None
    message: str
    #: The listing that asked (`Listing.route`), and whether for its first page.
    route: Route
    first_page: bool
    #: Whether the body was JSON at all.
    decoded: bool

    @property
    def text(self) -> str:
        """The code and the message, for an error rule's `text` to search."""
        return f"{self.code or ''} {self.message}"

    def label(self, provider: str) -> str:
        """`linkup: INVALID_API_KEY (HTTP 403): Invalid key`."""
        phrase = self.code or (_status_phrase(self.status) if self.status >= 400 else "error")
        detail = f": {self.message}" if self.message else ""
        return f"{provider}: {phrase} (HTTP {self.status}){detail}"


@dataclass(frozen=True)
class ErrorRule:
    """One row of a provider's error table: what an answer must look like, what it means,
    and what to check (naming only the settings that can cause it).

    Every condition given must hold; `text` is searched in the code and the message.
    """

    outcome: Outcome
    hint: str = ""
    status: Collection[int] | None = None
    text: re.Pattern[str] | None = None
    route: str | None = None
    first_page: bool | None = None
    decoded: bool | None = None

    def matches(self, failure: Failure) -> bool:
        return (
            (self.status is None or failure.status in self.status)
            and (self.route is None or failure.route == self.route)
            and (self.first_page is None or failure.first_page == self.first_page)
            and (self.decoded is None or failure.decoded == self.decoded)
            and (
                self.text is None
                or bool(self.text.search(f"{failure.code or ''} {failure.message}"))
            )
        )

    def apply(self, provider: str, failure: Failure, response: requests.Response) -> None:
        """Raise what the outcome calls for (nothing for the end of a listing)."""
        line = failure.label(provider)
        if self.outcome is Outcome.END:
            return
        if self.outcome is Outcome.RETRY:
            reason = line if failure.decoded else f"{line} - a body that is not JSON"
            raise TransientError(reason, response, self.hint)
        if self.outcome is Outcome.GONE:
            raise ConversationGoneError(line)
        raise ProviderError(f"{line} - {self.hint}" if self.hint else line)


def rule(outcome: Outcome, hint: str = "", **conditions: Any) -> ErrorRule:
    """An `ErrorRule`; `text` may be given as a pattern string."""
    text = conditions.pop("text", None)
    return ErrorRule(
        outcome,
        hint,
        text=re.compile(text, re.IGNORECASE) if isinstance(text, str) else text,
        **conditions,
    )


def rejected_parameters(settings: Mapping[str, str], cursor: str) -> tuple[ErrorRule, ...]:
    """Rules for a 400 that names a query parameter: the setting it came from, or, for
    the provider's own cursor (`cursor`, a pattern), that only a new run helps."""
    return (
        *(
            rule(
                Outcome.FAIL,
                f"the request's `{parameter}` was rejected; check the `{setting}` setting",
                status={400},
                text=rf"\b{parameter}\b",
            )
            for parameter, setting in settings.items()
        ),
        rule(
            Outcome.FAIL,
            "the provider rejected its own cursor; run the tap again",
            status={400},
            text=rf"\b({cursor})\b",
        ),
    )


SERVER_ERRORS = range(500, 600)
#: The text of an error body that holds neither a code nor a message.
SAYS_NOTHING = re.compile(r"^\s*$")
RETRY_LATER = "the provider is failing or limiting requests: run again later"
NOT_JSON = "answers that are not JSON: check the `api_url` setting"
#: What holds before any provider's table, whatever its rows say:
#: - one conversation's read (its messages, its members) answering 404 means it is gone,
#:   whatever code the provider puts on it (none documents how a conversation deleted
#:   since it was listed answers); the strategy asks the account again before skipping
#:   it, so an account problem still stops the run, named by the account's own answer;
#: - rate limits and server errors are retried.
#: A provider's row with the same outcome may still say what to check (`decide`).
FIRST_RULES = (
    rule(Outcome.GONE, status={404}, route=Route.CONVERSATION),
    rule(Outcome.GONE, status={404}, route=Route.PEOPLE),
    rule(Outcome.RETRY, RETRY_LATER, status={429}),
    rule(Outcome.RETRY, RETRY_LATER, status=SERVER_ERRORS),
)
#: What holds after every provider's table: a body that is not JSON (cut off, or an
#: HTML page) is asked again, and anything else stops the run.
LAST_RULES = (
    rule(Outcome.RETRY, NOT_JSON, decoded=False),
    rule(Outcome.FAIL, "an answer the tap does not know; check the tap settings"),
)


def decode_json(response: requests.Response) -> Any:
    """A response body as JSON, or None where it is not (cut off, HTML, empty)."""
    try:
        return response.json()
    except ValueError:
        return None


def one_line(text: str) -> str:
    """Provider text fit for a one-line error: whitespace collapsed, length capped."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_ERROR_TEXT else flat[: MAX_ERROR_TEXT - 1] + "…"


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


# --- sources -------------------------------------------------------------------------------

#: The account records are filed under where a provider reads a default account and
#: the settings name none (ConnectSafely, the export).
DEFAULT_ACCOUNT = "default"

#: Settings several providers share: how to reach the API, and whose inbox.
CONNECTION_SETTINGS = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType(min_length=1),
        secret=True,
        title="API key",
        description=(
            "The provider's API key (LinkupAPI and Unipile: sent as the `x-api-key` "
            "header; ConnectSafely: as a bearer token)."
        ),
    ),
    th.Property(
        "account_id",
        th.StringType(min_length=1),
        title="Account ID",
        description=(
            "The provider's id of the LinkedIn account whose inbox is read "
            "(required for `linkup` and `unipile`; ConnectSafely uses the default "
            "account when it is left out)."
        ),
    ),
    th.Property(
        "api_url",
        th.StringType(pattern=r"^https?://\S+$"),
        title="API URL",
        description=(
            "Base URL of the provider's API. Defaults to the provider's public host "
            "(LinkupAPI: https://api.linkupapi.com, ConnectSafely: "
            "https://api.connectsafely.ai/linkedin); required for Unipile, whose "
            "base URL is your account's DSN (https://apiN.unipile.com:PORT)."
        ),
    ),
)


class Source(ABC):
    """Where an inbox is read from, configured for one account."""

    #: The value of the `provider` setting that selects this adapter.
    name: ClassVar[str]
    #: A line for the `provider` setting's description.
    title: ClassVar[str]
    #: Settings only this provider has (`tap.py` composes everyone's).
    settings: ClassVar[th.PropertiesList] = th.PropertiesList()
    #: Settings this provider cannot run without (checked before any request).
    required_settings: ClassVar[tuple[str, ...]]
    #: The `inbox_categories` values this provider can list.
    supported_categories: ClassVar[tuple[str, ...]] = ALL_CATEGORIES
    #: How a conversation's read stops at the bookmark, for the warning that a provider
    #: may read it otherwise (a time filter the provider applies, where one is sent).
    time_filter: ClassVar[str] = "paging that stops at the first message not newer"

    def __init__(self, config: Mapping[str, Any]) -> None:
        """Keep the tap's (validated) config, merged with one account's settings."""
        self.config = config

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line or an error message."""
        return tuple(
            str(self.config[key])
            for key in ("api_key", "login_token", "access_token")
            if self.config.get(key)
        )

    def redact(self, text: str) -> str:
        """`text` with every secret value masked, for anything we log or raise."""
        return redact(text, self.secrets)


#: Where a source that lists messages reads from next: its own, in the state (JSON).
Position = dict[str, Any]


@dataclass
class Listed:
    """What a source that lists messages read: its messages, as far as each row tells,
    and what it settles in them once they are all read (`Settle`)."""

    messages: Iterable[Record]
    settle: Settle = NOTHING_TO_SETTLE
    #: True: everything the source holds (an archive, a snapshot), in which only what
    #: earlier runs did not emit is new (`tap_linkedin_messages.emitted`). False: only
    #: what changed since the position (a changelog), all of it new.
    whole: bool = True
    #: Where the next read starts, set once `messages` are all read (None: the source
    #: keeps no position).
    position: Position | None = None


class MessageListing(Source):
    """A source that lists messages; conversations are derived from them.

    Its message records carry a `conversation` entry (`title`, `category`, and the
    people its row names) from which conversation records are derived. What is new is
    told by the source, not by message times: a message can become visible after newer
    ones were read (a later archive, an event processed late), so the streams' bookmarks
    do not filter it.
    """

    #: How its message ids are made: raised when that changes, so that a state an earlier
    #: version left (whose record of what was emitted names the old ids) is told apart.
    message_ids: ClassVar[int] = 1
    #: What the warning says changed, when a state of an earlier `message_ids` is read.
    message_ids_changed: ClassVar[str] = ""

    @abstractmethod
    def read_messages(
        self, walk: Walk, position: Position | None
    ) -> AbstractContextManager[Listed]:
        """The messages the source reveals from `position` (the one the last read left;
        None: a first read), for as long as the context is open (what settles them may
        hold temporary files).

        Sources that read over HTTP hand their listings to `walk`.
        """


class HttpSource(Source):
    """A source read over HTTP: its base URL, credentials, billing and error table."""

    #: Public base URL, or None where each customer has their own (the setting is then required).
    default_api_url: ClassVar[str | None]
    #: Items per credit, as the provider bills them.
    billing_unit: ClassVar[int] = 10
    #: False where nothing is billed per item (the `max_credits` budget never stops it).
    bills_per_item: ClassVar[bool] = True
    #: The provider's error table, read after `FIRST_RULES` and before `LAST_RULES`; the
    #: first match decides (no row may be shadowed by an earlier one: a test checks).
    errors: ClassVar[tuple[ErrorRule, ...]] = ()

    def credits_for(self, item_count: int) -> int:
        """Credits for a page, billed per started block of `billing_unit` items (0: free).

        Providers that bill per account, not per item, report this too, so cost reports
        and the `max_credits` budget stay comparable across providers.
        """
        return math.ceil(item_count / self.billing_unit) if self.bills_per_item else 0

    def credits_for_failure(self, failure: Failure) -> int:
        """Credits a failed request costs (none, unless a provider bills them)."""
        return 0

    @property
    def api_url(self) -> str:
        """The base URL requests go to."""
        url = self.config.get("api_url") or self.default_api_url
        if not url:
            msg = f"{self.name}: the `api_url` setting is required for this provider"
            raise ProviderError(msg)
        return str(url).rstrip("/")

    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a request."""

    @abstractmethod
    def succeeded(self, status: int, payload: Any) -> bool:
        """Whether an answer is the provider's success (`payload`: None if not JSON)."""

    @abstractmethod
    def error_of(self, payload: Any) -> tuple[Any, Any]:
        """The code and text of an error body, as the provider writes them (or None)."""

    def failure(
        self, response: requests.Response, payload: Any, *, route: Route, first_page: bool
    ) -> Failure:
        """What a failed answer says, redacted and on one line."""
        code, message = self.error_of(payload)
        clean_code = one_line(self.redact(str(code))) if code not in (None, "") else None
        return Failure(
            status=response.status_code,
            code=clean_code or None,
            message=one_line(self.redact(str(message or ""))),
            route=route,
            first_page=first_page,
            decoded=payload is not None,
        )

    def answer(
        self, response: requests.Response, *, route: Route, first_page: bool
    ) -> tuple[Any, Failure | None]:
        """The decoded body, and what went wrong if the answer is not a success."""
        payload = decode_json(response)
        if self.succeeded(response.status_code, payload):
            return payload, None
        return payload, self.failure(response, payload, route=route, first_page=first_page)

    def decide(self, failure: Failure, response: requests.Response) -> None:
        """Raise what the error table says a failure is (nothing: the listing ended)."""
        rules = (*FIRST_RULES, *self.errors, *LAST_RULES)
        matched = next(r for r in rules if r.matches(failure))
        if matched in FIRST_RULES:
            # What happens is settled; the provider's row for it may say what to check.
            matched = next(
                (r for r in self.errors if r.outcome is matched.outcome and r.matches(failure)),
                matched,
            )
        matched.apply(self.name, failure, response)

    def check(self, response: requests.Response, *, route: Route, first_page: bool = True) -> Any:
        """The decoded body of a successful answer (None: the listing ended), or raise."""
        payload, failure = self.answer(response, route=route, first_page=first_page)
        if failure is None:
            return payload
        self.decide(failure, response)
        return None


class ConversationApi(HttpSource):
    """An API that lists conversations, newest activity first, then each one's messages."""

    #: Where an inbox page keeps its conversations and cursor, and their record builder
    #: (called with the listing's `category`).
    inbox_shape: ClassVar[PageShape]
    #: The same for a page of one conversation's messages.
    conversation_shape: ClassVar[PageShape]

    @abstractmethod
    def inbox_request(self, ask: PageAsk) -> ApiRequest:
        """The request for one page of an inbox category, newest activity first."""

    @abstractmethod
    def conversation_request(self, ask: PageAsk) -> ApiRequest:
        """The request for one page of a conversation's messages, newest first."""

    def filters_by_time(self, cursor: str | None) -> bool:
        """Whether `conversation_request` at this cursor, on an incremental read, asks the
        provider for newer messages only (its `newer_than` sent as a time filter)."""
        return False

    def people(self, account_id: str, conversation_id: str) -> Listing | None:
        """Who is in a conversation (`records.member`s), where the provider's messages
        name their senders by id only and one more request names them; None otherwise."""
        return None

    def health(self, account_id: str) -> Listing | None:
        """One request before an account's inbox is read, whose page warns where the
        provider would serve stale data (a disconnected account); None: no such check."""
        return None

    def inbox_page(self, payload: Any, *, category: str | None) -> Page:
        """Our conversation records, cursor and cost from one inbox answer."""
        return self.inbox_shape.read(payload, self.credits_for, category=category)

    def conversation_page(self, payload: Any, people: People | None = None) -> Page:
        """Our message records, cursor and cost from one conversation answer (`people`:
        who the conversation's `people()` listing named, for the sender ids)."""
        fields = {"people": people} if people is not None else {}
        return self.conversation_shape.read(payload, self.credits_for, **fields)

    def inbox(self, account_id: str, category: str) -> Listing:
        """An inbox category of one account, as a listing to walk."""
        return Listing(
            route=Route.INBOX,
            request=lambda cursor, size: self.inbox_request(
                PageAsk(account_id, cursor, size, category=category)
            ),
            page=partial(self.inbox_page, category=category),
            id_key="conversation_id",
            time_key="last_activity_at",
        )

    def conversation(
        self,
        account_id: str,
        conversation_id: str,
        newer_than: datetime | None,
        people: People | None = None,
    ) -> Listing:
        """One conversation's messages, as a listing to walk."""
        return Listing(
            route=Route.CONVERSATION,
            request=lambda cursor, size: self.conversation_request(
                PageAsk(
                    account_id,
                    cursor,
                    size,
                    conversation_id=conversation_id,
                    newer_than=newer_than,
                )
            ),
            page=partial(self.conversation_page, people=people),
            id_key="message_id",
            time_key="sent_at",
            filtered=self.filters_by_time if newer_than is not None else None,
        )
