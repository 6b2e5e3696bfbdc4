"""Unipile emulator: `GET /api/v1/chats`, `GET /api/v1/chats/{chat_id}/messages`,
`GET /api/v1/chats/{chat_id}/attendees` and `GET /api/v1/accounts/{account_id}`.

Shapes follow Unipile's reference (https://developer.unipile.com/reference/chatscontroller_listallchats,
https://developer.unipile.com/reference/chatscontroller_listchatmessages) and the types of
its official Node SDK (github.com/unipile/unipile-node-sdk, `src/schemas/*.schema.ts`): listings
`{object: "ChatList" | "MessageList", items, cursor}` with a null cursor on the last page,
newest first; ISO-8601 timestamps with milliseconds; the `X-API-KEY` header; `limit`
1-250 (more is served as 250); exclusive `after` filters in the one form the reference
accepts (`YYYY-MM-DDTHH:MM:SS.sssZ`, anything else is a 400); `unread=true|false` (unread
chats only, or read chats only); problem+json-like errors `{title, detail, instance,
type, status}`.

Choices the reference leaves open, made here:

- ids are stable short strings derived from LinkedIn's: a chat's `id` from its thread id
  (which is the chat's `provider_id`), a message's `id` from its LinkedIn id;
- an `account_id` this key does not know is a 404 `errors/resource_not_found` on the chat
  list (the messages URL takes no `account_id`: the chat id says whose it is);
- a group chat has no name (the SDK types `name` nullable), and a chat without a
  message no `timestamp` (nullable too): who is in it, only its attendees say;
- a message's sender is named by ids only (`sender_id`, `sender_attendee_id`); the
  attendees list has `{id, provider_id, name, is_self, picture_url, profile_url}`;
- a deleted message keeps its place, `deleted: 1` and an empty text; an edited one has
  `edited: 1` and its new text (Unipile says whether, not when);
- attachments are the SDK's `file` kind `{id, type, file_name, file_size, mimetype,
  url, unavailable}`, reactions `{value, sender_id, is_sender}`;
- `account_status` is what the account's `sources[].status` say (`OK` unless a test
  disconnects it);
- cursors are opaque: base64 of the listing and the position of the next item;
- Unipile bills per connected account, not per request: each page reports the shared
  1 credit per 10 items (rounded up) so cost tests compare providers alike.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from typing import Any, TypeVar
from urllib.parse import unquote

from tap_linkedin_messages.normalize import ms_to_rfc3339, rfc3339_to_ms
from tests.emulators import paging
from tests.emulators.inbox import Conversation, Message, Person, SyntheticInbox
from tests.emulators.server import Call, ErrorReply, ProviderEmulator, Reply

CHATS_PATH = "/api/v1/chats"
CHAT_MESSAGES_PATH = re.compile(r"/api/v1/chats/([^/]+)/messages")
CHAT_ATTENDEES_PATH = re.compile(r"/api/v1/chats/([^/]+)/attendees")
ACCOUNT_PATH = re.compile(r"/api/v1/accounts/([^/]+)")
# The reference: `limit` between 1 and 250; the guide gives 100 as the default.
MAX_LIMIT = 250
DEFAULT_LIMIT = 100
# The only datetime form `after`/`before` accept.
ISO_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
Item = TypeVar("Item", Conversation, Message)
# `content_type` of chats the synthetic inbox types as LinkupAPI does.
CONTENT_TYPES = {"inmail": "inmail", "Sponsored": "sponsored"}


class UnipileEmulator(ProviderEmulator):
    """Serves one LinkedIn account's synthetic inbox to one API key."""

    provider = "unipile"
    inbox_route = "list_chats"
    messages_route = "list_chat_messages"
    tells_is_me = True
    dates_empty_conversations = False

    credentials = {"api_key": "test-unipile-key", "account_id": "unipile_acc_test"}
    api_key: str
    account_id: str
    errors = {
        "fatal": ErrorReply(
            403,
            "Valid authentication but insufficient permissions.",
            "errors/insufficient_permissions",
            "Insufficient permissions",
        ),
        # The type the providers reference records for Unipile's rate limit.
        "rate_limited": ErrorReply(
            429, "Retry later.", "api/too_many_requests", "Too many requests"
        ),
        "server_error": ErrorReply(
            500, "Something broke.", "errors/unexpected_error", "Unexpected error"
        ),
        "unauthorized": ErrorReply(
            401,
            "The provided credentials are invalid.",
            "errors/invalid_credentials",
            "Invalid credentials",
        ),
        "conversation_gone": ErrorReply(
            404,
            "The requested resource were not found.",
            "errors/resource_not_found",
            "Resource not found.",
        ),
        "bad_request": ErrorReply(
            400, "Invalid parameters", "errors/invalid_parameters", "Invalid parameters"
        ),
        # Among the 401 answers each route of
        # https://developer.unipile.com/reference/chatscontroller_deletechat lists.
        "disconnected": ErrorReply(
            401,
            "The account appears to be disconnected from the provider service.",
            "errors/disconnected_account",
            "Disconnected account",
        ),
    }

    def __init__(self, inbox: SyntheticInbox, *, latency: float = 0.0, **credentials: str) -> None:
        super().__init__(inbox, latency=latency, **credentials)
        self._chats: dict[str, str] = {}
        self.account_status = "OK"
        #: Chats listed with a null `timestamp` although they hold messages (the field is
        #: nullable in Unipile's SDK, `src/schemas/chat.schema.ts`).
        self.undated: set[str] = set()

    def route(self, call: Call) -> str:
        if call.method == "GET" and call.path == CHATS_PATH:
            return "list_chats"
        match = CHAT_MESSAGES_PATH.fullmatch(call.path)
        if call.method == "GET" and match:
            call.thread_id = self.thread_of_chat(unquote(match.group(1)))
            return "list_chat_messages"
        if call.method == "GET" and CHAT_ATTENDEES_PATH.fullmatch(call.path):
            # Not a read of messages: `Call.thread_id` counts those only.
            return "list_chat_attendees"
        if call.method == "GET" and ACCOUNT_PATH.fullmatch(call.path):
            return "get_account"
        return f"{call.method} {call.path}"

    def conversation_id(self, thread_id: str) -> str:
        return chat_id(thread_id)

    def message_id(self, message: Message) -> str:
        return short_id("message", message.message_key)

    def thread_of_chat(self, chat: str) -> str | None:
        """The thread a chat id stands for, if it exists."""
        if len(self._chats) != len(self.inbox.conversations):  # a conversation was added
            self._chats = {chat_id(thread): thread for thread in list(self.inbox.conversations)}
        return self._chats.get(chat)

    def error_body(self, documented: ErrorReply) -> Reply:
        return problem(documented.status, documented.code, str(documented.label), documented.text)

    def disconnect(self) -> str:
        self.account_status = "CREDENTIALS"
        return super().disconnect()

    def reconnect(self) -> None:
        self.account_status = "OK"
        super().reconnect()

    def disconnected_reply(self, call: Call) -> Reply | None:
        """The account still answers its status (its sources say it is disconnected); its
        chats answer 401 `errors/disconnected_account`."""
        return None if call.route == "get_account" else super().disconnected_reply(call)

    # --- answers --------------------------------------------------------------------------

    def answer(self, call: Call) -> Reply:
        routes = (self.inbox_route, self.messages_route, "list_chat_attendees", "get_account")
        if call.route not in routes:
            return problem(404, "errors/resource_not_found", "Resource not found.", call.path)
        key = call.headers.get("x-api-key")
        if not key:
            return problem(401, "errors/missing_credentials", "Missing credentials", "No key.")
        if key != self.api_key:
            return self.error_reply("unauthorized")
        if call.route == self.inbox_route:
            return self.list_chats(call)
        if call.route == "list_chat_attendees":
            return self.list_chat_attendees(call)
        if call.route == "get_account":
            return self.get_account(call)
        return self.list_chat_messages(call)

    def list_chats(self, call: Call) -> Reply:
        if query(call, "account_id") != self.account_id:
            return problem(404, "errors/resource_not_found", "Resource not found.", "No account.")
        unread = query(call, "unread")
        if unread not in (None, "true", "false"):
            raise paging.BadRequestError("unread must be a boolean")
        listed = self.inbox.newest_first("UNREAD" if unread == "true" else "INBOX")
        if unread == "false":
            listed = [c for c in listed if not c.unread]
        after = after_ms(call)
        if after is not None:
            listed = [c for c in listed if c.last_activity_ms > after]
        page, cursor = paginate(call, "chats", listed)
        return listing("ChatList", [self.chat_item(c) for c in page], cursor)

    def list_chat_messages(self, call: Call) -> Reply:
        if call.thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[call.thread_id]
        messages = sorted(conversation.messages, key=lambda m: m.position)
        after = after_ms(call)
        if after is not None:
            messages = [m for m in messages if m.sent_at_ms > after]
        page, cursor = paginate(call, "messages", messages)
        return listing("MessageList", [self.message_item(conversation, m) for m in page], cursor)

    def list_chat_attendees(self, call: Call) -> Reply:
        match = CHAT_ATTENDEES_PATH.fullmatch(call.path)
        thread_id = self.thread_of_chat(unquote(match.group(1))) if match else None
        if thread_id is None:
            return self.error_reply("conversation_gone")
        conversation = self.inbox.conversations[thread_id]
        people = [self.inbox.owner, *conversation.participants]
        return listing("ChatAttendeeList", [self.attendee_item(p) for p in people], None)

    def get_account(self, call: Call) -> Reply:
        if not call.path.endswith(f"/{self.account_id}"):
            return problem(404, "errors/resource_not_found", "Resource not found.", "No account.")
        body = {
            "object": "Account",
            "id": self.account_id,
            "type": "LINKEDIN",
            "name": self.inbox.owner.name,
            "created_at": "2025-01-01T00:00:00.000Z",
            "sources": [{"id": f"{self.account_id}_MESSAGING", "status": self.account_status}],
        }
        return Reply(200, body)

    # --- payload shapes -------------------------------------------------------------------

    def attendee_item(self, person: Person) -> dict[str, Any]:
        return {
            "object": "ChatAttendee",
            "id": short_id("attendee", person.profile_id),
            "account_id": self.account_id,
            "provider_id": self.member_id(person),
            "name": person.name,
            "is_self": 1 if person is self.inbox.owner else 0,
            "hidden": 0,
            "picture_url": person.picture_url,
            "profile_url": person.profile_url,
        }

    def chat_item(self, conversation: Conversation) -> dict[str, Any]:
        members = conversation.participants
        is_group = conversation.type == "group"
        item: dict[str, Any] = {
            "object": "Chat",
            "id": chat_id(conversation.thread_id),
            "account_id": self.account_id,
            "account_type": "LINKEDIN",
            "provider_id": conversation.thread_id,
            "name": None if is_group else members[0].name,
            "type": 1 if is_group else 0,
            "timestamp": ms_to_rfc3339(conversation.messages[-1].sent_at_ms)
            if conversation.messages and conversation.thread_id not in self.undated
            else None,
            "unread_count": conversation.unread,
            "archived": 0,
            "muted_until": None,
            "read_only": 0,
            "pinned": 0,
            "subject": None,
            "organization_id": None,
            "mailbox_id": None,
            "content_type": CONTENT_TYPES.get(conversation.type),
            "folder": ["INBOX", "INBOX_LINKEDIN_CLASSIC"],
            "disabledFeatures": [],
        }
        if not is_group:
            item["attendee_provider_id"] = self.member_id(members[0])
        return item

    def message_item(self, conversation: Conversation, message: Message) -> dict[str, Any]:
        from_me = message.sender is self.inbox.owner
        return {
            "object": "Message",
            "id": self.message_id(message),
            "account_id": self.account_id,
            "chat_id": chat_id(conversation.thread_id),
            "chat_provider_id": conversation.thread_id,
            "provider_id": message.message_key,
            "sender_id": self.member_id(message.sender),
            "sender_attendee_id": short_id("attendee", message.sender.profile_id),
            "text": "" if message.deleted else message.text,
            "timestamp": ms_to_rfc3339(message.sent_at_ms),
            "is_sender": 1 if from_me else 0,
            "seen": 1,
            "seen_by": {},
            "hidden": 0,
            "deleted": 1 if message.deleted else 0,
            "edited": 1 if message.edited_at_ms is not None else 0,
            "is_event": 0 if message.message_type == "TEXT" else 1,
            "delivered": 1,
            "subject": None,
            "attachments": [
                {
                    "id": a.asset_id,
                    "type": "file",
                    "file_name": a.name,
                    "file_size": a.size_bytes,
                    "mimetype": a.media_type,
                    "url": a.url,
                    "unavailable": False,
                }
                for a in message.attachments
            ],
            "reactions": [
                {
                    "value": r.value,
                    "sender_id": self.member_id(r.by),
                    "is_sender": r.by is self.inbox.owner,
                }
                for r in message.reactions
            ],
        }

    def member_id(self, person: Person) -> str:
        """A member's LinkedIn provider id (`ACoAA...`), as Unipile gives `sender_id`."""
        if person is self.inbox.owner:
            return self.inbox.owner_urn_id
        return provider_member_id(person.profile_id)


@functools.cache  # ids are asked for on every page: hash each once
def short_id(kind: str, source: str) -> str:
    """A stable 22-character id, the length of Unipile's own."""
    digest = hashlib.sha256(f"{kind}:{source}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@functools.cache
def provider_member_id(profile_id: str) -> str:
    return "ACoAA" + hashlib.sha256(profile_id.encode()).hexdigest()[:20].upper()


def chat_id(thread_id: str) -> str:
    return short_id("chat", thread_id)


def query(call: Call, name: str) -> str | None:
    values = call.query.get(name)
    return values[0] if values else None


def after_ms(call: Call) -> int | None:
    """The exclusive `after` bound, in epoch ms; a 400 unless in the reference's form."""
    after = query(call, "after")
    if after is None:
        return None
    if not ISO_MILLIS.fullmatch(after):
        raise paging.BadRequestError(
            "after must be an ISO 8601 UTC datetime (YYYY-MM-DDTHH:MM:SS.sssZ)"
        )
    return rfc3339_to_ms(after)


def paginate(call: Call, listing_name: str, listed: list[Item]) -> tuple[list[Item], str | None]:
    """One page of a newest-first listing from the `cursor` position; the next cursor."""
    cursor = query(call, "cursor")
    start = paging.position_of(cursor, listing_name, "cursor is invalid") if cursor else None
    limit = paging.number(query(call, "limit"), "limit must be an integer between 1 and 250")
    page, after = paging.page_at(listed, start, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    return page, paging.opaque_cursor(after, listing_name)


def listing(object_name: str, items: list[dict[str, Any]], cursor: str | None) -> Reply:
    return Reply(
        200,
        {"object": object_name, "items": items, "cursor": cursor},
        credits=paging.credits_for(len(items)),
    )


def problem(status: int, type_: str, title: str, detail: str, instance: str = "") -> Reply:
    """The problem+json-like error body; errors cost nothing."""
    body: dict[str, Any] = {"title": title, "detail": detail, "type": type_, "status": status}
    if instance:
        body["instance"] = instance
    return Reply(status, body)
