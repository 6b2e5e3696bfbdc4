"""Write the settings declared in `tap.py` into the README table and `meltano.yml`.

`make docs` runs this. The settings are declared once (`config_jsonschema`); the README
table is `tap-linkedin-messages --about --format=markdown`, and the `tap-linkedin-messages`
extractor in `meltano.yml` gets one entry per setting (label, kind, description; secrets
`kind: password`). Extractors that inherit from it and the loaders are left as they are.
A test fails when either file has drifted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
EXTRACTOR = "tap-linkedin-messages"
KINDS = {"string": "string", "integer": "integer", "number": "integer", "array": "array"}


def meltano_settings() -> list[dict[str, Any]]:
    """One `meltano.yml` setting entry per tap setting (the SDK's built-ins left out)."""
    from tap_linkedin_messages.tap import TapLinkedInMessages

    builtin: dict[str, Any] = {"properties": {}}
    TapLinkedInMessages.append_builtin_config(builtin)
    entries = []
    for name, schema in TapLinkedInMessages.config_jsonschema["properties"].items():
        if name in builtin["properties"]:
            continue
        entry: dict[str, Any] = {"name": name, "label": schema["title"]}
        json_type = schema["type"] if isinstance(schema["type"], str) else schema["type"][0]
        if schema.get("secret"):
            entry |= {"kind": "password", "sensitive": True}
        elif "enum" in schema:
            entry |= {
                "kind": "options",
                "options": [{"label": v, "value": v} for v in schema["enum"]],
            }
        elif schema.get("format") == "date-time":
            entry["kind"] = "date_iso8601"
        else:
            entry["kind"] = KINDS[json_type]
        entry["description"] = schema["description"]
        entries.append(entry)
    return entries


def the_extractor(project: dict[str, Any]) -> dict[str, Any]:
    """The `tap-linkedin-messages` extractor of a loaded `meltano.yml`.

    Other extractors (e.g. `tap-linkedin-messages--private`) `inherit_from` it and take
    its settings; they are left as they are.
    """
    (extractor,) = (
        plugin for plugin in project["plugins"]["extractors"] if plugin["name"] == EXTRACTOR
    )
    return extractor


def about_table() -> str:
    about = subprocess.run(
        [
            str(Path(sys.executable).parent / "tap-linkedin-messages"),
            "--about",
            "--format=markdown",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(line for line in about.splitlines() if line.startswith("|"))


def main() -> None:
    readme = REPO / "README.md"
    head, rest = readme.read_text().split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{about_table()}\n{END}{tail}")

    meltano_yml = REPO / "meltano.yml"
    project = yaml.safe_load(meltano_yml.read_text())
    extractor = the_extractor(project)
    extractor["settings"] = meltano_settings()
    meltano_yml.write_text(yaml.safe_dump(project, sort_keys=False, width=90, allow_unicode=True))


if __name__ == "__main__":
    main()
