"""The shared base of both streams: the SDK's HTTP machinery driven by a provider adapter.

Sessions, retries with backoff, timeouts and request metrics are the SDK's
(`RESTStream`); this module only wires them to the adapter the `provider` setting names,
and adds what every provider shares: the incremental cutoff and the early stop of
newest-first paging.
"""

from __future__ import annotations

import importlib.resources
import random
from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlsplit

import pendulum
from requests.utils import get_environ_proxies
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema
from singer_sdk.authenticators import SimpleAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams.rest import HTTPRequest

from tap_linkedin_messages.normalize import datetime_to_rfc3339, parse_timestamp
from tap_linkedin_messages.providers import Provider, ProviderError, build_provider
from tap_linkedin_messages.redaction import mask_secrets_in_logs

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable

    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import PageContext

    from tap_linkedin_messages.concurrency import RequestGate
    from tap_linkedin_messages.ledger import CreditLedger
    from tap_linkedin_messages.providers import ApiRequest, Page, Source

SCHEMAS = SchemaDirectory(importlib.resources.files("tap_linkedin_messages") / "schemas")


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


class CursorPaginator(BaseAPIPaginator[str | None]):
    """Follows a provider's cursor to its end, or until a page reaches the cutoff.

    Providers list newest first, so once the oldest record of a page is not new, no
    later page can hold a new one: asking for it would only cost credits. For the same
    reason a page holding anything newer than the previous page's oldest record, or one
    of its records again, means the provider is looping: the run stops rather than
    paying for and emitting duplicates.
    """

    def __init__(
        self,
        page_of: Callable[[requests.Response], Page],
        *,
        id_key: str,
        replication_key: str,
        cutoff: Cutoff | None,
        label: str,
        ordered: bool = True,
    ) -> None:
        super().__init__(None)
        self._ordered = ordered
        self._page_of = page_of
        self._id_key = id_key
        self._replication_key = replication_key
        self._cutoff = cutoff
        self._label = label
        self._oldest: str | None = None
        self._ids_at_oldest: set[str] = set()

    def check(self, page: Page) -> None:
        """Refuse a page that repeats what this listing already returned."""
        times = [record[self._replication_key] or "" for record in page.records]
        if not times or not self._ordered:
            return
        if self._oldest is not None:
            repeated = [
                record[self._id_key]
                for record in page.records
                if (record[self._replication_key] or "") > self._oldest
                or record[self._id_key] in self._ids_at_oldest
            ]
            if repeated:
                msg = (
                    f"{self._label}: page {self.count + 1} repeats {len(repeated)} item(s) "
                    f"an earlier page returned (first: {repeated[0]}); stopping rather than "
                    "emitting duplicates"
                )
                raise ProviderError(msg)
        self._oldest = min(times)
        self._ids_at_oldest = {
            record[self._id_key]
            for record in page.records
            if record[self._replication_key] == self._oldest
        }

    def advance(self, response: requests.Response) -> None:
        """The SDK's advance, whose loop detection (a repeated cursor) ends in one line."""
        try:
            super().advance(response)
        except RuntimeError as loop:
            msg = f"{self._label}: the provider sent the same cursor twice ({loop})"
            raise ProviderError(msg) from None

    def has_more(self, response: requests.Response) -> bool:
        """False at the provider's end, or when this page already reached the cutoff."""
        page = self._page_of(response)
        if not page.next_cursor or not page.items:
            return False
        if self._cutoff is None or not page.records:
            return True
        times = [record[self._replication_key] for record in page.records]
        return all(times) and self._cutoff.admits(min(times))

    def continue_if_empty(self, response: requests.Response) -> bool:
        """A page whose items the adapter all skipped is not the end of the listing."""
        return self.has_more(response)

    def get_next(self, response: requests.Response) -> str | None:
        """The provider's cursor for the next (older) page."""
        return self._page_of(response).next_cursor


class InboxStream(RESTStream[str | None]):
    """Base of `conversations` and `messages`: one provider adapter behind the SDK."""

    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS)
    # Providers list newest first: the SDK keeps the running maximum in progress markers
    # and promotes it to the bookmark (capped at the sync's start) only when the sync ends,
    # so a run that dies half-way leaves the previous bookmark in place.
    is_sorted = False
    # One bookmark per stream and account, however many conversations there are.
    state_partitioning_keys: ClassVar[tuple[str, ...]] = ("account_id",)

    def __init__(self, tap: Tap, *, ledger: CreditLedger, gate: RequestGate) -> None:
        super().__init__(tap)
        self.ledger = ledger
        self.gate = gate
        self._partition: Context = {}
        self._cutoff: Cutoff | None = None
        self._paginator: CursorPaginator | None = None
        self._position = 0
        self._items_read = 0
        self._reserved = 0
        self._last_response: tuple[requests.Response, Any, Page | None] | None = None
        self._sources: dict[str, Source] = {}
        self._authenticators: dict[str, SimpleAuthenticator] = {}
        self._proxies: dict[str, dict[str, str]] = {}

    # --- the adapter and its transport settings ----------------------------------------

    @property
    def account_ids(self) -> list[str]:
        """The accounts to read: each entry of `accounts`, or the single-account settings."""
        if accounts := self.config.get("accounts"):
            return [str(account["account_id"]) for account in accounts]
        # Providers that read a default account without an id file it under "default".
        return [str(self.config.get("account_id") or "default")]

    def source_for(self, account_id: str) -> Source:
        """One account's adapter: the tap's settings, overridden by that account's own."""
        if account_id not in self._sources:
            own: dict[str, Any] = next(
                (a for a in self.config.get("accounts") or [] if a["account_id"] == account_id),
                {},
            )
            source = build_provider({**self.config, **own})
            mask_secrets_in_logs(source.secrets)
            missing = [key for key in source.required_settings if not source.config.get(key)]
            if missing:
                msg = (
                    f"{source.name}: the `accounts` entry {account_id} has no "
                    f"{', '.join(f'`{key}`' for key in missing)} (nor has the tap's config)"
                )
                raise ProviderError(msg)
            self._sources[account_id] = source
        return self._sources[account_id]

    @property
    def provider(self) -> Source:
        """The adapter of the account whose partition is being read."""
        return self.source_for(str(self._partition.get("account_id") or self.account_ids[0]))

    @property
    def api(self) -> Provider:
        """The adapter as an API, for every HTTP step (a file source never reaches one)."""
        provider = self.provider
        if not isinstance(provider, Provider):
            msg = f"{provider.name} reads files; it has no HTTP requests"
            raise TypeError(msg)
        return provider

    @property
    def url_base(self) -> str:
        """The provider's base URL (the `api_url` setting, or the provider's public host)."""
        return self.api.api_url

    @property
    def path(self) -> str:  # type: ignore[override]
        """A label for request metrics: the adapter builds the real URLs."""
        return f"{self.provider.name}/{self.name}"

    @property
    def authenticator(self) -> SimpleAuthenticator:
        """The account's auth headers, added to each request right before it is sent."""
        account_id = str(self._partition.get("account_id") or self.account_ids[0])
        if account_id not in self._authenticators:
            self._authenticators[account_id] = SimpleAuthenticator(
                auth_headers=self.api.auth_headers()
            )
        return self._authenticators[account_id]

    @property
    def timeout(self) -> int:
        """Seconds to wait for one response (`request_timeout`)."""
        return int(self.config["request_timeout"])

    def backoff_max_tries(self) -> int:
        """The first attempt plus `max_retries` retries."""
        return int(self.config["max_retries"]) + 1

    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """Exponential waits from `backoff_base_seconds`; a `Retry-After` header wins."""
        base = float(self.config["backoff_base_seconds"])
        exception = yield  # type: ignore[misc]
        attempt = 0
        while True:
            retry_after = _retry_after_seconds(exception)
            exception = yield retry_after if retry_after is not None else base * 2**attempt
            attempt += 1

    def backoff_jitter(self, value: float) -> float:
        """Up to a quarter more than `value`, so parallel jobs do not retry in lockstep."""
        return value + random.uniform(0, value / 4)  # jitter only, not security

    def backoff_handler(self, details: Any) -> None:
        """Log each retry with its reason (never the request, which carries the key).

        A rate limit holds back every worker's next request, not only this one.
        """
        exception = details.get("exception")
        response = getattr(exception, "response", None)
        if response is not None and response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            self.gate.pause(float(details.get("wait", 0.0)))
        self.logger.warning(
            "Retrying %s request %d after %.2fs: %s",
            self.name,
            details.get("tries", 0),
            details.get("wait", 0.0),
            self.provider.redact(str(exception) or type(exception).__name__),
        )

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """The SDK's send (each retry included), within the run's concurrency limit."""
        # requests reads the proxy environment again on every send (about 1 ms, a tenth
        # of what a page of 100 messages costs here): read it once per host instead.
        host = urlsplit(prepared_request.url or "").netloc
        if host not in self._proxies:
            self._proxies[host] = get_environ_proxies(prepared_request.url or "")
        session = self.requests_session
        session.trust_env, session.proxies = False, self._proxies[host]
        with self.gate.slot():
            return super()._request(prepared_request, context)

    def validate_response(self, response: requests.Response) -> None:
        """The adapter decides what is retriable, fatal or fine, and decodes the body once."""
        self._last_response = (response, self.api.check_response(response), None)

    # --- pages ---------------------------------------------------------------------------

    @abstractmethod
    def request_for(self, *, cursor: str | None, page_size: int) -> ApiRequest:
        """The adapter's request for the page at `cursor` of the current partition."""

    @abstractmethod
    def read_page(self, payload: Any) -> Page:
        """The adapter's reading of one decoded response body."""

    def page_of(self, response: requests.Response) -> Page:
        """The page a response holds, read once however often it is asked for."""
        if self._last_response is None or self._last_response[0] is not response:
            msg = "page_of() called for a response that was not validated"
            raise RuntimeError(msg)
        _, payload, page = self._last_response
        if page is None:
            page = self.read_page(payload)
            self._last_response = (response, payload, page)
        return page

    def page_size(self) -> int:
        """Items to ask for in the next request of the partition being read.

        A full sync asks for `page_size`. An incremental read starts at the provider's
        billing unit, where most reads end (a few new items and the one older item that
        shows where to stop), and grows with what the partition has read: each page is
        a tenth of the items read so far (in whole billing units, up to `page_size`).
        Only the page that crosses the bookmark can return items nobody needed, so the
        credits wasted stay under a tenth of the credits needed; a long backlog still
        takes few requests, the pages growing by 10% each.
        """
        largest = int(self.config["page_size"])
        if self._cutoff is None or self._cutoff.inclusive:
            return largest
        unit = self.api.billing_unit
        return max(unit, min(largest, self._items_read // 10 // unit * unit))

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The adapter's request, on the SDK's session, headers and auth."""
        page_size = self.page_size()
        self._reserved = self.ledger.authorize(self.name, self.api.credits_for(page_size))
        request = self.request_for(cursor=page.next_page_token, page_size=page_size)
        return HTTPRequest(
            url=self.url_base + request.path,
            method=request.method,
            params=request.params,
            headers=self.http_headers,
            data=request.json,
        )

    def get_new_paginator(self) -> CursorPaginator:
        """A cursor paginator that stops at the cutoff of the partition being read."""
        label = f"{self.provider.name}: {self.name} of {self.describe(self._partition)}"
        if self.api.lists_messages:
            # A message listing in no time order: followed to its end, no early stop.
            self._paginator = CursorPaginator(
                self.page_of,
                id_key="message_id",
                replication_key="sent_at",
                cutoff=None,
                label=label,
                ordered=False,
            )
            return self._paginator
        self._paginator = CursorPaginator(
            self.page_of,
            id_key=self.primary_keys[-1],
            replication_key=str(self.replication_key),
            cutoff=self._cutoff,
            label=label,
        )
        return self._paginator

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The records of one page, once it is known not to repeat an earlier one."""
        page = self.page_of(response)
        self._items_read += page.items
        if self._paginator is not None:
            self._paginator.check(page)
        yield from page.records

    def calculate_sync_cost(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        context: Context | None,
    ) -> dict[str, int]:
        """Requests and provider credits: booked in the run's ledger, and totalled by the SDK."""
        credits = self.page_of(response).credits
        self.ledger.charge(self.name, credits, reserved=self._reserved)
        return {"requests": 1, "credits": credits}

    # --- incremental reads ---------------------------------------------------------------

    def incremental_cutoff(self, context: Context | None) -> Cutoff | None:
        """Records at or before this were emitted by an earlier run (or precede `start_date`).

        A bookmark is moved back by `lookback_minutes`, so items a provider indexes late
        (stamped a little before the bookmark) are still found; `start_date` stays a floor.
        """
        start = self.get_starting_timestamp(context)
        if start is None:
            return None
        floor = self.config.get("start_date")
        start_date = cast("datetime", pendulum.parse(str(floor))) if floor else None
        lookback = timedelta(minutes=float(self.config.get("lookback_minutes") or 0))
        if start_date is not None and start - lookback <= start_date:
            return Cutoff(datetime_to_rfc3339(start_date), inclusive=True)
        return Cutoff(datetime_to_rfc3339(start - lookback), inclusive=False)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Read one partition (an account's inbox category, or one conversation)."""
        self._partition = context or {}
        self._position = self._items_read = 0
        self._cutoff = self.incremental_cutoff(context)
        # The SDK writes the "never past the sync's start" cap only for the context a
        # stream's sync() was called with; inbox partitions need it written per partition.
        self.state_manager.write_replication_key_signpost(
            self.get_replication_key_signpost(context), context=context
        )
        yield from self.fetch(context)

    def fetch(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The partition's records from the provider: the SDK's paging loop."""
        return self.request_records(context)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Add what every record carries, reject unkeyable records, drop what is not new."""
        row["account_id"] = (context or {}).get("account_id")
        row["provider"] = self.provider.name
        replication_key = str(self.replication_key)
        self._position += 1
        missing = [key for key in (*self.primary_keys, replication_key) if not row.get(key)]
        if missing:
            msg = (
                f"{self.provider.name}: {self.name} item #{self._position} of "
                f"{self.describe(context)} has no {', '.join(missing)}; a target could not "
                "key it, so the run stops"
            )
            raise ProviderError(msg)
        if self._cutoff is not None and not self._cutoff.admits(row[replication_key]):
            return None
        return row

    @staticmethod
    def describe(context: Context | None) -> str:
        """Which partition, in words, for error messages."""
        keys = ("account_id", "category", "conversation_id")
        return ", ".join(f"{key} {context[key]}" for key in keys if context and context.get(key))

    @property
    def newer_than(self) -> datetime | None:
        """The cutoff as an exclusive datetime, for adapters that filter by time themselves."""
        if self._cutoff is None:
            return None
        moment = parse_timestamp(self._cutoff.value)
        # An inclusive cutoff (start_date) admits its own millisecond.
        return moment - timedelta(milliseconds=1) if self._cutoff.inclusive else moment


def _retry_after_seconds(exception: BaseException | None) -> float | None:
    """Seconds a `Retry-After` header (seconds or an HTTP date) asks us to wait."""
    response = getattr(exception, "response", None)
    if not isinstance(exception, RetriableAPIError) or response is None:
        return None
    header = response.headers.get("Retry-After")
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - pendulum.now("UTC")).total_seconds())
