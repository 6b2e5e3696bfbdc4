"""ConnectSafely payload -> record functions, requests, error handling and the 307 redirects.

The fixtures are the 200 examples printed by ConnectSafely's reference, retyped as printed:
for the current routes, the ones the adapter asks,
https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations
(`connectsafely_list_conversations.json`) and
https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-conversationurn-messages-get-conversation-messages
(`connectsafely_conversation_messages.json`), whose values are placeholders
("example_value", `"sentAt": 0`); and for the deprecated routes,
https://connectsafely.ai/docs/api/linkedin-messaging/get-messaging-recent-messages-get-recent-messages
and https://connectsafely.ai/docs/api/linkedin-messaging/get-messaging-conversation-details-get-conversation-details.
Payloads with real-looking values in the current routes' shapes are built here from the
fields those pages list.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.normalize import datetime_to_rfc3339, parse_timestamp, rfc3339_to_ms
from tap_linkedin_messages.providers.connectsafely import (
    ConnectSafelyProvider,
    conversation_record,
    message_record,
)
from tap_linkedin_messages.providers.error_rules import (
    RETRY_LATER,
    ConversationGoneError,
    TransientError,
)
from tap_linkedin_messages.providers.pages import PageAsk, Route
from tests.conftest import UNSAID, load_fixture, response, run_tap
from tests.emulators.connectsafely import ConnectSafelyEmulator
from tests.emulators.inbox import Person, SyntheticInbox
from tests.emulators.server import Call, Fault

API_URL = "https://api.connectsafely.ai/linkedin"
CONFIG = {"api_key": "sk-connectsafely-secret", "account_id": "696ce9e780e0483585e4e553"}
OWNER = "ACoAAATPlQ0Bc8wdg-Iy8wZgEDuSdIVWJiE1Aio"
LIST_URL = f"{API_URL}/conversations?accountId=696ce9e780e0483585e4e553&count=10"
MESSAGES_URL = (
    f"{API_URL}/conversations/urn%3Ali%3Amsg_conversation%3A%28urn%3Ali%3Afsd_profile%3A"
    f"{OWNER}%2C2-abc%29/messages?count=10"
)


def provider(**config: Any) -> ConnectSafelyProvider:
    return ConnectSafelyProvider({**CONFIG, **config})


def no_sender() -> dict[str, Any]:
    return {"name": None, "first_name": None, "last_name": None, "profile_url": None, "is_me": None}


# --- records: the documentation's own examples (the deprecated routes) ---------------------

RECENT_MESSAGES_THREAD = "2-ODFkYjU4M2ItZDlmYS00YTVjLThlNTQtZjI5YTE4ZWUyZDk5XzEwMA=="
RECENT_MESSAGES_MEMBER = "https://www.linkedin.com/in/ACoAADSoo60BM6hxemTbnN2aA_Z1-WlNFRhRYhU"


def test_recent_messages_example_becomes_the_expected_record() -> None:
    page = provider().inbox_page(
        load_fixture("connectsafely_recent_messages.json"), category="INBOX"
    )
    assert page.next_cursor is None  # the example has no `nextCursor`: the last page
    assert page.items == 1
    assert page.credits == 1  # the shared 1-per-10 rule
    assert page.records == [
        {
            "conversation_id": f"urn:li:msg_conversation:(urn:li:fsd_profile:{OWNER},"
            f"{RECENT_MESSAGES_THREAD})",
            "thread_id": RECENT_MESSAGES_THREAD,
            "category": "INBOX",
            "folder": None,
            "mailbox": None,
            "type": None,
            "participants": [
                {
                    "name": "John Doe",
                    "headline": "Software Engineer at Tech Company",
                    "profile_url": RECENT_MESSAGES_MEMBER,
                    "profile_picture_url": "https://media.licdn.com/dms/image/...",
                    # hostIdentityUrn `urn:li:fsd_profile:...`: a member, not a page.
                    "is_organization": False,
                }
            ],
            # 1771950346603 ms after the epoch, milliseconds kept.
            "last_activity_at": "2026-02-24T16:25:46.603Z",
            "unread_count": 0,
            # `"isRead": true`, `"lastReadAt": 1771950726332`.
            "is_read": True,
            "last_read_at": "2026-02-24T16:32:06.332Z",
            "last_message": {
                "text": "Hello, how are you?",
                "sent_at": "2026-02-24T16:25:46.603Z",
                "sender_name": "John Doe",
                "sender_profile_url": RECENT_MESSAGES_MEMBER,
                "is_from_me": None,  # `latestMessage` does not say
            },
        }
    ]


def test_conversation_details_example_becomes_the_expected_record() -> None:
    page = provider().conversation_page(load_fixture("connectsafely_conversation_details.json"))
    assert page.next_cursor is None  # that route has no cursor: one page is all it gives
    assert page.items == 1
    assert page.credits == 1
    assert page.records == [
        {
            "message_id": f"urn:li:msg_message:(urn:li:fsd_profile:{OWNER},"
            "2-MTc2MDc3MzMxMDQyOWI2OTc1NC0xMDA=)",
            "sent_at": "2025-10-18T07:41:50.429Z",
            "text": "Hello",
            "subject": None,
            "message_type": None,
            "sender": {
                "name": "Jane Smith",
                "first_name": None,
                "last_name": None,
                "profile_url": "https://www.linkedin.com/in/ACoAAFpqSoMB8vTqRbg4mN_wbabO8w0gjgFu-6o",
                # That route's shape does not say who "me" is; the stream infers it if it can.
                "is_me": None,
            },
            **UNSAID,
        }
    ]


# --- records: the documentation's own examples (the current routes) ------------------------


def test_a_placeholder_activity_time_falls_back_to_the_latest_messages() -> None:
    item = {
        "conversationUrn": "urn:li:msg_conversation:(urn:li:fsd_profile:X,2-a)",
        "conversationId": "conv_abcdef123456",
        "lastActivityAt": "example_value",
        "latestMessage": {"sentAt": 1777147641366},
    }
    record = conversation_record(item, category="INBOX")
    assert record["last_activity_at"] == "2026-04-25T20:07:21.366Z"
    assert record["thread_id"] == "2-a"


def test_list_conversations_example_is_read_and_its_placeholders_are_null() -> None:
    """The 200 example of `GET /conversations`, as printed
    (https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations):
    `"lastActivityAt": "example_value"`, an empty `participants` and `latestMessage`."""
    payload = load_fixture("connectsafely_list_conversations.json")
    # A listing (not "not a ConnectSafely listing"): the body comes back as it is.
    assert provider().check(response(200, payload), route=Route.INBOX) == payload
    (item,) = payload["conversations"]
    assert conversation_record(item, category="INBOX") == {
        "conversation_id": "urn:li:example:123456",
        # Neither the URN nor `conv_...` holds LinkedIn's `N-...` thread id (the page's
        # placeholders: what a live one holds is not documented): null, not a guess.
        "thread_id": None,
        "category": "INBOX",
        "folder": None,
        # `"salesNavThreadId": "12345"`: a Sales Navigator thread.
        "mailbox": "SALES_NAVIGATOR",
        "type": None,  # no participants: nothing says it is a group
        "participants": [],
        # "example_value" is no time: null, not an error.
        "last_activity_at": None,
        "unread_count": 25,
        "is_read": False,
        "last_read_at": None,
        # `latestMessage: {}` names no message.
        "last_message": None,
    }
    page = provider().inbox_page(payload, category="INBOX")
    # A conversation without a time has nothing to read up to: left out but counted, and
    # the listing goes on (`hasMore: true`) at the cursor as given.
    assert (page.records, page.items, page.credits) == ([], 1, 1)
    assert page.next_cursor == "example_value"


def test_conversation_messages_example_becomes_the_expected_record() -> None:
    """The 200 example of `GET /conversations/{conversationUrn}/messages`, as printed
    (https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-conversationurn-messages-get-conversation-messages):
    a sentence in `messageUrn`, `"sentAt": 0`, "example_value" for text, name and cursor."""
    payload = load_fixture("connectsafely_conversation_messages.json")
    assert provider().check(response(200, payload), route=Route.CONVERSATION) == payload
    page = provider().conversation_page(payload)
    assert (page.items, page.credits) == (1, 1)
    assert page.next_cursor == "example_value"  # `hasMore: true`: the cursor as given
    assert page.records == [
        {
            # The id is whatever `messageUrn` holds, here the page's sentence.
            "message_id": "Hello! I would like to connect with you.",
            # 0 is a number of milliseconds like any other: the epoch itself.
            "sent_at": "1970-01-01T00:00:00.000Z",
            "text": "example_value",
            "subject": None,
            "message_type": None,
            "sender": {
                "name": "example_value",
                "first_name": None,
                "last_name": None,
                # Built from `senderProfileId` "john-doe-123": the route has no URL.
                "profile_url": "https://www.linkedin.com/in/john-doe-123",
                "is_me": False,  # `isSentByOwner: false`
            },
            # `attachments: []`: none, as the example says.
            **{**UNSAID, "attachments": []},
        }
    ]


# --- records: the current routes' shapes ----------------------------------------------------

CURRENT_CONVERSATIONS: dict[str, Any] = {
    "success": True,
    "conversations": [
        {
            "conversationUrn": "urn:li:msg_conversation:(urn:li:fsd_profile:ME,2-group)",
            "conversationId": "2-group",
            "lastActivityAt": 1777147641366,
            "unreadCount": 2,
            "participants": [
                {
                    "profileId": "ana-lima",
                    "name": "Ana Lima",
                    "headline": "CTO",
                    "profileUrl": "https://www.linkedin.com/in/ana-lima",
                    "profilePicture": "https://media.example/ana.jpg",
                    "hostIdentityUrn": "urn:li:fsd_profile:ana-lima",
                },
                {
                    "profileId": "acme",
                    "name": "Acme",
                    "headline": None,
                    "profilePicture": None,
                    "hostIdentityUrn": "urn:li:fsd_company:12345",
                },
            ],
            "latestMessage": {
                "messageUrn": "urn:li:msg_message:(urn:li:fsd_profile:ME,2-m1)",
                "text": "See you there",
                "sentAt": 1777147641366,
                "senderName": "Olive Owner",
                "senderProfileUrl": "https://www.linkedin.com/in/olive-owner",
                "isSentByOwner": True,
                "hasAttachment": False,
            },
            "source": "linkedin",
            "salesNavThreadId": None,
        }
    ],
    "accounts": [{"id": "696ce9e780e0483585e4e553", "name": "Olive Owner"}],
    "nextCursor": "linkedin:abc",
    "hasMore": True,
    "fromCache": False,
}
CURRENT_MESSAGES: dict[str, Any] = {
    "success": True,
    "messages": [
        {
            "messageUrn": "urn:li:msg_message:(urn:li:fsd_profile:ME,2-m2)",
            "text": "Sounds good",
            "sentAt": 1777147641366,
            "senderProfileId": "ana-lima",
            "senderName": "Ana Lima",
            "senderPhoto": "https://media.example/ana.jpg",
            "isSentByOwner": False,
            "hasAttachment": False,
            "attachments": [],
        },
        {
            "messageUrn": "urn:li:msg_message:(urn:li:fsd_profile:ME,2-m1)",
            "text": "Lunch on Friday?",
            "sentAt": 1777146285823,
            "senderProfileId": "olive-owner",
            "senderName": "Olive Owner",
            "senderPhoto": None,
            "isSentByOwner": True,
            "hasAttachment": True,
            # The item shape is undocumented: the upload answer's fields, and a URL.
            "attachments": [
                {
                    "assetUrn": "urn:li:digitalmediaAsset:D4E10AQ",
                    "name": "menu.pdf",
                    "mediaType": "application/pdf",
                    "byteSize": 48213,
                    "url": "https://www.linkedin.com/dms/prv/document/D4E10AQ",
                    "url_expires_at": None,
                }
            ],
        },
    ],
    "participants": [{"profileId": "ana-lima", "name": "Ana Lima", "headline": "CTO"}],
    "hasMore": True,
    "cursor": 1777146285823,
    "note": None,
}


def test_current_conversation_shape_becomes_the_expected_record() -> None:
    page = provider().inbox_page(CURRENT_CONVERSATIONS, category="UNREAD")
    assert page.next_cursor == "linkedin:abc"
    assert page.records == [
        {
            "conversation_id": "urn:li:msg_conversation:(urn:li:fsd_profile:ME,2-group)",
            "thread_id": "2-group",
            "category": "UNREAD",
            "folder": None,
            "mailbox": "CLASSIC",  # `source: linkedin`, no Sales Navigator thread [inferred]
            "type": "group",  # two other members
            "participants": [
                {
                    "name": "Ana Lima",
                    "headline": "CTO",
                    "profile_url": "https://www.linkedin.com/in/ana-lima",
                    "profile_picture_url": "https://media.example/ana.jpg",
                    "is_organization": False,
                },
                {
                    "name": "Acme",
                    "headline": None,
                    "profile_url": "https://www.linkedin.com/in/acme",
                    "profile_picture_url": None,
                    "is_organization": True,
                },
            ],
            "last_activity_at": "2026-04-25T20:07:21.366Z",
            "unread_count": 2,
            "is_read": False,
            "last_read_at": None,
            "last_message": {
                "text": "See you there",
                "sent_at": "2026-04-25T20:07:21.366Z",
                "sender_name": "Olive Owner",
                "sender_profile_url": "https://www.linkedin.com/in/olive-owner",
                "is_from_me": True,
            },
        }
    ]


def test_current_message_shape_becomes_the_expected_records() -> None:
    page = provider().conversation_page(CURRENT_MESSAGES)
    assert page.next_cursor == "1777146285823"  # a timestamp cursor, as a string
    assert page.items == 2
    assert page.credits == 1
    assert page.records == [
        {
            "message_id": "urn:li:msg_message:(urn:li:fsd_profile:ME,2-m2)",
            "sent_at": "2026-04-25T20:07:21.366Z",
            "text": "Sounds good",
            "subject": None,
            "message_type": None,
            "sender": {
                "name": "Ana Lima",
                "first_name": None,
                "last_name": None,
                # Built from `senderProfileId`: the current shape has no profile URL.
                "profile_url": "https://www.linkedin.com/in/ana-lima",
                "is_me": False,
            },
            **{**UNSAID, "attachments": []},
        },
        {
            "message_id": "urn:li:msg_message:(urn:li:fsd_profile:ME,2-m1)",
            "sent_at": "2026-04-25T19:44:45.823Z",
            "text": "Lunch on Friday?",
            "subject": None,
            "message_type": None,
            "sender": {
                "name": "Olive Owner",
                "first_name": None,
                "last_name": None,
                "profile_url": "https://www.linkedin.com/in/olive-owner",
                "is_me": True,
            },
            **UNSAID,
            "attachments": [
                {
                    "id": "urn:li:digitalmediaAsset:D4E10AQ",
                    "name": "menu.pdf",
                    "media_type": "application/pdf",
                    "size_bytes": 48213,
                    "url": "https://www.linkedin.com/dms/prv/document/D4E10AQ",
                    "url_expires_at": None,
                }
            ],
        },
    ]


def test_times_come_as_milliseconds_or_as_iso_strings() -> None:
    """The current reference types `lastActivityAt` as a date (its example prints a
    string); the older one printed epoch milliseconds: both are read."""
    as_date = conversation_record(
        {
            "conversationUrn": "urn:li:msg_conversation:(x,2-a)",
            "lastActivityAt": "2026-04-25T20:07:21.366Z",
        },
        category="INBOX",
    )
    as_millis = conversation_record(
        {"conversationUrn": "urn:li:msg_conversation:(x,2-a)", "lastActivityAt": 1777147641366},
        category="INBOX",
    )
    as_digits = conversation_record(
        {"conversationUrn": "urn:li:msg_conversation:(x,2-a)", "lastActivityAt": "1777147641366"},
        category="INBOX",
    )
    assert (
        as_date["last_activity_at"] == as_millis["last_activity_at"] == "2026-04-25T20:07:21.366Z"
    )
    assert as_digits["last_activity_at"] == "2026-04-25T20:07:21.366Z"
    assert (
        message_record({"messageUrn": "m", "sentAt": "2026-04-25T22:07:21+02:00"})["sent_at"]
        == "2026-04-25T20:07:21.000Z"
    )


def test_omitted_fields_are_null_and_unknown_fields_are_ignored() -> None:
    assert conversation_record(
        {"conversationUrn": "urn:li:msg_conversation:(x,2-abc)", "brand_new_field": 1},
        category="INBOX",
    ) == {
        "conversation_id": "urn:li:msg_conversation:(x,2-abc)",
        "thread_id": "2-abc",  # from the URN when `conversationId` is missing
        "category": "INBOX",
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
    assert message_record({"messageUrn": "m1", "extra": 1}) == {
        "message_id": "m1",
        "sent_at": None,
        "text": None,
        "subject": None,
        "message_type": None,
        "sender": no_sender(),
        **UNSAID,
    }
    participant = conversation_record({"participants": [{"name": "X"}]}, category=None)
    assert participant["participants"] == [
        {
            "name": "X",
            "headline": None,
            "profile_url": None,
            "profile_picture_url": None,
            "is_organization": None,  # no URN says what X is
        }
    ]


def test_activity_falls_back_to_the_latest_message_and_timeless_ones_are_skipped() -> None:
    latest_only = {"conversationUrn": "c1", "latestMessage": {"sentAt": 5, "text": "hi"}}
    assert conversation_record(latest_only, category="INBOX")["last_activity_at"] == (
        "1970-01-01T00:00:00.005Z"
    )
    page = provider().inbox_page(
        {"success": True, "conversations": [latest_only, {"conversationUrn": "c2"}]},
        category="INBOX",
    )
    assert [r["conversation_id"] for r in page.records] == ["c1"]
    assert page.items == 2  # the skipped one still counts: the listing goes on


def test_a_subject_and_the_older_sender_profile_url_are_kept() -> None:
    record = message_record(
        {
            "messageId": "m",
            "sentAt": 1,
            "subject": "Intro",
            "sender": {"profileId": "jane", "name": "Jane"},
        }
    )
    assert record["subject"] == "Intro"
    assert record["sender"]["profile_url"] == "https://www.linkedin.com/in/jane"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"nextCursor": "linkedin:x", "hasMore": True}, "linkedin:x"),
        ({"nextCursor": "linkedin:x"}, "linkedin:x"),  # the older revision: no `hasMore`
        ({"nextCursor": "linkedin:x", "hasMore": False}, None),
        ({"nextCursor": None, "hasMore": True}, None),
        ({"nextCursor": "", "hasMore": True}, None),
        ({}, None),
    ],
)
def test_the_end_of_a_listing(payload: dict[str, Any], expected: str | None) -> None:
    body = {"success": True, "conversations": [], **payload}
    assert provider().inbox_page(body, category="INBOX").next_cursor == expected
    messages = {
        "success": True,
        "messages": [],
        **{("cursor" if key == "nextCursor" else key): value for key, value in payload.items()},
    }
    assert provider().conversation_page(messages).next_cursor == expected


@pytest.mark.parametrize(("items", "credits"), [(0, 0), (1, 1), (10, 1), (11, 2), (100, 10)])
def test_pages_report_the_shared_one_per_ten_rule(items: int, credits: int) -> None:
    payload: dict[str, Any] = {"success": True, "messages": [{}] * items, "hasMore": False}
    assert provider().conversation_page(payload).credits == credits


# --- requests -------------------------------------------------------------------------------


def test_auth_header_and_default_api_url() -> None:
    assert provider().auth_headers() == {"Authorization": "Bearer sk-connectsafely-secret"}
    assert provider().api_url == API_URL


def test_an_inbox_read_of_a_chosen_account() -> None:
    request = provider().inbox_request(
        PageAsk("696ce9e780e0483585e4e553", None, 20, category="INBOX")
    )
    assert (request.method, request.path, request.json) == ("GET", "/conversations", None)
    # INBOX sends no filter; `count` is the page size.
    assert request.params == {"accountId": "696ce9e780e0483585e4e553", "count": 20}


def test_unread_cursor_the_limit_of_100_and_the_default_account() -> None:
    request = ConnectSafelyProvider({"api_key": "k"}).inbox_request(
        PageAsk("default", "linkedin:abc", 500, category="UNREAD")
    )
    # No `account_id` setting: no `accountId`, ConnectSafely reads the default account.
    assert request.params == {"count": 100, "unreadOnly": "true", "nextCursor": "linkedin:abc"}


def test_messages_requests_encode_the_urn_and_carry_since_on_the_first_page_only() -> None:
    """The reference documents `since` ("newer than (polling)") and `cursor` ("timestamp
    cursor for older messages"), not the two together: a later page walks back with the
    cursor alone. `sync=true`: LinkedIn's answer, not ConnectSafely's cache."""
    newer_than = datetime(2026, 4, 25, 20, 7, 21, 366_999, tzinfo=timezone.utc)
    conversation_id = f"urn:li:msg_conversation:(urn:li:fsd_profile:{OWNER},2-a/b+c==)"
    ask = PageAsk(
        "696ce9e780e0483585e4e553",
        None,
        10,
        conversation_id=conversation_id,
        newer_than=newer_than.astimezone(timezone(timedelta(hours=2))),
    )
    first = provider().conversation_request(ask)
    assert first.path == (
        "/conversations/urn%3Ali%3Amsg_conversation%3A%28urn%3Ali%3Afsd_profile%3A"
        f"{OWNER}%2C2-a%2Fb%2Bc%3D%3D%29/messages"
    )
    assert first.params == {
        "accountId": "696ce9e780e0483585e4e553",
        "count": 10,
        "sync": "true",
        # Whole milliseconds, rounded down: 20:07:21.366 exclusive.
        "since": rfc3339_to_ms("2026-04-25T20:07:21.366Z"),
    }
    later = provider().conversation_request(replace(ask, cursor="1777146285823"))
    assert later.params == {
        "accountId": "696ce9e780e0483585e4e553",
        "count": 10,
        "sync": "true",
        "cursor": "1777146285823",
    }
    full = provider().conversation_request(PageAsk("a", None, 10, conversation_id="c"))
    assert full.params == {"accountId": "a", "count": 10, "sync": "true"}


def test_an_incremental_run_asks_the_emulator_only_for_newer_messages() -> None:
    inbox = SyntheticInbox.generate(seed=71, conversations=4, messages=3)
    with ConnectSafelyEmulator(inbox) as emulator:
        first = run_tap(emulator.config())
        assert all("since" not in call.query for call in emulator.calls)
        thread_id = next(iter(inbox.conversations))
        added = inbox.add_message(thread_id)
        emulator.reset_counters()
        second = run_tap(emulator.config(), state=first.state)

    assert [r["message_id"] for r in second.of("messages")] == [emulator.message_id(added)]
    (bookmark,) = first.state["bookmarks"]["messages"]["partitions"]
    lookback = parse_timestamp(bookmark["replication_key_value"]) - timedelta(minutes=10)
    (messages_call,) = [c for c in emulator.calls if c.route == emulator.messages_route]
    # `since` is the cutoff, and the page held only the new message.
    assert messages_call.query["since"] == [str(rfc3339_to_ms(datetime_to_rfc3339(lookback)))]
    assert messages_call.credits == 1
    assert emulator.threads_read() == {thread_id: 1}


def test_without_account_id_the_default_account_is_read() -> None:
    inbox = SyntheticInbox.generate(seed=72, conversations=3, messages=2)
    with ConnectSafelyEmulator(inbox) as emulator:
        config = emulator.config()
        del config["account_id"]
        output = run_tap(config)
    assert len(output.of("messages")) == 6
    assert {r["account_id"] for r in output.of("messages")} == {"default"}
    assert all("accountId" not in call.query for call in emulator.calls)


def test_company_pages_are_marked_as_organizations_end_to_end() -> None:
    inbox = SyntheticInbox.generate(seed=73, conversations=0)
    page = inbox.add_conversation([Person("acme-corp", "Acme", "", "Software", True)])
    inbox.add_message(page.thread_id)
    with ConnectSafelyEmulator(inbox) as emulator:
        output = run_tap(emulator.config())
    (conversation,) = output.of("conversations")
    assert conversation["participants"][0]["is_organization"] is True
    assert conversation["type"] is None


def test_attachments_arrive_over_http_and_their_absence_is_an_empty_list() -> None:
    """`GET /conversations/{conversationUrn}/messages` lists `attachments[]` per message
    (https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-conversationurn-messages-get-conversation-messages)."""
    inbox = SyntheticInbox.generate(seed=74, conversations=2, messages=3)
    with_file = next(iter(inbox.conversations.values())).messages[1]
    attachment = inbox.attach(with_file, "offer.pdf", "application/pdf", 91_337)
    with ConnectSafelyEmulator(inbox) as emulator:
        emitted = {r["message_id"]: r for r in run_tap(emulator.config()).of("messages")}
        files = emitted.pop(emulator.message_id(with_file))["attachments"]
    assert files == [
        {
            "id": f"urn:li:digitalmediaAsset:{attachment.asset_id}",
            "name": "offer.pdf",
            "media_type": "application/pdf",
            "size_bytes": 91_337,
            "url": attachment.url,
            "url_expires_at": None,
        }
    ]
    assert len(emitted) == 5
    assert all(record["attachments"] == [] for record in emitted.values())


# --- the deprecated routes: 307 to the current ones -----------------------------------------


def test_recent_messages_redirects_to_conversations_and_parses() -> None:
    inbox = SyntheticInbox.generate(seed=74, conversations=3, messages=2)
    with ConnectSafelyEmulator(inbox) as emulator:
        adapter = ConnectSafelyProvider(emulator.config())
        headers = adapter.auth_headers()
        old = f"{adapter.api_url}/messaging/recent-messages"
        first = requests.get(
            old,
            headers=headers,
            params={"accountId": emulator.account_id, "count": "2"},
            timeout=10,
        )
        page = adapter.inbox_page(adapter.check(first, route=Route.INBOX), category="INBOX")
        second = requests.get(
            old, headers=headers, params={"count": "2", "nextCursor": page.next_cursor}, timeout=10
        )
        last = adapter.inbox_page(adapter.check(second, route=Route.INBOX), category="INBOX")

    assert [r.status_code for r in first.history] == [307]
    assert first.history[0].headers["Location"].startswith("/linkedin/conversations?")
    assert first.status_code == 200
    assert set(first.json()) == {
        "success",
        "conversations",
        "accounts",
        "nextCursor",
        "hasMore",
        "fromCache",
    }
    newest = inbox.newest_first()
    assert [r["thread_id"] for r in page.records + last.records] == [c.thread_id for c in newest]
    assert page.records[0]["conversation_id"] == inbox.conversation_urn(newest[0].thread_id)
    assert page.next_cursor is not None
    assert last.next_cursor is None


def test_conversation_details_redirects_to_messages_and_parses() -> None:
    inbox = SyntheticInbox.generate(seed=75, conversations=2, messages=4)
    thread_id = next(iter(inbox.conversations))
    conversation = inbox.conversations[thread_id]
    with ConnectSafelyEmulator(inbox) as emulator:
        adapter = ConnectSafelyProvider(emulator.config())
        answer = requests.get(
            f"{adapter.api_url}/messaging/conversation-details",
            headers=adapter.auth_headers(),
            params={"conversationUrn": inbox.conversation_urn(thread_id), "countBefore": "3"},
            timeout=10,
        )
        page = adapter.conversation_page(adapter.check(answer, route=Route.CONVERSATION))
        (call,) = [c for c in emulator.calls if c.route == emulator.messages_route]

    assert [r.status_code for r in answer.history] == [307]
    assert set(answer.json()) == {
        "success",
        "messages",
        "participants",
        "hasMore",
        "cursor",
        "note",
    }
    assert call.thread_id == thread_id
    newest = list(reversed(conversation.messages))[:3]
    assert [r["message_id"] for r in page.records] == [inbox.message_urn(m) for m in newest]
    assert [r["sender"]["is_me"] for r in page.records] == [m.sender is inbox.owner for m in newest]
    assert page.next_cursor == str(newest[-1].sent_at_ms)


def test_conversation_details_without_a_urn_is_its_documented_400() -> None:
    """https://connectsafely.ai/docs/api/linkedin-messaging/get-messaging-conversation-details-get-conversation-details"""
    with ConnectSafelyEmulator(SyntheticInbox.generate(seed=76, conversations=1)) as emulator:
        adapter = ConnectSafelyProvider(emulator.config())
        answer = requests.get(
            f"{adapter.api_url}/messaging/conversation-details",
            headers=adapter.auth_headers(),
            timeout=10,
        )
    assert answer.json() == {"success": False, "error": "conversationUrn is required"}
    with pytest.raises(ProviderError, match=r"^connectsafely: Bad Request \(HTTP 400\): "):
        adapter.check(answer, route=Route.CONVERSATION)


# --- errors ---------------------------------------------------------------------------------

INBOX, MESSAGES = Route.INBOX, Route.CONVERSATION  # the listing that asked


def test_a_listing_is_returned_decoded() -> None:
    body: dict[str, Any] = {"success": True, "conversations": [], "hasMore": False}
    assert provider().check(response(200, body), route=INBOX) == body
    details = load_fixture("connectsafely_conversation_details.json")
    assert provider().check(response(200, details), route=MESSAGES) == details


@pytest.mark.parametrize(
    ("answer", "route", "expected"),
    [
        (
            response(401, {"error": "Unauthorized - Invalid credentials"}),
            INBOX,
            "connectsafely: Unauthorized (HTTP 401): Unauthorized - Invalid credentials - check "
            "the `api_key` setting",
        ),
        (
            response(403, {"success": False, "code": "FORBIDDEN", "message": "Key revoked"}),
            INBOX,
            "connectsafely: FORBIDDEN (HTTP 403): Key revoked - check the `api_key` setting",
        ),
        (
            response(404, {"success": False, "error": "Account not found"}),
            INBOX,
            "connectsafely: Not Found (HTTP 404): Account not found - check the `account_id` "
            "setting (without one: connect a LinkedIn account in ConnectSafely)",
        ),
        (
            response(400, {"success": False, "error": "conversationUrn is required"}),
            MESSAGES,
            "connectsafely: Bad Request (HTTP 400): conversationUrn is required - the request's "
            "`conversationUrn` (the id ConnectSafely listed) was rejected; check the `api_url` "
            "setting points at ConnectSafely's current routes",
        ),
        (
            response(400, {"success": False, "error": "count must be at most 100"}),
            INBOX,
            "connectsafely: Bad Request (HTTP 400): count must be at most 100 - the request's "
            "`count` was rejected; check the `page_size` setting",
        ),
        (
            response(400, {"success": False, "error": "Invalid nextCursor"}),
            INBOX,
            "connectsafely: Bad Request (HTTP 400): Invalid nextCursor - the provider rejected "
            "its own cursor; run the tap again",
        ),
        (
            # The 400 table types `error` as an object: that reading works too.
            response(
                400,
                {"success": False, "error": {"code": "INVALID_PARAMS", "message": "since: NaN"}},
            ),
            MESSAGES,
            "connectsafely: INVALID_PARAMS (HTTP 400): since: NaN - the request's `since` was "
            "rejected; check the `start_date` setting",
        ),
        (
            response(200, {"success": False, "error": "LinkedIn session expired"}),
            INBOX,
            "connectsafely: error (HTTP 200): LinkedIn session expired - an answer the tap does "
            "not know; check the tap settings",
        ),
        (
            response(200, {"object": "ChatList", "items": []}),
            INBOX,
            "connectsafely: error (HTTP 200) - not a ConnectSafely listing; check the `api_url` "
            "setting",
        ),
    ],
)
def test_fatal_errors_stop_with_one_line(
    answer: requests.Response, route: Route, expected: str
) -> None:
    with pytest.raises(ProviderError) as raised:
        provider().check(answer, route=route)
    assert not isinstance(raised.value, ConversationGoneError)
    assert str(raised.value) == expected


def test_an_unknown_default_account_says_what_to_set() -> None:
    answer = response(404, {"success": False, "error": "No LinkedIn account connected"})
    with pytest.raises(ProviderError) as raised:
        ConnectSafelyProvider({"api_key": "sk-other"}).check(answer, route=INBOX)
    assert str(raised.value) == (
        "connectsafely: Not Found (HTTP 404): No LinkedIn account connected - check the "
        "`account_id` setting (without one: connect a LinkedIn account in ConnectSafely)"
    )


def test_a_missing_conversation_is_gone() -> None:
    answer = response(404, {"success": False, "error": "Conversation not found"})
    with pytest.raises(ConversationGoneError) as raised:
        provider().check(answer, route=MESSAGES)
    assert str(raised.value) == "connectsafely: Not Found (HTTP 404): Conversation not found"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            response(
                500,
                {"error": "Failed to get LinkedIn authentication credentials", "success": False},
            ),
            "connectsafely: Internal Server Error (HTTP 500): Failed to get LinkedIn "
            "authentication credentials",
        ),
        (
            response(429, {"success": False, "code": "RATE_LIMITED", "message": "Slow down"}),
            "connectsafely: RATE_LIMITED (HTTP 429): Slow down",
        ),
        (
            response(503, {"error": "Service unavailable"}),
            "connectsafely: Service Unavailable (HTTP 503): Service unavailable",
        ),
        (
            response(502, raw=b"<html>Bad gateway</html>"),
            "connectsafely: Bad Gateway (HTTP 502) - a body that is not JSON",
        ),
        (
            response(200, raw=b'{"success": true, "conversations": [{"conv'),
            "connectsafely: error (HTTP 200) - a body that is not JSON",
        ),
    ],
)
def test_transient_failures_are_retried(answer: requests.Response, expected: str) -> None:
    with pytest.raises(RetriableAPIError) as raised:
        provider().check(answer, route=MESSAGES)
    assert str(raised.value) == expected
    assert raised.value.response is answer


def test_the_documented_500_is_retried_and_then_names_the_linkedin_session() -> None:
    """The reference's 500 example, "Failed to get LinkedIn authentication credentials"
    (https://connectsafely.ai/docs/api/linkedin-messaging/get-messaging-recent-messages-get-recent-messages),
    is about the account's LinkedIn session, not a passing outage."""
    body = {"error": "Failed to get LinkedIn authentication credentials", "success": False}
    with pytest.raises(TransientError) as session:
        provider().check(response(500, body), route=MESSAGES)
    assert "reconnect LinkedIn in ConnectSafely" in session.value.hint
    with pytest.raises(TransientError) as outage:
        provider().check(response(503, {"error": "Service unavailable"}), route=MESSAGES)
    assert outage.value.hint == RETRY_LATER


def test_secrets_and_newlines_never_reach_the_error_line() -> None:
    body = {"success": False, "error": "Key sk-connectsafely-secret\nis not\tvalid"}
    with pytest.raises(ProviderError) as raised:
        provider().check(response(401, body), route=INBOX)
    assert str(raised.value) == (
        "connectsafely: Unauthorized (HTTP 401): Key *** is not valid - check the `api_key` setting"
    )


def test_an_inclusive_cursor_is_tolerated_not_a_loop() -> None:
    """Whether the messages cursor repeats the message it names is undocumented: where it
    does, the repeated message is dropped and the run goes on."""
    inbox = SyntheticInbox.generate(seed=77, conversations=2, messages=lambda i: 11 if i else 3)
    with ConnectSafelyEmulator(inbox) as emulator:
        emulator.inclusive_cursor = True
        output = run_tap(emulator.config(page_size=4))
    emitted = [r["message_id"] for r in output.of("messages")]
    assert sorted(emitted) == sorted(
        inbox.message_urn(m) for c in inbox.conversations.values() for m in c.messages
    )
    assert len(emitted) == len(set(emitted)) == 14


def twenty_five_new_messages(
    inbox: SyntheticInbox, page_size: int
) -> tuple[list[str], list[Call], list[str]]:
    """A full sync, then 25 new messages in one conversation and an incremental run: the
    ids it emitted, its message requests, and the ids of the new messages."""
    with ConnectSafelyEmulator(inbox) as emulator:
        first = run_tap(emulator.config(page_size=page_size))
        thread_id = next(iter(inbox.conversations))
        added = [inbox.add_message(thread_id) for _ in range(25)]
        emulator.reset_counters()
        second = run_tap(emulator.config(page_size=page_size), state=first.state)
        pages = [c for c in emulator.calls if c.route == emulator.messages_route]
    emitted = [r["message_id"] for r in second.of("messages")]
    return emitted, pages, [inbox.message_urn(m) for m in added]


def test_a_long_incremental_read_pages_with_the_cursor_alone() -> None:
    """`since` on the first request of a conversation, `cursor` alone after it: the
    emulator answers 400 to the two together."""
    inbox = SyntheticInbox.generate(seed=78, conversations=3, messages=2)
    emitted, pages, added = twenty_five_new_messages(inbox, page_size=10)
    assert sorted(emitted) == sorted(added)
    assert len(pages) > 1
    assert "since" in pages[0].query
    assert "cursor" not in pages[0].query
    assert all("cursor" in p.query and "since" not in p.query for p in pages[1:])
    assert all(p.query["sync"] == ["true"] for p in pages)


def test_the_page_since_filters_is_asked_at_full_size_and_billed_for_new_messages_only() -> None:
    """With `since`, only newer messages come back: the first page asks for `page_size`
    (not the small first page of an unfiltered incremental read), so 25 new messages
    are one request and the 3 credits they cost, nothing more."""
    inbox = SyntheticInbox.generate(seed=79, conversations=3, messages=40)
    emitted, pages, added = twenty_five_new_messages(inbox, page_size=100)
    assert sorted(emitted) == sorted(added)
    (page,) = pages
    assert (page.query["count"], page.credits) == (["100"], 3)


def test_a_time_filter_read_otherwise_is_named_in_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The reference gives `since` no unit (milliseconds is inferred). Were ConnectSafely
    to read it as seconds, every changed conversation would read nothing new: more than
    a handful of those in one run is a warning naming the filter, not a quiet loss."""
    inbox = SyntheticInbox.generate(seed=61, conversations=9, messages=3)
    with ConnectSafelyEmulator(inbox) as emulator:
        first = run_tap(emulator.config())
        threads = list(inbox.conversations)
        for thread_id in threads[:7]:
            inbox.add_message(thread_id)
        emulator.since_in_seconds = True
        caplog.clear()
        second = run_tap(emulator.config(), state=first.state)
    assert second.of("messages") == []
    assert len(second.of("conversations")) == 7
    (warning,) = [r.getMessage() for r in caplog.records if "gave no new message" in r.getMessage()]
    assert "connectsafely: account_id " in warning
    assert "7 conversations listed with new activity" in warning
    assert "the `since` parameter (epoch milliseconds [inferred])" in warning


def test_a_few_conversations_without_new_messages_are_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = SyntheticInbox.generate(seed=62, conversations=9, messages=3)
    with ConnectSafelyEmulator(inbox) as emulator:
        first = run_tap(emulator.config())
        for thread_id in list(inbox.conversations)[:3]:
            inbox.add_message(thread_id)
        emulator.since_in_seconds = True
        caplog.clear()
        run_tap(emulator.config(), state=first.state)
    assert not [r for r in caplog.records if "gave no new message" in r.getMessage()]


def test_conversations_found_gone_are_no_reads_that_gave_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Seven changed conversations deleted between the listing and their read: each is
    skipped as gone (the account answers), and none counts toward the time-filter
    warning."""
    inbox = SyntheticInbox.generate(seed=63, conversations=9, messages=3)
    with ConnectSafelyEmulator(inbox) as emulator:
        first = run_tap(emulator.config())
        for thread_id in list(inbox.conversations)[:7]:
            inbox.add_message(thread_id)
        emulator.inject(
            *[Fault(route=emulator.messages_route, reply=emulator.error_reply("conversation_gone"))]
            * 7
        )
        caplog.clear()
        second = run_tap(emulator.config(), state=first.state)
    assert second.of("messages") == []
    messages = [r.getMessage() for r in caplog.records]
    assert sum("no longer exists" in m for m in messages) == 7
    assert not [m for m in messages if "gave no new message" in m]


def test_a_list_served_from_cache_is_named_in_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The reference's own example says `"fromCache": true`
    (https://connectsafely.ai/docs/api/linkedin-messaging/get-conversations-list-conversations):
    the records are read as ever, and a warning names the account; a fresh list, none."""
    payload = load_fixture("connectsafely_list_conversations.json")
    source = provider(account_id="acc_cached")
    with caplog.at_level(logging.WARNING):
        cached = source.inbox_page(payload, category="INBOX")
        fresh = source.inbox_page({**payload, "fromCache": False}, category="INBOX")
    assert cached.records == fresh.records
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "account acc_cached" in warning
    assert "fromCache" in warning
