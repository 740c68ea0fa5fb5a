"""The modules of optsolve.bcd import each other without a cycle (one home per concept)."""

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import optsolve.bcd
from optsolve.bcd import minimize_bcd, minimize_forest_bcd, solver

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


# --------------------------------------------------------------- one engine table


def _problem_for(update):
    """A small problem each update accepts: message passing and 'exact' need least squares
    (message passing without a penalty), the others take L1 least squares."""
    from optsolve.bcd.datafits import L1, LeastSquares

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 8))
    y = X[:, 0] - X[:, 1]
    penalty = None if update == "message-passing" else L1(0.01)
    return LeastSquares(), penalty, X, y


@pytest.mark.parametrize("update", [u for u in solver.UPDATES])
def test_every_update_dispatches_through_the_engine_table(update, monkeypatch):
    """Whatever ``update`` names, ``minimize_bcd`` runs the runner of an ``ENGINES`` entry and
    builds its result from that runner's ``EngineResult`` (no path around the table)."""
    from optsolve.bcd._result import EngineResult

    calls = []

    def fake(name):
        def run(problem, options):
            calls.append(name)
            w = np.full(problem.w0.shape, float(len(name)))
            return EngineResult(w=w, objective=1.0, measure=0.0, nit=7, status=0,
                                extra={"engine_tag": name})
        return run

    for name, engine in list(solver.ENGINES.items()):
        monkeypatch.setitem(solver.ENGINES, name, engine._replace(run=fake(name)))
    datafit, penalty, X, y = _problem_for(update)
    res = minimize_bcd(datafit, penalty, X=X, y=y, update=update)
    assert len(calls) == 1 and res.engine_tag == calls[0]
    assert res.nit == 7 and res.success and np.all(res.x == len(calls[0]))
    expected = {"message-passing": "forest", "auto": "working_set"}.get(update, "incremental")
    assert calls[0] == expected


def test_tree_rules_under_auto_run_the_forest_engine_and_match_minimize_forest_bcd():
    from optsolve.bcd.datafits import Quadratic
    from optsolve.bcd.forest import label_propagation_lattice

    A, b, _ = label_propagation_lattice((8, 8), n_labeled=8, random_state=0)
    exact = spla.spsolve(sp.csc_matrix(A), b)
    for selection in ("greedy-tree", "red-black"):
        res = minimize_bcd(Quadratic(), X=A, y=b, selection=selection, tol=1e-10)
        ref = minimize_forest_bcd(A, b, selection=selection, tol=1e-10)
        assert res.success and res.nit == ref.nit
        np.testing.assert_allclose(res.x, exact, rtol=1e-7, atol=1e-9)
        # one result shape: the forest's own fields travel through the shared builder
        assert res.grad_norm == pytest.approx(ref.grad_norm)
        assert res.optimality <= 1e-10 and np.isnan(res.dual_gap)


def test_every_host_engine_is_reachable():
    """Each entry of the table (but the CuPy one) is what some update picks."""
    from optsolve.bcd.datafits import LeastSquares, Multinomial, Quadratic

    picked = {solver._engine_for(LeastSquares(), u, 1, "gsq") for u in solver.UPDATES}
    picked.add(solver._engine_for(Quadratic(), "auto", 1, "gsq"))
    picked.add(solver._engine_for(Multinomial(), "auto", 3, "gsq"))
    assert picked == set(solver.ENGINES) - {"device"}


@pytest.mark.parametrize("kwargs, match", [
    ({"update": "message-passing", "selection": "lipschitz"}, "lipschitz"),
    ({"update": "gradient", "selection": "greedy-tree"}, "greedy-tree"),
    ({"update": "message-passing", "fit_intercept": True}, "intercept"),
])
def test_message_passing_refuses_what_it_does_not_run(kwargs, match):
    from optsolve.bcd.datafits import LeastSquares

    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 6))
    with pytest.raises(ValueError, match=match):
        minimize_bcd(LeastSquares(), X=X, y=X[:, 0], **kwargs)


@pytest.mark.parametrize("selection", ["gs", "gsl", "gsd", "gsq", "random", "cyclic"])
def test_coordinate_rules_under_message_passing_solve_least_squares(selection):
    from optsolve.bcd.datafits import LeastSquares

    rng = np.random.default_rng(2)
    X = sp.random(40, 12, density=0.2, random_state=2, format="csr") + sp.eye(40, 12)
    y = rng.standard_normal(40)
    res = minimize_bcd(LeastSquares(), X=X, y=y, update="message-passing", selection=selection,
                       tol=1e-10, random_state=0)
    ref = np.linalg.lstsq(X.toarray(), y, rcond=None)[0]
    assert res.success
    np.testing.assert_allclose(res.x, ref, rtol=1e-6, atol=1e-8)
