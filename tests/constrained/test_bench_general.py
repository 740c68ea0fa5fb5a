"""The cutest_nlp benchmark rows: the common KKT measure and the failure categories."""

from __future__ import annotations

import numpy as np
import pytest

from optsolve.bench import get_registry
from optsolve.problems import S2MPJProblem, s2mpj_status

OK, WHY = s2mpj_status()
needs_s2mpj = pytest.mark.skipif(not OK, reason=f"S2MPJ problems unavailable: {WHY}")


def _bench():
    import importlib

    return importlib.import_module("optsolve.constrained._bench_general")


@needs_s2mpj
@pytest.mark.parametrize("name,x_opt", [
    ("HS21", [2.0, 0.0]),  # one bound active, the linear inequality inactive
    ("HS35", [4.0 / 3.0, 7.0 / 9.0, 4.0 / 9.0]),  # the inequality active
])
def test_measure_is_small_at_the_known_solution_and_large_elsewhere(name, x_opt):
    B = _bench()
    p = S2MPJProblem(name)
    at_opt = B.kkt_general(p, np.asarray(x_opt))
    assert at_opt["finite"] and at_opt["kkt"] <= 1e-8
    assert B.kkt_general(p, p.x0)["kkt"] > 1e-3
    # a multiplier of the wrong sign is no certificate: the estimate is used instead
    v = -np.ones(p.m)
    wrong = B.kkt_general(p, np.asarray(x_opt), (v, np.zeros(p.n), np.zeros(p.n)))
    assert wrong["kkt"] <= 1e-8 and not wrong["own"]


@needs_s2mpj
def test_peers_solve_a_small_problem_and_the_outcome_is_recorded():
    B = _bench()
    p = S2MPJProblem("HS71")
    for name in ("scipy.SLSQP", "scipy.trust-constr"):
        out = B.outcome_of(p, B.CONTENDERS[name](p))
        assert out.metric_value <= B.KKT_TOL, name
        assert abs(out.objective - 17.0140173) < 1e-4
        assert out.extra["violation"] <= 1e-8


@pytest.mark.parametrize("status,reason,solver,extra,expected", [
    ("timeout", "over the 60 s time limit", "scipy.SLSQP", {}, "time limit"),
    ("error", "ValueError: x", "cyipopt", {}, "exception"),
    ("failed", "kkt not finite", "scipy.SLSQP", {"finite": False}, "non-finite values"),
    ("failed", "kkt 1e-2 > tol", "cyipopt", {"solver_status": 2, "violation": 1.0},
     "infeasibility detected"),
    ("failed", "kkt 6e-6 > tol (`gtol` termination condition is satisfied.)",
     "scipy.trust-constr", {"violation": 0.0, "solver_success": True},
     "success claimed, KKT above tol"),
    ("failed", "kkt 1e-2 > tol (Iteration limit reached)", "scipy.SLSQP",
     {"violation": 0.0}, "iteration limit"),
    ("failed", "kkt 1e-2 > tol (Positive directional derivative for linesearch)",
     "scipy.SLSQP", {"violation": 0.0}, "line search / step failure"),
    ("failed", "kkt 1e-2 > tol", "scipy.trust-constr", {"violation": 0.5},
     "infeasible stop"),
    ("failed", "kkt 1e-2 > tol", "scipy.trust-constr",
     {"violation": 0.0, "n_active": 3, "active_rank": 2},
     "degenerate (active gradients rank-deficient)"),
    ("failed", "kkt 1e-2 > tol", "scipy.trust-constr",
     {"violation": 0.0, "n_active": 2, "active_rank": 2}, "stopped feasible, not stationary"),
])
def test_every_failure_gets_a_category(status, reason, solver, extra, expected):
    B = _bench()
    got = B.classify(status, reason, solver, extra)
    assert got == expected and got in B.CATEGORIES and got in B.GROUPS


def test_suite_is_registered_with_all_four_contenders():
    suite = get_registry()["cutest_nlp"]
    assert {s.name for s in suite.solvers} == {
        "optsolve.minimize[eal-sketch]", "cyipopt", "scipy.trust-constr", "scipy.SLSQP"}
    assert suite.isolate and suite.time_limit > 0
