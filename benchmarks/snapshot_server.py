"""The portability API's INBOX snapshot of a generated archive, for `make bench`.

A million-message inbox is too big for the test emulator's in-memory synthetic inbox
(`tests.emulators.linkedin_dma`), so this server streams the rows of an archive written
by `benchmarks/archive.py` as snapshot pages, in the order the tap asks for them (one
pass over the file per run: the first page starts it again), in the shape the emulator
serves: one `INBOX` element per page and
a `next` link while rows remain. Its changelog (read after the snapshot on a first run)
holds no event: nothing happened since consent.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.emulators.server import Call, EmulatorServer, Reply

SNAPSHOT = "/rest/memberSnapshotData"
CHANGELOG = "/rest/memberChangeLogs"


class ArchiveSnapshotServer(EmulatorServer):
    """Serves `archive`'s `messages.csv` rows as consecutive snapshot pages."""

    access_token = "bench-dma-token"

    def __init__(self, archive: Path) -> None:
        super().__init__()
        self._zip = zipfile.ZipFile(archive)
        self._rewind()

    def _rewind(self) -> None:
        """From the first row again: a new run asks for the first page."""
        text = io.TextIOWrapper(self._zip.open("messages.csv"), encoding="utf-8", newline="")
        self._rows: Iterator[dict[str, str]] = csv.DictReader(text)
        self._next_start = 0
        self._pending: dict[str, str] | None = None

    def stop(self) -> None:
        super().stop()
        self._zip.close()

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "provider": "linkedin_dma",
            "access_token": self.access_token,
            "api_url": self.url,
            **overrides,
        }

    def route(self, call: Call) -> str:
        return {SNAPSHOT: "snapshot", CHANGELOG: "changelog"}.get(call.path, call.path)

    def answer(self, call: Call) -> Reply:
        if call.route == "changelog":
            return Reply(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": []})
        start = int(call.query.get("start", ["0"])[0])
        count = int(call.query.get("count", ["10"])[0])
        if call.route == "snapshot" and start == 0:
            self._rewind()
        if call.route != "snapshot" or start != self._next_start:
            return Reply(400, {"status": 400, "message": "pages are served in order"})
        page = [self._pending] if self._pending is not None else []
        page += itertools.islice(self._rows, count - len(page))
        self._pending = next(self._rows, None)  # whether a next page exists
        self._next_start += 1
        href = f"{SNAPSHOT}?q=criteria&domain=INBOX&start={start + 1}&count={count}"
        links = [{"rel": "next", "href": href}] if self._pending is not None else []
        return Reply(
            200,
            {
                "paging": {"start": start, "count": count, "links": links},
                "elements": [{"snapshotDomain": "INBOX", "snapshotData": page}],
            },
        )
