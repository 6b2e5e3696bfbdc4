"""The one small interface every provider adapter implements.

The streams speak only this interface: they ask an adapter for the request of a page
(given a cursor), hand it the decoded response body, and get back our records, the next
cursor and what the page cost. HTTP itself (sessions, retries, backoff, timeouts) stays
in the streams, shared by every adapter through the SDK's machinery.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.exceptions import FatalAPIError

from tap_linkedin_messages.redaction import redact

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import datetime

    import requests

Record = dict[str, Any]


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request, relative to the provider's `api_url`."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing, already turned into our records (newest first)."""

    records: list[Record]
    #: The cursor of the next (older) page; None at the end.
    next_cursor: str | None
    #: Credits the provider billed for this page.
    credits: int
    #: Items the response held (an adapter may skip some, e.g. empty conversations);
    #: a response with none ends the listing.
    items: int


class ProviderError(FatalAPIError):
    """A provider answer that retrying cannot fix; its text is the one line users see."""


class ConversationGoneError(ProviderError):
    """The conversation being read no longer exists (deleted between listing and reading).

    The run logs it and goes on with the next conversation.
    """


def decode_json(response: requests.Response) -> Any:
    """A response body as JSON, or None where it is not (cut off, HTML, empty)."""
    try:
        return response.json()
    except ValueError:
        return None


class Source(ABC):
    """Where an inbox is read from: an API (`Provider`) or a downloaded file (`FileSource`)."""

    #: The value of the `provider` setting that selects this adapter.
    name: ClassVar[str]
    #: Settings this provider cannot run without (checked before any request).
    required_settings: ClassVar[tuple[str, ...]]
    #: The `inbox_categories` values this provider can list.
    supported_categories: ClassVar[tuple[str, ...]] = (
        "INBOX",
        "UNREAD",
        "MY_CONNECTIONS",
        "INMAIL",
        "STARRED",
    )

    #: Sources that list messages, not conversations (LinkedIn's own routes: the data
    #: export, the portability API). Their message records carry a `conversation` entry
    #: (`category`, `participants` other than the member) from which the conversations
    #: stream derives conversation records.
    lists_messages: ClassVar[bool] = False

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


class FileSource(Source):
    """A file the member downloaded from LinkedIn: read locally, never requested."""

    lists_messages = True

    @abstractmethod
    def read_messages(self) -> Iterator[Record]:
        """Every message in the file(s), as our records plus their `conversation` entry."""


class Provider(Source):
    """A LinkedIn messaging API: its requests, cursors, payload shapes and error codes."""

    #: Public base URL, or None where each customer has their own (the setting is then required).
    default_api_url: ClassVar[str | None]
    #: Items per credit, as the provider bills them.
    billing_unit: ClassVar[int] = 10
    #: False where nothing is billed per item (the `max_credits` budget never stops it).
    bills_per_item: ClassVar[bool] = True

    def credits_for(self, item_count: int) -> int:
        """Credits for a page, billed per started block of `billing_unit` items (0: free).

        Providers that bill per account, not per item, report this too, so cost reports
        and the `max_credits` budget stay comparable across providers.
        """
        return math.ceil(item_count / self.billing_unit) if self.bills_per_item else 0

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
    def conversations_request(
        self,
        *,
        account_id: str,
        category: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """The request for one page of the inbox, newest activity first.

        `newer_than` (exclusive) is a hint, as for `messages_request`.
        """

    @abstractmethod
    def conversations_page(self, payload: Any, *, category: str) -> Page:
        """Our conversation records, next cursor and cost from one inbox response body.

        (Where `lists_messages`: message records, from one page of the message listing.)
        """

    @abstractmethod
    def messages_request(
        self,
        *,
        account_id: str,
        conversation_id: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """The request for one page of a conversation's messages, newest first.

        `newer_than` (exclusive) is a hint for providers that can filter by time on their
        side; the stream filters again, so adapters without such a filter ignore it.
        """

    @abstractmethod
    def messages_page(self, payload: Any) -> Page:
        """Our message records, next cursor and cost from one conversation response body."""

    @abstractmethod
    def check_response(self, response: requests.Response) -> Any:
        """Decode a response body, or raise.

        Raise `singer_sdk.exceptions.RetriableAPIError` for what may pass on retry,
        `ConversationGoneError` when a conversation's messages are asked for and the provider
        says it does not exist, and `ProviderError` (one line naming the provider, its
        error code and the setting to check, never a secret) for anything else that will
        not pass.
        """
