"""Kill the tap at random points, resume from the last state it wrote: nothing is lost."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import TAP_EXECUTABLE, SyncOutput, run_tap
from tests.emulators import SOURCES, emulator_class
from tests.emulators.inbox import SyntheticInbox

if TYPE_CHECKING:
    from pathlib import Path


def run_until_killed(
    config: dict[str, Any], state: dict[str, Any], tmp_path: Path, kill_after: int
) -> SyncOutput:
    """Run the CLI and SIGKILL it once it has written `kill_after` RECORD messages."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "state.json").write_text(json.dumps(state))
    process = subprocess.Popen(
        [
            str(TAP_EXECUTABLE),
            "--config",
            str(tmp_path / "config.json"),
            "--state",
            str(tmp_path / "state.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines, records = [], 0
    for line in process.stdout:
        lines.append(line)
        records += json.loads(line)["type"] == "RECORD"
        if records == kill_after:
            process.kill()
            break
    process.wait(timeout=30)
    return SyncOutput.parse("".join(lines))


def bookmarks(state: dict[str, Any]) -> dict[str, str]:
    return {
        stream: partition["replication_key_value"]
        for stream, stream_state in state.get("bookmarks", {}).items()
        for partition in stream_state.get("partitions", [])
        if "replication_key_value" in partition
    }


@pytest.mark.parametrize("provider", sorted(SOURCES))
@pytest.mark.parametrize("kill_after", [1, 4, 9, 15, 22])
def test_kill_and_resume_loses_nothing(provider: str, kill_after: int, tmp_path: Path) -> None:
    inbox = SyntheticInbox.generate(seed=51, conversations=8, messages=4)
    emulator = emulator_class(provider)(inbox).start()
    try:
        first = run_tap(emulator.config(page_size=3))
        for thread_id in list(inbox.conversations)[::2]:
            for _ in range(3):
                inbox.add_message(thread_id)
        # The export's next archive holds them (an API's config is the same).
        config = emulator.config(page_size=3)
        # 4 conversations x 3 new messages, and the 4 conversations: 16 records to come.
        killed = run_until_killed(config, first.state, tmp_path, min(kill_after, 15))
        stored = killed.state or first.state  # what Meltano would have kept
        resumed = run_tap(config, state=stored)
    finally:
        emulator.stop()

    seen = {r["message_id"] for output in (first, killed, resumed) for r in output.of("messages")}
    assert seen == {
        emulator.message_id(m) for c in inbox.conversations.values() for m in c.messages
    }
    # The bookmarks the killed run left are the first run's; they only move forward, and
    # never past the time the resuming run started.
    assert bookmarks(stored) == bookmarks(first.state)
    now = datetime.now(timezone.utc).isoformat()
    for stream, value in bookmarks(resumed.state).items():
        assert bookmarks(first.state)[stream] <= value <= now
