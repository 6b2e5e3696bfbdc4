"""Runs where only `messages` is selected: the parent is read but not emitted.

The SDK keeps no bookmark for a stream that is not selected, so the conversations
listing stops at the messages' bookmark instead; the lookback window and the credit
report work as in a full selection.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.conftest import SyncOutput, run_tap, set_fork_mode
from tests.emulators import SOURCES, emulator_class
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator


def selecting(config: dict[str, Any], *streams: str) -> dict[str, Any]:
    """The tap's catalog with only `streams` selected."""
    catalog = TapLinkedInMessages(config=config).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run(config: dict[str, Any], state: dict[str, Any] | None = None) -> SyncOutput:
    return run_tap(config, state, catalog=selecting(config, "messages"))


def test_only_messages_selected_reads_only_what_changed(caplog: pytest.LogCaptureFixture) -> None:
    inbox = SyntheticInbox.generate(seed=91, conversations=8, messages=4)
    with LinkupEmulator(inbox) as emulator:
        config = emulator.config(page_size=5)
        with caplog.at_level(logging.INFO):
            first = run(config)
        assert set(first.records) == {"messages"}
        assert len(first.of("messages")) == inbox.message_count()
        # The credit report is made at the end of every run, whatever is selected.
        reports = [r.getMessage() for r in caplog.records if "Credits used:" in r.getMessage()]
        routes = emulator.routes()
        assert reports == [
            f"Credits used: {emulator.credits} (conversations {routes['list_inbox']}, "
            f"messages {routes['get_conversation']}) in {emulator.count()} requests to linkup"
        ]

        threads = list(inbox.conversations)
        added = [inbox.add_message(threads[3]), inbox.add_message(threads[5])]
        emulator.reset_counters()
        second = run(config, first.state)
        assert sorted(r["message_id"] for r in second.of("messages")) == sorted(
            inbox.message_urn(m) for m in added
        )
        # The listing stopped at the messages' bookmark: one inbox page, two conversations.
        assert emulator.routes() == {"list_inbox": 1, "get_conversation": 2}

        emulator.reset_counters()
        third = run(config, second.state)
        assert third.records == {}
        assert emulator.routes() == {"list_inbox": 1}

    conversations = third.state["bookmarks"]["conversations"]["partitions"][0]
    assert "replication_key_value" not in conversations  # not selected: no bookmark
    # The window holds the conversations the second run read within the lookback.
    assert set(conversations["lookback_window"]) <= {
        inbox.conversation_urn(threads[3]),
        inbox.conversation_urn(threads[5]),
    }


@pytest.mark.parametrize("provider", sorted(SOURCES))
@pytest.mark.parametrize(
    ("first_only", "then"), [("conversations", "messages"), ("messages", "conversations")]
)
def test_a_stream_selected_again_gets_everything_it_never_emitted(
    provider: str, first_only: str, then: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with one stream selected keeps state for what that stream emitted (its
    bookmark, the lookback window, a source's position): before, the other stream,
    selected again, took it for its own, and never emitted the messages of unchanged
    conversations, or the conversations of the window (all of them, for the archives)."""
    set_fork_mode(monkeypatch, "in-process")
    inbox = SyntheticInbox.generate(seed=5, conversations=12, messages=3, spacing_ms=60_000)
    emulator = emulator_class(provider)(inbox).start()
    try:
        config = emulator.config()
        first = run_tap(config, catalog=selecting(config, first_only))
        assert set(first.records) == {first_only}
        both = run_tap(config, first.state, catalog=selecting(config, first_only, then))
        again = run_tap(config, both.state, catalog=selecting(config, first_only, then))
    finally:
        emulator.stop()
    expected = {"conversations": len(inbox.conversations), "messages": inbox.message_count()}
    emitted = {r["message_id" if then == "messages" else "conversation_id"] for r in both.of(then)}
    assert len(emitted) == expected[then]
    assert again.records == {}  # and the state both streams kept then is whole
