"""An adapter's errors, as data: what a failed answer says (`Failure`), one row of a
provider's table (`ErrorRule`), and the rows every provider shares, read before and
after its own (`FIRST_RULES`, `LAST_RULES`; `HttpSource.rule_for`). A request that got
no answer at all is a `Failure` too (`NO_ANSWER`), decided by rows of the same table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import pendulum
from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.providers.pages import Route

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    import requests


#: A provider's error text longer than this is cut: some put a whole page in it.
MAX_ERROR_TEXT = 300


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
    """What a failed answer says, read once: status, the provider's code and text.

    A request that got no answer has status `NO_ANSWER`, its exception's class name as
    code and its text as message."""

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
    `reason` says why a request got no answer (`NO_ANSWER_RULES`); `{timeout}` and
    `{code}` in it are filled in.
    """

    outcome: Outcome
    hint: str = ""
    reason: str = ""
    status: Collection[int] | None = None
    text: re.Pattern[str] | None = None
    route: str | None = None
    first_page: bool | None = None
    decoded: bool | None = None

    def matches(self, failure: Failure) -> bool:
        return (
            # A row without a status is for answers: a request that got none has no status.
            (
                failure.status in self.status
                if self.status is not None
                else failure.status != NO_ANSWER
            )
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
#: `Failure.status` of a request that got no answer: refused, unresolved, TLS, timed out.
NO_ANSWER = 0
CHECK_API_URL = "check the `api_url` setting"
#: Why a request got no answer, from its exception's class name and text, once the
#: SDK's retries of it gave up: each stops the run (`ListingWalker.unreachable`).
NO_ANSWER_RULES = (
    rule(
        Outcome.FAIL,
        "check the `api_url` and `request_timeout` settings",
        status={NO_ANSWER},
        text=r"^\w*Timeout\b",
        reason="no answer within {timeout}s",
    ),
    rule(Outcome.FAIL, CHECK_API_URL, status={NO_ANSWER}, text="SSL", reason="a TLS failure"),
    rule(
        Outcome.FAIL,
        CHECK_API_URL,
        status={NO_ANSWER},
        text="NameResolution|Name or service not known|nodename nor servname",
        reason="the host name does not resolve",
    ),
    rule(
        Outcome.FAIL,
        CHECK_API_URL,
        status={NO_ANSWER},
        text="Connection refused",
        reason="connection refused",
    ),
    rule(
        Outcome.FAIL,
        CHECK_API_URL,
        status={NO_ANSWER},
        text=r"^CrossHostRedirectError\b",
        reason="a redirect to another host, not followed",
    ),
    rule(Outcome.FAIL, CHECK_API_URL, status={NO_ANSWER}, reason="{code}"),
)
#: The text of an error body that holds neither a code nor a message.
SAYS_NOTHING = re.compile(r"^\s*$")
RETRY_LATER = "the provider is failing or limiting requests: run again later"
NOT_JSON = "answers that are not JSON: check the `api_url` setting"
#: What holds before any provider's table, whatever its rows say:
#: - one conversation's read (its messages, its members) answering 404 means it is gone,
#:   whatever code the provider puts on it (none documents how a conversation deleted
#:   since it was listed answers); the strategy asks the account again before skipping
#:   it, so an account problem still stops the run, named by the account's own answer;
#: - rate limits and server errors are retried;
#: - a request that got no answer stops the run, saying why.
#: A provider's row with the same outcome may still say what to check (`rule_for`).
FIRST_RULES = (
    rule(Outcome.GONE, status={404}, route=Route.CONVERSATION),
    rule(Outcome.GONE, status={404}, route=Route.PEOPLE),
    rule(Outcome.RETRY, RETRY_LATER, status={429}),
    rule(Outcome.RETRY, RETRY_LATER, status=SERVER_ERRORS),
    *NO_ANSWER_RULES,
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


def retry_after_seconds(exception: BaseException | None) -> float | None:
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
