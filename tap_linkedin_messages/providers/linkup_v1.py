"""LinkupAPI v1 (cookie-based): `POST /v1/messages/inbox` and `POST /v1/messages/conversation`.

Seed 001 ("Get Conversation Messages") and the v1 notes in the providers reference (§2).
v1 differs from v2 (`linkup.py`) in ways that shape this adapter:

- every request carries the LinkedIn session cookie (`login_token`) and the proxy
  `country` in its JSON body; there is no `account_id`;
- the inbox takes its cursor as `next_cursor`, the conversation as `cursor`;
- most errors come back as HTTP 200 with `"status": "error"`, so the body decides, and
  v1 documents no error codes: the error text is all there is to classify;
- no `is_me` and no `is_organization` anywhere, and no `profile_url` on messages.

Every timestamp inside `data` is epoch milliseconds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.providers import linkup
from tap_linkedin_messages.providers.base import (
    ApiRequest,
    ConversationGoneError,
    Page,
    Provider,
    ProviderError,
    Record,
    decode_json,
)

if TYPE_CHECKING:
    from datetime import datetime

    import requests

INBOX_PATH = "/v1/messages/inbox"
CONVERSATION_PATH = "/v1/messages/conversation"
# The doc's default proxy country (tap.py validates the setting against the doc's list).
DEFAULT_COUNTRY = "FR"
# An error text longer than this is cut: a provider may put a whole page in it.
MAX_ERROR_TEXT = 300

# v1 documents no error codes, so failures are told apart by their text. Rate limits are
# matched first (their text may name the key or session they apply to), then the
# credentials, and only then the vaguer "try again" phrases.
RATE_LIMIT_TEXT = re.compile(r"rate.?limit|too many requests", re.IGNORECASE)
API_KEY_TEXT = re.compile(r"api.?(key|token)", re.IGNORECASE)
LOGIN_TOKEN_TEXT = re.compile(
    r"login.?token|cookie|session|li_at|\btoken\b|logged (in|out)|re-?log|checkpoint",
    re.IGNORECASE,
)
# An authentication failure that names neither credential.
AUTH_TEXT = re.compile(r"unauthori[sz]ed|forbidden|authenticat|credential", re.IGNORECASE)
TRANSIENT_TEXT = re.compile(r"try again|temporar|timed? ?out|unavailable|overloaded", re.IGNORECASE)
CONVERSATION_GONE_TEXT = re.compile(
    r"conversation\b.*\b(not found|does ?n[o']t exist|no longer exists|deleted)"
    r"|no conversation|conversation_not_found",
    re.IGNORECASE,
)
CREDITS_TEXT = re.compile(r"credit", re.IGNORECASE)

# What a user should look at for each kind of fatal error.
SETTING_TO_CHECK = {
    "api_key": "check the `api_key` setting",
    "login_token": (
        "check the `login_token` setting (renew it with LinkupAPI's v1 login/verify flow)"
    ),
    "credentials": "check the `api_key` and `login_token` settings",
    "credits": "top up LinkupAPI credits; the next run resumes from the bookmark",
    "other": "check the tap settings",
}


def conversation_record(item: dict[str, Any], *, category: str | None) -> Record:
    """One v1 inbox conversation: v2's shape, where v1 has no `is_organization` flag.

    v1 sends no `is_me` either: `last_message.is_from_me` stays null unless it comes.
    """
    return linkup.conversation_record(item, category=category, organization_flag=False)


# v1 messages are v2's without `sender_info.profile_url` (null unless it comes), and
# neither says who "me" is: the record builder is the same.
message_record = linkup.message_record


def next_cursor_of(payload: dict[str, Any]) -> str | None:
    """The cursor of the next page, or None at the end.

    The doc names `has_next_page` and `next_cursor` but its example does not show where
    they sit: look in `data` first, then at the top level. The listing ends when
    `has_next_page` is false, or when there is no cursor to follow.
    """
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    has_next_page = first_present("has_next_page", data, payload)
    cursor = first_present("next_cursor", data, payload)
    if has_next_page is False or cursor is None or cursor == "":
        return None
    return str(cursor)


def first_present(key: str, *sources: dict[str, Any]) -> Any:
    """`key`'s value in the first source that has it set (not null)."""
    return next((source[key] for source in sources if source.get(key) is not None), None)


def error_details(payload: Any) -> tuple[str | None, str]:
    """The code (if any) and the text of a v1 error body.

    The doc shows only `"status": "error"`; the rest is guessed, so take whichever of
    `code`, `message` and `error` (a string, or an object with `code`/`message`) it has.
    """
    if not isinstance(payload, dict):
        return None, ""
    error = payload.get("error")
    code = payload.get("code")
    texts = [payload.get("message")]
    if isinstance(error, dict):
        code = code or error.get("code")
        texts.append(error.get("message"))
    elif isinstance(error, str):
        texts.append(error)
    unique = dict.fromkeys(str(text) for text in texts if text not in (None, ""))
    return (str(code) if code not in (None, "") else None), "; ".join(unique)


def classify_error(status: int, text: str, *, reading_messages: bool) -> str:
    """What a failed v1 response is: `transient`, `api_key`, `login_token`, `credentials`
    (one of the two, not saying which), `gone`, `credits` or `other`. `text` is the
    error's code and message together.
    """
    if status == 429 or status >= 500 or RATE_LIMIT_TEXT.search(text):
        return "transient"
    if API_KEY_TEXT.search(text):
        return "api_key"
    if LOGIN_TOKEN_TEXT.search(text):
        return "login_token"
    if status in (401, 403):
        # Not a word about the cookie: the API key is what the HTTP layer checks.
        return "api_key"
    if AUTH_TEXT.search(text):
        return "credentials"
    if TRANSIENT_TEXT.search(text):
        return "transient"
    if reading_messages and CONVERSATION_GONE_TEXT.search(text):
        return "gone"
    if CREDITS_TEXT.search(text):
        return "credits"
    return "other"


def one_line(text: str) -> str:
    """Provider text fit for a one-line error: whitespace collapsed, length capped."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_ERROR_TEXT else flat[: MAX_ERROR_TEXT - 1] + "…"


def is_success(status: int, payload: Any) -> bool:
    """v1's success envelope, `{"status": "success", "data": {...}}`.

    A 2xx body with `data`, no `error` and no `status` at all is taken as success too:
    the doc's examples all carry `status`, but nothing in such a body says it failed.
    """
    if not isinstance(payload, dict) or status >= 400:
        return False
    outcome = payload.get("status")
    if outcome is None:
        return isinstance(payload.get("data"), dict) and "error" not in payload
    return str(outcome).lower() == "success"


def path_of(response: requests.Response) -> str:
    """The URL path a response answers (v1 has one URL per endpoint)."""
    request = getattr(response, "request", None)
    return urlsplit(str(getattr(request, "url", None) or response.url or "")).path


class LinkupV1Provider(Provider):
    """LinkupAPI v1 (`provider: linkup_v1`), authenticated by API key and session cookie."""

    name = "linkup_v1"
    default_api_url = "https://api.linkupapi.com"
    required_settings = ("api_key", "login_token")

    def auth_headers(self) -> dict[str, str]:
        """The API key goes in `x-api-key`; the LinkedIn cookie goes in each body."""
        return {"x-api-key": str(self.config["api_key"])}

    def _body(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A request body with the session fields every v1 call carries."""
        return {
            **fields,
            "country": str(self.config.get("country") or DEFAULT_COUNTRY),
            "login_token": str(self.config.get("login_token") or ""),
        }

    def conversations_request(
        self,
        *,
        account_id: str,
        category: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """The inbox, newest activity first (no time filter: the stream stops paging).

        `account_id` is no v1 concept: the cookie selects the account.
        """
        fields: dict[str, Any] = {"total_results": page_size, "category": category}
        if cursor:
            # The inbox's request field is `next_cursor`, unlike the conversation's `cursor`.
            fields["next_cursor"] = cursor
        return ApiRequest("POST", INBOX_PATH, json=self._body(fields))

    def conversations_page(self, payload: Any, *, category: str) -> Page:
        """`data.conversations`, and the cursor (null at the end)."""
        data = payload.get("data") or {}
        items = data.get("conversations") or []
        return Page(
            # The inbox's only activity time is the last message's: a conversation
            # without one has nothing to read, and no time to bookmark.
            records=[
                conversation_record(item, category=category)
                for item in items
                if item.get("last_message")
            ],
            next_cursor=next_cursor_of(payload),
            credits=self.credits_for(len(items)),
            items=len(items),
        )

    def messages_request(
        self,
        *,
        account_id: str,
        conversation_id: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """One conversation, newest message first; the cursor (a time) walks back."""
        fields: dict[str, Any] = {"conversation_id": conversation_id, "total_results": page_size}
        if cursor:
            fields["cursor"] = cursor
        return ApiRequest("POST", CONVERSATION_PATH, json=self._body(fields))

    def messages_page(self, payload: Any) -> Page:
        """`data.messages`; the end is `has_next_page: false`, no cursor, or no messages."""
        data = payload.get("data") or {}
        items = data.get("messages") or []
        return Page(
            records=[message_record(item) for item in items],
            next_cursor=next_cursor_of(payload),
            # v1 reports no credits: the doc's rule, 1 per started block of 10 results.
            credits=self.credits_for(len(items)),
            items=len(items),
        )

    def check_response(self, response: requests.Response) -> Any:
        """The success envelope, or raise: v1 errors are mostly HTTP 200 with `status: error`."""
        payload = decode_json(response)
        status = response.status_code
        if is_success(status, payload):
            return payload

        code, message = error_details(payload)
        # Redacted first, so a provider echoing a secret back neither leaks nor steers it.
        code, message = (self.redact(code) if code else None), self.redact(message)
        if payload is None and status not in (401, 403):
            # A cut-off or non-JSON body is a transport fault: ask again.
            msg = f"{self.name}: a body that is not JSON (HTTP {status})"
            raise RetriableAPIError(msg, response)
        kind = classify_error(
            status,
            f"{code or ''} {message}",
            reading_messages=path_of(response).endswith(CONVERSATION_PATH),
        )
        detail = f": {one_line(message)}" if message else ""
        summary = f"{self.name}: {one_line(code or 'error')} (HTTP {status}){detail}"
        if kind == "transient":
            raise RetriableAPIError(summary, response)
        if kind == "gone":
            raise ConversationGoneError(summary)
        raise ProviderError(f"{summary} - {SETTING_TO_CHECK[kind]}")
