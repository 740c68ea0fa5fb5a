"""The bound-constrained Poisson-control problem (control bounds a <= z <= b).

The active-set reference solution is checked against the KKT conditions written out here and
against an independent QP solve (cvxpy + Clarabel).
"""

from __future__ import annotations

import numpy as np
import pytest

from optsolve.problems import get_problem, to_scipy

BOUNDS = [(0.0, 10.0), (-np.inf, 5.0), (2.0, 8.0), (3.0, np.inf)]


@pytest.mark.parametrize("control_bounds", BOUNDS)
@pytest.mark.parametrize("target", ["sine", "gauss"])
def test_reference_solution_is_a_kkt_point(control_bounds, target):
    p = get_problem("POISSON_CONTROL", N=9, target=target, control_bounds=control_bounds)
    x, lam, mu = p.solve_exact()
    a, b = control_bounds
    z = x[p.m:]
    assert np.all(z >= a - 1e-12) and np.all(z <= b + 1e-12)
    np.testing.assert_allclose(p.cons(x), 0.0, atol=1e-10)
    stationarity = p.grad(x) + p.jac(x).T @ lam + mu
    np.testing.assert_allclose(stationarity, 0.0, atol=1e-12)
    assert np.all(mu[: p.m] == 0.0)  # the state is free
    mu_z = mu[p.m:]
    # sign and complementarity: μ >= 0 only at the upper bound, <= 0 only at the lower one
    assert np.all(mu_z[mu_z > 0] >= 0) and np.all(np.isclose(z[mu_z > 0], b))
    assert np.all(np.isclose(z[mu_z < 0], a))


def test_bounds_are_active_and_change_the_solution():
    free = get_problem("POISSON_CONTROL", N=9)
    bounded = get_problem("POISSON_CONTROL", N=9, control_bounds=(2.0, 8.0))
    z_free = free.x_opt[free.m:]
    assert z_free.max() > 8.0 and z_free.min() < 2.0  # both bounds cut the free control
    assert bounded.f_opt > free.f_opt
    assert bounded.name == "POISSON_CONTROL_BOUNDED" and bounded.has_bounds
    assert bounded.is_eq_cons.all() and bounded.n_ineq == 0
    np.testing.assert_array_equal(bounded.bl[: bounded.m], -np.inf)
    np.testing.assert_array_equal(bounded.bl[bounded.m:], 2.0)
    np.testing.assert_array_equal(bounded.bu[bounded.m:], 8.0)
    assert np.all(bounded.x0 >= bounded.bl) and np.all(bounded.x0 <= bounded.bu)
    assert "bounds" in to_scipy(bounded) and "bounds" not in to_scipy(free)


@pytest.mark.parametrize("control_bounds", [(0.0, 10.0), (2.0, 8.0)])
def test_matches_an_independent_qp_solver(control_bounds):
    cp = pytest.importorskip("cvxpy")
    p = get_problem("POISSON_CONTROL", N=8, target="gauss", control_bounds=control_bounds)
    w, z = cp.Variable(p.m), cp.Variable(p.m)
    L = p.jac(p.x0)[:, : p.m]
    a, b = control_bounds
    objective = 0.5 * p.h**2 * (cp.sum_squares(w - p.w_target) + p.beta * cp.sum_squares(z))
    qp = cp.Problem(cp.Minimize(objective), [L @ w + z == 0, z >= a, z <= b])
    qp.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    np.testing.assert_allclose(p.x_opt, np.concatenate([w.value, z.value]), atol=1e-5)
    assert p.f_opt == pytest.approx(qp.value, rel=1e-6)


@pytest.mark.parametrize("bad", [(1.0, 1.0), (2.0, 1.0), (np.nan, 1.0), (1.0,), "ab", 3.0])
def test_control_bounds_are_validated(bad):
    with pytest.raises(ValueError, match="control_bounds"):
        get_problem("POISSON_CONTROL", N=4, control_bounds=bad)


def test_closed_form_refuses_the_bounded_variant():
    with pytest.raises(ValueError, match="bound"):
        get_problem("POISSON_CONTROL", N=4, control_bounds=(0.0, 1.0)).closed_form_solution()
