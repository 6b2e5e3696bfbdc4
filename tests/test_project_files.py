"""The settings are declared once (tap.py); meltano.yml and the README must not drift."""

from __future__ import annotations

import json
import re

import yaml

from scripts.sync_settings_docs import about_table, meltano_settings, the_extractor
from tap_linkedin_messages.tap import TapLinkedInMessages
from tests.conftest import REPO
from tests.test_postgres_e2e import docs_sql

# The loader's metadata columns (`add_record_metadata`, on by default).
SDC_COLUMNS = {
    "_sdc_extracted_at",
    "_sdc_received_at",
    "_sdc_batched_at",
    "_sdc_deleted_at",
    "_sdc_sequence",
    "_sdc_table_version",
    "_sdc_sync_started_at",
}


def test_meltano_yml_defines_the_extractor_fully() -> None:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    extractor = the_extractor(project)
    assert extractor["namespace"] == "tap_linkedin_messages"
    assert extractor["pip_url"] == "-e ."
    assert extractor["executable"] == "tap-linkedin-messages"
    assert {"state", "catalog", "discover", "about", "stream-maps", "schema-flattening"} <= set(
        extractor["capabilities"]
    )
    assert extractor["settings"] == meltano_settings(), "meltano.yml is stale: run `make docs`"
    # Every setting tap.py marks secret is a sensitive password setting, and only those.
    declared = TapLinkedInMessages.config_jsonschema["properties"]
    declared_secrets = {name for name, schema in declared.items() if schema.get("secret")}
    assert {"api_key", "login_token"} <= declared_secrets
    secrets = {s["name"] for s in extractor["settings"] if s["kind"] == "password"}
    assert secrets == declared_secrets
    assert all(s.get("sensitive") for s in extractor["settings"] if s["name"] in secrets)


def test_meltano_yml_privacy_extractor_uses_sdk_stream_maps_only() -> None:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    extractors = {plugin["name"]: plugin for plugin in project["plugins"]["extractors"]}
    private = extractors["tap-linkedin-messages--private"]
    assert private["inherit_from"] == "tap-linkedin-messages"
    # Everything else (pip_url, settings, capabilities) comes from the parent.
    assert set(private) == {"name", "inherit_from", "config"}
    assert set(private["config"]) == {"stream_maps"}
    assert private["config"]["stream_maps"]["messages"] == {"text": "md5(text) if text else None"}


def test_meltano_yml_defines_the_loaders_fully() -> None:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    loaders = {loader["name"]: loader for loader in project["plugins"]["loaders"]}
    assert loaders["target-jsonl"]["pip_url"] == "target-jsonl"
    postgres = loaders["target-postgres"]
    assert postgres["namespace"] == "target_postgres"
    assert postgres["pip_url"] == "meltanolabs-target-postgres"
    assert postgres["executable"] == "target-postgres"
    settings = {s["name"]: s for s in postgres["settings"]}
    assert {"host", "port", "user", "password", "database", "default_target_schema"} <= set(
        settings
    )
    assert all({"label", "kind", "description"} <= set(s) for s in settings.values())
    secrets = {name for name, s in settings.items() if s["kind"] == "password"}
    assert secrets == {"password"}
    assert settings["password"]["sensitive"] is True
    # Merge on the primary key: a message read twice is stored once.
    assert postgres["config"]["load_method"] == "upsert"
    duckdb = loaders["target-duckdb"]
    assert (duckdb["namespace"], duckdb["executable"]) == ("target_duckdb", "target-duckdb")
    # target-duckdb 0.8.0 drops the first row of every batch with duckdb 1.3 or newer.
    assert duckdb["pip_url"].split() == ["target-duckdb==0.8.0", "duckdb>=1.1,<1.3"]
    assert duckdb["config"]["default_target_schema"] == "linkedin"


def test_meltano_yml_defines_the_dbt_transformers_fully() -> None:
    """`meltano install` installs them offline from the Hub's point of view: namespace,
    pip_url, executable and settings are all here; dbt-postgres is dbt-duckdb with its
    target switched, and dbt reads the same DuckDB version the loader writes with."""
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    transformers = {plugin["name"]: plugin for plugin in project["plugins"]["transformers"]}
    dbt = transformers["dbt-duckdb"]
    assert (dbt["namespace"], dbt["executable"]) == ("dbt_duckdb", "dbt")
    assert "duckdb>=1.1,<1.3" in dbt["pip_url"].split()
    assert {"dbt-duckdb~=1.10.0", "dbt-postgres~=1.10.0"} <= set(dbt["pip_url"].split())
    settings = {s["name"]: s for s in dbt["settings"]}
    assert all({"label", "kind", "description", "env"} <= set(s) for s in settings.values())
    assert settings["project_dir"]["value"] == "$MELTANO_PROJECT_ROOT/transform"
    # DBT_ENV_SECRET_*: dbt keeps the value out of its logs and artifacts.
    assert settings["password"]["env"].startswith("DBT_ENV_SECRET_")
    assert settings["password"]["sensitive"] is True
    profile = yaml.safe_load((REPO / "transform" / "profiles" / "profiles.yml").read_text())
    outputs = profile["linkedin_messages"]["outputs"]
    assert settings["password"]["env"] in outputs["postgres"]["password"]
    assert settings["path"]["env"] in outputs["duckdb"]["path"]
    assert {"build", "run", "test", "compile"} <= set(dbt["commands"])
    postgres = transformers["dbt-postgres"]
    assert postgres == {
        "name": "dbt-postgres",
        "inherit_from": "dbt-duckdb",
        "config": {"target": "postgres"},
    }


def test_readme_settings_table_is_the_about_output() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [line for line in about_table().splitlines() if line not in readme]
    assert not missing, "README settings table is stale: run `make docs`"


def test_readme_warehouse_tables_have_a_column_for_every_stream_property() -> None:
    """The DDL of docs/warehouse.md must create every column the loader writes: otherwise the loader
    adds the missing ones itself, with date-times as `timestamp without time zone`, and
    jobs that start together race to alter the tables (tests/test_postgres_e2e.py)."""
    ddl = docs_sql("Tables")
    tables = dict(re.findall(r"CREATE TABLE IF NOT EXISTS linkedin\.(\w+) \((.*?)\n\)", ddl, re.S))
    assert set(tables) == {"conversations", "messages"}
    for table, body in tables.items():
        columns = dict(
            line.strip().rstrip(",").split(None, 1)
            for line in body.strip().splitlines()
            if not line.strip().startswith("PRIMARY KEY")
        )
        properties = json.loads((REPO / "schemas" / f"{table}.json").read_text())["properties"]
        assert set(columns) == set(properties) | SDC_COLUMNS, (
            f"docs/warehouse.md DDL of {table} is out of date with schemas/{table}.json"
        )
        for name, schema in properties.items():
            if schema.get("format") == "date-time":
                assert columns[name].startswith("timestamptz"), f"{table}.{name}"


def test_every_relative_link_in_the_readme_and_docs_leads_somewhere() -> None:
    """The README points to docs/ and docs/ to each other and to the code: no link
    (file or #section) is left dangling by a page that moved."""
    pages = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.MULTILINE)
                slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
                if anchor not in slugs:
                    broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, broken
