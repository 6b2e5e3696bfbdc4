"""Unipile: `GET /api/v1/chats` and `GET /api/v1/chats/{chat_id}/messages`.

Providers reference §4 (Unipile's API reference, chatscontroller_listallchats and
chatscontroller_listchatmessages). Unipile differs from LinkupAPI in ways that shape this
adapter:

- each customer has their own base URL (a DSN such as `https://api1.unipile.com:13111`),
  so `api_url` is required; the key goes in an `X-API-KEY` header;
- a chat has Unipile's own `id` (what the messages URL needs, hence our `conversation_id`)
  and LinkedIn's thread id as `provider_id`;
- a chat's messages take an exclusive `after` (ISO-8601 UTC with milliseconds), so an
  incremental run asks only for messages newer than the cutoff. The chat list takes one
  too, but the reference describes it as filtering by creation, not last activity: sent
  there, it could hide an old chat with a new message, so the list relies on the
  stream stopping at the bookmark instead (at most one page more);
- a chat carries its name but neither profile URLs nor a last message; every message says
  whether the account owner sent it (`is_sender`), but not who else did;
- errors are problem+json-like bodies `{title, detail, instance, type, status}`.

Every timestamp is an ISO-8601 string.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.normalize import datetime_to_rfc3339, iso_to_rfc3339, thread_id_from_urn
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

CHATS_PATH = "/api/v1/chats"
# The reference: `limit` "can be set between 1 and 250".
MAX_LIMIT = 250
# The `object` of each successful listing.
SUCCESS_OBJECTS = frozenset({"ChatList", "MessageList"})
# A chat's messages URL: a 404 there means the chat is gone, not that a setting is wrong.
CHAT_MESSAGES_PATH = re.compile(r"/api/v1/chats/[^/]+/messages/?$")

# Chat `type`: the reference's enum is SINGLE 0, GROUP 1, CHANNEL 2 (LinkedIn has no
# channels). Named as LinkupAPI names them, so the column means the same for every provider.
CHAT_TYPES = {0: "normal", 1: "group"}
# `content_type` values that LinkupAPI reports as the conversation's type instead.
CONTENT_TYPES = {"inmail": "inmail", "sponsored": "Sponsored"}

# 401 types about the LinkedIn account's session at Unipile, not about our API key.
ACCOUNT_SESSION_TYPES = frozenset(
    {
        "errors/disconnected_account",
        "errors/disconnected_feature",
        "errors/multiple_sessions",
        "errors/checkpoint_error",
        "errors/invalid_checkpoint_solution",
    }
)
# What a user should look at for each fatal error type (otherwise: by HTTP status).
SETTING_TO_CHECK = {
    "errors/missing_credentials": "check the `api_key` setting",
    "errors/invalid_credentials": "check the `api_key` setting",
    "errors/expired_credentials": "check the `api_key` setting",
    "errors/wrong_account": "check the `account_id` setting",
    "errors/insufficient_privileges": "check that the `api_key` may read `account_id`",
    "errors/insufficient_permissions": "check that the `api_key` may read `account_id`",
    "errors/account_restricted": "LinkedIn restricted the account; check it in Unipile",
    "errors/feature_not_subscribed": "check the account's Unipile subscription",
    "errors/limit_too_high": "check the `page_size` setting",
}
RECONNECT = "reconnect the LinkedIn account in Unipile, or check `account_id`"
SETTING_BY_STATUS = {
    401: "check the `api_key` setting",
    403: "check that the `api_key` may read `account_id`",
    404: "check the `account_id` and `api_url` settings",
}
# Query parameters we send, and the setting each comes from, to name in a 400's hint.
PARAMETER_SETTINGS = {
    "limit": "page_size",
    "account_id": "account_id",
    "unread": "inbox_categories",
    "after": "start_date",
}


def chat_type(item: dict[str, Any]) -> str | None:
    """InMail and sponsored chats as such; otherwise 1:1 or group (None if unknown)."""
    content_type = CONTENT_TYPES.get(str(item.get("content_type")))
    number = item.get("type")
    return content_type or (CHAT_TYPES.get(number) if isinstance(number, int) else None)


def conversation_record(item: dict[str, Any], *, category: str | None) -> Record:
    """One `ChatList` chat as our record (without `account_id`/`provider`)."""
    provider_id = item.get("provider_id")
    name = item.get("name")
    return {
        "conversation_id": item.get("id"),
        "thread_id": thread_id_from_urn(provider_id),
        "category": category,
        "type": chat_type(item),
        # A chat has a name (the other member's, or the group's) and nothing else about
        # who is in it: no profile URL, headline or picture without one more request each.
        "participants": [
            {
                "name": name,
                "headline": None,
                "profile_url": None,
                "profile_picture_url": None,
                # A sponsored chat comes from a company page; for the rest, nobody says.
                "is_organization": True if item.get("content_type") == "sponsored" else None,
            }
        ]
        if name
        else [],
        # The reference: "Timestamp of the last message" (the chat's last activity).
        "last_activity_at": iso_to_rfc3339(item.get("timestamp")),
        "unread_count": item.get("unread_count"),
        # A chat in the list carries no last message.
        "last_message": None,
    }


def message_record(item: dict[str, Any]) -> Record:
    """One `MessageList` message as our record (without conversation/account fields)."""
    is_sender = item.get("is_sender")
    return {
        "message_id": item.get("id"),
        "sent_at": iso_to_rfc3339(item.get("timestamp")),
        "text": item.get("text"),
        "subject": item.get("subject"),
        # Events (someone joined, a reaction, a missed call) are not text someone wrote.
        "message_type": "EVENT" if item.get("is_event") else "TEXT",
        "sender": {
            # A message names its sender only by ids (`sender_id`, `sender_attendee_id`).
            "name": None,
            "first_name": None,
            "last_name": None,
            "profile_url": None,
            "is_me": bool(is_sender) if is_sender is not None else None,
        },
    }


def after_param(newer_than: datetime | None) -> dict[str, str]:
    """`after` (exclusive) in the one form the reference accepts: `YYYY-MM-DDTHH:MM:SS.sssZ`."""
    return {"after": datetime_to_rfc3339(newer_than)} if newer_than is not None else {}


def one_line(text: str) -> str:
    """A provider's text on one line (error details may hold newlines)."""
    return " ".join(text.split())


class UnipileProvider(Provider):
    """Unipile (`provider: unipile`)."""

    name = "unipile"
    default_api_url = None
    required_settings = ("api_key", "account_id", "api_url")
    supported_categories = ("INBOX", "UNREAD")
    # Unipile bills per connected account, not per item; `credits_for` reports the shared
    # 1-per-10 rule.

    def auth_headers(self) -> dict[str, str]:
        """Unipile authenticates with an `X-API-KEY` header."""
        return {"X-API-KEY": str(self.config["api_key"])}

    def conversations_request(
        self,
        *,
        account_id: str,
        category: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """Chats of the account, newest activity first (no `after`: see the module notes)."""
        params: dict[str, Any] = {"account_id": account_id, "limit": _limit(page_size)}
        # `unread=false` would ask for read chats only: INBOX sends no filter at all.
        if category == "UNREAD":
            params["unread"] = "true"
        if cursor:
            params["cursor"] = cursor
        return ApiRequest("GET", CHATS_PATH, params=params)

    def conversations_page(self, payload: Any, *, category: str) -> Page:
        """`items` and `cursor` (null on the last page)."""
        items = payload.get("items") or []
        return Page(
            records=[conversation_record(item, category=category) for item in items],
            next_cursor=payload.get("cursor") or None,
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
        """One chat's messages, newest first (the chat id says whose: no `account_id`)."""
        params: dict[str, Any] = {"limit": _limit(page_size)}
        if cursor:
            params["cursor"] = cursor
        params.update(after_param(newer_than))
        path = f"{CHATS_PATH}/{quote(conversation_id, safe='')}/messages"
        return ApiRequest("GET", path, params=params)

    def messages_page(self, payload: Any) -> Page:
        """`items` and `cursor` (null on the last page)."""
        items = payload.get("items") or []
        return Page(
            records=[message_record(item) for item in items],
            next_cursor=payload.get("cursor") or None,
            credits=self.credits_for(len(items)),
            items=len(items),
        )

    def check_response(self, response: requests.Response) -> Any:
        """A `ChatList`/`MessageList` object, or a problem+json-like error body."""
        payload = decode_json(response)
        status = response.status_code
        if status == 200 and isinstance(payload, dict) and payload.get("object") in SUCCESS_OBJECTS:
            return payload

        problem = payload if isinstance(payload, dict) else {}
        kind = one_line(self.redact(str(problem.get("type") or problem.get("title") or "")))
        detail = one_line(self.redact(str(problem.get("detail") or "")))
        if status == 429 or status >= 500 or payload is None:
            # A cut-off or non-JSON body is a transport fault: ask again.
            reason = kind or ("a body that is not JSON" if payload is None else f"HTTP {status}")
            raise RetriableAPIError(f"{self.name}: {reason} (HTTP {status})", response)
        label = f"{self.name}: {kind or 'error'} (HTTP {status})"
        if detail:
            label = f"{label}: {detail}"
        if status == 404 and CHAT_MESSAGES_PATH.search(_path_of(response)):
            raise ConversationGoneError(label)
        if status == 200:
            # Valid JSON that is no Unipile listing: something else answers at `api_url`.
            msg = f"{label} - not a Unipile chat or message list; check the `api_url` setting"
            raise ProviderError(msg)
        raise ProviderError(f"{label} - {self._hint(status, kind, detail)}")

    @staticmethod
    def _hint(status: int, kind: str, detail: str) -> str:
        """What to check for a fatal error, by its type, else by its status."""
        if kind in ACCOUNT_SESSION_TYPES:
            return RECONNECT
        if kind in SETTING_TO_CHECK:
            return SETTING_TO_CHECK[kind]
        if status == 400:
            return _rejected_parameter_hint(detail)
        return SETTING_BY_STATUS.get(status, "check the tap settings")


def _limit(page_size: int) -> int:
    """`page_size` within the reference's 1-250."""
    return max(1, min(MAX_LIMIT, page_size))


def _rejected_parameter_hint(detail: str) -> str:
    """Name the query parameter a 400 mentions, and the setting it came from."""
    for parameter, setting in PARAMETER_SETTINGS.items():
        if re.search(rf"\b{parameter}\b", detail):
            return f"the request's `{parameter}` was rejected; check the `{setting}` setting"
    if re.search(r"\bcursor\b", detail):
        return "Unipile rejected its own `cursor`; run the tap again"
    return "check the `page_size`, `inbox_categories` and `start_date` settings"


def _path_of(response: requests.Response) -> str:
    """The path a response answers (its request's URL)."""
    request = response.request
    return urlsplit(str(request.url)).path if request is not None and request.url else ""
