"""LinkupAPI v2 emulator: `POST /v2/messages` with actions `list_inbox` and `get_conversation`.

Shapes follow https://docs.linkupapi.com/api-reference/v2/messages/list-inbox,
https://docs.linkupapi.com/api-reference/v2/messages/get-conversation and
https://docs.linkupapi.com/api-reference/v2/error-codes: the success envelope with
`metadata.credits_consumed` (1 credit per 10 items returned, rounded up), the error
envelope `{success: false, error: {code, message}}`, epoch-ms timestamps, newest-first
listings, an opaque inbox cursor (LinkedIn's own `DESCENDING&<ms>&<thread id>`, base64)
and an epoch-ms message cursor.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tests.emulators import paging
from tests.emulators.inbox import Conversation, Message, SyntheticInbox
from tests.emulators.server import Call, ErrorReply, ProviderEmulator, Reply

DEFAULT_COUNT = 10
INBOX_CURSOR = "DESCENDING"


class LinkupEmulator(ProviderEmulator):
    """Serves one account's synthetic inbox to one API key."""

    provider = "linkup"
    inbox_route = "list_inbox"
    messages_route = "get_conversation"
    credentials = {"api_key": "test-linkup-key", "account_id": "acc_test123"}
    api_key: str
    account_id: str
    # https://docs.linkupapi.com/api-reference/v2/error-codes. A disconnected account
    # answers ACCOUNT_INACTIVE; `disconnected_kind = "no_account"`: removed from LinkupAPI.
    errors = {
        "fatal": ErrorReply(402, "Not enough credits", "INSUFFICIENT_CREDITS"),
        "rate_limited": ErrorReply(429, "Too many requests", "RATE_LIMITED"),
        "server_error": ErrorReply(500, "Internal error", "INTERNAL_ERROR"),
        "unauthorized": ErrorReply(403, "Invalid or missing API key", "INVALID_API_KEY"),
        # Not on the error-code page: the shape a deleted conversation is taken to have.
        "conversation_gone": ErrorReply(404, "Conversation not found", "NOT_FOUND"),
        "bad_request": ErrorReply(400, "Invalid params", "INVALID_PARAMS"),
        "disconnected": ErrorReply(403, "Account is inactive", "ACCOUNT_INACTIVE"),
        "no_account": ErrorReply(404, "Account not found", "INVALID_ACCOUNT"),
    }

    def route(self, call: Call) -> str:
        if call.method == "POST" and call.path == "/v2/messages" and isinstance(call.body, dict):
            action = str(call.body.get("action"))
            if action == "get_conversation":
                params = call.body.get("params") or {}
                call.thread_id = self.inbox.thread_id_of(str(params.get("conversation_id") or ""))
            return action
        return f"{call.method} {call.path}"

    def error_body(self, documented: ErrorReply) -> Reply:
        return error(documented.status, documented.code, documented.text)

    def answer(self, call: Call) -> Reply:
        body = call.body if isinstance(call.body, dict) else {}
        if call.method != "POST" or call.path != "/v2/messages":
            # The real service answers unknown paths with INVALID_ACCOUNT, not a 404 route.
            return self.error_reply("no_account")
        if call.headers.get("x-api-key") != self.api_key:
            return self.error_reply("unauthorized")
        if body.get("account_id") != self.account_id:
            return self.error_reply("no_account")
        params = body.get("params") or {}
        count = paging.number(params.get("count"), "Invalid count") or DEFAULT_COUNT
        if call.route == "list_inbox":
            return self.list_inbox(params, count)
        if call.route == "get_conversation":
            return self.get_conversation(params, count)
        return error(400, "INVALID_ACTION", f"Unknown action {call.route!r}", call.route)

    def list_inbox(self, params: dict[str, Any], count: int) -> Reply:
        listed = self.inbox.newest_first(str(params.get("category") or "INBOX"))
        cursor = params.get("cursor")
        start = paging.position_of(str(cursor), INBOX_CURSOR, "Invalid cursor") if cursor else None
        page, after = paging.page_at(listed, start, count)
        data = {
            "conversations": [conversation_item(self.inbox, c) for c in page],
            "total_results": len(page),
            "next_cursor": paging.opaque_cursor(after, INBOX_CURSOR),
        }
        return success("list_inbox", self.account_id, data, len(page))

    def get_conversation(self, params: dict[str, Any], count: int) -> Reply:
        thread_id = self.inbox.thread_id_of(str(params.get("conversation_id") or ""))
        if thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[thread_id]
        cursor = paging.number(params.get("cursor"), "Invalid cursor")
        start = paging.at_or_before(cursor) if cursor else None
        page, after = paging.page_at(conversation.newest_first(), start, count)
        data: dict[str, Any] = {
            "total_message_count": len(conversation.messages),
            "unread_count": conversation.unread,
            "last_seen_message": conversation.unread == 0,
            "last_seen_at": conversation.last_activity_ms,
            "messages": [message_item(self.inbox, m) for m in page],
        }
        if after:
            # As in the doc's example: the time of the next, older message.
            data["next_cursor"] = str(after.sent_at_ms)
        return success("get_conversation", self.account_id, data, len(page))


def conversation_item(inbox: SyntheticInbox, conversation: Conversation) -> dict[str, Any]:
    """One `list_inbox` conversation."""
    other = conversation.participants[0]
    participant: dict[str, Any] = {
        "name": other.name,
        "headline": other.headline,
        "profile_url": other.profile_url,
        "profile_picture": other.picture_url,
    }
    if other.is_organization:
        participant["is_organization"] = True
    item: dict[str, Any] = {
        "conversation_id": inbox.conversation_urn(conversation.thread_id),
        "participant": participant,
        "unread": conversation.unread,
        "type": conversation.type,
    }
    if conversation.messages:
        last = conversation.messages[-1]
        item["last_message"] = {
            "text": last.text,
            "time": last.sent_at_ms,
            "sender": {
                "name": last.sender.name,
                "headline": last.sender.headline,
                # The member's own URL in LinkedIn's member-id form, as in the
                # reference's inbox example; everyone else's is their vanity URL.
                "profile_url": inbox.listed_profile_url(last.sender),
                "profile_picture": last.sender.picture_url,
                "is_me": last.sender is inbox.owner,
            },
        }
    return item


def message_item(inbox: SyntheticInbox, message: Message) -> dict[str, Any]:
    """One `get_conversation` message."""
    return {
        "text": message.text,
        "timestamp": message.sent_at_ms,
        "sender": message.sender.name,
        "sender_info": {
            "first_name": message.sender.first_name,
            "last_name": message.sender.last_name,
            # get_conversation writes profile URLs with a trailing slash (its example).
            "profile_url": message.sender.profile_url + "/",
        },
        "message_type": message.message_type,
        "entity_urn": inbox.message_urn(message),
    }


def success(action: str, account_id: str, data: dict[str, Any], items: int) -> Reply:
    credits = paging.credits_for(items)
    metadata = {"action": action, "account_id": account_id, "credits_consumed": credits}
    body = {"success": True, "data": data, "metadata": {**metadata, "timestamp": now()}}
    return Reply(200, body, credits=credits)


def error(status: int, code: str, message: str, action: str = "") -> Reply:
    """The v2 error envelope; errors never consume credits."""
    metadata = {"action": action, "credits_consumed": 0, "timestamp": now()}
    body = {"success": False, "error": {"code": code, "message": message}, "metadata": metadata}
    return Reply(status, body)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
