"""The adapter interface: two kinds of source, for the two ways an inbox can be read.

- `ConversationApi`: an API that lists the inbox's conversations, newest activity first,
  then each conversation's messages, newest first (LinkupAPI, ConnectSafely, Unipile).
- `MessageListing`: a source that lists messages, not conversations (LinkedIn's own
  routes: the data export and the portability API); conversations are derived from them.

`tap_linkedin_messages.strategies` reads each kind its own way; the streams know neither.
An adapter states, as data where it can: its requests, where a response keeps its items
and cursor (`PageShape`, in `pages`), how an item becomes our record
(`tap_linkedin_messages.records`), and what its errors mean (a table of `ErrorRule`s, in
`error_rules`, read by `HttpSource.decide`). HTTP itself (sessions, retries, backoff,
timeouts) stays in the streams, through the SDK.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import typing as th

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.providers.error_rules import (
    FIRST_RULES,
    LAST_RULES,
    NO_ANSWER,
    ErrorRule,
    Failure,
    decode_json,
    one_line,
)
from tap_linkedin_messages.providers.pages import (
    ApiRequest,
    Listing,
    Page,
    PageAsk,
    PageShape,
    People,
    Route,
)
from tap_linkedin_messages.redaction import SECRET_SETTINGS, redact, secrets_in
from tap_linkedin_messages.whole_reads import NOTHING_TO_SETTLE, Progress, Settle

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from contextlib import AbstractContextManager
    from datetime import datetime

    import requests

    from tap_linkedin_messages.records import Record

    #: Runs the SDK's paging loop over one listing, yielding its records.
    Walk = Callable[["Listing"], Iterable[Record]]


#: Every inbox category a provider may offer (LinkupAPI's list).
ALL_CATEGORIES = ("INBOX", "UNREAD", "MY_CONNECTIONS", "INMAIL", "STARRED")


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
        """Values that must never appear in a log line or an error message (the
        credentials, and a password written into `api_url`)."""
        own = {key: self.config.get(key) for key in (*SECRET_SETTINGS, "api_url")}
        return tuple(sorted(secrets_in(own)))

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
    #: How far the read got, shared by its stages: the index's read back goes on with it
    #: (None: the index says its own).
    progress: Progress | None = None


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

    def no_answer(
        self, error: requests.exceptions.RequestException, *, route: Route, first_page: bool
    ) -> Failure:
        """What a request that got no answer says, redacted and on one line."""
        return Failure(
            status=NO_ANSWER,
            code=type(error).__name__,
            message=one_line(self.redact(str(error))),
            route=route,
            first_page=first_page,
            decoded=False,
        )

    def rule_for(self, failure: Failure) -> ErrorRule:
        """The row of the error table that decides a failure: the first that matches."""
        rules = (*FIRST_RULES, *self.errors, *LAST_RULES)
        matched = next(r for r in rules if r.matches(failure))
        if matched in FIRST_RULES:
            # What happens is settled; the provider's row for it may say what to check.
            matched = next(
                (r for r in self.errors if r.outcome is matched.outcome and r.matches(failure)),
                matched,
            )
        return matched

    def decide(self, failure: Failure, response: requests.Response) -> None:
        """Raise what the error table says a failure is (nothing: the listing ended)."""
        self.rule_for(failure).apply(self.name, failure, response)

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
