"""Pure helpers that make every provider's values look the same in our records."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import overload

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# LinkedIn's thread id is the `N-...` token at the end of every URN form
# (`urn:li:msg_conversation:(urn:li:fsd_profile:X,2-...)`, `urn:li:messagingThread:2-...`)
# and the bare id itself. Most are `2-`; LinkedIn's own compliance examples show `0-`
# threads (https://learn.microsoft.com/en-us/linkedin/compliance/integrations/
# compliance-events/resource-references/sales-nav-messages), so any digit prefix is one.
_THREAD_ID = re.compile(r"(?:^|[,:(])(\d+-[^,():\s]+)\)?$")


def ms_to_rfc3339(epoch_ms: int | float | str | None) -> str | None:
    """Epoch milliseconds to an RFC 3339 UTC string that keeps the milliseconds.

    Integer arithmetic, not float seconds, so `...641366` stays `.366` exactly.
    """
    if epoch_ms is None or epoch_ms == "":
        return None
    try:
        if isinstance(epoch_ms, bool):
            raise TypeError
        millis = int(epoch_ms)
        # `time.gmtime`, not datetime arithmetic: the same string at half the cost, once
        # per message of every provider.
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000))
    except (ValueError, TypeError, OSError, OverflowError):
        msg = f"{str(epoch_ms)[:40]!r} is no time in epoch milliseconds"
        raise ValueError(msg) from None
    return f"{seconds}.{millis % 1000:03d}Z"


def datetime_to_rfc3339(moment: datetime) -> str:
    """A datetime in the same string form as `ms_to_rfc3339` (so strings compare in time order)."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp (offset or `Z`; UTC if it has none) as an aware datetime."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def rfc3339_to_ms(value: str) -> int:
    """The inverse of `ms_to_rfc3339` for any ISO-8601 string with an offset or `Z`."""
    return (parse_timestamp(value) - EPOCH) // timedelta(milliseconds=1)


def iso_to_rfc3339(value: str | None) -> str | None:
    """An ISO-8601 timestamp from a provider to our millisecond UTC form."""
    if not value:
        return None
    return ms_to_rfc3339(rfc3339_to_ms(value))


def any_time_to_rfc3339(value: object) -> str | None:
    """A provider time in either form it comes in: epoch milliseconds (a number, or a
    string of digits) or an ISO-8601 string; None for anything else."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return ms_to_rfc3339(value)
    if isinstance(value, str):
        try:
            return iso_to_rfc3339(value)
        except ValueError:
            return None
    return None


def expiry_to_rfc3339(value: object) -> str | None:
    """An expiry in epoch seconds (or milliseconds, past 10**11, or ISO 8601)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 10**11:
        value = int(value * 1000)
    return any_time_to_rfc3339(value)


def thread_id_from_urn(conversation_id: str | None) -> str | None:
    """LinkedIn's `N-...` thread id out of any conversation URN form, or None."""
    if not conversation_id:
        return None
    match = _THREAD_ID.search(conversation_id.strip())
    return match.group(1) if match else None


# A few thousand: the people a read meets again soon, not every person of a large archive
# (memory would grow with them).
@lru_cache(maxsize=2048)
def profile_key(profile_url: str | None) -> str | None:
    """A profile URL reduced to what identifies the member, for equality tests.

    Providers disagree on trailing slashes, scheme and case (`.../in/jane-doe-42` vs
    `.../in/jane-doe-42/`).
    """
    if not profile_url:
        return None
    key = profile_url.strip().lower().split("?", 1)[0].rstrip("/")
    return key.removeprefix("https://").removeprefix("http://").removeprefix("www.")


def flag(value: object) -> bool | None:
    """A provider's flag (`true`, or Unipile's `0`/`1`) as a bool; None where absent."""
    return bool(value) if value is not None else None


def is_member_id_url(key: str | None) -> bool:
    """A profile key in LinkedIn's member-id form (`linkedin.com/in/acoa...`), which names
    the same person as their vanity URL without anything to tell so."""
    return bool(key) and "/in/acoa" in str(key)


@overload
def name_key(name: str) -> str: ...
@overload
def name_key(name: str | None) -> str | None: ...
def name_key(name: str | None) -> str | None:
    """A person's name for equality tests: spacing and case do not count."""
    return " ".join(name.split()).casefold() if name is not None else None
