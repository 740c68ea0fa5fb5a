"""kkt_residual, least_squares_multipliers and to_scipy against hand computations and scipy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

from optsolve.problems import (
    FunctionProblem,
    get_problem,
    kkt_residual,
    least_squares_multipliers,
    list_problems,
    to_scipy,
)


@pytest.mark.parametrize("name", list_problems())
def test_kkt_residual_vanishes_at_every_known_solution(name, small_params):
    p = get_problem(name, **small_params.get(name, {}))
    assert kkt_residual(p, p.x_opt) <= 1e-6 * max(1.0, np.abs(p.grad(p.x_opt)).max())


def test_kkt_residual_by_hand():
    p = get_problem("HS7")  # x_opt = (0, √3): ∇f = (0, -1), J = (0, 2√3), λ = 1/(2√3)
    np.testing.assert_allclose(least_squares_multipliers(p, p.x_opt), [1 / (2 * np.sqrt(3))])
    x = np.array([1.0, 1.0])  # ∇f = (1, -1), J = (8, 2), c = 1
    assert kkt_residual(p, x, multipliers=[0.0]) == pytest.approx(1.0)
    assert kkt_residual(p, x, multipliers=[1.0]) == pytest.approx(9.0)
    unconstrained = FunctionProblem(lambda x: x @ x, [1.0, -3.0], grad=lambda x: 2 * x,
                                    hess=lambda x, v: 2 * np.eye(2))
    assert kkt_residual(unconstrained, [1.0, -3.0]) == 6.0


def test_sparse_multipliers_match_dense():
    p = get_problem("POISSON_CONTROL", N=6)
    x = np.random.default_rng(1).standard_normal(p.n)
    J = p.jac(x).toarray()
    dense = np.linalg.lstsq(J.T, -p.grad(x), rcond=None)[0]
    np.testing.assert_allclose(least_squares_multipliers(p, x), dense, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("method", ["trust-constr", "SLSQP"])
@pytest.mark.parametrize("name", ["HS7", "HS40", "BT11", "GENHS28"])
def test_to_scipy_solves(name, method):
    p = get_problem(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = minimize(**to_scipy(p, method), tol=1e-10)
    assert abs(result.fun - p.f_opt) <= 1e-6 * max(1.0, abs(p.f_opt))
    assert kkt_residual(p, result.x) < 1e-4


def test_to_scipy_rejects_unknown_method():
    with pytest.raises(ValueError, match="method must be"):
        to_scipy(get_problem("HS28"), "COBYLA")
