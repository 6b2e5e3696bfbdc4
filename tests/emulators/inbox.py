"""A synthetic LinkedIn inbox that every provider emulator serves in its own wire format.

Everything is generated from a seed: names, profile URLs, thread ids and texts are made
up, never taken from a real person. Timestamps are unique epoch milliseconds in the past,
so a sync's start always lies after the newest message.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

# 2025-01-01T00:00:00Z: history runs forward from here, `spacing_ms` or so per message.
HISTORY_START_MS = 1_735_689_600_000
# Half an hour or so between messages: longer than a lookback window, as in a real inbox.
DEFAULT_SPACING_MS = 30 * 60_000

FIRST_NAMES = [
    "Ada",
    "Bram",
    "Chloé",
    "Dmitri",
    "Eun-ji",
    "Farah",
    "Gustav",
    "Hana",
    "Ines",
    "José",
]
LAST_NAMES = ["Okafor", "Lindqvist", "Moreau", "Ivanova", "Kim", "Haddad", "Berg", "Sato", "Duarte"]
PHRASES = [
    "Thanks for connecting!",
    "Are you free for a call on Thursday?",
    "Sharing the deck we discussed.",
    "Sounds good, talk soon!",
    "Could you send over the pricing sheet?",
    "Happy to help 🙂",
    "Following up on my last note.",
]


@dataclass(frozen=True)
class Person:
    """A member (or a company page) of the synthetic network."""

    profile_id: str
    first_name: str
    last_name: str
    headline: str
    is_organization: bool = False

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def profile_url(self) -> str:
        return f"https://www.linkedin.com/in/{self.profile_id}"

    @property
    def picture_url(self) -> str:
        return f"https://media.example.invalid/{self.profile_id}.jpg"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message."""

    asset_id: str
    name: str
    media_type: str
    size_bytes: int

    @property
    def url(self) -> str:
        return f"https://media.example.invalid/files/{self.asset_id}/{self.name}"


@dataclass(frozen=True)
class Reaction:
    """An emoji someone put on a message."""

    value: str
    by: Person


@dataclass
class Message:
    """One message; `sent_at_ms` is unique across the inbox."""

    message_key: str
    thread_id: str
    sent_at_ms: int
    sender: Person
    text: str
    message_type: str = "TEXT"
    attachments: list[Attachment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    #: When it was last edited, and when it was deleted (None: never).
    edited_at_ms: int | None = None
    deleted_at_ms: int | None = None
    #: The text as first sent, where it was edited since.
    first_text: str | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at_ms is not None

    @property
    def original_text(self) -> str:
        return self.first_text if self.first_text is not None else self.text

    @property
    def position(self) -> tuple[int, str]:
        """Where it stands in a newest-first listing (`tests.emulators.paging`)."""
        return (-self.sent_at_ms, self.message_key)


@dataclass
class Conversation:
    """A thread: the owner plus `participants` (the other side), messages oldest first."""

    thread_id: str
    participants: list[Person]
    messages: list[Message] = field(default_factory=list)
    categories: set[str] = field(default_factory=lambda: {"INBOX"})
    type: str = "normal"
    unread: int = 0
    created_at_ms: int = HISTORY_START_MS

    @property
    def last_activity_ms(self) -> int:
        return self.messages[-1].sent_at_ms if self.messages else self.created_at_ms

    @property
    def position(self) -> tuple[int, str]:
        """Where it stands in a newest-first listing (`tests.emulators.paging`)."""
        return (-self.last_activity_ms, self.thread_id)

    def newest_first(self) -> list[Message]:
        return list(reversed(self.messages))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class SyntheticInbox:
    """The owner's inbox: conversations keyed by thread id, and a clock for new messages."""

    def __init__(
        self, owner: Person, owner_urn_id: str, *, spacing_ms: int = DEFAULT_SPACING_MS
    ) -> None:
        self.owner = owner
        self.spacing_ms = spacing_ms
        self.owner_urn_id = owner_urn_id
        self.conversations: dict[str, Conversation] = {}
        self._clock_ms = HISTORY_START_MS
        self._lock = threading.Lock()
        self._rng = random.Random(0)

    # --- building -------------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        *,
        seed: int = 7,
        conversations: int = 20,
        messages: int | Callable[[int], int] = 12,
        spacing_ms: int = DEFAULT_SPACING_MS,
    ) -> SyntheticInbox:
        """`conversations` threads of `messages` messages (or `messages(i)` for thread i)."""
        rng = random.Random(seed)
        owner = Person("owner-" + _digest(seed, "owner"), "Olive", "Owner", "Head of Sales")
        inbox = cls(owner, "ACoAA" + _digest(seed, "urn").upper(), spacing_ms=spacing_ms)
        inbox._rng = rng
        for index in range(conversations):
            other = Person(
                f"member-{index}-{_digest(seed, index)}",
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                f"{rng.choice(['CTO', 'Founder', 'Buyer', 'Recruiter'])} at Example {index}",
            )
            thread = inbox.add_conversation([other])
            count = messages(index) if callable(messages) else messages
            for _ in range(count):
                inbox.add_message(thread.thread_id)
        return inbox

    def add_conversation(
        self,
        participants: list[Person],
        *,
        type_: str = "normal",
        categories: set[str] | None = None,
    ) -> Conversation:
        with self._lock:
            thread_id = "2-" + _b64(f"thread-{len(self.conversations)}-{self.owner.profile_id}")
            conversation = Conversation(
                thread_id,
                participants,
                categories=categories or {"INBOX"},
                type=type_,
                created_at_ms=self._tick(),
            )
            self.conversations[thread_id] = conversation
            return conversation

    def add_message(
        self,
        thread_id: str,
        *,
        text: str | None = None,
        sender: Person | None = None,
        message_type: str = "TEXT",
        sent_at_ms: int | None = None,
    ) -> Message:
        """Add a message: newer than everything so far, or stamped `sent_at_ms` (a late one)."""
        with self._lock:
            conversation = self.conversations[thread_id]
            sent_at = self._tick() if sent_at_ms is None else sent_at_ms
            if sender is None:
                sender = self._rng.choice([self.owner, *conversation.participants])
            if text is None:
                text = self._rng.choice(PHRASES)
            message = Message(
                message_key="2-" + _b64(f"msg-{sent_at}-{thread_id[-12:]}"),
                thread_id=thread_id,
                sent_at_ms=sent_at,
                sender=sender,
                text=text,
                message_type=message_type,
            )
            conversation.messages.append(message)
            conversation.messages.sort(key=lambda m: m.sent_at_ms)
            if sender is not self.owner:
                conversation.unread += 1
            return message

    def attach(self, message: Message, name: str, media_type: str, size_bytes: int) -> Attachment:
        """Send a file with a message."""
        attachment = Attachment(
            f"asset-{_digest(message.message_key, len(message.attachments))}",
            name,
            media_type,
            size_bytes,
        )
        message.attachments.append(attachment)
        return attachment

    def react(self, message: Message, value: str, by: Person) -> Reaction:
        reaction = Reaction(value, by)
        message.reactions.append(reaction)
        return reaction

    def edit(self, message: Message, text: str) -> None:
        """Change a message's text, now (its time and id stay)."""
        with self._lock:
            if message.first_text is None:
                message.first_text = message.text
            message.text = text
            message.edited_at_ms = self._tick()

    def delete(self, message: Message) -> None:
        """Delete a message, now (it stays in the inbox, marked)."""
        with self._lock:
            message.deleted_at_ms = self._tick()

    def _tick(self) -> int:
        self._clock_ms += self.spacing_ms + self._rng.randrange(1, max(2, self.spacing_ms // 2))
        return self._clock_ms

    # --- reading --------------------------------------------------------------------------

    def conversation_urn(self, thread_id: str) -> str:
        return f"urn:li:msg_conversation:(urn:li:fsd_profile:{self.owner_urn_id},{thread_id})"

    def listed_profile_url(self, person: Person) -> str:
        """A profile URL as an inbox listing writes it: the member's own in LinkedIn's
        member-id form (`/in/ACoAA...`, the reference's LinkupAPI inbox example)."""
        if person is self.owner:
            return f"https://www.linkedin.com/in/{self.owner_urn_id}"
        return person.profile_url

    def message_urn(self, message: Message) -> str:
        return f"urn:li:msg_message:(urn:li:fsd_profile:{self.owner_urn_id},{message.message_key})"

    def thread_id_of(self, conversation_id: str) -> str | None:
        """The thread a conversation URN (or bare thread id) names, if it exists."""
        thread_id = conversation_id.rsplit(",", 1)[-1].rstrip(")")
        return thread_id if thread_id in self.conversations else None

    def newest_first(self, category: str = "INBOX") -> list[Conversation]:
        """The category's conversations, most recent activity first (a snapshot)."""
        with self._lock:
            listed = [
                c
                for c in self.conversations.values()
                if category in c.categories or (category == "UNREAD" and c.unread)
            ]
        return sorted(listed, key=lambda c: c.position)

    def message_count(self) -> int:
        return sum(len(c.messages) for c in self.conversations.values())


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:10]
