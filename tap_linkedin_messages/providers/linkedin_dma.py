"""LinkedIn's Member Data Portability API (DMA; members in the EEA and Switzerland).

Two read-only routes, both `GET` on `https://api.linkedin.com` with a member's OAuth token
(`Authorization: Bearer`, scope `r_dma_portability_3rd_party` or
`r_dma_portability_member`), `LinkedIn-Version: 202312` and `X-Restli-Protocol-Version`:

- the SNAPSHOT, `/rest/memberSnapshotData?q=criteria&domain=INBOX&start=&count=`: the
  member's inbox as `messages.csv`-style rows (`CONVERSATION ID`, `FROM`, `DATE`,
  `CONTENT`, ...) in `elements[].snapshotData`, paged by following `paging.links[rel=next]`
  (`start` counts pages; `paging.total` is no end signal). LinkedIn processes it once, at
  consent (the reference: "Once the member has consented ... Linkedin processes historical
  LinkedIn data"): it does not hold what happens later.
- the CHANGELOG, `/rest/memberChangeLogs?q=memberAndApplication&startTime=&count=`: the
  member's activity since consent, kept 28 days (an older `startTime` is silently clamped).
  Message events are `resourceName: messages`, `method: CREATE` (and UPDATE,
  PARTIAL_UPDATE, DELETE); `actor == owner` means the member sent it. The next page starts
  at the latest `processedAt` seen (inclusive: the boundary event comes again and is
  dropped by its id); a page with nothing new ends the listing. Events come oldest
  `processedAt` first [inferred: the only order in which that paging scheme loses nothing].

What is new is told by the changelog's own position, never by message times: an event is
processed after it happens (its `processedAt` comes after its `activity.createdAt`; a
FAILURE is replayed later), so a bookmark on `createdAt` would drop what is processed
late. The position the state keeps is the latest `processedAt` read, with the ids of the
events at that millisecond (read again by the next, inclusive, request and dropped), or
where nothing came, the read's start less an hour (clock skew; the changelog reaches back
28 days, so a quiet inbox's position must move on). A run reads:

- a first run: the snapshot, and the changelog from as far back as it reaches (what
  happened between consent and this run is only there);
- later runs: the changelog from the position, whatever the age of the newest message;
- a run whose position has fallen out of the changelog's 28 days: the snapshot again, and
  the changelog as far back as it reaches, with a warning: what happened between the
  snapshot and that is lost. Of the snapshot, only what earlier runs did not emit comes
  out (`tap_linkedin_messages.emitted`).

Both list messages, not conversations (a `MessageListing`): conversations are derived.

Choices where the docs say nothing (documented here, tested in test_linkedin_dma_records):

- Snapshot rows go through the archives' own record builder (`linkedin_archive`, the
  export's too), so a message has the same `message_id` from the export and from the
  snapshot. Telling the member's own rows
  (`is_me`, and leaving the member out of `participants`) needs every row, as for the
  export: each page's rows go into the message index as they are walked (who is who is
  learned alongside, on disk), and all records come out after its last page.
- Changelog events carry ids, not names: `message_id` is the event's `resourceId` (the
  message's own id), the sender's name and profile URL come only from a
  `processedActivity` decoration where LinkedIn adds one (null otherwise), `is_me` is
  `actor == owner`, and `participants` is empty.
- `sent_at` is whole seconds on both routes (the snapshot's `DATE` has no more; the
  changelog's `createdAt` milliseconds are dropped), so one message has one time whichever
  route read it.
- Edits and deletions (`UPDATE`, `PARTIAL_UPDATE` and `DELETE` events of `messages`) are
  applied under the message's own id: the record comes again with the edited text
  (`is_edited`, `edited_at`: the event's `createdAt`, which is the edit's time) or with no
  text and `is_deleted`, and keeps the `sent_at` and conversation of its CREATE event
  (looked up in the changelog's earlier days where needed). A PARTIAL_UPDATE is read as
  LinkedIn's Rest.li patch (`{"patch": {"$set": {...}}}`) [inferred]; one that sets no
  `content` changes nothing the record holds and is counted in a warning. A message first
  read from the snapshot has the export's synthesized id, which its edit cannot name: the
  edit then arrives as a row of its own (a known limit). Other resources' events are
  skipped (but counted as items).
- LinkedIn does not bill this API: every page costs 0 credits, so `max_credits` budgets
  nothing here (requests are still counted).
"""

from __future__ import annotations

import itertools
import logging
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from singer_sdk import typing as th

from tap_linkedin_messages.linkedin_archive.layouts import (
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
from tap_linkedin_messages.normalize import EPOCH, ms_to_rfc3339
from tap_linkedin_messages.providers.base import HttpSource, Listed, MessageListing, Position
from tap_linkedin_messages.providers.error_rules import ErrorRule, Outcome, rule
from tap_linkedin_messages.providers.linkedin_dma_changelog import (
    ChangeLog,
    ChangelogPosition,
    Reached,
    event_key,
    is_message_event,
    past_a_full_millisecond,
)
from tap_linkedin_messages.providers.pages import ApiRequest, Listing, Page, Route, listed
from tap_linkedin_messages.records import Record

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_linkedin_messages.providers.base import Walk

LOGGER = logging.getLogger(__name__)
SNAPSHOT_PATH = "/rest/memberSnapshotData"
CHANGELOG_PATH = "/rest/memberChangeLogs"
SNAPSHOT_DOMAIN = "INBOX"
DEFAULT_LINKEDIN_VERSION = "202312"
RESTLI_PROTOCOL_VERSION = "2.0.0"
# The changelog keeps 28 days of events; an older startTime is clamped, not refused.
CHANGELOG_RETENTION = timedelta(days=28)
# How far back the changelog is read from: a day inside its 28 (clock skew, long runs).
CHANGELOG_REACH = CHANGELOG_RETENTION - timedelta(days=1)
# Where a read that found nothing leaves its position: this long before it started (clock
# skew between the tap and LinkedIn, an event visible a little after its processedAt).
QUIET_MARGIN = timedelta(hours=1)
# "The upper limit is 50" (events per changelog page).
CHANGELOG_MAX_COUNT = 50
# The two listings, as the error table names them.
SNAPSHOT_ROUTE = Route.SNAPSHOT
CHANGELOG_ROUTE = Route.CHANGELOG

HINT_TOKEN = "check the `access_token` setting (expired or revoked? get a new token)"
HINT_SCOPE = (
    "the `access_token` lacks the r_dma_portability_3rd_party or r_dma_portability_member "
    "scope, or the member is outside the EEA and Switzerland, where LinkedIn offers this API"
)
HINT_NOT_READY = (
    "LinkedIn prepares the INBOX snapshot after the member consents, or it holds no "
    "messages; run again later"
)
HINT_VERSION = "check the `linkedin_version` setting (LinkedIn retires versions after a year)"


def utc_now() -> datetime:
    """The current time (a seam for tests that run against an emulator's clock)."""
    return datetime.now(timezone.utc)


def _epoch_ms(moment: datetime) -> int:
    """Exact epoch milliseconds (no float rounding)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def _cell(value: Any) -> str:
    """A snapshot value as the CSV cell the export's parser expects: a list joined with
    a bare comma, as the export joins a group's names (a comma and a space is inside one
    name, as in "Ana Lima, PhD")."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def snapshot_rows(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The INBOX rows of one snapshot page, keys normalised as the export's headers are."""
    return [
        {str(key).strip().upper(): _cell(value) for key, value in row.items()}
        for element in listed("$.elements", payload)
        if element.get("snapshotDomain") in (None, SNAPSHOT_DOMAIN)
        for row in element.get("snapshotData") or []
        if isinstance(row, dict)
    ]


def next_link(payload: dict[str, Any]) -> tuple[int, int | None] | None:
    """`start` and `count` of the snapshot's next page, from its `next` link (None: none).

    A link without a readable `start` means the page after this one.
    """
    paging = payload.get("paging") or {}
    for link in paging.get("links") or []:
        if link.get("rel") != "next":
            continue
        query = parse_qs(urlsplit(str(link.get("href") or "")).query)
        start, count = (query.get("start") or [""])[0], (query.get("count") or [""])[0]
        return (
            int(start) if start.isdigit() else int(paging.get("start") or 0) + 1,
            int(count) if count.isdigit() else None,
        )
    return None


class LinkedInDmaProvider(HttpSource, MessageListing):
    """`provider: linkedin_dma`: LinkedIn's Member Data Portability API."""

    name = "linkedin_dma"
    title = "`linkedin_dma` (LinkedIn's Member Data Portability API)"
    default_api_url = "https://api.linkedin.com"
    required_settings = ("access_token",)
    supported_categories: ClassVar[tuple[str, ...]] = ("INBOX",)
    # LinkedIn does not bill this API.
    bills_per_item = False
    # The snapshot's messages have the export's ids (its rows are the export's).
    message_ids = MESSAGE_IDS
    message_ids_changed = MESSAGE_IDS_CHANGED
    settings = th.PropertiesList(
        th.Property(
            "access_token",
            th.StringType(min_length=1),
            secret=True,
            title="Access token",
            description=(
                "`linkedin_dma` only: a LinkedIn OAuth token with a DMA portability scope "
                "(`r_dma_portability_3rd_party` or `r_dma_portability_member`) of a member "
                "in the EEA or Switzerland."
            ),
        ),
        th.Property(
            "linkedin_version",
            th.StringType(pattern=r"^\d{6}(\.\d{2})?$"),
            default=DEFAULT_LINKEDIN_VERSION,
            title="LinkedIn-Version",
            description=(
                "`linkedin_dma` only: the `LinkedIn-Version` header (YYYYMM) sent with "
                "every request; LinkedIn retires a version about a year after release."
            ),
        ),
    )
    errors: ClassVar[tuple[ErrorRule, ...]] = (
        rule(Outcome.FAIL, HINT_NOT_READY, status={202}, route=SNAPSHOT_ROUTE),
        rule(Outcome.FAIL, HINT_NOT_READY, status={404}, route=SNAPSHOT_ROUTE, first_page=True),
        # Past the snapshot's last page [third-party code: "no data found"]: the end.
        rule(Outcome.END, status={404}, route=SNAPSHOT_ROUTE),
        rule(Outcome.FAIL, HINT_TOKEN, status={401}),
        rule(Outcome.FAIL, HINT_SCOPE, status={403}),
        rule(Outcome.FAIL, HINT_VERSION, status={426}),
        rule(Outcome.FAIL, HINT_VERSION, status={400}, text="version"),
    )

    def auth_headers(self) -> dict[str, str]:
        """The member's bearer token and the API version (a versioned LinkedIn API)."""
        return {
            "Authorization": f"Bearer {self.config['access_token']}",
            "LinkedIn-Version": str(
                self.config.get("linkedin_version") or DEFAULT_LINKEDIN_VERSION
            ),
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
        }

    def succeeded(self, status: int, payload: Any) -> bool:
        """A 2xx JSON object; 202 is LinkedIn still preparing the snapshot."""
        return 200 <= status < 300 and status != 202 and isinstance(payload, dict)

    def error_of(self, payload: Any) -> tuple[Any, Any]:
        """LinkedIn's `{status, code | serviceErrorCode, message}`."""
        body = payload if isinstance(payload, dict) else {}
        return body.get("code") or body.get("serviceErrorCode"), body.get("message")

    @contextmanager
    def read_messages(self, walk: Walk, position: Position | None) -> Iterator[Listed]:
        """The changelog from `position` while the changelog still reaches it; otherwise
        (a first run, or a position older than its 28 days) the snapshot and the changelog
        as far back as it reaches."""
        now = utc_now()
        reach = _epoch_ms(now - CHANGELOG_REACH)
        previous = ChangelogPosition.of(position)
        if previous is not None and previous.processed_at > reach:
            listed = Listed([], whole=False)
            listed.messages = self._changes(walk, previous, now, listed)
            yield listed
            return
        if previous is not None:
            LOGGER.warning(
                "%s: the changelog no longer reaches this account's position (%s; it keeps "
                "28 days): the snapshot, taken at consent, is read again, and what happened "
                "between consent and %s is not read - run at least every few weeks",
                self.name,
                ms_to_rfc3339(previous.processed_at),
                ms_to_rfc3339(reach),
            )
        # The snapshot's rows are read as the export's are, in one pass over its pages;
        # then what happened since consent, as far back as the changelog reaches.
        origin = f"{self.name}: snapshot"
        with People(origin) as people:
            progress = progress_of(origin)
            listed = Listed([], people, progress=progress)
            snapshot = rows_to_records(
                row_records(walk(self.snapshot_listing())),
                origin,
                excluded_folders(self.config),
                people,
                progress,
            )
            since_consent = self._changes(walk, ChangelogPosition(reach), now, listed)
            listed.messages = itertools.chain(snapshot, since_consent)
            yield listed

    # --- the snapshot --------------------------------------------------------------------

    def snapshot_listing(self) -> Listing:
        """The INBOX snapshot's pages of rows, in no time order."""
        return Listing(
            route=SNAPSHOT_ROUTE,
            request=self._snapshot_request,
            page=self._snapshot_page,
            id_key="CONVERSATION ID",
            time_key="DATE",
            newest_first=False,
        )

    @staticmethod
    def _snapshot_request(cursor: str | None, page_size: int) -> ApiRequest:
        start, _, count = (cursor or "0").partition(":")
        params = {
            "q": "criteria",
            "domain": SNAPSHOT_DOMAIN,
            "start": int(start),
            "count": int(count or page_size),
        }
        return ApiRequest("GET", SNAPSHOT_PATH, params=params)

    def _snapshot_page(self, payload: Any) -> Page:
        rows = snapshot_rows(payload)
        link = next_link(payload)
        cursor = None
        if link is not None and rows:
            start, count = link
            cursor = f"{start}:{count}" if count else str(start)
        return Page(rows, cursor, credits=self.credits_for(len(rows)), items=len(rows))

    # --- the changelog -------------------------------------------------------------------

    def _changes(
        self, walk: Walk, start: ChangelogPosition, now: datetime, listed: Listed
    ) -> Iterator[Record]:
        """New messages, edits and deletions from the changelog, from `start`; once read,
        the position the next read starts from is `listed.position`.

        Each page starts at the latest `processedAt` seen (inclusive: the boundary events
        come again and are dropped by their ids); a page with nothing new ends the
        listing. An edit or a deletion keeps its message's `message_id`, `sent_at` and
        conversation: of a message created before this listing, the original is looked
        up in the changelog's earlier days once the listing ends.
        """
        changes = ChangeLog(self.name)
        reached = Reached(start)
        yield from walk(self._changelog_listing(start, None, changes.read, reached))
        if changes.pending:
            earliest = _epoch_ms(now - CHANGELOG_REACH)
            if earliest < start.processed_at:
                back = ChangelogPosition(earliest)
                for _ in walk(self._changelog_listing(back, start.processed_at, changes.look_up)):
                    pass
            yield from changes.resolved()
        changes.report()
        listed.position = reached.position(_epoch_ms(now - QUIET_MARGIN)).state()

    def _changelog_listing(
        self,
        start: ChangelogPosition,
        end: int | None,
        read: Callable[[list[dict[str, Any]]], list[Record]],
        reached: Reached | None = None,
    ) -> Listing:
        """The changelog from `start` (up to `end`): each page's events go to `read`, and
        how far it got to `reached`."""
        seen = set(start.events)
        asked = [CHANGELOG_MAX_COUNT]  # the count of the request in flight

        def page(payload: Any) -> Page:
            events = [e for e in listed("$.elements", payload) if isinstance(e, dict)]
            new = [e for e in events if event_key(e) not in seen]
            seen.update(event_key(e) for e in new)
            if reached is not None:
                reached.saw(new)
            times = [int(e["processedAt"]) for e in events if e.get("processedAt") is not None]
            latest = max(times) if new and times else None
            if not new and times and len(events) >= asked[0]:
                latest = past_a_full_millisecond(self.name, max(times), len(events))
            more = latest is not None and (end is None or latest < end)
            found = read([e for e in new if is_message_event(e)])
            cursor = str(latest) if more else None
            return Page(found, cursor, credits=self.credits_for(len(events)), items=len(events))

        def request(cursor: str | None, page_size: int) -> ApiRequest:
            asked[0] = min(page_size, CHANGELOG_MAX_COUNT)
            params = {
                "q": "memberAndApplication",
                "startTime": int(cursor) if cursor else start.processed_at,
                "count": asked[0],
            }
            return ApiRequest("GET", CHANGELOG_PATH, params=params)

        return Listing(
            route=CHANGELOG_ROUTE,
            request=request,
            page=page,
            id_key="message_id",
            time_key="sent_at",
            newest_first=False,
        )
