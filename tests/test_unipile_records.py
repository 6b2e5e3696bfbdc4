"""Unipile payload -> record functions, requests and error handling.

Unipile's reference prints no full example: the fixtures are constructed from the field lists of
its API reference (https://developer.unipile.com/reference/chatscontroller_listallchats,
https://developer.unipile.com/reference/chatscontroller_listchatmessages), every documented
field present.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.normalize import datetime_to_rfc3339, parse_timestamp
from tap_linkedin_messages.providers.error_rules import ConversationGoneError
from tap_linkedin_messages.providers.pages import PageAsk, People, Route
from tap_linkedin_messages.providers.unipile import (
    UnipileProvider,
    chat_type,
    conversation_record,
    message_record,
)
from tests.conftest import UNSAID, load_fixture, response, run_cli, run_tap
from tests.emulators.inbox import Person, SyntheticInbox
from tests.emulators.server import Fault
from tests.emulators.unipile import ISO_MILLIS, UnipileEmulator

API_URL = "https://api1.unipile.com:13111"
CONFIG = {"api_key": "sk-unipile-secret", "account_id": "t5XY4yQzR9WVrlNFyTRBbg"}


def provider() -> UnipileProvider:
    return UnipileProvider({**CONFIG, "api_url": API_URL})


def no_one(name: str | None = None) -> dict[str, Any]:
    """A participant known only by name, as a chat describes it."""
    return {
        "name": name,
        "headline": None,
        "profile_url": None,
        "profile_picture_url": None,
        "is_organization": None,
    }


# --- records ------------------------------------------------------------------------------


def test_chat_list_becomes_the_expected_records() -> None:
    payload = load_fixture("unipile_list_chats.json")
    page = provider().inbox_page(payload, category="INBOX")
    assert page.next_cursor == payload["cursor"]
    # The fifth chat has a null name and a null timestamp (both nullable in Unipile's
    # SDK schema): it is a record all the same, with no participant and no activity time.
    assert page.items == 5
    *dated, undated = page.records
    assert undated["conversation_id"] == "Nn0ameNoT1meChat00000a"
    assert (undated["participants"], undated["last_activity_at"]) == ([], None)
    assert page.credits == 1  # the shared 1-per-10 rule
    assert dated == [
        {
            "conversation_id": "Xk2mR7pQTzC1vY9bN4wL0a",
            "thread_id": "2-MDZiY2ExOTgtM2NjNy00OTU4LTgyNjUtZWFlMmIwZjM1NTlmXzEwMA==",
            "category": "INBOX",
            "folder": None,
            "mailbox": "CLASSIC",  # folder[]: INBOX_LINKEDIN_CLASSIC
            "type": "normal",
            "participants": [no_one("Jane Doe")],
            "last_activity_at": "2026-04-25T20:07:21.366Z",
            "unread_count": 1,
            "is_read": False,
            "last_read_at": None,
            "last_message": None,
        },
        {
            "conversation_id": "pL8sW3dFqN6hJ2kZ5cV7xA",
            "thread_id": "2-YjQ1ZmM3OTItNGI4Yi00ZmEyLWE1ZjMtNzQ2ZDA2NTQ0YjYxXzEwMA==",
            "category": "INBOX",
            "folder": None,
            "mailbox": "CLASSIC",
            "type": "inmail",
            "participants": [no_one("John Smith")],
            "last_activity_at": "2026-04-24T09:15:00.005Z",
            "unread_count": 0,
            "is_read": True,
            "last_read_at": None,
            "last_message": None,
        },
        {
            "conversation_id": "Qa4tY1uIo9pE3rW6sD8fGh",
            "thread_id": "2-ZGQ5N2MxZTAtMmI4Yy00ZDdlLTk0ZjEtMzE2YjY1ZTRhOGQyXzEwMA==",
            "category": "INBOX",
            "folder": None,
            "mailbox": "CLASSIC",
            "type": "group",
            "participants": [no_one("Acme Corp sales team")],
            "last_activity_at": "2026-04-23T17:45:09.120Z",
            "unread_count": 3,
            "is_read": False,
            "last_read_at": None,
            "last_message": None,
        },
        {
            "conversation_id": "Zx7cV5bN3mL1kJ9hG2fD4s",
            "thread_id": "2-ODFhNjRlZDUtN2MzYS00YjE5LWI2ZDgtYTBkNzk2NTMyZjRlXzEwMA==",
            "category": "INBOX",
            "folder": "ARCHIVE",  # `archived: 1`
            "mailbox": "CLASSIC",
            "type": "Sponsored",
            "participants": [{**no_one("Acme Corp"), "is_organization": True}],
            "last_activity_at": "2026-04-20T08:00:00.000Z",
            "unread_count": 0,
            "is_read": True,
            "last_read_at": None,
            "last_message": None,
        },
    ]


def test_message_list_becomes_the_expected_records() -> None:
    payload = load_fixture("unipile_list_chat_messages.json")
    page = provider().conversation_page(payload)
    assert page.next_cursor is None  # the last page
    assert page.items == 3
    assert page.credits == 1
    sender = {"name": None, "first_name": None, "last_name": None, "profile_url": None}
    unchanged = {
        "is_edited": False,
        "edited_at": None,
        "is_deleted": False,
        "reply_to_message_id": None,  # `"quoted": null`, or no `quoted`
    }
    assert page.records == [
        {
            "message_id": "mW2eR4tY6uI8oP0aS1dF3g",
            "sent_at": "2026-04-25T20:07:21.366Z",
            "text": "Sounds good, talk soon!",
            "subject": None,
            "message_type": "TEXT",
            "sender": {**sender, "is_me": False},
            "attachments": [],
            "reactions": [],
            **unchanged,
        },
        {
            "message_id": "nQ3wE5rT7yU9iO1pA2sD4f",
            "sent_at": "2026-04-25T19:48:12.678Z",
            "text": "Hey, are you available for a call tomorrow?",
            "subject": "Call tomorrow?",
            "message_type": "TEXT",
            "sender": {**sender, "is_me": True},
            "attachments": [
                {
                    "id": "att_0001",
                    "name": "deck.pdf",
                    "media_type": "application/pdf",
                    "size_bytes": 48213,
                    "url": None,
                    "url_expires_at": None,
                }
            ],
            "reactions": [{"value": "👍", "sender_id": "ACoAAJaneDoe42", "is_me": False}],
            # `edited: 1`: whether, not when.
            **{**unchanged, "is_edited": True},
        },
        {
            "message_id": "oR4eT6yU8iO0pA1sD3fG5h",
            "sent_at": "2026-04-25T19:40:00.000Z",
            "text": None,
            "subject": None,
            "message_type": "EVENT",
            "sender": {**sender, "is_me": False},
            "attachments": [],
            "reactions": [],
            **unchanged,
        },
    ]


def test_a_reply_names_what_it_quotes_and_an_attachment_when_its_url_expires() -> None:
    """`quoted` is the replied-to message's base fields in Unipile's SDK
    (`src/schemas/message.schema.ts`: `provider_id`, `sender_id`, `text`, `attachments`),
    so the reply names it by LinkedIn's id; `url_expires_at` as a copy of Unipile's
    list-messages example prints it, `1735689600` (epoch seconds) [inferred]."""
    item: dict[str, Any] = {
        "id": "reply-1",
        "timestamp": "2026-04-25T20:00:00.000Z",
        "text": "Yes, 3pm works",
        "quoted": {"provider_id": "2-MTc3NzE0NjQ5Mjy", "sender_id": "ACoAAJ", "text": "Call?"},
        "attachments": [
            {
                "id": "att_1",
                "type": "img",
                "url": "https://cdn.example/f.jpg",
                "url_expires_at": 1735689600,
            }
        ],
    }
    record = message_record(item)
    assert record["reply_to_message_id"] == "2-MTc3NzE0NjQ5Mjy"
    (attachment,) = record["attachments"]
    assert attachment["url_expires_at"] == "2025-01-01T00:00:00.000Z"
    in_ms = {**item["attachments"][0], "url_expires_at": 1735689600123}
    assert (
        message_record({**item, "attachments": [in_ms]})["attachments"][0]["url_expires_at"]
        == "2025-01-01T00:00:00.123Z"
    )


def test_attendees_name_the_senders_messages_give_by_id() -> None:
    """`GET /api/v1/chats/{chat_id}/attendees`: messages name their sender by
    `sender_attendee_id` (an attendee's `id`) or `sender_id` (its `provider_id`)."""
    attendees = {
        "object": "ChatAttendeeList",
        "items": [
            {
                "object": "ChatAttendee",
                "id": "aT9yU7iO5pA3sD1fG8hJ6k",
                "account_id": "t5XY4yQzR9WVrlNFyTRBbg",
                "provider_id": "ACoAAJaneDoe42",
                "name": "Jane Doe",
                "is_self": 0,
                "picture_url": "https://media.example/jane.jpg",
                "profile_url": "https://www.linkedin.com/in/jane-doe-42",
            },
            {
                "object": "ChatAttendee",
                "id": "bY8tR6eW4qA2zX0cV9bN7m",
                "account_id": "t5XY4yQzR9WVrlNFyTRBbg",
                "provider_id": "ACoAAOwnerAccount1",
                "name": "Olive Owner",
                "is_self": 1,
            },
        ],
    }
    listing = provider().people("t5XY4yQzR9WVrlNFyTRBbg", "Xk2m/R7")
    assert listing is not None
    assert listing.request(None, 10).path == "/api/v1/chats/Xk2m%2FR7/attendees"
    people = People.of(listing.page(attendees).records)
    assert people.others == [
        {
            "name": "Jane Doe",
            "headline": None,
            "profile_url": "https://www.linkedin.com/in/jane-doe-42",
            "profile_picture_url": "https://media.example/jane.jpg",
            "is_organization": None,
        }
    ]
    messages = (
        provider()
        .conversation_page(load_fixture("unipile_list_chat_messages.json"), people)
        .records
    )
    assert [(m["sender"]["name"], m["sender"]["profile_url"]) for m in messages] == [
        ("Jane Doe", "https://www.linkedin.com/in/jane-doe-42"),
        ("Olive Owner", None),
        ("Jane Doe", "https://www.linkedin.com/in/jane-doe-42"),
    ]


def test_a_deleted_message_keeps_its_id_and_loses_its_text() -> None:
    record = message_record(
        {"id": "m9", "text": "", "deleted": 1, "timestamp": "2026-01-01T00:00:00Z"}
    )
    assert (record["message_id"], record["text"], record["is_deleted"]) == ("m9", None, True)


def test_omitted_fields_are_null_and_unknown_fields_are_ignored() -> None:
    assert conversation_record({"id": "c1", "brand_new_field": {"a": 1}}, category="UNREAD") == {
        "conversation_id": "c1",
        "thread_id": None,
        "category": "UNREAD",
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
    assert message_record({"id": "m1", "extra": 1}) == {
        "message_id": "m1",
        "sent_at": None,
        "text": None,
        "subject": None,
        "message_type": "TEXT",
        "sender": {
            "name": None,
            "first_name": None,
            "last_name": None,
            "profile_url": None,
            "is_me": None,
        },
        **UNSAID,
    }


def test_a_provider_id_in_urn_form_still_gives_the_thread_id() -> None:
    record = conversation_record(
        {"id": "c", "provider_id": "urn:li:messagingThread:2-abc"}, category="INBOX"
    )
    assert record["thread_id"] == "2-abc"


@pytest.mark.parametrize(
    ("number", "content_type", "expected"),
    [
        (0, None, "normal"),
        (1, None, "group"),
        (0, "inmail", "inmail"),
        (0, "sponsored", "Sponsored"),
        (0, "linkedin_offer", "normal"),
        (2, None, None),  # a channel: LinkedIn has none
        (None, None, None),
    ],
)
def test_chat_types(number: int | None, content_type: str | None, expected: str | None) -> None:
    assert chat_type({"type": number, "content_type": content_type}) == expected


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-04-25T20:07:21.366Z", "2026-04-25T20:07:21.366Z"),
        ("2026-04-25T20:07:21Z", "2026-04-25T20:07:21.000Z"),
        ("2026-04-25T22:07:21.366+02:00", "2026-04-25T20:07:21.366Z"),
    ],
)
def test_timestamps_come_out_in_utc_with_milliseconds(timestamp: str, expected: str) -> None:
    assert message_record({"id": "m", "timestamp": timestamp})["sent_at"] == expected
    chat = conversation_record({"id": "c", "timestamp": timestamp}, category="INBOX")
    assert chat["last_activity_at"] == expected


@pytest.mark.parametrize(("items", "credits"), [(0, 0), (1, 1), (10, 1), (11, 2), (250, 25)])
def test_pages_report_the_shared_one_per_ten_rule(items: int, credits: int) -> None:
    payload: dict[str, Any] = {"object": "MessageList", "items": [{}] * items, "cursor": None}
    assert provider().conversation_page(payload).credits == credits


# --- requests -----------------------------------------------------------------------------


def test_auth_header_and_required_api_url() -> None:
    assert provider().auth_headers() == {"X-API-KEY": "sk-unipile-secret"}
    assert provider().api_url == API_URL
    with pytest.raises(ProviderError, match=r"^unipile: the `api_url` setting is required"):
        _ = UnipileProvider(CONFIG).api_url


def test_a_full_read_of_the_inbox() -> None:
    request = provider().inbox_request(PageAsk("acc", None, 100, category="INBOX"))
    assert (request.method, request.path, request.json) == ("GET", "/api/v1/chats", None)
    # INBOX sends no `unread` at all: `unread=false` would ask for read chats only.
    assert request.params == {"account_id": "acc", "limit": 100}


def test_unread_cursor_and_the_limit_of_250() -> None:
    request = provider().inbox_request(PageAsk("acc", "abc==", 1000, category="UNREAD"))
    assert request.params == {
        "account_id": "acc",
        "limit": 250,
        "unread": "true",
        "cursor": "abc==",
    }


def test_incremental_requests_carry_after_with_millisecond_precision() -> None:
    newer_than = datetime(2026, 4, 25, 20, 7, 21, 366_999, tzinfo=timezone.utc)
    chats = provider().inbox_request(
        PageAsk("acc", None, 10, category="INBOX", newer_than=newer_than)
    )
    # The chat list's `after` filters by creation: never sent, or old chats could be hidden.
    assert "after" not in chats.params
    messages = provider().conversation_request(
        PageAsk(
            "acc",
            "next",
            10,
            conversation_id="Xk2m/R7",
            newer_than=newer_than.astimezone(timezone(timedelta(hours=2))),
        )
    )
    assert messages.path == "/api/v1/chats/Xk2m%2FR7/messages"
    # The chat id says whose messages these are: the route takes no `account_id`.
    assert messages.params == {"limit": 10, "cursor": "next", "after": "2026-04-25T20:07:21.366Z"}


def test_an_incremental_run_asks_the_emulator_only_for_what_is_newer() -> None:
    inbox = SyntheticInbox.generate(seed=61, conversations=4, messages=3)
    with UnipileEmulator(inbox) as emulator:
        first = run_tap(emulator.config())
        assert all("after" not in call.query for call in emulator.calls)
        thread_id = next(iter(inbox.conversations))
        added = inbox.add_message(thread_id)
        emulator.reset_counters()
        second = run_tap(emulator.config(), state=first.state)

    assert [r["message_id"] for r in second.of("messages")] == [emulator.message_id(added)]
    (bookmark,) = first.state["bookmarks"]["conversations"]["partitions"]
    lookback = datetime_to_rfc3339(
        parse_timestamp(bookmark["replication_key_value"]) - timedelta(minutes=10)
    )
    afters = {
        call.route: call.query["after"][0] for call in emulator.calls if "after" in call.query
    }
    assert set(afters) == {"list_chat_messages"}
    assert afters["list_chat_messages"] == lookback
    assert all(ISO_MILLIS.fullmatch(after) for after in afters.values())
    assert emulator.threads_read() == {thread_id: 1}
    # `after` filters every page: each is asked at full size (only new ones come back).
    (page,) = [c for c in emulator.calls if c.route == "list_chat_messages"]
    assert page.query["limit"] == ["100"]  # the `page_size` default


# --- errors -------------------------------------------------------------------------------


INBOX, MESSAGES = Route.INBOX, Route.CONVERSATION  # the listing that asked


def problem(status: int, type_: str, detail: str, title: str = "Error") -> dict[str, Any]:
    return {
        "title": title,
        "detail": detail,
        "instance": "/api/v1/chats",
        "type": type_,
        "status": status,
    }


def test_a_listing_is_returned_decoded() -> None:
    body: dict[str, Any] = {"object": "ChatList", "items": [], "cursor": None}
    assert provider().check(response(200, body), route=INBOX) == body


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            response(
                401,
                problem(401, "errors/invalid_credentials", "The provided credentials are invalid."),
            ),
            "unipile: errors/invalid_credentials (HTTP 401): The provided credentials are "
            "invalid. - check the `api_key` setting",
        ),
        (
            response(401, problem(401, "errors/expired_credentials", "Expired.")),
            "unipile: errors/expired_credentials (HTTP 401): Expired. - reconnect the LinkedIn "
            "account in Unipile, or check `account_id`",
        ),
        (
            response(401, problem(401, "errors/missing_credentials", "No key.")),
            "unipile: errors/missing_credentials (HTTP 401): No key. - check the `api_key` setting",
        ),
        (
            response(401, problem(401, "errors/disconnected_account", "Disconnected.")),
            "unipile: errors/disconnected_account (HTTP 401): Disconnected. - reconnect the "
            "LinkedIn account in Unipile, or check `account_id`",
        ),
        (
            response(404, problem(404, "errors/resource_not_found", "Not found.")),
            "unipile: errors/resource_not_found (HTTP 404): Not found. - check the `account_id` "
            "and `api_url` settings",
        ),
        (
            response(400, problem(400, "errors/invalid_parameters", "limit must be 1 to 250")),
            "unipile: errors/invalid_parameters (HTTP 400): limit must be 1 to 250 - the "
            "request's `limit` was rejected; check the `page_size` setting",
        ),
        (
            response(400, problem(400, "errors/invalid_parameters", "after must be ISO 8601")),
            "unipile: errors/invalid_parameters (HTTP 400): after must be ISO 8601 - the "
            "request's `after` was rejected; check the `start_date` setting",
        ),
        (
            response(403, problem(403, "errors/insufficient_permissions", "Not allowed.")),
            "unipile: errors/insufficient_permissions (HTTP 403): Not allowed. - check that the "
            "`api_key` may read `account_id`",
        ),
        (
            response(200, {"success": True, "data": {}}),
            "unipile: error (HTTP 200) - not a Unipile chat or message list; check the `api_url` "
            "setting",
        ),
    ],
)
def test_fatal_errors_stop_with_one_line(answer: requests.Response, expected: str) -> None:
    with pytest.raises(ProviderError) as raised:
        provider().check(answer, route=INBOX)
    assert not isinstance(raised.value, ConversationGoneError)
    assert str(raised.value) == expected


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (INBOX, "check the `page_size` and `inbox_categories` settings"),
        (MESSAGES, "check the `page_size` and `start_date` settings"),
        (Route.PEOPLE, "check the `account_id` setting"),
    ],
)
def test_a_400_names_only_the_settings_its_request_sends(route: Route, expected: str) -> None:
    """The chat list sends `limit` and `unread`, a chat's messages `limit` and `after`
    (https://developer.unipile.com/reference/chatscontroller_listallchats,
    https://developer.unipile.com/reference/chatscontroller_listchatmessages)."""
    answer = response(400, problem(400, "errors/invalid_parameters", "Bad request."))
    with pytest.raises(ProviderError) as raised:
        provider().check(answer, route=route)
    assert str(raised.value).endswith(f" - {expected}")


def test_a_missing_chat_is_gone() -> None:
    answer = response(404, problem(404, "errors/resource_not_found", "Not found."))
    with pytest.raises(ConversationGoneError) as raised:
        provider().check(answer, route=MESSAGES)
    assert str(raised.value) == "unipile: errors/resource_not_found (HTTP 404): Not found."


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            response(429, problem(429, "api/too_many_requests", "Slow down.")),
            "unipile: api/too_many_requests (HTTP 429): Slow down.",
        ),
        (
            response(500, problem(500, "errors/unexpected_error", "Oops.")),
            "unipile: errors/unexpected_error (HTTP 500): Oops.",
        ),
        (
            response(503, problem(503, "errors/service_unavailable", "Later.")),
            "unipile: errors/service_unavailable (HTTP 503): Later.",
        ),
        (
            response(502, raw=b"<html>Bad gateway</html>"),
            "unipile: Bad Gateway (HTTP 502) - a body that is not JSON",
        ),
        (
            response(200, raw=b'{"object": "ChatList", "ite'),
            "unipile: error (HTTP 200) - a body that is not JSON",
        ),
    ],
)
def test_transient_failures_are_retried(answer: requests.Response, expected: str) -> None:
    with pytest.raises(RetriableAPIError) as raised:
        provider().check(answer, route=MESSAGES)
    assert str(raised.value) == expected
    assert raised.value.response is answer


def test_secrets_and_newlines_never_reach_the_error_line() -> None:
    detail = "Key sk-unipile-secret\nis not valid\there"
    with pytest.raises(ProviderError) as raised:
        provider().check(
            response(401, problem(401, "errors/invalid_credentials", detail)), route=INBOX
        )
    assert str(raised.value) == (
        "unipile: errors/invalid_credentials (HTTP 401): Key *** is not valid here - check the "
        "`api_key` setting"
    )


@pytest.mark.parametrize("workers", [1, 4])
def test_senders_and_participants_are_named_from_each_chats_attendees_once(workers: int) -> None:
    inbox = SyntheticInbox.generate(seed=79, conversations=3, messages=lambda i: 7 if i else 2)
    members = [Person(f"unipile-group-{i}", "Member", str(i), "Role") for i in range(2)]
    group = inbox.add_conversation(members, type_="group")
    for member in members:
        inbox.add_message(group.thread_id, sender=member)
    with UnipileEmulator(inbox) as emulator:
        # Slow attendee answers: a prefetch worker is still waiting for a chat's when the
        # main thread comes to name that chat's participants.
        emulator.inject(*[Fault(route="list_chat_attendees", delay=0.3) for _ in range(4)])
        output = run_tap(emulator.config(page_size=3, max_concurrent_requests=workers))
        routes = emulator.routes()
        billed = emulator.credits
    by_id = {r["message_id"]: r for r in output.of("messages")}
    for conversation in inbox.conversations.values():
        for message in conversation.messages:
            sender = by_id[emulator.message_id(message)]["sender"]
            assert sender["name"] == message.sender.name
            assert sender["profile_url"] == message.sender.profile_url
    # The group chat has no name: its attendees name its participants.
    (record,) = [r for r in output.of("conversations") if r["thread_id"] == group.thread_id]
    assert sorted(p["name"] for p in record["participants"]) == ["Member 0", "Member 1"]
    # One attendees request per chat, however many pages its messages take (and whether
    # the main thread or a prefetch worker asks first); and the account's status, once.
    assert routes["list_chat_attendees"] == 4
    assert routes["get_account"] == 1
    assert routes["list_chat_messages"] > 4
    assert output.tap is not None
    assert output.tap.streams["conversations"].ledger.total == billed  # type: ignore[attr-defined]


def test_a_disconnected_account_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """A LinkedIn account disconnected from Unipile still answers, with what Unipile
    synced before: the run goes on, and says the data may be stale."""
    inbox = SyntheticInbox.generate(seed=80, conversations=2, messages=2)
    with UnipileEmulator(inbox) as emulator:
        emulator.account_status = "CREDENTIALS"
        output = run_tap(emulator.config())
    assert len(output.of("messages")) == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("is not connected (CREDENTIALS)" in w and "reconnect" in w for w in warnings)


def test_attachments_reactions_edits_and_deletions_over_http() -> None:
    inbox = SyntheticInbox.generate(seed=81, conversations=2, messages=3)
    first, second = list(inbox.conversations.values())
    with_file, liked = first.messages[0], first.messages[1]
    edited, gone = second.messages[0], second.messages[1]
    inbox.attach(with_file, "deck.pdf", "application/pdf", 48213)
    inbox.react(liked, "👍", second.participants[0])
    inbox.edit(edited, "Edited text")
    inbox.delete(gone)
    with UnipileEmulator(inbox) as emulator:
        emitted = {r["message_id"]: r for r in run_tap(emulator.config()).of("messages")}

        def record(message: Any) -> dict[str, Any]:
            return emitted[emulator.message_id(message)]

        (attachment,) = record(with_file)["attachments"]
        (reaction,) = record(liked)["reactions"]
        assert reaction["sender_id"] == emulator.member_id(second.participants[0])
    assert (attachment["name"], attachment["media_type"], attachment["size_bytes"]) == (
        "deck.pdf",
        "application/pdf",
        48213,
    )
    assert attachment["url"].endswith("/deck.pdf")
    assert (reaction["value"], reaction["is_me"]) == ("👍", False)
    assert (record(edited)["text"], record(edited)["is_edited"]) == ("Edited text", True)
    assert record(edited)["edited_at"] is None  # Unipile says whether, not when
    assert (record(gone)["text"], record(gone)["is_deleted"]) == (None, True)
    assert record(with_file)["is_deleted"] is False


def test_an_unknown_account_id_is_one_line_naming_it(tmp_path: Any) -> None:
    """The account's status (`GET /api/v1/accounts/{account_id}`) is the first request:
    its 404 names the settings that can cause it."""
    inbox = SyntheticInbox.generate(seed=82, conversations=2, messages=2)
    with UnipileEmulator(inbox) as emulator:
        run = run_cli(tmp_path, emulator.config(account_id="NoSuchAccount000000000"))
        assert emulator.routes() == {"get_account": 1}
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = [line for line in run.stderr.splitlines() if "| ERROR" in line and "unipile:" in line]
    assert "errors/resource_not_found (HTTP 404)" in line
    assert line.endswith("check the `account_id` and `api_url` settings")


def test_a_chat_gone_before_its_attendees_are_read_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = SyntheticInbox.generate(seed=83, conversations=3, messages=2)
    gone = inbox.newest_first()[0]
    with UnipileEmulator(inbox) as emulator:
        emulator.inject(
            Fault(route="list_chat_attendees", reply=emulator.error_reply("conversation_gone"))
        )
        output = run_tap(emulator.config())
        expected = {
            emulator.message_id(m)
            for c in inbox.conversations.values()
            if c is not gone
            for m in c.messages
        }
        routes = emulator.routes()
        read = emulator.threads_read()
    assert {r["message_id"] for r in output.of("messages")} == expected
    # One 404, and nothing more asked of that chat.
    assert routes["list_chat_attendees"] == 3
    assert gone.thread_id not in read
    assert any("no longer exists" in r.getMessage() for r in caplog.records)


def test_a_chat_with_no_timestamp_is_read_every_run_and_only_new_messages_come_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`timestamp` is nullable in Unipile's SDK (`src/schemas/chat.schema.ts`, in
    https://github.com/unipile/unipile-node-sdk): a chat listed without one is read all
    the same (its messages have times), with a null `last_activity_at`, and again on the
    next run (nothing tells whether it changed), where only its new messages come out."""
    inbox = SyntheticInbox.generate(seed=84, conversations=3, messages=2)
    empty = inbox.add_conversation([Person("unipile-quiet", "Quiet", "Member", "Role")])
    undated = next(iter(inbox.conversations.values()))
    with UnipileEmulator(inbox) as emulator:
        emulator.undated.add(undated.thread_id)
        assert emulator.chat_item(empty)["timestamp"] is None
        assert emulator.chat_item(undated)["timestamp"] is None
        first = run_tap(emulator.config())
        by_thread = {r["thread_id"]: r for r in first.of("conversations")}
        assert set(by_thread) == set(inbox.conversations)
        assert by_thread[undated.thread_id]["last_activity_at"] is None
        assert by_thread[empty.thread_id]["last_activity_at"] is None
        assert len(first.of("messages")) == 6
        assert any(
            "2 listed without a last_activity_at: read every run" in r.getMessage()
            for r in caplog.records
        )
        inbox.add_message(undated.thread_id, text="Are you there?", sender=undated.participants[0])
        emulator.reset_counters()
        second = run_tap(emulator.config(), state=first.state)
        read = set(emulator.threads_read())
    assert [m["text"] for m in second.of("messages")] == ["Are you there?"]
    assert {c["thread_id"] for c in second.of("conversations")} == {
        undated.thread_id,
        empty.thread_id,
    }
    assert read == {undated.thread_id, empty.thread_id}
