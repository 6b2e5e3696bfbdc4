"""The shared value normalisers every provider's records go through."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tap_linkedin_messages.normalize import (
    datetime_to_rfc3339,
    iso_to_rfc3339,
    ms_to_rfc3339,
    profile_key,
    rfc3339_to_ms,
    thread_id_from_urn,
)


@pytest.mark.parametrize(
    ("epoch_ms", "expected"),
    [
        (1777147641366, "2026-04-25T20:07:21.366Z"),
        ("1777146285823", "2026-04-25T19:44:45.823Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (None, None),
    ],
)
def test_epoch_milliseconds_become_rfc3339_utc_with_milliseconds(epoch_ms, expected) -> None:
    assert ms_to_rfc3339(epoch_ms) == expected


def test_round_trip_is_exact_for_every_millisecond_of_a_second() -> None:
    base = 1777147641000
    for offset in range(1000):
        assert rfc3339_to_ms(ms_to_rfc3339(base + offset)) == base + offset  # type: ignore[arg-type]


def test_datetimes_and_iso_strings_share_the_millisecond_form() -> None:
    moment = datetime(2026, 4, 25, 22, 7, 21, 366999, tzinfo=timezone(timedelta(hours=2)))
    assert datetime_to_rfc3339(moment) == "2026-04-25T20:07:21.366Z"
    assert iso_to_rfc3339("2026-04-25T20:07:21.366+00:00") == "2026-04-25T20:07:21.366Z"
    assert iso_to_rfc3339("2026-04-25T20:07:21Z") == "2026-04-25T20:07:21.000Z"


@pytest.mark.parametrize(
    ("conversation_id", "thread_id"),
    [
        ("urn:li:msg_conversation:(urn:li:fsd_profile:ACoAA...,2-MDZi==)", "2-MDZi=="),
        ("urn:li:messagingThread:2-ODFkYjU4M2I=", "2-ODFkYjU4M2I="),
        ("2-ODFkYjU4M2I=", "2-ODFkYjU4M2I="),
        # LinkedIn's compliance examples show `0-` threads (Sales Navigator).
        (
            "urn:li:messagingThread:0-UzY2MDM0NDI5OTQyNjU4MTI5OTJfMTAwMA==",
            "0-UzY2MDM0NDI5OTQyNjU4MTI5OTJfMTAwMA==",
        ),
        ("chat_8a7b6c", None),
        ("linkedin-export-2018:9f86d081884c7d659a2feaa0", None),
        (None, None),
    ],
)
def test_thread_id_is_found_in_every_urn_form(conversation_id, thread_id) -> None:
    assert thread_id_from_urn(conversation_id) == thread_id


def test_profile_urls_compare_equal_across_provider_spellings() -> None:
    assert profile_key("https://www.linkedin.com/in/Jane-Doe-42/") == profile_key(
        "http://linkedin.com/in/jane-doe-42?trk=x"
    )
    assert profile_key("https://www.linkedin.com/in/jane") != profile_key(
        "https://www.linkedin.com/in/john"
    )
