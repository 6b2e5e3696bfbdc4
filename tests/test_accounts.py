"""`accounts`: several LinkedIn accounts in one run, each its own partition and bookmark,
each failing alone (tests/test_contract.py has every provider's disconnected account)."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from tap_linkedin_messages.accounts import Accounts
from tap_linkedin_messages.ledger import CreditLedger
from tap_linkedin_messages.providers import LinkupProvider, ProviderError
from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.conftest import run_cli, run_tap
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator, error
from tests.emulators.server import Fault

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def two_accounts() -> tuple[LinkupEmulator, LinkupEmulator]:
    sales = LinkupEmulator(
        SyntheticInbox.generate(seed=81, conversations=4, messages=3),
        api_key="key-sales-81",
        account_id="acc_sales",
    ).start()
    hiring = LinkupEmulator(
        SyntheticInbox.generate(seed=82, conversations=5, messages=2),
        api_key="key-hiring-82",
        account_id="acc_hiring",
    ).start()
    return sales, hiring


def accounts_config(sales: LinkupEmulator, hiring: LinkupEmulator) -> dict:
    return {
        "provider": "linkup",
        "backoff_base_seconds": 0,
        "accounts": [
            {"account_id": "acc_sales", "api_key": sales.api_key, "api_url": sales.url},
            {"account_id": "acc_hiring", "api_key": hiring.api_key, "api_url": hiring.url},
        ],
    }


def bookmarks(state: dict, stream: str) -> dict[str, str]:
    return {
        p["context"]["account_id"]: p["replication_key_value"]
        for p in state["bookmarks"][stream]["partitions"]
    }


def test_each_account_is_read_with_its_own_credentials_and_keeps_its_own_bookmark() -> None:
    sales, hiring = two_accounts()
    try:
        config = accounts_config(sales, hiring)
        first = run_tap(config)
        by_account: dict[str, int] = {}
        for record in first.of("messages"):
            by_account[record["account_id"]] = by_account.get(record["account_id"], 0) + 1
        assert by_account == {"acc_sales": 12, "acc_hiring": 10}
        assert set(bookmarks(first.state, "messages")) == {"acc_sales", "acc_hiring"}
        assert set(bookmarks(first.state, "conversations")) == {"acc_sales", "acc_hiring"}

        thread_id = next(iter(hiring.inbox.conversations))
        added = hiring.inbox.add_message(thread_id)
        sales.reset_counters()
        hiring.reset_counters()
        second = run_tap(config, state=first.state)
    finally:
        sales.stop()
        hiring.stop()

    assert [r["message_id"] for r in second.of("messages")] == [hiring.inbox.message_urn(added)]
    assert second.of("messages")[0]["account_id"] == "acc_hiring"
    assert sales.routes() == {"list_inbox": 1}  # nothing changed there: one page, stop
    marks = bookmarks(second.state, "messages")
    assert marks["acc_sales"] == bookmarks(first.state, "messages")["acc_sales"]
    assert marks["acc_hiring"] > bookmarks(first.state, "messages")["acc_hiring"]


def test_a_conversation_two_accounts_share_is_emitted_for_each() -> None:
    """Reading several categories, a conversation found again is read once: once per
    account (two members of one team share a thread, under the same id where the
    provider's id does not name the member), not once per run."""
    sales, hiring = (
        LinkupEmulator(
            SyntheticInbox.generate(seed=83, conversations=3, messages=2),
            api_key=f"key-{name}-83",
            account_id=f"acc_{name}",
        ).start()
        for name in ("sales", "hiring")
    )
    try:
        config = {**accounts_config(sales, hiring), "inbox_categories": ["INBOX", "UNREAD"]}
        output = run_tap(config)
    finally:
        sales.stop()
        hiring.stop()
    assert sales.inbox.conversation_urn(next(iter(sales.inbox.conversations))) in {
        hiring.inbox.conversation_urn(t) for t in hiring.inbox.conversations
    }
    for account_id in ("acc_sales", "acc_hiring"):
        conversations = [r for r in output.of("conversations") if r["account_id"] == account_id]
        messages = [r for r in output.of("messages") if r["account_id"] == account_id]
        assert (len(conversations), len(messages)) == (3, 6), account_id


def test_an_entry_takes_the_taps_settings_it_does_not_set_not_their_defaults() -> None:
    """The SDK writes a setting's default into each `accounts` entry that leaves it out;
    merged over the tap's config, `country: US` was read as FR and `exclude_folders: []`
    as SPAM left out, for every account."""
    config = {
        "provider": "linkup_v1",
        "api_key": "sk-shared-key",
        "country": "US",
        "exclude_folders": [],
        "accounts": [
            {"account_id": "acc_1", "login_token": "token-1"},
            {"account_id": "acc_2", "login_token": "token-2", "country": "DE"},
        ],
    }
    tap = TapLinkedInMessages(config=config)
    accounts = tap.streams["conversations"].accounts  # type: ignore[attr-defined]
    assert accounts.source("acc_1").config["country"] == "US"
    assert accounts.source("acc_1").config["exclude_folders"] == []
    assert accounts.source("acc_2").config["country"] == "DE"


def test_a_missing_credential_in_one_account_names_it(tmp_path: Path) -> None:
    sales, hiring = two_accounts()
    try:
        config = accounts_config(sales, hiring)
        del config["accounts"][1]["api_key"]
        run = run_cli(tmp_path, config)
    finally:
        sales.stop()
        hiring.stop()
    assert run.returncode == 1
    assert any("api_key" in line and "acc_hiring" in line for line in run.stderr.splitlines())


@pytest.fixture
def three_accounts() -> Iterator[list[LinkupEmulator]]:
    """Three LinkupAPI accounts, each its own key and inbox."""
    emulators = [
        LinkupEmulator(
            SyntheticInbox.generate(seed=90 + i, conversations=4, messages=3),
            api_key=f"key-{i}-90",
            account_id=f"acc_{i}",
        ).start()
        for i in range(3)
    ]
    yield emulators
    for emulator in emulators:
        emulator.stop()


def config_of(emulators: list[LinkupEmulator], **settings: Any) -> dict[str, Any]:
    entries = [
        {"account_id": e.account_id, "api_key": e.api_key, "api_url": e.url} for e in emulators
    ]
    return {"provider": "linkup", "backoff_base_seconds": 0, "accounts": entries, **settings}


def partitions(state: dict[str, Any], stream: str) -> dict[str, dict[str, Any]]:
    return {p["context"]["account_id"]: p for p in state["bookmarks"][stream]["partitions"]}


def test_an_account_removed_from_linkupapi_is_named_and_the_others_read(
    three_accounts: list[LinkupEmulator], tmp_path: Path
) -> None:
    """The issue's case: the first account answers 404 INVALID_ACCOUNT
    (https://docs.linkupapi.com/api-reference/v2/error-codes); the run went no further."""
    first = three_accounts[0]
    first.disconnected_kind = "no_account"
    first.disconnect()
    run = run_cli(tmp_path, config_of(three_accounts))
    assert run.returncode == 1
    (line,) = [line for line in run.stderr.splitlines() if "Account acc_0 not read" in line]
    assert "INVALID_ACCOUNT" in line
    assert "`account_id`" in line
    by_account = {r["account_id"] for r in run.output.of("messages")}
    assert by_account == {"acc_1", "acc_2"}
    assert len(run.output.of("messages")) == 24
    # The verdict comes after the state: the healthy accounts' bookmarks are out.
    assert set(partitions(run.output.state, "messages")) >= {"acc_1", "acc_2"}
    assert run.stdout.splitlines()[-1].startswith('{"type":"STATE"')
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert "1 of 3 accounts could not be read (acc_0)" in errors[-1]


@pytest.mark.parametrize("workers", [1, 3])
def test_an_account_that_fails_half_way_keeps_its_last_bookmarks(
    three_accounts: list[LinkupEmulator], workers: int
) -> None:
    """An account deactivated while its conversations are read (the second conversation
    read answers ACCOUNT_INACTIVE): what it emitted stays emitted, its bookmarks stay
    where the last run left them (the SDK would promote the progress markers past the
    conversations not read), and the accounts after it are read and move on."""
    config = config_of(three_accounts, max_concurrent_requests=workers)
    before = run_tap(config)
    added = {
        e.account_id: [e.inbox.add_message(thread) for thread in list(e.inbox.conversations)[:3]]
        for e in three_accounts
    }
    middle = three_accounts[1]
    inactive = error(403, "ACCOUNT_INACTIVE", "Account is inactive", "get_conversation")
    middle.inject(Fault(route="get_conversation", reply=inactive, after=1))

    failed = run_tap(config, state=before.state, fails=True)
    assert "1 of 3 accounts could not be read (acc_1)" in str(failed.error)
    kept, previous = partitions(failed.state, "messages"), partitions(before.state, "messages")
    assert kept["acc_1"] == previous["acc_1"]
    conversations = partitions(failed.state, "conversations")
    assert conversations["acc_1"] == partitions(before.state, "conversations")["acc_1"]
    for account in ("acc_0", "acc_2"):
        assert kept[account]["replication_key_value"] > previous[account]["replication_key_value"]
    if workers == 1:  # with more, which conversation's request fails second varies
        assert any(r["account_id"] == "acc_1" for r in failed.of("messages"))

    after = run_tap(config, state=failed.state)
    new = {e.account_id: {e.message_id(m) for m in added[e.account_id]} for e in three_accounts}
    emitted = {r["message_id"] for r in after.of("messages")}
    assert new["acc_1"] <= emitted
    assert not emitted & (new["acc_0"] | new["acc_2"])


@pytest.mark.parametrize("cause", ["shared key refused", "budget spent"])
def test_an_error_every_account_would_meet_stops_the_run_at_once(
    three_accounts: list[LinkupEmulator], tmp_path: Path, cause: str
) -> None:
    """The tap's own `api_key` refused, or `max_credits` spent: no setting of one account
    causes it, so the run stops there instead of failing account after account."""
    config = config_of(three_accounts)
    if cause == "shared key refused":
        for entry in config["accounts"]:
            del entry["api_key"]
        config["api_key"] = "key-shared-wrong"
        setting = "api_key"
    else:
        config["max_credits"] = 2
        setting = "max_credits"
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    naming = [line for line in run.stderr.splitlines() if f"`{setting}`" in line]
    assert len(naming) == 1, run.stderr
    assert "| ERROR" in naming[0]
    assert "not read" not in run.stderr
    assert "Run summary" not in run.stderr
    assert three_accounts[1].count() == three_accounts[2].count() == 0


def test_the_summary_lists_only_the_failed_accounts_past_twenty(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = [f"acc_{i:03}" for i in range(25)]
    config = {"accounts": [{"account_id": i, "api_key": f"key-{i}"} for i in ids]}
    accounts = Accounts(LinkupProvider, config)
    ledger = CreditLedger("linkup", None)
    for number, account_id in enumerate(ids):
        ledger.charge("messages", account_id, credits=number % 3)
        for _ in range(number):
            ledger.emitted(account_id)
    removed = (
        "linkup: INVALID_ACCOUNT (HTTP 404): Account not found - check the `account_id` setting"
    )
    accounts.fail("acc_007", ProviderError(removed))
    accounts.fail("acc_019", ProviderError(removed))
    logger = logging.getLogger("tap-linkedin-messages.summary-test")
    with caplog.at_level(logging.INFO):
        accounts.report(logger, ledger)
    lines = [r.getMessage() for r in caplog.records if r.name == logger.name]
    assert lines == [
        f"Account acc_007: 7 records, 1 credit, 1 request: failed - {removed}",
        f"Account acc_019: 19 records, 1 credit, 1 request: failed - {removed}",
        "Run summary: 25 accounts, 23 read in full, 2 failed; 300 records, 24 credits, 25 requests",
    ]
    points = [
        json.loads(r.getMessage().removeprefix("METRIC: "))
        for r in caplog.records
        if r.name == "singer_sdk.metrics"
    ]
    assert [p["tags"]["account_id"] for p in points] == ids
    by_account = {p["tags"]["account_id"]: p for p in points}
    assert by_account["acc_007"]["tags"]["status"] == "failed"
    assert by_account["acc_008"] == {
        "type": "counter",
        "metric": "account_read",
        "value": 8,
        "tags": {
            "provider": "linkup",
            "account_id": "acc_008",
            "status": "succeeded",
            "credits": 2,
            "requests": 1,
        },
    }


def test_the_connection_test_names_every_account_that_does_not_answer(
    three_accounts: list[LinkupEmulator], tmp_path: Path
) -> None:
    """`--test` asks each account for one page, emits nothing, and names each failing
    account with the setting to check (one its key, one removed from LinkupAPI)."""
    config = config_of(three_accounts)
    config["accounts"][0]["api_key"] = "key-0-wrong"
    three_accounts[2].disconnect()
    run = run_cli(tmp_path, config, "--test")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.output.records == {}
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 3, run.stderr
    assert "Account acc_0 does not answer" in errors[0]
    assert "`api_key`" in errors[0]
    assert "Account acc_2 does not answer" in errors[1]
    assert "ACCOUNT_INACTIVE" in errors[1]
    assert "2 of 3 accounts do not answer (acc_0, acc_2)" in errors[2]
    assert "Account acc_1 answers" in run.stderr
    assert [e.count() for e in three_accounts] == [1, 1, 1]

    three_accounts[2].reconnect()
    config["accounts"][0]["api_key"] = three_accounts[0].api_key
    passed = run_cli(tmp_path, config, "--test")
    assert passed.returncode == 0, passed.stderr
    assert passed.output.records == {}
