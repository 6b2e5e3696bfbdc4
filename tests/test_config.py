"""Bad settings and rejected credentials: one clear line naming the setting, exit code 1."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tap_linkedin_messages.redaction import MASK, redact
from tests.conftest import run_cli
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line]


@pytest.mark.parametrize("missing", ["api_key", "account_id"])
def test_a_missing_credential_fails_at_start_naming_it(
    linkup: LinkupEmulator, tmp_path: Path, missing: str
) -> None:
    config = linkup.config()
    del config[missing]
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    assert any(f"'{missing}' is a required property" in line for line in error_lines(run.stderr))
    assert run.stdout == ""
    assert linkup.count() == 0  # before any request


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("provider", "linkedn"),
        ("api_url", "ftp://example.invalid"),
        ("start_date", "last tuesday"),
        ("inbox_categories", ["ARCHIVE"]),
        ("page_size", 0),
        # Of the right shape, but no date, no port, no object: each was a traceback.
        ("start_date", "2024-13-45"),
        ("api_url", "http://127.0.0.1:99999"),
        ("accounts", ["acc_test123"]),
        # A setting an entry cannot take was ignored: the run read with the tap's provider.
        ("accounts", [{"account_id": "acc_test123", "provider": "unipile"}]),
        # Were taken: nothing read and exit 0; the later entry winning; a version no
        # LinkedIn API has.
        ("inbox_categories", []),
        ("accounts", [{"account_id": "acc_test123"}, {"account_id": "acc_test123"}]),
        ("linkedin_version", "abc"),
    ],
)
def test_a_malformed_setting_fails_at_start_naming_it(
    linkup: LinkupEmulator, tmp_path: Path, setting: str, value: object
) -> None:
    run = run_cli(tmp_path, linkup.config(**{setting: value}))
    assert run.returncode == 1
    naming = [f"config['{setting}']", f"`{setting}`"]
    assert any(any(name in line for name in naming) for line in error_lines(run.stderr)), run.stderr
    assert "Traceback" not in run.stderr
    assert linkup.count() == 0


def test_a_rejected_api_key_stops_with_one_line_and_never_prints_the_key(
    linkup: LinkupEmulator, tmp_path: Path
) -> None:
    wrong_key = "sk-wrong-8f3e0c1d2b"
    run = run_cli(tmp_path, linkup.config(api_key=wrong_key))
    assert run.returncode == 1
    assert "linkup: INVALID_API_KEY (HTTP 403)" in run.stderr
    explained = [line for line in error_lines(run.stderr) if "INVALID_API_KEY" in line]
    assert len(explained) == 1
    assert "check the `api_key` setting" in explained[0]
    assert "Traceback" not in run.stderr
    assert wrong_key not in run.stderr + run.stdout


@pytest.mark.parametrize(
    ("code", "status", "setting"),
    [
        ("INVALID_ACCOUNT", 404, "`account_id`"),
        ("ACCOUNT_INACTIVE", 403, "`account_id`"),
        ("INSUFFICIENT_CREDITS", 402, "credits"),
    ],
)
def test_fatal_provider_codes_name_what_to_check(
    linkup: LinkupEmulator, tmp_path: Path, code: str, status: int, setting: str
) -> None:
    from tests.emulators.linkup import error
    from tests.emulators.server import Fault

    linkup.inject(Fault(reply=error(status, code, "no")))
    run = run_cli(tmp_path, linkup.config())
    assert run.returncode == 1
    (line,) = [line for line in error_lines(run.stderr) if code in line]
    assert f"linkup: {code} (HTTP {status})" in line
    assert setting in line
    assert linkup.count() == 1  # not retried


def test_the_tap_runs_as_a_plain_cli_pipeline(linkup: LinkupEmulator, tmp_path: Path) -> None:
    run = run_cli(tmp_path, linkup.config())
    assert run.returncode == 0, run.stderr
    assert len(run.output.of("messages")) == linkup.inbox.message_count()
    assert len(run.output.of("conversations")) == len(linkup.inbox.conversations)


# --- the errors a new user meets on day one ---------------------------------------------


def a_port_nobody_listens_on() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("provider", ["linkup", "connectsafely", "unipile", "linkedin_dma"])
def test_an_api_url_where_nothing_listens_is_one_line_naming_api_url(
    tmp_path: Path, provider: str
) -> None:
    config = {
        "provider": provider,
        "api_key": "sk-day-one-secret",
        "access_token": "dma-day-one-secret",
        "account_id": "acc_1",
        # A password in the URL is a secret too.
        "api_url": f"http://me:pw-day-one-secret@127.0.0.1:{a_port_nobody_listens_on()}",
        "max_retries": 1,
        "backoff_base_seconds": 0,
    }
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    naming = [line for line in error_lines(run.stderr) if "`api_url`" in line]
    assert len(naming) == 1, run.stderr
    assert "could not reach" in naming[0]
    assert "connection refused after 1 retry" in naming[0]
    assert "Traceback" not in run.stderr
    assert "day-one-secret" not in run.stderr + run.stdout


def test_a_conversation_gone_with_a_code_nobody_documented_is_skipped(
    linkup: LinkupEmulator, tmp_path: Path
) -> None:
    """A 404 for one conversation's messages, on an account the inbox listing just
    accepted, is that conversation gone, whatever code comes with it."""
    from tests.emulators.linkup import error
    from tests.emulators.server import Fault

    gone = linkup.inbox.newest_first()[0]
    linkup.inject(
        Fault(route="get_conversation", reply=error(404, "RESOURCE_MISSING", "No such thread"))
    )
    run = run_cli(tmp_path, linkup.config())
    assert run.returncode == 0, run.stderr
    expected = {
        linkup.inbox.message_urn(m)
        for c in linkup.inbox.conversations.values()
        if c is not gone
        for m in c.messages
    }
    assert {r["message_id"] for r in run.output.of("messages")} == expected
    assert "no longer exists" in run.stderr
    assert "RESOURCE_MISSING" in run.stderr


def test_a_linkup_v1_404_on_a_conversation_is_gone_whatever_its_text_names(
    inbox: SyntheticInbox, tmp_path: Path
) -> None:
    """v1 documents no error codes (https://docs.linkupapi.com/api-reference/linkup/Messages/conversation):
    a 404 on one conversation is that conversation gone, even when its text says
    "token", which elsewhere names the `login_token` setting."""
    from tests.emulators.linkup_v1 import LinkupV1Emulator, error
    from tests.emulators.server import Fault

    with LinkupV1Emulator(inbox) as emulator:
        emulator.inject(Fault(route="conversation", reply=error(404, "No thread for this token")))
        run = run_cli(tmp_path, emulator.config())
    assert run.returncode == 0, run.stderr
    assert "no longer exists" in run.stderr
    assert len(run.output.of("conversations")) == len(inbox.conversations)


def test_a_404_from_an_account_that_stopped_answering_stops_the_run_before_the_bookmark(
    linkup: LinkupEmulator, tmp_path: Path
) -> None:
    """The 404 is a conversation gone only while the account still answers: asked again
    and refused, the run stops naming the setting, and no bookmark passes the
    conversations it could not read."""
    from tests.emulators.linkup import error
    from tests.emulators.server import Fault

    linkup.inject(
        Fault(route="get_conversation", reply=error(404, "RESOURCE_MISSING", "No such thread")),
        Fault(route="list_inbox", reply=error(401, "UNAUTHORIZED", "Invalid API key"), after=1),
    )
    run = run_cli(tmp_path, linkup.config(page_size=100))
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].endswith("check the `api_key` setting")
    assert "no longer exists" not in run.stderr
    bookmarks = run.output.state.get("bookmarks", {})
    assert not any(
        partition.get("replication_key_value")
        for stream in bookmarks.values()
        for partition in stream.get("partitions", [])
    )
    assert [call.route for call in linkup.calls][-2:] == ["get_conversation", "list_inbox"]


def test_a_rejected_parameter_on_a_conversation_names_only_the_settings_that_shape_it(
    linkup: LinkupEmulator, tmp_path: Path
) -> None:
    from tests.emulators.linkup import error
    from tests.emulators.server import Fault

    linkup.inject(
        Fault(route="get_conversation", reply=error(400, "INVALID_PARAMS", "count too large"))
    )
    run = run_cli(tmp_path, linkup.config())
    assert run.returncode == 1
    (line,) = [line for line in error_lines(run.stderr) if "INVALID_PARAMS" in line]
    assert "`page_size`" in line
    assert "inbox_categories" not in line


def test_the_connection_test_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    """`--test` runs outside the SDK's error handling: a malformed setting, a missing
    `accounts` credential, an `export_path` that does not exist each end in one line."""
    cases: dict[str, dict[str, Any]] = {
        "config['page_size']": {"provider": "linkedin_export", "export_path": "/x", "page_size": 0},
        "has no `export_path`": {"provider": "linkedin_export", "accounts": [{"account_id": "a"}]},
        "check the `export_path` setting": {
            "provider": "linkedin_export",
            "export_path": str(tmp_path / "missing.zip"),
        },
    }
    for expected, config in cases.items():
        run = run_cli(tmp_path, config, "--test")
        assert run.returncode == 1, expected
        assert "Traceback" not in run.stderr
        assert any(expected in line for line in error_lines(run.stderr)), run.stderr


@pytest.mark.parametrize(
    ("secret", "echoed"),
    [
        ("sk_live/Abc+Def=Gh", "sk_live/Abc+Def=Gh"),  # as is
        ("sk_live/Abc+Def=Gh", "sk_live%2FAbc%2BDef%3DGh"),  # URL-encoded, in a link shown
        ("sk live/Abc", "sk+live%2FAbc"),  # form-encoded, in a query string
        ('sk"live\\Abc', 'sk\\"live\\\\Abc'),  # JSON-escaped, in a body quoted back
    ],
)
def test_a_secret_is_masked_in_the_forms_a_provider_may_echo_it_in(
    secret: str, echoed: str
) -> None:
    assert redact(f"key {echoed} rejected", [secret]) == f"key {MASK} rejected"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("api_key", ["sk-quoted-back-secret"]),
        ("accounts", {"account_id": "acc_2", "api_key": "sk-quoted-back-secret"}),
        (
            "accounts",
            [{"account_id": "acc_2", "api_key": 42, "login_token": "sk-quoted-back-secret"}],
        ),
    ],
)
@pytest.mark.parametrize("test_only", [False, True], ids=["run", "test"])
def test_a_setting_refused_for_its_shape_is_named_without_its_secret(
    linkup: LinkupEmulator, tmp_path: Path, setting: str, value: object, test_only: bool
) -> None:
    """The SDK's validation errors quote the value they reject (`['sk-…'] is not of type
    'string'`): the secrets in it are masked like every other line."""
    run = run_cli(tmp_path, linkup.config(**{setting: value}), *(["--test"] if test_only else []))
    assert run.returncode == 1
    assert any(f"config['{setting}']" in line for line in error_lines(run.stderr)), run.stderr
    assert "quoted-back-secret" not in run.stderr + run.stdout
