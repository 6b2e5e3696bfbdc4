"""Full and incremental syncs against the LinkupAPI v2 emulator, over real HTTP."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from singer_sdk.exceptions import RetriableAPIError

from tap_linkedin_messages.normalize import ms_to_rfc3339, rfc3339_to_ms
from tap_linkedin_messages.providers import ProviderError
from tests.conftest import run_cli, run_tap
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator, error, message_item, success
from tests.emulators.server import Fault


def message_ids(emulator: LinkupEmulator, inbox: SyntheticInbox) -> set[str]:
    return {
        inbox.message_urn(message)
        for conversation in inbox.conversations.values()
        for message in conversation.messages
    }


def bookmark(state: dict, stream: str, *, final: bool = True) -> str:
    """The one bookmark a stream keeps per account (a final state holds nothing else)."""
    (partition,) = state["bookmarks"][stream]["partitions"]
    assert partition["context"] == {"account_id": "acc_test123"}
    if final:
        allowed = {"context", "replication_key", "replication_key_value"}
        if stream == "conversations":
            allowed.add("lookback_window")  # a few conversation ids and their activity times
        assert set(partition) <= allowed
        assert {"context", "replication_key", "replication_key_value"} <= set(partition)
    return str(partition["replication_key_value"])


def test_full_sync_emits_every_conversation_and_message_exactly_once(
    linkup: LinkupEmulator, inbox: SyntheticInbox
) -> None:
    # Small pages, so both listings take several pages and cursors are followed.
    output = run_tap(linkup.config(page_size=5))

    conversations = output.of("conversations")
    messages = output.of("messages")
    assert Counter(r["conversation_id"] for r in conversations) == Counter(
        {inbox.conversation_urn(thread_id): 1 for thread_id in inbox.conversations}
    )
    assert sorted(r["message_id"] for r in messages) == sorted(message_ids(linkup, inbox))
    assert len(messages) == inbox.message_count() == 12 * 7

    newest = max(c.last_activity_ms for c in inbox.conversations.values())
    assert bookmark(output.state, "conversations") == ms_to_rfc3339(newest)
    assert bookmark(output.state, "messages") == ms_to_rfc3339(newest)
    # Every record carries its keys, account and provider.
    for record in messages:
        assert record["account_id"] == linkup.account_id
        assert record["provider"] == "linkup"
        assert record["thread_id"].startswith("2-")
        assert record["conversation_id"].endswith(record["thread_id"] + ")")
    # 12 conversations in pages of 5 -> 3 inbox pages; 7 messages in pages of 5 -> 2 each.
    assert linkup.routes() == {"list_inbox": 3, "get_conversation": 24}
    # The credits the emulator billed are the credits the tap counted.
    assert linkup.credits == 3 + 24


def test_second_run_reads_only_what_changed(linkup: LinkupEmulator, inbox: SyntheticInbox) -> None:
    first = run_tap(linkup.config(page_size=5))
    threads = list(inbox.conversations)
    changed = [threads[2], threads[9]]
    added = [
        inbox.add_message(changed[0], text="new one"),
        inbox.add_message(changed[1], text="new two"),
        inbox.add_message(changed[0], text="new three"),
    ]
    linkup.reset_counters()

    second = run_tap(linkup.config(page_size=5), state=first.state)

    assert sorted(r["message_id"] for r in second.of("messages")) == sorted(
        inbox.message_urn(m) for m in added
    )
    assert sorted(r["conversation_id"] for r in second.of("conversations")) == sorted(
        inbox.conversation_urn(t) for t in changed
    )
    read = [
        call.body["params"]["conversation_id"]
        for call in linkup.calls
        if call.route == "get_conversation"
    ]
    assert sorted(set(read)) == sorted(inbox.conversation_urn(t) for t in changed)
    # Two changed conversations fit in the first inbox page: paging stopped there.
    assert linkup.count("list_inbox") == 1
    assert bookmark(second.state, "messages") == ms_to_rfc3339(added[-1].sent_at_ms)

    linkup.reset_counters()
    third = run_tap(linkup.config(page_size=5), state=second.state)
    assert third.records == {}
    assert linkup.routes() == {"list_inbox": 1}
    assert third.state["bookmarks"] == second.state["bookmarks"]


def test_start_date_is_honoured(linkup: LinkupEmulator, inbox: SyntheticInbox) -> None:
    everything = sorted(
        (m for c in inbox.conversations.values() for m in c.messages), key=lambda m: m.sent_at_ms
    )
    pivot = everything[len(everything) // 2]
    output = run_tap(linkup.config(start_date=ms_to_rfc3339(pivot.sent_at_ms)))

    emitted = output.of("messages")
    expected = {inbox.message_urn(m) for m in everything if m.sent_at_ms >= pivot.sent_at_ms}
    assert {r["message_id"] for r in emitted} == expected
    assert inbox.message_urn(pivot) in expected  # "nothing older": the pivot itself is kept
    assert all(
        rfc3339_to_ms(c["last_activity_at"]) >= pivot.sent_at_ms for c in output.of("conversations")
    )


def test_who_sent_a_message_is_told_where_the_conversation_says_it(
    linkup: LinkupEmulator, inbox: SyntheticInbox
) -> None:
    output = run_tap(linkup.config())
    by_id = {r["message_id"]: r for r in output.of("messages")}
    for conversation in inbox.conversations.values():
        other = conversation.participants[0]
        for message in conversation.messages:
            is_me = by_id[inbox.message_urn(message)]["sender"]["is_me"]
            if message.sender is other:
                assert is_me is False  # a participant is never "me"
            elif conversation.messages[-1].sender is inbox.owner:
                assert is_me is True  # the owner's URL is known from the last message
            else:
                assert is_me is None  # not knowable from this provider: null, not a guess


def test_a_run_that_dies_half_way_keeps_the_bookmark_and_loses_nothing(
    linkup: LinkupEmulator, inbox: SyntheticInbox, tmp_path: Path
) -> None:
    first = run_tap(linkup.config())
    added = [inbox.add_message(thread_id) for thread_id in list(inbox.conversations)[:4]]
    linkup.inject(
        Fault(route="get_conversation", reply=None),
        Fault(route="get_conversation", reply=error(403, "ACCOUNT_INACTIVE", "Account inactive")),
    )
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(first.state))
    crashed = run_cli(tmp_path, linkup.config(), "--state", str(state_file))
    assert crashed.returncode == 1
    partial = crashed.output
    assert len(partial.of("messages")) == 1  # the first changed conversation got through
    for state in partial.states:
        for stream in ("conversations", "messages"):
            assert bookmark(state, stream, final=False) == bookmark(first.state, stream)

    # Resuming from the last state the crashed run wrote (what Meltano keeps) loses nothing.
    resumed = run_tap(linkup.config(), state=partial.state)
    assert {r["message_id"] for r in resumed.of("messages")} == {
        inbox.message_urn(m) for m in added
    }


def test_bookmark_never_moves_past_the_start_of_the_sync(
    linkup: LinkupEmulator, inbox: SyntheticInbox
) -> None:
    # A provider clock far ahead: a message stamped in 2100.
    thread_id = next(iter(inbox.conversations))
    late = inbox.add_message(thread_id)
    late.sent_at_ms = 4_102_444_800_000
    output = run_tap(linkup.config())
    assert len(output.of("messages")) == inbox.message_count()
    for stream in ("conversations", "messages"):
        assert bookmark(output.state, stream) < "2100"


def test_the_sdks_unsorted_warning_gives_way_to_progress_held_on_purpose(
    linkup: LinkupEmulator, inbox: SyntheticInbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Newest first is known, not assumed: no "Stream is assumed to be unsorted" WARNING
    per stream and account; the progress is held in markers that say why while the
    account is read, and is the bookmark once it is (tests/test_resume.py: a run stopped
    part-way starts again from the previous bookmark)."""
    output = run_tap(linkup.config())
    assert len(output.of("messages")) == inbox.message_count()
    assert not [r for r in caplog.records if "assumed to be unsorted" in r.getMessage()]
    held = [
        partition["progress_markers"]
        for state in output.states
        for partition in state["bookmarks"]["messages"].get("partitions", [])
        if "progress_markers" in partition
    ]
    assert held, "the run's STATE messages show the held progress"
    assert all(markers["Note"].startswith("Newest first: held until") for markers in held)
    for stream in ("conversations", "messages"):
        (partition,) = output.state["bookmarks"][stream]["partitions"]
        assert "progress_markers" not in partition
        assert partition["replication_key_value"]


def test_rate_limits_and_server_errors_are_retried(
    linkup: LinkupEmulator, inbox: SyntheticInbox
) -> None:
    linkup.inject(
        Fault(route="list_inbox", reply=error(429, "RATE_LIMITED", "Slow down")),
        Fault(route="get_conversation", reply=error(500, "INTERNAL_ERROR", "Oops")),
        Fault(route="get_conversation", reply=error(500, "INTERNAL_ERROR", "Oops")),
    )
    output = run_tap(linkup.config())
    assert len(output.of("messages")) == inbox.message_count()
    assert linkup.count("list_inbox") == 2


def test_retries_give_up_after_max_retries_with_one_line(linkup: LinkupEmulator) -> None:
    linkup.inject(*[Fault(reply=error(500, "INTERNAL_ERROR", "Down")) for _ in range(3)])
    with pytest.raises(ProviderError, match=r"INTERNAL_ERROR \(HTTP 500\).* after 2 retries"):
        run_tap(linkup.config(max_retries=2))
    assert linkup.count() == 3


def test_inbox_categories_are_each_read_and_shared_conversations_read_once(
    inbox: SyntheticInbox,
) -> None:
    starred = list(inbox.conversations)[:3]
    for thread_id in starred:
        inbox.conversations[thread_id].categories.add("STARRED")
    with LinkupEmulator(inbox) as emulator:
        output = run_tap(emulator.config(inbox_categories=["STARRED", "INBOX"]))
        categories = [
            call.body["params"]["category"] for call in emulator.calls if call.route == "list_inbox"
        ]
        reads = Counter(
            call.body["params"]["conversation_id"]
            for call in emulator.calls
            if call.route == "get_conversation"
        )
    assert categories == ["STARRED", "INBOX"]
    assert len(output.of("conversations")) == len(inbox.conversations)
    assert {r["category"] for r in output.of("conversations") if r["thread_id"] in starred} == {
        "STARRED"
    }
    assert set(reads.values()) == {1}
    assert len(output.of("messages")) == inbox.message_count()


def test_a_message_without_its_timestamp_stops_the_run_naming_where(
    linkup: LinkupEmulator, inbox: SyntheticInbox, tmp_path: Path
) -> None:
    broken = inbox.newest_first()[0]
    item = message_item(inbox, broken.messages[-1])
    del item["timestamp"]
    page = success("get_conversation", linkup.account_id, {"messages": [item]}, 1)
    linkup.inject(Fault(route="get_conversation", reply=page))
    run = run_cli(tmp_path, linkup.config())
    assert run.returncode == 1
    (line,) = [line for line in run.stderr.splitlines() if "has no sent_at" in line]
    assert "messages item #1" in line
    assert inbox.conversation_urn(broken.thread_id) in line
    assert "Traceback" not in run.stderr
    assert run.output.of("messages") == []  # nothing unkeyable reached the target


def test_retry_after_is_read_in_seconds_and_as_an_http_date() -> None:
    import requests

    from tap_linkedin_messages.providers.error_rules import retry_after_seconds

    def rate_limited(header: str) -> RetriableAPIError:
        response = requests.Response()
        response.status_code = 429
        response.headers["Retry-After"] = header
        return RetriableAPIError("429", response)

    assert retry_after_seconds(rate_limited("7")) == 7.0
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(rate_limited(soon)) or 0) <= 30
    assert retry_after_seconds(rate_limited("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0
    assert retry_after_seconds(rate_limited("soon-ish")) is None


def metric_points(stderr: str) -> list[dict]:
    return [
        json.loads(line.split("METRIC: ", 1)[1])
        for line in stderr.splitlines()
        if "METRIC: " in line
    ]


def test_messages_log_one_count_per_account_and_each_conversation_only_at_debug(
    linkup: LinkupEmulator, inbox: SyntheticInbox, tmp_path: Path
) -> None:
    config = linkup.config(page_size=4)
    run = run_cli(tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    points = metric_points(run.stderr)
    counts = [
        p for p in points if p["metric"] == "record_count" and p["tags"]["stream"] == "messages"
    ]
    # One count for the account, of every message emitted; no line per conversation.
    assert [(p["value"], set(p["tags"]["context"])) for p in counts] == [
        (inbox.message_count(), {"account_id"})
    ]
    assert len(run.output.of("messages")) == inbox.message_count()
    assert not [
        p for p in points if p["metric"] == "sync_duration" and p["tags"]["stream"] == "messages"
    ]
    assert "Beginning sync of 'messages'" not in run.stderr
    assert "Starting incremental sync of 'messages'" not in run.stderr

    debug = run_cli(tmp_path, config, env={"LOGLEVEL": "DEBUG"})
    assert debug.returncode == 0
    per_conversation = [
        p
        for p in metric_points(debug.stderr)
        if p["metric"] == "record_count"
        and p["tags"]["stream"] == "messages"
        and "conversation_id" in p["tags"].get("context", {})
    ]
    assert sorted(p["tags"]["context"]["thread_id"] for p in per_conversation) == sorted(
        inbox.conversations
    )
    assert debug.stderr.count("Beginning sync of 'messages'") == len(inbox.conversations)
