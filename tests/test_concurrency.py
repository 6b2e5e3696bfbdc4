"""`max_concurrent_requests`: several conversations at once, same records, same order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from tap_linkedin_messages import concurrency
from tap_linkedin_messages.concurrency import RequestGate
from tests.conftest import run_tap
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator, error
from tests.emulators.server import Call, Fault, Reply


def message_order(output) -> list[str]:
    return [r["message_id"] for r in output.of("messages")]


class CountingLinkup(LinkupEmulator):
    """Counts the requests it is serving at once, server side.

    A request counts from the moment it has been read (`route`) until its answer is ready
    (`answer`), before that answer is sent back: a client that waits for each answer
    before it sends its next request is never seen with two requests in flight.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counting = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def route(self, call: Call) -> str:
        with self._counting:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        return super().route(call)

    def answer(self, call: Call) -> Reply:
        try:
            return super().answer(call)
        finally:
            with self._counting:
                self.in_flight -= 1

    def reset_counters(self) -> None:
        super().reset_counters()
        with self._counting:
            self.most_in_flight = self.in_flight


def test_concurrent_fetches_emit_the_same_records_in_the_same_order() -> None:
    inbox = SyntheticInbox.generate(seed=61, conversations=24, messages=lambda i: 3 + i % 7)
    # The latency keeps each request open long enough for the workers' requests to meet.
    with CountingLinkup(inbox, latency=0.05) as emulator:
        sequential = run_tap(emulator.config(page_size=5))
        sequential_most = emulator.most_in_flight
        emulator.reset_counters()
        concurrent = run_tap(emulator.config(page_size=5, max_concurrent_requests=4))
        concurrent_most = emulator.most_in_flight
        assert emulator.in_flight == 0  # every request counted was answered

    assert message_order(concurrent) == message_order(sequential)
    assert len(message_order(concurrent)) == inbox.message_count()
    assert concurrent.of("conversations") == sequential.of("conversations")
    assert concurrent.state["bookmarks"] == sequential.state["bookmarks"]
    # Seen by the provider: one request at a time by default; with 4, the requests
    # overlapped, never more than 4 at once.
    assert sequential_most == 1
    assert 2 <= concurrent_most <= 4
    # And by the tap's own request gate.
    assert sequential.tap is not None
    assert concurrent.tap is not None
    assert sequential.tap.streams["messages"].gate.peak == 1  # type: ignore[attr-defined]
    assert 2 <= concurrent.tap.streams["messages"].gate.peak <= 4  # type: ignore[attr-defined]


@contextmanager
def gate_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, float]]]:
    """What the request gate did, in order, by thread: `pause` (a rate limit set a pause
    of so many seconds), `request` (a request asked for a slot) and `held` (the gate
    made that request wait out a pause, of so many seconds). The gate behaves as ever:
    each hook calls through to the real one, and `held` still really sleeps."""
    events: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def note(what: str, seconds: float = 0.0) -> None:
        with lock:
            events.append((what, threading.current_thread().name, seconds))

    real_pause, real_slot = RequestGate.pause, RequestGate.slot

    def pause(gate: RequestGate, seconds: float) -> None:
        real_pause(gate, seconds)
        note("pause", seconds)  # after the pause is set: whatever follows sees it

    @contextmanager
    def slot(gate: RequestGate) -> Iterator[None]:
        note("request")
        with real_slot(gate):
            yield

    def sleep(seconds: float) -> None:
        note("held", seconds)
        time.sleep(seconds)

    monkeypatch.setattr(RequestGate, "pause", pause)
    monkeypatch.setattr(RequestGate, "slot", slot)
    # Only the gate sleeps through `concurrency.time`.
    monkeypatch.setattr(concurrency, "time", SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
    yield events


def test_a_rate_limit_holds_back_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # Four pages per conversation: when one worker is told to slow down, the others are
    # still in the middle of theirs.
    inbox = SyntheticInbox.generate(seed=62, conversations=8, messages=16)
    with LinkupEmulator(inbox, latency=0.02) as emulator, gate_events(monkeypatch) as events:
        limited = error(429, "RATE_LIMITED", "Slow down")
        limited.headers["Retry-After"] = "1"
        emulator.inject(
            Fault(route="get_conversation"), Fault(route="get_conversation", reply=limited)
        )
        output = run_tap(emulator.config(page_size=4, max_concurrent_requests=4))
        calls = emulator.calls
    assert sorted(message_order(output)) == sorted(
        inbox.message_urn(m) for c in inbox.conversations.values() for m in c.messages
    )
    assert [c.status for c in calls].count(429) == 1
    # One pause, as long as the Retry-After asked (plus the tap's jitter, up to a quarter),
    # set by the worker that got the 429.
    ((at, (_, paused_by, seconds)),) = [
        (index, event) for index, event in enumerate(events) if event[0] == "pause"
    ]
    assert 1.0 <= seconds <= 1.25
    assert paused_by.startswith("messages")
    # Until that worker's own retry (sent once the pause is over), every request another
    # thread asked to send waited the pause out first.
    retry = next(
        index
        for index, (what, thread, _) in enumerate(events)
        if index > at and what == "request" and thread == paused_by
    )
    held_back = set()
    for index in range(at + 1, retry):
        what, thread, _ = events[index]
        if what == "request" and thread != paused_by:
            then, _, waited = next(event for event in events[index + 1 :] if event[1] == thread)
            assert then == "held", (thread, events)
            assert 0 < waited <= seconds
            held_back.add(thread)
    # The other workers were all mid-conversation: each of them was held back.
    assert len([thread for thread in held_back if thread.startswith("messages")]) >= 2, events
    # And nothing was held back before the rate limit.
    assert all(what != "held" for what, _, _ in events[:at])


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
