"""The code's rooms import one another in one direction only, checked at the package level.

``knowledge`` is the domain: ``lang`` (text and time) ← ``store`` (the base) ← ``search``
(matching) ← ``answers`` (the ``Answer``) ← ``parents`` (profiles and the digest); ``staff`` and
``importers`` write over ``store``, ``lang`` and ``search``. Nothing in ``knowledge`` imports
Flask, LINE's or Slack's SDKs, or the channels; channels (``handlers``) never import ``bot``.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# What each package of knowledge may import, besides itself.
ALLOWED = {
    "lang": set(),
    "store": {"lang"},
    "search": {"lang", "store"},
    "answers": {"lang", "store", "search"},
    "parents": {"lang", "store", "search", "answers"},
    "staff": {"lang", "store", "search"},
    "importers": {"lang", "store", "search"},
}
CHANNEL_LIBRARIES = ("flask", "linebot", "slack_bolt", "slack_sdk", "handlers", "bot", "werkzeug")


def _imported(path: pathlib.Path) -> set[str]:
    """Every absolute module a file imports, deferred imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}
    return found


def _package_of(module: str) -> str | None:
    """The knowledge package a module name lies in (``knowledge.search.index`` → ``search``)."""
    parts = module.split(".")
    if parts[0] != "knowledge" or len(parts) < 2 or parts[1] not in ALLOWED:
        return None
    return parts[1]


def _files(package: str) -> list[pathlib.Path]:
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_knowledge_package_imports_only_the_layers_below_it(package):
    for path in _files(f"knowledge.{package}"):
        reached = {_package_of(m) for m in _imported(path)} - {None, package}
        assert reached <= ALLOWED[package], f"{path.relative_to(ROOT)} imports {reached - ALLOWED[package]}"


# Beside the packages: the package's face (``ask``, ``open_db``) and the deploy's settings, which
# the edge makes and passes down (``lang``'s clock, ``store``'s declined-questions policy,
# ``search``'s meaning stage).
TOP_LEVEL = {"__init__.py": None, "settings.py": {"lang", "store", "search"}}


def test_every_knowledge_module_sits_in_a_package():
    loose = [p.name for p in (ROOT / "knowledge").glob("*.py") if p.name not in TOP_LEVEL]
    assert loose == []


def test_the_settings_sit_beneath_search_and_import_only_what_they_hold():
    reached = {_package_of(m) for m in _imported(ROOT / "knowledge" / "settings.py")} - {None}
    assert reached <= TOP_LEVEL["settings.py"]
    for package in TOP_LEVEL["settings.py"]:
        for path in _files(f"knowledge.{package}"):
            assert "knowledge.settings" not in _imported(path), f"{path.relative_to(ROOT)} imports the settings"


def test_the_domain_knows_no_channel():
    for path in _files("knowledge"):
        for module in _imported(path):
            assert module.split(".")[0] not in CHANNEL_LIBRARIES, f"{path.relative_to(ROOT)} imports {module}"


def test_channels_never_import_the_wiring():
    for path in _files("handlers"):
        for module in _imported(path):
            assert module.split(".")[0] != "bot", f"{path.relative_to(ROOT)} imports {module}"


def test_the_layers_have_no_cycle_between_modules():
    """No two modules of the code import each other, directly or round a longer circle."""
    graph: dict[str, set[str]] = {}
    for top in ("knowledge", "handlers", "bot"):
        for path in _files(top):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            graph[name] = set()
    for name in graph:
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / name.replace(".", "/") / "__init__.py"
        graph[name] = {m for m in _imported(path) if m in graph and m != name}
    # depth-first search for an edge back into the trail
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if node.startswith(nxt + "."):
                continue  # a module naming its own package (importing a sibling through it)
            if state.get(nxt) == 1:
                raise AssertionError(
                    " -> ".join([*trail[trail.index(nxt) :], nxt]) if nxt in trail else f"{node} -> {nxt}"
                )
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
