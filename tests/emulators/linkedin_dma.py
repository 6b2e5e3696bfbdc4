"""LinkedIn's Member Data Portability API, emulated: the snapshot and the changelog.

`GET /rest/memberSnapshotData?q=criteria&domain=INBOX&start=&count=` serves the inbox as it
was at consent, as export-style rows (`tests.emulators.export.export_rows`): LinkedIn
"processes historical LinkedIn data" once the member has consented
(https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-snapshot-api),
so the rows are taken once, at the emulator's first request (or `consent()`), and never
again. Page `start` holds rows `start*count ...`, in one `INBOX` element, with a `next`
link while rows remain (`paging.total` is the elements of the page, as unhelpful as the
doc's sample). `GET /rest/memberChangeLogs?q=memberAndApplication&startTime=&count=`
serves what happened after consent ("LinkedIn will start archiving ... from the time they
consented",
https://learn.microsoft.com/en-us/linkedin/dma/member-data-portability/shared/member-changelog-api):
one `messages` CREATE event per message, oldest `processedAt` first, `startTime`
inclusive, never older than 28 days before the emulator's now; an edited message adds an
`UPDATE` event with its new text, a deleted one a `DELETE` event without content, both
under the message's `resourceId` and stamped with the edit's or deletion's time (as the
messages resource reference describes them); attachments are `urn:li:digitalmediaAsset:`
URNs in `activity.attachments`; `extra_events` adds others (other resources, foreign
events, partial updates, replays).

Two things LinkedIn's references show that the synthetic inbox does not have, each off
by default (so every other test sees the inbox's own `2-` threads and bare events):
`zero_threads` names threads served under a `0-` id instead of their `2-` one, in the
snapshot's `CONVERSATION ID` and the changelog's `activity.thread` alike (LinkedIn's
compliance samples show `0-` threads and messages,
https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/messages
and
https://learn.microsoft.com/en-us/linkedin/compliance/integrations/compliance-events/resource-references/sales-nav-messages,
whose thread is `urn:li:messagingThread:0-NjU5OTczMDkxNTAzODAyNzc3Ng==`); and `decorate`
picks the messages whose events carry a `processedActivity`: the `activity`'s `owner`,
`author` and `thread` again (the messages reference: "All message events' activity and
processedActivity fields will contain owner, author, and thread fields"), the people
decorated as `owner~` and `author~`. The reference prints those decorations as `{...}`:
their fields here, `localizedFirstName`, `localizedLastName` and `vanityName` (a lite
profile's), are what the adapter's `person_of` reads [inferred].

The emulator's clock is the wall clock moved on by `clock_offset_ms` (or the inbox's
newest event plus a minute, if that is later): the synthetic history (2025) is older
than the changelog's 28 days, as a member's old messages are. An event is processed 30 s
after it happened, as in LinkedIn's samples; one the emulator first sees stamped earlier
than its last look (a message added to the inbox since, with its own, older time) is
processed now, at its first look after it appeared: what a message processed late looks
like. Tests that move the clock point the adapter's `utc_now` at `now()`.

Errors use LinkedIn's shape `{status, serviceErrorCode, code, message}`: a wrong token
401, a missing token 401, an inactive `LinkedIn-Version` 426, a missing one 400, and
`snapshot_ready = False` answers the snapshot with 404 "no data found".
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from tap_linkedin_messages.normalize import ms_to_rfc3339
from tests.emulators.export import export_date, export_message_id, export_rows
from tests.emulators.inbox import HISTORY_START_MS, Message, Person, SyntheticInbox
from tests.emulators.server import Call, ErrorReply, ProviderEmulator, Reply

SNAPSHOT = "/rest/memberSnapshotData"
CHANGELOG = "/rest/memberChangeLogs"
ACTIVE_VERSIONS = frozenset({"202312", "202406", "202411", "202505", "202511"})
DEFAULT_COUNT = 10
MAX_CHANGELOG_COUNT = 50
RETENTION_MS = 28 * 24 * 3600 * 1000
PROCESSING_DELAY_MS = 30_000
NOW_AFTER_NEWEST_MS = 60_000


def person_urn(person: Person) -> str:
    return "urn:li:person:" + hashlib.sha256(person.profile_id.encode()).hexdigest()[:10]


def error(status: int, message: str, *, code: str | None = None, service: int = 0) -> Reply:
    """LinkedIn's error body."""
    body: dict[str, Any] = {"status": status, "serviceErrorCode": service, "message": message}
    if code:
        body["code"] = code
    return Reply(status, body)


class DmaEmulator(ProviderEmulator):
    """One member's inbox behind one access token."""

    provider = "linkedin_dma"
    inbox_route = "snapshot"
    # This API has no request for one conversation's messages: nothing is ever routed
    # here, and `Call.thread_id` is never set.
    messages_route = "messages"
    # The contract suite's request counts are of per-conversation message requests (and
    # of one inbox request per listing), which a message-listing API never makes; this
    # emulator's own request counts are checked in tests/test_linkedin_dma_records.py.
    reads_conversations_one_by_one = False

    credentials = {"access_token": "test-dma-token"}
    access_token: str
    checked_credential = disconnected_setting = "access_token"
    errors = {
        "fatal": ErrorReply(
            403,
            "Not enough permissions to access: memberSnapshotData.FINDER-criteria",
            "ACCESS_DENIED",
            100,
        ),
        "rate_limited": ErrorReply(429, "Resource level throttle limit reached", "", 101),
        "server_error": ErrorReply(500, "Internal Server Error"),
        "unauthorized": ErrorReply(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600),
        # Never asked: there is no request for one conversation.
        "conversation_gone": ErrorReply(404, "Not found"),
        # The member's token expired (or was revoked): a 401 in LinkedIn's error shape,
        # https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling
        # (the text and code are inferred).
        "disconnected": ErrorReply(
            401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN"
        ),
    }

    def __init__(self, inbox: SyntheticInbox, *, latency: float = 0.0, **credentials: str) -> None:
        super().__init__(inbox, latency=latency, **credentials)
        self.snapshot_ready = True
        self.clock_offset_ms = 0
        self.extra_events: list[dict[str, Any]] = []
        #: Threads of the inbox (by their `2-` id) served under a `0-` id; none by default.
        self.zero_threads: set[str] = set()
        #: Which messages' events carry a `processedActivity` (None: no event does).
        self.decorate: Callable[[Message], bool] | None = None
        self.owner_urn = person_urn(inbox.owner)
        # When each message's CREATE, UPDATE and DELETE was processed, and the clock at the
        # emulator's last look.
        self._processed_at: dict[tuple[str, str], int] = {}
        self._last_look_ms = 0
        # Messages a changelog response carried (the tap gives them the event's id).
        self._via_changelog: set[str] = set()
        #: Messages whose CREATE LinkedIn failed to process (served with `activityStatus:
        #: FAILURE` and no content), and when each was replayed (`replay`).
        self.failed: set[str] = set()
        self.replayed_at: dict[str, int] = {}
        #: When the member consented, and the snapshot rows LinkedIn processed then.
        self.consented_at_ms: int | None = None
        self._snapshot: list[dict[str, str]] | None = None
        self._observe()

    # --- the clock ----------------------------------------------------------------------

    def now_ms(self) -> int:
        newest = max(
            [HISTORY_START_MS]
            + [c.created_at_ms for c in self.inbox.conversations.values()]
            + [at for _, _, at in self._happenings()]
        )
        wall = time.time_ns() // 1_000_000
        return max(wall + self.clock_offset_ms, newest + NOW_AFTER_NEWEST_MS)

    def consent(self) -> None:
        """The member consents now: the snapshot is taken, and the changelog starts."""
        if self.consented_at_ms is not None:
            return
        self._observe()
        self._snapshot = self.snapshot_rows()
        self.consented_at_ms = max([self.now_ms(), *self._processed_at.values()]) + 1

    def _happenings(self) -> list[tuple[Message, str, int]]:
        """Every message event of the inbox: (message, method, when it happened)."""
        found = []
        for conversation in self.inbox.conversations.values():
            for message in conversation.messages:
                found.append((message, "CREATE", message.sent_at_ms))
                if message.edited_at_ms is not None:
                    found.append((message, "UPDATE", message.edited_at_ms))
                if message.deleted_at_ms is not None:
                    found.append((message, "DELETE", message.deleted_at_ms))
        return found

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=timezone.utc)

    def _observe(self) -> None:
        """Stamp the events that happened since the last look with their processing time:
        30 s after they happened, or, for one that appeared with a time before the last
        look, now (each a millisecond after the one before, all after the last look)."""
        now = self.now_ms()
        fresh = [
            (message, method, at)
            for message, method, at in sorted(self._happenings(), key=lambda h: h[2])
            if (message.message_key, method) not in self._processed_at
        ]
        late = [
            h
            for h in fresh
            if self._last_look_ms and h[2] + PROCESSING_DELAY_MS <= self._last_look_ms
        ]
        for message, method, at in fresh:
            self._processed_at[(message.message_key, method)] = at + PROCESSING_DELAY_MS
        for position, (message, method, _) in enumerate(late, start=1):
            stamp = max(now - len(late) + position, self._last_look_ms + position)
            self._processed_at[(message.message_key, method)] = stamp
        self._last_look_ms = max(now, self._last_look_ms + len(late))

    def replay(self, message: Message) -> None:
        """LinkedIn processes a failed CREATE again, now: a `SUCCESSFUL_REPLAY` event with
        the message's content, its `createdAt` the message's own (older) time."""
        self._observe()
        self.replayed_at[message.message_key] = self.now_ms()

    def process_now(self) -> None:
        """Process what happened since the last look (as a request would), now."""
        self._observe()

    def processed_at(self, message: Message, method: str = "CREATE") -> int:
        return self._processed_at[(message.message_key, method)]

    # --- what the contract suite asks ----------------------------------------------------

    def conversation_id(self, thread_id: str) -> str:
        return self.wire_thread_id(thread_id)

    def wire_thread_id(self, thread_id: str) -> str:
        """The id a thread is served under: `0-...` for one of `zero_threads`."""
        if thread_id in self.zero_threads:
            return "0-" + thread_id.partition("-")[2]
        return thread_id

    def snapshot_rows(self) -> list[dict[str, str]]:
        """The inbox as the snapshot serves it: the export's rows, under the served ids."""
        return [
            {**row, "CONVERSATION ID": self.wire_thread_id(row["CONVERSATION ID"])}
            for row in export_rows(self.inbox)
        ]

    def message_id(self, message: Message) -> str:
        if message.message_key in self._via_changelog:
            return message.message_key
        rows = [
            row
            for row in (self._snapshot if self._snapshot is not None else self.snapshot_rows())
            if row["CONVERSATION ID"] == self.wire_thread_id(message.thread_id)
            and row["DATE"] == export_date(message.sent_at_ms)
            and row["CONTENT"] == message.text
        ]
        return export_message_id(rows[0])

    def sent_at(self, sent_at_ms: int) -> str:
        # Whole seconds on both routes (the snapshot's DATE has no more).
        return str(ms_to_rfc3339(sent_at_ms // 1000 * 1000))

    def error_body(self, documented: ErrorReply) -> Reply:
        service = int(documented.label or 0)
        return error(documented.status, documented.text, code=documented.code, service=service)

    # --- serving ------------------------------------------------------------------------

    def route(self, call: Call) -> str:
        if call.method == "GET" and call.path == SNAPSHOT:
            return "snapshot"
        if call.method == "GET" and call.path == CHANGELOG:
            return "changelog"
        return f"{call.method} {call.path}"

    def answer(self, call: Call) -> Reply:
        self.consent()
        self._observe()
        authorization = call.headers.get("authorization") or ""
        if not authorization:
            return error(401, "Empty oauth2_access_token", service=401)
        if authorization != f"Bearer {self.access_token}":
            return self.error_reply("unauthorized")
        version = call.headers.get("linkedin-version")
        if not version:
            return error(400, "A version must be present.", code="VERSION_MISSING")
        if version not in ACTIVE_VERSIONS:
            return error(
                426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION"
            )
        query = {key: values[0] for key, values in call.query.items()}
        if call.route == "snapshot" and query.get("q") == "criteria":
            return self.snapshot(query)
        if call.route == "changelog" and query.get("q") == "memberAndApplication":
            return self.changelog(query)
        return error(404, f"No resource found for {call.method} {call.path}")

    def snapshot(self, query: dict[str, str]) -> Reply:
        if not self.snapshot_ready:
            return error(404, "No data found for the member")
        start = int(query.get("start") or 0)
        count = int(query.get("count") or DEFAULT_COUNT)
        rows = (self._snapshot or []) if query.get("domain", "INBOX") == "INBOX" else []
        page = rows[start * count : (start + 1) * count]
        links = []
        if (start + 1) * count < len(rows):
            href = f"{SNAPSHOT}?count={count}&domain=INBOX&q=criteria&start={start + 1}"
            links.append({"type": "application/json", "rel": "next", "href": href})
        elements = [{"snapshotDomain": "INBOX", "snapshotData": page}] if page else []
        return Reply(
            200,
            {
                "paging": {"start": start, "count": count, "links": links, "total": len(elements)},
                "elements": elements,
            },
        )

    def changelog(self, query: dict[str, str]) -> Reply:
        try:
            start_time = int(query.get("startTime") or 0)
            count = int(query.get("count") or DEFAULT_COUNT)
        except ValueError:
            return error(400, "Invalid startTime or count")
        if not 0 < count <= MAX_CHANGELOG_COUNT:
            return error(400, f"count must be between 1 and {MAX_CHANGELOG_COUNT}")
        now = self.now_ms()
        since = max(start_time, now - RETENTION_MS, self.consented_at_ms or 0)
        # What was processed by now: an event is not served before it is processed.
        events = [
            (self.processed_at(m, method), m.message_key, self.message_event(m, method))
            for m, method, _ in self._happenings()
            if since <= self.processed_at(m, method) <= now
        ] + [
            (int(e["processedAt"]), str(e.get("activityId")), e)
            for e in self.extra_events
            if since <= int(e["processedAt"]) <= now
        ]
        events += [
            (at, m.message_key, self.message_event(m, replay=True))
            for m, method, _ in self._happenings()
            if method == "CREATE"
            and since <= (at := self.replayed_at.get(m.message_key, -1)) <= now
        ]
        page = [event for _, _, event in sorted(events, key=lambda e: (e[0], e[1]))[:count]]
        self._via_changelog.update(
            str(e["resourceId"]) for e in page if e["resourceName"] == "messages"
        )
        return Reply(200, {"paging": {"start": 0, "count": count, "links": []}, "elements": page})

    def message_event(
        self, message: Message, method: str = "CREATE", *, replay: bool = False
    ) -> dict[str, Any]:
        """A `messages` event as the messages resource reference shows them: the CREATE
        with the text as first sent, an UPDATE "with the edited content", a DELETE with
        none; an edit's and a deletion's `createdAt` is their own time. A failed CREATE
        has no content, its replay all of it."""
        sender = person_urn(message.sender)
        processed = self.processed_at(message, method)
        if replay:
            processed = self.replayed_at[message.message_key]
        failed = not replay and method == "CREATE" and message.message_key in self.failed
        happened = {
            "CREATE": message.sent_at_ms,
            "UPDATE": message.edited_at_ms,
            "DELETE": message.deleted_at_ms,
        }[method]
        text = message.original_text if method == "CREATE" else message.text
        activity: dict[str, Any] = {
            "author": sender,
            "thread": f"urn:li:messagingThread:{self.wire_thread_id(message.thread_id)}",
            "createdAt": happened,
            "attachments": [f"urn:li:digitalmediaAsset:{a.asset_id}" for a in message.attachments],
        }
        if method != "DELETE" and not failed:
            activity["content"] = {
                "format": "TEXT",
                "fallback": text,
                "formatVersion": 1,
                "content": {"string": text},
            }
        if method == "CREATE":
            activity.update(
                owner=sender,
                deliveredAt=message.sent_at_ms,
                id=message.message_key,
                **{"$URN": f"urn:li:messagingMessage:{message.message_key}"},
            )
        event_name = f"{message.message_key}/{method}{'/replay' if replay else ''}"
        decorated: dict[str, Any] = {}
        if self.decorate is not None and self.decorate(message):
            decorated["processedActivity"] = self.processed_activity(message, activity)
        return {
            "owner": self.owner_urn,
            "resourceId": message.message_key,
            "configVersion": 4,
            "method": method,
            "activity": activity,
            **decorated,
            "resourceName": "messages",
            "resourceUri": f"/messages/{message.message_key}",
            "actor": sender,
            "activityId": str(uuid.uuid5(uuid.NAMESPACE_URL, event_name)),
            "processedAt": processed,
            "capturedAt": int(happened or 0) + 200,
            "activityStatus": "FAILURE" if failed else "SUCCESSFUL_REPLAY" if replay else "SUCCESS",
            "siblingActivities": [],
            "id": uuid.uuid5(uuid.NAMESPACE_URL, event_name).int % 10**10,
        }

    def processed_activity(self, message: Message, activity: dict[str, Any]) -> dict[str, Any]:
        """An event's `processedActivity`: its activity's `owner`, `author` and `thread`,
        the people decorated (`owner~`, `author~`) with a lite profile's fields [inferred:
        the reference prints the decorations as `{...}`]."""
        processed: dict[str, Any] = {
            key: activity[key] for key in ("owner", "author", "thread") if key in activity
        }
        for key in ("owner", "author"):
            if key in processed:
                processed[f"{key}~"] = lite_profile(message.sender)
        # "The thread field contains the membership array field that have the identity of
        # all the participants in the message thread", shaped as its Sales Navigator sample.
        members = [self.inbox.owner, *self.inbox.conversations[message.thread_id].participants]
        processed["thread~"] = {
            "owner": self.owner_urn,
            "membership": [
                {"identity": person_urn(person), "identity~": lite_profile(person)}
                for person in members
            ],
        }
        return processed


def lite_profile(person: Person) -> dict[str, str]:
    """A member as a decoration names them [inferred: a lite profile's fields]."""
    return {
        "localizedFirstName": person.first_name,
        "localizedLastName": person.last_name,
        "vanityName": person.profile_id,
    }
