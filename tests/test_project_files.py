"""The settings are declared once (tap.py); meltano.yml and the README must not drift."""

from __future__ import annotations

import subprocess

import yaml

from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.conftest import REPO, TAP_EXECUTABLE


def tap_settings() -> dict[str, dict]:
    """The tap's own settings, without the SDK's built-in ones (stream maps, flattening...)."""
    builtin: dict = {"properties": {}}
    TapLinkedInMessages.append_builtin_config(builtin)
    return {
        name: schema
        for name, schema in TapLinkedInMessages.config_jsonschema["properties"].items()
        if name not in builtin["properties"]
    }


def test_meltano_yml_lists_every_setting_and_marks_every_secret() -> None:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    (extractor,) = project["plugins"]["extractors"]
    assert extractor["pip_url"] == "-e ."
    assert extractor["executable"] == "tap-linkedin-messages"
    assert {"state", "catalog", "discover", "about", "stream-maps", "schema-flattening"} <= set(
        extractor["capabilities"]
    )
    declared = {setting["name"]: setting for setting in extractor["settings"]}
    assert list(declared) == list(tap_settings())
    for name, schema in tap_settings().items():
        assert declared[name]["description"] == schema["description"], name
        assert declared[name].get("label"), name
        if schema.get("secret"):
            assert declared[name]["kind"] == "password", name
            assert declared[name]["sensitive"] is True, name
        else:
            assert declared[name]["kind"] != "password", name
    assert [o["value"] for o in declared["provider"]["options"]] == (
        tap_settings()["provider"]["enum"]
    )


def test_readme_settings_table_is_the_about_output() -> None:
    about = subprocess.run(
        [str(TAP_EXECUTABLE), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = [line for line in about.splitlines() if line.startswith("|")]
    readme = (REPO / "README.md").read_text()
    missing = [line for line in table if line not in readme]
    assert not missing, "README settings table is stale: run `make docs`"
