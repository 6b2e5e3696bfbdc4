"""`max_concurrent_requests`: several conversations at once, same records, same order."""

from __future__ import annotations

import time

from tests.conftest import run_tap
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator, error
from tests.emulators.server import Fault


def message_order(output) -> list[str]:
    return [r["message_id"] for r in output.of("messages")]


def test_concurrent_fetches_emit_the_same_records_in_the_same_order_faster() -> None:
    inbox = SyntheticInbox.generate(seed=61, conversations=24, messages=lambda i: 3 + i % 7)
    with LinkupEmulator(inbox, latency=0.05) as emulator:
        started = time.monotonic()
        sequential = run_tap(emulator.config(page_size=5))
        sequential_seconds = time.monotonic() - started
        emulator.reset_counters()

        started = time.monotonic()
        concurrent = run_tap(emulator.config(page_size=5, max_concurrent_requests=4))
        concurrent_seconds = time.monotonic() - started

    assert message_order(concurrent) == message_order(sequential)
    assert concurrent.of("conversations") == sequential.of("conversations")
    assert concurrent.state["bookmarks"] == sequential.state["bookmarks"]
    assert concurrent.tap is not None
    gate = concurrent.tap.streams["messages"].gate  # type: ignore[attr-defined]
    assert 2 <= gate.peak <= 4
    # Not a benchmark (that is `make bench`): only that the fetches did overlap.
    assert concurrent_seconds < sequential_seconds * 0.6


def test_a_rate_limit_holds_back_every_worker() -> None:
    inbox = SyntheticInbox.generate(seed=62, conversations=8, messages=2)
    with LinkupEmulator(inbox) as emulator:
        limited = error(429, "RATE_LIMITED", "Slow down")
        limited.headers["Retry-After"] = "1"
        emulator.inject(
            Fault(route="get_conversation"), Fault(route="get_conversation", reply=limited)
        )
        output = run_tap(emulator.config(max_concurrent_requests=4))
        calls = emulator.calls
    assert len(output.of("messages")) == inbox.message_count()
    rejected = next(call for call in calls if call.status == 429)
    # Once the 429 was seen, no worker sent anything until its Retry-After had passed.
    held_back = [c for c in calls if rejected.at + 0.05 < c.at < rejected.at + 0.95]
    assert held_back == []
    assert max(c.at for c in calls) >= rejected.at + 0.95


def test_concurrency_with_incremental_runs_and_a_vanished_conversation() -> None:
    inbox = SyntheticInbox.generate(seed=63, conversations=10, messages=4)
    with LinkupEmulator(inbox) as emulator:
        config = emulator.config(page_size=4, max_concurrent_requests=3)
        first = run_tap(config)
        threads = list(inbox.conversations)
        added = [inbox.add_message(t) for t in (threads[1], threads[4], threads[7])]
        emulator.inject(
            Fault(route="get_conversation", reply=emulator.error_reply("conversation_gone"))
        )
        second = run_tap(config, state=first.state)
        (vanished,) = [c.thread_id for c in emulator.calls if c.status == 404]
    # The conversation that vanished is skipped; the other two arrive.
    assert sorted(r["message_id"] for r in second.of("messages")) == sorted(
        inbox.message_urn(m) for m in added if m.thread_id != vanished
    )
    assert len(second.of("messages")) == 2
