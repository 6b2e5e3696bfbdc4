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

from typing import Any

from tests.emulators import linkup, paging
from tests.emulators.inbox import Conversation, Message
from tests.emulators.linkup import INBOX_CURSOR
from tests.emulators.server import Call, ErrorReply, ProviderEmulator, Reply

INBOX_PATH = "/v1/messages/inbox"
CONVERSATION_PATH = "/v1/messages/conversation"
# The doc's default page size, for both endpoints.
DEFAULT_TOTAL_RESULTS = 10
# Proxy countries the doc lists.
COUNTRIES = frozenset({"US", "UK", "FR", "DE", "NL", "IT", "IL", "CA", "BR", "ES", "IN"})
# The text v1 answers a stale or wrong cookie with (the exact wording is not documented).
SESSION_EXPIRED = "Invalid login_token: session expired"


class LinkupV1Emulator(ProviderEmulator):
    """Serves one LinkedIn session's synthetic inbox to one API key (`country` left to
    the tap's default, FR)."""

    provider = "linkup_v1"
    inbox_route = "inbox"
    messages_route = "conversation"
    credentials = {"api_key": "test-linkup-v1-key", "login_token": "test-li-at-cookie-v1"}
    api_key: str
    login_token: str
    checked_credential = disconnected_setting = "login_token"
    # Most of v1's errors come on HTTP 200 (its usual credential failure, the LinkedIn
    # session, among them); how a deleted conversation answers is not documented.
    errors = {
        "fatal": ErrorReply(200, "Insufficient credits"),
        "rate_limited": ErrorReply(429, "Rate limit exceeded: 300 requests per minute"),
        "server_error": ErrorReply(500, "Internal server error"),
        "unauthorized": ErrorReply(200, SESSION_EXPIRED),
        "conversation_gone": ErrorReply(200, "Conversation not found"),
        "bad_request": ErrorReply(200, "Invalid parameters"),
        # The LinkedIn session behind the `login_token` ended (the member logged out).
        "disconnected": ErrorReply(200, SESSION_EXPIRED),
    }

    def route(self, call: Call) -> str:
        if call.method == "POST" and call.path == INBOX_PATH:
            return self.inbox_route
        if call.method == "POST" and call.path == CONVERSATION_PATH:
            body = call.body if isinstance(call.body, dict) else {}
            call.thread_id = self.inbox.thread_id_of(str(body.get("conversation_id") or ""))
            return self.messages_route
        return f"{call.method} {call.path}"

    def error_body(self, documented: ErrorReply) -> Reply:
        return error(documented.status, documented.text)

    def answer(self, call: Call) -> Reply:
        if call.route not in (self.inbox_route, self.messages_route):
            return error(404, f"Cannot {call.method} {call.path}")
        if call.headers.get("x-api-key") != self.api_key:
            return error(401, "Invalid API key")
        body = call.body if isinstance(call.body, dict) else {}
        if body.get("login_token") != self.login_token:
            return self.error_reply("unauthorized")
        if body.get("country") not in COUNTRIES:
            return error(200, f"Invalid country {body.get('country')!r}")
        size = paging.number(body.get("total_results"), "Invalid total_results")
        if call.route == self.inbox_route:
            return self.messages_inbox(body, size or DEFAULT_TOTAL_RESULTS)
        return self.messages_conversation(body, size or DEFAULT_TOTAL_RESULTS)

    def messages_inbox(self, body: dict[str, Any], size: int) -> Reply:
        listed = self.inbox.newest_first(str(body.get("category") or "INBOX"))
        cursor = body.get("next_cursor")
        start = (
            paging.position_of(str(cursor), INBOX_CURSOR, "Invalid next_cursor") if cursor else None
        )
        page, after = paging.page_at(listed, start, size)
        return success(
            {
                "conversations": [self.conversation_item(c) for c in page],
                "total_results": len(page),
                "next_cursor": paging.opaque_cursor(after, INBOX_CURSOR),
            },
            len(page),
        )

    def messages_conversation(self, body: dict[str, Any], size: int) -> Reply:
        thread_id = self.inbox.thread_id_of(str(body.get("conversation_id") or ""))
        if thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[thread_id]
        cursor = paging.number(body.get("cursor"), "Invalid cursor")
        start = paging.at_or_before(cursor) if cursor else None
        page, after = paging.page_at(conversation.newest_first(), start, size)
        # As v2 does: the cursor is the time of the next, older message. On the last page
        # a cursor is still sent (the oldest message's time), so `has_next_page: false`
        # is what ends the listing, as the doc says.
        cursor_message = after or (page[-1] if page else None)
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
                "has_next_page": after is not None,
                "next_cursor": str(cursor_message.sent_at_ms) if cursor_message else None,
            },
            len(page),
        )

    # --- payload shapes: v2's, without what v2 added ----------------------------------------

    def conversation_item(self, conversation: Conversation) -> dict[str, Any]:
        """v1 has no `is_organization` on the participant and no `is_me` on the sender."""
        item = linkup.conversation_item(self.inbox, conversation)
        item["participant"].pop("is_organization", None)
        item.get("last_message", {}).get("sender", {}).pop("is_me", None)
        return item

    def message_item(self, message: Message) -> dict[str, Any]:
        """v1's `sender_info` has no `profile_url`."""
        item = linkup.message_item(self.inbox, message)
        del item["sender_info"]["profile_url"]
        return item


def success(data: dict[str, Any], items: int) -> Reply:
    """v1's success envelope; billed 1 credit per 10 results, rounded up."""
    return Reply(200, {"status": "success", "data": data}, credits=paging.credits_for(items))


def error(status: int, message: str) -> Reply:
    """v1's error envelope (only `status` is documented; `message` is taken to carry the
    text), billed one credit unless it is a 500."""
    return Reply(status, {"status": "error", "message": message}, credits=0 if status == 500 else 1)
