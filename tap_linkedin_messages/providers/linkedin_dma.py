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
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from singer_sdk import typing as th

from tap_linkedin_messages import records
from tap_linkedin_messages.linkedin_archive.layouts import (
    MESSAGE_IDS,
    MESSAGE_IDS_CHANGED,
    excluded_folders,
)
from tap_linkedin_messages.linkedin_archive.people import People
from tap_linkedin_messages.linkedin_archive.reading import row_records, rows_to_records
from tap_linkedin_messages.normalize import EPOCH, ms_to_rfc3339, thread_id_from_urn
from tap_linkedin_messages.providers.base import HttpSource, Listed, MessageListing, Position
from tap_linkedin_messages.providers.error_rules import ErrorRule, Outcome, rule
from tap_linkedin_messages.providers.pages import ApiRequest, Listing, Page, Route
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
MESSAGE_RESOURCE = "messages"
MESSAGE_METHODS = frozenset({"CREATE", "UPDATE", "PARTIAL_UPDATE", "DELETE"})
THREAD_URN_PREFIX = "urn:li:messagingThread:"
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


def _whole_seconds(epoch_ms: Any) -> str | None:
    """Epoch ms as our timestamp, cut to the second the snapshot's `DATE` also has."""
    if epoch_ms is None or epoch_ms == "":
        return None
    return ms_to_rfc3339(int(epoch_ms) // 1000 * 1000)


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
        for element in payload.get("elements") or []
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


def patched(activity: dict[str, Any]) -> dict[str, Any] | None:
    """A PARTIAL_UPDATE's activity with its patch's fields set, where it sets `content`
    (None: it changes nothing a message record holds).

    LinkedIn's partial updates are Rest.li patches, `{"patch": {"$set": {...}}}` (as in
    https://learn.microsoft.com/en-us/linkedin/shared/integrations/people/profile-edit-api/patents);
    that a message event's activity holds one is inferred [inferred].
    """
    patch = activity.get("patch")
    changes = patch.get("$set") if isinstance(patch, dict) else None
    if not isinstance(changes, dict) or not isinstance(changes.get("content"), dict):
        return None
    return {**activity, **changes}


def changelog_message_record(event: dict[str, Any]) -> Record | None:
    """One `messages` event (CREATE, UPDATE, PARTIAL_UPDATE or DELETE) as our message
    record with its `conversation` entry (None: a PARTIAL_UPDATE that changes nothing it
    holds).

    An event's `method` is CREATE, UPDATE, PARTIAL_UPDATE or DELETE
    (https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-changelog-api);
    the messages resource's CREATE is documented
    (https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/messages).
    That an edit is an UPDATE (or a PARTIAL_UPDATE setting `content`) carrying the edited
    content and a deletion a DELETE without content, all under the original message's
    `resourceId`, and that their `createdAt` is the event's time, are inferred
    [inferred]: so their `sent_at` (and, where the event has no `thread`, their
    conversation) is left for the caller to fill in from the original message.
    """
    activity = event.get("activity") or {}
    method = event.get("method")
    if method == "PARTIAL_UPDATE":
        edit = patched(activity)
        if edit is None:
            return None
        activity, method = edit, "UPDATE"
    content = activity.get("content") or {}
    thread = activity.get("thread")
    thread_urn = thread if isinstance(thread, str) else None
    conversation_id = (thread_urn.removeprefix(THREAD_URN_PREFIX) if thread_urn else None) or None
    # The text is `fallback`: LinkedIn's message schema says a TEXT message's `content`
    # "is not provided and will be null"
    # (https://learn.microsoft.com/en-us/linkedin/shared/references/v2/message-schema), and
    # a LITTLE one's fallback is its text without the markup. Only a TEXT event without a
    # fallback falls back to `content.content.string` [inferred]; other formats' markup
    # (an audio message's `{audio|...}`) is no text.
    inner = content.get("content") or {}
    text = content.get("fallback") or (
        inner.get("string") if content.get("format") == "TEXT" else None
    )
    owner, actor = event.get("owner"), event.get("actor")
    # Attachments are digitalmediaAsset URNs, in `activity` or (one sample) in `content`.
    urns = activity.get("attachments") or content.get("attachments")
    if urns is None and isinstance(activity.get("attachments"), list):
        urns = []  # an empty list: no attachments, as the event says
    created = activity.get("createdAt")
    # An edit's own time; a patch that does not carry one is dated by when it was captured.
    changed = ms_to_rfc3339(activity.get("lastEditedAt") or created or event.get("capturedAt"))
    processed = event.get("processedActivity") or {}
    author = person_of(processed.get("author~"))
    message = records.message(
        message_id=event.get("resourceId") or activity.get("id"),
        sent_at=_whole_seconds(created) if method == "CREATE" else None,
        text=(text or None) if method != "DELETE" else None,
        subject=activity.get("subject") or None,
        message_type="TEXT",
        sender=records.sender(
            name=author.get("name"),
            profile_url=author.get("profile_url"),
            is_me=None if not owner or not actor else actor == owner,
        ),
        attachments=[records.attachment(id=urn) for urn in urns if isinstance(urn, str)]
        if isinstance(urns, list)
        else None,
        is_edited=True if method == "UPDATE" or activity.get("lastEditedAt") else None,
        edited_at=changed if method != "CREATE" or activity.get("lastEditedAt") else None,
        is_deleted=True if method == "DELETE" else None,
    )
    thread_decoration = processed.get("thread~")
    return records.listed(
        message,
        conversation_id=conversation_id,
        thread_id=thread_id_from_urn(thread_urn),
        participants=members_of(thread_decoration, owner),
        mailbox=mailbox_of(thread_decoration, activity, outbound=owner == actor),
        # "readAt" in every sample event; that it is when the member read it [inferred].
        last_read_at=ms_to_rfc3339(activity.get("readAt")) if activity.get("readAt") else None,
    )


#: LinkedIn's mailbox URN types, as its message schema lists `author`'s: "personUrn -
#: member mailbox", "hireMailboxUrn - Recruiter mailbox", "salesIdentityUrn - Sales
#: Navigator mailbox" (https://learn.microsoft.com/en-us/linkedin/shared/references/v2/message-schema);
#: the legacy `corporateMember` is either of the last two, so it says nothing.
MAILBOX_URNS = {
    "urn:li:person:": "CLASSIC",
    "urn:li:hireMailbox:": "RECRUITER",
    "urn:li:salesIdentity:": "SALES_NAVIGATOR",
}


def mailbox_of(thread: Any, activity: dict[str, Any], *, outbound: bool) -> str | None:
    """The member's mailbox: the thread decoration's `owner` (the Sales Navigator sample's
    is `urn:li:salesIdentity:...`), else the `author` of a message the member sent ("The
    owner and author field will correspond to the sender's mailbox")."""
    urn = thread.get("owner") if isinstance(thread, dict) else None
    if not urn and outbound:
        urn = activity.get("author")
    for prefix, mailbox in MAILBOX_URNS.items():
        if isinstance(urn, str) and urn.startswith(prefix):
            return mailbox
    return None


def members_of(thread: Any, owner: Any) -> list[Record]:
    """The people of an event's thread other than the member (`owner`), from its
    `processedActivity`'s `thread~` decoration.

    The messages reference: "The thread field contains the membership array field that
    have the identity of all the participants in the message thread"
    (https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/messages);
    its Sales Navigator sample shows each entry as `identity` (a URN) and `identity~` (its
    decoration; a mailbox's names its `member`). The member is the entry whose identity,
    or whose mailbox's member, is the event's `owner`; a person's decoration is a lite
    profile [inferred, as `person_of`]. No `thread~`: nobody is named.
    """
    membership = thread.get("membership") if isinstance(thread, dict) else None
    people = []
    for entry in membership if isinstance(membership, list) else ():
        if not isinstance(entry, dict):
            continue
        decoration = entry.get("identity~")
        decoration = decoration if isinstance(decoration, dict) else {}
        mailbox_member = decoration.get("member")
        if owner is not None and owner in (entry.get("identity"), mailbox_member):
            continue
        # A mailbox (Sales Navigator, Recruiter) decorates its member under `member~`.
        person = person_of(decoration.get("member~") if mailbox_member else decoration)
        if person.get("name") or person.get("profile_url"):
            people.append(
                records.participant(name=person.get("name"), profile_url=person.get("profile_url"))
            )
    return people


def person_of(decoration: Any) -> dict[str, str | None]:
    """Name and profile URL of a `processedActivity` person decoration (`author~`).

    LinkedIn prints these decorations as `{...}` [inferred: the fields of its lite
    profile, `localizedFirstName`, `localizedLastName`, `vanityName`]; nothing is made up
    where they are missing.
    """
    if not isinstance(decoration, dict):
        return {}
    names = [decoration.get("localizedFirstName"), decoration.get("localizedLastName")]
    vanity = decoration.get("vanityName")
    return {
        "name": " ".join(str(n) for n in names if n) or None,
        "profile_url": f"https://www.linkedin.com/in/{vanity}" if vanity else None,
    }


def is_message_event(event: dict[str, Any]) -> bool:
    """A message created, edited or deleted (not another resource's event)."""
    return event.get("resourceName") == MESSAGE_RESOURCE and event.get("method") in MESSAGE_METHODS


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
            th.StringType(min_length=1),
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
            listed = Listed([], people)
            snapshot = rows_to_records(
                row_records(walk(self.snapshot_listing())),
                origin,
                excluded_folders(self.config),
                people,
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

        def page(payload: Any) -> Page:
            events = [e for e in payload.get("elements") or [] if isinstance(e, dict)]
            new = [e for e in events if event_key(e) not in seen]
            seen.update(event_key(e) for e in new)
            if reached is not None:
                reached.saw(new)
            times = [int(e["processedAt"]) for e in events if e.get("processedAt") is not None]
            latest = max(times) if new and times else None
            more = latest is not None and (end is None or latest < end)
            found = read([e for e in new if is_message_event(e)])
            cursor = str(latest) if more else None
            return Page(found, cursor, credits=self.credits_for(len(events)), items=len(events))

        def request(cursor: str | None, page_size: int) -> ApiRequest:
            params = {
                "q": "memberAndApplication",
                "startTime": int(cursor) if cursor else start.processed_at,
                "count": min(page_size, CHANGELOG_MAX_COUNT),
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


@dataclass(frozen=True)
class ChangelogPosition:
    """Where a changelog read starts: an inclusive `startTime`, and the ids of the events
    at exactly that millisecond already read (they come again, and are dropped)."""

    processed_at: int
    events: frozenset[str] = frozenset()

    @classmethod
    def of(cls, position: Position | None) -> ChangelogPosition | None:
        """The position a state keeps (None: none, or not one of this adapter's)."""
        at = (position or {}).get("changelog_from")
        if not isinstance(at, int):
            return None
        events = (position or {}).get("events_at_start") or []
        return cls(at, frozenset(str(event) for event in events))

    def state(self) -> Position:
        return {"changelog_from": self.processed_at, "events_at_start": sorted(self.events)}


class Reached:
    """How far a changelog read got: the latest `processedAt` among the events it read,
    and their ids."""

    def __init__(self, start: ChangelogPosition) -> None:
        self.latest, self.events = start.processed_at, set(start.events)

    def saw(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            at = event.get("processedAt")
            if at is None:
                continue
            if int(at) > self.latest:
                self.latest, self.events = int(at), set()
            if int(at) == self.latest:
                self.events.add(event_key(event))

    def position(self, quiet_from: int) -> ChangelogPosition:
        """Where the next read starts: past what was read, and no earlier than
        `quiet_from` (nothing was processed between the latest event and then)."""
        if quiet_from > self.latest:
            return ChangelogPosition(quiet_from)
        return ChangelogPosition(self.latest, frozenset(self.events))


#: Of a message created: its `sent_at`, `conversation_id` and `thread_id`.
Created = tuple[str | None, str | None, str | None]


class ChangeLog:
    """What one changelog read has learned: each message's original time and
    conversation, the records it gave out, the edits and deletions of messages it has not
    seen created, and the partial updates it could not apply."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.created: dict[str, Created] = {}
        self.given: dict[str, Record] = {}
        #: Messages whose record came from an event LinkedIn failed to process in full
        #: (`activityStatus: FAILURE`): its replay may replace it.
        self.partial: set[str] = set()
        self.pending: list[Record] = []
        #: PARTIAL_UPDATE events that set nothing a record holds (their resourceId).
        self.unapplied: list[str] = []
        self.lost = 0

    def read(self, events: list[dict[str, Any]]) -> list[Record]:
        """The records of a page's message events, in order."""
        found = []
        for event in events:
            record = changelog_message_record(event)
            if record is None:
                self.unapplied.append(str(event.get("resourceId")))
                continue
            message_id = record["message_id"]
            if event.get("method") == "CREATE":
                # A message seen already: a replay, news only after a failed first try.
                if message_id in self.given and message_id not in self.partial:
                    continue
                self.created.setdefault(message_id, _created(record))
            elif message_id in self.created:
                _as_created(record, self.created[message_id])
            else:
                self.pending.append(record)
                continue
            if event.get("activityStatus") == "FAILURE":
                self.partial.add(message_id)
            else:
                self.partial.discard(message_id)
            if self.given.get(message_id) != record:
                self.given[message_id] = record
                found.append(record)
        return found

    def look_up(self, events: list[dict[str, Any]]) -> list[Record]:
        """Earlier days: only the originals of the pending edits' messages."""
        wanted = {record["message_id"] for record in self.pending}
        for event in events:
            if event.get("method") != "CREATE":
                continue
            record = changelog_message_record(event)
            if record is not None and record["message_id"] in wanted:
                self.created.setdefault(record["message_id"], _created(record))
        return []

    def resolved(self) -> Iterator[Record]:
        """The pending edits and deletions whose message was found; the others are
        older than the changelog's 28 days: counted (`report`), not guessed."""
        for record in self.pending:
            created = self.created.get(record["message_id"])
            if created is None or created[0] is None:
                self.lost += 1
                continue
            yield _as_created(record, created)

    def report(self) -> None:
        """A warning for what this read could not apply."""
        if self.lost:
            LOGGER.warning(
                "%s: %d edit(s) or deletion(s) of messages older than the changelog's 28 days "
                "were not applied",
                self.label,
                self.lost,
            )
        if self.unapplied:
            LOGGER.warning(
                "%s: %d PARTIAL_UPDATE message event(s) set no text the tap could apply "
                "(first: message %s); not applied",
                self.label,
                len(self.unapplied),
                self.unapplied[0],
            )


def _created(record: Record) -> Created:
    return record["sent_at"], record["conversation_id"], record["thread_id"]


def _as_created(record: Record, created: Created) -> Record:
    """An edit or deletion with its message's time and, where it names none, conversation."""
    record["sent_at"] = created[0]
    if not record["conversation_id"]:
        record["conversation_id"], record["thread_id"] = created[1], created[2]
    return record


def event_key(event: dict[str, Any]) -> str:
    """An event record's identity: its `id` (a replay after a FAILURE shares the
    `activityId` but is a record of its own), else its `activityId`."""
    return str(
        event.get("id")
        or event.get("activityId")
        or f"{event.get('resourceId')}@{event.get('processedAt')}"
    )
