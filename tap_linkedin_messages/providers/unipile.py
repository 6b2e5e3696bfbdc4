"""Unipile: `GET /api/v1/chats` and `GET /api/v1/chats/{chat_id}/messages`.

References: https://developer.unipile.com/reference/chatscontroller_listallchats and
https://developer.unipile.com/reference/chatscontroller_listchatmessages. Unipile differs
from LinkupAPI in ways that shape this adapter:

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

import logging
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import (
    datetime_to_rfc3339,
    expiry_to_rfc3339,
    flag,
    iso_to_rfc3339,
    thread_id_from_urn,
)
from tap_linkedin_messages.providers.base import ConversationApi
from tap_linkedin_messages.providers.error_rules import (
    ErrorRule,
    Outcome,
    rejected_parameters,
    rule,
)
from tap_linkedin_messages.providers.pages import (
    EMPTY_PAGE,
    ApiRequest,
    AskParams,
    Listing,
    Page,
    PageAsk,
    PageShape,
    People,
    Route,
)
from tap_linkedin_messages.records import Record

if TYPE_CHECKING:
    from datetime import datetime

LOGGER = logging.getLogger(__name__)

CHATS_PATH = "/api/v1/chats"
# The reference: `limit` "can be set between 1 and 250".
MAX_LIMIT = 250
ACCOUNTS_PATH = "/api/v1/accounts"
# The `object` of each successful answer.
SUCCESS_OBJECTS = frozenset({"ChatList", "MessageList", "ChatAttendeeList", "Account"})
# What a connected account's sources say (Unipile's SDK: OK, STOPPED, ERROR, CREDENTIALS,
# PERMISSIONS, CONNECTING).
CONNECTED = "OK"

# Chat `type`: the reference's enum is SINGLE 0, GROUP 1, CHANNEL 2 (LinkedIn has no
# channels). Named as LinkupAPI names them, so the column means the same for every provider.
CHAT_TYPES = {0: "normal", 1: "group"}
# `content_type` values that LinkupAPI reports as the conversation's type instead.
CONTENT_TYPES = {"inmail": "inmail", "sponsored": "Sponsored"}

RECONNECT = "reconnect the LinkedIn account in Unipile, or check `account_id`"
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


# A chat's `folder[]` (`INBOX_LINKEDIN_CLASSIC`, ...) names its mailbox; the names are
# inferred [inferred] (copies of the reference show `"folder": ["INBOX"]` only).
MAILBOX_FOLDERS = {
    "INBOX_LINKEDIN_CLASSIC": "CLASSIC",
    "INBOX_LINKEDIN_SALES_NAVIGATOR": "SALES_NAVIGATOR",
    "INBOX_LINKEDIN_RECRUITER": "RECRUITER",
}


def mailbox_of(item: dict[str, Any]) -> str | None:
    """The mailbox a chat's `folder[]` names, if one."""
    folders = item.get("folder")
    listed = folders if isinstance(folders, list) else []
    found = [MAILBOX_FOLDERS[f] for f in listed if f in MAILBOX_FOLDERS]
    return found[0] if found else None


def conversation_record(item: dict[str, Any], *, category: str | None) -> Record:
    """One `ChatList` chat as our record.

    A chat has a name (the other member's, or the group's; nullable in Unipile's SDK
    schema) and nothing else about who is in it: the tap names its participants from the
    chat's attendees once it knows the chat changed (`people()`). `timestamp` is nullable
    too: its last message's time stands in for it, and a chat with neither is still read
    (its messages have times of their own; `last_activity_at` stays null) [inferred].
    """
    name = item.get("name")
    latest = item.get("lastMessage")
    return records.conversation(
        conversation_id=item.get("id"),
        thread_id=thread_id_from_urn(item.get("provider_id")),
        category=category,
        folder="ARCHIVE" if item.get("archived") else None,
        type=chat_type(item),
        participants=[
            records.participant(
                name=name,
                # A sponsored chat comes from a company page; for the rest, nobody says.
                is_organization=True if item.get("content_type") == "sponsored" else None,
            )
        ]
        if name
        else [],
        # The reference: "Timestamp of the last message" (the chat's last activity).
        last_activity_at=iso_to_rfc3339(item.get("timestamp"))
        or (iso_to_rfc3339(latest.get("timestamp")) if isinstance(latest, dict) else None),
        unread_count=item.get("unread_count"),
        mailbox=mailbox_of(item),
        last_message=records.last_message(
            text=latest.get("text"),
            sent_at=iso_to_rfc3339(latest.get("timestamp")),
            is_from_me=flag(latest.get("is_sender")),
        )
        if isinstance(latest, dict)
        else None,
    )


def message_record(item: dict[str, Any], people: People | None = None) -> Record:
    """One `MessageList` message as our record; `people`: the chat's attendees, who the
    message's `sender_attendee_id` (or `sender_id`) names."""
    known = people if people is not None else People()
    member = known.get(str(item.get("sender_attendee_id"))) or known.get(str(item.get("sender_id")))
    person = member["participant"] if member else {}
    deleted = flag(item.get("deleted"))
    quoted = item.get("quoted")
    return records.message(
        message_id=item.get("id"),
        sent_at=iso_to_rfc3339(item.get("timestamp")),
        text=item.get("text") if not deleted else None,
        subject=item.get("subject"),
        # Events (someone joined, a reaction, a missed call) are not text someone wrote.
        message_type="EVENT" if item.get("is_event") else "TEXT",
        sender=records.sender(
            name=person.get("name"),
            profile_url=person.get("profile_url"),
            is_me=flag(item.get("is_sender")),
        ),
        attachments=records.each(item.get("attachments"), attachment_record),
        reactions=records.each(item.get("reactions"), reaction_record),
        # `edited` says whether, not when.
        is_edited=flag(item.get("edited")),
        is_deleted=deleted,
        # The SDK's `quoted` is the replied-to message's base fields: its LinkedIn
        # `provider_id`, not its Unipile `id`.
        reply_to_message_id=quoted.get("provider_id") if isinstance(quoted, dict) else None,
    )


def attachment_record(item: dict[str, Any]) -> Record:
    """An attachment: `{id, type, file_name (files), file_size, mimetype, url}`, the last
    three optional in Unipile's SDK schema; `url_expires_at` is not in it (a copy of
    Unipile's list-messages example shows `"url_expires_at": 1735689600`, epoch seconds
    [inferred]; milliseconds and ISO strings are read too)."""
    size = item.get("file_size")
    return records.attachment(
        id=item.get("id"),
        name=item.get("file_name"),
        media_type=item.get("mimetype") or item.get("type"),
        size_bytes=int(size) if isinstance(size, (int, float)) else None,
        url=item.get("url"),
        url_expires_at=expiry_to_rfc3339(item.get("url_expires_at")),
    )


def reaction_record(item: dict[str, Any]) -> Record:
    """A reaction: `{value, sender_id, is_sender}`."""
    return records.reaction(
        value=item.get("value"), sender_id=item.get("sender_id"), is_me=flag(item.get("is_sender"))
    )


def member_record(item: dict[str, Any]) -> Record:
    """One `ChatAttendeeList` attendee: who messages name by `sender_attendee_id` (its
    `id`) or `sender_id` (its `provider_id`)."""
    return records.member(
        ids=[str(i) for i in (item.get("id"), item.get("provider_id")) if i],
        participant=records.participant(
            name=item.get("name"),
            profile_url=item.get("profile_url"),
            profile_picture_url=item.get("picture_url"),
        ),
        is_me=flag(item.get("is_self")),
    )


def after_param(newer_than: datetime | None) -> dict[str, str]:
    """`after` (exclusive) in the one form the reference accepts: `YYYY-MM-DDTHH:MM:SS.sssZ`."""
    return {"after": datetime_to_rfc3339(newer_than)} if newer_than is not None else {}


class UnipileProvider(ConversationApi):
    """Unipile (`provider: unipile`)."""

    name = "unipile"
    title = "`unipile` (Unipile)"
    default_api_url = None
    required_settings = ("api_key", "account_id", "api_url")
    supported_categories = ("INBOX", "UNREAD")
    time_filter = "the `after` parameter (ISO 8601 with milliseconds)"
    # Unipile bills per connected account, not per item; `credits_for` reports the shared
    # 1-per-10 rule.

    inbox_shape = PageShape(
        items="$.items[*]",
        record=conversation_record,
        cursor="$.cursor",
    )
    # No `after` on the inbox: see the module notes.
    inbox_params = AskParams(
        cursor="cursor", page_size="limit", max_page_size=MAX_LIMIT, unread=("unread", "true")
    )
    conversation_shape = PageShape(items="$.items[*]", record=message_record, cursor="$.cursor")
    # The chat id in the path says whose: no `account_id`.
    conversation_params = AskParams(
        cursor="cursor", page_size="limit", max_page_size=MAX_LIMIT, newer_than=after_param
    )
    people_shape = PageShape(items="$.items[*]", record=member_record, cursor="$.cursor")
    # Problem+json-like bodies: `type` (`errors/...`) says what, `detail` says more.
    errors: ClassVar[tuple[ErrorRule, ...]] = (
        # About the LinkedIn account's session at Unipile, not about our API key: that
        # `expired_credentials` means the LinkedIn login behind the account is inferred
        # [inferred] (the type is listed in copies of the reference, its text is not).
        rule(
            Outcome.FAIL,
            RECONNECT,
            text=r"^errors/(disconnected_account|disconnected_feature|multiple_sessions"
            r"|checkpoint_error|invalid_checkpoint_solution|expired_credentials)\b",
        ),
        rule(
            Outcome.FAIL,
            "check the `api_key` setting",
            text=r"^errors/(missing|invalid)_credentials\b",
        ),
        rule(Outcome.FAIL, "check the `account_id` setting", text=r"^errors/wrong_account\b"),
        rule(
            Outcome.FAIL,
            "check that the `api_key` may read `account_id`",
            text=r"^errors/insufficient_(privileges|permissions)\b",
        ),
        rule(
            Outcome.FAIL,
            "LinkedIn restricted the account; check it in Unipile",
            text=r"^errors/account_restricted\b",
        ),
        rule(
            Outcome.FAIL,
            "check the account's Unipile subscription",
            text=r"^errors/feature_not_subscribed\b",
        ),
        rule(Outcome.FAIL, "check the `page_size` setting", text=r"^errors/limit_too_high\b"),
        *rejected_parameters(PARAMETER_SETTINGS, cursor=r"cursor"),
        # What each request sends: the inbox `limit` and `unread`; a chat's messages
        # `limit` and `after`.
        rule(
            Outcome.FAIL,
            "check the `page_size` and `inbox_categories` settings",
            status={400},
            route=Route.INBOX,
        ),
        rule(
            Outcome.FAIL,
            "check the `page_size` and `start_date` settings",
            status={400},
            route=Route.CONVERSATION,
        ),
        rule(Outcome.FAIL, "check the `account_id` setting", status={400}),
        rule(Outcome.FAIL, "check the `api_key` setting", status={401}),
        rule(Outcome.FAIL, "check that the `api_key` may read `account_id`", status={403}),
        rule(
            Outcome.FAIL,
            "check the `account_id` and `api_url` settings",
            status={404},
            route=Route.INBOX,
        ),
        # The account's status, read before its inbox: the first place a wrong one shows.
        rule(
            Outcome.FAIL,
            "check the `account_id` and `api_url` settings",
            status={404},
            route=Route.ACCOUNT,
        ),
        # Valid JSON that is no Unipile listing: something else answers at `api_url`.
        rule(
            Outcome.FAIL,
            "not a Unipile chat or message list; check the `api_url` setting",
            status={200},
            decoded=True,
        ),
    )

    def auth_headers(self) -> dict[str, str]:
        """Unipile authenticates with an `X-API-KEY` header."""
        return {"X-API-KEY": str(self.config["api_key"])}

    def succeeded(self, status: int, payload: Any) -> bool:
        """A `ChatList` or `MessageList` object."""
        return (
            status == 200 and isinstance(payload, dict) and payload.get("object") in SUCCESS_OBJECTS
        )

    def error_of(self, payload: Any) -> tuple[Any, Any]:
        """`{title, detail, instance, type, status}`: the type (or title), and the detail."""
        problem = payload if isinstance(payload, dict) else {}
        return problem.get("type") or problem.get("title"), problem.get("detail")

    def people(self, account_id: str, conversation_id: str) -> Listing:
        """The chat's attendees (`GET /api/v1/chats/{chat_id}/attendees`): their names,
        profile URLs and which is the account owner, which messages give as ids only."""
        path = f"{CHATS_PATH}/{quote(conversation_id, safe='')}/attendees"
        return Listing(
            route=Route.PEOPLE,
            request=lambda cursor, size: ApiRequest(
                "GET", path, params={"cursor": cursor} if cursor else {}
            ),
            page=lambda payload: self.people_shape.read(payload, self.credits_for),
            id_key="ids",
            time_key="ids",
            newest_first=False,
        )

    def health(self, account_id: str) -> Listing:
        """`GET /api/v1/accounts/{account_id}`: a LinkedIn account disconnected from
        Unipile still answers, with what Unipile synced before; its sources say so."""
        path = f"{ACCOUNTS_PATH}/{quote(account_id, safe='')}"

        def page(payload: Any) -> Page:
            sources = [s for s in payload.get("sources") or [] if isinstance(s, dict)]
            if disconnected := sorted({str(s.get("status")) for s in sources} - {CONNECTED}):
                LOGGER.warning(
                    "%s: account %s is not connected (%s): Unipile serves what it synced "
                    "before; reconnect the LinkedIn account in Unipile",
                    self.name,
                    account_id,
                    ", ".join(disconnected),
                )
            return EMPTY_PAGE

        return Listing(
            route=Route.ACCOUNT,
            request=lambda cursor, size: ApiRequest("GET", path),
            page=page,
            id_key="id",
            time_key="id",
            newest_first=False,
        )

    def inbox_request(self, ask: PageAsk) -> ApiRequest:
        """Chats of the account, newest activity first (no `after`: see the module notes)."""
        params = {"account_id": ask.account_id, **self.inbox_params.of(ask)}
        return ApiRequest("GET", CHATS_PATH, params=params)

    def filters_by_time(self, cursor: str | None) -> bool:
        """`after` goes on every page of an incremental read."""
        return True

    def conversation_request(self, ask: PageAsk) -> ApiRequest:
        """One chat's messages, newest first (the chat id says whose: no `account_id`)."""
        params = self.conversation_params.of(ask, filter_by_time=self.filters_by_time(ask.cursor))
        path = f"{CHATS_PATH}/{quote(str(ask.conversation_id), safe='')}/messages"
        return ApiRequest("GET", path, params=params)
