"""What earlier runs emitted from a source read whole (the data export, the portability
API's snapshot), kept in the state in a bounded form: one entry per conversation.

A later archive can hold messages older than anything the last run emitted (a
conversation moved out of SPAM, older messages of a conversation LinkedIn now lists), so
no time tells what is new there. Each conversation's entry says which messages were
emitted, without listing them: a digest of its messages (an order-free combination of
one 64-bit hash per message id and the time it last changed, so an edit read again counts
as news) and the newest `sent_at` among them. On the next read:

- the same digest: the conversation is unchanged, nothing of it is emitted;
- a new conversation, or one whose messages up to that newest time are no longer the
  ones emitted (their digest differs): all of its messages are emitted;
- otherwise only its messages newer than that time are.

An entry is 22 bytes (hash of the conversation id, digest, newest time in epoch ms),
packed in order of the hash and written as base64: about 29 characters a conversation,
1.5 MB for a heavy member's 50,000. The state keeps an entry for every conversation ever
read, so a conversation missing from one archive is not emitted again when it returns.

A 64-bit hash can collide: two conversations whose ids share one (odds of about 2**-33
among 50,000) share an entry, and each then reads as changed (emitted again, never
lost); a changed conversation whose digest comes out the same (about 2**-64 a change)
would be missed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

LOGGER = logging.getLogger(__name__)
#: The format's version, first in the state's value: a value in another one is not read.
VERSION = "v1"
#: Bytes of one entry: the conversation's hash, its digest (both signed, as SQLite keeps
#: integers) and its newest `sent_at` in epoch milliseconds.
ENTRY_BYTES = 8 + 8 + 6

#: (conversation hash, digest of its message ids, newest `sent_at` in epoch ms)
Entry = tuple[int, int, int]


def id_hash(text: str) -> int:
    """A stable 64-bit hash of an id, as a signed integer (SQLite's INTEGER)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class IdDigest:
    """SQLite aggregate: the digest of a set of message ids (their hashes XORed), the same
    whatever the order they come in. Used with DISTINCT: an id read twice counts once."""

    def __init__(self) -> None:
        self.value = 0

    def step(self, message_id: Any, /) -> None:
        self.value ^= id_hash(str(message_id))

    def finalize(self) -> int:
        return self.value


def pack(entries: Iterable[Entry]) -> str:
    """Entries (in order of their hash) as the state's value."""
    raw = b"".join(
        key.to_bytes(8, "big", signed=True)
        + digest.to_bytes(8, "big", signed=True)
        + newest.to_bytes(6, "big")
        for key, digest, newest in entries
    )
    return f"{VERSION}.{base64.b64encode(raw).decode()}"


def unpack(value: str | None, label: str) -> Iterator[Entry]:
    """The entries a state's value holds; none (with a warning naming `label`) where it is
    not in this format: every conversation then reads as new, once."""
    if not value:
        return
    version, _, encoded = value.partition(".")
    try:
        raw = base64.b64decode(encoded, validate=True) if version == VERSION else b""
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or len(raw) % ENTRY_BYTES:
        LOGGER.warning(
            "%s: the state's record of emitted conversations is not readable; every "
            "conversation is emitted again, once",
            label,
        )
        return
    for start in range(0, len(raw), ENTRY_BYTES):
        entry = raw[start : start + ENTRY_BYTES]
        yield (
            int.from_bytes(entry[:8], "big", signed=True),
            int.from_bytes(entry[8:16], "big", signed=True),
            int.from_bytes(entry[16:], "big"),
        )
