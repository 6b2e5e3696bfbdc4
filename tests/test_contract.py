"""The provider contract: every adapter, against its emulator, passes the same scenarios.

Each scenario builds a `SyntheticInbox`, serves it through one provider's emulator over
real HTTP, runs the tap, and compares what came out with the inbox itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tap_linkedin_messages.providers import PROVIDERS as ADAPTERS
from tap_linkedin_messages.providers import MessageListing, ProviderError
from tests.conftest import FORK_MODES, run_cli, run_tap, set_fork_mode
from tests.emulators import SOURCES, emulator_class
from tests.emulators.inbox import Person, SyntheticInbox
from tests.emulators.server import ProviderEmulator

PROVIDERS = sorted(SOURCES)
# Sources that list messages make their items in a forked child where they can: each runs
# the suite both ways (`FORK_MODES`).
MODES: list[tuple[str, str | None]] = [
    (name, mode)
    for name in PROVIDERS
    for mode in (FORK_MODES if issubclass(ADAPTERS[name], MessageListing) else (None,))
]
CASES = [pytest.param(case, id="-".join(filter(None, case))) for case in MODES]


@pytest.fixture(params=CASES)
def provider(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name, mode = request.param
    if mode is not None:
        set_fork_mode(monkeypatch, mode)
    return str(name)


def serve(provider: str, inbox: SyntheticInbox) -> ProviderEmulator:
    return emulator_class(provider)(inbox).start()


@pytest.fixture
def make_emulator(provider: str) -> Iterator[Any]:
    started: list[ProviderEmulator] = []

    def make(inbox: SyntheticInbox) -> ProviderEmulator:
        emulator = serve(provider, inbox)
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


def expected_messages(emulator: ProviderEmulator) -> dict[str, Any]:
    return {
        emulator.message_id(message): message
        for conversation in emulator.inbox.conversations.values()
        for message in conversation.messages
    }


def check_message(record: dict[str, Any], message: Any, emulator: ProviderEmulator) -> None:
    """One emitted message against the inbox: ids, time, text, sender as far as known."""
    inbox = emulator.inbox
    assert record["thread_id"] == message.thread_id
    assert record["conversation_id"] == emulator.conversation_id(message.thread_id)
    assert record["sent_at"] == emulator.sent_at(message.sent_at_ms)
    assert record["text"] == message.text
    assert record["provider"] == emulator.provider
    assert record["account_id"]
    sender = record["sender"]
    if sender["name"] is not None:
        assert sender["name"] == message.sender.name
    is_owner = message.sender is inbox.owner
    if emulator.tells_is_me or sender["is_me"] is not None:
        assert sender["is_me"] is is_owner


def test_full_sync_emits_everything_exactly_once(make_emulator: Any) -> None:
    emulator = make_emulator(SyntheticInbox.generate(seed=21, conversations=9, messages=6))
    output = run_tap(emulator.config(page_size=4))

    expected = expected_messages(emulator)
    emitted = [r["message_id"] for r in output.of("messages")]
    assert sorted(emitted) == sorted(expected)
    for record in output.of("messages"):
        check_message(record, expected[record["message_id"]], emulator)

    conversations = {r["thread_id"]: r for r in output.of("conversations")}
    assert len(conversations) == len(output.of("conversations")) == 9
    for thread_id, conversation in emulator.inbox.conversations.items():
        record = conversations[thread_id]
        assert record["conversation_id"] == emulator.conversation_id(thread_id)
        assert record["last_activity_at"] == emulator.sent_at(conversation.last_activity_ms)
        assert record["provider"] == emulator.provider
    if emulator.reads_conversations_one_by_one:
        # Every conversation's messages were asked for, in pages of at most 4.
        assert set(emulator.threads_read()) == set(emulator.inbox.conversations)


def bookmarks(state: dict[str, Any], stream: str) -> list[Any]:
    """A stream's bookmark per account (a source's position aside: it may hold a time
    the run read at)."""
    return [
        (partition["context"], partition.get("replication_key_value"))
        for partition in state["bookmarks"][stream]["partitions"]
    ]


def test_batch_messages_carry_the_same_records_and_bookmarks(
    make_emulator: Any, tmp_path: Path
) -> None:
    """The `batch` capability the tap declares (https://sdk.meltano.com/en/latest/batch.html):
    records go to files that BATCH messages name, and no bookmark moves before the
    conversations' batch is written (the messages' batches come first, as children)."""
    emulator = make_emulator(SyntheticInbox.generate(seed=27, conversations=5, messages=4))
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "run-"},
    }
    plain = run_tap(emulator.config(page_size=3))
    batched = run_tap(emulator.config(page_size=3, batch_config=batch_config))

    assert batched.batches > 1
    assert batched.records == plain.records
    for stream in ("conversations", "messages"):
        assert bookmarks(batched.state, stream) == bookmarks(plain.state, stream)
    assert run_tap(emulator.config(batch_config=batch_config), batched.state).records == {}
    before = batched.states[: batched.states_before_batch["conversations"]]
    for state in before:
        for stream in ("conversations", "messages"):
            assert "replication_key_value" not in state["bookmarks"][stream]["partitions"][0]


def test_incremental_run_emits_only_new_messages(make_emulator: Any) -> None:
    inbox = SyntheticInbox.generate(seed=22, conversations=10, messages=5)
    emulator = make_emulator(inbox)
    first = run_tap(emulator.config(page_size=4))
    threads = list(inbox.conversations)
    added = [
        inbox.add_message(threads[1]),
        inbox.add_message(threads[6]),
        inbox.add_message(threads[6]),
        inbox.add_message(threads[8]),
    ]
    emulator.reset_counters()

    second = run_tap(emulator.config(page_size=4), state=first.state)

    assert sorted(r["message_id"] for r in second.of("messages")) == sorted(
        emulator.message_id(m) for m in added
    )
    assert sorted(r["thread_id"] for r in second.of("conversations")) == sorted(
        {threads[1], threads[6], threads[8]}
    )
    if emulator.reads_conversations_one_by_one:
        assert set(emulator.threads_read()) == {threads[1], threads[6], threads[8]}

    emulator.reset_counters()
    third = run_tap(emulator.config(page_size=4), state=second.state)
    assert third.records == {}
    assert emulator.count(emulator.messages_route) == 0


def test_a_message_that_arrives_late_is_emitted_exactly_once(make_emulator: Any) -> None:
    """A message becomes visible to the source after the last run passed its time: an
    API indexes it late (3 minutes before the newest message emitted: inside the lookback
    window), the next archive holds it, the portability API processes it after the run
    (both: dated hours before the newest message emitted, far past any lookback). The
    next run emits it once, and nothing else; the run after that, nothing."""
    inbox = SyntheticInbox.generate(seed=30, conversations=6, messages=4)
    emulator = make_emulator(inbox)
    first = run_tap(emulator.config(page_size=4))
    newest = max(m.sent_at_ms for c in inbox.conversations.values() for m in c.messages)
    # The conversation with the oldest activity: the late message is its newest one.
    quiet = inbox.newest_first()[-1]
    halfway = (quiet.last_activity_ms + newest) // 2
    sent_at = newest - 3 * 60_000 if emulator.reads_conversations_one_by_one else halfway
    late = inbox.add_message(quiet.thread_id, sent_at_ms=sent_at)
    assert late is quiet.messages[-1]
    assert newest - late.sent_at_ms > (3 * 3600_000 if sent_at == halfway else 0)
    quiet_thread = quiet.thread_id

    second = run_tap(emulator.config(page_size=4), state=first.state)
    assert [r["message_id"] for r in second.of("messages")] == [emulator.message_id(late)]
    assert [r["thread_id"] for r in second.of("conversations")] == [quiet_thread]

    third = run_tap(emulator.config(page_size=4), state=second.state)
    assert third.records == {}


def test_a_late_message_in_a_conversation_the_last_run_read_in_its_lookback_is_found(
    make_emulator: Any,
) -> None:
    """A conversation inside the last run's lookback window (its activity kept in the
    state) gets a new message and, indexed late, one stamped 30 s before its previous
    activity: both are emitted. Before, the read of a conversation in the window started
    at its previous activity, past the late one; a conversation outside the window was
    read from the bookmark minus `lookback_minutes`, and found it."""
    inbox = SyntheticInbox.generate(seed=5, conversations=6, messages=3, spacing_ms=60_000)
    emulator = make_emulator(inbox)
    if not emulator.reads_conversations_one_by_one:
        pytest.skip("lists messages: what is new is what the source reveals, not a time")
    config = emulator.config(lookback_minutes=10)
    first = run_tap(config)
    newest, second = sorted(inbox.conversations.values(), key=lambda c: -c.last_activity_ms)[:2]
    assert newest.last_activity_ms - second.last_activity_ms < 10 * 60_000  # in the window
    (partition,) = first.state["bookmarks"]["conversations"]["partitions"]
    assert emulator.conversation_id(second.thread_id) in partition["lookback_window"]
    late = inbox.add_message(second.thread_id, sent_at_ms=second.last_activity_ms - 30_000)
    new = inbox.add_message(second.thread_id)

    emitted = {r["message_id"] for r in run_tap(config, state=first.state).of("messages")}
    assert {emulator.message_id(late), emulator.message_id(new)} <= emitted


def test_a_conversation_longer_than_several_pages(make_emulator: Any) -> None:
    inbox = SyntheticInbox.generate(
        seed=23, conversations=3, messages=lambda i: 23 if i == 1 else 2
    )
    emulator = make_emulator(inbox)
    output = run_tap(emulator.config(page_size=5))
    long_thread = list(inbox.conversations)[1]
    emitted = [r for r in output.of("messages") if r["thread_id"] == long_thread]
    assert len(emitted) == len({r["message_id"] for r in emitted}) == 23
    if emulator.reads_conversations_one_by_one:
        assert emulator.threads_read()[long_thread] == 5  # 23 messages in pages of 5


def test_an_empty_inbox(make_emulator: Any) -> None:
    emulator = make_emulator(SyntheticInbox.generate(seed=24, conversations=0))
    if emulator.empty_inbox_is_an_error:
        # An archive with no message is far likelier the wrong file than a member who
        # never wrote one: one line naming the setting, not a quiet exit 0.
        with pytest.raises(ProviderError, match="`export_path`"):
            run_tap(emulator.config())
        return
    output = run_tap(emulator.config())
    assert output.records == {}
    if emulator.reads_conversations_one_by_one:
        assert emulator.count(emulator.inbox_route) == 1
        assert emulator.count(emulator.messages_route) == 0


def test_a_conversation_with_no_messages(make_emulator: Any) -> None:
    inbox = SyntheticInbox.generate(seed=25, conversations=3, messages=lambda i: 0 if i == 1 else 3)
    emulator = make_emulator(inbox)
    output = run_tap(emulator.config())
    empty_thread = list(inbox.conversations)[1]
    assert len(output.of("messages")) == 6
    assert all(r["thread_id"] != empty_thread for r in output.of("messages"))
    # Where the provider lists it, it is emitted (and read once), with its activity time,
    # or none where the provider gives none.
    for record in output.of("conversations"):
        if record["thread_id"] == empty_thread:
            conversation = inbox.conversations[empty_thread]
            expected = emulator.sent_at(conversation.last_activity_ms)
            assert record["last_activity_at"] == (
                expected if emulator.dates_empty_conversations else None
            )


TEXTS = [
    "Grüße aus Köln — ça va? 你好，世界",  # noqa: RUF001 - a real CJK comma
    "Emoji 👋🏽🚀 and a family 👨‍👩‍👧 in one line",
    "Line one\nLine two\r\n\tindented, then a blank line\n\nend",
    "Quotes \"double\" and 'single', a backslash \\ and a tab\t.",
    "x" * 1500 + "🙂" + "y" * 1499,  # 3,000 characters
]


def test_text_survives_intact(make_emulator: Any) -> None:
    inbox = SyntheticInbox.generate(seed=26, conversations=2, messages=1)
    thread_id = next(iter(inbox.conversations))
    added = [inbox.add_message(thread_id, text=text) for text in TEXTS]
    emulator = make_emulator(inbox)
    output = run_tap(emulator.config(page_size=2))
    by_id = {r["message_id"]: r for r in output.of("messages")}
    for message in added:
        assert by_id[emulator.message_id(message)]["text"] == message.text
    assert len(TEXTS[-1]) == 3000


def test_group_chat_with_several_participants(make_emulator: Any) -> None:
    inbox = SyntheticInbox.generate(seed=27, conversations=1, messages=2)
    members = [
        Person(f"group-member-{i}", first, last, f"Role {i}")
        for i, (first, last) in enumerate([("Ana", "Lima"), ("Björn", "Ek"), ("Chen", "Wei")])
    ]
    group = inbox.add_conversation(members, type_="group")
    said = [inbox.add_message(group.thread_id, sender=member) for member in members]
    said.append(inbox.add_message(group.thread_id, sender=inbox.owner))
    emulator = make_emulator(inbox)
    output = run_tap(emulator.config())

    by_id = {r["message_id"]: r for r in output.of("messages")}
    for message in said:
        check_message(by_id[emulator.message_id(message)], message, emulator)
    (conversation,) = [r for r in output.of("conversations") if r["thread_id"] == group.thread_id]
    member_urls = {m.profile_url for m in members}
    listed = [p["profile_url"] for p in conversation["participants"]]
    assert listed, "a group chat lists at least one participant"
    assert all(url is None or url.rstrip("/") in member_urls for url in listed)


def test_a_wrong_credential_fails_with_one_line_naming_it(
    make_emulator: Any, tmp_path: Path
) -> None:
    emulator = make_emulator(SyntheticInbox.generate(seed=28, conversations=2, messages=2))
    config, setting = emulator.bad_credentials()
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    naming = [line for line in errors if f"`{setting}`" in line]
    assert len(naming) == 1, run.stderr
    assert emulator.provider in naming[0]
    assert "Traceback" not in run.stderr
    assert run.output.records == {}
    for key in ("api_key", "login_token"):
        if config.get(key):
            assert config[key] not in run.stderr + run.stdout


def test_every_provider_gives_the_same_records_for_the_same_inbox() -> None:
    """Whichever provider read it, a message is the same row (ids aside).

    The export's dates have whole seconds, so all are compared at that precision.
    """
    projections = {}
    for provider in PROVIDERS:
        inbox = SyntheticInbox.generate(seed=29, conversations=4, messages=3)
        emulator = serve(provider, inbox)
        try:
            output = run_tap(emulator.config())
        finally:
            emulator.stop()
        projections[provider] = (
            sorted((r["thread_id"], r["sent_at"][:19], r["text"]) for r in output.of("messages")),
            sorted(
                (r["thread_id"], r["last_activity_at"][:19]) for r in output.of("conversations")
            ),
        )
    reference = projections["linkup"]
    assert reference[0]
    for provider, projection in projections.items():
        assert projection == reference, provider


def account_entry(emulator: ProviderEmulator, account_id: str) -> dict[str, Any]:
    """The `accounts` entry that reads this emulator's inbox as `account_id` (for the
    providers that take one, the emulator serves that id)."""
    if hasattr(emulator, "account_id"):
        emulator.account_id = account_id
    config = emulator.config()
    settings = {
        key: config[key] for key in config if key not in ("provider", "backoff_base_seconds")
    }
    return {**settings, "account_id": account_id}


def account_messages(output: Any, account_id: str) -> set[str]:
    return {r["message_id"] for r in output.of("messages") if r["account_id"] == account_id}


def kept_positions(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each account's partition of each stream, as the run left it."""
    return {
        f"{stream}/{partition['context']['account_id']}": partition
        for stream, bookmark in state.get("bookmarks", {}).items()
        for partition in bookmark.get("partitions", [])
    }


@pytest.mark.parametrize("broken", [0, 1, 2], ids=["first", "middle", "last"])
def test_one_disconnected_account_of_three_stops_and_costs_the_others_nothing(
    provider: str, broken: int, tmp_path: Path
) -> None:
    """Three accounts, one of which the provider no longer serves (its own answer for a
    disconnected account, a revoked token, a missing file): the two others are read in
    full and keep their bookmarks, the run ends with exit 1 and one line naming the
    account and the setting to check, and a summary. Once the account is reconnected, the
    next run reads it in full and nothing again of the two others."""
    emulators = [
        serve(provider, SyntheticInbox.generate(seed=60 + i, conversations=3 + i, messages=3))
        for i in range(3)
    ]
    names = [f"acct-{i}" for i in range(3)]
    try:
        entries = [account_entry(e, name) for e, name in zip(emulators, names, strict=True)]
        config = {"provider": provider, "backoff_base_seconds": 0, "accounts": entries}
        setting = emulators[broken].disconnect()
        first = run_cli(tmp_path, config)
        emulators[broken].reconnect()
        for emulator in emulators:
            emulator.reset_counters()
        second = run_tap(config, state=first.output.state)
        healthy_reads = [
            emulator.count(emulator.messages_route)
            for i, emulator in enumerate(emulators)
            if i != broken and emulator.reads_conversations_one_by_one
        ]
    finally:
        for emulator in emulators:
            emulator.stop()

    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr
    lines = first.stderr.splitlines()
    (failed,) = [line for line in lines if f"Account {names[broken]} not read" in line]
    assert f"`{setting}`" in failed
    assert any(f"Account {names[broken]}: " in line and "failed" in line for line in lines)
    assert any("Run summary: 3 accounts, 2 read in full, 1 failed" in line for line in lines)
    for i, emulator in enumerate(emulators):
        emitted = account_messages(first.output, names[i])
        assert emitted == (set() if i == broken else set(expected_messages(emulator)))
    kept = kept_positions(first.output.state)
    assert "replication_key_value" not in kept.get(f"messages/{names[broken]}", {})
    assert "position" not in kept.get(f"conversations/{names[broken]}", {})

    # Reconnected: the broken account in full, nothing of the others (not even a read).
    for i, emulator in enumerate(emulators):
        emitted = account_messages(second, names[i])
        assert emitted == (set(expected_messages(emulator)) if i == broken else set())
    assert healthy_reads in ([], [0, 0])


def test_the_connection_test_reads_one_page_and_names_what_fails(
    make_emulator: Any, tmp_path: Path
) -> None:
    """`--test` (what `meltano config ... test` users reach for): exit 0 when the account
    answers, nothing emitted; one line naming the setting and exit 1 when it does not."""
    emulator = make_emulator(SyntheticInbox.generate(seed=31, conversations=3, messages=2))
    config = emulator.config()
    passed = run_cli(tmp_path, config, "--test")
    assert passed.returncode == 0, passed.stderr
    assert passed.output.records == {}
    assert "answers" in passed.stderr
    if emulator.reads_conversations_one_by_one:
        assert emulator.count(emulator.messages_route) == 0

    setting = emulator.disconnect()
    failed = run_cli(tmp_path, config, "--test")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    naming = [line for line in failed.stderr.splitlines() if f"`{setting}`" in line]
    assert len(naming) == 1, failed.stderr
    assert "does not answer" in naming[0]


@pytest.mark.parametrize(
    ("name", "mode"),
    [(name, mode) for name, mode in MODES if mode is not None],
)
def test_a_listing_is_made_the_way_its_case_says(
    name: str, mode: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The suite's two modes are what they say: the log names where the items were made."""
    set_fork_mode(monkeypatch, mode)
    caplog.set_level("INFO")
    emulator = serve(name, SyntheticInbox.generate(seed=31, conversations=3, messages=2))
    try:
        output = run_tap(emulator.config())
    finally:
        emulator.stop()
    assert len(output.of("messages")) == 6
    made = [r.getMessage() for r in caplog.records if ": made in " in r.getMessage()]
    assert made
    assert all(("made in a child process" in line) == (mode == "forked") for line in made)
