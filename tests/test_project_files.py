"""The settings are declared once (tap.py); meltano.yml and the README must not drift."""

from __future__ import annotations

import yaml

from scripts.sync_settings_docs import about_table, meltano_settings
from tests.conftest import REPO


def test_meltano_yml_defines_the_extractor_fully() -> None:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    (extractor,) = project["plugins"]["extractors"]
    assert extractor["namespace"] == "tap_linkedin_messages"
    assert extractor["pip_url"] == "-e ."
    assert extractor["executable"] == "tap-linkedin-messages"
    assert {"state", "catalog", "discover", "about", "stream-maps", "schema-flattening"} <= set(
        extractor["capabilities"]
    )
    assert extractor["settings"] == meltano_settings(), "meltano.yml is stale: run `make docs`"
    secrets = {s["name"] for s in extractor["settings"] if s["kind"] == "password"}
    assert secrets == {"api_key", "login_token"}
    assert all(s.get("sensitive") for s in extractor["settings"] if s["name"] in secrets)
    loaders = {loader["name"]: loader for loader in project["plugins"]["loaders"]}
    assert loaders["target-jsonl"]["pip_url"] == "target-jsonl"


def test_readme_settings_table_is_the_about_output() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [line for line in about_table().splitlines() if line not in readme]
    assert not missing, "README settings table is stale: run `make docs`"
