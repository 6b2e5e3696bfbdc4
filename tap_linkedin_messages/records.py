"""Our record shapes, one small constructor each, mirroring `schemas/*.json`.

Every adapter builds its records with these, so a field is named in one place and a
field a provider does not give is null the same way everywhere. The streams add what
every record carries (`account_id`, `provider`; a conversation's ids on its messages).
`tests/test_records.py` holds the constructors to the schemas, field for field.
"""

from __future__ import annotations

import importlib.resources
from typing import TYPE_CHECKING, Any

from singer_sdk import SchemaDirectory

if TYPE_CHECKING:
    from collections.abc import Callable

Record = dict[str, Any]

#: The streams' JSON schemas (`schemas/`, shipped inside the package), by stream name.
SCHEMAS = SchemaDirectory(importlib.resources.files("tap_linkedin_messages") / "schemas")


def sender(
    *,
    name: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    profile_url: str | None = None,
    is_me: bool | None = None,
) -> Record:
    """Who sent a message (`messages.sender`)."""
    return {
        "name": name,
        "first_name": first_name,
        "last_name": last_name,
        "profile_url": profile_url,
        "is_me": is_me,
    }


def participant(
    *,
    name: str | None = None,
    headline: str | None = None,
    profile_url: str | None = None,
    profile_picture_url: str | None = None,
    is_organization: bool | None = None,
) -> Record:
    """One member of a conversation other than the account owner (`participants[]`)."""
    return {
        "name": name,
        "headline": headline,
        "profile_url": profile_url,
        "profile_picture_url": profile_picture_url,
        "is_organization": is_organization,
    }


def last_message(
    *,
    text: str | None = None,
    sent_at: str | None = None,
    sender_name: str | None = None,
    sender_profile_url: str | None = None,
    is_from_me: bool | None = None,
) -> Record:
    """A conversation's newest message, as the inbox shows it (`last_message`)."""
    return {
        "text": text,
        "sent_at": sent_at,
        "sender_name": sender_name,
        "sender_profile_url": sender_profile_url,
        "is_from_me": is_from_me,
    }


def attachment(
    *,
    id: str | None = None,
    name: str | None = None,
    media_type: str | None = None,
    size_bytes: int | None = None,
    url: str | None = None,
    url_expires_at: str | None = None,
) -> Record:
    """A file sent with a message (`messages.attachments[]`)."""
    return {
        "id": id,
        "name": name,
        "media_type": media_type,
        "size_bytes": size_bytes,
        "url": url,
        "url_expires_at": url_expires_at,
    }


def reaction(
    *, value: str | None = None, sender_id: str | None = None, is_me: bool | None = None
) -> Record:
    """An emoji someone put on a message (`messages.reactions[]`)."""
    return {"value": value, "sender_id": sender_id, "is_me": is_me}


def each(items: Any, build: Callable[[dict[str, Any]], Record]) -> list[Record] | None:
    """A provider's list (attachments, reactions) as our records, `build` for each item;
    None where the payload has no list, an empty list where it says there are none."""
    if not isinstance(items, list):
        return None
    return [build(item) for item in items if isinstance(item, dict)]


def message(
    *,
    message_id: str | None,
    sent_at: str | None,
    text: str | None = None,
    subject: str | None = None,
    message_type: str | None = None,
    sender: Record | None = None,
    attachments: list[Record] | None = None,
    reactions: list[Record] | None = None,
    is_edited: bool | None = None,
    edited_at: str | None = None,
    is_deleted: bool | None = None,
    reply_to_message_id: str | None = None,
) -> Record:
    """One message (`messages`), without its conversation's ids and the account's.

    `attachments`, `reactions`, `is_edited`, `edited_at` and `is_deleted` are null where
    the provider does not say (an empty list only where it says there are none).
    """
    return {
        "message_id": message_id,
        "sent_at": sent_at,
        "text": text,
        "subject": subject,
        "message_type": message_type,
        "sender": sender,
        "attachments": attachments,
        "reactions": reactions,
        "is_edited": is_edited,
        "edited_at": edited_at,
        "is_deleted": is_deleted,
        "reply_to_message_id": reply_to_message_id,
    }


def conversation(
    *,
    conversation_id: str | None,
    last_activity_at: str | None,
    thread_id: str | None = None,
    category: str | None = None,
    folder: str | None = None,
    type: str | None = None,
    participants: list[Record] | None = None,
    unread_count: int | None = None,
    last_message: Record | None = None,
    mailbox: str | None = None,
    is_read: bool | None = None,
    last_read_at: str | None = None,
) -> Record:
    """One conversation (`conversations`), without the account's ids.

    `is_read`: the provider's flag where it has one, else whether its unread count is 0
    (null where it gives neither). `mailbox`: one of `MAILBOXES`.
    """
    if is_read is None and isinstance(unread_count, int):
        is_read = unread_count == 0
    return {
        "conversation_id": conversation_id,
        "thread_id": thread_id,
        "category": category,
        "folder": folder,
        "mailbox": mailbox,
        "type": type,
        "participants": participants if participants is not None else [],
        "last_activity_at": last_activity_at,
        "unread_count": unread_count,
        "is_read": is_read,
        "last_read_at": last_read_at,
        "last_message": last_message,
    }


#: The member's mailboxes a conversation can be in (`conversations.mailbox`).
MAILBOXES = ("CLASSIC", "SALES_NAVIGATOR", "RECRUITER")


def member(*, ids: list[str], participant: Record, is_me: bool | None) -> Record:
    """Someone a provider lists in a conversation, with the ids its messages name them by
    (for providers whose messages name senders by id only). Never emitted as it is."""
    return {"ids": ids, "participant": participant, "is_me": is_me}


def listed(
    message: Record,
    *,
    conversation_id: str | None,
    thread_id: str | None,
    title: str | None = None,
    category: str | None = None,
    folder: str | None = None,
    type: str | None = None,
    participants: list[Record] | None = None,
    mailbox: str | None = None,
    last_read_at: str | None = None,
) -> Record:
    """A message from a source that lists messages: its conversation's ids, and a
    `conversation` entry the conversation record is derived from (never emitted; the
    newest message's `mailbox` and `last_read_at` are the conversation's)."""
    message["conversation_id"] = conversation_id
    message["thread_id"] = thread_id
    message["conversation"] = {
        "title": title,
        "category": category,
        "folder": folder,
        "type": type,
        "participants": participants if participants is not None else [],
        "mailbox": mailbox,
        "last_read_at": last_read_at,
    }
    return message


def changed_at(message: Record) -> str:
    """When a message last changed: sent, or edited or deleted since (`edited_at`).

    What an incremental read compares with its cutoff: an edit of an old message is news.
    """
    edited = message.get("edited_at")
    return str(edited if edited and edited > message["sent_at"] else message["sent_at"])
