"""Items made in a forked child (`produced_in_child`): the same items as made here, an
error raised here as it was there, a child never left behind, nothing of the child's on
stdout, and the index read back in a child without a byte of its file changed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tap_linkedin_messages import child_process, message_index
from tap_linkedin_messages.child_process import can_fork, produced_in_child
from tap_linkedin_messages.message_index import MessageIndex
from tap_linkedin_messages.providers import ProviderError, linkedin_dma
from tests.conftest import TAP_EXECUTABLE, run_tap
from tests.emulators.export import export_rows, write_archive
from tests.emulators.inbox import SyntheticInbox
from tests.emulators.linkedin_dma import DmaEmulator
from tests.test_message_index import T, listed

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")


@pytest.fixture(autouse=True)
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even though earlier tests left threads behind: an emulator's idle request
    threads, blocked reading their sockets, hold no lock a child takes. (The tap itself
    runs no other thread when it reads an archive; `can_fork` is tested as it is below.)"""
    monkeypatch.setattr(child_process, "can_fork", lambda: True)


def numbered(count: int) -> Iterator[dict[str, Any]]:
    """Records of the shapes ours have (nested maps, lists, nulls, booleans), each
    saying which process made it."""
    for n in range(count):
        yield {
            "n": n,
            "pid": os.getpid(),
            "text": f"message {n}" * (n % 5),
            "sender": {"name": None, "is_me": n % 2 == 0},
            "attachments": [{"url": f"https://example.com/{n}"}] if n % 3 else None,
        }


def test_the_items_are_those_made_here_in_order_made_by_another_process() -> None:
    count = 3 * child_process.BATCH_ITEMS + 7  # several batches and a part of one
    made = list(produced_in_child(lambda: numbered(count), "test"))
    here = list(numbered(count))
    (child,) = {item.pop("pid") for item in made}
    assert child != os.getpid()
    for item in here:
        del item["pid"]
    assert made == here


def test_an_error_in_the_child_is_raised_here_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield from range(child_process.BATCH_ITEMS + 3)
        raise ProviderError("linkedin_export: row 260 has no DATE")

    items = produced_in_child(failing, "test")
    got: list[int] = []
    with pytest.raises(ProviderError, match=r"^linkedin_export: row 260 has no DATE$"):
        got.extend(items)
    assert got == list(range(child_process.BATCH_ITEMS + 3))


def test_a_child_killed_half_way_is_an_error_naming_the_work() -> None:
    parent = os.getpid()

    def dying() -> Iterator[int]:
        yield 1
        assert os.getpid() != parent  # never end the test run itself
        os._exit(3)

    with pytest.raises(
        ProviderError, match=r"^the test read: the process reading it ended .*\(exit status 3\)"
    ):
        list(produced_in_child(dying, "the test read"))


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_a_child_signalled_half_way_is_one_line_never_a_success(
    number: signal.Signals,
) -> None:
    """The SDK's SIGTERM handler (`sys.exit(0)`), inherited by the child, used to make a
    child told to stop send up a clean exit: the tap ended with status 0, no records and
    no error. The child puts the default handlers back; how it ended is the error."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # as the SDK's
    try:
        items = produced_in_child(lambda: numbered(10_000_000), "the test read")
        child = next(items)["pid"]
        os.kill(child, number)
        with pytest.raises(
            ProviderError, match=rf"ended before its last item \(killed by {number.name}\)"
        ):
            for _ in items:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_exit_the_child_sends_up_is_no_success() -> None:
    def exiting() -> Iterator[int]:
        yield 1
        sys.exit(0)

    with pytest.raises(ProviderError, match=r"ended \(SystemExit\)$"):
        list(produced_in_child(exiting, "the test read"))


def test_a_read_stopped_early_leaves_no_child_behind() -> None:
    items = produced_in_child(lambda: numbered(100_000), "test")
    first = next(items)
    child = first["pid"]
    assert child != os.getpid()
    items.close()
    # Killed and reaped: no such process any more (not even a zombie to signal).
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_the_child_writes_nothing_to_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    def printing() -> Iterator[int]:
        print("a line that is not Singer")  # what a stray print would do
        yield 1

    assert list(produced_in_child(printing, "test")) == [1]
    assert capfd.readouterr().out == ""


def test_with_another_thread_running_the_items_are_made_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(child_process, "can_fork", can_fork)  # as the tap has it
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        made = list(produced_in_child(lambda: numbered(3), "test"))
    finally:
        stop.set()
        other.join()
    assert {item["pid"] for item in made} == {os.getpid()}


def sha256_of(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_the_index_is_read_back_in_a_child_that_changes_nothing_in_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    messages = [listed(f"c{n % 7}", T.format(1 + n % 9), f"text {n}") for n in range(3000)]
    read: dict[bool, list[Any]] = {}
    for in_child in (True, False):
        monkeypatch.setattr(message_index, "produced_in_child", _made(in_child))
        with MessageIndex("test") as index:
            index.add_all(dict(m, conversation=dict(m["conversation"])) for m in messages)
            conversations = index.conversations(None)
            first, first_messages = next(conversations)
            before = sha256_of(index.path)  # the index built, the child started
            read[in_child] = [(first, list(first_messages))]
            read[in_child] += [(c, list(ms)) for c, ms in conversations]
            assert sha256_of(index.path) == before
    assert read[True] == read[False]
    assert len(read[True]) == 7


def _made(in_child: bool) -> Any:
    def made(produce: Any, what: str) -> Iterator[Any]:
        if in_child:
            return produced_in_child(produce, what)
        return iter(produce())

    return made


def counted_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The children `os.fork` makes from now on, as they are made."""
    forks: list[int] = []
    fork = os.fork

    def counted_fork() -> int:
        pid = fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted_fork)
    return forks


def test_an_export_read_in_child_processes_writes_what_one_read_here_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = SyntheticInbox.generate(seed=4, conversations=40, messages=lambda i: 1 + i % 9)
    rows = export_rows(inbox)
    random.Random(2).shuffle(rows)
    config = {
        "provider": "linkedin_export",
        "export_path": str(write_archive(rows, tmp_path / "a.zip")),
    }
    forks = counted_forks(monkeypatch)
    in_children = run_tap(config)
    assert len(forks) == 2  # the rows made into records, then the index read back
    monkeypatch.setattr(child_process, "can_fork", lambda: False)
    here = run_tap(config)
    assert len(forks) == 2
    assert in_children.records == here.records
    assert in_children.state == here.state
    assert len(here.records["messages"]) == len(rows)


def test_a_process_refused_a_child_makes_the_items_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    made = list(produced_in_child(lambda: numbered(3), "test"))
    assert [item["pid"] for item in made] == [os.getpid()] * 3


def test_an_item_that_does_not_encode_is_the_error_raised_here() -> None:
    def unencodable() -> Iterator[object]:
        yield 1
        yield object()  # no record holds one; msgpack cannot carry it

    with pytest.raises(TypeError, match="Encoding objects of type object is unsupported"):
        list(produced_in_child(unencodable, "test"))


def test_a_dma_snapshot_read_back_in_a_child_writes_what_one_read_here_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox = SyntheticInbox.generate(seed=6, conversations=30, messages=lambda i: 1 + i % 7)
    emulator = DmaEmulator(inbox).start()
    # One clock for both runs: their changelog positions are then the same.
    now = emulator.now()
    monkeypatch.setattr(linkedin_dma, "utc_now", lambda: now)
    try:
        forks = counted_forks(monkeypatch)
        in_child = run_tap(emulator.config())
        # The pages are walked here (requests and credits stay the tap's): only the
        # index is read back in a child.
        assert len(forks) == 1
        monkeypatch.setattr(child_process, "can_fork", lambda: False)
        here = run_tap(emulator.config())
        assert len(forks) == 1
    finally:
        emulator.stop()
    assert in_child.records == here.records
    assert in_child.state == here.state
    assert len(here.records["messages"]) == inbox.message_count()


def test_the_tap_told_to_stop_in_its_child_ends_with_status_1_and_one_line(
    tmp_path: Path,
) -> None:
    """The issue's run: SIGTERM to the tap's child while it reads an archive. It ended
    with status 0, no records and no error line; now 1 and one line saying so."""
    inbox = SyntheticInbox.generate(seed=71, conversations=200, messages=200)
    archive = write_archive(export_rows(inbox), tmp_path / "big.zip")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"provider": "linkedin_export", "export_path": str(archive)}))
    tap = subprocess.Popen(
        [str(TAP_EXECUTABLE), "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children = Path(f"/proc/{tap.pid}/task/{tap.pid}/children")
    deadline = time.monotonic() + 60
    child = None
    while child is None and tap.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, IndexError):
            child = int(children.read_text().split()[0])
        time.sleep(0.005)
    assert child is not None, "the tap never forked its child"
    os.kill(child, signal.SIGTERM)
    stdout, stderr = tap.communicate(timeout=120)
    assert tap.returncode == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if "killed by SIGTERM" in line]
    assert "| ERROR" in line
    assert '"type":"RECORD"' not in stdout
