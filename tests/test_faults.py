"""Fault injection against every provider's emulator: retry what is transient, stop loudly
on what is not, skip a conversation that vanished, and never lose or duplicate a message.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tap_linkedin_messages.providers import PROVIDERS as ADAPTERS
from tap_linkedin_messages.providers import ConversationApi
from tests.conftest import run_cli
from tests.emulators import EMULATORS, emulator_class
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator, error
from tests.emulators.server import Fault, ProviderEmulator, Reply

if TYPE_CHECKING:
    from pathlib import Path


# Every API provider: the conversation-listing ones and LinkedIn's portability API.
API_PROVIDERS = [*sorted(EMULATORS), "linkedin_dma"]


def pages(emulator: ProviderEmulator) -> str:
    """The route most of a run's requests take: a conversation's messages, or (for an API
    that lists messages) the message listing itself."""
    if emulator.reads_conversations_one_by_one:
        return emulator.messages_route
    return emulator.inbox_route


@pytest.fixture(params=API_PROVIDERS)
def emulator(request: pytest.FixtureRequest) -> Iterator[ProviderEmulator]:
    inbox = SyntheticInbox.generate(seed=41, conversations=6, messages=5)
    server = emulator_class(str(request.param))(inbox).start()
    yield server
    server.stop()


def all_message_ids(emulator: ProviderEmulator) -> list[str]:
    return sorted(
        emulator.message_id(m) for c in emulator.inbox.conversations.values() for m in c.messages
    )


def completes_with_everything(emulator: ProviderEmulator, tmp_path: Path, **config: Any) -> str:
    """Run the CLI; it must exit 0 having emitted every message exactly once."""
    run = run_cli(tmp_path, emulator.config(page_size=3, **config))
    assert run.returncode == 0, run.stderr
    assert sorted(r["message_id"] for r in run.output.of("messages")) == all_message_ids(emulator)
    return run.stderr


def retry_waits(stderr: str) -> list[float]:
    """The wait before each retry, as the tap logged it right before waiting."""
    return [
        float(wait) for wait in re.findall(r"Retrying \w+ request \d+ after ([0-9.]+)s", stderr)
    ]


def fails_with_one_line(emulator: ProviderEmulator, tmp_path: Path, *expected: str) -> str:
    run = run_cli(tmp_path, emulator.config(page_size=3))
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = [
        line
        for line in run.stderr.splitlines()
        if "| ERROR" in line and all(text in line for text in expected)
    ]
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_429_without_retry_after_is_retried(emulator: ProviderEmulator, tmp_path: Path) -> None:
    emulator.inject(
        Fault(route=emulator.inbox_route, reply=emulator.error_reply("rate_limited")),
        Fault(route=pages(emulator), reply=emulator.error_reply("rate_limited")),
    )
    stderr = completes_with_everything(emulator, tmp_path, backoff_base_seconds=0)
    assert stderr.count("Retrying") == 2
    # No Retry-After: the backoff base (0 here) is the wait.
    assert retry_waits(stderr) == [0.0, 0.0]


def test_429_with_retry_after_waits_as_asked(emulator: ProviderEmulator, tmp_path: Path) -> None:
    # https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
    emulator.inject(
        Fault(
            route=pages(emulator),
            reply=emulator.error_reply("rate_limited", retry_after="1"),
        )
    )
    stderr = completes_with_everything(emulator, tmp_path, backoff_base_seconds=0)
    # The header, not the backoff base (0), set the wait: 1 s plus up to a quarter of jitter.
    (wait,) = retry_waits(stderr)
    assert 1.0 <= wait <= 1.25
    (line,) = [line for line in stderr.splitlines() if "Retrying" in line]
    assert "429" in line


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_burst_of_server_errors_is_retried(
    emulator: ProviderEmulator, tmp_path: Path, status: int
) -> None:
    burst = emulator.error_reply("server_error")
    burst.status = status
    emulator.inject(*[Fault(route=pages(emulator), reply=burst) for _ in range(3)])
    completes_with_everything(emulator, tmp_path)
    assert sum(1 for call in emulator.calls if call.status == status) == 3


def test_a_hanging_response_times_out_and_is_retried(
    emulator: ProviderEmulator, tmp_path: Path
) -> None:
    # The answer would come after 3 s: the tap gives up on it at its 1 s request_timeout
    # and asks again, rather than waiting it out.
    emulator.inject(Fault(route=emulator.inbox_route, delay=3.0))
    stderr = completes_with_everything(
        emulator, tmp_path, request_timeout=1, backoff_base_seconds=0
    )
    (line,) = [line for line in stderr.splitlines() if "Retrying" in line]
    assert "Read timed out. (read timeout=1)" in line
    assert retry_waits(stderr) == [0.0]


def test_a_response_that_hangs_past_every_retry_is_one_line_naming_request_timeout(
    tmp_path: Path,
) -> None:
    # A request with no answer is decided by the error table's NO_ANSWER rows: a timeout
    # names `request_timeout` beside `api_url`, with the timeout and the retries spent.
    inbox = SyntheticInbox.generate(seed=41, conversations=2, messages=2)
    server = LinkupEmulator(inbox).start()
    try:
        server.inject(*[Fault(route=server.inbox_route, delay=2.0) for _ in range(2)])
        run = run_cli(
            tmp_path,
            server.config(request_timeout=1, max_retries=1, backoff_base_seconds=0),
        )
    finally:
        server.stop()
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (line,) = [line for line in run.stderr.splitlines() if "could not reach" in line]
    assert line.endswith(
        f"linkup: could not reach {server.url} (no answer within 1s after 1 retry) "
        "- check the `api_url` and `request_timeout` settings"
    )


def test_a_cut_off_body_is_retried(emulator: ProviderEmulator, tmp_path: Path) -> None:
    emulator.inject(
        Fault(route=pages(emulator), truncate=True),
        Fault(
            route=emulator.inbox_route, reply=Reply(200, raw=b'{"success": true, "data": {"conv')
        ),
    )
    completes_with_everything(emulator, tmp_path)


def test_a_provider_stuck_on_one_page_stops_the_run(
    emulator: ProviderEmulator, tmp_path: Path
) -> None:
    # The second inbox request gets the first page again.
    emulator.inject(
        Fault(route=emulator.inbox_route), Fault(route=emulator.inbox_route, replay=True)
    )
    line = fails_with_one_line(emulator, tmp_path, emulator.provider)
    assert "repeats" in line or "same cursor" in line


def test_a_rejected_credential_stops_the_run(emulator: ProviderEmulator, tmp_path: Path) -> None:
    emulator.inject(Fault(reply=emulator.error_reply("unauthorized")))
    fails_with_one_line(emulator, tmp_path, emulator.provider, "check")
    assert emulator.count() == 1  # not retried


def test_a_non_transient_provider_error_stops_the_run(
    emulator: ProviderEmulator, tmp_path: Path
) -> None:
    emulator.inject(Fault(route=pages(emulator), reply=emulator.error_reply("fatal")))
    fails_with_one_line(emulator, tmp_path, emulator.provider)
    assert emulator.count(pages(emulator)) == 1


@pytest.mark.parametrize("code", ["the provider's own", "any other"])
def test_a_conversation_deleted_after_listing_is_skipped(
    emulator: ProviderEmulator, tmp_path: Path, code: str
) -> None:
    """No provider documents how a conversation deleted since it was listed answers: a
    404 for it is "gone" once the account answers again, with the code the emulator
    gives a missing conversation or with any other (here each provider's own
    non-retryable error, which its table otherwise reads as an account or settings
    problem)."""
    if not emulator.reads_conversations_one_by_one:
        pytest.skip("lists messages: no conversation is read on its own, so none can vanish")
    first_read = emulator.inbox.newest_first()[0]
    gone_reply = emulator.error_reply("conversation_gone")
    if code == "any other":
        gone_reply = Reply(404, emulator.error_reply("fatal").body)
    emulator.inject(Fault(route=pages(emulator), reply=gone_reply))
    run = run_cli(tmp_path, emulator.config(page_size=3))
    assert run.returncode == 0, run.stderr
    emitted = sorted(r["message_id"] for r in run.output.of("messages"))
    gone = {emulator.message_id(m) for m in first_read.messages}
    assert emitted == sorted(set(all_message_ids(emulator)) - gone)
    assert "no longer exists" in run.stderr
    assert "check the" not in run.stderr


def test_a_conversations_404_stops_the_run_where_the_account_does_not_answer(
    tmp_path: Path,
) -> None:
    """A 404 that is really the account's (LinkupAPI's INVALID_ACCOUNT): the account's
    own answer, asked again before the conversation is skipped, stops the run naming the
    setting, with the bookmarks where they were."""
    inbox = SyntheticInbox.generate(seed=42, conversations=4, messages=3)
    with LinkupEmulator(inbox) as emulator:
        invalid = error(404, "INVALID_ACCOUNT", "Account not found", "get_conversation")
        emulator.inject(
            Fault(route=emulator.messages_route, reply=invalid),
            Fault(route=emulator.inbox_route, reply=invalid, after=1),
        )
        line = fails_with_one_line(emulator, tmp_path, "linkup", "`account_id`")
    assert "INVALID_ACCOUNT" in line


def test_secrets_never_reach_the_output_of_a_failing_run(
    emulator: ProviderEmulator, tmp_path: Path
) -> None:
    config = emulator.config(page_size=3)
    secrets = [str(config[key]) for key in ("api_key", "login_token") if config.get(key)]
    # A provider that echoes the credentials back in its error text.
    echo = emulator.error_reply("fatal", message="rejected: " + " and ".join(secrets))
    assert all(secret.encode() in echo.encoded() for secret in secrets)
    emulator.inject(Fault(route=emulator.inbox_route, reply=emulator.error_reply("server_error")))
    emulator.inject(Fault(route=pages(emulator), reply=echo))
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    for secret in secrets:
        assert secret not in run.stderr
        assert secret not in run.stdout


def listing_of(emulator: ProviderEmulator) -> str:
    """Where a page of `pages(emulator)` keeps its items (a JSONPath to a list)."""
    adapter = ADAPTERS[emulator.provider]
    if issubclass(adapter, ConversationApi):
        return str(adapter.conversation_shape.items).removesuffix("[*]")
    return "$.elements"  # LinkedIn's Rest.li collections


def without(container: str) -> Any:
    """A rewrite that drops the list at `container` from a reply, and its credits."""

    def rewrite(reply: Reply) -> Reply:
        body = copy.deepcopy(reply.body)
        *parents, key = container.removeprefix("$.").split(".")
        holder = body
        for parent in parents:
            holder = holder[parent]
        del holder[key]
        return Reply(reply.status, body, dict(reply.headers))

    return rewrite


def test_an_answer_without_its_list_stops_the_run_and_loses_nothing(
    emulator: ProviderEmulator, tmp_path: Path
) -> None:
    """A page read as empty would end its listing early, and the bookmark would pass
    what it held: an answer without the list its documentation names stops the run with
    one line (`tests/test_pages.py`: which list), and the next run, from the state this
    one left, emits all of it."""
    container = listing_of(emulator)
    emulator.inject(Fault(route=pages(emulator), rewrite=without(container), after=1))
    stopped = run_cli(tmp_path, emulator.config(page_size=3))
    assert stopped.returncode == 1, stopped.stderr
    said = f"{emulator.provider}: "
    errors = [line for line in stopped.stderr.splitlines() if "| ERROR" in line and said in line]
    assert len(errors) == 1, stopped.stderr
    assert "Traceback" not in stopped.stderr

    state = tmp_path / "state.json"
    state.write_text(json.dumps(stopped.output.state))
    resumed = run_cli(tmp_path, emulator.config(page_size=3), "--state", str(state))
    assert resumed.returncode == 0, resumed.stderr
    emitted = stopped.output.of("messages") + resumed.output.of("messages")
    assert sorted({r["message_id"] for r in emitted}) == all_message_ids(emulator)
