"""Secrets never reach a log line: provider texts are redacted, and so is every log record."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

MASK = "***"
#: Shorter values are no credential any provider issues, and masking them would garble
#: every line (a key `k` would mask each "k"); they are left as they are.
MIN_SECRET_LENGTH = 4
#: The settings whose values are secrets (in the tap's config and in `accounts` entries).
SECRET_SETTINGS = ("api_key", "login_token", "access_token")


def secrets_in(config: Any) -> set[str]:
    """Every secret a config holds, however malformed: the values of `SECRET_SETTINGS`
    (strings, or strings inside what was given instead) and a password in an `api_url`,
    at any depth (`accounts` entries included), for masking before the config is checked:
    the SDK's validation errors quote the values they reject."""
    found: set[str] = set()
    if isinstance(config, dict):
        for key, value in config.items():
            if key in SECRET_SETTINGS:
                found |= strings_in(value)
            elif key == "api_url" and isinstance(value, str):
                password = urlsplit(value).password
                found |= {password} if password else set()
            else:
                found |= secrets_in(value)
    elif isinstance(config, list):
        for value in config:
            found |= secrets_in(value)
    return found


def strings_in(value: Any) -> set[str]:
    """The scalars in a value, as strings."""
    if isinstance(value, dict):
        return {s for item in value.values() for s in strings_in(item)}
    if isinstance(value, list):
        return {s for item in value for s in strings_in(item)}
    return {str(value)} if value not in (None, "") else set()


@lru_cache(maxsize=64)
def written_forms(secret: str) -> tuple[str, ...]:
    """A secret as a provider may echo it back: as is, URL-encoded (in a link or a query)
    and JSON-escaped; the longest first, so no form is left half masked."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value masked, in every form it may be written in."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            for form in written_forms(secret):
                text = text.replace(form, MASK)
    return text


class SecretFilter(logging.Filter):
    """Masks secret values in a log record's message and traceback before it is written."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
        return True


def mask_secrets_in_logs(secrets: Iterable[str]) -> None:
    """Add the secrets to a filter on every handler of the root logger (where the SDK logs)."""
    values = {secret for secret in secrets if secret}
    for handler in logging.getLogger().handlers:
        existing = next((f for f in handler.filters if isinstance(f, SecretFilter)), None)
        if existing is None:
            existing = SecretFilter()
            handler.addFilter(existing)
        existing.secrets |= values
