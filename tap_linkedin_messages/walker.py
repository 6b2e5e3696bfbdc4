"""The SDK's HTTP machinery over one listing of one read: `ListingWalker`.

Sessions, retries with backoff, timeouts, pagination and request metrics are the SDK's
(`RESTStream`), customised only through its public hooks; the adapter of the read builds
each request and reads each answer. A walker is made for one walk and holds that walk's
`Read` from the start (`read`, never replaced): every hook reads it there, so a walk
inside another (a conversation's people while the inbox is walked) or on another thread
(prefetching) is simply another walker. What the SDK does not give: the request gate,
credits booked in the run's ledger, and one-line errors once retrying gives up.
"""

from __future__ import annotations

import os
import random
import threading
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from requests.utils import get_environ_proxies
from singer_sdk import RESTStream, StreamSchema
from singer_sdk.authenticators import SimpleAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams.rest import HTTPRequest

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.providers.error_rules import TransientError, retry_after_seconds
from tap_linkedin_messages.reads import ListingPaginator, undated_warnings
from tap_linkedin_messages.records import SCHEMAS

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import PageContext

    from tap_linkedin_messages.concurrency import RequestGate
    from tap_linkedin_messages.ledger import CreditLedger
    from tap_linkedin_messages.providers.pages import Listing
    from tap_linkedin_messages.reads import Read
    from tap_linkedin_messages.records import Record

    RequestFunc = Any


class CrossHostRedirectError(requests.exceptions.InvalidURL):
    """A provider answer redirecting to another host: not followed."""


class ProviderSession(requests.Session):
    """Follows a redirect on the provider's own host only (ConnectSafely moves routes
    that way). requests drops only `Authorization` when a redirect changes host, so a
    key sent in its own header (`x-api-key`) would go to the other host along with it."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: Any) -> None:
        if self.should_strip_auth(response.request.url, prepared_request.url):
            msg = "the provider redirected to another host, not followed (the key stays here)"
            raise CrossHostRedirectError(msg)
        super().rebuild_auth(prepared_request, response)


class Sessions:
    """One `requests.Session` per thread and host, its proxies read from the environment
    once: requests reads the proxy environment again on every send when a session trusts
    it (about 1 ms, a tenth of what a page of 100 messages costs here), and a session is
    not shared between threads."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[int, str], requests.Session] = {}
        self._lock = threading.Lock()

    def session(self, host: str) -> requests.Session:
        key = (threading.get_ident(), host)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = ProviderSession()
                session.trust_env = False
                session.proxies.update(get_environ_proxies(host))
                session.verify = (
                    os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
                )
                self._sessions[key] = session
        return session


class ListingWalker(RESTStream[str | None]):
    """The SDK's paging loop over `read.listing`, named as the stream it reads for."""

    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS)

    def __init__(
        self,
        tap: Tap,
        *,
        name: str,
        read: Read,
        ledger: CreditLedger,
        gate: RequestGate,
        sessions: Sessions,
    ) -> None:
        # The stream's name: its schema, logger and request metrics are that stream's.
        super().__init__(tap, name=name)
        self.read = read
        self.ledger = ledger
        self.gate = gate
        self.sessions = sessions
        self._authenticator = SimpleAuthenticator(auth_headers=read.api.auth_headers())

    def records(self) -> Iterable[Record]:
        """The listing's records, page after page, to its end or the read's cutoff."""
        return self.request_records(self.read.context)

    @property
    def listing(self) -> Listing:
        """The listing walked: a walker is made for one (`Read.walking`)."""
        assert self.read.listing is not None
        return self.read.listing

    @property
    def url_base(self) -> str:
        """The provider's base URL (the `api_url` setting, or the provider's public host)."""
        return self.read.api.api_url

    @property
    def path(self) -> str | None:  # type: ignore[override]
        """The listing being walked (`inbox`, `conversation`, ...): the endpoint the SDK's
        request metrics name. The adapter builds each URL (`get_http_request`)."""
        return self.listing.route

    @property
    def authenticator(self) -> SimpleAuthenticator:
        """The account's auth headers, added to each request right before it is sent."""
        return self._authenticator

    @property
    def requests_session(self) -> requests.Session:
        """This thread's session for the provider's host (`Sessions`)."""
        return self.sessions.session(self.url_base)

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
        failure = read.api.no_answer(error, route=self.listing.route, first_page=read.pages == 0)
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
        payload, failure = api.answer(
            response, route=self.listing.route, first_page=read.pages == 0
        )
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
        page_size = read.page_size(int(self.config["page_size"]), page.next_page_token)
        read.reserved = self.ledger.authorize(self.name, read.api.credits_for(page_size))
        request = self.listing.request(page.next_page_token, page_size)
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
        page = read.page_of(response)
        read.items_read += page.items
        for warning in undated_warnings(page, self.listing):
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
        """Requests and provider credits, booked in the run's ledger (which reports them:
        the SDK's own total is this walker's, and no walker outlives its walk)."""
        read = self.read
        credits = read.page_of(response).credits
        self.ledger.charge(self.name, read.account_id, credits, reserved=read.reserved)
        return {"requests": 1, "credits": credits}
