"""Conversations derived from messages, for sources that only list messages (the export)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_linkedin_messages.normalize import profile_key

if TYPE_CHECKING:
    from tap_linkedin_messages.providers.base import Record


class ConversationSummary:
    """What a conversation record needs from its messages, kept as they stream past.

    Only the newest message and the participants are kept, not the messages.
    """

    def __init__(self, conversation_id: str, thread_id: str | None) -> None:
        self.conversation_id = conversation_id
        self.thread_id = thread_id
        self.newest: Record | None = None
        self.category: str | None = None
        self.participants: dict[str, dict[str, Any]] = {}

    def add(self, message: Record) -> None:
        conversation = message.get("conversation") or {}
        if self.newest is None or message["sent_at"] > self.newest["sent_at"]:
            self.newest = message
            self.category = conversation.get("category")
        for person in conversation.get("participants") or []:
            key = profile_key(person.get("profile_url")) or (person.get("name") or "").lower()
            known = self.participants.setdefault(key, {"name": None, "profile_url": None})
            known["name"] = known["name"] or person.get("name")
            known["profile_url"] = known["profile_url"] or person.get("profile_url")

    def record(self) -> Record:
        """The conversation, as the API providers' conversation records look."""
        newest = self.newest or {}
        sender = newest.get("sender") or {}
        return {
            "conversation_id": self.conversation_id,
            "thread_id": self.thread_id,
            "category": self.category,
            "type": None,
            "participants": [
                {
                    "name": person["name"],
                    "headline": None,
                    "profile_url": person["profile_url"],
                    "profile_picture_url": None,
                    "is_organization": None,
                }
                for key, person in self.participants.items()
                if key
            ],
            "last_activity_at": newest.get("sent_at"),
            "unread_count": None,
            "last_message": {
                "text": newest.get("text"),
                "sent_at": newest.get("sent_at"),
                "sender_name": sender.get("name"),
                "sender_profile_url": sender.get("profile_url"),
                "is_from_me": sender.get("is_me"),
            }
            if newest
            else None,
        }
