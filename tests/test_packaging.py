"""The built wheel carries the schemas: a non-editable install into a fresh venv discovers."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_a_wheel_installed_in_a_fresh_venv_runs_discover(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO)],
        check=True,
    )
    (wheel,) = dist.glob("tap_linkedin_messages-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tap_linkedin_messages/schemas/conversations.json" in names
    assert "tap_linkedin_messages/schemas/messages.json" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)

    # Run from an unrelated directory so nothing can be imported from the checkout.
    discovered = subprocess.run(
        [str(env_dir / "bin" / "tap-linkedin-messages"), "--discover"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    catalog = json.loads(discovered.stdout)
    streams = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert set(streams) == {"conversations", "messages"}
    schema_on_disk = json.loads((REPO / "schemas" / "messages.json").read_text())
    assert streams["messages"]["schema"]["properties"].keys() == schema_on_disk["properties"].keys()
    assert streams["conversations"]["key_properties"] == ["account_id", "conversation_id"]
    assert streams["messages"]["replication_key"] == "sent_at"
