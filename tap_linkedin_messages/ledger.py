"""The credit ledger: what a run has cost, per stream and per account, against the
`max_credits` budget; and what each account gave (records), for the run's summary."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter

from singer_sdk.metrics import get_metrics_logger

from tap_linkedin_messages.providers import ProviderError


class CreditBudgetError(ProviderError):
    """The next request could take the run past `max_credits`."""


class CreditLedger:
    """Credits and requests per stream and per account, and records per account, shared
    by both streams of one tap run."""

    def __init__(self, provider: str, max_credits: int | None) -> None:
        self.provider = provider
        self.max_credits = max_credits
        self.credits: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.account_credits: Counter[str] = Counter()
        self.account_requests: Counter[str] = Counter()
        self.account_records: Counter[str] = Counter()
        # Worker threads book and check concurrently.
        self._lock = threading.Lock()
        self._reserved = 0

    @property
    def total(self) -> int:
        return sum(self.credits.values())

    def authorize(self, stream: str, worst_case: int) -> int:
        """Reserve a request's worst-case cost (returned), or refuse it past the budget.

        Reserving, not just checking, keeps concurrent requests from all passing the
        check before any of them is booked.
        """
        if self.max_credits is None:
            return 0
        with self._lock:
            if self.total + self._reserved + worst_case <= self.max_credits:
                self._reserved += worst_case
                return worst_case
        self._refuse(stream, worst_case)
        return 0  # not reached

    def charge(self, stream: str, account: str, credits: int, *, reserved: int = 0) -> None:
        """Book one response, releasing what `authorize` reserved for it."""
        with self._lock:
            self.requests[stream] += 1
            self.credits[stream] += credits
            self.account_requests[account] += 1
            self.account_credits[account] += credits
            self._reserved -= reserved

    def costs_of(self, stream: str) -> dict[str, int]:
        """A stream's requests and credits so far."""
        return {"requests": self.requests[stream], "credits": self.credits[stream]}

    def emitted(self, account: str) -> None:
        """Book one record emitted for an account (the streams do, in the main thread)."""
        self.account_records[account] += 1

    def _refuse(self, stream: str, worst_case: int) -> None:
        msg = (
            f"{self.provider}: stopped before a {stream} request that could cost {worst_case} "
            f"credit(s): {self.total} of `max_credits` ({self.max_credits}) used. Everything "
            "read so far was emitted and the bookmarks were not advanced; run again (with a "
            "larger `max_credits`, or after the budget resets) to continue from the same point"
        )
        raise CreditBudgetError(msg)

    def report(self, logger: logging.Logger) -> None:
        """One log line with the totals, and the same as a Singer metric."""
        per_stream = ", ".join(f"{name} {count}" for name, count in sorted(self.credits.items()))
        logger.info(
            "Credits used: %d (%s) in %d requests to %s",
            self.total,
            per_stream or "none",
            sum(self.requests.values()),
            self.provider,
        )
        point = {
            "type": "counter",
            "metric": "credits_consumed",
            "value": self.total,
            "tags": {
                "provider": self.provider,
                **{f"{k}_credits": v for k, v in self.credits.items()},
            },
        }
        get_metrics_logger().info("METRIC: %s", json.dumps(point, separators=(",", ":")))
