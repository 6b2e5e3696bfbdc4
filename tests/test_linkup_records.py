"""LinkupAPI v2 payload -> record functions, fed the documentation's own example payloads:
https://docs.linkupapi.com/api-reference/v2/messages/list-inbox and
https://docs.linkupapi.com/api-reference/v2/messages/get-conversation.
"""

from __future__ import annotations

import pytest

from tap_linkedin_messages.providers import ConversationGoneError, ProviderError
from tap_linkedin_messages.providers.linkup import (
    LinkupProvider,
    conversation_record,
    message_record,
)
from tap_linkedin_messages.providers.pages import Route
from tests.conftest import UNSAID, load_fixture, response

THREAD_ID = "2-MDZiY2ExOTgtM2NjNy00OTU4LTgyNjUtZWFlMmIwZjM1NTlmXzEwMA=="


def test_list_inbox_example_becomes_the_expected_record() -> None:
    payload = load_fixture("linkup_v2_list_inbox.json")
    page = LinkupProvider({"api_key": "k", "account_id": "a"}).inbox_page(payload, category="INBOX")
    assert page.next_cursor == payload["data"]["next_cursor"]
    assert page.credits == 1
    assert page.records == [
        {
            "conversation_id": f"urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA...,{THREAD_ID})",
            "thread_id": THREAD_ID,
            "category": "INBOX",
            "folder": None,
            "mailbox": None,
            "type": "normal",
            "participants": [
                {
                    "name": "Jane Doe",
                    "headline": "Founder at Acme Corp",
                    "profile_url": "https://www.linkedin.com/in/jane-doe-42",
                    "profile_picture_url": "https://media.licdn.com/dms/image/v2/.../profile.jpg",
                    "is_organization": False,
                }
            ],
            # 1777147641366 ms after the epoch, milliseconds kept.
            "last_activity_at": "2026-04-25T20:07:21.366Z",
            "unread_count": 0,
            "is_read": True,
            "last_read_at": None,
            "last_message": {
                "text": "Sounds good, talk soon!",
                "sent_at": "2026-04-25T20:07:21.366Z",
                "sender_name": "Jane Doe",
                "sender_profile_url": "https://www.linkedin.com/in/jane-doe-42",
                "is_from_me": False,
            },
        }
    ]


def test_get_conversation_example_becomes_the_expected_records() -> None:
    payload = load_fixture("linkup_v2_get_conversation.json")
    page = LinkupProvider({"api_key": "k", "account_id": "a"}).conversation_page(payload)
    assert page.next_cursor == "1777146285823"
    assert page.credits == 1
    message_id = "urn:li:msg_message:(urn:li:fsd_profile:ACoAA...,2-MTc3NzE0...)"
    assert page.records == [
        {
            "message_id": message_id,
            "sent_at": "2026-04-25T20:07:21.366Z",
            "text": "Sounds good, talk soon!",
            "subject": None,
            "message_type": "TEXT",
            "sender": {
                "name": "Jane Doe",
                "first_name": "Jane",
                "last_name": "Doe",
                "profile_url": "https://www.linkedin.com/in/jane-doe-42/",
                "is_me": None,
            },
            **UNSAID,
        },
        {
            "message_id": message_id,
            "sent_at": "2026-04-25T19:48:12.678Z",
            "text": "Hey, are you available for a call tomorrow?",
            "subject": None,
            "message_type": "TEXT",
            "sender": {
                "name": "John Smith",
                "first_name": "John",
                "last_name": "Smith",
                "profile_url": "https://www.linkedin.com/in/john-smith-99/",
                "is_me": None,
            },
            **UNSAID,
        },
    ]


def test_omitted_fields_are_null_and_unknown_fields_are_ignored() -> None:
    sparse = conversation_record(
        {"conversation_id": "urn:li:msg_conversation:(x,2-abc)", "brand_new_field": {"a": 1}},
        category="STARRED",
    )
    assert sparse == {
        "conversation_id": "urn:li:msg_conversation:(x,2-abc)",
        "thread_id": "2-abc",
        "category": "STARRED",
        "folder": None,
        "mailbox": None,
        "type": None,
        "participants": [],
        "last_activity_at": None,
        "unread_count": None,
        "is_read": None,
        "last_read_at": None,
        "last_message": None,
    }
    message = message_record(
        {"entity_urn": "urn:li:msg_message:(x,2-m)", "timestamp": 5, "extra": 1}
    )
    assert message["sent_at"] == "1970-01-01T00:00:00.005Z"
    assert message["text"] is None
    assert message["sender"] == {
        "name": None,
        "first_name": None,
        "last_name": None,
        "profile_url": None,
        "is_me": None,
    }


def test_company_pages_are_marked_as_organizations() -> None:
    record = conversation_record(
        {"conversation_id": "c", "participant": {"name": "Acme", "is_organization": True}},
        category="INBOX",
    )
    assert record["participants"][0]["is_organization"] is True


@pytest.mark.parametrize(
    ("payload", "credits"),
    [
        ({"success": True, "data": {"messages": [{}] * 11}}, 2),  # no metadata: the 1-per-10 rule
        ({"success": True, "data": {"messages": []}}, 0),
        ({"success": True, "data": {"messages": [{}] * 3}, "metadata": {"credits_consumed": 7}}, 7),
    ],
)
def test_page_cost_uses_metadata_or_the_documented_rule(payload: dict, credits: int) -> None:
    assert LinkupProvider({}).conversation_page(payload).credits == credits


def test_a_404_for_one_conversation_is_gone_whatever_its_code() -> None:
    """How LinkupAPI answers for a conversation deleted since it was listed is not on its
    error-code page (https://docs.linkupapi.com/api-reference/v2/error-codes): a 404
    of `get_conversation` is "gone" whatever its code (the account is then asked again
    before the conversation is skipped); the same code elsewhere names its settings."""
    body = {
        "success": False,
        "error": {"code": "INVALID_PARAMS", "message": "Invalid conversation", "action": ""},
    }
    linkup = LinkupProvider({"api_key": "k", "account_id": "a"})
    with pytest.raises(ConversationGoneError, match="INVALID_PARAMS"):
        linkup.check(response(404, body), route=Route.CONVERSATION)
    with pytest.raises(ProviderError, match="check the `inbox_categories` and `page_size`"):
        linkup.check(response(404, body), route=Route.INBOX)
    with pytest.raises(ProviderError, match="check the `page_size` setting") as stopped:
        linkup.check(response(400, body), route=Route.CONVERSATION)
    assert not isinstance(stopped.value, ConversationGoneError)
