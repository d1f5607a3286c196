"""The knowledge layer's modules import one another in one direction only."""

import ast
import pathlib

KNOWLEDGE = pathlib.Path(__file__).resolve().parents[1] / "knowledge"
LAYER = ["weights", "index", "query", "scoring", "render", "answer"]  # each may import only those before it


def _imports(module: str) -> set[str]:
    """Modules of the knowledge package that ``module`` imports anywhere, deferred imports included."""
    tree = ast.parse((KNOWLEDGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "knowledge":
                found |= {a.name for a in node.names}
            elif node.module.startswith("knowledge."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("knowledge.")}
    return found


def test_the_matcher_and_the_reply_import_each_other_in_one_direction():
    for i, module in enumerate(LAYER):
        later = set(LAYER[i + 1:])
        assert not _imports(module) & later, f"{module} imports {_imports(module) & later}"
