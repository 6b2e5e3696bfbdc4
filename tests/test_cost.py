"""Paying only for what changed: early stop, page growth, lookback, the ledger, the budget."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tap_linkedin_messages.ledger import CreditBudgetError
from tap_linkedin_messages.normalize import ms_to_rfc3339
from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.conftest import SyncOutput, captured_stdout, run_cli, run_tap
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator
from tests.emulators.server import Fault

if TYPE_CHECKING:
    from pathlib import Path


def counts_asked(emulator: LinkupEmulator, route: str) -> list[int]:
    return [call.body["params"]["count"] for call in emulator.calls if call.route == route]


def test_incremental_pages_start_at_the_billing_unit_and_grow_slowly(
    linkup: LinkupEmulator, inbox: SyntheticInbox
) -> None:
    first = run_tap(linkup.config(page_size=100))
    assert set(counts_asked(linkup, "list_inbox")) == {100}  # a full sync: the largest page
    threads = list(inbox.conversations)
    small = [inbox.add_message(threads[4]) for _ in range(25)]
    backlog = [inbox.add_message(threads[6]) for _ in range(400)]
    linkup.reset_counters()

    second = run_tap(linkup.config(page_size=100), state=first.state)

    assert {r["message_id"] for r in second.of("messages")} == {
        inbox.message_urn(m) for m in small + backlog
    }
    assert counts_asked(linkup, "list_inbox") == [10]

    def asked(thread_id: str) -> list[int]:
        return [
            call.body["params"]["count"]
            for call in linkup.calls
            if call.route == "get_conversation" and call.thread_id == thread_id
        ]

    # 25 new messages + the one older that shows where to stop: 3 pages of 10, 3 credits.
    assert asked(threads[4]) == [10, 10, 10]
    # A backlog: pages a tenth of what was read so far, in tens, up to page_size.
    backlog_pages = asked(threads[6])
    assert backlog_pages[:13] == [10] * 13  # until 130 items are read
    assert backlog_pages == sorted(backlog_pages)
    assert 20 <= max(backlog_pages) <= 100
    assert len(backlog_pages) < 30
    # Paid: at most a tenth over the minimum (every new item and one older, per listing).
    minimum = 1 + 3 + 41
    assert minimum <= linkup.credits <= minimum * 1.1


def test_an_unchanged_inbox_costs_one_request_and_one_credit(
    linkup: LinkupEmulator,
) -> None:
    first = run_tap(linkup.config())
    linkup.reset_counters()
    second = run_tap(linkup.config(), state=first.state)
    assert second.records == {}
    assert linkup.count() == 1
    assert linkup.credits == 1


@pytest.mark.parametrize(("lookback_minutes", "found"), [(10, True), (0, False)])
def test_lookback_finds_a_message_the_provider_listed_late(
    linkup: LinkupEmulator, inbox: SyntheticInbox, lookback_minutes: int, found: bool
) -> None:
    config = linkup.config(lookback_minutes=lookback_minutes)
    first = run_tap(config)
    newest = max(c.last_activity_ms for c in inbox.conversations.values())
    # Indexed after the first run, but stamped 4 minutes before its bookmark.
    quiet_thread = min(inbox.conversations.values(), key=lambda c: c.last_activity_ms).thread_id
    late = inbox.add_message(quiet_thread, sent_at_ms=newest - 4 * 60_000)

    second = run_tap(config, state=first.state)

    emitted = [r["message_id"] for r in second.of("messages")]
    assert emitted == ([inbox.message_urn(late)] if found else [])
    if found:
        # Only the late message: the conversation's older messages are not emitted again.
        (conversation,) = second.of("conversations")
        assert conversation["last_activity_at"] == ms_to_rfc3339(late.sent_at_ms)


def test_the_ledger_equals_what_the_provider_billed(
    linkup: LinkupEmulator, inbox: SyntheticInbox, tmp_path: Path
) -> None:
    output = run_tap(linkup.config(page_size=4))
    assert output.tap is not None
    ledger = output.tap.streams["conversations"].ledger  # type: ignore[attr-defined]
    by_route = {
        "conversations": sum(c.credits for c in linkup.calls if c.route == "list_inbox"),
        "messages": sum(c.credits for c in linkup.calls if c.route == "get_conversation"),
    }
    assert dict(ledger.credits) == by_route
    assert ledger.total == linkup.credits > 0

    linkup.reset_counters()
    run = run_cli(tmp_path, linkup.config(page_size=4))
    metrics = [
        json.loads(line.split("METRIC: ", 1)[1])
        for line in run.stderr.splitlines()
        if '"metric":"credits_consumed"' in line
    ]
    assert [m["value"] for m in metrics] == [linkup.credits]
    summary = [line for line in run.stderr.splitlines() if "Credits used:" in line]
    assert len(summary) == 1
    assert f"Credits used: {linkup.credits} (" in summary[0]
    # And the SDK's own line for the stream that logs at INFO (the messages stream's
    # logger shows its per-conversation detail only at DEBUG), from the same ledger.
    (per_stream,) = [line for line in run.stderr.splitlines() if "Total Sync costs" in line]
    costs = {"requests": linkup.count("list_inbox"), "credits": linkup.credits_of("list_inbox")}
    assert per_stream.endswith(f"Total Sync costs for stream conversations: {costs}")


def test_max_credits_stops_before_the_budget_and_a_rerun_loses_nothing(
    linkup: LinkupEmulator, inbox: SyntheticInbox, tmp_path: Path
) -> None:
    config = linkup.config(page_size=10, max_credits=5)
    tap = TapLinkedInMessages(config=config)
    with captured_stdout() as buffer, pytest.raises(CreditBudgetError, match="max_credits"):
        tap.sync_all()
    partial = SyncOutput.parse(buffer.getvalue())
    assert linkup.credits <= 5
    assert 0 < len(partial.of("messages")) < inbox.message_count()
    # No bookmark was promoted: the next run starts where this one started.
    for state in partial.states:
        for stream_state in state.get("bookmarks", {}).values():
            for partition in stream_state.get("partitions", []):
                assert "replication_key_value" not in partition

    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    (line,) = [line for line in run.stderr.splitlines() if "max_credits" in line]
    assert "run again" in line

    rerun = run_tap(linkup.config(), state=partial.state)
    everything = {r["message_id"] for r in partial.of("messages") + rerun.of("messages")}
    assert everything == {
        inbox.message_urn(m) for c in inbox.conversations.values() for m in c.messages
    }


def test_conversations_skipped_as_gone_leave_nothing_reserved_against_max_credits() -> None:
    """Each request reserves its worst case (a full page, 10 credits here) against
    `max_credits`; a conversation answered 404 is skipped, and its reservation freed."""
    inbox = SyntheticInbox.generate(seed=64, conversations=6, messages=2)
    with LinkupEmulator(inbox) as linkup:
        gone = linkup.error_reply("conversation_gone")
        linkup.inject(*[Fault(route="get_conversation", reply=gone) for _ in range(4)])
        # Cost: 1 (inbox) + 4 (each 404 asks the inbox again, one page of 10: 1 credit)
        # + 2 (two conversations of 2 messages); errors cost nothing. The last request
        # reserves 10 on top of 6 spent. Four leaked reservations (40) would refuse a
        # request long before that.
        output = run_tap(linkup.config(page_size=100, max_credits=16))
        billed = linkup.credits
    assert len(output.of("messages")) == 4
    assert billed == 7
