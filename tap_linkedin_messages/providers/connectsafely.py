"""ConnectSafely: `GET /conversations` and `GET /conversations/{urn}/messages`.

Seeds 004 (`GET /messaging/recent-messages`) and 002 (`GET /messaging/conversation-details`)
document the older routes; both are deprecated and now answer `307` to the routes above
(providers reference §3). This adapter asks the current routes, and its record builders
read both generations of payload, since a redirected old call returns the new shape.
ConnectSafely differs from LinkupAPI in ways that shape this adapter:

- plain GET routes under `https://api.connectsafely.ai/linkedin`, the key as a bearer
  token, and `accountId` optional (the account's default LinkedIn account otherwise);
- a conversation carries both ids: `conversationUrn` (what the messages URL needs, hence
  our `conversation_id`) and the bare `conversationId` (`2-...`, our `thread_id`);
- the messages route filters by time itself (`since`, exclusive epoch ms), so an
  incremental run asks only for what is newer than the cutoff;
- every message says whether the account owner sent it (`isSentByOwner`);
- error bodies come in several shapes (`{error}`, `{success, error}`, `{success, code,
  message}`), so the HTTP status does most of the classifying.

Every timestamp is epoch milliseconds.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.normalize import ms_to_rfc3339, thread_id_from_urn
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
    import requests

CONVERSATIONS_PATH = "/conversations"
# The older doc revision: `count` "default 20, max 100".
MAX_COUNT = 100
# The partition the streams file an account under when `account_id` is not set: it is no
# ConnectSafely id (theirs are 24 hex digits), so no `accountId` is sent for it.
DEFAULT_ACCOUNT = "default"
# Where a member's profile lives, for senders known only by their profile id (seed 002's
# `profileUrl` is exactly this form).
PROFILE_URL = "https://www.linkedin.com/in/{profile_id}"
# A conversation's messages, on the current route or on the deprecated one (whose 307 a
# client may not have followed): a 404 there means the conversation is gone.
CONVERSATION_MESSAGES_PATH = re.compile(
    r"/conversations/[^/]+/messages/?$|/messaging/conversation-details/?$"
)
# LinkedIn's URN types for who is behind a messaging participant.
ORGANIZATION_URN = re.compile(r"urn:li:(?:fsd_company|company|organization):")
MEMBER_URN = re.compile(r"urn:li:(?:fsd_profile|member):")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Query parameters we send, and the setting each comes from, to name in a 400's hint.
PARAMETER_SETTINGS = {
    "accountId": "account_id",
    "count": "page_size",
    "since": "start_date",
    "unreadOnly": "inbox_categories",
}
# Cursors are ConnectSafely's own: a rejected one is nothing a setting can fix.
CURSOR_PARAMETERS = ("nextCursor", "cursor")


def participant_record(person: dict[str, Any]) -> dict[str, Any]:
    """One member of `participants[]` (both generations share the shape)."""
    return {
        "name": person.get("name"),
        "headline": person.get("headline"),
        "profile_url": person.get("profileUrl") or profile_url(person.get("profileId")),
        "profile_picture_url": person.get("profilePicture"),
        "is_organization": is_organization(person),
    }


def is_organization(person: dict[str, Any]) -> bool | None:
    """Whether a participant is a company page, as its URNs say; None where they say nothing.

    ConnectSafely has no flag for it, but passes LinkedIn's URNs through, and their type
    is the answer: `urn:li:fsd_company:` is a page, `urn:li:fsd_profile:` a member.
    """
    urns = " ".join(
        str(person.get(key) or "") for key in ("hostIdentityUrn", "participantUrn", "backendUrn")
    )
    if ORGANIZATION_URN.search(urns):
        return True
    if MEMBER_URN.search(urns):
        return False
    return None


def profile_url(profile_id: str | None) -> str | None:
    """A member's profile URL from their profile id (None without one)."""
    return PROFILE_URL.format(profile_id=profile_id) if profile_id else None


def is_from_owner(item: dict[str, Any]) -> bool | None:
    """`isSentByOwner` as a bool, or None where the payload does not say."""
    value = item.get("isSentByOwner")
    return bool(value) if value is not None else None


def conversation_record(item: dict[str, Any], *, category: str | None) -> Record:
    """One `conversations[]` item, current or seed-004 shape, as our record.

    (Without `account_id`/`provider`, which the stream adds.)
    """
    conversation_urn = item.get("conversationUrn")
    latest = item.get("latestMessage") or {}
    participants = [participant_record(p) for p in item.get("participants") or []]
    return {
        "conversation_id": conversation_urn,
        "thread_id": item.get("conversationId") or thread_id_from_urn(conversation_urn),
        "category": category,
        # ConnectSafely names no conversation type; more than one other member can only
        # be a group chat, while one could be a 1:1, an InMail or a sponsored message.
        "type": "group" if len(participants) > 1 else None,
        "participants": participants,
        # The newest message's time where the conversation itself gives none.
        "last_activity_at": ms_to_rfc3339(item.get("lastActivityAt") or latest.get("sentAt")),
        "unread_count": item.get("unreadCount"),
        "last_message": {
            "text": latest.get("text"),
            "sent_at": ms_to_rfc3339(latest.get("sentAt")),
            "sender_name": latest.get("senderName"),
            "sender_profile_url": latest.get("senderProfileUrl")
            or profile_url(latest.get("senderProfileId")),
            # The documented `latestMessage` does not say; where a payload does, use it.
            "is_from_me": is_from_owner(latest),
        }
        if latest
        else None,
    }


def message_record(item: dict[str, Any]) -> Record:
    """One `messages[]` item, current or seed-002 shape, as our record.

    (Without conversation/account fields, which the stream adds.) The current shape names
    the sender in flat fields (`senderName`, `senderProfileId`) and says `isSentByOwner`;
    the seed's nests them in `sender{}` and does not say who "me" is.
    """
    sender = item.get("sender") or {}
    profile_id = item.get("senderProfileId") or sender.get("profileId")
    return {
        "message_id": item.get("messageUrn") or item.get("messageId"),
        "sent_at": ms_to_rfc3339(item.get("sentAt")),
        "text": item.get("text"),
        "subject": item.get("subject"),
        # ConnectSafely names no message type.
        "message_type": None,
        "sender": {
            "name": item.get("senderName") or sender.get("name"),
            "first_name": None,
            "last_name": None,
            "profile_url": item.get("senderProfileUrl")
            or sender.get("profileUrl")
            or profile_url(profile_id),
            # None for the seed shape: the stream infers it from the conversation if it can.
            "is_me": is_from_owner(item),
        },
    }


def next_cursor(payload: dict[str, Any], key: str) -> str | None:
    """The cursor of the next (older) page, or None at the end.

    The current routes say `hasMore`; the older doc revision only "if nextCursor is null,
    there are no more pages". Either ends the listing.
    """
    cursor = payload.get(key)
    if payload.get("hasMore") is False or cursor is None or cursor == "":
        return None
    return str(cursor)


def since_param(newer_than: datetime | None) -> dict[str, int]:
    """`since` ("fetch messages newer than", epoch ms) from the exclusive cutoff."""
    if newer_than is None:
        return {}
    moment = newer_than if newer_than.tzinfo else newer_than.replace(tzinfo=timezone.utc)
    # Whole milliseconds, rounded down: `since` excludes its own millisecond, and every
    # time we compare is a whole millisecond, so nothing newer is left out.
    return {"since": (moment - _EPOCH) // timedelta(milliseconds=1)}


def one_line(text: str) -> str:
    """A provider's text on one line (error texts may hold newlines)."""
    return " ".join(text.split())


class ConnectSafelyProvider(Provider):
    """ConnectSafely (`provider: connectsafely`)."""

    name = "connectsafely"
    default_api_url = "https://api.connectsafely.ai/linkedin"
    required_settings = ("api_key",)
    supported_categories = ("INBOX", "UNREAD")
    # No per-item price is published, only limits: "150 messages per day per account"
    # (seed 004) and 30 calls a minute (a 429 is retried); `credits_for` reports the
    # shared 1-per-10 rule.

    def auth_headers(self) -> dict[str, str]:
        """ConnectSafely authenticates with a bearer token."""
        return {"Authorization": f"Bearer {self.config['api_key']}"}

    def _account_param(self, account_id: str) -> dict[str, str]:
        """`accountId` for an account that has one; none selects the default account."""
        if account_id and account_id != DEFAULT_ACCOUNT:
            return {"accountId": account_id}
        configured = self.config.get("account_id")
        return {"accountId": str(configured)} if configured else {}

    def conversations_request(
        self,
        *,
        account_id: str,
        category: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """Conversations, newest activity first (no time filter: the stream stops paging)."""
        params: dict[str, Any] = {**self._account_param(account_id), "count": _count(page_size)}
        # INBOX sends no filter at all: every conversation, read or not.
        if category == "UNREAD":
            params["unreadOnly"] = "true"
        if cursor:
            params["nextCursor"] = cursor
        return ApiRequest("GET", CONVERSATIONS_PATH, params=params)

    def conversations_page(self, payload: Any, *, category: str) -> Page:
        """`conversations` and `nextCursor` (with `hasMore: false`, or null, at the end)."""
        items = payload.get("conversations") or []
        records = [conversation_record(item, category=category) for item in items]
        return Page(
            # A conversation with no time at all has nothing to bookmark: skipped.
            records=[record for record in records if record["last_activity_at"]],
            next_cursor=next_cursor(payload, "nextCursor"),
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
        """One conversation's messages, newest first; only newer ones when incremental."""
        params: dict[str, Any] = {**self._account_param(account_id), "count": _count(page_size)}
        if cursor:
            params["cursor"] = cursor
        params.update(since_param(newer_than))
        # The URN holds `:`, `(`, `,` and base64 (`/`, `+`, `=`): all of it is encoded.
        path = f"{CONVERSATIONS_PATH}/{quote(conversation_id, safe='')}/messages"
        return ApiRequest("GET", path, params=params)

    def messages_page(self, payload: Any) -> Page:
        """`messages` and `cursor` (with `hasMore: false`, or null, at the end).

        Seed 002's shape has no cursor at all: one page is all it gives.
        """
        items = payload.get("messages") or []
        return Page(
            records=[message_record(item) for item in items],
            next_cursor=next_cursor(payload, "cursor"),
            credits=self.credits_for(len(items)),
            items=len(items),
        )

    def check_response(self, response: requests.Response) -> Any:
        """A listing, or one of ConnectSafely's error bodies, classified by status."""
        payload = decode_json(response)
        status = response.status_code
        if 200 <= status < 300 and _is_listing(payload):
            return payload

        code, message = self._error_of(payload)
        label = f"{self.name}: {code or _status_phrase(status)} (HTTP {status})"
        if message:
            label = f"{label}: {message}"
        if status == 429 or status >= 500 or payload is None:
            # A rate limit, a server error, or a cut-off or non-JSON body: ask again.
            reason = label if payload is not None else f"{label} - a body that is not JSON"
            raise RetriableAPIError(reason, response)
        on_messages = bool(CONVERSATION_MESSAGES_PATH.search(_path_of(response)))
        if status == 404 and on_messages:
            raise ConversationGoneError(label)
        hint = self._hint(status, payload, message, on_messages=on_messages)
        raise ProviderError(f"{label} - {hint}")

    def _error_of(self, payload: Any) -> tuple[str | None, str]:
        """The code and message of any of the documented error shapes (redacted)."""
        if not isinstance(payload, dict):
            return None, ""
        error = payload.get("error")
        # `error` is a string in every example, though its table types it as an object.
        nested = error if isinstance(error, dict) else {}
        code = payload.get("code") or nested.get("code")
        text = nested.get("message") or payload.get("message")
        if isinstance(error, str):
            text = error
        clean_code = one_line(self.redact(str(code))) if code else None
        return clean_code or None, one_line(self.redact(str(text or "")))

    def _hint(self, status: int, payload: Any, message: str, *, on_messages: bool) -> str:
        """What to check for a fatal error."""
        if status in (401, 403):
            return "check the `api_key` setting"
        if status == 404:
            if self.config.get("account_id"):
                return "check the `account_id` setting"
            return "connect a LinkedIn account in ConnectSafely, or set the `account_id` setting"
        if status == 400:
            return _rejected_parameter_hint(message, on_messages=on_messages)
        if status < 400 and not (isinstance(payload, dict) and payload.get("success") is False):
            # Valid JSON that is no listing (or a redirect not followed): something other
            # than ConnectSafely's current routes answers at `api_url`.
            return "not a ConnectSafely listing; check the `api_url` setting"
        return "check the tap settings"


def _is_listing(payload: Any) -> bool:
    """A success body: `success` not false, and a conversation or message list in it."""
    return (
        isinstance(payload, dict)
        and payload.get("success") is not False
        and (
            isinstance(payload.get("conversations"), list)
            or isinstance(payload.get("messages"), list)
        )
    )


def _count(page_size: int) -> int:
    """`page_size` within the doc's 1-100."""
    return max(1, min(MAX_COUNT, page_size))


def _status_phrase(status: int) -> str:
    """`Unauthorized` for 401: the error's name where the body gives no code."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _rejected_parameter_hint(message: str, *, on_messages: bool) -> str:
    """Name the query parameter a 400 mentions, and the setting it came from."""
    for parameter, setting in PARAMETER_SETTINGS.items():
        if re.search(rf"\b{parameter}\b", message):
            return f"the request's `{parameter}` was rejected; check the `{setting}` setting"
    for parameter in CURSOR_PARAMETERS:
        if re.search(rf"\b{parameter}\b", message, re.IGNORECASE):
            return f"ConnectSafely rejected its own `{parameter}`; run the tap again"
    if re.search(r"\bconversationUrn\b", message):
        return (
            "the request's `conversationUrn` (the id ConnectSafely listed) was rejected; "
            "check the `api_url` setting points at ConnectSafely's current routes"
        )
    if on_messages:
        return "check the `page_size` and `start_date` settings"
    return "check the `page_size`, `inbox_categories` and `account_id` settings"


def _path_of(response: requests.Response) -> str:
    """The path a response answers (after any redirect: the route that answered it)."""
    url = response.url or (response.request.url if response.request is not None else "")
    return urlsplit(str(url or "")).path
