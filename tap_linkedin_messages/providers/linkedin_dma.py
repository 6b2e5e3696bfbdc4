"""LinkedIn's Member Data Portability API (DMA; members in the EEA and Switzerland).

Two read-only routes, both `GET` on `https://api.linkedin.com` with a member's OAuth token
(`Authorization: Bearer`, scope `r_dma_portability_3rd_party` or
`r_dma_portability_member`), `LinkedIn-Version: 202312` and `X-Restli-Protocol-Version`:

- the SNAPSHOT, `/rest/memberSnapshotData?q=criteria&domain=INBOX&start=&count=`: the
  member's whole inbox as `messages.csv`-style rows (`CONVERSATION ID`, `FROM`, `DATE`,
  `CONTENT`, ...) in `elements[].snapshotData`, paged by following `paging.links[rel=next]`
  (`start` counts pages; `paging.total` is no end signal). Read on a first sync, and on an
  incremental run whose cutoff the changelog no longer reaches.
- the CHANGELOG, `/rest/memberChangeLogs?q=memberAndApplication&startTime=&count=`: the
  member's activity since consent, kept 28 days (an older `startTime` is silently clamped,
  so it is never asked for one). Message events are `resourceName: messages`,
  `method: CREATE`; `actor == owner` means the member sent it. The next page starts at the
  latest `processedAt` seen (inclusive: the boundary event comes again and is dropped by
  `activityId`); a page with nothing new ends the listing. Events come oldest first
  [inferred: the only order in which that paging scheme loses nothing].

Both list messages, not conversations (`lists_messages`): the streams group them.

Choices where the docs say nothing (documented here, tested in test_linkedin_dma_records):

- Snapshot rows go through linkedin_export's own record builder, so a message has the same
  `message_id` from the export and from the snapshot. Telling the member's own rows
  (`is_me`, and leaving the member out of `participants`) needs every row, as for the
  export: the snapshot's rows are kept on the adapter (it lives for the whole run) and
  all records come out with its last page.
- Changelog events carry ids, not names: `message_id` is the event's `resourceId` (the
  message's own id), the sender's name and profile URL are null, `is_me` is
  `actor == owner`, and `participants` is empty. So a message first read from the
  snapshot and read again from the changelog (only within the lookback window of the run
  after a snapshot) gets a second id; the streams drop it as not new (see `sent_at`).
- `sent_at` is whole seconds on both routes (the snapshot's `DATE` has no more; the
  changelog's `createdAt` milliseconds are dropped), so one message has one time whichever
  route read it, and the lookback window recognises a conversation it already emitted.
- Edits and deletions (`UPDATE`/`DELETE` events of `messages`) are not applied: an edit's
  `createdAt` is the edit's time, and a record cannot say "deleted". A message keeps the
  text it was first read with. Other resources' events are skipped (but counted as items).
- LinkedIn does not bill this API: every page costs 0 credits, so `max_credits` budgets
  nothing here (requests are still counted).
- Whether LinkedIn refreshes the snapshot after consent is not documented. If it does not,
  runs more than 27 days apart lose what falls between the snapshot and the changelog's
  28 days: schedule runs well inside that (hourly to weekly).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import parse_qs, urlsplit

import pendulum
from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.normalize import ms_to_rfc3339, thread_id_from_urn
from tap_linkedin_messages.providers.base import (
    ApiRequest,
    Page,
    Provider,
    ProviderError,
    Record,
    decode_json,
)
from tap_linkedin_messages.providers.linkedin_export import (
    People,
    find_member,
    message_record,
)

if TYPE_CHECKING:
    import requests

SNAPSHOT_PATH = "/rest/memberSnapshotData"
CHANGELOG_PATH = "/rest/memberChangeLogs"
SNAPSHOT_DOMAIN = "INBOX"
DEFAULT_LINKEDIN_VERSION = "202312"
RESTLI_PROTOCOL_VERSION = "2.0.0"
# The changelog keeps 28 days of events; an older startTime is clamped, not refused.
CHANGELOG_RETENTION = timedelta(days=28)
# Read the changelog only where it reaches back a day further than needed (clock skew,
# long runs): past that, the snapshot.
CHANGELOG_MARGIN = timedelta(days=1)
# "The upper limit is 50" (events per changelog page).
CHANGELOG_MAX_COUNT = 50
MESSAGE_RESOURCE = "messages"
THREAD_URN_PREFIX = "urn:li:messagingThread:"
# Cursors say which route the next page is on.
SNAPSHOT_CURSOR = "snapshot"
CHANGELOG_CURSOR = "changelog"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

HINT_TOKEN = "check the `access_token` setting (expired or revoked? get a new token)"
HINT_SCOPE = (
    "the `access_token` lacks the r_dma_portability_3rd_party or r_dma_portability_member "
    "scope, or the member is outside the EEA and Switzerland, where LinkedIn offers this API"
)
HINT_VERSION = "check the `linkedin_version` setting (LinkedIn retires versions after a year)"


def utc_now() -> datetime:
    """The current time (a seam for tests that run against an emulator's clock)."""
    return datetime.now(timezone.utc)


def _epoch_ms(moment: datetime) -> int:
    """Exact epoch milliseconds (no float rounding)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _whole_seconds(epoch_ms: Any) -> str | None:
    """Epoch ms as our timestamp, cut to the second the snapshot's `DATE` also has."""
    if epoch_ms is None or epoch_ms == "":
        return None
    return ms_to_rfc3339(int(epoch_ms) // 1000 * 1000)


def _cell(value: Any) -> str:
    """A snapshot value as the CSV cell the export's parser expects."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
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


def changelog_message_record(event: dict[str, Any]) -> Record:
    """One `messages` CREATE event as our message record with its `conversation` entry."""
    activity = event.get("activity") or {}
    content = activity.get("content") or {}
    thread = activity.get("thread")
    thread_urn = thread if isinstance(thread, str) else None
    conversation_id = (thread_urn.removeprefix(THREAD_URN_PREFIX) if thread_urn else None) or None
    # For format TEXT the text is `fallback` (LITTLE: `fallback` is the text without
    # its markup); `content.content.string` only where there is no fallback.
    inner = content.get("content") or {}
    text = content.get("fallback") or (
        inner.get("string") if content.get("format") == "TEXT" else None
    )
    owner, actor = event.get("owner"), event.get("actor")
    return {
        "message_id": event.get("resourceId") or activity.get("id"),
        "conversation_id": conversation_id,
        "thread_id": thread_id_from_urn(thread_urn),
        "sent_at": _whole_seconds(activity.get("createdAt")),
        "text": text or None,
        "subject": activity.get("subject") or None,
        "message_type": "TEXT",
        "sender": {
            # Events name people by URN only.
            "name": None,
            "first_name": None,
            "last_name": None,
            "profile_url": None,
            "is_me": None if not owner or not actor else actor == owner,
        },
        "conversation": {"title": None, "category": None, "participants": []},
    }


def is_message_create(event: dict[str, Any]) -> bool:
    """A new message (not an edit, a deletion, or another resource's event)."""
    return event.get("resourceName") == MESSAGE_RESOURCE and event.get("method") == "CREATE"


class LinkedInDmaProvider(Provider):
    """`provider: linkedin_dma`: LinkedIn's Member Data Portability API."""

    name = "linkedin_dma"
    default_api_url = "https://api.linkedin.com"
    required_settings = ("access_token",)
    supported_categories: ClassVar[tuple[str, ...]] = ("INBOX",)
    lists_messages = True
    # LinkedIn does not bill this API.
    bills_per_item = False

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        # The listing being read: its route and page size, the snapshot rows so far, and
        # the changelog events and message ids seen. (Pages are read one at a time.)
        self._route = SNAPSHOT_CURSOR
        self._count = 0
        self._rows: list[dict[str, str]] = []
        self._events_seen: set[str] = set()
        self._ids_seen: set[str] = set()

    def auth_headers(self) -> dict[str, str]:
        """The member's bearer token and the API version (a versioned LinkedIn API)."""
        return {
            "Authorization": f"Bearer {self.config['access_token']}",
            "LinkedIn-Version": str(
                self.config.get("linkedin_version") or DEFAULT_LINKEDIN_VERSION
            ),
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
        }

    # --- which route ---------------------------------------------------------------------

    def changelog_reaches(self, newer_than: datetime | None) -> bool:
        """Can the changelog alone hold everything after `newer_than`?

        Not on a first sync (nothing read yet, or only `start_date` as the floor: the
        changelog starts at consent), nor once the cutoff is about to leave its 28 days.
        """
        if newer_than is None:
            return False
        start_date = self.config.get("start_date")
        if start_date and newer_than < cast("datetime", pendulum.parse(str(start_date))):
            return False
        return newer_than > utc_now() - CHANGELOG_RETENTION + CHANGELOG_MARGIN

    def conversations_request(
        self,
        *,
        account_id: str,
        category: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """The first page picks the route; later pages stay on the route their cursor names."""
        if cursor is None:
            self._rows, self._events_seen, self._ids_seen = [], set(), set()
            if newer_than is not None and self.changelog_reaches(newer_than):
                return self._changelog(_epoch_ms(newer_than), page_size)
            return self._snapshot(0, self._snapshot_count(page_size))
        route, _, position = cursor.partition(":")
        if route == SNAPSHOT_CURSOR:
            start, _, count = position.partition(":")
            return self._snapshot(int(start), int(count))
        if route == CHANGELOG_CURSOR:
            return self._changelog(int(position), page_size)
        msg = f"{self.name}: unknown cursor {cursor!r}"
        raise ProviderError(msg)

    def _snapshot_count(self, page_size: int) -> int:
        # The snapshot is read whole: the configured page size, not the smaller first
        # pages of an incremental read (which suit listings that stop early).
        return max(page_size, int(self.config.get("page_size") or page_size))

    def _snapshot(self, start: int, count: int) -> ApiRequest:
        self._route, self._count = SNAPSHOT_CURSOR, count
        params = {"q": "criteria", "domain": SNAPSHOT_DOMAIN, "start": start, "count": count}
        return ApiRequest("GET", SNAPSHOT_PATH, params=params)

    def _changelog(self, start_time_ms: int, page_size: int) -> ApiRequest:
        self._route = CHANGELOG_CURSOR
        params = {
            "q": "memberAndApplication",
            "startTime": start_time_ms,
            "count": min(page_size, CHANGELOG_MAX_COUNT),
        }
        return ApiRequest("GET", CHANGELOG_PATH, params=params)

    # --- pages ---------------------------------------------------------------------------

    def conversations_page(self, payload: Any, *, category: str) -> Page:
        """Message records of a page of the route last requested (these list messages)."""
        if self._route == CHANGELOG_CURSOR:
            return self._changelog_page(payload)
        return self._snapshot_page(payload)

    def _snapshot_page(self, payload: dict[str, Any]) -> Page:
        """Rows are kept until the last page, which brings every record (see the module doc)."""
        rows = snapshot_rows(payload)
        self._rows += rows
        link = next_link(payload)
        if link is not None and rows:
            start, count = link
            cursor = f"{SNAPSHOT_CURSOR}:{start}:{count or self._count}"
            return Page([], cursor, credits=self.credits_for(len(rows)), items=len(rows))
        all_rows, self._rows = self._rows, []
        return Page(
            self._snapshot_records(all_rows),
            None,
            credits=self.credits_for(len(rows)),
            items=len(rows),
        )

    def _snapshot_records(self, rows: list[dict[str, str]]) -> list[Record]:
        people = People(rows)
        member = find_member(rows, people)
        records = []
        for number, row in enumerate(rows, start=1):
            record = message_record(row, people, member)
            if record is None:
                msg = (
                    f"{self.name}: snapshot row {number} has no readable CONVERSATION ID or "
                    f"DATE ({row.get('DATE')!r}); a target could not key it, so the run stops"
                )
                raise ProviderError(msg)
            if record["message_id"] not in self._ids_seen:
                self._ids_seen.add(record["message_id"])
                records.append(record)
        return records

    def _changelog_page(self, payload: dict[str, Any]) -> Page:
        """New message events; the next page starts at the latest `processedAt` seen."""
        events = [e for e in payload.get("elements") or [] if isinstance(e, dict)]
        new = [e for e in events if self._event_key(e) not in self._events_seen]
        self._events_seen.update(self._event_key(e) for e in new)
        records = []
        for event in new:
            if not is_message_create(event):
                continue
            record = changelog_message_record(event)
            if record["message_id"] in self._ids_seen:
                continue
            self._ids_seen.add(record["message_id"])
            records.append(record)
        times = [int(e["processedAt"]) for e in events if e.get("processedAt") is not None]
        next_cursor = f"{CHANGELOG_CURSOR}:{max(times)}" if new and times else None
        return Page(records, next_cursor, credits=self.credits_for(len(events)), items=len(events))

    @staticmethod
    def _event_key(event: dict[str, Any]) -> str:
        return str(
            event.get("activityId") or f"{event.get('resourceId')}@{event.get('processedAt')}"
        )

    def messages_request(
        self,
        *,
        account_id: str,
        conversation_id: str,
        cursor: str | None,
        page_size: int,
        newer_than: datetime | None,
    ) -> ApiRequest:
        """Never asked: each conversation's messages come with the listing."""
        msg = f"{self.name} lists messages with the inbox; it has no per-conversation request"
        raise ProviderError(msg)

    def messages_page(self, payload: Any) -> Page:
        """Never asked (see `messages_request`)."""
        msg = f"{self.name} lists messages with the inbox; it has no per-conversation page"
        raise ProviderError(msg)

    # --- responses -----------------------------------------------------------------------

    def check_response(self, response: requests.Response) -> Any:
        """A page's body, or one line naming what to check."""
        status = response.status_code
        parts = urlsplit(str(response.request.url or response.url))
        route = CHANGELOG_CURSOR if parts.path.endswith(CHANGELOG_PATH) else SNAPSHOT_CURSOR
        payload = decode_json(response)
        body = payload if isinstance(payload, dict) else {}
        if 200 <= status < 300 and status != 202 and isinstance(payload, dict):
            return payload

        message = " ".join(self.redact(str(body.get("message") or "")).split())
        code = body.get("code") or body.get("serviceErrorCode")
        label = f"{code} (HTTP {status})" if code else f"HTTP {status}"
        detail = f": {message}" if message else ""
        start = (parse_qs(parts.query).get("start") or ["0"])[0]
        if route == SNAPSHOT_CURSOR and (status == 202 or (status == 404 and start == "0")):
            msg = (
                f"{self.name}: the INBOX snapshot is not ready yet, or holds no messages "
                f"({label}{detail}) - LinkedIn prepares it after the member consents; "
                "run again later"
            )
            raise ProviderError(msg)
        if route == SNAPSHOT_CURSOR and status == 404:
            # Past the snapshot's last page [third-party code: "no data found"]: the end.
            return {"elements": [], "paging": {}}
        if status == 401:
            raise ProviderError(f"{self.name}: {label}{detail} - {HINT_TOKEN}")
        if status == 403:
            raise ProviderError(f"{self.name}: {label}{detail} - {HINT_SCOPE}")
        if status == 426 or (
            status == 400 and ("VERSION" in str(code).upper() or "version" in message.lower())
        ):
            raise ProviderError(f"{self.name}: {label}{detail} - {HINT_VERSION}")
        if status == 429 or status >= 500 or not isinstance(payload, dict):
            # A rate limit, a server fault, or a cut-off / non-JSON body: ask again.
            reason = (
                label if isinstance(payload, dict) else f"a body that is not JSON (HTTP {status})"
            )
            raise RetriableAPIError(f"{self.name}: {reason}", response)
        raise ProviderError(f"{self.name}: {label}{detail} - check the tap settings")
