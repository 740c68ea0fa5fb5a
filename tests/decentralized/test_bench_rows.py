"""The decentralized family's rows of ``optsolve bench`` (registration, problems, a quick row)."""

import math

import pytest

from optsolve.bench.registry import get_registry


def test_register_adds_the_suite_and_a_quick_row():
    reg = get_registry()
    assert "decentralized" in reg.names()
    suite = reg["decentralized"]
    names = {s.name for s in suite.solvers}
    assert {"dadao", "adom+", "msda", "continuized", "extra", "dgd"} <= names
    problems = suite.problems()
    assert len(problems) >= 3
    for p in problems:
        assert p.kind == "decentralized" and p.peer == "adom+" and p.tol == 1e-6
        assert p.meta["kappa"] == pytest.approx(1e2)
        problem, A, max_time = p.data
        assert A.shape == (problem.n_nodes, problem.n_nodes) and max_time > 0
        # kappa = L / mu is what the row says it is
        assert problem.L / problem.mu == pytest.approx(p.meta["kappa"], rel=1e-9)
    peers = [s for s in suite.solvers if s.is_peer]
    assert [s.name for s in peers] == ["adom+"]
    quick = [p for p in reg["quick"].problems() if p.name.startswith("decentralized/")]
    assert len(quick) == 1


@pytest.mark.parametrize("solver", ["dadao", "adom+"])
def test_quick_row_reaches_the_tolerance(solver):
    reg = get_registry()
    problem = next(p for p in reg["quick"].problems() if p.name.startswith("decentralized/"))
    spec = next(s for s in reg["quick"].solvers
                if s.name == solver and s.applies_to(problem))
    outcome = spec.prepare(problem)()
    assert outcome.success
    assert outcome.metric_value <= problem.tol
    assert outcome.n_iter == outcome.extra["n_communications"] > 0
    assert outcome.extra["n_gradients"] > 0
    # the objective is the centralized optimum's value, checked independently
    dp = problem.data[0]
    assert math.isclose(outcome.objective, dp.value_star, rel_tol=1e-8, abs_tol=1e-12)

