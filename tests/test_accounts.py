"""`accounts`: several LinkedIn accounts in one run, each its own partition and bookmark."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.conftest import run_cli, run_tap
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator

if TYPE_CHECKING:
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
