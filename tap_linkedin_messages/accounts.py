"""The accounts one run reads, each with its own adapter (its settings over the tap's),
which of their errors are theirs alone, and how each account's read ended.

With `accounts`, an error whose line names a setting the account's entry sets itself (its
`account_id`, its own key, token or `export_path`) is that account's: its read ends, its
bookmarks stay where its last run left them, and the other accounts are read in full.
Any other error (the tap's shared key refused, a budget spent, the provider down) would
fail every account alike, and stops the run at once.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from singer_sdk.metrics import Status, get_metrics_logger
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.providers.base import DEFAULT_ACCOUNT, HttpSource
from tap_linkedin_messages.reads import start_date_floor
from tap_linkedin_messages.redaction import mask_secrets_in_logs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_linkedin_messages.ledger import CreditLedger
    from tap_linkedin_messages.providers import Source

#: A setting an error line tells the user to check: its name in backticks.
NAMED_SETTING = re.compile(r"`([a-z][a-z0-9_]*)`")
#: Up to this many accounts, the run's summary has a line for each; beyond, a line for
#: each failed one (and the total).
SUMMARY_LISTS_EVERY_ACCOUNT_UP_TO = 20


def check_start_date(start_date: str | None) -> None:
    """A `start_date` of the right shape that is no date (`2024-13-45`): one line now,
    not a traceback once the first stream starts."""
    try:
        start_date_floor(start_date)
    except ValueError as error:  # pendulum's ParserError too
        msg = f"{start_date!r} is no date-time ({error}) in config['start_date']"
        raise ProviderError(msg) from None


def check_api_url(source: Source) -> None:
    """An `api_url` of the right shape that no request can go to (a port past 65535)."""
    if not isinstance(source, HttpSource):
        return
    url = source.api_url
    try:
        parse_url(url)
    except LocationParseError:
        shown = source.redact(str(url))
        msg = f"{source.name}: {shown!r} is no URL requests can go to - check the `api_url` setting"
        raise ProviderError(msg) from None


class AccountsFailedError(ProviderError):
    """Some accounts could not be read; the others were, in full."""


class Accounts:
    """Every account's adapter, built and checked once, before the first request; and, as
    the run goes, the accounts whose read failed."""

    def __init__(self, adapter: type[Source], config: Mapping[str, Any]) -> None:
        self.adapter = adapter
        # One account: the tap's settings as they are (no `account_id` set means the
        # provider's default account); several: each entry's over the tap's.
        entries = config.get("accounts") or [{}]
        self._sources: dict[str, Source] = {}
        # The settings only that account has: its entry's (none without `accounts`:
        # then any error is the run's).
        self._own: dict[str, frozenset[str]] = {}
        #: The accounts whose read failed, with the one line that says why.
        self.failed: dict[str, str] = {}
        # A failure met in one conversation's read, for the account's read to end on.
        self._pending: dict[str, ProviderError] = {}
        check_start_date(config.get("start_date"))
        for entry in entries:
            account_id = str(entry.get("account_id") or config.get("account_id") or DEFAULT_ACCOUNT)
            if account_id in self._sources:
                msg = f"the `accounts` setting lists {account_id} twice: give each account once"
                raise ProviderError(msg)
            source = adapter({**config, **entry})
            missing = [key for key in adapter.required_settings if not source.config.get(key)]
            if missing and config.get("accounts"):
                msg = (
                    f"{adapter.name}: the `accounts` entry {account_id} has no "
                    f"{', '.join(f'`{key}`' for key in missing)} (nor has the tap's config)"
                )
                raise ProviderError(msg)
            mask_secrets_in_logs(source.secrets)
            check_api_url(source)
            self._sources[account_id] = source
            self._own[account_id] = frozenset(
                key for key, value in entry.items() if value not in (None, "")
            )

    @property
    def ids(self) -> list[str]:
        """The accounts, in the order the settings list them."""
        return list(self._sources)

    def source(self, account_id: str) -> Source:
        """One account's adapter."""
        return self._sources[account_id]

    # --- failures ----------------------------------------------------------------------

    def owns(self, account_id: str, error: ProviderError) -> bool:
        """Whether an error is one account's alone: its line names a setting that only
        this account's entry sets."""
        return bool(set(NAMED_SETTING.findall(str(error))) & self._own[account_id])

    def put_off(self, account_id: str, error: ProviderError) -> None:
        """An account's error met where its read cannot end (one conversation's read,
        which the SDK runs from the account's own): `pending` hands it over."""
        self._pending[account_id] = error

    def pending(self, account_id: str) -> ProviderError | None:
        """The account's error put off, once."""
        return self._pending.pop(account_id, None)

    def fail(self, account_id: str, error: ProviderError) -> None:
        """Record that an account's read failed, and why."""
        self.failed[account_id] = str(error)

    def check_run(
        self,
        failing: str = "could not be read",
        others: str = "the others were read in full and keep their bookmarks",
    ) -> None:
        """Raise, once every account was tried, if any failed (the run's exit is 1)."""
        if not self.failed:
            return
        msg = (
            f"{self.adapter.name}: {len(self.failed)} of {len(self._sources)} accounts "
            f"{failing} ({', '.join(self.failed)}), each named above with the setting to check"
        )
        if len(self.failed) < len(self._sources):
            msg += f"; {others}"
        raise AccountsFailedError(msg)

    # --- the run's summary ---------------------------------------------------------------

    def report(self, logger: logging.Logger, ledger: CreditLedger) -> None:
        """One line per account (only the failed ones, past a few dozen accounts) and the
        total; and one `account_read` metric per account."""
        ids = self.ids
        listed = (
            ids
            if len(ids) <= SUMMARY_LISTS_EVERY_ACCOUNT_UP_TO
            else [account_id for account_id in ids if account_id in self.failed]
        )
        for account_id in listed:
            error = self.failed.get(account_id)
            logger.log(
                logging.ERROR if error else logging.INFO,
                "Account %s: %s: %s",
                account_id,
                _tally(ledger, [account_id]),
                f"failed - {error}" if error else "ok",
            )
        logger.info(
            "Run summary: %d accounts, %d read in full, %d failed; %s",
            len(ids),
            len(ids) - len(self.failed),
            len(self.failed),
            _tally(ledger, ids),
        )
        metrics = get_metrics_logger()
        for account_id in ids:
            status = Status.FAILED if account_id in self.failed else Status.SUCCEEDED
            point = {
                "type": "counter",
                "metric": "account_read",
                "value": ledger.account_records[account_id],
                "tags": {
                    "provider": self.adapter.name,
                    "account_id": account_id,
                    "status": status.value,
                    "credits": ledger.account_credits[account_id],
                    "requests": ledger.account_requests[account_id],
                },
            }
            metrics.info("METRIC: %s", json.dumps(point, separators=(",", ":")))


def _tally(ledger: CreditLedger, account_ids: list[str]) -> str:
    """`12 records, 3 credits, 4 requests`, summed over some accounts."""
    counts = (
        ("record", sum(ledger.account_records[a] for a in account_ids)),
        ("credit", sum(ledger.account_credits[a] for a in account_ids)),
        ("request", sum(ledger.account_requests[a] for a in account_ids)),
    )
    return ", ".join(f"{count} {noun}{'' if count == 1 else 's'}" for noun, count in counts)
