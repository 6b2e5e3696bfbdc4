"""LinkupAPI v2 emulator: `POST /v2/messages` with actions `list_inbox` and `get_conversation`.

Shapes follow https://docs.linkupapi.com/api-reference/v2/messages/list-inbox,
https://docs.linkupapi.com/api-reference/v2/messages/get-conversation and
https://docs.linkupapi.com/api-reference/v2/error-codes: the success envelope with
`metadata.credits_consumed` (1 credit per 10 items returned, rounded up), the error
envelope `{success: false, error: {code, message}}`, epoch-ms timestamps, newest-first
listings, an opaque base64 inbox cursor and an epoch-ms message cursor.
"""

from __future__ import annotations

import base64
import math
from datetime import datetime, timezone
from typing import Any

from tests.emulators.inbox import Conversation, Message, SyntheticInbox
from tests.emulators.server import Call, ProviderEmulator, Reply

DEFAULT_COUNT = 10


class LinkupEmulator(ProviderEmulator):
    """Serves one account's synthetic inbox to one API key."""

    provider = "linkup"
    inbox_route = "list_inbox"
    messages_route = "get_conversation"

    def __init__(
        self,
        inbox: SyntheticInbox,
        *,
        api_key: str = "test-linkup-key",
        account_id: str = "acc_test123",
        latency: float = 0.0,
    ) -> None:
        super().__init__(inbox, latency=latency)
        self.api_key = api_key
        self.account_id = account_id
        #: How a disconnected account answers: `ACCOUNT_INACTIVE` (403), or
        #: `INVALID_ACCOUNT` (404) once it is removed from LinkupAPI.
        self.disconnected_code = "ACCOUNT_INACTIVE"

    def route(self, call: Call) -> str:
        if call.method == "POST" and call.path == "/v2/messages" and isinstance(call.body, dict):
            action = str(call.body.get("action"))
            if action == "get_conversation":
                params = call.body.get("params") or {}
                call.thread_id = self.inbox.thread_id_of(str(params.get("conversation_id") or ""))
            return action
        return f"{call.method} {call.path}"

    def bad_credentials(self) -> tuple[dict[str, Any], str]:
        return self.config(api_key="wrong-key-0000"), "api_key"

    def conversation_id(self, thread_id: str) -> str:
        return self.inbox.conversation_urn(thread_id)

    def message_id(self, message: Message) -> str:
        return self.inbox.message_urn(message)

    def error_reply(
        self, kind: str, *, retry_after: str | None = None, message: str | None = None
    ) -> Reply:
        if kind == "fatal":
            return error(402, "INSUFFICIENT_CREDITS", message or "Not enough credits")
        if kind == "rate_limited":
            reply = error(429, "RATE_LIMITED", "Too many requests")
            if retry_after is not None:
                reply.headers["Retry-After"] = retry_after
            return reply
        if kind == "server_error":
            return error(500, "INTERNAL_ERROR", "Internal error")
        if kind == "unauthorized":
            return error(403, "INVALID_API_KEY", "Invalid or missing API key")
        if kind == "conversation_gone":
            # Not on the error-code page: the shape a deleted conversation is taken to have.
            return error(404, "NOT_FOUND", "Conversation not found", "get_conversation")
        raise ValueError(kind)

    def disconnected_reply(self, call: Call) -> Reply:
        """https://docs.linkupapi.com/api-reference/v2/error-codes: ACCOUNT_INACTIVE is
        403, INVALID_ACCOUNT 404."""
        if self.disconnected_code == "INVALID_ACCOUNT":
            return error(404, "INVALID_ACCOUNT", "Account not found", call.route)
        return error(403, "ACCOUNT_INACTIVE", "Account is inactive", call.route)

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Tap settings that point at this emulator."""
        return {
            "provider": "linkup",
            "api_key": self.api_key,
            "account_id": self.account_id,
            "api_url": self.url,
            "backoff_base_seconds": 0,
            **overrides,
        }

    # --- answers --------------------------------------------------------------------------

    def answer(self, call: Call) -> Reply:
        if call.method != "POST" or call.path != "/v2/messages":
            # The real service answers unknown paths with INVALID_ACCOUNT, not a 404 route.
            return error(404, "INVALID_ACCOUNT", "Account not found", call.route)
        if call.headers.get("x-api-key") != self.api_key:
            return error(403, "INVALID_API_KEY", "Invalid or missing API key", call.route)
        body = call.body if isinstance(call.body, dict) else {}
        if body.get("account_id") != self.account_id:
            return error(404, "INVALID_ACCOUNT", "Account not found", call.route)
        params = body.get("params") or {}
        if call.route == "list_inbox":
            return self.list_inbox(params)
        if call.route == "get_conversation":
            return self.get_conversation(params)
        return error(400, "INVALID_ACTION", f"Unknown action {call.route!r}", call.route)

    def list_inbox(self, params: dict[str, Any]) -> Reply:
        count = int(params.get("count") or DEFAULT_COUNT)
        listed = self.inbox.newest_first(str(params.get("category") or "INBOX"))
        start = 0
        if params.get("cursor"):
            position = decode_inbox_cursor(str(params["cursor"]))
            if position is None:
                return error(400, "INVALID_PARAMS", "Invalid cursor", "list_inbox")
            start = next(
                (i for i, c in enumerate(listed) if (-c.last_activity_ms, c.thread_id) >= position),
                len(listed),
            )
        page = listed[start : start + count]
        rest = listed[start + count :]
        next_cursor = encode_inbox_cursor(rest[0]) if rest else None
        conversations = [self.conversation_item(c) for c in page]
        return success(
            "list_inbox",
            self.account_id,
            {
                "conversations": conversations,
                "total_results": len(page),
                "next_cursor": next_cursor,
            },
            len(page),
        )

    def get_conversation(self, params: dict[str, Any]) -> Reply:
        thread_id = self.inbox.thread_id_of(str(params.get("conversation_id") or ""))
        if thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[thread_id]
        count = int(params.get("count") or DEFAULT_COUNT)
        newest_first = list(reversed(conversation.messages))
        if params.get("cursor"):
            before = int(params["cursor"])
            newest_first = [m for m in newest_first if m.sent_at_ms <= before]
        page, rest = newest_first[:count], newest_first[count:]
        data: dict[str, Any] = {
            "total_message_count": len(conversation.messages),
            "unread_count": conversation.unread,
            "last_seen_message": conversation.unread == 0,
            "last_seen_at": conversation.last_activity_ms,
            "messages": [self.message_item(m) for m in page],
        }
        if rest:
            # As in the doc's example: the time of the next, older message.
            data["next_cursor"] = str(rest[0].sent_at_ms)
        return success("get_conversation", self.account_id, data, len(page))

    # --- payload shapes -------------------------------------------------------------------

    def conversation_item(self, conversation: Conversation) -> dict[str, Any]:
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
            "conversation_id": self.inbox.conversation_urn(conversation.thread_id),
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
                    "profile_url": self.inbox.listed_profile_url(last.sender),
                    "profile_picture": last.sender.picture_url,
                    "is_me": last.sender is self.inbox.owner,
                },
            }
        return item

    def message_item(self, message: Message) -> dict[str, Any]:
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
            "entity_urn": self.inbox.message_urn(message),
        }


def encode_inbox_cursor(conversation: Conversation) -> str:
    """LinkedIn's own shape, passed through by LinkupAPI: `DESCENDING&<ms>&<thread id>`."""
    raw = f"DESCENDING&{conversation.last_activity_ms}&{conversation.thread_id}"
    return base64.b64encode(raw.encode()).decode()


def decode_inbox_cursor(cursor: str) -> tuple[int, str] | None:
    try:
        _, millis, thread_id = base64.b64decode(cursor).decode().split("&", 2)
        return (-int(millis), thread_id)
    except (ValueError, UnicodeDecodeError):
        return None


def success(action: str, account_id: str, data: dict[str, Any], items: int) -> Reply:
    credits = math.ceil(items / 10)
    return Reply(
        200,
        {
            "success": True,
            "data": data,
            "metadata": {
                "action": action,
                "account_id": account_id,
                "credits_consumed": credits,
                "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        },
        credits=credits,
    )


def error(status: int, code: str, message: str, action: str = "") -> Reply:
    """The v2 error envelope; errors never consume credits."""
    return Reply(
        status,
        {
            "success": False,
            "error": {"code": code, "message": message},
            "metadata": {
                "action": action,
                "credits_consumed": 0,
                "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        },
    )
