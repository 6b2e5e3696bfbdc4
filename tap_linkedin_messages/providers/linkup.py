"""LinkupAPI v2: one action endpoint, `POST /v2/messages`, for the inbox and conversations.

Seeds 003 (`list_inbox`) and 000 (`get_conversation`); errors per the v2 error-code page.
Every timestamp inside `data` is epoch milliseconds.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

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
    from datetime import datetime

    import requests

# Codes the provider documents as transient; everything else stops the run.
RETRIABLE_CODES = frozenset({"RATE_LIMITED", "INTERNAL_ERROR"})
# Not on the error-code page [inferred]: how a conversation deleted since it was listed
# answers `get_conversation`. INVALID_ACCOUNT (also a 404) is never one of these.
CONVERSATION_GONE_CODES = frozenset({"NOT_FOUND", "CONVERSATION_NOT_FOUND"})

# What a user should look at for each fatal code.
SETTING_TO_CHECK = {
    "INVALID_API_KEY": "check the `api_key` setting",
    "INVALID_ACCOUNT": "check the `account_id` setting",
    "ACCOUNT_INACTIVE": "reconnect the LinkedIn account in LinkupAPI, or check `account_id`",
    "INSUFFICIENT_CREDITS": "top up LinkupAPI credits; the next run resumes from the bookmark",
    "INVALID_PARAMS": "check the `inbox_categories` and `page_size` settings",
    "INVALID_ACTION": "check the `api_url` setting points at LinkupAPI v2",
}


def conversation_record(
    item: dict[str, Any], *, category: str | None, organization_flag: bool = True
) -> Record:
    """One `list_inbox` conversation as our record (without `account_id`/`provider`).

    `organization_flag`: v2 documents `is_organization` ("absent for human members"), so
    there an absent flag means False; v1 has no such flag, so there it means unknown.
    """
    participant = item.get("participant") or {}
    last_message = item.get("last_message") or {}
    sender = last_message.get("sender") or {}
    last_sent_at = ms_to_rfc3339(last_message.get("time"))
    conversation_id = item.get("conversation_id")
    return {
        "conversation_id": conversation_id,
        "thread_id": thread_id_from_urn(conversation_id),
        "category": category,
        "type": item.get("type"),
        "participants": [
            {
                "name": participant.get("name"),
                "headline": participant.get("headline"),
                "profile_url": participant.get("profile_url"),
                "profile_picture_url": participant.get("profile_picture"),
                "is_organization": bool(participant["is_organization"])
                if participant.get("is_organization") is not None
                else (False if organization_flag else None),
            }
        ]
        if participant
        else [],
        # list_inbox has no separate activity time: the last message is the last activity.
        "last_activity_at": last_sent_at,
        "unread_count": item.get("unread"),
        "last_message": {
            "text": last_message.get("text"),
            "sent_at": last_sent_at,
            "sender_name": sender.get("name"),
            "sender_profile_url": sender.get("profile_url"),
            "is_from_me": sender.get("is_me"),
        }
        if last_message
        else None,
    }


def message_record(item: dict[str, Any]) -> Record:
    """One `get_conversation` message as our record (without conversation/account fields)."""
    sender_info = item.get("sender_info") or {}
    return {
        "message_id": item.get("entity_urn"),
        "sent_at": ms_to_rfc3339(item.get("timestamp")),
        "text": item.get("text"),
        "subject": None,
        "message_type": item.get("message_type"),
        "sender": {
            "name": item.get("sender"),
            "first_name": sender_info.get("first_name"),
            "last_name": sender_info.get("last_name"),
            "profile_url": sender_info.get("profile_url"),
            # get_conversation does not say who "me" is; the stream infers it when it can.
            "is_me": None,
        },
    }


class LinkupProvider(Provider):
    """LinkupAPI v2 (`provider: linkup`)."""

    name = "linkup"
    default_api_url = "https://api.linkupapi.com"
    required_settings = ("api_key", "account_id")

    def auth_headers(self) -> dict[str, str]:
        """LinkupAPI authenticates with an `x-api-key` header."""
        return {"x-api-key": str(self.config["api_key"])}

    def _action(self, account_id: str, action: str, params: dict[str, Any]) -> ApiRequest:
        return ApiRequest(
            "POST",
            "/v2/messages",
            json={"account_id": account_id, "action": action, "params": params},
        )

    def conversations_request(
        self,
        *,
        account_id: str,
        category: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """`list_inbox`, newest activity first (no time filter: the stream stops paging)."""
        params: dict[str, Any] = {"count": page_size, "category": category}
        if cursor:
            params["cursor"] = cursor
        return self._action(account_id, "list_inbox", params)

    def conversations_page(self, payload: Any, *, category: str) -> Page:
        """`data.conversations` and `data.next_cursor` (null at the end)."""
        data = payload.get("data") or {}
        items = data.get("conversations") or []
        return Page(
            # list_inbox's only activity time is the last message's: a conversation
            # without one has nothing to read, and no time to bookmark.
            records=[
                conversation_record(item, category=category)
                for item in items
                if item.get("last_message")
            ],
            next_cursor=data.get("next_cursor"),
            credits=self._credits(payload, len(items)),
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
        """`get_conversation`, newest message first; the cursor walks back in time."""
        params: dict[str, Any] = {"conversation_id": conversation_id, "count": page_size}
        if cursor:
            params["cursor"] = cursor
        return self._action(account_id, "get_conversation", params)

    def messages_page(self, payload: Any) -> Page:
        """`data.messages` and `data.next_cursor` (an epoch-ms string; null/absent at the end)."""
        data = payload.get("data") or {}
        items = data.get("messages") or []
        cursor = data.get("next_cursor")
        return Page(
            records=[message_record(item) for item in items],
            next_cursor=str(cursor) if cursor is not None else None,
            credits=self._credits(payload, len(items)),
            items=len(items),
        )

    def _credits(self, payload: dict[str, Any], item_count: int) -> int:
        metadata = payload.get("metadata") or {}
        consumed = metadata.get("credits_consumed")
        if isinstance(consumed, int):
            return consumed
        return self.credits_for(item_count)

    def check_response(self, response: requests.Response) -> Any:
        """Success envelope, or `{success: false, error: {code, message}}`."""
        payload = decode_json(response)
        if isinstance(payload, dict) and payload.get("success") is True:
            return payload

        status = response.status_code
        error = payload.get("error") if isinstance(payload, dict) else None
        code = str(error.get("code")) if isinstance(error, dict) else None
        message = self.redact(str(error.get("message", ""))) if isinstance(error, dict) else ""
        if code in RETRIABLE_CODES or status == 429 or status >= 500 or payload is None:
            # A cut-off or non-JSON body is a transport fault: ask again.
            reason = code or ("a body that is not JSON" if payload is None else f"HTTP {status}")
            raise RetriableAPIError(f"{self.name}: {reason} (HTTP {status})", response)
        detail = f": {message}" if message else ""
        if code in CONVERSATION_GONE_CODES and _action_of(response) == "get_conversation":
            raise ConversationGoneError(f"{self.name}: {code} (HTTP {status}){detail}")
        hint = SETTING_TO_CHECK.get(code or "", "check the tap settings")
        raise ProviderError(f"{self.name}: {code or 'error'} (HTTP {status}){detail} - {hint}")


def _action_of(response: requests.Response) -> str | None:
    """The action a LinkupAPI request asked for (every action shares one URL)."""
    try:
        body = json.loads(response.request.body or b"{}")
    except (TypeError, ValueError):
        return None
    return body.get("action") if isinstance(body, dict) else None
