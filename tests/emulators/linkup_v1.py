"""LinkupAPI v1 emulator: `POST /v1/messages/inbox` and `POST /v1/messages/conversation`.

Shapes follow https://docs.linkupapi.com/api-reference/linkup/Messages/conversation and
https://docs.linkupapi.com/api-reference/linkup/Messages/inbox-conversations: the API key
in `x-api-key`, the LinkedIn session cookie (`login_token`) and proxy `country` in every
JSON body, the envelope `{"status": "success" | "error", ...}` with most errors on HTTP
200, epoch-ms
timestamps, newest-first listings, an opaque base64 inbox cursor (requested as
`next_cursor`) and an epoch-ms message cursor (requested as `cursor`) with `has_next_page`.

Credits: the doc bills 1 credit per 10 results, rounded up, and "All API calls consume
credits regardless of the status code returned (except for 500 server errors)"
(https://docs.linkupapi.com/api-reference/introduction) without saying how much an error
costs: this emulator bills an error the smallest bill, one credit, and a 500 nothing.
"""

from __future__ import annotations

import math
from typing import Any

from tests.emulators.inbox import Conversation, Message, SyntheticInbox
from tests.emulators.linkup import decode_inbox_cursor, encode_inbox_cursor
from tests.emulators.server import Call, ProviderEmulator, Reply

INBOX_PATH = "/v1/messages/inbox"
CONVERSATION_PATH = "/v1/messages/conversation"
# The doc's default page size, for both endpoints.
DEFAULT_TOTAL_RESULTS = 10
# Proxy countries the doc lists.
COUNTRIES = frozenset({"US", "UK", "FR", "DE", "NL", "IT", "IL", "CA", "BR", "ES", "IN"})
# The text v1 answers a stale or wrong cookie with (the exact wording is not documented).
SESSION_EXPIRED = "Invalid login_token: session expired"


class LinkupV1Emulator(ProviderEmulator):
    """Serves one LinkedIn session's synthetic inbox to one API key."""

    provider = "linkup_v1"
    inbox_route = "inbox"
    messages_route = "conversation"

    def __init__(
        self,
        inbox: SyntheticInbox,
        *,
        api_key: str = "test-linkup-v1-key",
        login_token: str = "test-li-at-cookie-v1",
        latency: float = 0.0,
    ) -> None:
        super().__init__(inbox, latency=latency)
        self.api_key = api_key
        self.login_token = login_token

    def route(self, call: Call) -> str:
        if call.method == "POST" and call.path == INBOX_PATH:
            return self.inbox_route
        if call.method == "POST" and call.path == CONVERSATION_PATH:
            body = call.body if isinstance(call.body, dict) else {}
            call.thread_id = self.inbox.thread_id_of(str(body.get("conversation_id") or ""))
            return self.messages_route
        return f"{call.method} {call.path}"

    def bad_credentials(self) -> tuple[dict[str, Any], str]:
        return self.config(login_token="expired-li-at-0000"), "login_token"

    def conversation_id(self, thread_id: str) -> str:
        return self.inbox.conversation_urn(thread_id)

    def message_id(self, message: Message) -> str:
        return self.inbox.message_urn(message)

    def error_reply(
        self, kind: str, *, retry_after: str | None = None, message: str | None = None
    ) -> Reply:
        if kind == "fatal":
            return error(200, message or "Insufficient credits")
        if kind == "rate_limited":
            reply = error(429, message or "Rate limit exceeded: 300 requests per minute")
            if retry_after is not None:
                reply.headers["Retry-After"] = retry_after
            return reply
        if kind == "server_error":
            return error(500, message or "Internal server error")
        if kind == "unauthorized":
            # v1's usual credential failure: the LinkedIn session, on HTTP 200.
            return error(200, message or SESSION_EXPIRED)
        if kind == "conversation_gone":
            # Not documented: the shape a deleted conversation is taken to have.
            return error(200, message or "Conversation not found")
        raise ValueError(kind)

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Tap settings that point at this emulator (`country` left to its default, FR)."""
        return {
            "provider": "linkup_v1",
            "api_key": self.api_key,
            "login_token": self.login_token,
            "api_url": self.url,
            "backoff_base_seconds": 0,
            **overrides,
        }

    disconnected_setting = "login_token"

    def disconnected_reply(self, call: Call) -> Reply:
        """The LinkedIn session behind the `login_token` ended (the member logged out)."""
        return error(200, SESSION_EXPIRED)

    # --- answers --------------------------------------------------------------------------

    def answer(self, call: Call) -> Reply:
        if call.route not in (self.inbox_route, self.messages_route):
            return error(404, f"Cannot {call.method} {call.path}")
        if call.headers.get("x-api-key") != self.api_key:
            return error(401, "Invalid API key")
        body = call.body if isinstance(call.body, dict) else {}
        if body.get("login_token") != self.login_token:
            return error(200, SESSION_EXPIRED)
        if body.get("country") not in COUNTRIES:
            return error(200, f"Invalid country {body.get('country')!r}")
        if call.route == self.inbox_route:
            return self.messages_inbox(body)
        return self.messages_conversation(body)

    def messages_inbox(self, body: dict[str, Any]) -> Reply:
        total_results = int(body.get("total_results") or DEFAULT_TOTAL_RESULTS)
        listed = self.inbox.newest_first(str(body.get("category") or "INBOX"))
        start = 0
        if body.get("next_cursor"):
            position = decode_inbox_cursor(str(body["next_cursor"]))
            if position is None:
                return error(200, "Invalid next_cursor")
            start = next(
                (i for i, c in enumerate(listed) if (-c.last_activity_ms, c.thread_id) >= position),
                len(listed),
            )
        page = listed[start : start + total_results]
        rest = listed[start + total_results :]
        return success(
            {
                "conversations": [self.conversation_item(c) for c in page],
                "total_results": len(page),
                "next_cursor": encode_inbox_cursor(rest[0]) if rest else None,
            },
            len(page),
        )

    def messages_conversation(self, body: dict[str, Any]) -> Reply:
        thread_id = self.inbox.thread_id_of(str(body.get("conversation_id") or ""))
        if thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[thread_id]
        total_results = int(body.get("total_results") or DEFAULT_TOTAL_RESULTS)
        newest_first = list(reversed(conversation.messages))
        if body.get("cursor"):
            before = int(body["cursor"])
            newest_first = [m for m in newest_first if m.sent_at_ms <= before]
        page, rest = newest_first[:total_results], newest_first[total_results:]
        # As v2 does: the cursor is the time of the next, older message. On the last page
        # a cursor is still sent (the oldest message's time), so `has_next_page: false`
        # is what ends the listing, as the doc says.
        cursor_message = rest[0] if rest else (page[-1] if page else None)
        return success(
            {
                "conversation_id": self.inbox.conversation_urn(thread_id),
                "total_results": len(page),
                "total_other_member_message_count": sum(
                    1 for m in conversation.messages if m.sender is not self.inbox.owner
                ),
                "unread_count": conversation.unread,
                "last_seen_message": conversation.unread == 0,
                "last_seen_at": conversation.last_activity_ms,
                "messages": [self.message_item(m) for m in page],
                "has_next_page": bool(rest),
                "next_cursor": str(cursor_message.sent_at_ms) if cursor_message else None,
            },
            len(page),
        )

    # --- payload shapes -------------------------------------------------------------------

    def conversation_item(self, conversation: Conversation) -> dict[str, Any]:
        other = conversation.participants[0]
        item: dict[str, Any] = {
            "conversation_id": self.inbox.conversation_urn(conversation.thread_id),
            # v1 describes only the other participant, and has no `is_organization`.
            "participant": {
                "name": other.name,
                "headline": other.headline,
                "profile_url": other.profile_url,
                "profile_picture": other.picture_url,
            },
            "unread": conversation.unread,
            "type": conversation.type,
        }
        if conversation.messages:
            last = conversation.messages[-1]
            item["last_message"] = {
                "text": last.text,
                "time": last.sent_at_ms,
                # No `is_me` in v1 (v2 added it).
                "sender": {
                    "name": last.sender.name,
                    "headline": last.sender.headline,
                    # The member's own URL in LinkedIn's member-id form, as in the
                    # reference's inbox example; everyone else's is their vanity URL.
                    "profile_url": self.inbox.listed_profile_url(last.sender),
                    "profile_picture": last.sender.picture_url,
                },
            }
        return item

    def message_item(self, message: Message) -> dict[str, Any]:
        return {
            "text": message.text,
            "timestamp": message.sent_at_ms,
            "sender": message.sender.name,
            # No `profile_url` in v1's `sender_info` (v2 added it).
            "sender_info": {
                "first_name": message.sender.first_name,
                "last_name": message.sender.last_name,
            },
            "message_type": message.message_type,
            "entity_urn": self.inbox.message_urn(message),
        }


def success(data: dict[str, Any], items: int) -> Reply:
    """v1's success envelope; billed 1 credit per 10 results, rounded up."""
    return Reply(200, {"status": "success", "data": data}, credits=math.ceil(items / 10))


def error(status: int, message: str) -> Reply:
    """v1's error envelope (only `status` is documented; `message` is taken to carry the
    text), billed one credit unless it is a 500."""
    return Reply(status, {"status": "error", "message": message}, credits=0 if status == 500 else 1)
