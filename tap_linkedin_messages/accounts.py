"""The accounts one run reads, each with its own adapter: its settings over the tap's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.providers.base import DEFAULT_ACCOUNT
from tap_linkedin_messages.redaction import mask_secrets_in_logs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_linkedin_messages.providers import Source


class Accounts:
    """Every account's adapter, built and checked once, before the first request."""

    def __init__(self, adapter: type[Source], config: Mapping[str, Any]) -> None:
        self.adapter = adapter
        # One account: the tap's settings as they are (no `account_id` set means the
        # provider's default account); several: each entry's over the tap's.
        entries = config.get("accounts") or [{}]
        self._sources: dict[str, Source] = {}
        for entry in entries:
            account_id = str(entry.get("account_id") or config.get("account_id") or DEFAULT_ACCOUNT)
            source = adapter({**config, **entry})
            missing = [key for key in adapter.required_settings if not source.config.get(key)]
            if missing and config.get("accounts"):
                msg = (
                    f"{adapter.name}: the `accounts` entry {account_id} has no "
                    f"{', '.join(f'`{key}`' for key in missing)} (nor has the tap's config)"
                )
                raise ProviderError(msg)
            mask_secrets_in_logs(source.secrets)
            self._sources[account_id] = source

    @property
    def ids(self) -> list[str]:
        """The accounts, in the order the settings list them."""
        return list(self._sources)

    def source(self, account_id: str) -> Source:
        """One account's adapter."""
        return self._sources[account_id]
