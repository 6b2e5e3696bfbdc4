"""The shape of the code, held: provider knowledge stays in `providers/`, the streams
know no provider and no way of reading one, and the SDK is customised only through its
public hooks (the one private call pinned by a behaviour test)."""

from __future__ import annotations

import ast
from pathlib import Path

from tap_linkedin_messages.providers import PROVIDERS

PACKAGE = Path(__file__).resolve().parent.parent / "tap_linkedin_messages"
OUTSIDE_PROVIDERS = sorted(p for p in PACKAGE.glob("*.py"))


def string_constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
        node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
    }


def test_no_provider_is_named_outside_providers() -> None:
    for path in OUTSIDE_PROVIDERS:
        named = string_constants(path) & set(PROVIDERS)
        assert not named, f"{path.name} names {named}: that belongs in providers/"


def test_the_streams_know_neither_kind_of_source() -> None:
    for module in ("streams.py", "client.py"):
        used = names_used(PACKAGE / module)
        for kind in ("ConversationApi", "MessageListing", "HttpSource", "lists_messages"):
            assert kind not in used, f"{module} branches on the kind of source ({kind})"


def test_only_public_sdk_hooks_are_overridden() -> None:
    private = {"_request", "_sync_records", "_write_state_message", "_finalize_state"}
    internal = {"finalize_state_progress_markers", "sync", "sync_all"}
    for path in OUTSIDE_PROVIDERS:
        tree = ast.parse(path.read_text())
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert not defined & (private | internal), f"{path.name} overrides {defined & private}"
        assert "_tap" not in names_used(path), f"{path.name} reaches into the SDK's `_tap`"


def test_every_adapter_states_its_pages_and_errors_as_data() -> None:
    from tap_linkedin_messages.providers import ConversationApi, HttpSource
    from tap_linkedin_messages.providers.base import ErrorRule, PageShape

    for adapter in PROVIDERS.values():
        assert adapter.title
        assert adapter.required_settings
        if issubclass(adapter, ConversationApi):
            assert isinstance(adapter.inbox_shape, PageShape)
            assert isinstance(adapter.conversation_shape, PageShape)
        if issubclass(adapter, HttpSource):
            assert all(isinstance(rule, ErrorRule) for rule in adapter.errors)
            # One way to decide what an answer means: no adapter overrides it.
            assert "decide" not in vars(adapter)
            assert "check" not in vars(adapter)
