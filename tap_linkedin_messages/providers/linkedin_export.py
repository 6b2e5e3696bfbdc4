"""`provider: linkedin_export`: LinkedIn's own data export ("Get a copy of your data"),
read offline. What the archives hold and how they are read:
`tap_linkedin_messages.linkedin_archive`.
"""

from __future__ import annotations

import itertools
import logging
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from singer_sdk import typing as th

from tap_linkedin_messages.child_process import produced_in_child
from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.linkedin_archive.files import (
    csv_rows,
    encoding_of,
    inbox_files,
    size_of,
)
from tap_linkedin_messages.linkedin_archive.layouts import (
    FOLDERS,
    MESSAGE_IDS,
    MESSAGE_IDS_CHANGED,
    excluded_folders,
)
from tap_linkedin_messages.linkedin_archive.people import People
from tap_linkedin_messages.linkedin_archive.reading import (
    progress_of,
    row_records,
    rows_to_records,
)
from tap_linkedin_messages.providers.base import Listed, MessageListing, Position

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_linkedin_messages.providers.base import Walk

LOGGER = logging.getLogger(__name__)


class LinkedInExportSource(MessageListing):
    """`provider: linkedin_export`: the member's own archive, no credentials, no network."""

    name = "linkedin_export"
    title = "`linkedin_export` (LinkedIn's own data-export archive, read offline)"
    message_ids = MESSAGE_IDS
    message_ids_changed = MESSAGE_IDS_CHANGED
    required_settings = ("export_path",)
    supported_categories: ClassVar[tuple[str, ...]] = ("INBOX",)
    settings = th.PropertiesList(
        th.Property(
            "export_path",
            th.StringType(min_length=1),
            title="Export path",
            description=(
                "`linkedin_export` only: LinkedIn's data-export ZIP, its `messages.csv`, or "
                "a folder of successive archives (a newer archive adds only what is new)."
            ),
        ),
        th.Property(
            "exclude_folders",
            th.ArrayType(th.StringType(allowed_values=sorted(set(FOLDERS.values())))),
            default=["SPAM"],
            title="Exclude folders",
            description=(
                "`linkedin_export` and `linkedin_dma`: LinkedIn folders (INBOX, ARCHIVE, SPAM) "
                "whose conversations are not read, messages included. Default: SPAM; `[]` "
                "reads every folder. Each conversation's `folder` says where it was."
            ),
        ),
    )

    @contextmanager
    def read_messages(self, walk: Walk, position: Position | None) -> Iterator[Listed]:
        """Every message of every archive (a message in several archives is one record):
        the archives are read whole, and what earlier runs did not emit is told
        conversation by conversation (`tap_linkedin_messages.emitted`), so no position."""
        export_path = Path(str(self.config["export_path"])).expanduser()
        files, empty = [], []
        # Each file's encoding once; a file with no rows is named and left out (in a
        # warning, or in the error where no file has any).
        for path, member in inbox_files(export_path):
            origin = f"{path}:{member}" if member else str(path)
            encoding = encoding_of(path, member, origin)
            if next(csv_rows(path, member, encoding), None) is None:
                size = size_of(path, member)
                empty.append(f"{origin} {'is empty' if size == 0 else 'holds only a header'}")
                continue
            files.append((path, member, encoding))
        if not files:
            msg = (
                f"linkedin_export: {export_path} holds no messages ({'; '.join(empty)}) - "
                "check the `export_path` setting"
            )
            raise ProviderError(msg)
        for line in empty:
            LOGGER.warning("linkedin_export: %s; skipped", line)
        rows = itertools.chain.from_iterable(
            csv_rows(path, member, encoding) for path, member, encoding in files
        )
        origin = "linkedin_export: message"
        with People(origin) as people:
            made = produced_in_child(partial(row_records, rows), origin)
            progress = progress_of(origin)
            read = rows_to_records(made, origin, excluded_folders(self.config), people, progress)
            yield Listed(read, people, progress=progress)
