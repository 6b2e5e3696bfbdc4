"""The portability API's changelog, as records: one `messages` event (created, edited,
deleted) as our message record, the thread's people and mailbox from its decorations,
and the read's position (`tap_linkedin_messages.providers.linkedin_dma`, whose docstring
says what the references settle and what is inferred)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_linkedin_messages import records
from tap_linkedin_messages.normalize import ms_to_rfc3339, thread_id_from_urn
from tap_linkedin_messages.providers.base import Position
from tap_linkedin_messages.records import Record

if TYPE_CHECKING:
    from collections.abc import Iterator


LOGGER = logging.getLogger(__name__)
MESSAGE_RESOURCE = "messages"
MESSAGE_METHODS = frozenset({"CREATE", "UPDATE", "PARTIAL_UPDATE", "DELETE"})
THREAD_URN_PREFIX = "urn:li:messagingThread:"


def whole_seconds(epoch_ms: Any) -> str | None:
    """Epoch ms as our timestamp, cut to the second the snapshot's `DATE` also has."""
    if epoch_ms is None or epoch_ms == "":
        return None
    return ms_to_rfc3339(int(epoch_ms) // 1000 * 1000)


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
        sent_at=whole_seconds(created) if method == "CREATE" else None,
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


def past_a_full_millisecond(provider: str, at: int, count: int) -> int:
    """Where the changelog reads on from after a full page of events already read, all
    processed in millisecond `at`: paged by an inclusive `startTime` alone, it shows only
    a page of them, and the next millisecond is the only way on. (Read as the end instead,
    every event after them was never read, and the position then moved past them.)"""
    LOGGER.warning(
        "%s: changelog: more than %d events processed at %s, a page's worth: the changelog "
        "pages by time alone and shows only those; reading on from the next millisecond "
        "(messages among the rest of that millisecond may not be read)",
        provider,
        count,
        ms_to_rfc3339(at),
    )
    return at + 1


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
