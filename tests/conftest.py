"""Shared fixtures: emulators on 127.0.0.1 and a way to run the tap and read its output."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkup import LinkupEmulator

REPO = Path(__file__).resolve().parent.parent
TAP_EXECUTABLE = Path(sys.executable).parent / "tap-linkedin-messages"


@dataclass
class SyncOutput:
    """What one run of the tap wrote: records per stream, and its last STATE."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)
    #: The tap instance, for in-process runs (its streams share the credit ledger).
    tap: TapLinkedInMessages | None = None

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
        return output

    def of(self, stream: str) -> list[dict[str, Any]]:
        return self.records.get(stream, [])


def run_tap(config: dict[str, Any], state: dict[str, Any] | None = None) -> SyncOutput:
    """Sync in this process (fast); Singer messages are read back from stdout."""
    buffer = io.StringIO()
    # The SDK updates the state it is given in place: keep the caller's copy intact.
    tap = TapLinkedInMessages(config=config, state=copy.deepcopy(state or {}))
    with contextlib.redirect_stdout(buffer):
        tap.sync_all()
    output = SyncOutput.parse(buffer.getvalue())
    output.tap = tap
    return output


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> SyncOutput:
        return SyncOutput.parse(self.stdout)


def run_cli(tmp_path: Path, config: dict[str, Any], *args: str, timeout: float = 60) -> CliRun:
    """Run the installed console script, as Meltano or a shell pipeline would."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    completed = subprocess.run(
        [str(TAP_EXECUTABLE), "--config", str(config_file), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def inbox() -> SyntheticInbox:
    return SyntheticInbox.generate(seed=11, conversations=12, messages=7)


@pytest.fixture
def linkup(inbox: SyntheticInbox) -> Iterator[LinkupEmulator]:
    with LinkupEmulator(inbox) as emulator:
        yield emulator
