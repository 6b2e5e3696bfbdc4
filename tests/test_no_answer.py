"""A request that got no answer is decided by rows of the error table (`NO_ANSWER_RULES`
in providers/error_rules.py), from the exception requests raised: these are real
exceptions, raised by requests against 127.0.0.1, except a name that does not resolve
(that would ask a DNS server), whose text is requests' own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tap_linkedin_messages.providers import PROVIDERS
from tap_linkedin_messages.providers.error_rules import (
    LAST_RULES,
    NO_ANSWER,
    ErrorRule,
    Outcome,
    rule,
)
from tap_linkedin_messages.providers.pages import Route
from tests.conftest import run_cli
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator
from tests.emulators.server import Fault, Reply
from tests.test_config import a_port_nobody_listens_on

SECRET = "sk-no-answer-secret"


@pytest.fixture(scope="module")
def emulator() -> Iterator[LinkupEmulator]:
    server = LinkupEmulator(SyntheticInbox.generate(seed=3, conversations=1, messages=1)).start()
    yield server
    server.stop()


def decided(error: requests.exceptions.RequestException) -> tuple[ErrorRule, str]:
    """The row that decides `error` for the linkup adapter, and the failure's text."""
    adapter = PROVIDERS["linkup"]({"api_key": SECRET, "account_id": "acc_1"})
    failure = adapter.no_answer(error, route=Route.INBOX, first_page=True)  # type: ignore[attr-defined]
    assert failure.status == NO_ANSWER
    return adapter.rule_for(failure), failure.text  # type: ignore[attr-defined]


def raised(url: str, **kwargs: float) -> requests.exceptions.RequestException:
    try:
        requests.get(url, timeout=kwargs.get("timeout", 2.0))
    except requests.exceptions.RequestException as error:
        return error
    msg = f"{url} answered"
    raise AssertionError(msg)


def test_a_refused_connection_names_api_url() -> None:
    row, _ = decided(raised(f"http://127.0.0.1:{a_port_nobody_listens_on()}/"))
    assert (row.outcome, row.reason) == (Outcome.FAIL, "connection refused")
    assert row.hint == "check the `api_url` setting"


def test_a_timeout_names_request_timeout() -> None:
    # A server that takes the connection (the kernel's backlog) and never answers.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        error = raised(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.2)
    assert isinstance(error, requests.exceptions.ReadTimeout)
    row, _ = decided(error)
    assert row.reason == "no answer within {timeout}s"
    assert "`request_timeout`" in row.hint


def test_https_to_a_plain_http_server_is_a_tls_failure(emulator: LinkupEmulator) -> None:
    row, _ = decided(raised(emulator.url.replace("http://", "https://")))
    assert row.reason == "a TLS failure"


def test_a_host_name_that_does_not_resolve_says_so() -> None:
    # requests' text for it (urllib3 2's NameResolutionError), as it wraps it.
    error = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.example.invalid', port=443): Max retries exceeded "
        'with url: /v2/messages (Caused by NameResolutionError("<urllib3.connection.'
        "HTTPSConnection object at 0x7f>: Failed to resolve 'api.example.invalid' "
        '([Errno -2] Name or service not known)"))'
    )
    row, _ = decided(error)
    assert row.reason == "the host name does not resolve"


def test_anything_else_is_named_by_its_exception_and_keeps_no_secret() -> None:
    error = requests.exceptions.ChunkedEncodingError(f"broken at key={SECRET}")
    row, text = decided(error)
    assert row.reason == "{code}"
    assert text.startswith("ChunkedEncodingError ")
    assert SECRET not in text


def test_no_answer_is_not_decided_by_a_row_meant_for_answers() -> None:
    """A row without a status (an adapter's, or the last catch-all) never takes a request
    that got no answer: it would say nothing of why."""
    adapter = PROVIDERS["linkup"]({"api_key": SECRET, "account_id": "acc_1"})
    failure = adapter.no_answer(  # type: ignore[attr-defined]
        requests.exceptions.ConnectionError("Connection refused"),
        route=Route.INBOX,
        first_page=True,
    )
    assert not rule(Outcome.FAIL, "any answer at all").matches(failure)
    assert not rule(Outcome.FAIL, "its text", text="refused").matches(failure)
    assert not any(row.matches(failure) for row in LAST_RULES)
    assert rule(Outcome.FAIL, "no answer", status={NO_ANSWER}).matches(failure)


def test_a_redirect_to_another_host_is_not_followed_and_the_key_stays_home(
    tmp_path: Path,
) -> None:
    """requests drops only `Authorization` when a redirect changes host: LinkupAPI's
    `x-api-key` would have reached the other host."""
    keys_seen: list[str | None] = []

    class OtherHost(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            keys_seen.append(self.headers.get("x-api-key"))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    other = ThreadingHTTPServer(("127.0.0.2", 0), OtherHost)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    inbox = SyntheticInbox.generate(seed=3, conversations=2, messages=2)
    try:
        with LinkupEmulator(inbox) as emulator:
            emulator.api_key = SECRET
            location = f"http://127.0.0.2:{other.server_port}/v2/messages"
            emulator.inject(Fault(reply=Reply(307, headers={"Location": location})))
            run = run_cli(tmp_path, emulator.config())
    finally:
        other.shutdown()
        other.server_close()
    assert keys_seen == []
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line and "linkup:" in line]
    assert len(errors) == 1, run.stderr
    assert "a redirect to another host, not followed" in errors[0]
    assert "`api_url`" in errors[0]
    assert SECRET not in run.stderr + run.stdout
