"""The record constructors mirror `schemas/*.json`, field for field."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest

from tap_linkedin_messages import records
from tests.conftest import REPO

SCHEMAS = REPO / "schemas"
#: Fields the streams add to every record (not the adapters' business).
ADDED_BY_THE_STREAMS = {"account_id", "provider"}
#: Added to messages from their conversation (the stream's context, or the listing).
ADDED_TO_MESSAGES = {"conversation_id", "thread_id"}


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def fields_of(constructor) -> set[str]:
    return set(inspect.signature(constructor).parameters)


def test_each_constructor_has_exactly_the_schema_fields() -> None:
    conversations, messages = schema("conversations"), schema("messages")
    expected: dict[Callable[..., dict[str, Any]], set[str]] = {
        records.conversation: set(conversations["properties"]) - ADDED_BY_THE_STREAMS,
        records.message: set(messages["properties"]) - ADDED_BY_THE_STREAMS - ADDED_TO_MESSAGES,
        records.sender: set(messages["properties"]["sender"]["properties"]),
        records.participant: set(
            conversations["properties"]["participants"]["items"]["properties"]
        ),
        records.last_message: set(conversations["properties"]["last_message"]["properties"]),
        records.attachment: set(messages["properties"]["attachments"]["items"]["properties"]),
        records.reaction: set(messages["properties"]["reactions"]["items"]["properties"]),
    }
    for constructor, names in expected.items():
        assert fields_of(constructor) == names, constructor.__name__
        # And the dict it builds has the same keys, whatever is left out.
        required = {
            name: None
            for name, parameter in inspect.signature(constructor).parameters.items()
            if parameter.default is inspect.Parameter.empty
        }
        assert set(constructor(**required)) == names, constructor.__name__


def test_a_listed_message_carries_what_its_conversation_is_derived_from() -> None:
    message = records.message(message_id="m", sent_at="2026-01-01T00:00:00.000Z")
    listed = records.listed(message, conversation_id="2-a", thread_id="2-a", category="INBOX")
    assert listed["conversation_id"] == listed["thread_id"] == "2-a"
    assert listed["conversation"] == {
        "title": None,
        "category": "INBOX",
        "folder": None,
        "type": None,
        "participants": [],
        "mailbox": None,
        "last_read_at": None,
    }


@pytest.mark.parametrize(
    ("unread_count", "flag", "expected"),
    [(0, None, True), (3, None, False), (None, None, None), (0, False, False), (3, True, True)],
)
def test_is_read_is_the_providers_flag_else_whether_nothing_is_unread(
    unread_count: int | None, flag: bool | None, expected: bool | None
) -> None:
    record = records.conversation(
        conversation_id="c", last_activity_at=None, unread_count=unread_count, is_read=flag
    )
    assert record["is_read"] is expected
