"""The modules of optsolve.bcd import each other without a cycle (one home per concept)."""

import ast
from pathlib import Path

import optsolve.bcd

PACKAGE = Path(optsolve.bcd.__file__).parent


def _imports(path: Path) -> set[str]:
    """The sibling modules ``path`` imports at module level (relative imports only)."""
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(alias.name for alias in node.names)
    return out


def test_no_import_cycle_between_the_modules():
    graph = {p.stem: _imports(p) & {q.stem for q in PACKAGE.glob("*.py")}
             for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import cycle: {' -> '.join([*trail, node])}"
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*trail, node])
        state[node] = "done"

    for node in sorted(graph):
        visit(node, [])
