"""What the emulators' listings share: newest-first pages, the cursors that walk them and
the parameters that size them, refused with the provider's own 400.

Every provider here lists newest first. An item's position is `(-ms, key)`: newest first,
ties broken by a stable key, so positions sort the way the listing runs. An opaque cursor
names the position of the next page's first item; a time cursor names a time.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import Protocol, TypeVar

Position = tuple[int, str]


class InboxItem(Protocol):
    """A conversation or message of the synthetic inbox."""

    @property
    def position(self) -> Position: ...


Item = TypeVar("Item", bound=InboxItem)


class BadRequestError(ValueError):
    """A parameter the emulator refuses: its text goes in the provider's 400 answer."""


def page_at(
    listing: Sequence[Item], start: Position | None, size: int
) -> tuple[list[Item], Item | None]:
    """Of a newest-first listing, the `size` items from the first at or after `start`
    (None: the top), and the item after them (None: the listing ends there)."""
    first = 0
    if start is not None:
        first = next((i for i, item in enumerate(listing) if item.position >= start), len(listing))
    page = list(listing[first : first + size])
    return page, (listing[first + size] if first + size < len(listing) else None)


def at_or_before(millis: int) -> Position:
    """Where a time cursor that keeps its own time starts."""
    return (-millis, "")


def before(millis: int) -> Position:
    """Where a time cursor that excludes its own time starts."""
    return (1 - millis, "")


def opaque_cursor(item: InboxItem | None, tag: str, prefix: str = "") -> str | None:
    """`prefix` + base64url of `tag&ms&key` for the item a page starts at (None: no
    more pages): a cursor the tap can only hand back."""
    if item is None:
        return None
    millis, key = item.position
    raw = f"{tag}&{-millis}&{key}"
    return prefix + base64.urlsafe_b64encode(raw.encode()).decode()


def position_of(cursor: str, tag: str, refusal: str, prefix: str = "") -> Position:
    """The position an `opaque_cursor` of this listing names; `refusal` if it is not one."""
    try:
        if not cursor.startswith(prefix):
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor.removeprefix(prefix)).decode()
        found, millis, key = raw.split("&", 2)
        if found != tag:
            raise ValueError(found)
        return (-int(millis), key)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError(refusal) from None


def number(raw: object, refusal: str) -> int | None:
    """An integer parameter of at least 1 (None: absent); `refusal` otherwise."""
    if raw is None or raw == "":
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise BadRequestError(refusal) from None
    if value < 1:
        raise BadRequestError(refusal)
    return value


def credits_for(items: int) -> int:
    """The shared bill: 1 credit per 10 items returned, rounded up."""
    return math.ceil(items / 10)
