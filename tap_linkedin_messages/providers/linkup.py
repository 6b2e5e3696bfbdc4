"""LinkupAPI v2: one action endpoint, `POST /v2/messages`, for the inbox and conversations.

References: https://docs.linkupapi.com/api-reference/v2/messages/list-inbox (`list_inbox`),
https://docs.linkupapi.com/api-reference/v2/messages/get-conversation (`get_conversation`),
https://docs.linkupapi.com/api-reference/v2/error-codes (errors). Every timestamp inside
`data` is epoch milliseconds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import flag, ms_to_rfc3339, thread_id_from_urn
from tap_linkedin_messages.providers.base import ConversationApi
from tap_linkedin_messages.providers.error_rules import ErrorRule, Outcome, rule
from tap_linkedin_messages.providers.pages import ApiRequest, AskParams, PageAsk, PageShape, Route
from tap_linkedin_messages.records import Record

MESSAGES_PATH = "/v2/messages"


def participant_record(person: dict[str, Any], *, organization_flag: bool = True) -> Record:
    """`participant` of a `list_inbox` conversation.

    `organization_flag`: v2 documents `is_organization` ("absent for human members"), so
    there an absent flag means False; v1 has no such flag, so there it means unknown.
    """
    is_organization = flag(person.get("is_organization"))
    if is_organization is None and organization_flag:
        is_organization = False
    return records.participant(
        name=person.get("name"),
        headline=person.get("headline"),
        profile_url=person.get("profile_url"),
        profile_picture_url=person.get("profile_picture"),
        is_organization=is_organization,
    )


def conversation_record(
    item: dict[str, Any], *, category: str | None, organization_flag: bool = True
) -> Record:
    """One `list_inbox` conversation as our record."""
    person = item.get("participant") or {}
    latest = item.get("last_message") or {}
    sender = latest.get("sender") or {}
    last_sent_at = ms_to_rfc3339(latest.get("time"))
    conversation_id = item.get("conversation_id")
    return records.conversation(
        conversation_id=conversation_id,
        thread_id=thread_id_from_urn(conversation_id),
        category=category,
        type=item.get("type"),
        participants=[participant_record(person, organization_flag=organization_flag)]
        if person
        else [],
        # list_inbox has no separate activity time: the last message is the last activity.
        last_activity_at=last_sent_at,
        unread_count=item.get("unread"),
        last_message=records.last_message(
            text=latest.get("text"),
            sent_at=last_sent_at,
            sender_name=sender.get("name"),
            sender_profile_url=sender.get("profile_url"),
            is_from_me=sender.get("is_me"),
        )
        if latest
        else None,
    )


def message_record(item: dict[str, Any]) -> Record:
    """One `get_conversation` message as our record."""
    sender_info = item.get("sender_info") or {}
    return records.message(
        message_id=item.get("entity_urn"),
        sent_at=ms_to_rfc3339(item.get("timestamp")),
        text=item.get("text"),
        message_type=item.get("message_type"),
        sender=records.sender(
            name=item.get("sender"),
            first_name=sender_info.get("first_name"),
            last_name=sender_info.get("last_name"),
            profile_url=sender_info.get("profile_url"),
            # get_conversation does not say who "me" is; the stream infers it when it can.
        ),
    )


RETRY_LATER = "LinkupAPI is failing or limiting requests: run again later"


class LinkupProvider(ConversationApi):
    """LinkupAPI v2 (`provider: linkup`)."""

    name = "linkup"
    title = "`linkup` (LinkupAPI v2)"
    default_api_url = "https://api.linkupapi.com"
    required_settings = ("api_key", "account_id")

    inbox_shape = PageShape(
        items="$.data.conversations[*]",
        record=conversation_record,
        cursor="$.data.next_cursor",
        credits="$.metadata.credits_consumed",
        requires="last_activity_at",
    )
    inbox_params = AskParams(cursor="cursor", page_size="count", category="category")
    conversation_shape = PageShape(
        items="$.data.messages[*]",
        record=message_record,
        # An epoch-ms string, older than the page's oldest message; null/absent at the end.
        cursor="$.data.next_cursor",
        credits="$.metadata.credits_consumed",
    )
    conversation_params = AskParams(
        cursor="cursor", page_size="count", conversation_id="conversation_id"
    )
    # The error-code page's table. Not on it [inferred]: how a conversation deleted since
    # it was listed answers; `GONE_RULES` take any 404 of `get_conversation` as gone, and
    # the account is asked again before it is skipped, so INVALID_ACCOUNT (also a 404)
    # still names the account.
    errors: ClassVar[tuple[ErrorRule, ...]] = (
        rule(Outcome.RETRY, RETRY_LATER, text=r"^(RATE_LIMITED|INTERNAL_ERROR)\b"),
        rule(Outcome.FAIL, "check the `api_key` setting", text=r"^INVALID_API_KEY\b"),
        rule(Outcome.FAIL, "check the `account_id` setting", text=r"^INVALID_ACCOUNT\b"),
        rule(
            Outcome.FAIL,
            "reconnect the LinkedIn account in LinkupAPI, or check `account_id`",
            text=r"^ACCOUNT_INACTIVE\b",
        ),
        rule(
            Outcome.FAIL,
            "top up LinkupAPI credits; the next run resumes from the bookmark",
            text=r"^INSUFFICIENT_CREDITS\b",
        ),
        rule(
            Outcome.FAIL,
            "check the `inbox_categories` and `page_size` settings",
            text=r"^INVALID_PARAMS\b",
            route=Route.INBOX,
        ),
        rule(Outcome.FAIL, "check the `page_size` setting", text=r"^INVALID_PARAMS\b"),
        rule(
            Outcome.FAIL,
            "check the `api_url` setting points at LinkupAPI v2",
            text=r"^INVALID_ACTION\b",
        ),
        rule(Outcome.FAIL, "check the `api_key` setting", status={401, 403}),
    )

    def auth_headers(self) -> dict[str, str]:
        """LinkupAPI authenticates with an `x-api-key` header."""
        return {"x-api-key": str(self.config["api_key"])}

    def succeeded(self, status: int, payload: Any) -> bool:
        """`{success: true, data, metadata}`."""
        return isinstance(payload, dict) and payload.get("success") is True

    def error_of(self, payload: Any) -> tuple[Any, Any]:
        """`{success: false, error: {code, message}, metadata}`."""
        error = payload.get("error") if isinstance(payload, dict) else None
        return (
            (error.get("code"), error.get("message")) if isinstance(error, dict) else (None, None)
        )

    @staticmethod
    def _action(account_id: str, action: str, params: dict[str, Any]) -> ApiRequest:
        body = {"account_id": account_id, "action": action, "params": params}
        return ApiRequest("POST", MESSAGES_PATH, json=body)

    def inbox_request(self, ask: PageAsk) -> ApiRequest:
        """`list_inbox`, newest activity first (no time filter: the stream stops paging)."""
        return self._action(ask.account_id, "list_inbox", self.inbox_params.of(ask))

    def conversation_request(self, ask: PageAsk) -> ApiRequest:
        """`get_conversation`, newest message first; the cursor walks back in time."""
        params = self.conversation_params.of(ask)
        return self._action(ask.account_id, "get_conversation", params)
