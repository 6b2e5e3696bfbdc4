"""LinkedIn's data-export archive: parsing, odd files, successive archives, incremental."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from tap_linkedin_messages.linkedin_archive.layouts import parse_export_date
from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.providers.linkedin_export import LinkedInExportSource
from tests.conftest import FORK_MODES, position_of, read_listing, run_cli, run_tap, set_fork_mode
from tests.emulators.export import COLUMNS, TOP_FOLDER, csv_bytes, export_rows, write_archive
from tests.emulators.inbox import Person, SyntheticInbox

ME = ("Olive Owner", "https://www.linkedin.com/in/olive-owner")
ANA = ("Ana Lima", "https://www.linkedin.com/in/ana-lima")
BO = ("Bo Ek", "https://www.linkedin.com/in/bo-ek")


@pytest.fixture(autouse=True, params=FORK_MODES)
def fork_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here both ways: the rows made into records in a forked child, and here."""
    set_fork_mode(monkeypatch, request.param)
    return str(request.param)


def row(
    thread: str,
    sender: tuple[str, str],
    to: list[tuple[str, str]],
    date: str,
    text: str,
    *,
    own_url_missing: bool = True,
) -> dict[str, str]:
    return {
        "CONVERSATION ID": thread,
        "CONVERSATION TITLE": "",
        "FROM": sender[0],
        "SENDER PROFILE URL": "" if (sender == ME and own_url_missing) else sender[1],
        "TO": ", ".join(name for name, _ in to),
        "RECIPIENT PROFILE URLS": ", ".join(url for _, url in to),
        "DATE": date,
        "SUBJECT": "",
        "CONTENT": text,
        "FOLDER": "INBOX",
        "ATTACHMENTS": "",
    }


def read(path: Path) -> list[dict]:
    """Every record the export source reads from `path` (it makes no request to walk)."""
    source = LinkedInExportSource({"export_path": str(path)})
    return read_listing(source, lambda listing: iter(()))


ROWS = [
    row("2-AAA", ANA, [ME], "2026-01-01 10:00:00 UTC", 'Hi Olive,\nsee you "soon" 👋'),
    row("2-AAA", ME, [ANA], "2026-01-01 10:05:00 UTC", ""),
    row("2-GRP", BO, [ME, ANA], "2026-01-02 09:00:00 UTC", "Group, hello — ça va?"),
    row("2-GRP", ME, [BO, ANA], "2026-01-02 09:01:30 UTC", "Hello both"),
]


def test_dates_become_rfc3339_utc() -> None:
    assert parse_export_date("2026-01-01 10:00:00 UTC") == "2026-01-01T10:00:00.000Z"
    assert parse_export_date("2026-01-01 10:00:00") == "2026-01-01T10:00:00.000Z"
    assert parse_export_date("yesterday") is None


@pytest.mark.parametrize(
    ("encoding", "as_zip", "columns"),
    [
        ("utf-8", True, COLUMNS),
        ("utf-8-sig", False, COLUMNS),  # a BOM
        ("cp1252", False, COLUMNS),  # an old Windows file (its text has no emoji)
        ("utf-8", True, COLUMNS[:10]),  # an older archive: no ATTACHMENTS column
    ],
)
def test_archives_in_every_shape_give_the_same_records(
    tmp_path: Path, encoding: str, as_zip: bool, columns: list[str]
) -> None:
    rows = [dict(r) for r in ROWS]
    if encoding == "cp1252":
        rows[0]["CONTENT"] = 'Hi Olive,\nsee you "soon" ☺'.replace("☺", "é")
    path = write_archive(
        rows,
        tmp_path / ("a.zip" if as_zip else "messages.csv"),
        columns=columns,
        encoding=encoding,
        as_zip=as_zip,
    )
    records = read(path)

    assert [r["sent_at"] for r in records] == [
        "2026-01-01T10:00:00.000Z",
        "2026-01-01T10:05:00.000Z",
        "2026-01-02T09:00:00.000Z",
        "2026-01-02T09:01:30.000Z",
    ]
    assert records[0]["text"] == rows[0]["CONTENT"]  # newlines and quotes intact
    assert records[1]["text"] is None  # empty CONTENT
    # The member is the one person in every conversation, URL or not.
    assert [r["sender"]["is_me"] for r in records] == [False, True, False, True]
    group = records[2]["conversation"]
    assert sorted(p["profile_url"] for p in group["participants"]) == [ANA[1], BO[1]]
    assert len({r["message_id"] for r in records}) == 4


def test_message_ids_are_stable_across_re_exports(tmp_path: Path) -> None:
    first = write_archive(ROWS[:2], tmp_path / "first.zip")
    later = write_archive(ROWS, tmp_path / "later.zip")
    ids = [r["message_id"] for r in read(first)]
    again = [r["message_id"] for r in read(later)]
    assert again[:2] == ids


def test_a_folder_of_successive_archives_emits_each_message_once(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_archive(ROWS[:3], folder / "2026-01-01.zip")
    output = run_tap({"provider": "linkedin_export", "export_path": str(folder)})
    assert len(output.of("messages")) == 3

    write_archive(ROWS, folder / "2026-02-01.zip")  # the newer archive repeats the old rows
    again = run_tap({"provider": "linkedin_export", "export_path": str(folder)}, state=output.state)
    assert [r["text"] for r in again.of("messages")] == ["Hello both"]
    assert [r["thread_id"] for r in again.of("conversations")] == ["2-GRP"]
    (group,) = again.of("conversations")
    assert group["last_activity_at"] == "2026-01-02T09:01:30.000Z"
    assert group["last_message"]["is_from_me"] is True
    assert group["account_id"] == "default"


def spam(record: dict[str, str]) -> dict[str, str]:
    return {**record, "FOLDER": "SPAM"}


def later_archive_rows() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A month's archive, and the next one: in between, a conversation's SPAM row moved
    to the inbox, LinkedIn lists an older conversation it did not before, and two new
    messages came; every newly present message but the newest is older than the first
    archive's newest message."""
    first = [
        row("2-AAA", ANA, [ME], "2026-01-01 10:00:00 UTC", "Hi Olive"),
        spam(row("2-AAA", ANA, [ME], "2026-01-01 10:02:00 UTC", "Cheap watches!")),
        row("2-AAA", ME, [ANA], "2026-01-01 10:05:00 UTC", "Hi Ana"),
        row("2-BBB", BO, [ME], "2026-01-03 09:00:00 UTC", "Coffee?"),
        row("2-BBB", ME, [BO], "2026-01-05 09:00:00 UTC", "Sure"),
    ]
    later = [
        *first[:1],
        {**first[1], "FOLDER": "INBOX"},  # not spam after all
        *first[2:],
        row("2-OLD", BO, [ME], "2025-11-01 08:00:00 UTC", "An old thread"),
        row("2-OLD", ME, [BO], "2025-11-02 08:00:00 UTC", "An old reply"),
        row("2-BBB", BO, [ME], "2026-01-04 12:00:00 UTC", "(listed late)"),
        row("2-BBB", BO, [ME], "2026-02-01 09:00:00 UTC", "Next week?"),
    ]
    return first, later


@pytest.mark.parametrize("layout", ["replaced", "folder"])
def test_a_later_archive_emits_what_no_run_emitted_whatever_its_date(
    tmp_path: Path, layout: str
) -> None:
    """Each newly present message comes out once, older than the bookmark or not; an
    unchanged conversation does not come out at all, and a run over the same archive
    emits nothing. A conversation whose older messages changed (2-AAA, 2-BBB) comes out
    whole again (the state does not list every message id: a target's upsert on
    `message_id` takes the repeats)."""
    first_rows, later_rows = later_archive_rows()
    folder = tmp_path / "exports"
    folder.mkdir()
    write_archive(first_rows, folder / "2026-01-10.zip")
    config = {"provider": "linkedin_export", "export_path": str(folder)}
    first = run_tap(config)
    assert sorted(r["text"] for r in first.of("messages")) == [
        "Coffee?",
        "Hi Ana",
        "Hi Olive",
        "Sure",
    ]
    if layout == "replaced":
        (folder / "2026-01-10.zip").unlink()
    write_archive(later_rows, folder / "2026-02-10.zip")

    second = run_tap(config, state=first.state)
    texts = sorted(r["text"] for r in second.of("messages"))
    newly_present = ["Cheap watches!", "An old thread", "An old reply", "(listed late)"]
    for text in [*newly_present, "Next week?"]:
        assert texts.count(text) == 1, text
    assert set(texts) - {*newly_present, "Next week?"} <= {"Hi Olive", "Hi Ana", "Coffee?", "Sure"}
    assert sorted(r["thread_id"] for r in second.of("conversations")) == [
        "2-AAA",
        "2-BBB",
        "2-OLD",
    ]

    third = run_tap(config, state=second.state)
    assert third.records == {}
    assert position_of(third.state) == position_of(second.state)


def test_new_messages_of_a_conversation_are_all_that_comes_of_it(tmp_path: Path) -> None:
    """Where a conversation's older messages are the ones emitted, only its newer ones
    come out (and nothing of the conversations that did not change)."""
    first_rows, _ = later_archive_rows()
    path = tmp_path / "export.zip"
    write_archive(first_rows, path)
    config = {"provider": "linkedin_export", "export_path": str(path)}
    first = run_tap(config)
    write_archive(
        [*first_rows, row("2-BBB", BO, [ME], "2026-02-01 09:00:00 UTC", "Next week?")], path
    )
    second = run_tap(config, state=first.state)
    assert [r["text"] for r in second.of("messages")] == ["Next week?"]
    assert [r["thread_id"] for r in second.of("conversations")] == ["2-BBB"]


def test_an_unreadable_record_of_emitted_conversations_emits_everything_once_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_archive(ROWS, tmp_path / "export.zip")
    config = {"provider": "linkedin_export", "export_path": str(path)}
    first = run_tap(config)
    (partition,) = first.state["bookmarks"]["conversations"]["partitions"]
    partition["position"]["emitted"] = "v0.not-this-format"
    again = run_tap(config, state=first.state)
    assert len(again.of("messages")) == len(ROWS)
    assert any("is not readable" in r.getMessage() for r in caplog.records)
    assert run_tap(config, state=again.state).records == {}


def test_conversations_are_derived_from_the_messages(tmp_path: Path) -> None:
    inbox = SyntheticInbox.generate(seed=71, conversations=3, messages=4)
    members = [Person(f"g-{i}", "Member", str(i), "Role") for i in range(3)]
    group = inbox.add_conversation(members, type_="group")
    for member in members:
        inbox.add_message(group.thread_id, sender=member)
    path = write_archive(export_rows(inbox), tmp_path / "export.zip")
    output = run_tap({"provider": "linkedin_export", "export_path": str(path)})
    conversations = {r["thread_id"]: r for r in output.of("conversations")}
    assert set(conversations) == set(inbox.conversations)
    urls = sorted(p["profile_url"] for p in conversations[group.thread_id]["participants"])
    assert urls == sorted(m.profile_url for m in members)  # the member is not a participant
    assert len(output.of("messages")) == inbox.message_count()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing.zip", "does not exist"),
        (lambda p: (p / "bad.zip").write_text("not a zip") and p / "bad.zip", "not a readable ZIP"),
        (
            lambda p: (p / "x.csv").write_text('"A","B"\n1,2\n') and p / "x.csv",
            "no CONVERSATION ID",
        ),
    ],
)
def test_a_bad_export_path_fails_with_one_line(tmp_path: Path, make, expected: str) -> None:
    path = make(tmp_path)
    with pytest.raises(ProviderError, match=expected):
        read(path)
    run = run_cli(tmp_path, {"provider": "linkedin_export", "export_path": str(path)})
    assert run.returncode == 1
    assert [line for line in run.stderr.splitlines() if "| ERROR" in line and expected in line]
    assert "Traceback" not in run.stderr


def test_a_row_without_a_date_stops_the_run_naming_it(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[2]["DATE"] = ""
    path = write_archive(rows, tmp_path / "a.zip")
    with pytest.raises(ProviderError, match="row 3 has no readable"):
        read(path)


def coaching_rows() -> list[dict[str, str]]:
    """What `guide_messages.csv` holds: the inbox's columns, LinkedIn's coaching bot."""
    return [
        row("2-GUIDE", ("LinkedIn Guide", ""), [ME], "2026-03-01 08:00:00 UTC", "Tip of the day"),
        row("2-GUIDE", ME, [("LinkedIn Guide", "")], "2026-03-01 08:01:00 UTC", "Thanks"),
    ]


def test_the_inbox_is_read_and_look_alike_files_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A "Complete" archive lists `guide_messages.csv` before `messages.csv`."""
    path = write_archive(
        ROWS,
        tmp_path / "complete.zip",
        look_alikes={
            "guide_messages.csv": coaching_rows(),
            "learning_role_play_messages.csv": coaching_rows(),
        },
    )
    records = read(path)
    assert [r["thread_id"] for r in records] == ["2-AAA", "2-AAA", "2-GRP", "2-GRP"]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "guide_messages.csv" in warning
    assert "learning_role_play_messages.csv" in warning


def test_the_2018_file_name_is_the_inbox_too(tmp_path: Path) -> None:
    path = write_archive(ROWS, tmp_path / "old.zip", inbox_name="Messages.csv")
    assert len(read(path)) == 4


def test_a_zip_with_its_inbox_at_the_root_reads_it_and_skips_look_alikes(tmp_path: Path) -> None:
    """A ZIP re-packed without LinkedIn's top folder (as `make bench` writes its archives)."""
    path = tmp_path / "flat.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("guide_messages.csv", csv_bytes(coaching_rows(), COLUMNS))
        archive.writestr("messages.csv", csv_bytes(ROWS, COLUMNS))
    records = read(path)
    assert [r["thread_id"] for r in records] == ["2-AAA", "2-AAA", "2-GRP", "2-GRP"]


def test_an_extracted_archive_in_a_folder_reads_its_inbox_only(tmp_path: Path) -> None:
    extracted = tmp_path / "exports" / "Basic_LinkedInDataExport_01-01-2026"
    extracted.mkdir(parents=True)
    write_archive(ROWS, extracted / "messages.csv", as_zip=False)
    write_archive(coaching_rows(), extracted / "guide_messages.csv", as_zip=False)
    output = run_tap({"provider": "linkedin_export", "export_path": str(tmp_path / "exports")})
    assert sorted({r["thread_id"] for r in output.of("messages")}) == ["2-AAA", "2-GRP"]


def only_look_alikes(folder: Path) -> Path:
    path = folder / "coaching.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{TOP_FOLDER}/guide_messages.csv", csv_bytes(coaching_rows(), COLUMNS))
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (only_look_alikes, "holds no messages.csv at its root or in its top folder (only"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "holds no export archive"),
        (lambda p: write_archive([], p / "a.zip"), "holds no messages"),
    ],
    ids=["only-look-alikes", "folder-without-archives", "empty-inbox"],
)
def test_an_export_with_no_inbox_is_an_error_naming_export_path(
    tmp_path: Path, make, expected: str
) -> None:
    path = make(tmp_path)
    run = run_cli(tmp_path, {"provider": "linkedin_export", "export_path": str(path)})
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line and expected in line]
    assert len(errors) == 1, run.stderr
    assert "`export_path`" in errors[0]
    assert "Traceback" not in run.stderr
    assert run.output.records == {}


# --- the layouts real archives have --------------------------------------------------------


def by_text(records: Iterable[dict]) -> dict[str, dict]:
    return {r["text"]: r for r in records}


def test_a_2018_archive_keys_conversations_by_the_other_party(tmp_path: Path) -> None:
    """`Messages.csv`: From, To, Date, Subject, Content, Direction, Folder; US dates."""
    columns = ["From", "To", "Date", "Subject", "Content", "Direction", "Folder"]
    rows = [
        dict(zip(columns, values, strict=True))
        for values in [
            (
                "Ana Lima, PhD",
                "Olive Owner",
                "10/16/18, 8:36 AM",
                "Intro",
                "Hello",
                "INCOMING",
                "INBOX",
            ),
            (
                "Olive Owner",
                "Ana Lima, PhD",
                "10/16/18, 9:02 PM",
                "Re: Intro",
                "Hi Ana",
                "OUTGOING",
                "SENT",
            ),
            ("Bo Ek", "Olive Owner", "11/2/18, 10:15 AM", "", "Old news", "INCOMING", "ARCHIVED"),
        ]
    ]
    path = write_archive(rows, tmp_path / "2018.zip", columns=columns, inbox_name="Messages.csv")
    records = by_text(read(path))
    assert records["Hello"]["sent_at"] == "2018-10-16T08:36:00.000Z"
    assert records["Hi Ana"]["sent_at"] == "2018-10-16T21:02:00.000Z"
    # Direction says who wrote it; the other party (a comma in the name and all) is the
    # conversation.
    assert [records[t]["sender"]["is_me"] for t in ("Hello", "Hi Ana", "Old news")] == [
        False,
        True,
        False,
    ]
    assert records["Hello"]["conversation_id"] == records["Hi Ana"]["conversation_id"]
    assert records["Hello"]["conversation_id"] != records["Old news"]["conversation_id"]
    assert records["Hello"]["thread_id"] is None  # 2018 has no LinkedIn thread id
    assert records["Hi Ana"]["conversation"]["participants"] == [
        {**EMPTY_PERSON, "name": "Ana Lima, PhD"}
    ]
    assert records["Hello"]["subject"] == "Intro"
    # ARCHIVED is today's ARCHIVE; SENT is given as it is, a row's own folder (the
    # conversation stays in the INBOX another of its rows names).
    assert records["Old news"]["conversation"]["folder"] == "ARCHIVE"
    assert records["Hi Ana"]["conversation"]["folder"] == "SENT"
    output = run_tap({"provider": "linkedin_export", "export_path": str(path)})
    folders = {r["last_message"]["text"]: r["folder"] for r in output.of("conversations")}
    assert folders == {"Hi Ana": "INBOX", "Old news": "ARCHIVE"}


EMPTY_PERSON = {
    "name": None,
    "headline": None,
    "profile_url": None,
    "profile_picture_url": None,
    "is_organization": None,
}
COLUMNS_2021 = [
    "CONVERSATION ID",
    "CONVERSATION TITLE",
    "FROM",
    "SENDER PROFILE URL",
    "TO",
    "DATE",
    "SUBJECT",
    "CONTENT",
    "FOLDER",
]
OLIVE = ("Olive Owner, MBA", "https://www.linkedin.com/in/olive-owner")
ANA_PHD = ("Ana Lima, PhD", "https://www.linkedin.com/in/ana-lima")


def row_2021(thread: str, sender: tuple[str, str], to: str, date: str, text: str) -> dict:
    return dict(
        zip(
            COLUMNS_2021,
            (thread, "", sender[0], sender[1], to, date, "", text, "INBOX"),
            strict=True,
        )
    )


# One message as each layout since 2020 writes it (the 2018 layout, which has no
# conversation id, is the one exception: docs/providers/linkedin_export.md).
LAYOUTS_SINCE_2020 = {
    # Early 2020: no profile URL columns, ISO dates without a zone.
    "2020": (
        [
            *("CONVERSATION ID", "CONVERSATION TITLE", "FROM", "TO", "DATE"),
            *("SUBJECT", "CONTENT", "FOLDER"),
        ],
        {"DATE": "2020-03-04T10:11:12"},
    ),
    "2021": (COLUMNS_2021, {}),
    "today, sender URL given": (COLUMNS, {}),
    "today, sender URL empty": (COLUMNS, {"SENDER PROFILE URL": ""}),
    "today, trailing space in FROM": (COLUMNS, {"FROM": "Ana Lima ", "SENDER PROFILE URL": ""}),
}


@pytest.mark.parametrize("layout", list(LAYOUTS_SINCE_2020))
def test_one_message_has_one_id_in_every_layout_since_2020(tmp_path: Path, layout: str) -> None:
    """The promise of docs/providers/linkedin_export.md: the same message gets the same
    id in every archive; the id is made of what every layout carries, never of an
    optional column."""
    whole = {
        **row("2-AAA", ANA, [ME], "2020-03-04 10:11:12 UTC", "Hi Olive, the same text"),
        "SENDER PROFILE URL": ANA[1],
    }
    reference = write_archive([whole], tmp_path / "today.zip")
    columns, changes = LAYOUTS_SINCE_2020[layout]
    written = {**whole, **changes}
    other = write_archive(
        [{column: written.get(column, "") for column in columns}],
        tmp_path / "other.zip",
        columns=columns,
    )
    ((expected,), (got,)) = read(reference), read(other)
    assert got["sent_at"] == expected["sent_at"] == "2020-03-04T10:11:12.000Z"
    assert got["message_id"] == expected["message_id"]


def test_a_state_of_the_earlier_ids_emits_every_message_once_more_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """State written before ids stopped depending on the sender URL names ids no archive
    gives any more: every message comes out once more under its new id, and the warning
    says so (and where to read how to drop the old rows)."""
    path = write_archive(ROWS, tmp_path / "export.zip")
    config = {"provider": "linkedin_export", "export_path": str(path)}
    first = run_tap(config)
    (partition,) = first.state["bookmarks"]["conversations"]["partitions"]
    assert partition["position"].pop("message_ids") == 2
    again = run_tap(config, state=first.state)
    assert len(again.of("messages")) == len(ROWS)
    assert any(
        "message ids are made differently since this version" in r.getMessage()
        and "CHANGELOG.md" in r.getMessage()
        for r in caplog.records
    )
    assert run_tap(config, state=again.state).records == {}


def test_a_2021_archive_finds_the_member_without_recipient_urls(tmp_path: Path) -> None:
    """No RECIPIENT PROFILE URLS, and a member whose name holds a comma: the member is
    whoever every conversation names, as a sender or in TO."""
    rows = [
        row_2021("2-A", ANA_PHD, OLIVE[0], "2021-05-01 10:00:00 UTC", "Hi Olive"),
        row_2021("2-A", OLIVE, ANA_PHD[0], "2021-05-01 10:05:00 UTC", "Hi Ana"),
        # The member never answered Bo: they are only in TO.
        row_2021("2-B", BO, OLIVE[0], "2021-05-02 09:00:00 UTC", "Ping"),
        row_2021("2-C", OLIVE, "Cy Placeholder", "2021-05-03 09:00:00 UTC", "Hello Cy"),
    ]
    path = write_archive(rows, tmp_path / "2021.zip", columns=COLUMNS_2021)
    records = by_text(read(path))
    assert {t: r["sender"]["is_me"] for t, r in records.items()} == {
        "Hi Olive": False,
        "Hi Ana": True,
        "Ping": False,
        "Hello Cy": True,
    }
    # Whole names, and never the member among the participants.
    assert records["Hi Olive"]["conversation"]["participants"] == [
        {**EMPTY_PERSON, "name": ANA_PHD[0], "profile_url": ANA_PHD[1]}
    ]
    assert records["Hello Cy"]["conversation"]["participants"] == [
        {**EMPTY_PERSON, "name": "Cy Placeholder"}
    ]
    assert [p["name"] for p in records["Ping"]["conversation"]["participants"]] == ["Bo Ek"]


def current_rows() -> list[dict[str, str]]:
    """Today's layout, every kind of row real archives hold."""

    def current(
        thread: str,
        title: str,
        sender: tuple[str, str],
        to: list[tuple[str, str]],
        date: str,
        text: str,
        folder: str = "INBOX",
        **extra: str,
    ) -> dict[str, str]:
        return {
            "CONVERSATION ID": thread,
            "CONVERSATION TITLE": title,
            "FROM": sender[0],
            "SENDER PROFILE URL": sender[1],
            # Group chats join names with a bare comma; a name keeps its own ", PhD".
            "TO": ",".join(name for name, _ in to),
            "RECIPIENT PROFILE URLS": ",".join(url for _, url in to if url),
            "DATE": date,
            "SUBJECT": "",
            "CONTENT": text,
            "FOLDER": folder,
            "ATTACHMENTS": "",
            "IS MESSAGE DRAFT": "No",
            "IS CONVERSATION DRAFT": "No",
            **extra,
        }

    member = ("Olive Owner", "https://www.linkedin.com/in/olive-owner")
    return [
        current("2-G", "", ANA_PHD, [member, BO], "2026-01-02 09:00:00 UTC", "Group hello"),
        current(
            "2-G",
            "",
            member,
            [ANA_PHD, BO],
            "2026-01-02 09:05:00 UTC",
            "Hello both",
            ATTACHMENTS="https://www.linkedin.com/dms/prv/image/v2/a1/0?m=x&t=y",
        ),
        current(
            "2-G",
            "",
            member,
            [ANA_PHD, BO],
            "2026-01-02 09:06:00 UTC",
            "Half-written",
            **{"IS MESSAGE DRAFT": "Yes"},
        ),
        current("2-G", "", ("", ""), [], "2026-01-02 08:59:00 UTC", "Message request accepted"),
        current(
            "2-S",
            SPONSORED,
            ("LinkedIn Member", ""),
            [member],
            "2026-01-03 12:00:00 UTC",
            "<p>%FIRSTNAME%, try our product</p>",
            "ARCHIVE",
        ),
        current(
            "2-X",
            "",
            ("Spam Bot", "https://www.linkedin.com/in/spam-bot"),
            [member],
            "2026-01-04 12:00:00 UTC",
            "Win a prize",
            "SPAM",
        ),
        current("2-E", "", BO, [member], "2026-01-05 12:00:00 UTC", "Folderless", ""),
        current("2-E", "", member, [BO], "2026-01-05 12:10:00 UTC", "Reply"),
    ]


SPONSORED = "Sponsored Conversation"


def test_todays_archive_reads_every_kind_of_row(tmp_path: Path) -> None:
    columns = list(current_rows()[0])
    path = write_archive(
        current_rows(),
        tmp_path / "complete.zip",
        columns=columns,
        look_alikes={"learning_coach_messages.csv": coaching_rows()},
    )
    output = run_tap({"provider": "linkedin_export", "export_path": str(path)})
    messages = by_text(output.of("messages"))
    # The draft is not a message anyone received; SPAM is skipped by default.
    assert "Half-written" not in messages
    assert "Win a prize" not in messages
    assert len(messages) == 6
    # LinkedIn's own row: no sender at all.
    accepted = messages["Message request accepted"]
    assert (accepted["message_type"], accepted["sender"]) == ("SYSTEM", None)
    assert messages["Hello both"]["sender"]["is_me"] is True
    assert messages["Group hello"]["sender"]["is_me"] is False
    assert messages["Hello both"]["attachments"] == [
        {
            "id": None,
            "name": None,
            "media_type": None,
            "size_bytes": None,
            "url": "https://www.linkedin.com/dms/prv/image/v2/a1/0?m=x&t=y",
            "url_expires_at": None,
        }
    ]
    assert messages["Group hello"]["attachments"] == []  # the column says: none
    conversations = {r["thread_id"]: r for r in output.of("conversations")}
    assert sorted(p["name"] for p in conversations["2-G"]["participants"]) == [
        "Ana Lima, PhD",
        "Bo Ek",
    ]
    assert conversations["2-S"]["type"] == "Sponsored"
    assert conversations["2-S"]["participants"] == [{**EMPTY_PERSON, "name": "LinkedIn Member"}]
    assert {t: c["folder"] for t, c in conversations.items()} == {
        "2-G": "INBOX",
        "2-S": "ARCHIVE",
        "2-E": "INBOX",  # its newest row says INBOX; the other row's folder is empty
    }


def test_exclude_folders_is_a_setting(tmp_path: Path) -> None:
    path = write_archive(current_rows(), tmp_path / "a.zip", columns=list(current_rows()[0]))
    everything = run_tap(
        {"provider": "linkedin_export", "export_path": str(path), "exclude_folders": []}
    )
    assert "Win a prize" in {r["text"] for r in everything.of("messages")}
    assert {r["folder"] for r in everything.of("conversations")} == {"INBOX", "ARCHIVE", "SPAM"}
    no_archive = run_tap(
        {"provider": "linkedin_export", "export_path": str(path), "exclude_folders": ["ARCHIVE"]}
    )
    assert "2-S" not in {r["thread_id"] for r in no_archive.of("conversations")}
    assert "Win a prize" in {r["text"] for r in no_archive.of("messages")}


def test_the_inboxs_files_reach_the_records_through_the_archive(tmp_path: Path) -> None:
    """ATTACHMENTS holds each file's link (two files: two comma-joined links)."""
    inbox = SyntheticInbox.generate(seed=91, conversations=2, messages=3)
    thread_id = next(iter(inbox.conversations))
    one = inbox.add_message(thread_id, text="The deck")
    two = inbox.add_message(thread_id, sender=inbox.owner, text="Two photos")
    deck = inbox.attach(one, "deck.pdf", "application/pdf", 48_213)
    photos = [inbox.attach(two, f"photo-{i}.jpg", "image/jpeg", 1_000 + i) for i in range(2)]
    path = write_archive(export_rows(inbox), tmp_path / "export.zip")
    emitted = run_tap({"provider": "linkedin_export", "export_path": str(path)}).of("messages")
    with_files = by_text(r for r in emitted if r["text"] in (one.text, two.text))
    assert [a["url"] for a in with_files[one.text]["attachments"]] == [deck.url]
    assert [a["url"] for a in with_files[two.text]["attachments"]] == [p.url for p in photos]
    # The export says nothing else of a file.
    assert {a["name"] for a in with_files[one.text]["attachments"]} == {None}
    assert len(emitted) == inbox.message_count() == 8
    others = [r for r in emitted if r["text"] not in (one.text, two.text)]
    assert len(others) == 6
    assert all(r["attachments"] == [] for r in others)


def test_export_path_at_an_extracted_archive_reads_its_inbox_not_its_other_files(
    tmp_path: Path,
) -> None:
    """An extracted archive holds `Connections.csv`, `Profile.csv`, ... beside the inbox."""
    extracted = tmp_path / "Basic_LinkedInDataExport_01-01-2026"
    extracted.mkdir()
    write_archive(ROWS, extracted / "messages.csv", as_zip=False)
    write_archive(coaching_rows(), extracted / "guide_messages.csv", as_zip=False)
    (extracted / "Connections.csv").write_text('"First Name","Last Name","URL"\n"Ana","Lima",""\n')
    (extracted / "Profile.csv").write_text('"First Name","Headline"\n"Me","Synthetic"\n')
    output = run_tap({"provider": "linkedin_export", "export_path": str(extracted)})
    assert sorted({r["thread_id"] for r in output.of("messages")}) == ["2-AAA", "2-GRP"]
    assert len(output.of("messages")) == len(ROWS)


def test_a_file_that_is_not_utf8_past_its_first_rows_gives_each_row_once(tmp_path: Path) -> None:
    """A Windows-1252 file whose first bytes happen to be valid UTF-8 (`Ã©` is the bytes
    of UTF-8's `é`) and whose first byte that is not comes far in, past the decoder's
    first chunks: every row once, all read in the file's one encoding."""
    rows = [row("2-AAA", ME, [ANA], "2026-01-01 09:59:00 UTC", "RÃ©sumÃ© attached")]
    rows += [
        row("2-AAA", ME, [ANA], f"2026-01-01 10:{i // 60:02d}:{i % 60:02d} UTC", f"Plain {i}")
        for i in range(3000)
    ]
    rows.append(row("2-AAA", ANA, [ME], "2026-01-01 11:00:00 UTC", "Café à 15h ?"))
    path = write_archive(rows, tmp_path / "messages.csv", encoding="cp1252", as_zip=False)
    texts = [
        r["text"]
        for r in run_tap({"provider": "linkedin_export", "export_path": str(path)}).of("messages")
    ]
    assert len(texts) == len(set(texts)) == 3002
    assert "Café à 15h ?" in texts
    assert "RÃ©sumÃ© attached" in texts
    assert "Résumé attached" not in texts


def run_export(path: Path, **settings: object) -> dict[str, list[dict]]:
    """Records per stream, through the streams (where `is_me` could be inferred)."""
    output = run_tap({"provider": "linkedin_export", "export_path": str(path), **settings})
    return output.records


def test_one_conversation_cannot_tell_the_member_so_is_me_stays_null(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two people, both in the only conversation, both with URLs: either could be the
    member. Null and a warning, never `false` for the member's own messages."""
    rows = [
        row("2-ONE", ANA, [ME], "2026-01-01 10:00:00 UTC", "Hi Olive", own_url_missing=False),
        row("2-ONE", ME, [ANA], "2026-01-01 10:05:00 UTC", "Hi Ana", own_url_missing=False),
    ]
    records = run_export(write_archive(rows, tmp_path / "one.zip"))
    assert [m["sender"]["is_me"] for m in records["messages"]] == [None, None]
    assert records["conversations"][0]["last_message"]["is_from_me"] is None
    assert "cannot tell which person is the member" in caplog.text


def test_linkedins_own_and_sponsored_rows_do_not_hide_the_member(tmp_path: Path) -> None:
    """A conversation of LinkedIn's alone (a system row, a sponsored message naming nobody
    else) is no conversation between people: the member is still the one in all others."""
    sponsored = {
        **row("2-ADS", ME, [], "2026-01-03 10:00:00 UTC", "An offer for you"),
        "FROM": "Sponsored Conversation",
        "SENDER PROFILE URL": "",
        "TO": "",
        "RECIPIENT PROFILE URLS": "",
    }
    system = {**row("2-SYS", ME, [], "2026-01-04 10:00:00 UTC", "Message request accepted")}
    system.update({"FROM": "", "SENDER PROFILE URL": "", "TO": "", "RECIPIENT PROFILE URLS": ""})
    rows = [
        row("2-A", ANA, [ME], "2026-01-01 10:00:00 UTC", "Hi Olive", own_url_missing=False),
        row("2-A", ME, [ANA], "2026-01-01 10:05:00 UTC", "Hi Ana", own_url_missing=False),
        row("2-B", BO, [ME], "2026-01-02 10:00:00 UTC", "Ping", own_url_missing=False),
        sponsored,
        system,
    ]
    records = run_export(write_archive(rows, tmp_path / "odd.zip"))
    mine = {m["text"]: m["sender"] and m["sender"]["is_me"] for m in records["messages"]}
    assert mine == {
        "Hi Olive": False,
        "Hi Ana": True,
        "Ping": False,
        "An offer for you": False,
        "Message request accepted": None,
    }
    by_id = {c["conversation_id"]: c for c in records["conversations"]}
    assert [p["name"] for p in by_id["2-A"]["participants"]] == ["Ana Lima"]
    # The sponsor's name in FROM marks the conversation, and is no participant.
    assert by_id["2-ADS"]["type"] == "Sponsored"
    assert by_id["2-ADS"]["participants"] == []


def test_the_sent_folder_names_the_member_of_a_2021_archive(tmp_path: Path) -> None:
    """One conversation, no recipient URLs: only the SENT folder tells who the member is;
    and the other party, named in TO without a URL, is one participant, not two."""
    rows = [
        row_2021("2-A", ANA_PHD, OLIVE[0], "2021-05-01 10:00:00 UTC", "Hi Olive"),
        {
            **row_2021("2-A", OLIVE, ANA_PHD[0], "2021-05-01 10:05:00 UTC", "Hi Ana"),
            "FOLDER": "SENT",
        },
        row_2021("2-A", ANA_PHD, OLIVE[0], "2021-05-01 10:09:00 UTC", "Great"),
    ]
    records = run_export(write_archive(rows, tmp_path / "2021.zip", columns=COLUMNS_2021))
    assert {m["text"]: m["sender"]["is_me"] for m in records["messages"]} == {
        "Hi Olive": False,
        "Hi Ana": True,
        "Great": False,
    }
    (conversation,) = records["conversations"]
    assert conversation["participants"] == [
        {**EMPTY_PERSON, "name": ANA_PHD[0], "profile_url": ANA_PHD[1]}
    ]


def test_an_empty_inbox_file_beside_others_is_named_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "archives"
    folder.mkdir()
    write_archive([], folder / "a_empty.zip")
    write_archive(ROWS, folder / "b_full.zip")
    assert len(read(folder)) == len(ROWS)
    assert f"a_empty.zip:{TOP_FOLDER}/messages.csv holds only a header; skipped" in caplog.text


def test_a_read_that_emits_nothing_says_what_it_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    spam = [{**r, "FOLDER": "SPAM"} for r in ROWS]
    spam[0]["IS MESSAGE DRAFT"] = "Yes"
    path = write_archive(spam, tmp_path / "spam.zip", columns=[*COLUMNS, "IS MESSAGE DRAFT"])
    assert read(path) == []
    assert (
        "4 rows read: 0 message rows, 1 drafts left out, 3 in excluded folders (SPAM)"
        in caplog.text
    )


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "csv"])
def test_a_file_cut_off_inside_a_quoted_cell_is_damaged_and_nothing_is_emitted(
    tmp_path: Path, as_zip: bool
) -> None:
    """A download that ends inside the last message's quoted CONTENT cell: before, the
    message came out with its text cut and `folder` null, and a later whole archive added
    a second copy (its id is built from the text). Now the whole archive is refused, in
    one line naming the file and the row."""
    rows = [*ROWS, row("2-CUT", ANA, [ME], "2026-01-03 08:00:00 UTC", "A long message, cut")]
    data = csv_bytes(rows, COLUMNS)
    cut = data[: data.rindex(b"cut")]  # inside the last row's quoted CONTENT
    inbox = tmp_path / "messages.csv"
    inbox.write_bytes(cut)
    path = inbox
    if as_zip:
        path = tmp_path / "cut.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(f"{TOP_FOLDER}/messages.csv", cut)
        inbox.unlink()
    with pytest.raises(ProviderError, match=r"row 5 .*cut off") as raised:
        read(path)
    assert str(path) in str(raised.value)
    assert "`export_path`" in str(raised.value)

    run = run_cli(tmp_path, {"provider": "linkedin_export", "export_path": str(path)})
    assert run.returncode == 1
    assert run.output.records == {}
    assert "Traceback" not in run.stderr
    assert [line for line in run.stderr.splitlines() if "| ERROR" in line and "cut off" in line]


def test_a_file_cut_off_between_two_cells_is_damaged_and_a_short_row_before_is_not(
    tmp_path: Path,
) -> None:
    """A download that stops right after the last row's DATE cell: read with its missing
    cells empty, the message came out with no text, under an id built from that text, and
    the whole archive, read next, added the real message as a second one. The last row is
    refused; a short row before it (its last cells empty, left out) is read as before."""
    rows = [*ROWS, row("2-CUT", ANA, [ME], "2026-01-03 08:00:00 UTC", "A message, cut")]
    data = csv_bytes(rows, COLUMNS)
    last = data.rstrip(b"\r\n").rsplit(b"\r\n", 1)[1]
    cells = last.split(b'","')[: COLUMNS.index("DATE") + 1]
    path = tmp_path / "messages.csv"
    path.write_bytes(data[: data.rindex(last)] + b'","'.join(cells) + b'"')
    with pytest.raises(ProviderError, match=r"row 5 is cut off after its cell \d+ of \d+"):
        read(path)

    header, first, rest = data.split(b"\r\n", 2)
    assert first.endswith(b',""')  # its ATTACHMENTS cell is empty: written short, it is left out
    path.write_bytes(b"\r\n".join([header, first.removesuffix(b',""'), rest]))
    assert len(read(path)) == len(rows)


def test_a_quote_the_csv_grammar_cannot_close_is_damage_too(tmp_path: Path) -> None:
    """Text after a quoted cell's closing quote (`"ab"cd`) is no CSV a writer makes."""
    data = csv_bytes(ROWS, COLUMNS).replace(b'"Hello both"', b'"Hello" both')
    path = tmp_path / "messages.csv"
    path.write_bytes(data)
    with pytest.raises(ProviderError, match=r"row 4 .*damaged"):
        read(path)


def test_group_chats_that_leave_the_member_out_do_not_erase_is_me(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 2021-layout archive (no RECIPIENT PROFILE URLS) where 2 of 14 conversations,
    group chats, do not list the member in TO: no one is in every conversation, but the
    member is in 12 of them and nobody else in more than 3. Before, every `is_me` of the
    archive became null; now the member is found, and a warning counts the 2."""
    people = [(f"Pat Number{i}", f"https://www.linkedin.com/in/pat-{i}") for i in range(12)]
    rows = []
    for i, person in enumerate(people):
        day = f"2021-06-{i + 1:02} 10:00:00 UTC"
        rows.append(row_2021(f"2-P{i}", person, OLIVE[0], day, f"Hello from {i}"))
        if i % 2:
            rows.append(
                row_2021(f"2-P{i}", OLIVE, person[0], day[:11] + "11" + day[13:], f"Re {i}")
            )
    rows += [
        row_2021("2-G1", ANA_PHD, f"{BO[0]},{people[0][0]}", "2021-07-01 10:00:00 UTC", "G1"),
        row_2021("2-G2", BO, f"{ANA_PHD[0]},{people[1][0]}", "2021-07-02 10:00:00 UTC", "G2"),
    ]
    path = write_archive(rows, tmp_path / "2021-groups.zip", columns=COLUMNS_2021)
    with caplog.at_level(logging.WARNING):
        records = by_text(read(path))
    assert all(records[f"Re {i}"]["sender"]["is_me"] is True for i in range(1, 12, 2))
    assert all(records[f"Hello from {i}"]["sender"]["is_me"] is False for i in range(12))
    assert records["G1"]["sender"]["is_me"] is False
    assert "2 conversations do not name the member" in caplog.text
    assert "cannot tell which person is the member" not in caplog.text


def test_two_people_in_as_many_conversations_leave_is_me_null(tmp_path: Path) -> None:
    """No one in every conversation and no one by far the most: no guess."""
    rows = [
        row_2021("2-A", ANA_PHD, OLIVE[0], "2021-05-01 10:00:00 UTC", "one"),
        row_2021("2-B", BO, ANA_PHD[0], "2021-05-02 10:00:00 UTC", "two"),
        row_2021("2-C", OLIVE, BO[0], "2021-05-03 10:00:00 UTC", "three"),
    ]
    path = write_archive(rows, tmp_path / "2021-tie.zip", columns=COLUMNS_2021)
    assert {r["sender"]["is_me"] for r in read(path)} == {None}


def test_a_name_with_a_trailing_space_is_one_person_emitted_trimmed(tmp_path: Path) -> None:
    """`FROM` "Sam Roe " in one row and `TO` "Sam Roe" in another (no URLs to join them):
    one participant, named without the space, and the sender's name trimmed too."""
    sam = ("Sam Roe ", "")
    rows = [
        row_2021("2-S", sam, OLIVE[0], "2021-05-01 10:00:00 UTC", "from Sam"),
        row_2021("2-S", OLIVE, "Sam Roe", "2021-05-01 10:05:00 UTC", "to Sam"),
        row_2021("2-T", BO, OLIVE[0], "2021-05-02 10:00:00 UTC", "from Bo"),
    ]
    path = write_archive(rows, tmp_path / "2021-space.zip", columns=COLUMNS_2021)
    output = run_export(path)
    (conversation,) = [c for c in output["conversations"] if c["thread_id"] == "2-S"]
    assert [p["name"] for p in conversation["participants"]] == ["Sam Roe"]
    senders = {m["text"]: m["sender"] for m in output["messages"]}
    assert senders["from Sam"]["name"] == "Sam Roe"
    assert senders["from Sam"]["is_me"] is False
    assert senders["to Sam"]["is_me"] is True


def test_a_row_in_the_draft_folder_is_a_draft_not_a_sent_message(tmp_path: Path) -> None:
    """2021's layout has no draft flags: its drafts are filed in the DRAFT folder."""
    rows = [
        row_2021("2-A", ANA_PHD, OLIVE[0], "2021-05-01 10:00:00 UTC", "Hi Olive"),
        row_2021("2-A", OLIVE, ANA_PHD[0], "2021-05-01 10:05:00 UTC", "Hi Ana"),
        {
            **row_2021("2-A", OLIVE, ANA_PHD[0], "2021-05-01 10:06:00 UTC", "Half"),
            "FOLDER": "DRAFT",
        },
    ]
    path = write_archive(rows, tmp_path / "2021-draft.zip", columns=COLUMNS_2021)
    assert sorted(r["text"] for r in read(path)) == ["Hi Ana", "Hi Olive"]


def test_an_empty_or_header_only_inbox_is_one_line_saying_which(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 0-byte `messages.csv` is empty (it used to be "no CONVERSATION ID column"); a
    header-only one is one error, without a warning that it was skipped as well."""
    empty = tmp_path / "messages.csv"
    empty.write_bytes(b"")
    with pytest.raises(ProviderError, match=r"messages.csv is empty\)"):
        read(empty)
    header_only = write_archive([], tmp_path / "header.zip")
    with caplog.at_level(logging.WARNING), pytest.raises(ProviderError) as raised:
        read(header_only)
    assert "holds only a header" in str(raised.value)
    assert "skipped" not in caplog.text


def test_every_inbox_of_a_zip_is_read_and_a_deeper_one_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two `messages.csv` (at the root and in the top folder) are both read, a message in
    both once; one deeper down is not read, and a warning names it."""
    later = [row("2-NEW", BO, [ME], "2026-02-01 10:00:00 UTC", "Only in the second")]
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("messages.csv", csv_bytes(ROWS, COLUMNS))
        archive.writestr(f"{TOP_FOLDER}/messages.csv", csv_bytes([*ROWS, *later], COLUMNS))
        archive.writestr(f"{TOP_FOLDER}/old/messages.csv", csv_bytes(later, COLUMNS))
    with caplog.at_level(logging.WARNING):
        texts = sorted(r["text"] or "" for r in run_export(path)["messages"])
    assert texts == sorted([*(r["CONTENT"] for r in ROWS), "Only in the second"])
    assert f"skipping {TOP_FOLDER}/old/messages.csv" in caplog.text


def test_a_bare_comma_inside_a_name_makes_no_made_up_people(tmp_path: Path) -> None:
    """Without recipient URLs, `TO` "Kim Lee,PhD" used to give the participants
    `Kim Lee,PhD`, `Kim Lee` and `PhD`. A cell is split only where every part is a name
    the archive knows as a person (a sender's): a group of two who both wrote is split,
    Kim's own name is not."""
    kim = ("Kim Lee,PhD", "")
    rows = [
        row_2021("2-K", kim, OLIVE[0], "2021-05-01 10:00:00 UTC", "from Kim"),
        row_2021("2-K", OLIVE, kim[0], "2021-05-01 10:05:00 UTC", "to Kim"),
        row_2021("2-G", ANA_PHD, f"{OLIVE[0]},{BO[0]}", "2021-05-02 10:00:00 UTC", "to group"),
        row_2021("2-G", BO, f"{OLIVE[0]},{ANA_PHD[0]}", "2021-05-02 10:05:00 UTC", "from Bo"),
        row_2021("2-G", OLIVE, f"{ANA_PHD[0]},{BO[0]}", "2021-05-02 10:06:00 UTC", "from me"),
    ]
    path = write_archive(rows, tmp_path / "2021-kim.zip", columns=COLUMNS_2021)
    output = run_export(path)
    participants = {
        c["thread_id"]: sorted(p["name"] for p in c["participants"])
        for c in output["conversations"]
    }
    assert participants == {"2-K": ["Kim Lee,PhD"], "2-G": sorted([ANA_PHD[0], BO[0]])}


def test_identical_rows_are_one_message_and_the_log_counts_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A row written twice is one message; the log says how many rows merged."""
    caplog.set_level(logging.INFO)
    path = write_archive([ROWS[0], ROWS[0], ROWS[1], ROWS[2]], tmp_path / "export.zip")
    output = run_export(path)
    assert len(output["messages"]) == 3
    assert "4 rows read: 4 message rows" in caplog.text
    assert ": 4 rows indexed: 3 messages, 1 repeated rows merged, in " in caplog.text


def test_sent_is_a_conversations_folder_only_where_no_row_names_another(tmp_path: Path) -> None:
    """FOLDER=SENT (the member's rows, in 2021 and later layouts too) is given as it is; a
    conversation is SENT only where none of its rows names INBOX, ARCHIVE or SPAM."""
    replied = [ROWS[0], {**ROWS[1], "FOLDER": "SENT"}]  # the member's reply is the newest
    unanswered = [{**ROWS[3], "FOLDER": "SENT"}]  # only the member wrote
    output = run_export(write_archive([*replied, *unanswered], tmp_path / "export.zip"))
    assert {r["thread_id"]: r["folder"] for r in output["conversations"]} == {
        "2-AAA": "INBOX",
        "2-GRP": "SENT",
    }
