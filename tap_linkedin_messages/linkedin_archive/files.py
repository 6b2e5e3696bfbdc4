"""Where an archive's inbox is (a ZIP, a `messages.csv`, a folder of archives), its
encoding, and its rows, read strictly (`tap_linkedin_messages.linkedin_archive`)."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from tap_linkedin_messages.errors import ProviderError
from tap_linkedin_messages.linkedin_archive.layouts import LEGACY_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

MESSAGES_CSV = "messages.csv"
LOGGER = logging.getLogger(__name__)
# Exports seen in the wild: UTF-8 with or without a BOM, and the odd Windows-1252 file.
ENCODINGS = ("utf-8-sig", "cp1252")
# The current DATE, read without strptime (a million rows cost a second, not ten).


def header_of(fieldnames: Iterable[str] | None, origin: str) -> list[str]:
    """Header names as today's (upper case, trimmed), or an error naming what is missing."""
    names = [" ".join((name or "").split()).upper() for name in fieldnames or []]
    if "CONVERSATION ID" not in names and not set(names) >= LEGACY_COLUMNS:
        msg = (
            f"linkedin_export: {origin} has no CONVERSATION ID column (nor 2018's From, To, "
            "Date, Content) - check `export_path`"
        )
        raise ProviderError(msg)
    return names


@contextmanager
def opened(path: Path, member: str | None) -> Iterator[IO[bytes]]:
    """The bytes of a CSV file, or of one ZIP member read in place (never extracted)."""
    if member is None:
        with path.open("rb") as file:
            yield file
        return
    with zipfile.ZipFile(path) as archive, archive.open(member) as file:
        yield file


def encoding_of(path: Path, member: str | None, origin: str) -> str:
    """The first of `ENCODINGS` the whole file decodes in, found before any row is read:
    a file that turned out not to be UTF-8 half-way would otherwise give its first rows
    twice. One pass of bytes, a megabyte at a time (about a second per 200 MB)."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with opened(path, member) as raw:
                while chunk := raw.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    msg = f"linkedin_export: {origin} is not text in a known encoding - check `export_path`"
    raise ProviderError(msg)


def csv_rows(path: Path, member: str | None, encoding: str) -> Iterator[dict[str, str]]:
    """The rows of one inbox file, in its encoding, header names normalised.

    The CSV grammar is read strictly: a file that ends inside a quoted cell (a download
    cut off) or a quote no cell can close is damaged, and nothing of it is read. Read
    leniently, the last message came out with its text cut, under an id built from that
    text, and the whole archive, downloaded again, added a second copy.
    """
    origin = f"{path}:{member}" if member else str(path)
    with opened(path, member) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding=encoding, newline=""), strict=True)
        rows = 0
        try:
            header = next(reader, None)
            if header is None:
                return  # 0 bytes, or blank lines only
            names = header_of(header, origin)
            width = len(names)
            # A column with no name (a trailing comma in the header) is left out.
            unnamed = "" in names
            cells = width
            for values in reader:
                if not any(values):
                    continue  # a blank line
                rows += 1
                cells = len(values)
                if cells < width:
                    values += [""] * (width - cells)
                row = dict(zip(names, values, strict=False))
                if unnamed:
                    row.pop("", None)
                yield row
        except csv.Error as error:
            cut = "unexpected end of data" in str(error)
            what = "is cut off inside a quoted cell" if cut else f"is damaged ({error})"
            raise damaged(origin, rows + 1, what) from None
    if cells < width:
        # A download cut between two cells: read, its last message would have its text
        # missing, under an id built from that text, and the archive downloaded again
        # would add a second copy. (A short row before the last is padded: rows end
        # early where their last cells are empty.)
        raise damaged(origin, rows, f"is cut off after its cell {cells} of {width}")


def damaged(origin: str, number: int, what: str) -> ProviderError:
    """The one line for a file that cannot be read to its end."""
    if what.startswith("is cut off"):
        what += " (a download that did not finish?)"
    msg = (
        f"linkedin_export: {origin} row {number} {what}; nothing of the export is read - "
        "download it again (check `export_path`)"
    )
    return ProviderError(msg)


def is_inbox_file(name: str) -> bool:
    """`messages.csv` (any case; 2018 archives say `Messages.csv`), not a look-alike."""
    return PurePosixPath(name).name.lower() == MESSAGES_CSV


def is_look_alike(name: str) -> bool:
    """A file with the inbox's columns that is not the inbox: `guide_messages.csv`,
    `learning_role_play_messages.csv` (LinkedIn's coaching chats), and the like."""
    base = PurePosixPath(name).name.lower()
    return base.endswith(MESSAGES_CSV) and base != MESSAGES_CSV


def skip_look_alikes(names: list[str], origin: str) -> list[str]:
    """The look-alikes among `names`, each named in a warning: they are not read."""
    look_alikes = sorted(name for name in names if is_look_alike(name))
    if look_alikes:
        LOGGER.warning(
            "linkedin_export: %s: skipping %s (not the inbox: only messages.csv is read)",
            origin,
            ", ".join(look_alikes),
        )
    return look_alikes


def inbox_entry(names: list[str], origin: str) -> list[str]:
    """The archive's inbox files among its entries: at its root or in its top folder
    (every one: a message in two is one record). Deeper ones are named in a warning.

    Look-alikes are skipped with a warning naming them, so nobody wonders where their
    coaching chats went; no inbox file at all is an error naming what was there instead.
    """
    look_alikes = skip_look_alikes(names, origin)
    inboxes = sorted(
        (name for name in names if is_inbox_file(name) and name.strip("/").count("/") <= 1),
        key=lambda name: (name.count("/"), name),
    )
    deeper = sorted(n for n in names if is_inbox_file(n) and n.strip("/").count("/") > 1)
    if deeper:
        LOGGER.warning(
            "linkedin_export: %s: skipping %s (deeper than the archive's top folder: only "
            "the inbox at its root or in its top folder is read)",
            origin,
            ", ".join(deeper),
        )
    if not inboxes:
        found = f" (only {', '.join(look_alikes + deeper)})" if look_alikes or deeper else ""
        msg = (
            f"linkedin_export: {origin} holds no {MESSAGES_CSV} at its root or in its top "
            f"folder{found} - check `export_path` (an archive requested with Messages ticked)"
        )
        raise ProviderError(msg)
    return inboxes


def archive_files(path: Path) -> list[Path]:
    """The archives `export_path` names, oldest first.

    One ZIP or CSV, or a folder of them: its ZIPs, its CSVs (look-alikes skipped), and the
    `messages.csv` of archives extracted into sub-folders. A folder that holds a
    `messages.csv` itself is an extracted archive: of its CSVs only that one is the inbox
    (`Connections.csv`, `Profile.csv`, ... are the archive's other files).
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        msg = f"linkedin_export: {path} does not exist - check the `export_path` setting"
        raise ProviderError(msg)
    entries = [p for p in path.iterdir() if p.is_file()]
    entries += [p for sub in path.iterdir() if sub.is_dir() for p in sub.iterdir() if p.is_file()]
    relative = {str(p.relative_to(path).as_posix()): p for p in entries}
    skip_look_alikes(list(relative), str(path))
    extracted = any(p.parent == path and is_inbox_file(name) for name, p in relative.items())

    def is_archive(name: str, p: Path) -> bool:
        if p.parent != path:
            return is_inbox_file(name)
        if p.suffix.lower() == ".zip":
            return True
        if p.suffix.lower() != ".csv" or is_look_alike(name):
            return False
        return is_inbox_file(name) or not extracted

    found = [p for name, p in relative.items() if is_archive(name, p)]
    if not found:
        msg = (
            f"linkedin_export: {path} holds no export archive (no .zip, no {MESSAGES_CSV}) - "
            "check the `export_path` setting"
        )
        raise ProviderError(msg)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def size_of(path: Path, member: str | None) -> int:
    """A file's size in bytes, or a ZIP member's (uncompressed)."""
    if member is None:
        return path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(member).file_size


def inbox_files(path: Path) -> list[tuple[Path, str | None]]:
    """Each archive's inbox file: a CSV itself, or the ZIP member that is the inbox."""
    files: list[tuple[Path, str | None]] = []
    for archive in archive_files(path):
        if archive.suffix.lower() != ".zip":
            files.append((archive, None))
            continue
        try:
            with zipfile.ZipFile(archive) as opened_zip:
                names = opened_zip.namelist()
            files.extend((archive, member) for member in inbox_entry(names, str(archive)))
        except zipfile.BadZipFile:
            msg = f"linkedin_export: {archive} is not a readable ZIP archive - check `export_path`"
            raise ProviderError(msg) from None
    return files
