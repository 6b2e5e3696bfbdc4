"""The on-disk index of listed messages (`MessageIndex`), what it settles as it reads them
back (`Settle`), and the progress lines of a long read of rows (`Progress`).

The index is a scratch file under the system temp dir, gone however the read ends; it
gives conversations back newest activity first and each message once, senders and
participants settled; a read of rows says how far it got only when it is long.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tap_linkedin_messages import child_process, emitted, records, whole_reads
from tap_linkedin_messages.linkedin_archive import reading
from tap_linkedin_messages.linkedin_archive.people import People
from tap_linkedin_messages.message_index import MessageIndex
from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.reads import Cutoff
from tap_linkedin_messages.records import Record
from tap_linkedin_messages.streams import ConversationsStream
from tap_linkedin_messages.tap import TapLinkedInMessages
from tap_linkedin_messages.whole_reads import Person, Settle
from tests.conftest import run_tap
from tests.emulators.export import write_archive

T = "2026-03-0{}T10:00:00.000Z"  # T.format(1) < T.format(2) < ...
ANA_URL = "https://www.linkedin.com/in/ana-lima"


def listed(
    conversation_id: str,
    sent_at: str,
    text: str,
    *,
    message_id: str | None = None,
    **fields: Any,
) -> Record:
    """A listed message, as a source that lists messages builds it."""
    message = records.message(
        message_id=message_id or f"{conversation_id}/{sent_at}/{text}",
        sent_at=sent_at,
        text=text,
        **fields,
    )
    return records.listed(
        message, conversation_id=conversation_id, thread_id=conversation_id, folder="INBOX"
    )


def read_back(
    listed_messages: list[Record], cutoff: Cutoff | None = None
) -> list[tuple[Record, list[Record]]]:
    """Every conversation the index gives back, with its messages."""
    with MessageIndex("test") as index:
        index.add_all(listed_messages)
        return [(c, list(messages)) for c, messages in index.conversations(cutoff)]


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp dir, for this test: an empty folder of its own."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def open_files_in(folder: Path) -> list[str]:
    """The files under `folder` this process holds open (unlinked ones included)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc to see which files are open")
    found = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while listing (the listing's own descriptor)
        if target.startswith(f"{folder}{os.sep}"):
            found.append(target)
    return found


def archive_rows(count: int, *, per_conversation: int = 40) -> list[dict[str, str]]:
    """`count` rows of a current `messages.csv`, a minute apart, `per_conversation` to a
    conversation (so the last conversation has the newest activity)."""
    rows = []
    for number in range(count):
        day, minute = divmod(number, 24 * 60)
        theirs = number % 2 == 1
        rows.append(
            {
                "CONVERSATION ID": f"2-conversation-{number // per_conversation}",
                "CONVERSATION TITLE": "",
                "FROM": "Ana Lima" if theirs else "Olive Owner",
                "SENDER PROFILE URL": ANA_URL if theirs else "",
                "TO": "Olive Owner" if theirs else "Ana Lima",
                "RECIPIENT PROFILE URLS": "" if theirs else ANA_URL,
                "DATE": f"2026-01-{1 + day:02d} {minute // 60:02d}:{minute % 60:02d}:00 UTC",
                "SUBJECT": "",
                "CONTENT": f"message {number}",
                "FOLDER": "INBOX",
                "ATTACHMENTS": "",
            }
        )
    return rows


# --- where the index lives, and that it goes ------------------------------------------------


def test_the_index_is_a_file_in_the_temp_dir_removed_once_read(temp_dir: Path) -> None:
    with MessageIndex("test") as index:
        assert Path(index.path).parent == temp_dir
        index.add_all([listed("c1", T.format(1), "a"), listed("c2", T.format(2), "b")])
        for _conversation, messages in index.conversations(None):
            list(messages)
            assert Path(index.path).is_file()
    assert list(temp_dir.iterdir()) == []
    assert open_files_in(temp_dir) == []


def test_the_index_is_removed_when_the_read_back_raises_half_way(temp_dir: Path) -> None:
    def read_then_fail() -> None:
        with MessageIndex("test") as index:
            index.add_all(listed(f"c{n % 2}", T.format(1 + n), f"m{n}") for n in range(6))
            for _conversation, messages in index.conversations(None):
                next(messages)
                raise RuntimeError("target went away")

    with pytest.raises(RuntimeError, match="target went away"):
        read_then_fail()
    assert list(temp_dir.iterdir()) == []


def test_the_index_is_removed_when_the_source_fails_while_it_is_filled(
    temp_dir: Path,
) -> None:
    def failing() -> Iterator[Record]:
        yield listed("c1", T.format(1), "a")
        # Holding the file: the failure comes mid-listing, not before it.
        assert len(list(temp_dir.iterdir())) == 1
        raise ProviderError("test: page 2 answered 500")

    with pytest.raises(ProviderError), MessageIndex("test") as index:
        index.add_all(failing())
    assert list(temp_dir.iterdir()) == []


def export_config(tmp_path: Path, rows: list[dict[str, str]]) -> dict[str, Any]:
    folder = tmp_path / "archives"
    folder.mkdir()
    return {
        "provider": "linkedin_export",
        "export_path": str(write_archive(rows, folder / "export.zip")),
    }


def test_a_sync_logs_the_index_size_and_leaves_no_file_behind(
    tmp_path: Path, temp_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tap-linkedin-messages")
    output = run_tap(export_config(tmp_path, archive_rows(90)))
    assert len(output.of("messages")) == 90
    assert len(output.of("conversations")) == 3
    (line,) = [r for r in caplog.records if "MB on disk" in r.getMessage()]
    assert line.levelno == logging.INFO
    indexed = re.search(
        r": 90 rows indexed: 90 messages, 0 repeated rows merged, in (\S+) \(\d+\.\d MB on disk\)",
        line.getMessage(),
    )
    assert indexed is not None, line.getMessage()
    assert Path(indexed.group(1)).parent == temp_dir
    assert list(temp_dir.iterdir()) == []


def test_a_sync_that_stops_on_a_bad_row_leaves_no_file_behind(
    tmp_path: Path, temp_dir: Path
) -> None:
    rows = archive_rows(90)
    rows[60]["DATE"] = "not a date"
    with pytest.raises(ProviderError, match="row 61 has no readable CONVERSATION ID or DATE"):
        run_tap(export_config(tmp_path, rows))
    assert list(temp_dir.iterdir()) == []


def abandoned_read(tmp_path: Path, temp_dir: Path) -> TapLinkedInMessages:
    """The conversations stream's read of one account, as the SDK iterates it, dropped
    after its first record (the SDK stops, a target closes the pipe, ...); the tap."""
    tap = TapLinkedInMessages(config=export_config(tmp_path, archive_rows(90)))
    stream = tap.streams["conversations"]
    assert isinstance(stream, ConversationsStream)
    read = iter(stream.get_records({"account_id": stream.accounts.ids[0]}))
    assert next(read)["conversation_id"] == "2-conversation-2"
    # The message index, and who is who (the export settles the records it reads back).
    assert [path.suffix for path in temp_dir.iterdir()] == [".sqlite", ".sqlite"]
    read.close()  # type: ignore[attr-defined]
    return tap


def test_the_index_is_removed_when_its_read_is_abandoned_early(
    tmp_path: Path, temp_dir: Path
) -> None:
    abandoned_read(tmp_path, temp_dir)
    assert list(temp_dir.iterdir()) == []


def test_an_abandoned_read_releases_the_index_disk_space(tmp_path: Path, temp_dir: Path) -> None:
    tap = abandoned_read(tmp_path, temp_dir)
    assert open_files_in(temp_dir) == [], tap  # the tap (and its strategy) still alive


def test_the_index_size_is_logged_at_info(temp_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tap_linkedin_messages.message_index")
    text = "x" * 300
    with MessageIndex("acme: inbox") as index:
        index.add_all(listed(f"c{n % 7}", T.format(1 + n % 9), f"{text} {n}") for n in range(3000))
        conversations = index.conversations(None)
        next(conversations)
        size = os.path.getsize(index.path) / 1e6
        path = index.path
    (line,) = [r for r in caplog.records if "MB on disk" in r.getMessage()]
    assert line.levelno == logging.INFO
    assert line.getMessage() == (
        f"acme: inbox: 3000 rows indexed: 3000 messages, 0 repeated rows merged, in {path} "
        f"({size:.1f} MB on disk)"
    )
    assert size >= 0.9  # 3000 messages of 300 characters: the size is not rounded to 0


# --- order -----------------------------------------------------------------------------------


def test_conversations_come_newest_activity_first_ties_in_reverse_order_of_first_appearance(
    temp_dir: Path,
) -> None:
    # As message_index.py documents it: "conversations by newest message, ties in reverse
    # order of first appearance; messages newest first, ties in order of appearance".
    rows = [
        listed("tie-first", T.format(1), "first seen, newest at 5 later"),
        listed("older", T.format(2), "newest at 2"),
        listed("tie-second", T.format(5), "newest at 5"),
        listed("newest", T.format(6), "newest at 6, seen last but one"),
        listed("tie-first", T.format(5), "now at 5 too"),
        listed("tie-third", T.format(5), "newest at 5, seen last"),
    ]
    order = [c["conversation_id"] for c, _ in read_back([dict(row) for row in rows])]
    assert order == ["newest", "tie-third", "tie-second", "tie-first", "older"]
    # Stable: the same rows give the same order every time.
    assert [c["conversation_id"] for c, _ in read_back(rows)] == order


def test_an_edit_is_activity_the_conversation_is_ordered_by(temp_dir: Path) -> None:
    conversations = read_back(
        [
            listed(
                "edited", T.format(1), "old, edited at 4", is_edited=True, edited_at=T.format(4)
            ),
            listed("sent", T.format(3), "newest sent"),
        ]
    )
    assert [(c["conversation_id"], c["last_activity_at"]) for c, _ in conversations] == [
        ("edited", T.format(4)),
        ("sent", T.format(3)),
    ]


def test_messages_come_newest_first_ties_in_order_of_appearance(temp_dir: Path) -> None:
    ((conversation, messages),) = read_back(
        [
            listed("c", T.format(2), "b1"),
            listed("c", T.format(3), "newest"),
            listed("c", T.format(1), "oldest"),
            listed("c", T.format(2), "b2"),
            listed("c", T.format(2), "b3"),
        ]
    )
    assert [m["text"] for m in messages] == ["newest", "b1", "b2", "b3", "oldest"]
    assert conversation["last_message"]["text"] == "newest"
    assert conversation["last_activity_at"] == T.format(3)


def test_a_message_comes_back_exactly_as_it_was_added(temp_dir: Path) -> None:
    message = listed(
        "c",
        T.format(1),
        "hello",
        subject="Hi",
        message_type="TEXT",
        sender=records.sender(name="Ana Lima", is_me=False),
        attachments=[records.attachment(url="https://example.invalid/file")],
    )
    expected = {k: v for k, v in message.items() if k != "conversation"}
    ((_, (back,)),) = read_back([dict(message)])
    assert back == expected
    assert list(back) == list(expected)  # the same key order: the SDK writes dict order


# --- what the read settles ------------------------------------------------------------------

BO_URL = "https://www.linkedin.com/in/bo-berg"


def naming(conversation_id: str, sent_at: str, people: list[Person], **fields: Any) -> Record:
    """A listed message whose row names `people` (name, profile URL)."""
    message = listed(conversation_id, sent_at, f"at {sent_at}", **fields)
    message["conversation"]["participants"] = [
        records.participant(name=name, profile_url=url) for name, url in people
    ]
    return message


def test_participants_are_one_per_person_with_the_first_name_and_url_given(
    temp_dir: Path,
) -> None:
    ((conversation, _),) = read_back(
        [
            naming("c", T.format(1), [(None, ANA_URL), ("Bo Berg", None)]),
            naming("c", T.format(2), [("Ana Lima", ANA_URL), ("bo berg", None)]),
            naming("c", T.format(3), [("Ana L.", ANA_URL), (None, None), ("", None)]),
        ]
    )
    # Keyed by URL, else by name (any case); in the order first named; nobody nameless.
    assert [(p["name"], p["profile_url"]) for p in conversation["participants"]] == [
        ("Ana Lima", ANA_URL),
        ("Bo Berg", None),
    ]


class OliveExported(Settle):
    """A read that found Olive to be the member, and Bo's URL on another row."""

    def is_me(self, name: str | None, profile_url: str | None) -> bool | None:
        return name == "Olive Owner"

    def others(self, people: Iterable[Person]) -> Iterator[Person]:
        for name, url in people:
            if name != "Olive Owner":
                yield name, url or (BO_URL if name == "Bo Berg" else None)


def test_senders_and_participants_are_settled_as_the_index_reads_them_back(
    temp_dir: Path,
) -> None:
    olive, bo = records.sender(name="Olive Owner"), records.sender(name="Bo Berg", is_me=False)
    rows = [
        naming("c", T.format(1), [("Olive Owner", None), ("Bo Berg", None)], sender=olive),
        naming("c", T.format(2), [("Bo Berg", BO_URL), ("Olive Owner", None)], sender=bo),
        naming("c", T.format(3), [("Olive Owner", None), ("Bo Berg", None)], sender=olive),
    ]
    with MessageIndex("test", settle=OliveExported()) as index:
        index.add_all(rows)
        ((conversation, messages),) = [(c, list(m)) for c, m in index.conversations(None)]
    assert conversation["participants"] == [records.participant(name="Bo Berg", profile_url=BO_URL)]
    assert conversation["last_message"]["is_from_me"] is True
    # Settled where the row could not tell; a row that told (Bo's) is kept as it was.
    assert [m["sender"]["is_me"] for m in messages] == [True, False, True]


def test_with_nothing_to_settle_the_rows_stand_as_they_are(temp_dir: Path) -> None:
    ((conversation, messages),) = read_back(
        [naming("c", T.format(1), [("Olive Owner", None)], sender=records.sender(name="Olive"))]
    )
    assert conversation["participants"] == [records.participant(name="Olive Owner")]
    assert messages[0]["sender"]["is_me"] is None


# --- a message listed more than once --------------------------------------------------------


def test_a_repeated_message_comes_once_in_its_first_place_with_its_last_state(
    temp_dir: Path,
) -> None:
    # A later archive repeating an earlier one, or a changelog's edit of a message it
    # created: same id, same time; message_index.py: "in its first place with its last
    # state".
    ((_, messages),) = read_back(
        [
            listed("c", T.format(2), "first state", message_id="repeated"),
            listed("c", T.format(2), "same time, seen between", message_id="other"),
            listed("c", T.format(1), "older", message_id="older"),
            listed(
                "c",
                T.format(2),
                "last state",
                message_id="repeated",
                is_edited=True,
                edited_at=T.format(3),
            ),
        ]
    )
    assert [(m["message_id"], m["text"]) for m in messages] == [
        ("repeated", "last state"),
        ("other", "same time, seen between"),
        ("older", "older"),
    ]
    assert messages[0]["is_edited"] is True


def test_the_conversation_shows_the_last_state_of_a_repeated_newest_message(
    temp_dir: Path,
) -> None:
    ((conversation, messages),) = read_back(
        [
            listed("c", T.format(1), "hello", message_id="m"),
            listed("c", T.format(1), "hello (edited)", message_id="m", edited_at=T.format(2)),
        ]
    )
    assert [m["text"] for m in messages] == ["hello (edited)"]
    assert conversation["last_message"]["text"] == "hello (edited)"


# --- incremental reads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inclusive", "expected"),
    [(False, ["edited later", "after"]), (True, ["edited later", "after", "at the cutoff"])],
)
def test_only_messages_changed_after_the_cutoff_come_back(
    temp_dir: Path, inclusive: bool, expected: list[str]
) -> None:
    conversations = read_back(
        [
            listed("c", T.format(1), "before"),
            listed("c", T.format(1), "edited later", edited_at=T.format(4)),
            listed("c", T.format(2), "at the cutoff"),
            listed("c", T.format(3), "after"),
            listed("quiet", T.format(1), "nothing new here"),
        ],
        Cutoff(T.format(2), inclusive=inclusive),
    )
    by_id = {c["conversation_id"]: [m["text"] for m in messages] for c, messages in conversations}
    assert sorted(by_id["c"]) == sorted(expected)
    # A conversation with nothing new is still given (its record decides); no messages.
    assert by_id["quiet"] == []


# --- progress of a long read of rows --------------------------------------------------------


def progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == reading.LOGGER.name and "conversations found" in r.getMessage()
    ]


def read_rows(rows: list[dict[str, str]]) -> list[Record]:
    """The export's records of `rows`, read in one pass."""
    with People("test: message") as people:
        made = reading.row_records(rows)
        progress = reading.progress_of("test: message")
        return list(reading.rows_to_records(made, "test: message", (), people, progress))


def test_a_long_read_says_how_far_it_got(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(whole_reads, "PROGRESS_EVERY_SECONDS", 0)
    caplog.set_level(logging.INFO, logger=reading.LOGGER.name)
    rows = archive_rows(2500, per_conversation=40)
    assert len(read_rows(rows)) == 2500
    lines = [re.sub(r", \d+ s$", ", N s", line) for line in progress_lines(caplog)]
    # Every 1000 rows of the one pass, with the conversations found so far.
    assert lines == [
        "test: message: reading messages: 1000 rows read, 25 conversations found, N s",
        "test: message: reading messages: 2000 rows read, 50 conversations found, N s",
    ]


def test_the_index_reads_back_on_the_clock_its_rows_began(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One clock for a whole read: the index's read back goes on with the progress the
    archive's rows began (`Listed.progress`), passed to it, not found on the thread."""
    monkeypatch.setattr(whole_reads, "PROGRESS_EVERY_SECONDS", 0)
    monkeypatch.setattr(child_process, "can_fork", lambda: False)  # its lines, here
    caplog.set_level(logging.INFO, logger=reading.LOGGER.name)
    rows = archive_rows(1500, per_conversation=30)
    with People("test: message") as people:
        progress = reading.progress_of("test: message")
        made = reading.row_records(rows)
        listed = reading.rows_to_records(made, "test: message", (), people, progress)
        with MessageIndex("test: index", progress=progress) as index:
            index.add_all(listed)
            read = [list(messages) for _, messages in index.conversations(None)]
    assert sum(len(messages) for messages in read) == 1500
    said = [r.getMessage() for r in caplog.records if r.name == reading.LOGGER.name]
    assert any(line.startswith("test: message: reading messages: 1000 rows") for line in said)
    assert any(line.startswith("test: message: writing records: 1000 records") for line in said)
    assert not any(line.startswith("test: index:") for line in said)


def test_a_short_read_says_nothing_of_its_progress(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(whole_reads, "PROGRESS_EVERY_SECONDS", 0)
    caplog.set_level(logging.INFO, logger=reading.LOGGER.name)
    rows = archive_rows(999)
    assert len(read_rows(rows)) == 999
    assert progress_lines(caplog) == []
    # Its end is still logged (the log was listened to).
    assert any("999 rows read: 999 message rows" in r.getMessage() for r in caplog.records)


# --- what earlier runs emitted (`tap_linkedin_messages.emitted`) ----------------------


def read_whole(
    listed_messages: list[Record], emitted_before: str | None
) -> tuple[dict[str, list[str]], str]:
    """What the index hands over of a source read whole, by conversation (message texts),
    and the record of what was emitted that it returns."""
    with MessageIndex("test") as index:
        index.add_all(listed_messages)
        emitted = index.changed_since(emitted_before)
        given = {
            c["conversation_id"]: [m["text"] for m in ms] for c, ms in index.conversations(None)
        }
    return given, emitted


def test_only_what_no_earlier_read_handed_over_comes_out() -> None:
    first = [
        listed("2-a", T.format(1), "a1"),
        listed("2-a", T.format(3), "a3"),
        listed("2-b", T.format(2), "b2"),
        listed("2-c", T.format(4), "c4"),
    ]
    given, kept = read_whole(first, None)
    assert given == {"2-c": ["c4"], "2-a": ["a3", "a1"], "2-b": ["b2"]}

    # The same messages again (an archive read twice, listed in another order, one of them
    # twice): nothing.
    again, same = read_whole([first[3], *first, first[0]], kept)
    assert again == {}
    assert same == kept

    # 2-a: a message newer than its newest; 2-b: an older one appeared (all of 2-b again);
    # 2-d: new; 2-c: unchanged.
    later = [
        *first,
        listed("2-a", T.format(5), "a5"),
        listed("2-b", T.format(1), "b1"),
        listed("2-d", T.format(1), "d1"),
    ]
    given, after = read_whole(later, kept)
    assert given == {"2-a": ["a5"], "2-b": ["b2", "b1"], "2-d": ["d1"]}
    assert read_whole(later, after)[0] == {}


def test_an_edit_read_again_is_news_and_a_missing_conversation_is_kept() -> None:
    original = listed("2-a", T.format(1), "hi", message_id="m1")
    other = listed("2-b", T.format(2), "yo")
    _, kept = read_whole([original, other], None)
    edited = listed("2-a", T.format(1), "hello", message_id="m1", edited_at=T.format(3))
    # 2-b is not in this read: what was emitted of it stays known.
    given, after = read_whole([original, edited], kept)
    assert given == {"2-a": ["hello"]}
    assert read_whole([other], after)[0] == {}


def test_the_record_is_22_bytes_a_conversation_in_order_of_its_hash() -> None:
    entries = [(-(2**63), -1, 0), (5, 2**63 - 1, 2**48 - 1), (7, 0, 1_777_201_700_000)]
    value = emitted.pack(entries)
    assert value.startswith("v1.")
    assert len(value) == len("v1.") + 4 * math.ceil(3 * 22 / 3)
    assert list(emitted.unpack(value, "test")) == entries
    _, kept = read_whole([listed(f"2-{i}", T.format(1), "x") for i in range(50)], None)
    keys = [key for key, _, _ in emitted.unpack(kept, "test")]
    assert keys == sorted(keys)
    assert len(keys) == 50


@pytest.mark.parametrize("value", ["v2.AAAA", "v1.not base64!", "v1.AAAA", "garbage"])
def test_a_record_in_another_format_is_named_and_everything_comes_out_once(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    given, _ = read_whole([listed("2-a", T.format(1), "a1")], value)
    assert given == {"2-a": ["a1"]}
    assert any("is not readable" in r.getMessage() for r in caplog.records)
