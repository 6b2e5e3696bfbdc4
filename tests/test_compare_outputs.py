"""`scripts/compare_outputs.py` (`make compare`): the tap at a git revision against a tree.

Both tests set the tree against HEAD's own tap, exported as the script exports BASE, rather
than this checkout's (work in progress may rightly change the output): once as committed,
once with one field of the message records altered.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.compare_outputs import ROOT, export

SCRIPT = ROOT / "scripts" / "compare_outputs.py"
CHANGED = r'record #\d+ \(messages\) differs at \.record\.text: ".+" at BASE, "changed" in the tree'


def has_head() -> bool:
    if shutil.which("git") is None:
        return False
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "-q", "--verify", "HEAD"], capture_output=True
    )
    return found.returncode == 0


pytestmark = pytest.mark.skipif(not has_head(), reason="needs a git checkout with a commit")


@pytest.fixture(scope="module")
def head_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export("HEAD", tmp_path_factory.mktemp("head"))


def compare_with(tree: Path) -> subprocess.CompletedProcess[str]:
    """The script against `tree` for one provider and a small inbox."""
    args = ["HEAD", "--providers", "linkup", "--conversations", "7", "--tree", str(tree)]
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def said(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """What the script printed of each run: {"linkup full": "181 records, identical", ...}."""
    lines = (line.partition(": ") for line in done.stdout.splitlines())
    return {run: text for run, _, text in lines if run.startswith("linkup ")}


def test_the_same_tap_writes_the_same_output(head_tree: Path) -> None:
    done = compare_with(head_tree)

    assert done.returncode == 0, done.stdout + done.stderr
    assert said(done).keys() == {"linkup full", "linkup incremental"}
    for text in said(done).values():
        assert re.fullmatch(r"\d+ records, identical", text)


def test_a_changed_record_field_is_the_difference_reported(head_tree: Path, tmp_path: Path) -> None:
    altered = shutil.copytree(head_tree, tmp_path / "altered", symlinks=True)
    adapter = altered / "tap_linkedin_messages" / "providers" / "linkup.py"
    source = adapter.read_text()
    assert source.count('text=item.get("text"),') == 1, "the test's change no longer applies"
    adapter.write_text(source.replace('text=item.get("text"),', 'text="changed",'))

    done = compare_with(altered)

    assert done.returncode == 1, done.stdout + done.stderr
    assert said(done).keys() == {"linkup full", "linkup incremental"}
    for text in said(done).values():
        assert re.fullmatch(CHANGED, text), text
