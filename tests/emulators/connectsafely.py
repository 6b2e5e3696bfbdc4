"""ConnectSafely emulator: `GET /linkedin/conversations` and `.../conversations/{urn}/messages`.

Shapes follow ConnectSafely's reference for the current routes,
https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations and
https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-conversationurn-messages-get-conversation-messages,
and for the deprecated ones, which answer `307` to the current routes as the real
service does:

- `GET /conversations?accountId&count&nextCursor&unreadOnly` answers
  `{success, conversations[], accounts[], nextCursor, hasMore, fromCache}`, each
  conversation `{conversationUrn, conversationId, lastActivityAt, unreadCount,
  participants[], latestMessage{}, source, salesNavThreadId}`;
- `GET /conversations/{URL-encoded URN}/messages?accountId&count&cursor&since` answers
  `{success, messages[], participants[], hasMore, cursor, note}`, each message
  `{messageUrn, text, sentAt, senderProfileId, senderName, senderPhoto, isSentByOwner,
  hasAttachment, attachments[]}`;
- `Authorization: Bearer <key>`; `lastActivityAt` as an ISO date (the reference types it
  `date`), message times as epoch ms; newest first; `count` up to 100 (20 by default);
  errors in the documented shapes (`{error}` for a rejected key, `{success: false,
  error}` otherwise).

Choices the docs leave open, made here:

- everything is served under `/linkedin`, as on the real host, so `api_url` is
  `<emulator url>/linkedin`;
- `accountId` is optional (the default account); any other account is a 404;
- the inbox cursor is opaque (`linkedin:` and base64, the doc's prefix for LinkedIn-side
  paging); the messages cursor is a "timestamp cursor for older messages": the time of
  the oldest message returned, and the next page holds what is strictly older;
- `since` is exclusive ("newer than"); sent together with `cursor`, which the reference
  does not document, it is a 400 (a client relying on it would be told);
- the cursor excludes the message it names, unless `inclusive_cursor` is set: then a
  page starts again with the previous page's last message (what an inclusive cursor
  would do: the reference does not say);
- `sync=true|false` is accepted (every answer is "LinkedIn's" here);
- attachments are `{assetUrn, name, mediaType, byteSize, url}` (the reference leaves
  the item undocumented: its upload answer's fields, and the URL its download takes);
- a conversation without messages is listed with its creation time and no
  `latestMessage`;
- a participant's `hostIdentityUrn` is `urn:li:fsd_company:` for company pages;
- 429 is undocumented on these routes: it is answered in the `{success, code, message}`
  shape a docs mirror describes;
- ConnectSafely publishes no per-item price: each page reports the shared 1 credit per
  10 items (rounded up), so cost tests compare providers alike.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlencode

from tap_linkedin_messages.normalize import ms_to_rfc3339
from tests.emulators import paging
from tests.emulators.inbox import Conversation, Message, Person
from tests.emulators.server import Call, ErrorReply, ProviderEmulator, Reply

BASE = "/linkedin"
CONVERSATIONS_PATH = f"{BASE}/conversations"
CONVERSATION_MESSAGES_PATH = re.compile(rf"{BASE}/conversations/([^/]+)/messages")
RECENT_MESSAGES_PATH = f"{BASE}/messaging/recent-messages"
CONVERSATION_DETAILS_PATH = f"{BASE}/messaging/conversation-details"
# The older doc revision: `count` "default 20, max 100".
DEFAULT_COUNT = 20
MAX_COUNT = 100
CURSOR_PREFIX = "linkedin:"


class ConnectSafelyEmulator(ProviderEmulator):
    """Serves one LinkedIn account's synthetic inbox (the key's default account) to one key."""

    provider = "connectsafely"
    inbox_route = "list_conversations"
    messages_route = "get_conversation_messages"
    tells_is_me = True

    credentials = {"api_key": "test-connectsafely-key", "account_id": "696ce9e780e0483585e4e553"}
    api_key: str
    account_id: str
    api_path = BASE
    #: A cursor that keeps the message it names (see the module notes).
    inclusive_cursor = False
    #: Read `since` as epoch seconds (the reference gives it no unit): what a service
    #: reading the time filter otherwise than the tap looks like.
    since_in_seconds = False
    errors = {
        # The conversation-details reference's 400 example.
        "fatal": ErrorReply(400, "conversationUrn is required"),
        "rate_limited": ErrorReply(429, "Rate limit exceeded: 30 calls per minute", "RATE_LIMITED"),
        # The recent-messages reference's 500 example.
        "server_error": ErrorReply(500, "Failed to get LinkedIn authentication credentials"),
        "unauthorized": ErrorReply(401, "Unauthorized - Invalid credentials"),
        "conversation_gone": ErrorReply(404, "Conversation not found"),
        "bad_request": ErrorReply(400, "Invalid parameters"),
        # An account no longer connected: the statuses of
        # https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations
        "disconnected": ErrorReply(404, "LinkedIn account not found"),
    }

    def route(self, call: Call) -> str:
        if call.method != "GET":
            return f"{call.method} {call.path}"
        if call.path == CONVERSATIONS_PATH:
            return "list_conversations"
        match = CONVERSATION_MESSAGES_PATH.fullmatch(call.path)
        if match:
            call.thread_id = self.inbox.thread_id_of(unquote(match.group(1)))
            return "get_conversation_messages"
        if call.path == RECENT_MESSAGES_PATH:
            return "recent_messages"
        if call.path == CONVERSATION_DETAILS_PATH:
            return "conversation_details"
        return f"{call.method} {call.path}"

    def error_body(self, documented: ErrorReply) -> Reply:
        """The documented shapes: `{error}` for a rejected key, `{success, code, message}`
        for a rate limit (as a docs mirror has it), `{success: false, error}` otherwise."""
        if documented.code:
            body = {"success": False, "code": documented.code, "message": documented.text}
            return Reply(documented.status, body)
        if documented.status == 401:
            return Reply(401, {"error": documented.text})
        return failure(documented.status, documented.text)

    # --- answers --------------------------------------------------------------------------

    def answer(self, call: Call) -> Reply:
        if call.route == "recent_messages":
            return redirect_recent_messages(call)
        if call.route == "conversation_details":
            return redirect_conversation_details(call)
        if call.route not in (self.inbox_route, self.messages_route):
            return failure(404, f"Cannot GET {call.path}")
        if call.headers.get("authorization") != f"Bearer {self.api_key}":
            return self.error_reply("unauthorized")
        account = query(call, "accountId")
        if account is not None and account != self.account_id:
            # An account the key does not serve: the same 404 as one no longer connected.
            return self.error_reply("disconnected")
        if call.route == self.inbox_route:
            return self.list_conversations(call)
        return self.conversation_messages(call)

    def list_conversations(self, call: Call) -> Reply:
        unread_only = query(call, "unreadOnly")
        if unread_only not in (None, "true", "false"):
            raise paging.BadRequestError("unreadOnly must be true or false")
        listed = self.inbox.newest_first("UNREAD" if unread_only == "true" else "INBOX")
        cursor = query(call, "nextCursor")
        start = position_of(cursor) if cursor else None
        page, after = paging.page_at(listed, start, count_of(call))
        conversations = [self.conversation_item(c) for c in page]
        return Reply(
            200,
            {
                "success": True,
                "conversations": conversations,
                "accounts": [{"id": self.account_id, "name": self.inbox.owner.name}],
                "nextCursor": paging.opaque_cursor(after, "conversations", CURSOR_PREFIX),
                "hasMore": after is not None,
                "fromCache": False,
            },
            credits=paging.credits_for(len(conversations)),
        )

    def conversation_messages(self, call: Call) -> Reply:
        if call.thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[call.thread_id]
        newest_first = conversation.newest_first()
        since = millis_of(call, "since")
        before = millis_of(call, "cursor")
        if since is not None and before is not None:
            raise paging.BadRequestError("since cannot be combined with cursor")
        if query(call, "sync") not in (None, "true", "false"):
            raise paging.BadRequestError("sync must be true or false")
        if since is not None:
            since_ms = since * 1000 if self.since_in_seconds else since
            newest_first = [m for m in newest_first if m.sent_at_ms > since_ms]
        start = None
        if before is not None:
            start = paging.at_or_before(before) if self.inclusive_cursor else paging.before(before)
        page, after = paging.page_at(newest_first, start, count_of(call))
        return Reply(
            200,
            {
                "success": True,
                "messages": [self.message_item(m) for m in page],
                "participants": [
                    {
                        "profileId": p.profile_id,
                        "name": p.name,
                        "headline": p.headline,
                        "profilePicture": p.picture_url,
                    }
                    for p in conversation.participants
                ],
                "hasMore": after is not None,
                "cursor": str(page[-1].sent_at_ms) if after else None,
                "note": None,
            },
            credits=paging.credits_for(len(page)),
        )

    # --- payload shapes -------------------------------------------------------------------

    def conversation_item(self, conversation: Conversation) -> dict[str, Any]:
        item: dict[str, Any] = {
            "conversationUrn": self.inbox.conversation_urn(conversation.thread_id),
            "conversationId": conversation.thread_id,
            "lastActivityAt": ms_to_rfc3339(conversation.last_activity_ms),
            "unreadCount": conversation.unread,
            "participants": [participant_item(p) for p in conversation.participants],
            "latestMessage": None,
            "source": "linkedin",
            "salesNavThreadId": None,
        }
        if conversation.messages:
            last = conversation.messages[-1]
            item["latestMessage"] = {
                "messageUrn": self.inbox.message_urn(last),
                "text": last.text,
                "sentAt": last.sent_at_ms,
                "senderName": last.sender.name,
                "senderProfileUrl": last.sender.profile_url,
                "senderUrn": participant_urn(last.sender),
                "hasAttachment": bool(last.attachments),
            }
        return item

    def message_item(self, message: Message) -> dict[str, Any]:
        return {
            "messageUrn": self.inbox.message_urn(message),
            "text": message.text,
            "sentAt": message.sent_at_ms,
            "senderProfileId": message.sender.profile_id,
            "senderName": message.sender.name,
            "senderPhoto": message.sender.picture_url,
            "isSentByOwner": message.sender is self.inbox.owner,
            "hasAttachment": bool(message.attachments),
            "attachments": [
                {
                    "assetUrn": f"urn:li:digitalmediaAsset:{a.asset_id}",
                    "name": a.name,
                    "mediaType": a.media_type,
                    "byteSize": a.size_bytes,
                    "url": a.url,
                }
                for a in message.attachments
            ],
        }


def host_identity_urn(person: Person) -> str:
    kind = "fsd_company" if person.is_organization else "fsd_profile"
    return f"urn:li:{kind}:{person.profile_id}"


def participant_urn(person: Person) -> str:
    return f"urn:li:msg_messagingParticipant:{host_identity_urn(person)}"


def participant_item(person: Person) -> dict[str, Any]:
    """A member of `participants[]`, every field the recent-messages reference shows
    (https://connectsafely.ai/docs/api/linkedin-messaging/get-messaging-recent-messages-get-recent-messages)."""
    return {
        "profileId": person.profile_id,
        "name": person.name,
        "headline": person.headline,
        "profileUrl": person.profile_url,
        "profilePicture": person.picture_url,
        "distance": "DISTANCE_1",
        "memberBadgeType": None,
        "participantUrn": participant_urn(person),
        "hostIdentityUrn": host_identity_urn(person),
    }


# --- the deprecated routes ----------------------------------------------------------------


def redirect_recent_messages(call: Call) -> Reply:
    """The deprecated `GET /messaging/recent-messages`: `307` to `GET /conversations`, its
    query carried over.

    `keywords` has no counterpart there and is dropped; `read=false` (unread ones) becomes
    `unreadOnly=true`.
    """
    params = carried(call, {"accountId": "accountId", "count": "count", "nextCursor": "nextCursor"})
    if query(call, "read") == "false":
        params["unreadOnly"] = "true"
    return redirect(CONVERSATIONS_PATH, params)


def redirect_conversation_details(call: Call) -> Reply:
    """The deprecated `GET /messaging/conversation-details`: `307` to
    `GET /conversations/{urn}/messages`.

    Its anchor paging maps onto the cursor: `deliveredAt` with `countBefore` asks for the
    messages older than a time, which is what `cursor` and `count` ask for.
    """
    urn = query(call, "conversationUrn")
    if not urn:
        return failure(400, "conversationUrn is required")
    params = carried(
        call, {"accountId": "accountId", "countBefore": "count", "deliveredAt": "cursor"}
    )
    return redirect(f"{CONVERSATIONS_PATH}/{quote(urn, safe='')}/messages", params)


def carried(call: Call, names: dict[str, str]) -> dict[str, str]:
    """The old query's parameters under their new names (those that were sent)."""
    return {new: value for old, new in names.items() if (value := query(call, old)) is not None}


def redirect(path: str, params: dict[str, str]) -> Reply:
    location = f"{path}?{urlencode(params)}" if params else path
    return Reply(
        307,
        {"success": True, "deprecated": True, "location": location},
        headers={"Location": location},
    )


# --- helpers ------------------------------------------------------------------------------


def query(call: Call, name: str) -> str | None:
    values = call.query.get(name)
    return values[0] if values else None


def count_of(call: Call) -> int:
    count = paging.number(query(call, "count"), "count must be a positive number")
    return min(count or DEFAULT_COUNT, MAX_COUNT)


def millis_of(call: Call, name: str) -> int | None:
    return paging.number(query(call, name), f"{name} must be a timestamp in milliseconds")


def position_of(cursor: str) -> paging.Position:
    return paging.position_of(cursor, "conversations", "Invalid nextCursor", CURSOR_PREFIX)


def failure(status: int, error: str) -> Reply:
    """The `{success: false, error}` body of the list and messages references; errors
    cost nothing."""
    return Reply(status, {"success": False, "error": error})
