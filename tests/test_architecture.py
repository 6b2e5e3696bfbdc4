"""The shape of the code, held: provider knowledge stays in `providers/`, the streams
know no provider and no way of reading one, and the SDK is customised only through its
public hooks: nothing of its private modules or `_`-names is used."""

from __future__ import annotations

import ast
from pathlib import Path

from tap_linkedin_messages.providers import PROVIDERS
from tap_linkedin_messages.providers.error_rules import ErrorRule

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
    for module in ("streams.py", "client.py", "walker.py"):
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
    from tap_linkedin_messages.providers.error_rules import ErrorRule
    from tap_linkedin_messages.providers.pages import PageShape

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


def sdk_private_names() -> set[str]:
    """What the SDK keeps to itself: `_`-names of the classes the tap builds on."""
    from singer_sdk import RESTStream, Tap
    from singer_sdk.pagination import BaseAPIPaginator

    return {
        name
        for cls in (RESTStream, Tap, BaseAPIPaginator)
        for name in dir(cls)
        if name.startswith("_") and not name.startswith("__")
    }


def private_sdk_objects() -> set[str]:
    """Public attributes of the SDK's classes whose values are defined in its private
    modules (`Stream.state_manager` is a `singer_sdk.streams._state.StreamStateManager`)."""
    import inspect

    from singer_sdk import RESTStream

    found = set()
    for name, member in inspect.getmembers(RESTStream):
        annotation = getattr(getattr(member, "fget", None), "__annotations__", {}).get("return")
        if not name.startswith("_") and isinstance(annotation, str):
            annotated = inspect.get_annotations(member.fget, eval_str=False)["return"]
            module = getattr(inspect.getmodule(member.fget), "__dict__", {}).get(annotated)
            if module is not None and "._" in getattr(module, "__module__", ""):
                found.add(name)
    return found


def test_no_private_sdk_name_is_imported_used_or_overridden() -> None:
    """No import from an SDK module whose path has a `_` part (`singer_sdk.helpers._state`),
    no `_`-attribute the package does not define itself, and none of the SDK's own
    `_`-names used or overridden: found by walking the code, not from a list."""
    every = sorted(PACKAGE.rglob("*.py"))
    trees = {path: ast.parse(path.read_text()) for path in every}
    ours: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                ours.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                ours.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                ours.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                ours.add(node.target.id)
    sdk_private = sdk_private_names()
    private_objects = private_sdk_objects()
    assert private_objects, "the SDK's state manager is found (the search itself works)"
    for path, tree in trees.items():
        # Modules imported whole from elsewhere (`os._exit` is the standard library's).
        other_modules = {
            (alias.asname or alias.name).split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if not alias.name.startswith("singer_sdk")
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
                parts = (node.module or "").split(".")
                assert not any(p.startswith("_") for p in parts), (
                    f"{path.name} imports from the SDK's private {node.module}"
                )
                names = {alias.name for alias in node.names}
                assert not {n for n in names if n.startswith("_")}, f"{path.name}: {names}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    private = any(p.startswith("_") for p in alias.name.split("."))
                    assert not (alias.name.startswith("singer_sdk") and private), alias.name
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.name not in sdk_private, f"{path.name} overrides the SDK's {node.name}"
            if isinstance(node, ast.Attribute):
                name = node.attr
                assert name not in private_objects, f"{path.name} uses the SDK's private {name}"
                on_other_module = (
                    isinstance(node.value, ast.Name) and node.value.id in other_modules
                )
                if name.startswith("_") and not name.startswith("__") and not on_other_module:
                    assert name in ours, f"{path.name} uses {name}, which it does not define"
                    assert name not in sdk_private, f"{path.name} uses the SDK's {name}"


def covers(earlier: ErrorRule, later: ErrorRule) -> bool:
    """Whether every failure `later` matches is matched by `earlier` too (as far as their
    conditions tell: two different text patterns are taken not to cover each other)."""

    def within(wide: object, narrow: object) -> bool:
        return wide is None or (narrow is not None and set(narrow) <= set(wide))  # type: ignore[call-overload]

    return (
        within(earlier.status, later.status)
        and earlier.route in (None, later.route)
        and earlier.first_page in (None, later.first_page)
        and earlier.decoded in (None, later.decoded)
        and (
            earlier.text is None
            or (later.text is not None and earlier.text.pattern == later.text.pattern)
        )
    )


def test_no_error_rule_is_shadowed_by_an_earlier_one() -> None:
    """Every row of a provider's table can decide something: none is covered by an earlier
    row of the table, nor by the rows every provider reads first (retries and gone
    conversations), unless it only says what to check for the same outcome (`decide`)."""
    from tap_linkedin_messages.providers import HttpSource
    from tap_linkedin_messages.providers.error_rules import FIRST_RULES, LAST_RULES

    for index, later in enumerate(FIRST_RULES):
        for earlier in FIRST_RULES[:index]:
            assert not covers(earlier, later), f"{later} is shadowed by {earlier}"
    for adapter in PROVIDERS.values():
        if not issubclass(adapter, HttpSource):
            continue
        table = (*adapter.errors, *LAST_RULES)
        for index, later in enumerate(table):
            for earlier in FIRST_RULES:
                assert not covers(earlier, later) or earlier.outcome is later.outcome, (
                    f"{adapter.name}: {later} can never decide ({earlier} comes first)"
                )
            for earlier in table[:index]:
                assert not covers(earlier, later), (
                    f"{adapter.name}: {later} is shadowed by {earlier}"
                )


def test_a_shadowed_rule_is_found() -> None:
    """The check above finds what it looks for: a restated retry, a catch-all too early."""
    from tap_linkedin_messages.providers.error_rules import FIRST_RULES, Outcome, rule

    assert covers(FIRST_RULES[2], rule(Outcome.FAIL, "x", status={429}))
    assert covers(
        rule(Outcome.FAIL, "any 401", status={401}),
        rule(Outcome.FAIL, "y", status={401}, text="key"),
    )
    assert not covers(rule(Outcome.FAIL, "x", text="a"), rule(Outcome.FAIL, "y", text="b"))
    assert not covers(
        rule(Outcome.FAIL, "x", status={401}, text="key"), rule(Outcome.FAIL, "y", status={401})
    )


def test_every_module_of_the_package_is_a_room_a_reader_holds_in_their_head() -> None:
    """No module over 400 lines: a module that grows past it is split by what it does
    (its SQL beside it, as message_index_sql.py; its pure functions where they belong)."""
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert len(sizes) > 20
    assert {name: lines for name, lines in sizes.items() if lines > 400} == {}


def imports_between_modules() -> dict[str, set[str]]:
    """Which of the package's modules each imports, `TYPE_CHECKING` imports included (a
    `from package import name` counts for the package unless the name is a module)."""
    modules = {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        ): path
        for path in PACKAGE.rglob("*.py")
    }
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in modules:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names}
                graph[name] |= submodules & set(modules)
                if not submodules <= set(modules):
                    graph[name].add(node.module)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every path from a module back to itself, found by a walk from each module."""
    found = []
    for start in sorted(graph):
        paths = [[start]]
        while paths:
            path = paths.pop()
            for following in sorted(graph[path[-1]]):
                if following == start:
                    found.append(path)
                elif following not in path and following > start:
                    paths.append([*path, following])
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    """Following a read goes one way: tap → streams → client → walker; strategies know a
    stream only by what they ask of it (`ReadsFor`), not by importing it."""
    graph = imports_between_modules()
    assert "tap_linkedin_messages.walker" in graph["tap_linkedin_messages.client"]
    assert circles(graph) == []


def test_a_circle_of_imports_is_found() -> None:
    """The check above finds what it looks for, type-only imports included."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
