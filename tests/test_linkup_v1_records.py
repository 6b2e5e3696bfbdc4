"""LinkupAPI v1 payload -> record functions, fed the documentation's example payloads,
and v1's error bodies (mostly HTTP 200 with `"status": "error"`) -> the right exception.

The fixtures are the examples of
https://docs.linkupapi.com/api-reference/linkup/Messages/inbox-conversations
(`linkup_v1_inbox.json`) and
https://docs.linkupapi.com/api-reference/linkup/Messages/conversation
(`linkup_v1_conversation.json`), retyped as printed. Their member is Titouan Prioux: the
inbox example's last message is his, under his member-id URL (`/in/ACoAADxnv0oB...`),
and the conversation example's `fsd_profile` is that id [inferred: whose mailbox it is].
"""

from __future__ import annotations

from typing import Any

import pytest
from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.providers.error_rules import ConversationGoneError
from tap_linkedin_messages.providers.linkup_v1 import (
    LinkupV1Provider,
    conversation_record,
    message_record,
    next_cursor_of,
)
from tap_linkedin_messages.providers.pages import PageAsk, Route
from tap_linkedin_messages.strategies import strategy_for
from tests.conftest import load_fixture, response, run_tap
from tests.emulators.inbox import SyntheticInbox

# The inbox example's conversation, as printed (its `fsd_profile` reads `...EBlsPU_...`
# where the sender's URL reads `...EBlsVPU_...`: retyped, not corrected).
INBOX_URN_PROFILE = "ACoAADxnv0oB_dN-NfpvEBlsPU_W1omM-Xu24o"
THREAD_ID = "2-M2ZkODhkZjYtZDI1ZC00NzE4LWFiYjgtZDY4YmUxMGMwM2NkXzEwMA=="
CONVERSATION_ID = f"urn:li:msg_conversation:(urn:li:fsd_profile:{INBOX_URN_PROFILE},{THREAD_ID})"
LAST_MESSAGE_TEXT = (
    "Hey Mike, I'm the founder of LinkupAPI (https://linkupapi.com), an API that allows you "
    "to automate any action on LinkedIn. I saw you're working on Scheduler AI \u2013 have you "
    "thought about adding LinkedIn integration to enhance your offering?"
)
# The member's own URL in the inbox example: LinkedIn's member-id form, not a vanity one.
MEMBER_ID_URL = "https://www.linkedin.com/in/ACoAADxnv0oB_dN-NfpvEBlsVPU_W1omM-Xu24o"
JOHN_BELL = "John Bell \U0001f5d3\ufe0f\u26a1\ufe0f"
JOHN_BELL_URL = "https://www.linkedin.com/in/michaeltoddbell"
CONFIG = {"api_key": "v1-key-secret", "login_token": "li-at-secret", "country": "DE"}


def provider() -> LinkupV1Provider:
    return LinkupV1Provider(CONFIG)


# --- requests -------------------------------------------------------------------------------


def test_inbox_requests_carry_the_session_and_name_their_cursor_next_cursor() -> None:
    first = provider().inbox_request(PageAsk("default", None, 25, category="UNREAD"))
    assert (first.method, first.path) == ("POST", "/v1/messages/inbox")
    assert first.json == {
        "total_results": 25,
        "category": "UNREAD",
        "country": "DE",
        "login_token": "li-at-secret",
    }
    later = provider().inbox_request(PageAsk("default", "REVT", 10, category="INBOX"))
    assert later.json is not None
    assert later.json["next_cursor"] == "REVT"
    assert "cursor" not in later.json


def test_conversation_requests_carry_the_session_and_name_their_cursor_cursor() -> None:
    first = provider().conversation_request(
        PageAsk("default", None, 10, conversation_id=CONVERSATION_ID)
    )
    assert (first.method, first.path) == ("POST", "/v1/messages/conversation")
    assert first.json == {
        "conversation_id": CONVERSATION_ID,
        "total_results": 10,
        "country": "DE",
        "login_token": "li-at-secret",
    }
    later = provider().conversation_request(
        PageAsk("default", "1745266285823", 10, conversation_id=CONVERSATION_ID)
    )
    assert later.json is not None
    assert later.json["cursor"] == "1745266285823"


def test_country_defaults_to_the_documented_fr_and_the_key_goes_in_a_header() -> None:
    bare = LinkupV1Provider({"api_key": "k", "login_token": "t"})
    request = bare.conversation_request(PageAsk("default", None, 10, conversation_id="c"))
    assert request.json is not None
    assert request.json["country"] == "FR"
    assert bare.auth_headers() == {"x-api-key": "k"}


# --- the documentation's examples -----------------------------------------------------------


def test_inbox_example_becomes_the_expected_record() -> None:
    """https://docs.linkupapi.com/api-reference/linkup/Messages/inbox-conversations"""
    payload = load_fixture("linkup_v1_inbox.json")
    page = provider().inbox_page(payload, category="INBOX")
    assert page.next_cursor == (
        "REVTQ0VORElORyYxNzQ4NjI5NDI2NDU3JjItTTJaa09EaGtaall0WkRJMVpDMBOekU0TFdGaVlq"
        "Z3RaRFk0WW1VeE1HTXdNMk5rWHpFd01BPT0="
    )
    assert page.credits == 1
    assert page.items == 1
    assert page.records == [
        {
            "conversation_id": CONVERSATION_ID,
            "thread_id": THREAD_ID,
            "category": "INBOX",
            "folder": None,
            "mailbox": None,
            "type": "normal",
            "participants": [
                {
                    # The emoji in the name are kept, variation selectors and all.
                    "name": JOHN_BELL,
                    "headline": "AI that instantly converts and manages pipeline meetings "
                    "24/7365. | Believer, Husband, Girl Dad x 3",
                    "profile_url": JOHN_BELL_URL,
                    "profile_picture_url": "https://media.licdn.com/dms/image/v2/"
                    "D4E0AEkAmN1PCA6OA/profile-displayphoto-shrink_800_800/B4EZRK07l_GYAg-/0/"
                    "1736422177433?e=1754524800&v=beta&t=0sRsoyG2kUWaBUOMc99nPnx0CuYV4OFgTEjxLGk03AQ",
                    # v1 has no such flag: unknown, not False.
                    "is_organization": None,
                }
            ],
            # 1748629426457 ms after the epoch, milliseconds kept.
            "last_activity_at": "2025-05-30T18:23:46.457Z",
            "unread_count": 0,
            "is_read": True,
            "last_read_at": None,
            "last_message": {
                "text": LAST_MESSAGE_TEXT,
                "sent_at": "2025-05-30T18:23:46.457Z",
                "sender_name": "Titouan Prioux",
                # The member's member-id URL, as it comes (not made a vanity URL).
                "sender_profile_url": MEMBER_ID_URL,
                # v1 has no `is_me`: unknown, not False (though the sender is the member
                # [inferred from the ids]).
                "is_from_me": None,
            },
        }
    ]


def test_the_inbox_examples_vanity_url_is_not_me_and_its_member_id_url_is_unknown() -> None:
    """What a run makes of `is_me` from the inbox example: its participant is known by a
    vanity URL (`/in/michaeltoddbell`) and a name, its member only by a member-id URL
    (`/in/ACoAA...`) and a name, and v1 never says which sender is the member
    (https://docs.linkupapi.com/api-reference/linkup/Messages/inbox-conversations)."""
    (record,) = (
        provider().inbox_page(load_fixture("linkup_v1_inbox.json"), category="INBOX").records
    )
    strategy = strategy_for(LinkupV1Provider, 1)
    # What the conversation tells its messages (no `is_from_me`: the last sender is taken
    # for neither side).
    conversation = strategy.who_is_who(record)
    # The participant's vanity URL (with or without a trailing slash) or name: not me.
    assert strategy.is_me({"profile_url": JOHN_BELL_URL + "/"}, conversation) is False
    assert strategy.is_me({"name": JOHN_BELL}, conversation) is False
    # The member's member-id URL is no participant's, but an id URL cannot tell that it is
    # not the same person as a vanity one: the name decides, and v1 never named the
    # member, so unknown (not a guess either way).
    member = {"name": "Titouan Prioux", "profile_url": MEMBER_ID_URL}
    assert strategy.is_me(member, conversation) is None
    assert strategy.is_me({"name": "Titouan Prioux"}, conversation) is None


def test_conversation_example_becomes_the_expected_records() -> None:
    """https://docs.linkupapi.com/api-reference/linkup/Messages/conversation (the stored
    copy of the page breaks off inside the third message, after `"entity_urn": "urn`: the
    fixture holds the example up to there; see tests/fixtures/README.md)."""
    payload = load_fixture("linkup_v1_conversation.json")
    # Only in the answer because the request gave it (percent-encoded, as printed); the
    # messages do not take it as a sender's URL.
    assert payload["data"]["profile_url"] == (
        "https://www.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324/"
    )
    page = provider().conversation_page(payload)
    # No `has_next_page` or `next_cursor` in what is kept of the example: no cursor is made up.
    assert page.next_cursor is None
    assert page.credits == 1
    # What the page holds, not the `total_results` (5) it claims.
    assert page.items == 3
    member_id = "ACoAADxnv0oB_dN-NfpvEBlsVPU_W1omM-Xu24o"

    def message(
        tail: str | None, sent_at: str, text: str, first: str, last: str, kind: str
    ) -> dict[str, Any]:
        return {
            "message_id": f"urn:li:msg_message:(urn:li:fsd_profile:{member_id},{tail})"
            if tail
            else None,
            "sent_at": sent_at,
            "text": text,
            "subject": None,
            "message_type": kind,
            "sender": {
                "name": f"{first} {last}",
                "first_name": first,
                "last_name": last,
                "profile_url": None,  # not in v1's `sender_info`
                # v1 does not say who "me" is: null for all three, the member's 😃 too.
                "is_me": None,
            },
            # v1 says nothing of attachments, reactions, edits or deletions.
            "attachments": None,
            "reactions": None,
            "is_edited": None,
            "edited_at": None,
            "is_deleted": None,
            "reply_to_message_id": None,
        }

    tail = "OTFjNWU3YWMtN2IwNi00ZWUwLWE1YzYtNTg4OGNkMGU2ZGRhXzAxMw=="
    assert page.records == [
        message(
            f"2-MTc0NTI3MDAyNTA5MWIzODI1OS0xMDAm{tail}",
            "2025-04-21T21:13:45.236Z",
            "\U0001f603",
            "Titouan",
            "Prioux",
            "TEXT",
        ),
        message(
            f"2-MTc0NTI2Nzc3OTM2MmI3NTkxNS0xMDAm{tail}",
            "2025-04-21T20:36:19.513Z",
            "hello",
            "Al\u00e9s",
            "Pr\u00e9w",
            "TEXT",
        ),
        # A SYSTEM message with empty text: the text stays "", not null. Its id is cut off
        # in the stored copy: none is made up (the stream refuses a message without one).
        message(None, "2025-04-21T20:14:58.889Z", "", "Al\u00e9s", "Pr\u00e9w", "SYSTEM"),
    ]


def test_a_conversation_without_a_last_message_is_counted_but_not_emitted() -> None:
    payload = load_fixture("linkup_v1_inbox.json")
    payload["data"]["conversations"].append({"conversation_id": "urn:x:(y,2-empty)"})
    page = provider().inbox_page(payload, category="INBOX")
    assert page.items == 2
    assert [r["thread_id"] for r in page.records] == [THREAD_ID]


def test_omitted_fields_are_null_and_flags_that_do_come_pass_through() -> None:
    sparse = conversation_record(
        {"conversation_id": "urn:li:msg_conversation:(x,2-abc)", "brand_new_field": 1},
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
    flagged = conversation_record(
        {
            "conversation_id": "c",
            "participant": {"name": "Acme", "is_organization": True},
            "last_message": {"time": 5, "sender": {"is_me": False}},
        },
        category="INBOX",
    )
    assert flagged["participants"][0]["is_organization"] is True
    assert flagged["last_message"]["is_from_me"] is False
    message = message_record({"entity_urn": "urn:li:msg_message:(x,2-m)", "timestamp": "5"})
    assert message["sent_at"] == "1970-01-01T00:00:00.005Z"
    assert message["sender"] == {
        "name": None,
        "first_name": None,
        "last_name": None,
        "profile_url": None,
        "is_me": None,
    }


# --- pages and their end --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "cursor"),
    [
        # Inside `data`, as the reference takes it.
        ({"data": {"has_next_page": True, "next_cursor": "170"}}, "170"),
        ({"data": {"has_next_page": False, "next_cursor": "170"}}, None),
        # At the top level: the doc's example does not show where they sit.
        ({"data": {}, "has_next_page": True, "next_cursor": 170}, "170"),
        ({"data": {"next_cursor": "170"}, "has_next_page": False}, None),
        # No `has_next_page` at all (the inbox): the cursor decides.
        ({"data": {"next_cursor": "REVT"}}, "REVT"),
        ({"data": {"next_cursor": None}}, None),
        ({"data": {"has_next_page": True, "next_cursor": ""}}, None),
        ({"data": {"has_next_page": True}}, None),
    ],
)
def test_the_next_cursor_and_the_end_of_a_listing(payload: dict, cursor: str | None) -> None:
    assert next_cursor_of(payload) == cursor


@pytest.mark.parametrize(("count", "credits"), [(0, 0), (1, 1), (10, 1), (11, 2), (300, 30)])
def test_a_page_costs_one_credit_per_ten_results_rounded_up(count: int, credits: int) -> None:
    payload = {"status": "success", "data": {"messages": [{}] * count}}
    assert provider().conversation_page(payload).credits == credits


# --- errors ---------------------------------------------------------------------------------


def test_a_success_body_is_returned() -> None:
    payload = load_fixture("linkup_v1_conversation.json")
    assert provider().check(response(200, payload), route=Route.CONVERSATION) == payload


def test_an_expired_login_token_on_http_200_names_the_setting_in_one_line() -> None:
    body = {"status": "error", "message": "Invalid login_token: session expired"}
    with pytest.raises(ProviderError) as raised:
        provider().check(response(200, body), route=Route.INBOX)
    assert not isinstance(raised.value, ConversationGoneError)
    assert str(raised.value) == (
        "linkup_v1: error (HTTP 200): Invalid login_token: session expired - check the "
        "`login_token` setting (renew it with LinkupAPI's v1 login/verify flow)"
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"status": "error", "message": "Invalid API key"}),
        (403, {"status": "error", "error": "Forbidden"}),
        (200, {"status": "error", "error": {"code": "UNAUTHORIZED", "message": "Bad API key"}}),
        (401, b"<html>Unauthorized</html>"),
    ],
)
def test_a_rejected_api_key_names_the_api_key_setting(status: int, body: Any) -> None:
    with pytest.raises(ProviderError, match=r"check the `api_key` setting$") as raised:
        provider().check(response(status, body), route=Route.INBOX)
    assert str(raised.value).startswith("linkup_v1: ")
    assert f"(HTTP {status})" in str(raised.value)


def test_an_error_code_and_text_are_both_shown() -> None:
    body = {"status": "error", "error": {"code": "INVALID_COOKIE", "message": "Cookie expired"}}
    with pytest.raises(ProviderError) as raised:
        provider().check(response(200, body), route=Route.INBOX)
    assert str(raised.value).startswith("linkup_v1: INVALID_COOKIE (HTTP 200): Cookie expired - ")
    assert "`login_token`" in str(raised.value)


def test_an_auth_failure_naming_no_credential_points_at_both() -> None:
    body = {"status": "error", "message": "Unauthorized"}
    with pytest.raises(ProviderError) as raised:
        provider().check(response(200, body), route=Route.INBOX)
    assert str(raised.value) == (
        "linkup_v1: error (HTTP 200): Unauthorized - check the `api_key` and `login_token` settings"
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b'{"status": "success", "data": {"conv'),  # cut off half-way
        (200, b"<html>Bad gateway</html>"),
        (429, {"status": "error", "message": "Too many requests"}),
        (500, {"status": "error", "message": "Internal server error"}),
        (502, b""),
        (200, {"status": "error", "message": "Rate limit exceeded for this API key"}),
        (200, {"status": "error", "message": "LinkedIn is unavailable, please try again later"}),
    ],
)
def test_transient_failures_are_retriable(status: int, body: Any) -> None:
    with pytest.raises(RetriableAPIError) as raised:
        provider().check(response(status, body), route=Route.INBOX)
    assert str(raised.value).startswith("linkup_v1: ")


def test_a_conversation_that_no_longer_exists_is_gone_only_when_reading_messages() -> None:
    body = {"status": "error", "message": "Conversation not found"}
    with pytest.raises(ConversationGoneError, match=r"^linkup_v1: error \(HTTP 200\)"):
        provider().check(response(200, body), route=Route.CONVERSATION)
    with pytest.raises(ProviderError) as raised:
        provider().check(response(200, body), route=Route.INBOX)
    assert not isinstance(raised.value, ConversationGoneError)


def test_any_other_error_stops_the_run_naming_the_provider_and_the_error() -> None:
    body = {"status": "error", "message": "Insufficient credits"}
    with pytest.raises(ProviderError) as raised:
        provider().check(response(200, body), route=Route.CONVERSATION)
    assert str(raised.value) == (
        "linkup_v1: error (HTTP 200): Insufficient credits - "
        "top up LinkupAPI credits; the next run resumes from the bookmark"
    )
    with pytest.raises(ProviderError, match=r"check the tap settings$"):
        provider().check(
            response(400, {"status": "error", "message": "Bad category"}), route=Route.INBOX
        )
    # Out of credits is not retried (v1 bills every failed call), "try again" or not.
    polite = {"status": "error", "message": "Not enough credits, please try again later"}
    with pytest.raises(ProviderError, match="top up LinkupAPI credits") as raised:
        provider().check(response(200, polite), route=Route.INBOX)
    assert not isinstance(raised.value, RetriableAPIError)


def test_error_text_is_one_line_and_never_holds_a_secret() -> None:
    text = "rejected:\nv1-key-secret\n\tand li-at-secret " + "x" * 1000
    with pytest.raises(ProviderError) as raised:
        provider().check(response(200, {"status": "error", "message": text}), route=Route.INBOX)
    line = str(raised.value)
    assert "\n" not in line
    assert "\t" not in line
    assert "secret" not in line
    assert len(line) < 500


@pytest.mark.parametrize(("status", "credits"), [(200, 1), (401, 1), (429, 1), (500, 0)])
def test_a_failed_call_is_billed_except_a_500(status: int, credits: int) -> None:
    """v1 "charges credits on every status except 500"
    (https://docs.linkupapi.com/api-reference/introduction)."""
    answer = response(status, {"status": "error", "message": "nope"})
    _, failure = provider().answer(answer, route=Route.INBOX, first_page=True)
    assert failure is not None
    assert provider().credits_for_failure(failure) == credits


def test_the_ledger_bills_failed_calls_as_linkupapi_does() -> None:
    """A rate-limited call is retried, and billed: the ledger adds up to the provider's bill."""
    from tests.emulators.linkup_v1 import LinkupV1Emulator
    from tests.emulators.server import Fault

    with LinkupV1Emulator(
        SyntheticInbox.generate(seed=66, conversations=3, messages=2)
    ) as emulator:
        emulator.inject(
            Fault(route=Route.CONVERSATION, reply=emulator.error_reply("rate_limited")),
            Fault(route=Route.INBOX, reply=emulator.error_reply("server_error")),
        )
        output = run_tap(emulator.config())
        billed = emulator.credits
    assert output.tap is not None
    ledger = output.tap.streams["conversations"].ledger  # type: ignore[attr-defined]
    assert billed == 1 + 3 + 1  # one inbox page, three conversations, the 429 (not the 500)
    assert ledger.total == billed
