"""minimize_eq: every test problem to KKT <= 1e-6 vs its known solution and vs scipy
trust-constr; options, callbacks and bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import NonlinearConstraint, minimize
from sklearn.exceptions import ConvergenceWarning

from optsolve.constrained import METHODS, minimize_eq
from optsolve.problems import EqualityConstrainedProblem

SKETCHES = ["kaczmarz", "gaussian", "block", "count"]


def solve(problem, sketch="kaczmarz", **kw):
    if sketch == "direct":
        return minimize_eq(problem, method="eal-direct", random_state=0, **kw)
    return minimize_eq(problem, sketch=sketch, random_state=0, **kw)


def check_solution(problem, res, tol=1e-6):
    assert res.success, res.message
    assert res.kkt <= tol
    # the KKT residual is recomputed independently of the solver
    g = problem.grad(res.x)
    c, G = problem.cons(res.x, gradient=True)
    assert np.max(np.abs(g + G.T @ res.multipliers)) <= tol
    assert np.max(np.abs(c)) <= tol
    np.testing.assert_allclose(res.x, problem.x_opt, atol=1e-4)
    assert abs(res.fun - problem.f_opt) <= 1e-6 * max(1.0, abs(problem.f_opt))


@pytest.mark.parametrize("sketch", [*SKETCHES, "direct"])
def test_solves_test_problems_to_known_solution(test_problem, sketch):
    res = solve(test_problem, sketch)
    check_solution(test_problem, res)
    assert res.nit <= 20
    if sketch != "direct":
        assert res.n_inner > 0 and res.flops > 0


def test_agrees_with_scipy_trust_constr(test_problem):
    p = test_problem
    con = NonlinearConstraint(lambda x: p.cons(x), 0.0, 0.0, jac=lambda x: p.jac(x),
                              hess=lambda x, v: p.hess(x, v) - p.hess(x, np.zeros(p.m)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = minimize(p.obj, p.x0, jac=p.grad, hess=lambda x: p.hess(x, np.zeros(p.m)),
                       constraints=[con], method="trust-constr",
                       options={"gtol": 1e-10, "xtol": 1e-12, "maxiter": 3000})
    res = solve(p)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-4)
    assert abs(res.fun - ref.fun) <= 1e-6 * max(1.0, abs(ref.fun))
    # scipy reports v with the same sign convention, L = f + vᵀc
    np.testing.assert_allclose(res.multipliers, ref.v[0], atol=1e-3)


def test_multipliers_are_least_squares_multipliers_at_solution(test_problem):
    p = test_problem
    res = solve(p)
    G = p.jac(res.x)
    lam_ls = np.linalg.lstsq(G.T, -p.grad(res.x), rcond=None)[0]
    np.testing.assert_allclose(res.multipliers, lam_ls, atol=1e-5)


@pytest.mark.parametrize("hessian", ["bfgs", "fd", "hessp", "exact"])
@pytest.mark.parametrize("name", ["HS28", "HS40", "BT2"])
def test_hessian_modes(hessian, name, make_problem):
    p = make_problem(name)
    res = solve(p, "gaussian", options={"hessian": hessian}, max_iter=300)
    check_solution(p, res)
    if hessian in ("bfgs",):
        assert res.nhev == 0


def test_sparse_path_matches_dense(poisson_problem):
    p = poisson_problem
    dense = solve(p, "direct", options={"dense_threshold": 10_000})
    sparse = solve(p, "direct", options={"dense_threshold": 10})
    assert dense.success and sparse.success
    np.testing.assert_allclose(sparse.x, dense.x, atol=1e-8)
    # the QP solution from one sparse solve of its KKT system
    K = sp.bmat([[p.H, p.J.T], [p.J, None]], format="csc")
    z = sp.linalg.spsolve(K, np.r_[-p.grad(np.zeros(p.n)), np.zeros(p.m)])
    np.testing.assert_allclose(sparse.x, z[:p.n], atol=1e-6)
    res = solve(p, "kaczmarz", options={"dense_threshold": 10}, tol=1e-6)
    assert res.success and np.allclose(res.x, z[:p.n], atol=1e-5)


def test_unconstrained_problem():
    class Quad(EqualityConstrainedProblem):
        name, n, m, x0 = "quad", 3, 0, np.ones(3)

        def _obj(self, x): return 0.5 * x @ x - x[0]
        def _grad(self, x): return x - np.eye(3)[0]
        def _cons(self, x): return np.zeros(0)
        def _jac(self, x): return np.zeros((0, 3))
        def _hess(self, x, v): return np.eye(3)

    res = solve(Quad())
    assert res.success and np.allclose(res.x, [1, 0, 0], atol=1e-6)


def test_evaluation_counts_match_problem_counters(test_problem):
    p = test_problem
    p.reset_counts()
    res = solve(p)
    for key in ("nfev", "ngev", "ncev", "njev", "nhev"):
        assert res[key] == p.counts[key]
    assert res.nfev >= res.nit


def test_same_seed_same_result_and_x0_untouched(test_problem):
    x0 = test_problem.x0.copy()
    a = solve(test_problem, "gaussian", x0=x0)
    b = solve(test_problem, "gaussian", x0=x0)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.n_inner == b.n_inner
    np.testing.assert_array_equal(x0, test_problem.x0)


def test_history_and_superlinear_option(test_problem):
    res = solve(test_problem, options={"record_history": True})
    h = res.history
    assert len(h["kkt"]) == res.nit + 1 and h["kkt"][-1] == res.kkt
    lin = solve(test_problem, options={"superlinear": False})
    assert lin.success


# ---- callbacks ---------------------------------------------------------------------------------
def test_callback_receives_intermediate_result_and_can_stop(test_problem):
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result)
        if len(seen) == 2:
            raise StopIteration

    res = solve(test_problem, callback=cb)
    if res.status == 0 and res.nit < 2:
        return
    assert res.status == 99 and not res.success and len(seen) == 2
    assert {"x", "fun", "multipliers", "kkt", "nit"} <= set(seen[0])
    np.testing.assert_array_equal(res.x, seen[-1].x)


def test_legacy_callback_gets_x(make_problem):
    xs = []
    solve(make_problem("HS40"), callback=lambda xk: xs.append(xk))
    assert xs and all(x.shape == (4,) for x in xs)


def test_max_iter_reached_warns(make_problem):
    with pytest.warns(ConvergenceWarning):
        res = solve(make_problem("HS6"), max_iter=2)
    assert not res.success and res.status == 1 and res.nit == 2


# ---- bad input ---------------------------------------------------------------------------------
def test_wrong_length_x0(test_problem):
    with pytest.raises(ValueError, match="x0"):
        minimize_eq(test_problem, np.zeros(test_problem.n + 1))


@pytest.mark.parametrize("kwargs,match", [
    ({"method": "sqp"}, "method"), ({"sketch": "hadamard"}, "sketch"), ({"tol": -1.0}, "tol"),
    ({"max_iter": 1.5}, "max_iter"), ({"options": {"inner": "cg"}}, "inner"),
])
def test_bad_arguments(test_problem, kwargs, match):
    with pytest.raises(ValueError, match=match):
        minimize_eq(test_problem, **kwargs)


def test_not_a_problem(make_problem):
    with pytest.raises(TypeError, match="FunctionProblem"):
        minimize_eq(lambda x: x @ x, np.zeros(2))
    with pytest.raises(TypeError, match="callback"):
        minimize_eq(make_problem("HS28"), callback=3)


def test_unknown_option_raises(test_problem):
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['etaa'\]"):
        solve(test_problem, options={"etaa": 0.5})


@pytest.mark.parametrize(("options", "exc", "match"), [
    ({"mu0": -10.0}, ValueError, r"options\['mu0'\]"),
    ({"mu0": 0.0}, ValueError, r"options\['mu0'\]"),
    ({"penalty_factor": 1.0}, ValueError, r"options\['penalty_factor'\]"),
    ({"penalty_factor": 0.5}, ValueError, r"options\['penalty_factor'\]"),
    ({"nu0": np.nan}, ValueError, r"options\['nu0'\]"),
    ({"eta": 1.5}, ValueError, r"options\['eta'\]"),
    ({"eta": "0.1"}, TypeError, r"options\['eta'\]"),
    ({"max_inner": 2.5}, TypeError, r"options\['max_inner'\]"),
    ({"max_inner": 0}, ValueError, r"options\['max_inner'\]"),
    ({"max_backtracks": True}, TypeError, r"options\['max_backtracks'\]"),
    ({"superlinear": "yes"}, TypeError, r"options\['superlinear'\]"),
    ({"hessian": "newton"}, ValueError, r"options\['hessian'\]"),
    ({"armijo": 1.0}, ValueError, r"options\['armijo'\]"),
    ({"backtrack": 0.0}, ValueError, r"options\['backtrack'\]"),
    ({"lambda0": "ones"}, ValueError, r"options\['lambda0'\]"),
    ({"lambda0": [1.0, 2.0, 3.0]}, ValueError, r"options\['lambda0'\]"),
    ({"mu_max": 1.0}, ValueError, r"options\['mu_max'\]"),
    ({"verbose": -1}, ValueError, r"options\['verbose'\]"),
    ([("eta", 0.1)], TypeError, "options must be a dict"),
])
def test_options_validated_like_keyword_arguments(make_problem, options, exc, match):
    # mu0 <= 0 and penalty_factor <= 1 used to loop forever in the descent test
    problem = make_problem("HS6")
    with pytest.raises(exc, match=match):
        minimize_eq(problem, options=options)
    assert problem.counts["nfev"] == 0  # refused before any work


def test_descent_test_is_bounded(make_problem):
    # valid but extreme penalty updates (μ crawling up to 1e300, ν down to 1e-300) would take
    # millions of rounds of the descent test; it gives up after a bounded number and steps
    # along the merit gradient instead
    import signal

    def alarm(*_):
        raise TimeoutError("minimize_eq hung in the descent test")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(60)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = minimize_eq(make_problem("HS6"), method="eal-direct", max_iter=5,
                              options={"penalty_factor": 1.0 + 1e-12, "mu_max": 1e300,
                                       "nu_min": 1e-300, "mu0": 1e-3})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert res.nit <= 5 and np.all(np.isfinite(res.x))


class Infeasible(EqualityConstrainedProblem):
    """x₀ = 0 and x₀ = 1: no feasible point; ½‖c‖² is smallest at x₀ = ½."""

    name, n, m, x0 = "infeasible", 2, 2, np.array([3.0, 1.0])

    def _obj(self, x): return float(x @ x)
    def _grad(self, x): return 2 * x
    def _cons(self, x): return np.array([x[0], x[0] - 1.0])
    def _jac(self, x): return np.array([[1.0, 0.0], [1.0, 0.0]])
    def _hess(self, x, v): return 2 * np.eye(2)


@pytest.mark.parametrize("method", ["eal-sketch", "eal-direct"])
def test_infeasible_problem_reports_status_infeasible(method):
    from optsolve._status import Status

    with pytest.warns(ConvergenceWarning, match="infeasible"):
        res = minimize_eq(Infeasible(), method=method, random_state=0)
    assert not res.success and res.status == Status.INFEASIBLE == 4
    assert res.nit < 20
    assert abs(res.x[0] - 0.5) < 1e-6 and res.constr_violation == pytest.approx(0.5)


def test_methods_registry():
    assert set(METHODS) == {"eal-sketch", "eal-direct"}


class NaNAtStart(EqualityConstrainedProblem):
    name, n, m, x0 = "nan", 2, 1, np.array([1.0, 1.0])

    def _obj(self, x): return np.nan if x[0] > 0.5 else float(x @ x)
    def _grad(self, x): return 2 * x
    def _cons(self, x): return np.array([x[0] + x[1] - 1])
    def _jac(self, x): return np.array([[1.0, 1.0]])
    def _hess(self, x, v): return 2 * np.eye(2)


def test_non_finite_at_x0_stops_cleanly():
    res = minimize_eq(NaNAtStart())
    assert res.status == 5 and not res.success and "non-finite" in res.message


def test_non_finite_during_line_search_backtracks():
    class Log(EqualityConstrainedProblem):
        """min -log(x1) - log(x2) s.t. x1 + x2 = 2: log of a negative number is NaN."""

        name, n, m, x0 = "log", 2, 1, np.array([1.9, 0.1])

        def _obj(self, x):
            with np.errstate(invalid="ignore", divide="ignore"):
                return float(-np.log(x).sum())

        def _grad(self, x): return -1.0 / x
        def _cons(self, x): return np.array([x.sum() - 2])
        def _jac(self, x): return np.array([[1.0, 1.0]])
        def _hess(self, x, v): return np.diag(1.0 / x**2)

    res = minimize_eq(Log(), random_state=0)
    assert res.success and np.allclose(res.x, [1, 1], atol=1e-6)


def test_rank_deficient_jacobian_is_reported(rank_deficient_problem):
    p = rank_deficient_problem
    res = solve(p)
    assert res.jac_rank == 1
    assert "rank deficient" in res.message
    assert res.success and np.allclose(res.x, p.x_opt, atol=1e-5)


class _CutestLike:
    """A pycutest-shaped object declaring inequalities or bounds."""

    def __init__(self, **attrs):
        self.name, self.n, self.m, self.x0 = "FAKE", 2, 1, np.zeros(2)
        self.__dict__.update(attrs)

    def obj(self, x, gradient=False): ...
    def grad(self, x): ...
    def cons(self, x, gradient=False): ...
    def jac(self, x): ...
    def hess(self, x, v): ...


@pytest.mark.parametrize("attrs,match", [
    ({"is_eq_cons": np.array([False])}, "inequality"),
    ({"bl": np.array([0.0, -1e20]), "bu": np.array([1e20, 1e20])}, "lower bounds"),
    ({"bl": np.array([-1e20, -1e20]), "bu": np.array([1e20, 5.0])}, "upper bounds"),
])
def test_inequalities_and_bounds_are_refused(attrs, match):
    with pytest.raises(ValueError, match=match):
        minimize_eq(_CutestLike(**attrs))


def test_auto_hessian_falls_back_to_bfgs_without_second_derivatives(make_problem):
    class NoHessian(type(make_problem("HS40"))):
        def _hess(self, x, v):
            raise NotImplementedError

    p = NoHessian()
    res = solve(p, "gaussian", max_iter=300)
    assert res.success and res.nhev == 0
    np.testing.assert_allclose(res.x, p.x_opt, atol=1e-4)


def test_plain_callables_through_function_problem():
    """Callables go through optsolve.problems.FunctionProblem (finite differences)."""
    from optsolve.problems import FiniteDifferenceWarning, FunctionProblem

    with pytest.warns(FiniteDifferenceWarning):
        p = FunctionProblem(lambda x: (x[0] - 1) ** 2 + (x[1] - 2) ** 2, [0.0, 0.0],
                            cons=lambda x: [x[0] ** 2 + x[1] ** 2 - 1.0])
    res = minimize_eq(p, random_state=0)
    expected = np.array([1.0, 2.0]) / np.sqrt(5.0)
    assert res.success
    np.testing.assert_allclose(res.x, expected, atol=1e-5)


def test_nan_from_user_callable_stops_with_status():
    from optsolve.problems import FunctionProblem

    p = FunctionProblem(lambda x: np.nan, [0.5, 0.5], grad=lambda x: np.ones(2),
                        cons=lambda x: [x.sum() - 1.0], jac=lambda x: np.ones((1, 2)),
                        hess=lambda x, v: np.eye(2))
    res = minimize_eq(p)
    assert res.status == 5 and not res.success and "non-finite" in res.message
