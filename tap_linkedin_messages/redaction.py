"""Secrets never reach a log line: provider texts are redacted, and so is every log record."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

MASK = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
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
