"""Did a change alter what the tap writes? The tap at a git revision against this checkout.

    python scripts/compare_outputs.py BASE [--providers p ...] [--seed N] [--conversations N]
    make compare BASE=<rev>        (BASE defaults to HEAD)

The tap at BASE is `git archive BASE tap_linkedin_messages schemas` (all it needs to run)
in a temporary directory; the other side is this checkout, uncommitted changes included
(or `--tree PATH`). Each side's tap runs in a subprocess with its own tree as cwd and
PYTHONPATH, and checks it imports that tree. This checkout's emulators serve both, on
127.0.0.1. Per provider, each side gets the same inbox: a full run, the same additions
(new messages, a new conversation, a late message), then an incremental run from its own
run-1 state. RECORD messages (in order), SCHEMA messages and the final STATE must be equal
once what is wall-clock is masked, and only that: RECORDs' `time_extracted`, the SDK's
`replication_key_signpost` and the DMA adapter's quiet `changelog_from` (see `mask`).
Prints one line per provider and run; exits 1 if anything differs, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import zip_longest
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tap_linkedin_messages.providers.linkedin_dma import QUIET_MARGIN  # noqa: E402
from tests.emulators import SOURCES, emulator_class, linkedin_dma  # noqa: E402
from tests.emulators.inbox import Person, SyntheticInbox  # noqa: E402

PAGE_SIZE = 5
MARGIN_MS = int(QUIET_MARGIN.total_seconds() * 1000)
# The tap as its console script runs it, once it has checked where its package comes from.
RUNNER = """import os, sys
tree = sys.argv.pop(1)
import tap_linkedin_messages as package
if not os.path.realpath(package.__file__).startswith(tree + os.sep):
    sys.exit(f"the tap imported {package.__file__}, not the one in {tree}")
from tap_linkedin_messages.tap import TapLinkedInMessages
TapLinkedInMessages.cli()
"""
ABSENT = object()
Messages = list[dict[str, Any]]


class Run(NamedTuple):
    returncode: int
    stderr: str
    messages: Messages


class FixedClock:
    """The `time` module, except that `time_ns()` is `ms`, as set."""

    ms = 0

    def time_ns(self) -> int:
        return self.ms * 1_000_000

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


# The DMA emulator stamps processing times, which the tap's state keeps, from the wall
# clock; pinned here, they are the same on both sides. Run 1's clock lies before what
# `mask` masks (the tap's clocks - QUIET_MARGIN), run 2's 8 minutes on: after run 1's
# `changelog_from`, where the incremental run reads from, if a provider's four runs take
# under 5 minutes (they take seconds).
CLOCK = FixedClock()


def export(rev: str, dest: Path) -> Path:
    """The tap's package and schemas as committed at `rev`, written under `dest`."""
    command = ["git", "-C", str(ROOT), "archive", rev, "tap_linkedin_messages", "schemas"]
    archive = subprocess.run(command, capture_output=True, check=False)
    if archive.returncode:
        sys.exit(f"git archive {rev}: {archive.stderr.decode().strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def build_inbox(seed: int, conversations: int) -> SyntheticInbox:
    """Thread 2 over several pages, thread 5 empty, a group chat, a file and a reaction."""
    sizes = {2: 23, 5: 0}
    inbox = SyntheticInbox.generate(
        seed=seed, conversations=conversations, messages=lambda i: sizes.get(i, 3 + i % 4)
    )
    names = [("Ana", "Lima"), ("Björn", "Ek"), ("Chen", "Wei")]
    members = [Person(f"group-member-{i}", *name, f"Role {i}") for i, name in enumerate(names)]
    group = inbox.add_conversation(members, type_="group")
    for member in [*members, inbox.owner]:
        inbox.add_message(group.thread_id, sender=member)
    first = next(iter(inbox.conversations.values()))
    inbox.attach(first.messages[-1], "deck.pdf", "application/pdf", 48_213)
    inbox.react(first.messages[0], "👍", inbox.owner)
    return inbox


def add_round_two(inbox: SyntheticInbox, one_by_one: bool) -> None:
    """New messages in four conversations (the long one and the group chat among them), a
    new conversation, and a late message in the conversation quiet the longest."""
    threads = list(inbox.conversations)
    group = inbox.conversations[threads[-1]]
    newest = max(m.sent_at_ms for c in inbox.conversations.values() for m in c.messages)
    quiet = [c for c in inbox.newest_first() if c.messages][-1]
    for index in (1, 6, 6, 2):
        inbox.add_message(threads[index])
    inbox.add_message(group.thread_id, sender=group.participants[1])
    newcomer = Person("newcomer-1", "Nia", "Newcomer", "Buyer at Example N")
    fresh = inbox.add_conversation([newcomer])
    inbox.add_message(fresh.thread_id)
    inbox.add_message(fresh.thread_id)
    # An API read a conversation at a time indexes it late: 3 minutes before run 1's newest
    # message, inside the default lookback (tests/test_contract.py). The next archive or
    # the DMA API holds it dated hours back.
    late_at = newest - 180_000 if one_by_one else (quiet.last_activity_ms + newest) // 2
    inbox.add_message(quiet.thread_id, sent_at_ms=late_at)


def run_tap(tree: Path, config: dict[str, Any], state: dict[str, Any] | None, work: Path) -> Run:
    """The tap's exit code, its stderr and the Singer messages it wrote."""
    tree = tree.resolve()
    (work / "config.json").write_text(json.dumps(config))
    args = ["--config", str(work / "config.json")]
    if state is not None:
        (work / "state.json").write_text(json.dumps(state))
        args += ["--state", str(work / "state.json")]
    local = "127.0.0.1,localhost"
    env = {**os.environ, "PYTHONPATH": str(tree), "NO_PROXY": local, "no_proxy": local}
    command = [sys.executable, "-c", RUNNER, str(tree), *args]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return Run(done.returncode, done.stderr, messages)


def final_state(messages: Messages) -> dict[str, Any]:
    return next((m["value"] for m in reversed(messages) if m["type"] == "STATE"), {})


def run_side(
    provider: str, tree: Path, args: argparse.Namespace, work: Path, clock_ms: int
) -> dict[str, Run]:
    """A full run, the additions, then an incremental run from the full run's state."""
    CLOCK.ms = clock_ms
    inbox = build_inbox(args.seed, args.conversations)
    emulator = emulator_class(provider)(inbox).start()
    try:
        full = run_tap(tree, emulator.config(page_size=PAGE_SIZE), None, work)
        CLOCK.ms = clock_ms + 8 * 60_000
        add_round_two(inbox, emulator.reads_conversations_one_by_one)
        config = emulator.config(page_size=PAGE_SIZE)
        incremental = run_tap(tree, config, final_state(full.messages), work)
    finally:
        emulator.stop()
    return {"full": full, "incremental": incremental}


def mask(state: Any, quiet: tuple[int, int]) -> Any:
    """The STATE without the SDK's `replication_key_signpost` (its sync's start), and with
    a `changelog_from` inside `quiet` replaced: a DMA changelog read that saw no new event
    leaves it at the tap's own clock - QUIET_MARGIN, a wall-clock value of that run."""
    if isinstance(state, dict):
        return {
            key: "<wall clock>"
            if key == "changelog_from" and isinstance(item, int) and quiet[0] <= item <= quiet[1]
            else mask(item, quiet)
            for key, item in state.items()
            if key != "replication_key_signpost"
        }
    if isinstance(state, list):
        return [mask(item, quiet) for item in state]
    return state


def brief(value: Any) -> str:
    text = "absent" if value is ABSENT else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "..."


def first_difference(base: Any, tree: Any, path: str = "") -> str | None:
    """Where `base` and `tree` first differ, and how; None if they are equal."""
    pairs: list[tuple[str, Any, Any]] = []
    if isinstance(base, dict) and isinstance(tree, dict):
        keys = [*base, *(key for key in tree if key not in base)]
        pairs = [(f".{k}", base.get(k, ABSENT), tree.get(k, ABSENT)) for k in keys]
    elif isinstance(base, list) and isinstance(tree, list) and len(base) == len(tree):
        pairs = [(f"[{i}]", *pair) for i, pair in enumerate(zip(base, tree, strict=True))]
    elif base is ABSENT or tree is ABSENT or base != tree:
        return f"{path or 'the message'}: {brief(base)} at BASE, {brief(tree)} in the tree"
    found = (first_difference(b, t, path + step) for step, b, t in pairs)
    return next((difference for difference in found if difference), None)


def compare(base: Run, tree: Run, quiet: tuple[int, int]) -> str | None:
    """The first difference between two runs' outputs; None if there is none."""
    if base.returncode or tree.returncode:
        failed = base if base.returncode else tree
        last = (failed.stderr.strip().splitlines() or ["no output"])[-1]
        codes = f"exit {base.returncode} at BASE, {tree.returncode} in the tree"
        return f"the tap failed ({codes}): {last}"

    def parts(messages: Messages) -> dict[str, Messages]:
        records = [m for m in messages if m["type"] == "RECORD"]
        return {
            "record": [{k: v for k, v in m.items() if k != "time_extracted"} for m in records],
            "SCHEMA": [m for m in messages if m["type"] == "SCHEMA"],
            "final STATE": [mask(final_state(messages), quiet)],
        }

    theirs = parts(tree.messages)
    for what, ours in parts(base.messages).items():
        for index, pair in enumerate(zip_longest(ours, theirs[what], fillvalue=ABSENT)):
            found = first_difference(*pair)
            if found:
                stream = next(m.get("stream") for m in pair if isinstance(m, dict))
                where = what if what == "final STATE" else f"{what} #{index} ({stream})"
                return f"{where} differs at {found}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The tap's output at BASE against this tree's.")
    parser.add_argument("base", metavar="BASE", help="a git revision, e.g. HEAD or a commit")
    providers = sorted(SOURCES)
    parser.add_argument("--providers", nargs="+", choices=providers, default=providers)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--conversations", type=int, default=30, help="at least 7")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the new side (default: here)")
    args = parser.parse_args(argv)
    if args.conversations < 7:
        parser.error("--conversations: at least 7 (the additions write in threads 1, 2 and 6)")
    differ = False
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(linkedin_dma, "time", CLOCK):
        work = Path(tmp)
        base = export(args.base, work / "base")
        print(f"the tap at {args.base} against the one in {args.tree.resolve()}", flush=True)
        for provider in args.providers:
            started = time.time_ns() // 1_000_000
            clock_ms = started - MARGIN_MS - 120_000
            base_runs = run_side(provider, base, args, work, clock_ms)
            tree_runs = run_side(provider, args.tree, args, work, clock_ms)
            quiet = (started - MARGIN_MS - 2_000, time.time_ns() // 1_000_000 - MARGIN_MS + 2_000)
            for name, run in tree_runs.items():
                found = compare(base_runs[name], run, quiet)
                counted = sum(m["type"] == "RECORD" for m in run.messages)
                print(f"{provider} {name}: {found or f'{counted} records, identical'}", flush=True)
                differ = differ or found is not None
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
