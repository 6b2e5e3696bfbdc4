"""LinkedIn DMA (Member Data Portability API): payload -> record functions, the snapshot /
changelog choice, error lines, and end-to-end runs against the emulator's both routes.

`linkedin_dma_snapshot_sample.json` is the snapshot page's own "Sample Get Response",
retyped as printed (a PROFILE page):
https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-snapshot-api.
The other fixtures follow the documented shapes, with placeholder people and ids, of
that page,
https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-changelog-api
and the messages resource they carry,
https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages import records
from tap_linkedin_messages.linkedin_archive.layouts import split_names
from tap_linkedin_messages.normalize import ms_to_rfc3339
from tap_linkedin_messages.providers import (
    PROVIDERS,
    ApiRequest,
    Listing,
    ProviderError,
    linkedin_dma,
)
from tap_linkedin_messages.providers.linkedin_dma import (
    LinkedInDmaProvider,
    next_link,
    snapshot_rows,
)
from tap_linkedin_messages.providers.linkedin_dma_changelog import (
    changelog_message_record,
    mailbox_of,
    members_of,
)
from tap_linkedin_messages.providers.linkedin_export import LinkedInExportSource
from tap_linkedin_messages.providers.pages import Route
from tests.conftest import UNSAID, load_fixture, position_of, read_listing, response, run_tap
from tests.emulators.export import ExportArchive, export_message_id, export_rows, write_archive
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkedin_dma import DmaEmulator
from tests.emulators.server import Fault

TOKEN = "secret-dma-token-123"
JANE = "https://www.linkedin.com/in/jane-doe-42"
JOHN = "https://www.linkedin.com/in/john-smith-7"
ANA = "https://www.linkedin.com/in/ana-lima-3"
T1, T2 = "2-VGhyZWFkT25lRXhhbXBsZQ==", "2-VGhyZWFkVHdvRXhhbXBsZQ=="
M1, M2, M3 = "2-TWVzc2FnZU9uZUV4YW1wbGU=", "2-TWVzc2FnZVR3b0V4YW1wbGU=", "2-TWVzc2FnZVRocmVlRXg="
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
DAY_MS = 24 * 3600 * 1000
# The snapshot's rows do list attachments (none); the changelog's events say nothing more.
NO_ATTACHMENTS: dict[str, Any] = {**UNSAID, "attachments": []}


def provider(**config: Any) -> LinkedInDmaProvider:
    return LinkedInDmaProvider({"access_token": TOKEN, "page_size": 100, **config})


class Walk:
    """The stream's paging loop, played over given answers: it records the requests the
    listings make, and follows each page's cursor until one has none.

    `answers` are the first listing's; a later listing (the changelog after the
    snapshot) gets `later` (an empty changelog page where none are given). `requests` are
    the first listing's, `later_requests` the others'.
    """

    def __init__(
        self, *answers: Any, page_size: int = 100, later: tuple[Any, ...] = ({"elements": []},)
    ) -> None:
        self.answers = list(answers)
        self.later = list(later)
        self.page_size = page_size
        self.requests: list[ApiRequest] = []
        self.later_requests: list[ApiRequest] = []
        self.listings: list[Listing] = []

    def __call__(self, listing: Listing) -> Iterator[dict[str, Any]]:
        first = not self.listings
        self.listings.append(listing)
        requests = self.requests if first else self.later_requests
        cursor = None
        for answer in self.answers if first else self.later:
            requests.append(listing.request(cursor, self.page_size))
            page = listing.page(answer)
            yield from page.records
            cursor = page.next_cursor
            if cursor is None:
                return


def read(dma: LinkedInDmaProvider, walk: Walk, changelog_from: datetime | None = None) -> list[Any]:
    """What the adapter reads from a position at `changelog_from` (None: a first run)."""
    position = None if changelog_from is None else at(changelog_from)
    return read_listing(dma, walk, position)


def at(moment: datetime, *events: str) -> dict[str, Any]:
    """The position a run leaves at `moment`, with the ids of the events read there."""
    return {"changelog_from": epoch_ms(moment), "events_at_start": list(events)}


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(linkedin_dma, "utc_now", lambda: NOW)
    return NOW


# --- the snapshot ----------------------------------------------------------------------


def snapshot_records() -> list[dict[str, Any]]:
    walk = Walk(*load_fixture("linkedin_dma_snapshot_pages.json"))
    found = read(provider(), walk)
    assert [r.params for r in walk.requests] == [
        {"q": "criteria", "domain": "INBOX", "start": 0, "count": 100},
        {"q": "criteria", "domain": "INBOX", "start": 1, "count": 2},
    ]
    assert walk.listings[0].route == "snapshot"
    return found


def conversation(title: str | None, *people: tuple[str, str]) -> dict[str, Any]:
    return {
        "title": title,
        "category": None,
        "folder": "INBOX",
        "mailbox": None,
        "type": None,
        "participants": [records.participant(name=name, profile_url=url) for name, url in people],
        "last_read_at": None,
    }


def test_snapshot_pages_become_the_exports_records() -> None:
    pages = load_fixture("linkedin_dma_snapshot_pages.json")
    rows = [row for body in pages for row in snapshot_rows(body)]
    assert snapshot_records() == [
        {
            "message_id": export_message_id(rows[0]),
            "conversation_id": T1,
            "thread_id": T1,
            "sent_at": "2026-04-20T09:15:02.000Z",
            "text": "Hi Jane, are you free on Thursday?",
            "subject": None,
            "message_type": "TEXT",
            "sender": records.sender(name="John Smith", profile_url=JOHN, is_me=False),
            **NO_ATTACHMENTS,
            # Jane is in every conversation: she is the member, left out of participants.
            "conversation": conversation(None, ("John Smith", JOHN)),
        },
        {
            "message_id": export_message_id(rows[1]),
            "conversation_id": T1,
            "thread_id": T1,
            "sent_at": "2026-04-20T10:01:44.000Z",
            "text": "Thursday works, 3pm?",
            "subject": None,
            "message_type": "TEXT",
            "sender": records.sender(name="Jane Doe", is_me=True),
            **NO_ATTACHMENTS,
            "conversation": conversation(None, ("John Smith", JOHN)),
        },
        {
            "message_id": export_message_id(rows[2]),
            "conversation_id": T2,
            "thread_id": T2,
            "sent_at": "2026-04-22T16:30:00.000Z",
            "text": "Hello Ana, <b>quick question</b>",
            "subject": "Partnership",
            "message_type": "TEXT",
            "sender": records.sender(name="Jane Doe", is_me=True),
            **NO_ATTACHMENTS,
            "conversation": conversation("Partnership", ("Ana Lima", ANA)),
        },
    ]


def test_the_snapshot_and_the_export_give_a_message_the_same_record(tmp_path: Path) -> None:
    pages = load_fixture("linkedin_dma_snapshot_pages.json")
    rows = [row for body in pages for row in snapshot_rows(body)]
    archive = write_archive(rows, tmp_path / "export.zip", columns=list(rows[0]))
    exported = read_listing(LinkedInExportSource({"export_path": str(archive)}), Walk())
    assert snapshot_records() == exported


def test_snapshot_rows_are_normalised_like_csv_cells() -> None:
    body = {
        "elements": [
            {"snapshotDomain": "PROFILE", "snapshotData": [{"First Name": "Tom"}]},
            {
                "snapshotDomain": "INBOX",
                "snapshotData": [
                    {
                        " conversation id ": T1,
                        "TO": ["Ana Lima, PhD", "C D"],
                        "SUBJECT": None,
                        "N": 3,
                    }
                ],
            },
        ]
    }
    (row,) = snapshot_rows(body)
    assert row == {"CONVERSATION ID": T1, "TO": "Ana Lima, PhD,C D", "SUBJECT": "", "N": "3"}
    # Read back as the export's TO cell: two people, each whole.
    assert split_names(row["TO"]) == ["Ana Lima, PhD", "C D"]


def test_snapshot_paging_follows_next_links_not_total() -> None:
    first, second = load_fixture("linkedin_dma_snapshot_pages.json")
    listing = provider().snapshot_listing()
    # paging.total (1) says nothing about the end: the next link does, with its own
    # start and count.
    assert listing.page(first).next_cursor == "1:2"
    assert listing.request("1:2", 100).params == {
        "q": "criteria",
        "domain": "INBOX",
        "start": 1,
        "count": 2,
    }
    # A next link on a page without rows ends the listing.
    empty = {**second, "paging": first["paging"], "elements": []}
    end = listing.page(empty)
    assert (end.next_cursor, end.items, end.records) == (None, 0, [])


def test_the_snapshot_pages_own_sample_response() -> None:
    """The "Sample Get Response" of
    https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-snapshot-api:
    `start` 0, `count` 10, `total` 2 and a `next` link to `start=1`, on a page holding
    one PROFILE element."""
    sample = load_fixture("linkedin_dma_snapshot_sample.json")
    # The next link names the next page by number (start=1 after start=0 with count=10,
    # one element on this page), and its count: both are read from the href.
    assert next_link(sample) == (1, 10)
    listing = provider().snapshot_listing()
    # That cursor asks for page 1, 10 a page, of INBOX: the href's PROFILE domain is
    # not followed.
    assert listing.request("1:10", 100).params == {
        "q": "criteria",
        "domain": "INBOX",
        "start": 1,
        "count": 10,
    }
    # PROFILE rows (First Name "Tom", Last Name "Cruise") are no INBOX rows; it is the
    # domain that leaves them out: an element naming none is read.
    assert snapshot_rows(sample) == []
    undomained = {"elements": [{**sample["elements"][0], "snapshotDomain": None}]}
    assert [row["FIRST NAME"] for row in snapshot_rows(undomained)] == ["Tom"]
    # A page without INBOX rows ends the listing, even with a next link and `total: 2`
    # (the adapter asks `domain=INBOX`, so another domain's page is not expected there
    # [inferred]).
    page = listing.page(sample)
    assert (page.records, page.next_cursor, page.items, page.credits) == ([], None, 0, 0)
    walk = Walk(sample, sample)
    assert read(provider(), walk) == []
    assert [r.params["start"] for r in walk.requests] == [0]


# --- the changelog -----------------------------------------------------------------------


def changelog_record(
    message_id: str,
    sent_at: str,
    text: str | None,
    is_me: bool,
    read_at: str | None = None,
    **changes: Any,
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "conversation_id": T1,
        "thread_id": T1,
        "sent_at": sent_at,
        "text": text,
        "subject": None,
        "message_type": "TEXT",
        "sender": records.sender(is_me=is_me),
        # Every event lists its attachments (none here).
        **{**UNSAID, "attachments": []},
        **changes,
        "conversation": {
            "title": None,
            "category": None,
            "folder": None,
            # The member's own message: its `author` (a person) is the classic mailbox.
            "mailbox": "CLASSIC" if is_me else None,
            "type": None,
            "participants": [],
            "last_read_at": read_at,
        },
    }


def test_changelog_events_become_records(frozen_now: datetime) -> None:
    body = load_fixture("linkedin_dma_changelog.json")
    walk = Walk(body, {**body, "elements": body["elements"][-1:]})
    changelog_from = frozen_now - timedelta(days=5)
    found = read(provider(), walk, changelog_from)
    # The first request starts at the position; the next at the latest processedAt seen.
    assert [r.params["startTime"] for r in walk.requests] == [
        epoch_ms(changelog_from),
        1777201700000,
    ]
    assert walk.listings[0].route == "changelog"
    assert found == [
        # createdAt 1777200000123: whole seconds, as the snapshot's DATE.
        # `"readAt": 1777200000000`.
        changelog_record(
            M1, "2026-04-26T10:40:00.000Z", "See you Thursday!", True, "2026-04-26T10:40:00.000Z"
        ),
        changelog_record(M2, "2026-04-26T10:50:00.000Z", "Great, talk then.", False),
        # format LITTLE: the fallback, without the mention markup.
        changelog_record(M3, "2026-04-26T11:00:00.000Z", "Thanks @John Smith", True),
        # The edit: M1 again, its own time kept, the new text and when it changed.
        changelog_record(
            M1,
            "2026-04-26T10:40:00.000Z",
            "See you Thursday at 3!",
            True,
            is_edited=True,
            edited_at="2026-04-26T11:05:00.000Z",
        ),
        # The deletion: M2 again, no text, marked deleted.
        changelog_record(
            M2,
            "2026-04-26T10:50:00.000Z",
            None,
            False,
            edited_at="2026-04-26T11:06:40.000Z",
            is_deleted=True,
        ),
    ]


def test_the_boundary_event_comes_again_and_ends_the_listing(frozen_now: datetime) -> None:
    body = load_fixture("linkedin_dma_changelog.json")
    walk = Walk(body, {**body, "elements": body["elements"][-1:]}, {"elements": []})
    read(provider(), walk, frozen_now - timedelta(days=1))
    listing = walk.listings[0]
    # Six events (an edit, a deletion and an invitation among them); no credits.
    first = listing.page(body)
    assert (first.items, first.credits) == (6, 0)
    # The boundary event again: nothing new, the end.
    again = listing.page({**body, "elements": body["elements"][-1:]})
    assert (again.records, again.next_cursor, again.items) == ([], None, 1)
    assert len(walk.requests) == 2


def test_a_message_repeated_under_a_new_activity_id_comes_out_once(frozen_now: datetime) -> None:
    body = load_fixture("linkedin_dma_changelog.json")
    # LinkedIn replays an event under its `activityId` as a record of its own.
    replay = {
        **body["elements"][0],
        "id": 1900000999,
        "activityStatus": "SUCCESSFUL_REPLAY",
        "processedAt": 1777201800000,
    }
    walk = Walk(body, {"elements": [replay]}, {"elements": []})
    found = read(provider(), walk, frozen_now - timedelta(days=1))
    # Three messages, the edit and the deletion; not the replay, which changes nothing.
    assert [r["message_id"] for r in found] == [M1, M2, M3, M1, M2]
    assert walk.requests[-1].params["startTime"] == 1777201800000


def test_changelog_record_edge_cases() -> None:
    record = changelog_message_record(
        {
            "resourceId": "0-old",
            "activity": {
                "thread": "urn:li:messagingThread:0-NjU5OTcz",
                "createdAt": 1574383506267,
                "content": {"format": "TEXT", "fallback": "", "content": {"string": "hi"}},
            },
        }
    )
    assert record is not None
    # A `0-` thread, as LinkedIn's own compliance examples show them, is a thread id too.
    assert (record["conversation_id"], record["thread_id"]) == ("0-NjU5OTcz", "0-NjU5OTcz")
    assert record["text"] == "hi"
    assert record["sender"]["is_me"] is None  # neither owner nor actor given
    audio = changelog_message_record(
        {
            "resourceId": "2-a",
            "owner": "urn:li:person:a",
            "actor": "urn:li:person:a",
            "activity": {
                "content": {"format": "LITTLE", "fallback": "", "content": {"string": "{audio|x}"}}
            },
        }
    )
    assert audio is not None
    assert (audio["text"], audio["sent_at"], audio["conversation_id"]) == (None, None, None)


# --- which route -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "routes"),
    [
        (None, ["snapshot", "changelog"]),  # a first run
        (timedelta(hours=1), ["changelog"]),
        (timedelta(days=26, hours=23), ["changelog"]),
        (timedelta(days=27, hours=1), ["snapshot", "changelog"]),  # within a day of the 28
        (timedelta(days=40), ["snapshot", "changelog"]),
    ],
)
def test_the_positions_age_picks_the_routes(
    frozen_now: datetime,
    age: timedelta | None,
    routes: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The changelog from the position while it keeps it; otherwise the snapshot, and the
    changelog as far back as it reaches (27 days: a day inside its 28), with a warning
    when a position fell out of it (not on a first run)."""
    walk = Walk({"elements": []}, page_size=10)
    read(provider(), walk, None if age is None else frozen_now - age)
    assert [listing.route for listing in walk.listings] == routes
    changelog = (walk.requests if routes == ["changelog"] else walk.later_requests)[0]
    assert changelog.path == "/rest/memberChangeLogs"
    start = frozen_now - age if routes == ["changelog"] and age else frozen_now - timedelta(days=27)
    assert changelog.params == {
        "q": "memberAndApplication",
        "startTime": epoch_ms(start),
        "count": 10,
    }
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if age is not None and routes[0] == "snapshot":
        (line,) = warned
        assert "the snapshot, taken at consent, is read again" in line
        assert "run at least every few weeks" in line
    else:
        assert warned == []


def test_the_position_is_the_latest_processed_event_or_the_reads_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events are read by position, not by their time; the next read starts at the latest
    `processedAt`, with the ids read there; a read that finds nothing new moves its
    position to an hour before it started (never back), so a quiet account's position
    stays inside the changelog's 28 days."""
    body = load_fixture("linkedin_dma_changelog.json")
    latest = max(event["processedAt"] for event in body["elements"])
    now = datetime.fromtimestamp(latest / 1000 + 600, tz=timezone.utc)
    monkeypatch.setattr(linkedin_dma, "utc_now", lambda: now)
    dma = provider()
    walk = Walk(body, {**body, "elements": body["elements"][-1:]})
    with dma.read_messages(walk, at(now - timedelta(days=5))) as listed:
        assert [r["message_id"] for r in listed.messages] == [M1, M2, M3, M1, M2]
    at_latest = [str(e["id"]) for e in body["elements"] if e["processedAt"] == latest]
    assert listed.whole is False
    assert listed.position == {"changelog_from": latest, "events_at_start": at_latest}

    # Ten minutes on: the boundary event again, dropped by its id; the position stays.
    again = Walk({**body, "elements": body["elements"][-1:]})
    with dma.read_messages(again, listed.position) as unchanged:
        assert list(unchanged.messages) == []
    assert again.requests[0].params["startTime"] == latest
    assert unchanged.position == listed.position

    # A day on, nothing new: an hour before the read's start.
    later = now + timedelta(days=1)
    monkeypatch.setattr(linkedin_dma, "utc_now", lambda: later)
    with dma.read_messages(Walk({"elements": []}), unchanged.position) as quiet:
        assert list(quiet.messages) == []
    hour_before = epoch_ms(later - timedelta(hours=1))
    assert quiet.position == {"changelog_from": hour_before, "events_at_start": []}


def test_changelog_pages_stay_within_the_documented_count(frozen_now: datetime) -> None:
    walk = Walk({"elements": []}, page_size=500)
    read(provider(), walk, frozen_now - timedelta(hours=2))
    assert walk.requests[0].params["count"] == 50


def test_requests_carry_the_token_and_the_version() -> None:
    assert provider(linkedin_version="202505").auth_headers() == {
        "Authorization": f"Bearer {TOKEN}",
        "LinkedIn-Version": "202505",
        "X-Restli-Protocol-Version": "2.0.0",
    }
    assert provider().auth_headers()["LinkedIn-Version"] == "202312"
    assert provider().api_url == "https://api.linkedin.com"
    assert PROVIDERS["linkedin_dma"] is LinkedInDmaProvider


# --- errors ----------------------------------------------------------------------------


SCOPE = (
    "the `access_token` lacks the r_dma_portability_3rd_party or r_dma_portability_member "
    "scope, or the member is outside the EEA and Switzerland, where LinkedIn offers this API"
)
NOT_READY = (
    "LinkedIn prepares the INBOX snapshot after the member consents, or it holds no "
    "messages; run again later"
)


@pytest.mark.parametrize(
    ("status", "body", "route", "first_page", "expected"),
    [
        (
            401,
            {
                "status": 401,
                "serviceErrorCode": 65600,
                "code": "INVALID_ACCESS_TOKEN",
                "message": f"Invalid access token {TOKEN}",
            },
            "changelog",
            True,
            "linkedin_dma: INVALID_ACCESS_TOKEN (HTTP 401): Invalid access token *** - check "
            "the `access_token` setting (expired or revoked? get a new token)",
        ),
        (
            401,
            b"<html>Unauthorized</html>",
            "changelog",
            True,
            "linkedin_dma: Unauthorized (HTTP 401) - check the `access_token` setting (expired "
            "or revoked? get a new token)",
        ),
        (
            403,
            {
                "status": 403,
                "serviceErrorCode": 100,
                "message": "Not enough permissions to access:\n memberSnapshotData",
            },
            "snapshot",
            True,
            "linkedin_dma: 100 (HTTP 403): Not enough permissions to access: memberSnapshotData"
            f" - {SCOPE}",
        ),
        (
            426,
            {
                "status": 426,
                "code": "NONEXISTENT_VERSION",
                "message": "Requested version 202201 is not active",
            },
            "changelog",
            True,
            "linkedin_dma: NONEXISTENT_VERSION (HTTP 426): Requested version 202201 is not "
            "active - check the `linkedin_version` setting (LinkedIn retires versions after a "
            "year)",
        ),
        (
            400,
            {"status": 400, "code": "VERSION_MISSING", "message": "A version must be present."},
            "changelog",
            True,
            "linkedin_dma: VERSION_MISSING (HTTP 400): A version must be present. - check the "
            "`linkedin_version` setting (LinkedIn retires versions after a year)",
        ),
        (
            400,
            {"status": 400, "message": "Invalid startTime"},
            "changelog",
            True,
            "linkedin_dma: Bad Request (HTTP 400): Invalid startTime - an answer the tap does "
            "not know; check the tap settings",
        ),
        (
            404,
            {"status": 404, "message": "No data found for the member"},
            "snapshot",
            True,
            f"linkedin_dma: Not Found (HTTP 404): No data found for the member - {NOT_READY}",
        ),
        (202, b"", "snapshot", False, f"linkedin_dma: error (HTTP 202) - {NOT_READY}"),
    ],
)
def test_errors_are_one_line_naming_what_to_check(
    status: int, body: Any, route: Route, first_page: bool, expected: str
) -> None:
    with pytest.raises(ProviderError) as raised:
        provider().check(response(status, body), route=route, first_page=first_page)
    assert str(raised.value) == expected
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            429,
            {"status": 429, "message": "Resource level throttle limit reached"},
            "Too Many Requests (HTTP 429)",
        ),
        (
            500,
            {"status": 500, "message": "Internal Server Error"},
            "Internal Server Error (HTTP 500)",
        ),
        (503, b"<html>down</html>", "Service Unavailable (HTTP 503) - a body that is not JSON"),
        (200, b'{"paging": {"start": 0', "error (HTTP 200) - a body that is not JSON"),
    ],
)
def test_transient_answers_are_retried(status: int, body: Any, expected: str) -> None:
    with pytest.raises(RetriableAPIError, match=re.escape(f"linkedin_dma: {expected}")):
        provider().check(response(status, body), route=Route.CHANGELOG)


def test_a_404_past_the_snapshots_first_page_is_its_end() -> None:
    answer = response(404, {"status": 404, "message": "No data found"})
    assert provider().check(answer, route=Route.SNAPSHOT, first_page=False) is None


# --- end to end, over HTTP -------------------------------------------------------------


@pytest.fixture
def dma_emulator() -> Any:
    started: list[DmaEmulator] = []

    def make(inbox: SyntheticInbox) -> DmaEmulator:
        emulator = DmaEmulator(inbox).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


def on_emulator_clock(monkeypatch: pytest.MonkeyPatch, emulator: DmaEmulator) -> None:
    """The adapter's now is the emulator's (its history is the synthetic 2025)."""
    monkeypatch.setattr(linkedin_dma, "utc_now", emulator.now)


def test_a_full_sync_pages_the_snapshot_once(dma_emulator: Any) -> None:
    inbox = SyntheticInbox.generate(
        seed=41, conversations=3, messages=lambda i: 23 if i == 1 else 2
    )
    emulator = dma_emulator(inbox)
    output = run_tap(emulator.config(page_size=5))
    assert len(output.of("messages")) == 27
    # 27 rows in pages of 5; then the changelog since consent, which holds nothing yet.
    assert emulator.routes() == {"snapshot": math.ceil(27 / 5), "changelog": 1}
    starts = [call.query["start"][0] for call in emulator.calls if call.route == "snapshot"]
    assert starts == ["0", "1", "2", "3", "4", "5"]
    headers = emulator.calls[0].headers
    assert headers["linkedin-version"] == "202312"
    assert headers["x-restli-protocol-version"] == "2.0.0"


def test_an_empty_inbox_is_one_snapshot_request(dma_emulator: Any) -> None:
    emulator = dma_emulator(SyntheticInbox.generate(seed=42, conversations=0))
    assert run_tap(emulator.config()).records == {}
    assert emulator.routes() == {"snapshot": 1, "changelog": 1}


def test_hourly_runs_read_the_changelog_only(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = SyntheticInbox.generate(seed=43, conversations=6, messages=4)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config(page_size=8))
    assert set(emulator.routes()) == {"snapshot", "changelog"}
    threads = list(inbox.conversations)
    added = [
        inbox.add_message(threads[0], sender=inbox.owner),
        inbox.add_message(threads[3]),
        inbox.add_message(threads[3], sender=inbox.conversations[threads[3]].participants[0]),
    ]
    emulator.reset_counters()

    second = run_tap(emulator.config(page_size=8), state=first.state)

    # The page of events, then the boundary event again, which ends the listing.
    assert emulator.routes() == {"changelog": 2}
    assert sorted(r["message_id"] for r in second.of("messages")) == sorted(
        m.message_key for m in added
    )
    assert {emulator.message_id(m) for m in added} == {m.message_key for m in added}
    by_id = {r["message_id"]: r for r in second.of("messages")}
    for message in added:
        record = by_id[message.message_key]
        assert record["sender"]["is_me"] is (message.sender is inbox.owner)
        assert record["sent_at"] == emulator.sent_at(message.sent_at_ms)
        assert record["text"] == message.text
        assert record["thread_id"] == record["conversation_id"] == message.thread_id
    assert sorted(r["thread_id"] for r in second.of("conversations")) == sorted(
        {threads[0], threads[3]}
    )
    # The first run's position was the hour before it (nothing had come since consent).
    first_position = position_of(first.state)["source"]
    assert int(emulator.calls[0].query["startTime"][0]) == first_position["changelog_from"]

    emulator.reset_counters()
    third = run_tap(emulator.config(page_size=8), state=second.state)
    assert third.records == {}
    # From the latest event read, whose id the position keeps: it comes again, and is
    # dropped.
    assert emulator.routes() == {"changelog": 1}
    latest = max(emulator.processed_at(m) for m in added)
    assert position_of(second.state)["source"]["changelog_from"] == latest
    assert int(emulator.calls[0].query["startTime"][0]) == latest


@pytest.mark.parametrize(("page_size", "batch"), [(10, 9), (10, 11), (100, 51)])
def test_more_events_in_one_millisecond_than_a_page_do_not_end_the_changelog(
    dma_emulator: Any, caplog: pytest.LogCaptureFixture, page_size: int, batch: int
) -> None:
    """The changelog pages by an inclusive `startTime` alone
    (https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-changelog-api):
    a full page of events all processed in one millisecond comes back the same, with
    nothing new. Taken as the end, the message processed after them was never read, and
    the position later moved past it; now the read goes on from the next millisecond and
    says what it may miss. (`count` is at most 50: 51 events fill a default page.)"""
    inbox = SyntheticInbox.generate(seed=7, conversations=3, messages=2)
    emulator = dma_emulator(inbox)
    config = emulator.config(page_size=page_size)
    first = run_tap(config)
    invitation = load_fixture("linkedin_dma_changelog.json")["elements"][-1]
    at = (emulator.consented_at_ms or 0) + 1
    emulator.extra_events += [
        {**invitation, "id": 5_000_000 + i, "activityId": f"batch-{i}", "processedAt": at}
        for i in range(batch)
    ]
    added = inbox.add_message(next(iter(inbox.conversations)))
    emulator.process_now()
    second = run_tap(config, state=first.state)
    assert [r["message_id"] for r in second.of("messages")] == [added.message_key]
    warned = "events processed at" in caplog.text
    assert warned is (batch >= min(page_size, 50))


def test_a_quiet_inbox_reads_the_changelog_whatever_its_newest_messages_age(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The member consented 5 days ago; their newest message is more than 45 days older
    than that (the synthetic history is of 2025). The snapshot, processed at consent,
    never holds what comes later: the next runs read the changelog from where the last
    one stopped, not from the newest message's time."""
    inbox = SyntheticInbox.generate(seed=52, conversations=3, messages=3)
    newest = max(m.sent_at_ms for c in inbox.conversations.values() for m in c.messages)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    assert len(first.of("messages")) == 9
    assert emulator.consented_at_ms is not None
    assert emulator.consented_at_ms - newest > 45 * DAY_MS

    emulator.clock_offset_ms += 5 * DAY_MS
    arrived = inbox.add_message(list(inbox.conversations)[1], sent_at_ms=emulator.now_ms())
    emulator.clock_offset_ms += 60_000  # processed 30 s after it was sent
    emulator.reset_counters()
    second = run_tap(emulator.config(), state=first.state)
    assert [r["message_id"] for r in second.of("messages")] == [arrived.message_key]
    assert set(emulator.routes()) == {"changelog"}

    emulator.reset_counters()
    third = run_tap(emulator.config(), state=second.state)
    assert third.records == {}
    assert set(emulator.routes()) == {"changelog"}


def test_an_event_processed_after_the_run_is_read_by_the_next_one(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created 40 minutes before a run, processed only after it: the next run reads it
    (its `processedAt` is past the position), although its time is older than what the
    run emitted."""
    inbox = SyntheticInbox.generate(seed=44, conversations=4, messages=3)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    threads = list(inbox.conversations)
    emulator.clock_offset_ms += DAY_MS
    emulator.process_now()
    first = run_tap(emulator.config())
    hourly = inbox.add_message(threads[2], sent_at_ms=emulator.now_ms() - 60_000)
    emulator.clock_offset_ms += 10 * 60_000
    second = run_tap(emulator.config(), state=first.state)
    assert [r["message_id"] for r in second.of("messages")] == [hourly.message_key]
    ran_at = emulator.now_ms()
    # Sent 40 minutes before this run, processed only after it.
    late = inbox.add_message(threads[0], sent_at_ms=ran_at - 40 * 60_000)
    emulator.clock_offset_ms += 60 * 60_000
    emulator.reset_counters()
    third = run_tap(emulator.config(), state=second.state)
    assert [r["message_id"] for r in third.of("messages")] == [late.message_key]
    # Older than the newest message the last run emitted, by more than any lookback.
    assert emulator.processed_at(late) > ran_at > hourly.sent_at_ms - 25 * 60_000 > late.sent_at_ms
    assert set(emulator.routes()) == {"changelog"}
    emulator.reset_counters()
    assert run_tap(emulator.config(), state=third.state).records == {}


def test_a_failed_event_replayed_later_comes_out_again_whole(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LinkedIn processes an event with `activityStatus: FAILURE` (here: no content) and
    replays it later as `SUCCESSFUL_REPLAY` with the message's own, older, `createdAt`
    (the statuses the event schema lists). The replay is read by the run after it, and
    the message comes out again, whole, under its id."""
    inbox = SyntheticInbox.generate(seed=53, conversations=3, messages=2)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    message = inbox.add_message(list(inbox.conversations)[1], text="The contract, signed")
    emulator.failed.add(message.message_key)
    second = run_tap(emulator.config(), state=first.state)
    (partial,) = second.of("messages")
    assert (partial["message_id"], partial["text"]) == (message.message_key, None)

    emulator.clock_offset_ms += 3 * 3600_000
    emulator.replay(message)
    emulator.reset_counters()
    third = run_tap(emulator.config(), state=second.state)
    (whole,) = third.of("messages")
    assert (whole["message_id"], whole["text"]) == (message.message_key, message.text)
    assert whole["sent_at"] == partial["sent_at"] == emulator.sent_at(message.sent_at_ms)
    assert run_tap(emulator.config(), state=third.state).records == {}


def test_partial_updates_apply_their_patch_or_are_named(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A PARTIAL_UPDATE (a method the changelog lists) read as LinkedIn's Rest.li patch
    [inferred]: one that sets `content` is an edit of the message, under its id, time and
    conversation (looked up from its CREATE, read by an earlier run); one that sets
    nothing a record holds is counted in a warning."""
    inbox = SyntheticInbox.generate(seed=54, conversations=2, messages=2)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    message = inbox.add_message(next(iter(inbox.conversations)), text="Lunch at 12?")
    second = run_tap(emulator.config(), state=first.state)
    (created,) = second.of("messages")

    emulator.clock_offset_ms += 3600_000
    now = emulator.now_ms()
    base = emulator.message_event(message)
    fallback = {"format": "TEXT", "fallback": "Lunch at 1?", "formatVersion": 1}
    emulator.extra_events += [
        {
            **base,
            "method": "PARTIAL_UPDATE",
            "id": 9_000_001,
            "activityId": "patch-content",
            "processedAt": now - 2000,
            "capturedAt": now - 3000,
            "activity": {"patch": {"$set": {"content": fallback}}},
        },
        {
            **base,
            "method": "PARTIAL_UPDATE",
            "id": 9_000_002,
            "activityId": "patch-read",
            "processedAt": now - 1000,
            "activity": {"patch": {"$set": {"readAt": now - 5000}}},
        },
    ]
    third = run_tap(emulator.config(), state=second.state)
    (edited,) = third.of("messages")
    assert edited["message_id"] == created["message_id"] == message.message_key
    assert (edited["text"], edited["is_edited"]) == ("Lunch at 1?", True)
    assert edited["edited_at"] == ms_to_rfc3339(now - 3000)
    assert edited["sent_at"] == created["sent_at"]
    assert edited["conversation_id"] == created["conversation_id"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "1 PARTIAL_UPDATE message event(s) set no text" in w and message.message_key in w
        for w in warnings
    )


def test_other_events_are_skipped(dma_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = SyntheticInbox.generate(seed=45, conversations=2, messages=2)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    added = inbox.add_message(list(inbox.conversations)[1])
    fixture = load_fixture("linkedin_dma_changelog.json")["elements"]
    for offset, event in enumerate(fixture[3:]):  # an edit, a deletion, an invitation
        emulator.extra_events.append({**event, "processedAt": added.sent_at_ms + offset})
    second = run_tap(emulator.config(), state=first.state)
    assert [r["message_id"] for r in second.of("messages")] == [added.message_key]


def test_a_position_past_the_changelogs_28_days_reads_the_snapshot_again_and_warns(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After 40 days without a run, the changelog no longer holds the position: the
    snapshot (frozen at consent) is read again, and of it only what no run emitted comes
    out (nothing); the changelog as far back as it reaches gives what happened then; what
    happened in between is lost, and a warning says so."""
    inbox = SyntheticInbox.generate(seed=46, conversations=5, messages=3)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config(page_size=20))
    threads = list(inbox.conversations)
    emulator.clock_offset_ms += DAY_MS
    lost = inbox.add_message(threads[0])
    emulator.process_now()  # processed on day 1: 39 days before the next run
    emulator.clock_offset_ms += 39 * DAY_MS
    kept = inbox.add_message(threads[2])
    emulator.reset_counters()
    second = run_tap(emulator.config(page_size=20), state=first.state)
    # The snapshot's one page, the changelog's page and its boundary again.
    assert emulator.routes() == {"snapshot": 1, "changelog": 2}
    assert [r["message_id"] for r in second.of("messages")] == [kept.message_key]
    # The message processed on day 1 is in neither: the snapshot is of consent, and the
    # changelog keeps 28 days.
    assert emulator.now_ms() - emulator.processed_at(lost) > 28 * DAY_MS
    (warning,) = [
        r.getMessage()
        for r in caplog.records
        if r.levelname == "WARNING" and r.name.startswith("tap_linkedin_messages")
    ]
    assert "the changelog no longer reaches this account's position" in warning
    assert "run at least every few weeks" in warning
    # And the next run is back on the changelog.
    emulator.reset_counters()
    third = run_tap(emulator.config(page_size=20), state=second.state)
    assert third.records == {}
    assert set(emulator.routes()) == {"changelog"}


def test_snapshot_and_export_emit_the_same_records_for_one_inbox(dma_emulator: Any) -> None:
    inbox = SyntheticInbox.generate(seed=47, conversations=4, messages=5)
    dma = run_tap(dma_emulator(inbox).config(page_size=3))
    archive = ExportArchive(inbox)
    try:
        export = run_tap(archive.config())
    finally:
        archive.stop()

    def rows(output: Any, stream: str, key: str) -> list[dict[str, Any]]:
        return sorted(
            ({k: v for k, v in r.items() if k != "provider"} for r in output.of(stream)),
            key=lambda r: r[key],
        )

    assert rows(dma, "messages", "message_id") == rows(export, "messages", "message_id")
    assert rows(dma, "conversations", "conversation_id") == rows(
        export, "conversations", "conversation_id"
    )
    assert {r["message_id"] for r in dma.of("messages")} == {
        export_message_id(row) for row in export_rows(inbox)
    }


def test_a_snapshot_not_ready_stops_the_run_with_one_line(dma_emulator: Any) -> None:
    emulator = dma_emulator(SyntheticInbox.generate(seed=48, conversations=2, messages=2))
    emulator.snapshot_ready = False
    with pytest.raises(ProviderError, match=r"LinkedIn prepares the INBOX snapshot"):
        run_tap(emulator.config())


def test_an_inactive_version_names_the_setting(dma_emulator: Any) -> None:
    emulator = dma_emulator(SyntheticInbox.generate(seed=49, conversations=2, messages=2))
    with pytest.raises(
        ProviderError, match=r"NONEXISTENT_VERSION \(HTTP 426\).*`linkedin_version`"
    ):
        run_tap(emulator.config(linkedin_version="202201"))


def test_a_rate_limit_is_retried(dma_emulator: Any) -> None:
    emulator = dma_emulator(SyntheticInbox.generate(seed=50, conversations=2, messages=2))
    emulator.inject(
        Fault(route=Route.SNAPSHOT, reply=emulator.error_reply("rate_limited", retry_after="0"))
    )
    output = run_tap(emulator.config())
    assert len(output.of("messages")) == 4
    assert [call.status for call in emulator.calls] == [429, 200, 200]
    assert [call.route for call in emulator.calls] == ["snapshot", "snapshot", "changelog"]


def test_edits_deletions_and_attachments_over_http(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The changelog's `messages` events
    (`method` values: https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-changelog-api):
    a CREATE's attachments are asset URNs; an UPDATE carries the edited text and a DELETE
    no content, both under the message's `resourceId`, so each keeps its `message_id`
    and `sent_at`, and a warehouse upsert keeps the newest state."""
    inbox = SyntheticInbox.generate(seed=47, conversations=3, messages=2)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    threads = list(inbox.conversations)
    with_file = inbox.add_message(threads[0], sender=inbox.owner, text="The deck, as promised")
    asset = inbox.attach(with_file, "deck.pdf", "application/pdf", 48_213)
    to_edit = inbox.add_message(threads[1], text="Meet at 2?")
    to_delete = inbox.add_message(threads[2], text="Wrong thread, sorry")
    second = run_tap(emulator.config(), state=first.state)
    created = {r["message_id"]: r for r in second.of("messages")}
    assert set(created) == {with_file.message_key, to_edit.message_key, to_delete.message_key}
    assert created[with_file.message_key]["attachments"] == [
        {
            "id": f"urn:li:digitalmediaAsset:{asset.asset_id}",
            "name": None,
            "media_type": None,
            "size_bytes": None,
            "url": None,
            "url_expires_at": None,
        }
    ]
    assert created[to_edit.message_key]["attachments"] == []

    inbox.edit(to_edit, "Meet at 3?")
    inbox.delete(to_delete)
    emulator.reset_counters()
    third = run_tap(emulator.config(), state=second.state)

    changed = {r["message_id"]: r for r in third.of("messages")}
    assert set(changed) == {to_edit.message_key, to_delete.message_key}
    edit, deletion = changed[to_edit.message_key], changed[to_delete.message_key]
    assert (edit["text"], edit["is_edited"], edit["is_deleted"]) == ("Meet at 3?", True, None)
    assert edit["edited_at"] == ms_to_rfc3339(to_edit.edited_at_ms)
    assert (deletion["text"], deletion["is_deleted"]) == (None, True)
    for message in (to_edit, to_delete):
        assert changed[message.message_key]["sent_at"] == created[message.message_key]["sent_at"]
    assert set(emulator.routes()) == {"changelog"}
    # Each edited or deleted conversation comes again, with its activity moved on.
    assert sorted(r["thread_id"] for r in third.of("conversations")) == sorted(threads[1:])


def test_zero_prefixed_threads_keep_their_thread_id_on_both_routes(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LinkedIn's own samples show `0-` threads
    (`urn:li:messagingThread:0-NjU5OTczMDkxNTAzODAyNzc3Ng==`,
    https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/sales-nav-messages):
    served by the snapshot (`CONVERSATION ID`) and the changelog (`activity.thread`), such
    a thread is a conversation with that thread id, as a `2-` one is."""
    inbox = SyntheticInbox.generate(seed=51, conversations=3, messages=2)
    emulator = dma_emulator(inbox)
    threads = list(inbox.conversations)
    emulator.zero_threads = {threads[0], threads[2]}
    served = {emulator.conversation_id(t): t for t in threads}
    assert sorted(served)[:2] == sorted("0-" + threads[i][2:] for i in (0, 2))
    on_emulator_clock(monkeypatch, emulator)

    first = run_tap(emulator.config())
    assert set(emulator.routes()) == {"snapshot", "changelog"}
    conversations = first.of("conversations")
    assert sorted(r["thread_id"] for r in conversations) == sorted(served)
    assert all(r["conversation_id"] == r["thread_id"] for r in conversations)
    by_thread: dict[str, int] = {}
    for record in first.of("messages"):
        assert record["conversation_id"] == record["thread_id"]
        by_thread[record["thread_id"]] = by_thread.get(record["thread_id"], 0) + 1
    assert by_thread == dict.fromkeys(served, 2)

    added = [inbox.add_message(threads[0]), inbox.add_message(threads[1])]
    emulator.reset_counters()
    second = run_tap(emulator.config(), state=first.state)
    assert set(emulator.routes()) == {"changelog"}
    found = {r["message_id"]: r for r in second.of("messages")}
    assert set(found) == {m.message_key for m in added}
    for message in added:
        wire = emulator.conversation_id(message.thread_id)
        assert found[message.message_key]["thread_id"] == wire
        assert found[message.message_key]["conversation_id"] == wire
    assert found[added[0].message_key]["thread_id"].startswith("0-")
    assert sorted(r["thread_id"] for r in second.of("conversations")) == sorted(
        emulator.conversation_id(t) for t in threads[:2]
    )


def test_a_processed_activity_names_the_sender_and_its_absence_leaves_it_null(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The messages reference: "All message events' activity and processedActivity fields
    will contain owner, author, and thread fields"
    (https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/messages);
    the author's decoration (`author~`, printed `{...}` there; a lite profile's fields
    [inferred]) names the sender, and an event without one leaves name and URL null."""
    inbox = SyntheticInbox.generate(seed=52, conversations=2, messages=2)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    threads = list(inbox.conversations)
    other = inbox.conversations[threads[1]].participants[0]
    mine = inbox.add_message(threads[0], sender=inbox.owner)
    theirs = inbox.add_message(threads[1], sender=other)
    bare = inbox.add_message(threads[1], sender=other)
    emulator.decorate = lambda message: message is not bare
    emulator.reset_counters()

    second = run_tap(emulator.config(), state=first.state)

    assert set(emulator.routes()) == {"changelog"}
    # What the emulator serves: the activity's people again, the author decorated.
    served = emulator.message_event(theirs)["processedActivity"]
    assert served["author"] == served["owner"] == emulator.message_event(theirs)["actor"]
    assert served["author~"] == {
        "localizedFirstName": other.first_name,
        "localizedLastName": other.last_name,
        "vanityName": other.profile_id,
    }
    assert served["thread"] == f"urn:li:messagingThread:{threads[1]}"
    assert "processedActivity" not in emulator.message_event(bare)
    senders = {r["message_id"]: r["sender"] for r in second.of("messages")}
    assert senders == {
        mine.message_key: records.sender(
            name="Olive Owner", profile_url=inbox.owner.profile_url, is_me=True
        ),
        theirs.message_key: records.sender(
            name=other.name, profile_url=other.profile_url, is_me=False
        ),
        # Not decorated: who sent it is known (actor != owner), not their name.
        bare.message_key: records.sender(is_me=False),
    }
    assert other.profile_url == f"https://www.linkedin.com/in/{other.profile_id}"


def test_the_threads_membership_names_the_other_participants() -> None:
    """The messages reference: "The thread field contains the membership array field that
    have the identity of all the participants in the message thread"; its Sales Navigator
    inbound sample (owner `urn:li:person:kAq_1ptj-v`), with the `{...}` decorations
    filled in as lite profiles [inferred]
    (https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/messages).
    The member's own entry is left out, and a mailbox is named by its member."""
    owner = "urn:li:person:kAq_1ptj-v"
    thread = {
        "owner": "urn:li:salesIdentity:334326",
        "membership": [
            {
                "createdAt": 1573498467712,
                "identity~": {
                    "member": "urn:li:person:2qXA98-mVk",
                    "member~": {
                        "localizedFirstName": "Sam",
                        "localizedLastName": "Seller",
                        "vanityName": "sam-seller",
                    },
                    "id": 334326,
                },
                "identity": "urn:li:salesIdentity:334326",
            },
            {
                "createdAt": 1573498467712,
                "identity~": {"localizedFirstName": "Olive", "localizedLastName": "Owner"},
                "identity": owner,
            },
        ],
    }
    assert members_of(thread, owner) == [
        records.participant(name="Sam Seller", profile_url="https://www.linkedin.com/in/sam-seller")
    ]
    # The member in a Sales Navigator mailbox is left out too; no decoration: nobody.
    assert members_of(thread, "urn:li:person:2qXA98-mVk") == [
        records.participant(name="Olive Owner")
    ]
    assert members_of(None, owner) == []


def test_a_conversation_only_in_the_changelog_gets_its_participants(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events after consent carry the thread's membership: a conversation that began after
    the snapshot names its other people, not the member (`participants` used to be empty)."""
    inbox = SyntheticInbox.generate(seed=53, conversations=1, messages=2)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    newcomer = inbox.add_conversation(
        [inbox.conversations[next(iter(inbox.conversations))].participants[0]]
    )
    inbox.add_message(newcomer.thread_id, sender=inbox.owner, text="Hello, new thread")
    emulator.decorate = lambda message: True
    emulator.reset_counters()
    second = run_tap(emulator.config(), state=first.state)
    (conversation,) = second.of("conversations")
    assert conversation["thread_id"] == newcomer.thread_id
    (person,) = newcomer.participants
    assert [(p["name"], p["profile_url"]) for p in conversation["participants"]] == [
        (person.name, person.profile_url)
    ]
    # The thread decoration's `owner` is the member (a person): the classic mailbox.
    assert conversation["mailbox"] == "CLASSIC"


@pytest.mark.parametrize(
    ("thread_owner", "author", "outbound", "expected"),
    [
        # The Sales Navigator samples: the thread's owner is the member's salesIdentity.
        ("urn:li:salesIdentity:334326", "urn:li:person:kAq_1ptj-v", False, "SALES_NAVIGATOR"),
        ("urn:li:hireMailbox:77", None, False, "RECRUITER"),
        # No decoration: the author of the member's own message is their mailbox.
        (None, "urn:li:salesIdentity:334326", True, "SALES_NAVIGATOR"),
        (None, "urn:li:person:2qXA98-mVk", True, "CLASSIC"),
        # Someone else's message says nothing of the member's mailbox; nor does the
        # legacy corporateMember (Sales Navigator or Recruiter).
        (None, "urn:li:person:2qXA98-mVk", False, None),
        ("urn:li:corporateMember:5", None, False, None),
    ],
)
def test_the_mailbox_is_the_threads_owner_or_the_members_own_author(
    thread_owner: str | None, author: str | None, outbound: bool, expected: str | None
) -> None:
    """Mailbox URNs as LinkedIn's message schema lists `author`'s
    (https://learn.microsoft.com/en-us/linkedin/shared/references/v2/message-schema)."""
    thread = {"owner": thread_owner} if thread_owner else None
    assert mailbox_of(thread, {"author": author}, outbound=outbound) == expected


def test_a_changelog_read_keeps_the_snapshots_record_and_the_ids_it_was_made_with(
    dma_emulator: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A state from before the ids changed: a changelog read does not re-read the snapshot,
    so it neither warns nor drops the snapshot's record of what was emitted; it keeps the
    scheme that record was made with, for the next read of the whole snapshot to tell."""
    inbox = SyntheticInbox.generate(seed=54, conversations=2, messages=2)
    emulator = dma_emulator(inbox)
    on_emulator_clock(monkeypatch, emulator)
    first = run_tap(emulator.config())
    (partition,) = first.state["bookmarks"]["conversations"]["partitions"]
    emitted = partition["position"]["emitted"]
    assert partition["position"].pop("message_ids") == 2
    inbox.add_message(next(iter(inbox.conversations)), text="After consent")
    second = run_tap(emulator.config(), state=first.state)
    assert [m["text"] for m in second.of("messages")] == ["After consent"]
    assert not [r for r in caplog.records if "made differently" in r.getMessage()]
    position = position_of(second.state)
    assert (position["emitted"], position["message_ids"]) == (emitted, 1)
