"""Shared fixtures: emulators on 127.0.0.1 and a way to run the tap and read its output."""

from __future__ import annotations

import contextlib
import copy
import gzip
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tap_linkedin_messages import child_process, records
from tap_linkedin_messages.providers import ProviderError
from tap_linkedin_messages.records import Record
from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator

if TYPE_CHECKING:
    from tap_linkedin_messages.providers.base import MessageListing, Position, Walk

REPO = Path(__file__).resolve().parent.parent
# The `meltano` fixture: Meltano and the plugins of meltano.yml, installed once a session.
pytest_plugins = ["tests.meltano_project"]
TAP_EXECUTABLE = Path(sys.executable).parent / "tap-linkedin-messages"
FIXTURES = REPO / "tests" / "fixtures"

#: What a provider's messages do not say: null, never guessed (an empty list only
#: where the provider says there are none).
UNSAID = {
    "attachments": None,
    "reactions": None,
    "is_edited": None,
    "edited_at": None,
    "is_deleted": None,
    "reply_to_message_id": None,
}


def load_fixture(name: str) -> Any:
    """A provider's documented example payload, from `tests/fixtures/` (see its README)."""
    return json.loads((FIXTURES / name).read_text())


def response(status: int, body: Any = None, *, raw: bytes | None = None) -> requests.Response:
    """An answer as `requests` hands it over: `body` as JSON (bytes: as they came), or `raw`."""
    if isinstance(body, bytes):
        raw = body
    answer = requests.Response()
    answer.status_code = status
    answer._content = raw if raw is not None else json.dumps(body).encode()
    answer.encoding = "utf-8"
    answer.url = "https://provider.example.invalid/"
    answer.request = requests.Request("GET", answer.url).prepare()
    return answer


@dataclass
class SyncOutput:
    """What one run of the tap wrote: records per stream, and its last STATE."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)
    #: The tap instance, for in-process runs (its streams share the credit ledger).
    tap: TapLinkedInMessages | None = None
    #: The one line a run that failed ended with (`run_tap(..., fails=True)`).
    error: str | None = None
    #: BATCH messages read (their records are in `records`, as if sent one by one).
    batches: int = 0
    #: Per stream, how many STATE messages came before its last BATCH message.
    states_before_batch: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, stdout: str) -> SyncOutput:
        output = cls()
        for line in stdout.splitlines():
            message = json.loads(line)
            if message["type"] == "RECORD":
                output.records.setdefault(message["stream"], []).append(message["record"])
            elif message["type"] == "STATE":
                output.states.append(message["value"])
                output.state = message["value"]
            elif message["type"] == "BATCH":
                # `batch_config` with gzipped JSONL files on a `file://` root.
                output.batches += 1
                output.states_before_batch[message["stream"]] = len(output.states)
                for url in message["manifest"]:
                    with gzip.open(url.removeprefix("file://"), "rt") as lines:
                        batch = [json.loads(line) for line in lines]
                    output.records.setdefault(message["stream"], []).extend(batch)
        return output

    def of(self, stream: str) -> list[dict[str, Any]]:
        return self.records.get(stream, [])


def position_of(state: dict[str, Any]) -> dict[str, Any]:
    """The position a source that keeps one left in a run's state (one account)."""
    (partition,) = state["bookmarks"]["conversations"]["partitions"]
    return dict(partition["position"])


class CapturedStdout(io.TextIOWrapper):
    """A stdout to read back: the tap's msgspec writer writes bytes to `sys.stdout.buffer`."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", newline="")

    def getvalue(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode()  # type: ignore[attr-defined]


@contextlib.contextmanager
def captured_stdout() -> Iterator[CapturedStdout]:
    """What a tap run in this process writes to stdout."""
    with contextlib.redirect_stdout(CapturedStdout()) as stdout:
        yield stdout


def run_tap(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    *,
    fails: bool = False,
    **tap_kwargs: Any,
) -> SyncOutput:
    """Sync in this process (fast); Singer messages are read back from stdout. `fails`:
    the run must end in a `ProviderError` (its line is the output's `error`)."""
    # The SDK updates the state it is given in place: keep the caller's copy intact.
    tap = TapLinkedInMessages(config=config, state=copy.deepcopy(state or {}), **tap_kwargs)
    error = None
    with captured_stdout() as stdout:
        if fails:
            with pytest.raises(ProviderError) as raised:
                tap.sync_all()
            error = str(raised.value)
        else:
            tap.sync_all()
    output = SyncOutput.parse(stdout.getvalue())
    output.tap = tap
    output.error = error
    return output


def read_listing(
    source: MessageListing, walk: Walk, position: Position | None = None
) -> list[Record]:
    """Every message a source that lists messages reads from `position`, each settled as
    the message index settles it once every row is read (its sender's `is_me`, its row's
    people as participants: the member left out, a name with the URL another row gives it)."""
    with source.read_messages(walk, position) as listed:
        messages = list(listed.messages)
        settle = listed.settle
        for message in messages:
            settle.sender_of(message)
            entry = message["conversation"]
            entry["participants"] = [
                records.participant(name=name, profile_url=url)
                for name, url in settle.others(
                    (person["name"], person["profile_url"]) for person in entry["participants"]
                )
            ]
        return messages


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> SyncOutput:
        return SyncOutput.parse(self.stdout)


def run_cli(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> CliRun:
    """Run the installed console script, as Meltano or a shell pipeline would (`env`: more
    environment variables)."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    completed = subprocess.run(
        [str(TAP_EXECUTABLE), "--config", str(config_file), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def inbox() -> SyntheticInbox:
    return SyntheticInbox.generate(seed=11, conversations=12, messages=7)


@pytest.fixture
def linkup(inbox: SyntheticInbox) -> Iterator[LinkupEmulator]:
    with LinkupEmulator(inbox) as emulator:
        yield emulator


#: How a source that lists messages makes its items: in a forked child, or here
#: (`tap_linkedin_messages.child_process`). Which one a run gets otherwise depends on the
#: threads alive in the test process, so the suites that read listings name it.
FORK_MODES = ("forked", "in-process")


def set_fork_mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """Fork even though emulator threads run (their idle request threads, blocked reading
    their sockets, hold no lock a child takes), or never fork."""
    monkeypatch.setattr(child_process, "can_fork", lambda: mode == "forked")
