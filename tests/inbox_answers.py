"""The analytics models' answers, computed again in plain Python from the tap's records.

The dbt models (transform/) answer in SQL with window functions; this walks each
conversation's messages in time order instead, so the two agree only if both follow the
rules the README gives ("Analytics"):

- deleted messages are left out; a message whose `sender.is_me` is null counts as neither
  sent nor received, and neither waits for a reply nor answers one;
- a reply is the member's first message after one or more messages from others, timed
  from the earliest of those unanswered messages;
- a conversation's first response is the other side's first message, timed from its
  first message, where who sent that one is known.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from tap_linkedin_messages.normalize import parse_timestamp


def instant(value: Any) -> datetime:
    """A record's date-time (RFC 3339 text, or a datetime a database gave), as naive UTC."""
    moment = value if isinstance(value, datetime) else parse_timestamp(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


@dataclass(frozen=True)
class Message:
    account_id: str
    conversation_id: str
    message_id: str
    sent_at: datetime
    is_me: bool | None
    sender: str | None

    @classmethod
    def of(cls, record: dict[str, Any]) -> Message:
        sender = record.get("sender") or {}
        return cls(
            account_id=str(record["account_id"]),
            conversation_id=str(record["conversation_id"]),
            message_id=str(record["message_id"]),
            sent_at=instant(record["sent_at"]),
            is_me=sender.get("is_me"),
            sender=(sender.get("profile_url") or "").strip().rstrip("/")
            or (sender.get("name") or "").strip()
            or None,
        )


@dataclass(frozen=True)
class Reply:
    account_id: str
    conversation_id: str
    message_id: str
    minutes: float
    answered: int
    answered_contact: str | None


@dataclass(frozen=True)
class ConversationAnswers:
    started_at: datetime
    started_by_me: bool | None
    messages_sent: int
    messages_received: int
    last_message_at: datetime
    last_message_from_me: bool | None
    awaiting_my_reply: bool | None
    first_response_minutes: float | None


def minutes(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def conversations_of(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[Message]]:
    """Each conversation's messages that count (not deleted), oldest first."""
    threads: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for record in records:
        if not record.get("is_deleted"):
            message = Message.of(record)
            threads[message.account_id, message.conversation_id].append(message)
    return {
        key: sorted(messages, key=lambda m: (m.sent_at, m.message_id))
        for key, messages in threads.items()
    }


def replies(records: list[dict[str, Any]]) -> list[Reply]:
    """Every reply of the member, conversation by conversation."""
    found = []
    for (account_id, conversation_id), messages in conversations_of(records).items():
        waiting: list[Message] = []
        for message in messages:
            if message.is_me is False:
                waiting.append(message)
            elif message.is_me and waiting:
                found.append(
                    Reply(
                        account_id,
                        conversation_id,
                        message.message_id,
                        minutes(waiting[0].sent_at, message.sent_at),
                        len(waiting),
                        waiting[0].sender,
                    )
                )
                waiting = []
    return found


def conversation_answers(
    records: list[dict[str, Any]],
) -> dict[tuple[str, str], ConversationAnswers]:
    """Per conversation with messages: who started it, the counts, the first response."""
    answers = {}
    for key, messages in conversations_of(records).items():
        first, last = messages[0], messages[-1]
        response = next(
            (
                m
                for m in messages
                if first.is_me is not None and m.is_me is not None and m.is_me != first.is_me
            ),
            None,
        )
        answers[key] = ConversationAnswers(
            started_at=first.sent_at,
            started_by_me=first.is_me,
            messages_sent=sum(m.is_me is True for m in messages),
            messages_received=sum(m.is_me is False for m in messages),
            last_message_at=last.sent_at,
            last_message_from_me=last.is_me,
            awaiting_my_reply=None if last.is_me is None else not last.is_me,
            first_response_minutes=(
                minutes(first.sent_at, response.sent_at) if response is not None else None
            ),
        )
    return answers


def daily_activity(records: list[dict[str, Any]]) -> dict[tuple[str, date], tuple[int, ...]]:
    """Per account and UTC day: sent, received, started by me, started by them."""
    days: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record in records:
        if record.get("is_deleted"):
            continue
        message = Message.of(record)
        day = days[message.account_id, message.sent_at.date()]
        day[0] += message.is_me is True
        day[1] += message.is_me is False
    for (account_id, _), answers in conversation_answers(records).items():
        day = days[account_id, answers.started_at.date()]
        day[2] += answers.started_by_me is True
        day[3] += answers.started_by_me is False
    return {key: tuple(counts) for key, counts in days.items()}


def median(values: list[float]) -> float | None:
    """The median, the mean of the two middle values for an even count (as SQL's
    `percentile_cont(0.5)`); None for none."""
    return statistics.median(values) if values else None
