"""LinkedIn's data export, synthesised: the inbox written as `messages.csv` in a ZIP.

Not a server (the export is read offline); it stands in for one in the contract suite:
`config()` writes the archive as the inbox is at that moment, as a member downloading a
fresh copy would get it.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap_linkedin_messages.linkedin_archive.layouts import parse_export_date, synthesized_message_id
from tap_linkedin_messages.normalize import ms_to_rfc3339
from tests.emulators.server import ProviderEmulator

if TYPE_CHECKING:
    from tests.emulators.inbox import Message, SyntheticInbox

# The folder a LinkedIn archive puts everything in.
TOP_FOLDER = "Basic_LinkedInDataExport_11-23-2026"
COLUMNS = [
    "CONVERSATION ID",
    "CONVERSATION TITLE",
    "FROM",
    "SENDER PROFILE URL",
    "TO",
    "RECIPIENT PROFILE URLS",
    "DATE",
    "SUBJECT",
    "CONTENT",
    "FOLDER",
    "ATTACHMENTS",
]


def export_date(sent_at_ms: int) -> str:
    """The export's `DATE`: whole seconds, `YYYY-MM-DD HH:MM:SS UTC`."""
    moment = datetime.fromtimestamp(sent_at_ms // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def export_rows(inbox: SyntheticInbox) -> list[dict[str, str]]:
    """One row per message, as LinkedIn writes them today: every sender's profile URL (the
    member's too), group recipients joined by a bare comma, URLs likewise, a message's
    files as their links in ATTACHMENTS. The archive is the inbox as it is: an edited
    message has its new text, a deleted one is not there [inferred: no export seen marks
    either]."""
    rows = []
    for conversation in inbox.conversations.values():
        members = [inbox.owner, *conversation.participants]
        for message in conversation.messages:
            if message.deleted:
                continue
            recipients = [person for person in members if person is not message.sender]
            rows.append(
                {
                    "CONVERSATION ID": conversation.thread_id,
                    "CONVERSATION TITLE": "",
                    "FROM": message.sender.name,
                    "SENDER PROFILE URL": message.sender.profile_url,
                    "TO": ",".join(person.name for person in recipients),
                    "RECIPIENT PROFILE URLS": ",".join(person.profile_url for person in recipients),
                    "DATE": export_date(message.sent_at_ms),
                    "SUBJECT": "",
                    "CONTENT": message.text,
                    "FOLDER": "INBOX",
                    "ATTACHMENTS": ",".join(a.url for a in message.attachments),
                }
            )
    return rows


def write_archive(
    rows: list[dict[str, str]],
    path: Path,
    *,
    columns: list[str] = COLUMNS,
    encoding: str = "utf-8",
    as_zip: bool = True,
    look_alikes: dict[str, list[dict[str, str]]] | None = None,
    inbox_name: str = "messages.csv",
) -> Path:
    """`rows` as a `messages.csv` (every header quoted, as LinkedIn does), zipped or not.

    `look_alikes`: files a "Complete" archive holds beside the inbox, with the same
    columns (`guide_messages.csv`, `learning_role_play_messages.csv`), written first so
    that they come before the inbox in the ZIP's directory.
    """
    data = csv_bytes(rows, columns, encoding)
    if not as_zip:
        path.write_bytes(data)
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, extra in (look_alikes or {}).items():
            archive.writestr(f"{TOP_FOLDER}/{name}", csv_bytes(extra, columns, encoding))
        archive.writestr(f"{TOP_FOLDER}/{inbox_name}", data)
    return path


def csv_bytes(rows: list[dict[str, str]], columns: list[str], encoding: str = "utf-8") -> bytes:
    """Rows as CSV, every field quoted as LinkedIn writes them."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(
        buffer, fieldnames=columns, quoting=csv.QUOTE_ALL, extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


class ExportArchive(ProviderEmulator):
    """The inbox as a downloaded archive; no HTTP server is started."""

    provider = "linkedin_export"
    inbox_route = "archive"
    messages_route = "archive"
    reads_conversations_one_by_one = False
    empty_inbox_is_an_error = True

    def __init__(self, inbox: SyntheticInbox, *, latency: float = 0.0) -> None:
        super().__init__(inbox, latency=latency)
        self._folder = Path(tempfile.mkdtemp(prefix="linkedin-export-"))

    def start(self) -> ExportArchive:
        return self

    def stop(self) -> None:
        self._server.server_close()
        for path in self._folder.iterdir():
            path.unlink()
        self._folder.rmdir()

    def config(self, **overrides: Any) -> dict[str, Any]:
        archive = write_archive(export_rows(self.inbox), self._folder / "export.zip")
        return {"provider": "linkedin_export", "export_path": str(archive), **overrides}

    def bad_credentials(self) -> tuple[dict[str, Any], str]:
        return self.config(export_path=str(self._folder / "missing.zip")), "export_path"

    disconnected_setting = "export_path"

    def disconnect(self) -> str:
        """The archive is gone from `export_path` (moved, or a mount that is not there)."""
        archive = self._folder / "export.zip"
        archive.rename(archive.with_suffix(".gone"))
        return super().disconnect()

    def reconnect(self) -> None:
        archive = self._folder / "export.zip"
        archive.with_suffix(".gone").rename(archive)
        super().reconnect()

    def conversation_id(self, thread_id: str) -> str:
        return thread_id

    def message_id(self, message: Message) -> str:
        conversation = self.inbox.conversations[message.thread_id]
        (row,) = [
            row
            for row in export_rows(self.inbox)
            if row["CONVERSATION ID"] == conversation.thread_id
            and row["DATE"] == export_date(message.sent_at_ms)
            and row["CONTENT"] == message.text
        ]
        return export_message_id(row)

    def sent_at(self, sent_at_ms: int) -> str:
        return str(ms_to_rfc3339(sent_at_ms // 1000 * 1000))


def export_message_id(row: dict[str, str]) -> str:
    """The id the export gives the message of a row written by `export_rows`."""
    sent_at = parse_export_date(row["DATE"])
    assert sent_at is not None, row["DATE"]
    return synthesized_message_id(row, sent_at)
