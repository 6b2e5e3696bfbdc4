"""What the streams keep in each account's state beside the SDK's bookmark: the lookback
window, the position of a source that tells what is new, and the SDK's own progress
markers and signpost, written as its documented state format says
(https://sdk.meltano.com/en/latest/implementation/state.html)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tap_linkedin_messages.normalize import datetime_to_rfc3339, parse_timestamp

# Key of the lookback window in each account's `conversations` state.
LOOKBACK_WINDOW = "lookback_window"
# Key of the position a source that tells what is new keeps there instead (opaque here).
POSITION = "position"
# Key of the streams the window or the position was kept for, where a run emitted only
# one of the two: they say what that stream emitted, not the other.
KEPT_FOR = "kept_for"
BOTH_STREAMS = ("conversations", "messages")


def kept_for_selection(state: dict[str, Any], selected: tuple[str, ...]) -> bool:
    """Whether the window and position in an account's state were kept by runs that
    emitted every stream selected now (a stream selected again after runs without it
    must not take what the other emitted for its own)."""
    return set(selected) <= set(state.get(KEPT_FOR, BOTH_STREAMS))


def keep_for_selection(state: dict[str, Any], selected: tuple[str, ...]) -> None:
    """Say which streams the window and position just kept were emitted for."""
    if set(selected) >= set(BOTH_STREAMS):
        state.pop(KEPT_FOR, None)
    else:
        state[KEPT_FOR] = sorted(selected)


# A bound on the window kept in memory (the inbox is read newest first, so only the
# first conversations of a run can fall in it).
WINDOW_PRUNE_AT = 1000


class LookbackWindow:
    """The conversations whose activity lies within `lookback_minutes` of the bookmark,
    with that activity time.

    The previous run's copy (from state) tells an unchanged conversation in the window
    from a changed one, and how far a changed one was read; this run's is kept in state
    once every conversation of the account, and its messages, has been emitted.
    """

    def __init__(self, previous: dict[str, str] | None) -> None:
        self.previous = dict(previous or {})
        self.seen: dict[str, str] = {}

    def unchanged(self, conversation_id: str, activity: str) -> bool:
        return self.previous.get(conversation_id) == activity

    def saw(self, conversation_id: str, activity: str) -> None:
        self.seen[conversation_id] = activity
        # Pruned once it holds twice the bound, not at every conversation past it: a
        # sort per conversation would cost a 50,000-conversation archive a minute.
        if len(self.seen) > 2 * WINDOW_PRUNE_AT:
            newest = sorted(self.seen.items(), key=lambda item: item[1])[-WINDOW_PRUNE_AT:]
            self.seen = dict(newest)

    def kept(
        self, bookmark: str | None, lookback: timedelta, ceiling: str | None
    ) -> dict[str, str]:
        """The window to keep: entries within `lookback` of the bookmark the run leaves
        (the newest activity emitted, never past the sync's start `ceiling`)."""
        newest = max([*self.seen.values(), bookmark or ""])
        if ceiling and newest > ceiling:
            newest = ceiling
        if not newest:
            return {}
        since = datetime_to_rfc3339(parse_timestamp(newest) - lookback)
        candidates = {**self.previous, **self.seen}
        return {
            conversation_id: activity
            for conversation_id, activity in sorted(candidates.items())
            if activity > since
        }


#: The SDK's state keys for the progress it holds back, and for the cap it puts on it
#: (its documented state format: https://sdk.meltano.com/en/latest/implementation/state.html).
PROGRESS_MARKERS = "progress_markers"
PROGRESS_NOTE = "Note"
SIGNPOST = "replication_key_signpost"


def cap_at_sync_start(state: dict[str, Any], signpost: Any) -> None:
    """The SDK's signpost in an account's partition: the bookmark it promotes at the end
    is never later than the sync's start (a provider clock ahead of ours). Written as
    the SDK writes it, a datetime as ISO 8601 with microseconds."""
    if isinstance(signpost, datetime):
        zoned = signpost if signpost.tzinfo else signpost.replace(tzinfo=timezone.utc)
        state[SIGNPOST] = zoned.isoformat("T", timespec="microseconds")
    elif signpost:
        state[SIGNPOST] = signpost


def hold_progress(state: dict[str, Any]) -> None:
    """Open an account's progress markers before its first record, saying why.

    Providers list newest first, so the streams are not sorted (`is_sorted = False`): the
    SDK keeps what a read emitted in progress markers and makes it the bookmark only once
    the read ends; a run stopped part-way starts again from the previous bookmark. Left to
    itself the SDK opens those markers at an account's first record with a WARNING
    ("Stream is assumed to be unsorted"), one per stream and account, in every run. The
    order is not assumed here but known, so the markers are opened with that note instead.
    """
    state.setdefault(
        PROGRESS_MARKERS,
        {
            PROGRESS_NOTE: "Newest first: held until the account is read, then the "
            "bookmark; a run stopped part-way starts again from the previous one."
        },
    )
