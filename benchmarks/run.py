"""`make bench`: cost and speed of the tap against each provider's emulator.

Writes `benchmarks/RESULTS.md`. Every number is measured in this run: the tap runs as a
separate process (the way Meltano runs it) against an emulator served from this process
on 127.0.0.1, which counts the requests and credits it served. Each timed sync is the
fastest of `TIMED_RUNS` runs (the two cores are shared with the emulator and whatever
else the machine does, which only ever slows a run down).

Scenarios, for each provider:
1. full sync of a skewed inbox (1,000 conversations, 100,000+ messages, a few with over
   1,000): records/s, peak RSS, requests, credits and credits over the minimum; the same
   number of records through a trivial SDK stream that only emits them is the ceiling;
2. an incremental run after no change: requests and credits;
3. an incremental run after new messages (1-30) in 50 conversations: credits over the
   minimum;
4. a full sync of 300 conversations with 100 ms latency per request, at
   `max_concurrent_requests` 1 and 4: wall time and identical records;
and peak RSS for a 10,000-message and a 100,000-message inbox. Scenario 1 also runs with
the SDK's default message writer instead of the tap's msgspec one, each beside the
trivial SDK stream with the same writer. Scenario 1's inbox is also written as the
member's data export (rows in random order) and read by `linkedin_export`: the same
records from a local file.

Then LinkedIn's official archives: a generated data export (`benchmarks/archive.py`: rows
in random conversation order, multi-line texts, skewed conversation sizes of about 20
messages on average) of 10,000, 100,000 and 1,000,000 messages (about 500, 5,000 and
50,000 conversations), read by `linkedin_export` from the ZIP and by `linkedin_dma` as
its INBOX snapshot (`benchmarks/snapshot_server.py`): seconds, records/s, peak RSS (the
tap's plus its child's, `children_of`) and the temporary disk the read used (its temporary
files' logged sizes, summed). Beside each archive, scenario 1's fastest HTTP provider
serves an inbox of the same conversations (`archive_shaped_inbox`): like for like.

Last, 500 accounts in one run (`benchmarks/accounts.py`): what an account costs beyond its
requests, peak memory and the state's size.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import archive  # noqa: E402
from benchmarks.accounts import benchmark_accounts, render_accounts  # noqa: E402
from benchmarks.snapshot_server import ArchiveSnapshotServer  # noqa: E402
from tap_linkedin_messages.providers import PROVIDERS, ConversationApi  # noqa: E402
from tests.emulators import EMULATORS, emulator_class  # noqa: E402
from tests.emulators.export import export_rows, write_archive  # noqa: E402
from tests.emulators.inbox import SyntheticInbox  # noqa: E402
from tests.emulators.server import ProviderEmulator  # noqa: E402

TAP = [str(Path(sys.executable).parent / "tap-linkedin-messages")]
DEFAULT_WRITER_TAP = [sys.executable, str(REPO / "benchmarks" / "default_writer_tap.py")]
NO_CHILD_TAP = [sys.executable, str(REPO / "benchmarks" / "no_child_tap.py")]
ARCHIVE_SIZES = (10_000, 100_000, 1_000_000)
#: Milliseconds between two messages of an archive-shaped inbox: a million of them end
#: within a year of the emulators' history start, in the past.
ARCHIVE_INBOX_SPACING_MS = 30_000
# Which side filters by time (the minimum drops to the new items alone there):
# (inbox listing, messages of a conversation).
TIME_FILTERS = {
    "linkup": (False, False),
    "linkup_v1": (False, False),
    "connectsafely": (False, True),
    "unipile": (False, True),
}
BILLING_UNIT = 10
#: Runs of each timed sync (full syncs, archives up to 100,000 messages); the fastest is
#: reported. Two cores shared with the emulator: a single run varies by 10-15%.
TIMED_RUNS = 3


def people_listings(provider: str) -> int:
    """Requests a provider needs per conversation read beyond its messages: one where its
    adapter has a `people()` listing (Unipile's attendees, which name the senders its
    messages give by id only; a page of fewer than ten people, 1 credit by the shared
    rule), none otherwise."""
    adapter = PROVIDERS[provider]
    return int(
        issubclass(adapter, ConversationApi) and adapter.people is not ConversationApi.people
    )


SPACING_MS = 3 * 60_000  # 100,000 messages over ~9 months: all in the past


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    records: int
    messages: list[str]
    state: dict[str, Any]
    requests: int
    credits: int
    #: The temporary disk the read reported using (official archives), in MB: the sizes
    #: its temporary files logged ("(N MB on disk)": the tables that find the member, the
    #: message index), summed, as both are on disk near the end of the read.
    disk_mb: float = 0.0


def skewed_counts(conversations: int, total: int, seed: int) -> list[int]:
    """A few very long conversations, many short ones, summing to `total`."""
    rng = random.Random(seed)
    heavy = [3000, 2200, 1600, 1200]
    weights = [rng.paretovariate(1.3) for _ in range(conversations - len(heavy))]
    rest = total - sum(heavy)
    counts = [max(1, int(rest * w / sum(weights))) for w in weights]
    counts = [min(c, 900) for c in counts]
    shortfall = rest - sum(counts)
    for index in range(shortfall):
        counts[index % len(counts)] += 1
    return heavy + counts


def build_inbox(conversations: int, total: int, seed: int = 5) -> SyntheticInbox:
    counts = skewed_counts(conversations, total, seed)
    return SyntheticInbox.generate(
        seed=seed, conversations=conversations, messages=lambda i: counts[i], spacing_ms=SPACING_MS
    )


def run_tap(
    emulator: ProviderEmulator | ArchiveSnapshotServer | None,
    workdir: Path,
    state: dict | None = None,
    *,
    tap: list[str] = TAP,
    settings: dict[str, Any] | None = None,
    **config: Any,
) -> Run:
    """One tap process: wall time, peak RSS (its own and its child's), its output, what the
    emulator served."""
    config_file, state_file, out_file, log_file = (
        workdir / "config.json",
        workdir / "state.json",
        workdir / "out.jsonl",
        workdir / "tap.log",
    )
    base = emulator.config(**config) if emulator is not None else {}
    config_file.write_text(json.dumps({**base, **(settings or {})}))
    state_file.write_text(json.dumps(state or {}))
    if emulator is not None:
        emulator.reset_counters()
    with out_file.open("w") as out, log_file.open("w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*tap, "--config", str(config_file), "--state", str(state_file)],
            stdout=out,
            stderr=log,
        )
        # The tap's own high-water mark (VmHWM), read while it runs: rusage would also
        # count the pages of this (large) benchmark process that the fork copied. The
        # export and the DMA snapshot fork a child for part of their read (one at a
        # time); its high-water mark is added to the tap's, which counts the pages they
        # share twice: an upper bound.
        peak_kb = child_peak_kb = 0
        while process.poll() is None:
            peak_kb = max(peak_kb, high_water_kb(process.pid))
            for child in children_of(process.pid):
                child_peak_kb = max(child_peak_kb, high_water_kb(child))
            time.sleep(0.02)
        peak_kb += child_peak_kb
        seconds = time.perf_counter() - started
        status = process.returncode
    if status != 0:
        raise RuntimeError(f"tap failed with status {status}: {log_file.read_text()[-2000:]}")
    records, messages, last_state = 0, [], {}
    keep_ids = config.get("max_concurrent_requests") is not None  # scenario 4 compares them
    with out_file.open() as lines:
        for line in lines:
            if '"type":"RECORD"' in line or '"type": "RECORD"' in line:
                records += 1
                if keep_ids and ('"stream":"messages"' in line or '"stream": "messages"' in line):
                    messages.append(json.loads(line)["record"]["message_id"])
            elif '"type":"STATE"' in line or '"type": "STATE"' in line:
                last_state = json.loads(line)["value"]
    disk = re.findall(r"\(([0-9.]+) MB on disk\)", log_file.read_text())
    return Run(
        seconds,
        peak_kb / 1024,
        records,
        messages,
        last_state,
        emulator.count() if emulator is not None else 0,
        getattr(emulator, "credits", 0),
        sum(float(size) for size in disk),
    )


def children_of(pid: int) -> list[int]:
    """The processes a running process forked (none once it is gone)."""
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def high_water_kb(pid: int) -> int:
    """Peak resident memory of a running process, from /proc (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "")
    return int(line.split()[1]) if line else 0


def fastest(run: Callable[[], Run], times: int = TIMED_RUNS) -> Run:
    """The fastest of `times` identical runs: what else the machine does only ever slows
    a run down (the same records, requests and credits each time)."""
    return min((run() for _ in range(times)), key=lambda done: done.seconds)


def ceiling(records: int, writer: str = "msgspec") -> float:
    """Records/s of the trivial SDK stream emitting the same number of records (the
    fastest of `TIMED_RUNS`)."""
    seconds = []
    for _ in range(TIMED_RUNS):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "trivial_tap.py"), str(records), writer],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        seconds.append(time.perf_counter() - started)
    return records / min(seconds)


def full_sync_minimum(provider: str, inbox: SyntheticInbox) -> int:
    listed = list(inbox.conversations.values())
    people = people_listings(provider) * len(listed)
    return (
        math.ceil(len(listed) / BILLING_UNIT)
        + sum(math.ceil(len(c.messages) / BILLING_UNIT) for c in listed)
        + people
    )


def incremental_minimum(provider: str, new_counts: list[int]) -> int:
    """The least any client pays: every new item, plus one older where the API cannot filter."""
    inbox_filters, messages_filter = TIME_FILTERS[provider]
    changed = len(new_counts)
    inbox = math.ceil((changed + (0 if inbox_filters else 1)) / BILLING_UNIT)
    per_conversation = sum(
        math.ceil((count + (0 if messages_filter else 1)) / BILLING_UNIT) for count in new_counts
    )
    return inbox + per_conversation + people_listings(provider) * changed


def benchmark(provider: str, workdir: Path, total: int) -> dict[str, Any]:
    cls = emulator_class(provider)
    result: dict[str, Any] = {"provider": provider}

    inbox = build_inbox(1000, total)
    emulator = cls(inbox).start()
    try:
        full = fastest(partial(run_tap, emulator, workdir, page_size=100))
        result["full"] = full
        result["full_minimum"] = full_sync_minimum(provider, inbox)
        result["messages_total"] = inbox.message_count()
        result["longest"] = max(len(c.messages) for c in inbox.conversations.values())
        result["ceiling"] = ceiling(full.records)
        result["full_default_writer"] = fastest(
            partial(run_tap, emulator, workdir, page_size=100, tap=DEFAULT_WRITER_TAP)
        )
        result["ceiling_default_writer"] = ceiling(full.records, "default")

        result["unchanged"] = run_tap(emulator, workdir, state=full.state, page_size=100)

        rng = random.Random(9)
        changed = rng.sample(list(inbox.conversations), 50)
        new_counts = [rng.randint(1, 30) for _ in changed]
        for thread_id, count in zip(changed, new_counts, strict=True):
            for _ in range(count):
                inbox.add_message(thread_id)
        incremental = run_tap(emulator, workdir, state=full.state, page_size=100)
        result["incremental"] = incremental
        result["incremental_new"] = sum(new_counts)
        result["incremental_minimum"] = incremental_minimum(provider, new_counts)
    finally:
        emulator.stop()

    small = cls(build_inbox(100, total // 10)).start()
    try:
        result["small"] = run_tap(small, workdir, page_size=100)
    finally:
        small.stop()

    latency_inbox = SyntheticInbox.generate(
        seed=8, conversations=300, messages=12, spacing_ms=SPACING_MS
    )
    slow = cls(latency_inbox, latency=0.1).start()
    try:
        result["serial"] = run_tap(slow, workdir, page_size=100, max_concurrent_requests=1)
        result["parallel"] = run_tap(slow, workdir, page_size=100, max_concurrent_requests=4)
    finally:
        slow.stop()
    return result


def benchmark_export_of_inbox(workdir: Path, total: int) -> dict[str, Any]:
    """Scenario 1's inbox (the same 1,000 conversations, the same messages) written as the
    member's data export, rows in random order as heavy users' are, read by
    `linkedin_export`: the same records as the HTTP providers', from a local file."""
    rows = export_rows(build_inbox(1000, total))
    random.Random(3).shuffle(rows)
    path = write_archive(rows, workdir / "scenario-1-export.zip")
    try:
        settings = {"provider": "linkedin_export", "export_path": str(path)}
        run = fastest(partial(run_tap, None, workdir, settings=settings))
    finally:
        path.unlink()
    return {"full": run, "ceiling": ceiling(run.records)}


def archive_shaped_inbox(messages: int) -> SyntheticInbox:
    """An inbox with the generated archive's conversations (`archive.rows(messages)`):
    as many, of the same sizes, for an HTTP provider to serve like for like."""
    sizes = archive.conversation_sizes(messages, random.Random(archive.SEED))
    return SyntheticInbox.generate(
        seed=archive.SEED,
        conversations=len(sizes),
        messages=lambda index: sizes[index],
        spacing_ms=ARCHIVE_INBOX_SPACING_MS,
    )


def benchmark_archives(
    workdir: Path, sizes: tuple[int, ...], provider: str | None = None
) -> list[dict[str, Any]]:
    """Each size of generated archive, read by the export and by the DMA snapshot, and
    (where `provider` is given: the fastest HTTP provider of scenario 1) an inbox of the
    same conversations served by that provider's emulator."""
    results = []
    for size in sizes:
        print(f"benchmarking the official archives at {size:,} messages ...", flush=True)
        path = archive.write(workdir / f"export-{size}.zip", size)
        conversations = archive.conversations_in(size)
        times = TIMED_RUNS if size <= 100_000 else 1  # a million messages take minutes
        settings = {"provider": "linkedin_export", "export_path": str(path)}
        export = fastest(partial(run_tap, None, workdir, settings=settings), times)
        # The same read without the forked child: what the child gains.
        alone = fastest(partial(run_tap, None, workdir, settings=settings, tap=NO_CHILD_TAP), times)
        # The same archive again, with the state the read left: nothing to emit.
        unchanged = run_tap(None, workdir, state=export.state, settings=settings)
        server = ArchiveSnapshotServer(path).start()
        try:
            snapshot = fastest(partial(run_tap, server, workdir), times)
        finally:
            server.stop()
        path.unlink()
        row = {
            "messages": size,
            "conversations": conversations,
            "linkedin_export": export,
            "without a child": alone,
            "linkedin_dma": snapshot,
            "unchanged": unchanged,
        }
        if provider is not None:
            emulator = emulator_class(provider)(archive_shaped_inbox(size)).start()
            try:
                row[provider] = fastest(partial(run_tap, emulator, workdir, page_size=100), times)
            finally:
                emulator.stop()
            gc.collect()
        results.append(row)
    return results


def render_archives(
    archives: list[dict[str, Any]],
    results: list[dict[str, Any]],
    export_of_inbox: dict[str, Any] | None = None,
) -> list[str]:
    fastest = max(results, key=lambda r: r["full"].records / r["full"].seconds)
    fastest_rate = fastest["full"].records / fastest["full"].seconds
    lines = [
        "",
        "## 5. LinkedIn's official archives: the data export and the portability snapshot",
        "",
        "A generated archive (`benchmarks/archive.py`: rows in random conversation order, "
        "some multi-line texts, conversation sizes skewed as a heavy user's are: most of "
        f"1-20 messages, a few long ones, {archive.MEAN_MESSAGES} on average) read by "
        "`linkedin_export` from its ZIP, and served page by page (100 rows) as the "
        "`linkedin_dma` INBOX snapshot. Records are messages and conversations; temporary "
        "disk is what the read's temporary files used (the "
        "tables that find the member, the message index), summed. Peak RSS is the tap's "
        "plus that of the child it forks for part of the read (`child_process.py`), "
        "the pages they share counted twice: an upper bound.",
        "",
        "| source | messages | conversations | records | seconds | records/s | peak RSS MB "
        "| temporary disk MB | state KB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    provider = fastest["provider"]
    like_for_like = f"{provider}: the same conversations"
    for source in ("linkedin_export", "linkedin_dma", provider):
        for row in archives:
            if source not in row:
                continue
            run = row[source]
            label = like_for_like if source == provider else source
            disk = f"{run.disk_mb:,.0f}" if source != provider else "-"
            lines.append(
                f"| {label} | {row['messages']:,} | {row['conversations']:,} | "
                f"{run.records:,} | {run.seconds:.1f} | "
                f"{run.records / run.seconds:,.0f} | {run.peak_rss_mb:.0f} | {disk} | "
                f"{state_kb(run):,.1f} |"
            )
    lines += [
        "",
        "State KB is the size of the last STATE message's value: for the official archives, "
        "one entry per conversation read (`emitted.py`, 22 bytes in base64), which tells a "
        "later archive's new messages from those emitted. The same archive read again with "
        "that state (`linkedin_export`, unchanged):",
        "",
    ]
    for row in archives:
        again = row["unchanged"]
        lines.append(
            f"- {row['messages']:,} messages, {row['conversations']:,} conversations: "
            f"{again.records:,} records in {again.seconds:.1f} s, peak RSS "
            f"{again.peak_rss_mb:.0f} MB, state {state_kb(again):,.1f} KB."
        )
    lines.append("")
    if all(provider in row for row in archives):
        lines += [
            f"The last rows are the fastest HTTP provider of scenario 1 (`{provider}`, "
            "its emulator, pages of 100) serving an inbox of the same conversations as "
            "each archive (as many, of the same sizes: `archive_shaped_inbox`): the "
            "like-for-like comparison, since what costs a read most beside its messages is "
            "its conversations (the SDK syncs each one's messages on its own).",
            "",
        ]
        for row in archives:
            export, http = row["linkedin_export"], row[provider]
            lines.append(
                f"- {row['messages']:,} messages: `linkedin_export` "
                f"{export.records / export.seconds:,.0f} records/s, `{provider}` "
                f"{http.records / http.seconds:,.0f}: "
                f"{(export.records / export.seconds) / (http.records / http.seconds):.2f}x."
            )
        lines.append("")
    lines += [
        "The forked child (`child_process.py`): the export read as above, and again with the "
        "child switched off (`benchmarks/no_child_tap.py`: every row made into its record, "
        "and the index read back, in the tap's own process, as where it cannot fork):",
        "",
    ]
    for row in archives:
        child, alone = row["linkedin_export"], row["without a child"]
        lines.append(
            f"- {row['messages']:,} messages: {child.seconds:.1f} s with the child, "
            f"{alone.seconds:.1f} s without ({1 - child.seconds / alone.seconds:.0%} less "
            f"time); peak RSS {child.peak_rss_mb:.0f} MB (both processes) against "
            f"{alone.peak_rss_mb:.0f} MB."
        )
    lines.append("")
    for source in ("linkedin_export", "linkedin_dma"):
        small, large = archives[0][source], archives[-1][source]
        lines.append(
            f"- `{source}`: peak RSS at {archives[-1]['messages']:,} messages "
            f"({archives[-1]['conversations']:,} conversations) is "
            f"{large.peak_rss_mb / small.peak_rss_mb:.2f}x the RSS at "
            f"{archives[0]['messages']:,} ({archives[0]['conversations']:,} conversations): "
            f"{large.peak_rss_mb:.0f} MB against {small.peak_rss_mb:.0f} MB."
        )
    ratios = ", ".join(
        f"{row['linkedin_export'].records / row['linkedin_export'].seconds / fastest_rate:.2f}x"
        f" at {row['messages']:,} messages"
        for row in archives
    )
    lines.append(
        f"- `linkedin_export` against the fastest HTTP provider's full sync in this run "
        f"(`{fastest['provider']}`, scenario 1: 1,000 conversations, {fastest_rate:,.0f} "
        f"records/s): {ratios}."
    )
    if export_of_inbox:
        full = export_of_inbox["full"]
        lines.append(
            f"- `linkedin_export` reading scenario 1's own inbox as its archive: "
            f"{full.records / full.seconds:,.0f} records/s, "
            f"{full.records / full.seconds / fastest_rate:.2f}x `{fastest['provider']}`; "
            f"its state (1,000 conversations) {state_kb(full):,.1f} KB."
        )
    return lines


def state_kb(run: Run) -> float:
    """The size of the last STATE message's value, in KB."""
    return len(json.dumps(run.state, separators=(",", ":"))) / 1000


# The peak RSS of importing the tap (MB), with numpy importable or hidden.
IMPORT_RSS = """
import sys
if sys.argv[1] == "hidden":
    class Hide:
        def find_spec(self, name, path, target=None):
            if name == "numpy" or name.startswith("numpy."):
                raise ImportError(name)
    sys.meta_path.insert(0, Hide())
import tap_linkedin_messages.tap
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the process that forked.
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) / 1024)
"""


def numpy_import_mb() -> float | None:
    """What numpy adds to every tap process's peak RSS where it is installed (this
    environment has it, for the analytics report's matplotlib): the SDK imports joblib,
    which imports numpy if it can. None where numpy is not installed."""
    if subprocess.run([sys.executable, "-c", "import numpy"], capture_output=True).returncode:
        return None
    rss = {}
    for mode in ("importable", "hidden"):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_RSS, mode],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        ).stdout
        rss[mode] = float(out)
    return rss["importable"] - rss["hidden"]


def numpy_note(numpy_mb: float | None) -> list[str]:
    """The line that says so, where it applies."""
    if numpy_mb is None:
        return []
    return [
        f"Every peak RSS below includes about {numpy_mb:.0f} MB of numpy: it is installed "
        "here (the analytics report's matplotlib needs it), and the SDK's joblib imports it "
        "wherever it can. A tap installed on its own (`pipx install .`) has none.",
        "",
    ]


def render(
    results: list[dict[str, Any]],
    total: int,
    archives: list[dict[str, Any]] | None = None,
    export_of_inbox: dict[str, Any] | None = None,
    accounts: dict[str, Any] | None = None,
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores. The tap runs as its own process "
        "(the SDK's msgspec writer, as the tap ships) against each provider's emulator on "
        "127.0.0.1; the emulator counts requests and credits (1 per 10 items returned, per "
        f"request, rounded up). Each timed sync (full syncs, the trivial SDK stream, archives "
        f"up to 100,000 messages) is the fastest of {TIMED_RUNS} runs.",
        "",
        *numpy_note(numpy_import_mb()),
        f"## 1. Full sync: 1,000 conversations, {results[0]['messages_total']:,} messages "
        f"(longest conversation: {results[0]['longest']:,})",
        "",
        "| provider | records | seconds | records/s | trivial SDK stream records/s | % of ceiling | peak RSS MB | requests | credits | minimum | credits / minimum |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        full = r["full"]
        rate = full.records / full.seconds
        lines.append(
            f"| {r['provider']} | {full.records:,} | {full.seconds:.1f} | {rate:,.0f} | "
            f"{r['ceiling']:,.0f} | {100 * rate / r['ceiling']:.0f}% | {full.peak_rss_mb:.0f} | "
            f"{full.requests:,} | {full.credits:,} | {r['full_minimum']:,} | "
            f"{full.credits / r['full_minimum']:.2f} |"
        )
    if export_of_inbox:
        full = export_of_inbox["full"]
        rate = full.records / full.seconds
        lines += [
            f"| linkedin_export: this inbox as its archive | {full.records:,} | "
            f"{full.seconds:.1f} | {rate:,.0f} | {export_of_inbox['ceiling']:,.0f} | "
            f"{100 * rate / export_of_inbox['ceiling']:.0f}% | {full.peak_rss_mb:.0f} | "
            "0 | 0 | 0 | - |",
            "",
            "The last row is the same inbox written as the member's data export (`messages.csv` "
            "in a ZIP, rows in random order) and read by `linkedin_export`: the same records, "
            "from a local file.",
        ]
    lines += [
        "",
        "### 1b. The same full sync with each of the SDK's writers",
        "",
        "The trivial SDK stream emits the same number of ready-made records with the same "
        "writer (and, as the tap, no type conformance): the ceiling for that writer.",
        "",
        "| provider | msgspec records/s | % of msgspec ceiling | default writer records/s | % of default ceiling |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        fast = r["full"].records / r["full"].seconds
        slow = r["full_default_writer"].records / r["full_default_writer"].seconds
        lines.append(
            f"| {r['provider']} | {fast:,.0f} | {100 * fast / r['ceiling']:.0f}% | "
            f"{slow:,.0f} | {100 * slow / r['ceiling_default_writer']:.0f}% |"
        )
    lines += [
        "",
        "## 2. Incremental run, nothing changed (minimum: 1 request, 1 credit)",
        "",
        "Unipile makes one more request, never billed: the account's status, which warns "
        "when a disconnected account would serve stale data.",
        "",
        "| provider | requests | credits | records |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in results:
        run = r["unchanged"]
        lines.append(f"| {r['provider']} | {run.requests} | {run.credits} | {run.records} |")
    lines += [
        "",
        "## 3. Incremental run, 50 conversations with 1-30 new messages each",
        "",
        "Minimum: every new item, plus (where the API cannot filter by time) the one older "
        "item per listing that shows where to stop, plus (Unipile) the one attendees listing "
        "per changed conversation that names its senders.",
        "",
        "| provider | new messages | records | requests | credits | minimum | credits / minimum |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        run = r["incremental"]
        lines.append(
            f"| {r['provider']} | {r['incremental_new']} | {run.records} | {run.requests} | "
            f"{run.credits} | {r['incremental_minimum']} | "
            f"{run.credits / r['incremental_minimum']:.2f} |"
        )
    lines += [
        "",
        "## 4. 300 conversations, 100 ms per request: `max_concurrent_requests` 1 vs 4",
        "",
        "| provider | requests | seconds at 1 | seconds at 4 | speed-up | same records, same order |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        serial, parallel = r["serial"], r["parallel"]
        same = serial.messages == parallel.messages and serial.records == parallel.records
        lines.append(
            f"| {r['provider']} | {serial.requests} | {serial.seconds:.1f} | {parallel.seconds:.1f} | "
            f"{serial.seconds / parallel.seconds:.1f}x | {'yes' if same else 'NO'} |"
        )
    lines += [
        "",
        "## Memory: peak RSS of the tap process by inbox size",
        "",
        f"| provider | {total // 10:,} messages MB | {total:,} messages MB | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in results:
        small, full = r["small"].peak_rss_mb, r["full"].peak_rss_mb
        lines.append(f"| {r['provider']} | {small:.0f} | {full:.0f} | {full / small:.2f} |")
    if archives:
        lines += render_archives(archives, results, export_of_inbox)
    if accounts:
        lines += render_accounts(accounts)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--providers", nargs="*", default=sorted(EMULATORS))
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    parser.add_argument("--archive-sizes", type=int, nargs="*", default=list(ARCHIVE_SIZES))
    args = parser.parse_args()
    # This process holds the synthetic inboxes (millions of objects) and serves them;
    # the cyclic garbage collector's full scans would stall the emulator mid-run and be
    # billed to the tap. Nothing here makes reference cycles worth collecting.
    gc.disable()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for provider in args.providers:
            print(f"benchmarking {provider} ...", flush=True)
            gc.collect()  # the previous provider's inboxes and emulators, between runs
            results.append(benchmark(provider, Path(workdir), args.messages))
        gc.collect()
        print("benchmarking linkedin_export on the same inbox ...", flush=True)
        export_of_inbox = benchmark_export_of_inbox(Path(workdir), args.messages)
        quickest = max(results, key=lambda r: r["full"].records / r["full"].seconds)
        archives = benchmark_archives(
            Path(workdir), tuple(args.archive_sizes), quickest["provider"]
        )
        gc.collect()
        print("benchmarking 500 accounts in one run ...", flush=True)
        accounts = benchmark_accounts(Path(workdir), run_tap)
    report = render(results, args.messages, archives, export_of_inbox, accounts)
    args.output.write_text(report)
    copy_into_docs(report)
    print(report)


def copy_into_docs(report: str) -> None:
    """docs/benchmarks.md ("Cost and performance") shows the same tables."""
    page = REPO / "docs" / "benchmarks.md"
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    head, rest = page.read_text().split(start, 1)
    _, tail = rest.split(end, 1)
    body = report.split("\n", 2)[2]  # below the page's own title
    page.write_text(f"{head}{start}\n{body.strip()}\n{end}{tail}")


if __name__ == "__main__":
    main()
