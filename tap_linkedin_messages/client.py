"""The shared base of both streams: the SDK's HTTP machinery, driven by a `Read`.

Sessions, retries with backoff, timeouts and request metrics are the SDK's
(`RESTStream`), customised only through its public hooks; the adapter of the read being
walked builds each request and reads each answer. What both streams add to the SDK:
the incremental cutoff, the request gate, and one-line errors when retrying gives up.
"""

from __future__ import annotations

import importlib.resources
import os
import random
from abc import abstractmethod
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from requests.utils import get_environ_proxies
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema
from singer_sdk.authenticators import SimpleAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams.rest import HTTPRequest

from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.providers.error_rules import TransientError, retry_after_seconds
from tap_linkedin_messages.reads import (
    Cutoff,
    ListingPaginator,
    Read,
    bookmark_cutoff,
    start_date_floor,
    undated_warnings,
)

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import PageContext

    from tap_linkedin_messages.accounts import Accounts
    from tap_linkedin_messages.concurrency import RequestGate
    from tap_linkedin_messages.ledger import CreditLedger
    from tap_linkedin_messages.providers import Listing
    from tap_linkedin_messages.records import Record
    from tap_linkedin_messages.strategies import Strategy

    RequestFunc = Any

SCHEMAS = SchemaDirectory(importlib.resources.files("tap_linkedin_messages") / "schemas")


class InboxStream(RESTStream[str | None]):
    """Base of `conversations` and `messages`: a strategy reads, the SDK requests."""

    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS)
    # Providers list newest first: the SDK keeps the running maximum in progress markers
    # and promotes it to the bookmark (capped at the sync's start) only when the sync ends,
    # so a run that dies half-way leaves the previous bookmark in place.
    is_sorted = False
    # One bookmark per stream and account, however many conversations there are.
    state_partitioning_keys: ClassVar[tuple[str, ...]] = ("account_id",)
    # Records are built by `records.py`'s constructors, already in their schema's shape
    # and JSON types (tests/test_records.py; tests/test_core.py validates every source's
    # records against the schemas): the SDK's conformance pass, a third of a record's
    # cost, would change nothing.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(
        self,
        tap: Tap,
        *,
        strategy: Strategy,
        accounts: Accounts,
        ledger: CreditLedger,
        gate: RequestGate,
    ) -> None:
        super().__init__(tap)
        self.strategy = strategy
        self.accounts = accounts
        self.ledger = ledger
        self.gate = gate
        self._owner = tap
        self._read: Read | None = None
        self._authenticators: dict[str, SimpleAuthenticator] = {}
        self._sessions: dict[str, requests.Session] = {}

    def worker_copy(self) -> InboxStream:
        """A copy for a prefetch worker thread: the SDK's loop keeps state on its stream."""
        return type(self)(
            self._owner,
            strategy=self.strategy,
            accounts=self.accounts,
            ledger=self.ledger,
            gate=self.gate,
        )

    # --- reads ---------------------------------------------------------------------------

    @property
    def read(self) -> Read:
        """The read under way."""
        if self._read is None:
            msg = f"{self.name}: no read under way"
            raise RuntimeError(msg)
        return self._read

    def partition_read(self, context: Context) -> Read:
        """A new read of one partition: its account's adapter and its cutoff."""
        return Read(
            context=context,
            source=self.accounts.source(str(context["account_id"])),
            cutoff=self.incremental_cutoff(context),
        )

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Read one partition (an account's inbox, or one of its conversations)."""
        self._read = read = self.partition_read(context or {})
        yield from self.read_partition(read)

    @abstractmethod
    def read_partition(self, read: Read) -> Iterable[Record]:
        """The partition's records, from the strategy."""

    def walk(
        self,
        read: Read,
        listing: Listing,
        *,
        context: Context | None = None,
        on_page: Any = None,
    ) -> Iterable[Record]:
        """The SDK's paging loop over one listing of a read."""
        self._read = walk = read.walking(listing, context, on_page)
        return self.request_records(walk.context)

    # --- HTTP: the SDK's hooks ---------------------------------------------------------------

    @property
    def url_base(self) -> str:
        """The provider's base URL (the `api_url` setting, or the provider's public host)."""
        return self.read.api.api_url

    @property
    def path(self) -> str | None:  # type: ignore[override]
        """The listing being walked (`inbox`, `conversation`, ...): the endpoint the SDK's
        request metrics name. The adapter builds each URL (`get_http_request`)."""
        listing = self._read.listing if self._read is not None else None
        return listing.route if listing is not None else None

    @property
    def authenticator(self) -> SimpleAuthenticator:
        """The account's auth headers, added to each request right before it is sent."""
        account_id = str(self.read.context.get("account_id"))
        if account_id not in self._authenticators:
            self._authenticators[account_id] = SimpleAuthenticator(
                auth_headers=self.read.api.auth_headers()
            )
        return self._authenticators[account_id]

    @property
    def requests_session(self) -> requests.Session:
        """One session per host, its proxies read from the environment once.

        requests reads the proxy environment again on every send when a session trusts
        it (about 1 ms, a tenth of what a page of 100 messages costs here).
        """
        host = self.url_base
        session = self._sessions.get(host)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            session.proxies.update(get_environ_proxies(host))
            session.verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
            self._sessions[host] = session
        return session

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
            retry_after = retry_after_seconds(exception)
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
            self.read.source.redact(str(exception) or type(exception).__name__),
        )

    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """The SDK's retries around each send, each attempt within the request gate; what
        still fails once retrying gives up ends the run in one line."""

        def within_gate(prepared: requests.PreparedRequest, context: Context | None) -> Any:
            with self.gate.slot():
                return func(prepared, context)

        retried = super().request_decorator(within_gate)

        def send(prepared: requests.PreparedRequest, context: Context | None) -> Any:
            try:
                return retried(prepared, context)
            except TransientError as error:
                msg = f"{error} - still failing {self.after_retries}: {error.hint}"
                raise ProviderError(msg) from None
            except requests.exceptions.RequestException as error:
                raise ProviderError(self.unreachable(error)) from None

        return send

    @property
    def after_retries(self) -> str:
        retries = int(self.config["max_retries"])
        return f"after {retries} {'retry' if retries == 1 else 'retries'}"

    def unreachable(self, error: requests.exceptions.RequestException) -> str:
        """One line for a request that never got an answer: the error table's row for it
        says why and what to check."""
        read = self.read
        assert read.listing is not None  # requests are only made while walking a listing
        failure = read.api.no_answer(error, route=read.listing.route, first_page=read.pages == 0)
        row = read.api.rule_for(failure)
        reason = row.reason.format(timeout=self.timeout, code=failure.code)
        line = (
            f"{read.source.name}: could not reach {self.url_base} "
            f"({reason} {self.after_retries}) - {row.hint}"
        )
        return read.source.redact(line)

    def validate_response(self, response: requests.Response) -> None:
        """The adapter's error table decides what is retriable, fatal or fine; a failure
        a provider bills is booked before anything is raised."""
        read, api = self.read, self.read.api
        assert read.listing is not None  # answers come to a listing being walked
        route = read.listing.route
        payload, failure = api.answer(response, route=route, first_page=read.pages == 0)
        if failure is not None:
            cost = api.credits_for_failure(failure)
            try:
                api.decide(failure, response)
            except RetriableAPIError:
                # The same request goes out again: what was reserved for it stays so.
                self.ledger.charge(self.name, read.account_id, cost)
                raise
            except Exception:
                # This request is over (a conversation gone, or the run stops): the SDK
                # books no cost for it, so its reservation is released here.
                self.ledger.charge(self.name, read.account_id, cost, reserved=read.reserved)
                read.reserved = 0
                raise
            self.ledger.charge(self.name, read.account_id, cost)
        read.remember(response, payload)

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The adapter's request, on the SDK's session, headers and auth."""
        read = self.read
        assert read.listing is not None  # requests are only made while walking a listing
        page_size = read.page_size(int(self.config["page_size"]), page.next_page_token)
        read.reserved = self.ledger.authorize(self.name, read.api.credits_for(page_size))
        request = read.listing.request(page.next_page_token, page_size)
        return HTTPRequest(
            url=self.url_base + request.path,
            method=request.method,
            params=request.params,
            headers=self.http_headers,
            data=request.json,
        )

    def get_new_paginator(self) -> ListingPaginator:
        """A paginator for the listing being walked: its cursor, up to the cutoff."""
        return ListingPaginator(self.read, self.walk_label)

    @property
    def walk_label(self) -> str:
        """`linkup: messages of account_id acc_1, conversation_id ...`, for errors."""
        return f"{self.read.source.name}: {self.name} of {self.read.label}"

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The records of one page, once it is known not to repeat an earlier one."""
        read = self.read
        listing = read.listing
        assert listing is not None  # pages come to a listing being walked
        page = read.page_of(response)
        read.items_read += page.items
        for warning in undated_warnings(page, listing):
            self.logger.warning("%s: %s", self.walk_label, warning)
        records = read.check(page, self.walk_label)
        read.pages += 1
        if read.on_page is not None:
            read.on_page(records)
        yield from records

    def calculate_sync_cost(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        context: Context | None,
    ) -> dict[str, int]:
        """Requests and provider credits: booked in the run's ledger, and totalled by the SDK."""
        read = self.read
        credits = read.page_of(response).credits
        self.ledger.charge(self.name, read.account_id, credits, reserved=read.reserved)
        return {"requests": 1, "credits": credits}

    # --- incremental reads ---------------------------------------------------------------

    def incremental_cutoff(self, context: Context | None) -> Cutoff | None:
        """Records at or before this were emitted by an earlier run (or precede `start_date`).

        Where the source tells what is new itself (a message can become visible after
        newer ones were read), only `start_date`: the bookmark is no cutoff there.
        """
        if not self.strategy.follows_bookmarks:
            return self.floor()
        return self.cutoff_from(self.get_starting_timestamp(context))

    def floor(self) -> Cutoff | None:
        """`start_date`, inclusive: nothing older is emitted."""
        return start_date_floor(self.config.get("start_date"))

    def cutoff_from(self, bookmark: datetime | None) -> Cutoff | None:
        """The cutoff a bookmark sets, `lookback_minutes` before it (`bookmark_cutoff`)."""
        return bookmark_cutoff(
            bookmark,
            start_date=self.config.get("start_date"),
            lookback_minutes=float(self.config.get("lookback_minutes") or 0),
        )

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Add what every record carries, reject unkeyable records, drop what is not new."""
        read = self.read
        row["account_id"] = (context or {}).get("account_id")
        row["provider"] = read.source.name
        read.position += 1
        # The keys, and the replication key where the schema requires it (a conversation's
        # activity may be unknown: it is then read every run, `child_context_if_new`).
        keys = [*self.primary_keys, *self.required_bookmark]
        missing = [key for key in keys if not row.get(key)]
        if missing:
            msg = (
                f"{read.source.name}: {self.name} item #{read.position} of "
                f"{read.label} has no {', '.join(missing)}; a target could not "
                "key it, so the run stops"
            )
            raise ProviderError(msg)
        changed_at = self.changed_at(row)
        if changed_at and read.cutoff is not None and not read.cutoff.admits(changed_at):
            return None
        return row

    @property
    def required_bookmark(self) -> tuple[str, ...]:
        """The replication key, where every record must carry it (the schema says)."""
        key = str(self.replication_key)
        return (key,) if key in self.schema.get("required", ()) else ()

    def changed_at(self, record: Record) -> str:
        """When a record last changed, for the cutoff: its replication key."""
        return str(record[str(self.replication_key)] or "")
