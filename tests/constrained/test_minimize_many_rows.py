"""optsolve.constrained.minimize on problems with a few variables and many inequalities
(discretized semi-infinite programs, minimax data fitting): the ε-active set holds far more
rows than can be independent, or nearly parallel ones. Checked against scipy's ``linprog``
(HiGHS) on the equivalent linear programs and against SLSQP."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint, linprog
from scipy.optimize import minimize as scipy_minimize

from optsolve.constrained import minimize


def _dense(J):
    return J.toarray() if sp.issparse(J) else J


def _minimax_exp(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Best uniform approximation of ``exp`` on [0, 1] by ``a + b s``: variables ``(a, b, t)``,
    ``min t`` s.t. ``±(a + b s_j − e^{s_j}) <= t`` on ``m`` points: ``2m`` rows, 3 variables,
    and at the start (0, 0, 0) every row ``e^{s_j} − a − b s_j <= t`` is violated."""
    s = np.linspace(0.0, 1.0, m)
    ones = np.ones(m)
    A = np.vstack([np.column_stack([ones, s, -ones]), np.column_stack([-ones, -s, -ones])])
    b = np.concatenate([np.exp(s), -np.exp(s)])
    return A, b


@pytest.mark.parametrize("m", [51, 201])
@pytest.mark.parametrize("method", ["eal-sketch", "eal-direct"])
@pytest.mark.parametrize("sparse", [False, True])
def test_minimax_fit_many_violated_rows(m, method, sparse):
    A, b = _minimax_exp(m)
    ref = linprog(np.array([0.0, 0.0, 1.0]), A_ub=A, b_ub=b, bounds=[(None, None)] * 3,
                  method="highs")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(lambda x: x[2], np.zeros(3), jac=lambda x: np.array([0.0, 0.0, 1.0]),
                       hess=lambda x: np.zeros((3, 3)),
                       constraints=[LinearConstraint(sp.csr_matrix(A) if sparse else A,
                                                     -np.inf, b)], method=method,
                       tol=1e-8, options={"maxiter": 100, "random_state": 0})
    assert res.success, res.message
    assert res.fun == pytest.approx(ref.fun, abs=1e-8)
    # the closed form: slope e - 1 (the equioscillation theorem)
    assert res.x[1] == pytest.approx(np.e - 1.0, abs=1e-6)
    # at most n rows held, with nonnegative multipliers
    assert res.n_active <= 3 + 2  # equioscillation: 3 points, within tol of two neighbours
    assert np.all(res.multipliers >= -1e-10)


def test_tangent_polygon_degenerate_vertex():
    """``min −x₀ − x₁`` over the polygon of ``m`` tangents to the unit circle that include
    the one at 45°, and two more rows through the optimum: a degenerate vertex where four
    rows meet in two variables."""
    theta = np.concatenate([np.linspace(0.0, np.pi / 2, 201), [np.pi / 4, np.pi / 4]])
    A = np.column_stack([np.cos(theta), np.sin(theta)])
    A[-2:] *= [[2.0], [0.5]]
    b = np.concatenate([np.ones(201), [2.0, 0.5]])
    c = np.array([-1.0, -1.0])
    ref = linprog(c, A_ub=A, b_ub=b, bounds=[(None, None)] * 2, method="highs")
    res = minimize(lambda x: c @ x, np.array([3.0, -2.0]), jac=lambda x: c,
                   hess=lambda x: np.zeros((2, 2)),
                   constraints=[LinearConstraint(A, -np.inf, b)], tol=1e-8,
                   options={"maxiter": 100, "random_state": 0})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)
    assert res.fun == pytest.approx(ref.fun, abs=1e-8)


@pytest.mark.parametrize("sparse", [False, True])
def test_nearly_parallel_nonlinear_rows_against_slsqp(sparse):
    """A nonlinear semi-infinite program in two variables: ``min (x₀ − 2)² + (x₁ − 2)²`` s.t.
    ``x₀ cos θ + x₁ sin θ + 0.1 (x₀² + x₁²) sin²(2θ) <= 1`` on 400 values of θ: neighbouring
    rows are nearly parallel."""
    theta = np.linspace(0.0, np.pi / 2, 400)
    cs, sn, w = np.cos(theta), np.sin(theta), 0.1 * np.sin(2 * theta) ** 2

    def cons(x):
        return x[0] * cs + x[1] * sn + w * (x @ x)

    def cons_jac(x):
        J = np.column_stack([cs + 2 * w * x[0], sn + 2 * w * x[1]])
        return sp.csr_matrix(J) if sparse else J

    def cons_hess(x, v):
        return 2.0 * float(v @ w) * np.eye(2)

    con = NonlinearConstraint(cons, -np.inf, 1.0, jac=cons_jac, hess=cons_hess)
    fun = lambda x: float((x[0] - 2) ** 2 + (x[1] - 2) ** 2)  # noqa: E731
    jac = lambda x: 2.0 * (x - 2.0)  # noqa: E731
    x0 = np.array([2.0, 2.0])
    ref = scipy_minimize(fun, x0, jac=jac, method="SLSQP",
                         constraints=[{"type": "ineq", "fun": lambda x: 1.0 - cons(x),
                                       "jac": lambda x: -_dense(cons_jac(x))}],
                         options={"ftol": 1e-14, "maxiter": 500})
    assert ref.success
    res = minimize(fun, x0, jac=jac, hess=lambda x: 2.0 * np.eye(2), constraints=[con],
                   tol=1e-8, options={"maxiter": 100, "random_state": 0})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    assert res.fun == pytest.approx(ref.fun, rel=1e-8)
