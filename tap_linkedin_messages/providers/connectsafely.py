"""ConnectSafely: `GET /conversations` and `GET /conversations/{urn}/messages`.

References: https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations
and https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-conversationurn-messages-get-conversation-messages
(the current routes); the older routes,
https://connectsafely.ai/docs/api/linkedin-messaging/get-messaging-recent-messages-get-recent-messages
and https://connectsafely.ai/docs/api/linkedin-messaging/get-messaging-conversation-details-get-conversation-details,
are superseded: "This endpoint now redirects (307) to GET /conversations" says the
documentation of recent-messages
(https://connectsafely.ai/docs/api/linkedin-messaging/post-sales-nav-mark-read-sales-nav-mark-read),
and the messages route "Replaces GET /messaging/conversation-details" (that this one
redirects too is inferred [inferred]). This adapter asks the current routes, and its
record builders read both generations of payload.
ConnectSafely differs from LinkupAPI in ways that shape this adapter:

- plain GET routes under `https://api.connectsafely.ai/linkedin`, the key as a bearer
  token, and `accountId` optional (the account's default LinkedIn account otherwise);
- a conversation carries both ids: `conversationUrn` (what the messages URL needs, hence
  our `conversation_id`) and the bare `conversationId` (`2-...`, our `thread_id`);
- the messages route filters by time itself (`since`, "newer than", epoch ms), so an
  incremental run asks only for what is newer than the cutoff; whether `since` combines
  with `cursor` is undocumented, so it goes on a conversation's first request only (later
  pages walk back with the cursor alone, and stop at the cutoff as every listing does);
- times come as epoch milliseconds or ISO strings (the current reference's only example
  is "example_value", the older one printed milliseconds): both are read [inferred];
- every message says whether the account owner sent it (`isSentByOwner`);
- error bodies come in several shapes (`{error}`, `{success, error}`, `{success, code,
  message}`), so the HTTP status does most of the classifying.

Every timestamp is epoch milliseconds.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import quote

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import EPOCH, any_time_to_rfc3339, flag, thread_id_from_urn
from tap_linkedin_messages.providers.base import DEFAULT_ACCOUNT, ConversationApi
from tap_linkedin_messages.providers.error_rules import (
    SAYS_NOTHING,
    SERVER_ERRORS,
    ErrorRule,
    Outcome,
    rejected_parameters,
    rule,
)
from tap_linkedin_messages.providers.pages import (
    ApiRequest,
    AskParams,
    Page,
    PageAsk,
    PageShape,
    Route,
)
from tap_linkedin_messages.records import Record

LOGGER = logging.getLogger(__name__)

CONVERSATIONS_PATH = "/conversations"
# The older doc revision: `count` "default 20, max 100".
MAX_COUNT = 100
# Where a member's profile lives, for senders known only by their profile id (the
# conversation-details example's `profileUrl` is exactly this form).
PROFILE_URL = "https://www.linkedin.com/in/{profile_id}"
# LinkedIn's URN types for who is behind a messaging participant.
ORGANIZATION_URN = re.compile(r"urn:li:(?:fsd_company|company|organization):")
MEMBER_URN = re.compile(r"urn:li:(?:fsd_profile|member):")

# Query parameters we send, and the setting each comes from, to name in a 400's hint.
PARAMETER_SETTINGS = {
    "accountId": "account_id",
    "count": "page_size",
    "since": "start_date",
    "unreadOnly": "inbox_categories",
}


def participant_record(person: dict[str, Any]) -> Record:
    """One member of `participants[]` (both generations share the shape)."""
    return records.participant(
        name=person.get("name"),
        headline=person.get("headline"),
        profile_url=person.get("profileUrl") or profile_url(person.get("profileId")),
        profile_picture_url=person.get("profilePicture"),
        is_organization=is_organization(person),
    )


def is_organization(person: dict[str, Any]) -> bool | None:
    """Whether a participant is a company page, as its URNs say; None where they say nothing.

    ConnectSafely has no flag for it, but passes LinkedIn's URNs through, and their type
    is the answer: `urn:li:fsd_company:` is a page, `urn:li:fsd_profile:` a member.
    """
    urns = " ".join(
        str(person.get(key) or "") for key in ("hostIdentityUrn", "participantUrn", "backendUrn")
    )
    if ORGANIZATION_URN.search(urns):
        return True
    if MEMBER_URN.search(urns):
        return False
    return None


def mailbox_of(item: dict[str, Any]) -> str | None:
    """The mailbox a conversation is in, from the current list's `source` (an example
    value only on the page, https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations),
    its `salesNavThreadId`, or a Sales Navigator URN (`urn:li:salesNav_thread:`, which its
    messages route "auto-detects"). The `source` values are inferred [inferred]: one
    naming Sales Navigator or Recruiter is that mailbox, LinkedIn's own the classic one."""
    source = str(item.get("source") or "").lower().replace("_", "").replace(" ", "")
    urn = str(item.get("conversationUrn") or "")
    if "salesnav" in source or item.get("salesNavThreadId") or "salesNav_thread" in urn:
        return "SALES_NAVIGATOR"
    if "recruiter" in source:
        return "RECRUITER"
    if source in ("linkedin", "standard", "classic", "inbox"):
        return "CLASSIC"
    return None


def profile_url(profile_id: str | None) -> str | None:
    """A member's profile URL from their profile id (None without one)."""
    return PROFILE_URL.format(profile_id=profile_id) if profile_id else None


def is_from_owner(item: dict[str, Any]) -> bool | None:
    """`isSentByOwner` as a bool, or None where the payload does not say."""
    return flag(item.get("isSentByOwner"))


def conversation_record(item: dict[str, Any], *, category: str | None) -> Record:
    """One `conversations[]` item, current or recent-messages shape, as our record."""
    conversation_urn = item.get("conversationUrn")
    latest = item.get("latestMessage") or {}
    participants = [participant_record(p) for p in item.get("participants") or []]
    return records.conversation(
        conversation_id=conversation_urn,
        # LinkedIn's `N-...` thread id: the URN's last token; `conversationId` only where
        # it has that form (the current page's example is `conv_abcdef123456`).
        thread_id=thread_id_from_urn(conversation_urn)
        or thread_id_from_urn(str(item.get("conversationId") or "")),
        category=category,
        # ConnectSafely names no conversation type; more than one other member can only
        # be a group chat, while one could be a 1:1, an InMail or a sponsored message.
        type="group" if len(participants) > 1 else None,
        participants=participants,
        # The newest message's time where the conversation itself gives none.
        last_activity_at=any_time_to_rfc3339(item.get("lastActivityAt"))
        or any_time_to_rfc3339(latest.get("sentAt")),
        unread_count=item.get("unreadCount"),
        # The recent-messages example: `"lastReadAt": 1771950726332, "isRead": true`.
        is_read=flag(item.get("isRead")),
        last_read_at=any_time_to_rfc3339(item.get("lastReadAt")),
        mailbox=mailbox_of(item),
        last_message=records.last_message(
            text=latest.get("text"),
            sent_at=any_time_to_rfc3339(latest.get("sentAt")),
            sender_name=latest.get("senderName"),
            sender_profile_url=latest.get("senderProfileUrl")
            or profile_url(latest.get("senderProfileId")),
            # The documented `latestMessage` does not say; where a payload does, use it.
            is_from_me=is_from_owner(latest),
        )
        if latest
        else None,
    )


def message_record(item: dict[str, Any]) -> Record:
    """One `messages[]` item, current or conversation-details shape, as our record.

    The current shape names the sender in flat fields (`senderName`, `senderProfileId`)
    and says `isSentByOwner`; the older one nests them in `sender{}` and does not say who
    "me" is (the stream infers it from the conversation where it can).
    """
    sender = item.get("sender") or {}
    profile_id = item.get("senderProfileId") or sender.get("profileId")
    return records.message(
        message_id=item.get("messageUrn") or item.get("messageId"),
        sent_at=any_time_to_rfc3339(item.get("sentAt")),
        text=item.get("text"),
        subject=item.get("subject"),
        sender=records.sender(
            name=item.get("senderName") or sender.get("name"),
            profile_url=item.get("senderProfileUrl")
            or sender.get("profileUrl")
            or profile_url(profile_id),
            is_me=is_from_owner(item),
        ),
        attachments=records.each(item.get("attachments"), attachment_record),
        reactions=records.each(item.get("reactions"), reaction_record),
    )


def attachment_record(item: dict[str, Any]) -> Record:
    """One of `attachments[]`, whose item shape the reference leaves undocumented
    [inferred: the fields of its upload answer, `{assetUrn, name, mediaType, byteSize}`,
    and the `url` its download route takes]."""
    return records.attachment(
        id=item.get("assetUrn") or item.get("id"),
        name=item.get("name") or item.get("fileName"),
        media_type=item.get("mediaType") or item.get("mimeType"),
        size_bytes=item.get("byteSize") if isinstance(item.get("byteSize"), int) else None,
        url=item.get("url"),
    )


def reaction_record(item: dict[str, Any]) -> Record:
    """One of `reactions[]` of the older conversation-details route (null in its example;
    its items are undocumented [inferred: an emoji and who reacted])."""
    return records.reaction(
        value=item.get("emoji") or item.get("reaction"),
        sender_id=item.get("profileId") or item.get("actorProfileId"),
        is_me=is_from_owner(item),
    )


def since_param(newer_than: datetime | None) -> dict[str, int]:
    """`since` ("fetch messages newer than", epoch ms) from the exclusive cutoff."""
    if newer_than is None:
        return {}
    moment = newer_than if newer_than.tzinfo else newer_than.replace(tzinfo=timezone.utc)
    # Whole milliseconds, rounded down: `since` excludes its own millisecond, and every
    # time we compare is a whole millisecond, so nothing newer is left out.
    return {"since": (moment - EPOCH) // timedelta(milliseconds=1)}


def is_listing(payload: Any) -> bool:
    """A success body: `success` not false, and a conversation or message list in it."""
    return (
        isinstance(payload, dict)
        and payload.get("success") is not False
        and (
            isinstance(payload.get("conversations"), list)
            or isinstance(payload.get("messages"), list)
        )
    )


class ConnectSafelyProvider(ConversationApi):
    """ConnectSafely (`provider: connectsafely`)."""

    name = "connectsafely"
    title = "`connectsafely` (ConnectSafely)"
    default_api_url = "https://api.connectsafely.ai/linkedin"
    required_settings = ("api_key",)
    supported_categories = ("INBOX", "UNREAD")
    # The reference gives `since` no unit; milliseconds, as every other time it sends, is
    # inferred: a wrong guess shows as changed conversations that read nothing new.
    time_filter = "the `since` parameter (epoch milliseconds [inferred])"
    # No per-item price is published, only limits: "150 messages per day per account"
    # and 30 calls a minute (a 429 is retried); `credits_for` reports the shared
    # 1-per-10 rule.

    inbox_shape = PageShape(
        items="$.conversations[*]",
        record=conversation_record,
        # The current route says `hasMore`; the older one only "if nextCursor is null,
        # there are no more pages". Either ends the listing.
        cursor="$.nextCursor",
        more="$.hasMore",
        requires="last_activity_at",
    )
    inbox_params = AskParams(
        cursor="nextCursor",
        page_size="count",
        max_page_size=MAX_COUNT,
        unread=("unreadOnly", "true"),
    )
    # The conversation-details shape has no cursor at all: one page is all it gives.
    conversation_shape = PageShape(
        items="$.messages[*]", record=message_record, cursor="$.cursor", more="$.hasMore"
    )
    conversation_params = AskParams(
        cursor="cursor", page_size="count", max_page_size=MAX_COUNT, newer_than=since_param
    )
    errors: ClassVar[tuple[ErrorRule, ...]] = (
        rule(Outcome.FAIL, "check the `api_key` setting", status={401, 403}),
        # The reference's own 500 example is about the LinkedIn session behind the
        # account: retried like any 500, but the last word says what to mend.
        rule(
            Outcome.RETRY,
            "ConnectSafely could not use the LinkedIn account's session; if it persists, "
            "reconnect LinkedIn in ConnectSafely (or check `account_id`)",
            status=SERVER_ERRORS,
            text=r"linkedin authentication credentials",
        ),
        rule(
            Outcome.FAIL,
            "check the `account_id` setting (without one: connect a LinkedIn account in "
            "ConnectSafely)",
            status={404},
            route=Route.INBOX,
        ),
        *rejected_parameters(PARAMETER_SETTINGS, cursor=r"nextCursor|cursor"),
        rule(
            Outcome.FAIL,
            "the request's `conversationUrn` (the id ConnectSafely listed) was rejected; "
            "check the `api_url` setting points at ConnectSafely's current routes",
            status={400},
            text=r"\bconversationUrn\b",
        ),
        rule(
            Outcome.FAIL,
            "check the `page_size` and `start_date` settings",
            status={400},
            route=Route.CONVERSATION,
        ),
        rule(
            Outcome.FAIL,
            "check the `page_size`, `inbox_categories` and `account_id` settings",
            status={400},
        ),
        # Valid JSON that is no listing (or a redirect not followed): something other
        # than ConnectSafely's current routes answers at `api_url`.
        rule(
            Outcome.FAIL,
            "not a ConnectSafely listing; check the `api_url` setting",
            status=range(200, 400),
            text=SAYS_NOTHING,
            decoded=True,
        ),
    )

    def auth_headers(self) -> dict[str, str]:
        """ConnectSafely authenticates with a bearer token."""
        return {"Authorization": f"Bearer {self.config['api_key']}"}

    def succeeded(self, status: int, payload: Any) -> bool:
        """A 2xx listing."""
        return 200 <= status < 300 and is_listing(payload)

    def error_of(self, payload: Any) -> tuple[Any, Any]:
        """Any of the documented error shapes: `{error}`, `{success, error}`,
        `{success, code, message}` (`error` is a string in every example, though its
        table types it as an object)."""
        if not isinstance(payload, dict):
            return None, None
        error = payload.get("error")
        nested = error if isinstance(error, dict) else {}
        code = payload.get("code") or nested.get("code")
        text = error if isinstance(error, str) else nested.get("message") or payload.get("message")
        return code, text

    def _account_param(self, account_id: str) -> dict[str, str]:
        """`accountId` for an account that has one; none selects the default account."""
        # `default` is no ConnectSafely id (theirs are 24 hex digits): no `accountId`.
        if account_id and account_id != DEFAULT_ACCOUNT:
            return {"accountId": account_id}
        configured = self.config.get("account_id")
        return {"accountId": str(configured)} if configured else {}

    def inbox_page(self, payload: Any, *, category: str | None) -> Page:
        """The shared reading, and a warning where ConnectSafely served the list from its
        cache (`fromCache`, in the response of
        https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations):
        activity since its last refresh may be missing; the bookmark stays at the newest
        activity listed, so a later run reads it [inferred: the reference says neither
        how old the cache can be nor how to ask for a fresh list on this route]."""
        if isinstance(payload, dict) and payload.get("fromCache") is True:
            LOGGER.warning(
                "%s: account %s: the conversation list came from ConnectSafely's cache "
                "(fromCache): activity since its last refresh shows on a later run",
                self.name,
                self.config.get("account_id") or "default",
            )
        return super().inbox_page(payload, category=category)

    def inbox_request(self, ask: PageAsk) -> ApiRequest:
        """Conversations, newest activity first (no time filter: the stream stops paging)."""
        params = {**self._account_param(ask.account_id), **self.inbox_params.of(ask)}
        return ApiRequest("GET", CONVERSATIONS_PATH, params=params)

    def filters_by_time(self, cursor: str | None) -> bool:
        """`since` goes on the first page only (with `cursor` it is undocumented)."""
        return cursor is None

    def conversation_request(self, ask: PageAsk) -> ApiRequest:
        """One conversation's messages, newest first; only newer ones when incremental.

        `sync=true` asks ConnectSafely to wait for LinkedIn rather than answer from its
        cache ("Wait for LinkedIn response"), so a run sees what LinkedIn has now.
        """
        params = {
            **self._account_param(ask.account_id),
            **self.conversation_params.of(ask, filter_by_time=self.filters_by_time(ask.cursor)),
            "sync": "true",
        }
        # The URN holds `:`, `(`, `,` and base64 (`/`, `+`, `=`): all of it is encoded.
        path = f"{CONVERSATIONS_PATH}/{quote(str(ask.conversation_id), safe='')}/messages"
        return ApiRequest("GET", path, params=params)
