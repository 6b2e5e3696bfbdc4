"""`make bench`, scenario 6: many accounts in one run (an agency's or a sales team's).

500 LinkupAPI accounts behind one key, each a small inbox (3 conversations of 4
messages), read in one run, then read again unchanged; beside them, one account holding
the same 1,500 conversations. What an account costs beyond its own requests is the run's
wall time less the time its requests took (the SDK's `http_request_duration` metrics, in
the tap's log) less the tap's start and end (a one-account run that makes one request).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.emulators.server import Call

ACCOUNTS = 500
CONVERSATIONS = 3
MESSAGES = 4
SPACING_MS = 3 * 60_000
REQUEST_SECONDS = re.compile(r'"metric":"http_request_duration","value":([0-9.e-]+)')


class ManyAccountsEmulator(LinkupEmulator):
    """One LinkupAPI key serving many accounts, each its own inbox (the tap asks one
    request at a time here: the account a request names is the one served)."""

    def __init__(self, inboxes: dict[str, SyntheticInbox]) -> None:
        first = next(iter(inboxes))
        super().__init__(inboxes[first], api_key="bench-many-accounts", account_id=first)
        self.inboxes = inboxes

    def route(self, call: Call) -> str:
        body = call.body if isinstance(call.body, dict) else {}
        account = str(body.get("account_id"))
        if account in self.inboxes:
            self.inbox, self.account_id = self.inboxes[account], account
        return super().route(call)


def request_seconds(workdir: Path) -> float:
    """The time the last run's requests took, from the SDK's metrics in its log."""
    log = (workdir / "tap.log").read_text()
    return sum(float(value) for value in REQUEST_SECONDS.findall(log))


def benchmark_accounts(workdir: Path, run_tap: Callable[..., Any]) -> dict[str, Any]:
    """The 500-account runs and their one-account yardsticks (`run_tap`: `run.py`'s)."""
    inboxes = {
        f"acc_{number:03}": SyntheticInbox.generate(
            seed=1000 + number,
            conversations=CONVERSATIONS,
            messages=MESSAGES,
            spacing_ms=SPACING_MS,
        )
        for number in range(ACCOUNTS)
    }
    settings = {"accounts": [{"account_id": account_id} for account_id in inboxes]}
    result: dict[str, Any] = {"accounts": ACCOUNTS}
    many = ManyAccountsEmulator(inboxes).start()
    try:
        full = run_tap(many, workdir, settings=settings, page_size=100)
        result["full"], result["full_request_s"] = full, request_seconds(workdir)
        unchanged = run_tap(many, workdir, state=full.state, settings=settings, page_size=100)
        result["unchanged"] = unchanged
        result["unchanged_request_s"] = request_seconds(workdir)
    finally:
        many.stop()

    one_inbox = SyntheticInbox.generate(
        seed=999,
        conversations=ACCOUNTS * CONVERSATIONS,
        messages=MESSAGES,
        spacing_ms=SPACING_MS,
    )
    single = LinkupEmulator(one_inbox).start()
    try:
        one = run_tap(single, workdir, page_size=100)
        result["one"] = one
        idle = run_tap(single, workdir, state=one.state, page_size=100)
        result["start_and_end_s"] = idle.seconds - request_seconds(workdir)
    finally:
        single.stop()
    return result


def render_accounts(result: dict[str, Any]) -> list[str]:
    accounts, start = result["accounts"], result["start_and_end_s"]
    full, unchanged, one = result["full"], result["unchanged"], result["one"]
    state_kb = len(json.dumps(full.state, separators=(",", ":"))) / 1000

    def beyond(run: Any, requests_s: float) -> float:
        return 1000 * (run.seconds - requests_s - start) / accounts

    return [
        "",
        f"## 6. {accounts} accounts in one run ({CONVERSATIONS} conversations of {MESSAGES} "
        "messages each, LinkupAPI)",
        "",
        "Time beyond requests: the run's wall time less its requests' time (the SDK's "
        f"`http_request_duration` metrics) less the tap's start and end ({start:.2f} s, "
        "measured on a one-account run of one request), per account.",
        "",
        "| run | records | requests | seconds | of which requests | ms per account beyond "
        "its requests | peak RSS MB | state KB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {accounts} accounts, first run | {full.records:,} | {full.requests:,} | "
        f"{full.seconds:.1f} | {result['full_request_s']:.1f} | "
        f"{beyond(full, result['full_request_s']):.1f} | {full.peak_rss_mb:.0f} | "
        f"{state_kb:,.1f} |",
        f"| {accounts} accounts, nothing changed | {unchanged.records:,} | "
        f"{unchanged.requests:,} | {unchanged.seconds:.1f} | "
        f"{result['unchanged_request_s']:.1f} | "
        f"{beyond(unchanged, result['unchanged_request_s']):.1f} | "
        f"{unchanged.peak_rss_mb:.0f} | - |",
        f"| 1 account, the same {accounts * CONVERSATIONS:,} conversations | "
        f"{one.records:,} | {one.requests:,} | {one.seconds:.1f} | - | - | "
        f"{one.peak_rss_mb:.0f} | - |",
        "",
        f"The state holds one partition per account and stream: {1000 * state_kb / accounts:,.0f} "
        "bytes per account.",
    ]
