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

import base64
import math
import re
from typing import Any
from urllib.parse import quote, unquote, urlencode

from tap_linkedin_messages.normalize import ms_to_rfc3339
from tests.emulators.inbox import Conversation, Message, Person, SyntheticInbox
from tests.emulators.server import Call, ProviderEmulator, Reply

BASE = "/linkedin"
CONVERSATIONS_PATH = f"{BASE}/conversations"
CONVERSATION_MESSAGES_PATH = re.compile(rf"{BASE}/conversations/([^/]+)/messages")
RECENT_MESSAGES_PATH = f"{BASE}/messaging/recent-messages"
CONVERSATION_DETAILS_PATH = f"{BASE}/messaging/conversation-details"
# The older doc revision: `count` "default 20, max 100".
DEFAULT_COUNT = 20
MAX_COUNT = 100
CURSOR_PREFIX = "linkedin:"
UNAUTHORIZED = {"error": "Unauthorized - Invalid credentials"}


class BadRequestError(ValueError):
    """A query parameter the emulator refuses (a 400 `{success: false, error}`)."""


class ConnectSafelyEmulator(ProviderEmulator):
    """Serves one LinkedIn account's synthetic inbox (the key's default account) to one key."""

    provider = "connectsafely"
    inbox_route = "list_conversations"
    messages_route = "get_conversation_messages"
    tells_is_me = True

    def __init__(
        self,
        inbox: SyntheticInbox,
        *,
        api_key: str = "test-connectsafely-key",
        account_id: str = "696ce9e780e0483585e4e553",
        latency: float = 0.0,
    ) -> None:
        super().__init__(inbox, latency=latency)
        self.api_key = api_key
        self.account_id = account_id
        self.inclusive_cursor = False
        #: Read `since` as epoch seconds (the reference gives it no unit): what a service
        #: reading the time filter otherwise than the tap looks like.
        self.since_in_seconds = False

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

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Tap settings that point at this emulator."""
        return {
            "provider": "connectsafely",
            "api_key": self.api_key,
            "account_id": self.account_id,
            "api_url": self.url + BASE,
            "backoff_base_seconds": 0,
            **overrides,
        }

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
            # The conversation-details reference's 400 example.
            return failure(400, message or "conversationUrn is required")
        if kind == "rate_limited":
            reply = Reply(
                429,
                {
                    "success": False,
                    "code": "RATE_LIMITED",
                    "message": "Rate limit exceeded: 30 calls per minute",
                },
            )
            if retry_after is not None:
                reply.headers["Retry-After"] = retry_after
            return reply
        if kind == "server_error":
            # The recent-messages reference's 500 example.
            return failure(500, "Failed to get LinkedIn authentication credentials")
        if kind == "unauthorized":
            return Reply(401, dict(UNAUTHORIZED))
        if kind == "conversation_gone":
            return failure(404, "Conversation not found")
        raise ValueError(kind)

    def disconnected_reply(self, call: Call) -> Reply:
        """An account no longer connected: 404 "account not found", the statuses of
        https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations."""
        return failure(404, "LinkedIn account not found")

    # --- answers --------------------------------------------------------------------------

    def answer(self, call: Call) -> Reply:
        try:
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
                return failure(404, "LinkedIn account not found")
            if call.route == self.inbox_route:
                return self.list_conversations(call)
            return self.conversation_messages(call)
        except BadRequestError as bad:
            return failure(400, str(bad))

    def list_conversations(self, call: Call) -> Reply:
        unread_only = query(call, "unreadOnly")
        if unread_only not in (None, "true", "false"):
            raise BadRequestError("unreadOnly must be true or false")
        listed = self.inbox.newest_first("UNREAD" if unread_only == "true" else "INBOX")
        keyed = [((-c.last_activity_ms, c.thread_id), c) for c in listed]
        start = 0
        cursor = query(call, "nextCursor")
        if cursor:
            position = decode_cursor(cursor)
            start = next((i for i, (key, _) in enumerate(keyed) if key >= position), len(keyed))
        count = count_of(call)
        page, rest = keyed[start : start + count], keyed[start + count :]
        conversations = [self.conversation_item(c) for _, c in page]
        return Reply(
            200,
            {
                "success": True,
                "conversations": conversations,
                "accounts": [{"id": self.account_id, "name": self.inbox.owner.name}],
                "nextCursor": encode_cursor(rest[0][0]) if rest else None,
                "hasMore": bool(rest),
                "fromCache": False,
            },
            credits=page_credits(len(conversations)),
        )

    def conversation_messages(self, call: Call) -> Reply:
        if call.thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[call.thread_id]
        newest_first = sorted(conversation.messages, key=lambda m: -m.sent_at_ms)
        since = millis_of(call, "since")
        before = millis_of(call, "cursor")
        if since is not None and before is not None:
            raise BadRequestError("since cannot be combined with cursor")
        if query(call, "sync") not in (None, "true", "false"):
            raise BadRequestError("sync must be true or false")
        if since is not None:
            since_ms = since * 1000 if self.since_in_seconds else since
            newest_first = [m for m in newest_first if m.sent_at_ms > since_ms]
        if before is not None:
            newest_first = [
                m
                for m in newest_first
                if m.sent_at_ms < before or (self.inclusive_cursor and m.sent_at_ms == before)
            ]
        count = count_of(call)
        page, rest = newest_first[:count], newest_first[count:]
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
                "hasMore": bool(rest),
                "cursor": str(page[-1].sent_at_ms) if rest else None,
                "note": None,
            },
            credits=page_credits(len(page)),
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
    raw = query(call, "count")
    if raw is None:
        return DEFAULT_COUNT
    try:
        count = int(raw)
    except ValueError:
        raise BadRequestError("count must be a number") from None
    if count < 1:
        raise BadRequestError("count must be a positive number")
    return min(count, MAX_COUNT)


def millis_of(call: Call, name: str) -> int | None:
    raw = query(call, name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequestError(f"{name} must be a timestamp in milliseconds") from None


def encode_cursor(position: tuple[int, str]) -> str:
    raw = f"{-position[0]}&{position[1]}"
    return CURSOR_PREFIX + base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        if not cursor.startswith(CURSOR_PREFIX):
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor.removeprefix(CURSOR_PREFIX)).decode()
        millis, thread_id = raw.split("&", 1)
        return (-int(millis), thread_id)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("Invalid nextCursor") from None


def page_credits(items: int) -> int:
    return math.ceil(items / 10)


def failure(status: int, error: str) -> Reply:
    """The `{success: false, error}` body of seeds 002 and 004; errors cost nothing."""
    return Reply(status, {"success": False, "error": error})
