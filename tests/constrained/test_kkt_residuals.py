"""optsolve.constrained.kkt_residuals (one KKT measure for every solver) and the exact
augmented Lagrangian for inequalities (gradient against finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint

from optsolve.constrained import NonlinearProblem, kkt_residuals
from optsolve.constrained.merit_ineq import ineq_merit, ineq_merit_gradient


def _circle_problem():
    """min x₀ + x₁ s.t. x₀² + x₁² <= 2, 0.5 <= x₀ - x₁ <= 3 (row 2), bounds x₁ >= -5."""
    return NonlinearProblem(
        lambda x: x[0] + x[1], [0.0, 0.0], jac=lambda x: np.ones(2),
        hess=lambda x: np.zeros((2, 2)),
        constraints=[NonlinearConstraint(lambda x: x @ x, -np.inf, 2.0,
                                         jac=lambda x: 2 * x[None, :],
                                         hess=lambda x, v: 2 * v[0] * np.eye(2)),
                     LinearConstraint([[1.0, -1.0]], 0.5, 3.0)],
        bounds=Bounds([-np.inf, -5.0], [np.inf, np.inf]))


def test_kkt_point_has_zero_residual():
    p = _circle_problem()
    x = np.array([-1.0, -1.0])  # on the circle; x0 - x1 = 0 violates 0.5 <= x0 - x1
    r = kkt_residuals(p, x, ([0.5, 0.0], np.zeros(2), np.zeros(2)))
    assert r.feasibility == pytest.approx(0.5)
    assert r.stationarity == pytest.approx(0.0, abs=1e-15)


def test_each_part_by_hand():
    """min x s.t. x >= 1 (bound): x* = 1, z_lower = 1."""
    p = NonlinearProblem(lambda x: x[0], [2.0], jac=lambda x: np.ones(1),
                         bounds=[(1.0, None)])
    ok = kkt_residuals(p, [1.0], ([], [1.0], [0.0]))
    assert ok == (0.0, 0.0, 0.0, 0.0, 0.0)
    r = kkt_residuals(p, [1.5], ([], [1.0], [0.0]))
    assert r.complementarity == pytest.approx(0.5) and r.stationarity == 0.0
    r = kkt_residuals(p, [0.9], ([], [1.0], [0.0]))
    assert r.feasibility == pytest.approx(0.1)
    r = kkt_residuals(p, [1.0], ([], [-1.0], [0.0]))
    assert r.sign == pytest.approx(1.0) and r.stationarity == pytest.approx(2.0)
    r = kkt_residuals(p, [1.0], ([], [0.0], [1.0]))  # a multiplier on an absent bound
    assert r.sign == pytest.approx(1.0)


def test_ipopt_scaling_of_large_multipliers():
    """s_d = max(100, ‖multipliers‖₁ / count) / 100 divides the stationarity residual."""
    p = NonlinearProblem(lambda x: 1e4 * x[0], [2.0], jac=lambda x: np.array([1e4]),
                         bounds=[(1.0, None)])
    r = kkt_residuals(p, [1.0], ([], [1e4 - 1.0], [0.0]))
    assert r.stationarity == pytest.approx(1.0 / ((1e4 - 1.0) / 100.0))
    assert r.kkt == r.stationarity


def test_estimated_multipliers_and_forms():
    p = _circle_problem()
    x = np.sqrt(2.0) * np.array([np.cos(-np.pi / 3), np.sin(-np.pi / 3)])  # circle active
    est = kkt_residuals(p, x)
    assert est.feasibility <= 1e-12 and est.sign == 0.0
    # the circle's multiplier: least squares of 1 + 2 v x = 0
    v = -(2 * x).sum() / ((2 * x) @ (2 * x))
    given = kkt_residuals(p, x, {"constraints": [v, 0.0]})
    assert est.stationarity <= given.stationarity + 1e-12
    as_list = kkt_residuals(p, x, ([np.array([v]), np.array([0.0])], None, None))
    assert as_list == given


def test_s2mpj_style_problem_with_bounds_at_1e20():
    class P:
        n, m = 2, 1
        cl, cu = np.array([-1e20]), np.array([1.0])
        bl, bu = np.array([0.0, -1e20]), np.array([1e20, 1e20])

        def grad(self, x):
            return np.array([1.0, -1.0])

        def cons(self, x):
            return np.array([x[1]])

        def jac(self, x):
            return sp.csr_matrix(np.array([[0.0, 1.0]]))

    # min x0 - x1 s.t. x1 <= 1, x0 >= 0: x* = (0, 1), v = 1, z_lower = (1, 0)
    r = kkt_residuals(P(), [0.0, 1.0], ([1.0], [1.0, 0.0], [0.0, 0.0]))
    assert r.kkt == 0.0
    assert kkt_residuals(P(), [0.0, 1.0]).kkt <= 1e-12


def test_bad_multiplier_shapes():
    p = _circle_problem()
    with pytest.raises(ValueError, match="constraints"):
        kkt_residuals(p, [0.0, 0.0], ([1.0], np.zeros(2), np.zeros(2)))
    with pytest.raises(TypeError):
        kkt_residuals(p, [0.0, 0.0], 3.0)
    with pytest.raises(ValueError, match="shape"):
        kkt_residuals(p, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_merit_gradient_matches_finite_differences(seed, scaled, monkeypatch):
    from optsolve.constrained import merit_ineq

    monkeypatch.setattr(merit_ineq, "MULTIPLIER_SCALED", scaled)
    rng = np.random.default_rng(seed)
    n, me, mi = 4, 2, 3
    A = rng.standard_normal((n, n))
    Q = A @ A.T
    Ce, Ci = rng.standard_normal((me, n)), rng.standard_normal((mi, n))

    def parts(x):
        f = 0.5 * x @ Q @ x + np.sum(np.sin(x))
        c = Ce @ x + 0.1 * x[:me] ** 2
        GE = Ce + np.diag(0.2 * x[:me]) @ np.eye(me, n)
        g = Ci @ x + 0.3 * x[:mi] ** 3 - 0.2
        GI = Ci + np.diag(0.9 * x[:mi] ** 2) @ np.eye(mi, n)
        return f, Q @ x + np.cos(x), c, GE, g, GI

    def hess_lag(x, lam, y):
        H = Q - np.diag(np.sin(x))
        H[:me, :me] += np.diag(0.2 * lam)
        H[:mi, :mi] += np.diag(1.8 * x[:mi] * y)
        return H

    mu, nu, region = 3.0, 0.7, 50.0

    def phi(z):
        x, lam, y = z[:n], z[n:n + me], z[n + me:]
        f, gf, c, GE, g, GI = parts(x)
        return ineq_merit(f, lam, y, c, g, gf + GE.T @ lam + GI.T @ y, mu, nu, region)

    z = 0.7 * rng.standard_normal(n + me + mi)
    x, lam, y = z[:n], z[n:n + me], z[n + me:]
    _, gf, c, GE, g, GI = parts(x)
    gl = gf + GE.T @ lam + GI.T @ y
    m = phi(z)
    assert np.isfinite(m.value)
    gx, g_lam, gy = ineq_merit_gradient(m, y, c, g, GE, GI, gl, hess_lag(x, lam, y) @ gl, mu, nu)
    analytic = np.concatenate([gx, g_lam, gy])
    h = 1e-6
    fd = np.array([(phi(z + h * e).value - phi(z - h * e).value) / (2 * h)
                   for e in np.eye(z.size)])
    np.testing.assert_allclose(analytic, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


def test_merit_is_infinite_outside_its_domain():
    m = ineq_merit(0.0, np.zeros(0), np.zeros(1), np.zeros(0), np.array([3.0]), np.zeros(1),
                   mu=1.0, nu=1.0, region=10.0)  # 3³ > 10
    assert m.value == np.inf
