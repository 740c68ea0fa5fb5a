"""The matrix-free ``method='newton-cg'`` of ConstrainedLogisticRegression: same answer as the
assembled Newton method, memory O(nnz(X)), and the bound constraints (``positive``,
``bounds``) against independent references (cvxpy, scipy SLSQP) and the KKT conditions."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, minimize
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from optsolve.constrained import ConstrainedLogisticRegression
from optsolve.constrained.newton_cg import minimize_bound_al


def _data(n=120, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.linspace(-1.5, 1.5, d)
    y = (X @ w + 0.3 + 0.7 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def _as(X, kind):
    return sp.csr_matrix(X) if kind == "sparse" else X


# ----------------------------------------------------------- matrix-free == assembled Newton

@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("constraints", [
    {"alpha": 0.05},
    {"A_eq": [[1.0, 1.0, 0, 0, 0, 0], [0, 0, 1.0, -1.0, 0, 0]], "b_eq": [0.0, 0.3],
     "alpha": 0.01},
    {"A_eq": [[1.0, 1.0, 0, 0, 0, 0]], "b_eq": [0.2], "norm_constraint": 1.0},
    {"norm_constraint": 2.0, "fit_intercept": False},
])
def test_matrix_free_matches_direct_newton(kind, constraints):
    X, y = _data()
    X = _as(X, kind)
    ref = ConstrainedLogisticRegression(**constraints, method="eal-direct", tol=1e-10,
                                        random_state=0).fit(X, y)
    mf = ConstrainedLogisticRegression(**constraints, method="newton-cg", tol=1e-10).fit(X, y)
    assert mf.method_ == "newton-cg" and mf.result_.success and mf.kkt_ <= 1e-10
    np.testing.assert_allclose(mf.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(mf.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(mf.multipliers_, ref.multipliers_, atol=1e-5)


def test_auto_goes_matrix_free_on_wide_sparse_input_and_agrees():
    rng = np.random.default_rng(1)
    X = sp.random(200, 1200, density=0.01, format="csr", random_state=1)
    y = (X @ rng.standard_normal(1200) + 0.1 * rng.standard_normal(200) > 0).astype(int)
    A = rng.standard_normal((2, 1200))
    params = {"A_eq": A, "b_eq": A @ np.full(1200, 0.01), "alpha": 1e-2, "tol": 1e-10}
    auto = ConstrainedLogisticRegression(**params).fit(X, y)
    assert auto.method_ == "newton-cg"
    ref = ConstrainedLogisticRegression(**params, method="eal-direct").fit(X, y)
    np.testing.assert_allclose(auto.coef_, ref.coef_, atol=1e-6)
    # the same X dense stays on the assembled Newton method
    assert ConstrainedLogisticRegression(alpha=1.0).fit(X[:, :20].toarray(), y).method_ == \
        "eal-sketch"


def test_matrix_free_memory_is_linear_in_nnz():
    # the 20000 x 200000 case (10⁶ non-zeros) at a twentieth of each side: XᵀDX of
    # this X would hold about Σᵢ nnz(xᵢ)² = 2.5e6 entries (30 MB), a dense one 800 MB
    n, d = 1000, 10_000
    X = sp.random(n, d, density=5e-3, format="csr", random_state=0)
    y = (np.asarray(X.sum(axis=1)).ravel() > np.median(np.asarray(X.sum(axis=1)))).astype(int)
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    A = np.ones((1, d))
    # one BLAS thread: on an oversubscribed machine a second one makes every small vector
    # product wait for a core (memory, not time, is checked here)
    tracemalloc.start()
    try:
        with threadpool_limits(1):
            clf = ConstrainedLogisticRegression(A_eq=A, b_eq=[1.0], alpha=1e-3).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.method_ == "newton-cg" and clf.result_.success
    # X's storage plus a few vectors of length n_features / n_samples and the constraint rows
    assert peak < 6 * x_bytes + 40 * 8 * (n + d), (peak, x_bytes)


# ---------------------------------------------------------------------- bounds vs references

def _cvxpy_reference(X, y, alpha, lower, upper, A=None, b=None, fit_intercept=True,
                     sample_weight=None):
    cp = pytest.importorskip("cvxpy")  # the [sdp] extra (cvxpy + clarabel)
    n, d = X.shape
    ys = np.where(y == 1, 1.0, -1.0)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    sw = sw / sw.sum()
    w = cp.Variable(d)
    b0 = cp.Variable() if fit_intercept else 0.0
    z = cp.multiply(ys, X @ w + b0)
    obj = sw @ cp.logistic(-z) + 0.5 * alpha * cp.sum_squares(w)
    cons = []
    fl, fu = np.isfinite(lower), np.isfinite(upper)
    if fl.any():
        cons.append(w[np.flatnonzero(fl)] >= lower[fl])
    if fu.any():
        cons.append(w[np.flatnonzero(fu)] <= upper[fu])
    if A is not None:
        cons.append(np.asarray(A) @ w == np.asarray(b))
    cp.Problem(cp.Minimize(obj), cons).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12,
        tol_ktratio=1e-10, max_iter=500)
    return w.value, (float(b0.value) if fit_intercept else 0.0)


def _kkt_check(clf, X, y, lower, upper, A=None, b=None, tol=1e-6):
    """Stationarity, feasibility, complementarity and multiplier signs, recomputed here."""
    w = clf.coef_.ravel()
    ys = np.where(y == clf.classes_[1], 1.0, -1.0)
    Xd = X.toarray() if sp.issparse(X) else X
    z = ys * (Xd @ w + clf.intercept_[0])
    r = -ys * expit(-z) / len(ys)
    grad = Xd.T @ r + clf.alpha * w
    if A is not None:
        grad = grad + np.asarray(A).T @ clf.multipliers_[:len(b)]
        np.testing.assert_allclose(np.asarray(A) @ w, b, atol=tol)
    assert np.all(w >= lower - 1e-12) and np.all(w <= upper + 1e-12)
    zl, zu = clf.result_.lower_multipliers[:len(w)], clf.result_.upper_multipliers[:len(w)]
    assert np.all(zl >= 0) and np.all(zu >= 0)
    np.testing.assert_allclose(grad - zl + zu, 0.0, atol=tol)
    assert np.all(zl[w > lower + 1e-8] == 0) and np.all(zu[w < upper - 1e-8] == 0)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("case", ["positive", "positive+eq", "box", "box+eq+weights",
                                  "box-no-intercept"])
def test_bounds_match_cvxpy(kind, case):
    X, y = _data(d=6)
    d = X.shape[1]
    alpha, A, b, sw, fi = 0.02, None, None, None, True
    params = {}
    if case.startswith("positive"):
        params["positive"] = True
        lower, upper = np.zeros(d), np.full(d, np.inf)
    else:
        lower = np.array([-0.5, -np.inf, -0.2, 0.0, -1.0, -0.3])
        upper = np.array([0.5, 0.4, np.inf, 0.6, 1.0, 0.3])
        params["bounds"] = (lower, upper)
    if "eq" in case:
        A, b = np.array([[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]]), np.array([0.5])
        params.update(A_eq=A, b_eq=b)
    if "weights" in case:
        sw = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    if "no-intercept" in case:
        fi = False
    clf = ConstrainedLogisticRegression(alpha=alpha, fit_intercept=fi, tol=1e-10, **params)
    clf.fit(_as(X, kind), y, sample_weight=sw)
    assert clf.method_ == "newton-cg" and clf.result_.success, clf.result_.message
    w_ref, b_ref = _cvxpy_reference(X, y, alpha, lower, upper, A, b, fi, sw)
    np.testing.assert_allclose(clf.coef_.ravel(), w_ref, atol=1e-5)
    assert abs(clf.intercept_[0] - b_ref) <= 1e-5
    assert np.any(clf.coef_.ravel() == lower) or np.any(clf.coef_.ravel() == upper)
    if sw is None:
        _kkt_check(clf, X, y, lower, upper, A, b)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_positive_with_norm_constraint_matches_slsqp(kind):
    # a non-convex feasible set (sphere ∩ orthant ∩ hyperplane): SLSQP from its own start
    X, y = _data(d=5, seed=2)
    A, b = np.array([[1.0, -1.0, 0.0, 0.0, 0.0]]), np.array([0.1])
    clf = ConstrainedLogisticRegression(A_eq=A, b_eq=b, norm_constraint=1.0, positive=True,
                                        fit_intercept=False, tol=1e-10).fit(_as(X, kind), y)
    assert clf.result_.success
    ys = np.where(y == 1, 1.0, -1.0)

    def f(w):
        return np.mean(np.logaddexp(0, -ys * (X @ w)))

    def g(w):
        return X.T @ (-ys * expit(-ys * (X @ w))) / len(ys)

    cons = [{"type": "eq", "fun": lambda w: A @ w - b, "jac": lambda w: A},
            {"type": "eq", "fun": lambda w: np.array([w @ w - 1.0]),
             "jac": lambda w: 2 * w[None, :]}]
    ref = minimize(f, np.full(5, 0.45), jac=g, method="SLSQP", constraints=cons,
                   bounds=Bounds(np.zeros(5), np.full(5, np.inf)),
                   options={"ftol": 1e-15, "maxiter": 1000})
    assert ref.success
    np.testing.assert_allclose(clf.coef_.ravel(), ref.x, atol=1e-5)
    w = clf.coef_.ravel()
    assert abs(w @ w - 1.0) <= 1e-8 and w.min() >= 0


def test_positive_gives_exact_zeros_and_beats_the_clipped_unconstrained_fit():
    X, y = _data(d=6)
    free = ConstrainedLogisticRegression(alpha=0.02).fit(X, y)
    pos = ConstrainedLogisticRegression(alpha=0.02, positive=True).fit(X, y)
    assert np.any(free.coef_ < 0) and np.any(pos.coef_ == 0.0) and pos.coef_.min() >= 0
    clipped = ConstrainedLogisticRegression(alpha=0.02, positive=True)
    clipped.__dict__.update(classes_=pos.classes_, coef_=np.maximum(free.coef_, 0),
                            intercept_=free.intercept_, n_features_in_=6)
    assert pos.score(X, y) >= 0.0  # predicts without error
    ys = np.where(y == 1, 1.0, -1.0)

    def loss(est):
        z = ys * est.decision_function(X)
        return np.mean(np.logaddexp(0, -z)) + 0.01 * np.sum(est.coef_**2)

    assert loss(pos) < loss(clipped)


# ------------------------------------------------------------------------- bad and infeasible

@pytest.mark.parametrize("params,exc,match", [
    ({"bounds": (1.0, 0.0)}, ValueError, "lower > upper"),
    ({"bounds": (None, -1.0), "positive": True}, ValueError, "positive=True and bounds"),
    ({"bounds": (np.zeros(3), None)}, ValueError, r"shape \(6,\)"),
    ({"bounds": (0.0,)}, ValueError, "pair"),
    ({"bounds": (0.0, 1.0, 2.0)}, ValueError, "pair"),
    ({"bounds": (np.nan, 1.0)}, ValueError, "NaN"),
    ({"bounds": (np.inf, None)}, ValueError, "inf"),
    ({"bounds": ("a", 1.0)}, TypeError, "bounds"),
    ({"positive": True, "method": "eal-direct"}, ValueError, "method"),
    ({"positive": "yes"}, ValueError, "positive"),
    ({"positive": True, "options": {"mu0": 1.0}}, ValueError, "options"),
    ({"positive": True, "options": {"max_cg": 0}}, ValueError, "max_cg"),
])
def test_bad_bounds_refused(params, exc, match):
    X, y = _data()
    with pytest.raises(exc, match=match):
        ConstrainedLogisticRegression(**params).fit(X, y)


def test_bounds_infeasible_with_linear_constraints_reported():
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="infeasible"):
        clf = ConstrainedLogisticRegression(A_eq=[[1.0, 1.0, 0, 0, 0, 0]], b_eq=[-1.0],
                                            positive=True).fit(X, y)
    assert not clf.result_.success and clf.result_.status == 4
    assert clf.coef_.min() >= 0


def test_bounds_infeasible_with_norm_constraint_reported():
    # ‖coef‖² <= 6 * 0.1² = 0.06 on the box, so ‖coef‖² = 1 cannot hold
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="infeasible"):
        clf = ConstrainedLogisticRegression(norm_constraint=1.0, bounds=(-0.1, 0.1)).fit(X, y)
    assert not clf.result_.success and clf.result_.status == 4
    assert clf.result_.constr_violation > 0.5


def test_input_not_modified_and_deterministic():
    X, y = _data()
    lower = np.full(6, -0.3)
    Xs = sp.csr_matrix(X)
    copies = (X.copy(), Xs.copy(), lower.copy())
    a = ConstrainedLogisticRegression(bounds=(lower, 0.3)).fit(Xs, y)
    b = ConstrainedLogisticRegression(bounds=(lower, 0.3)).fit(Xs, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(lower, copies[2])
    assert (Xs != copies[1]).nnz == 0


# ------------------------------------------------------------------- the functional solver

def test_minimize_bound_al_on_a_bound_constrained_qp():
    # min ½‖x - t‖² s.t. Σx = 1, 0 <= x: the projection of t onto the simplex (closed form)
    t = np.array([0.9, 0.6, -0.2, 0.3])

    def fun(x):
        return 0.5 * float((x - t) @ (x - t)), x - t

    res = minimize_bound_al(fun, lambda x, y: ((lambda v: v.copy()), np.ones(4)), np.zeros(4),
                            cons=lambda x: np.array([x.sum() - 1.0]),
                            jac=lambda x: np.ones((1, 4)), n_constraints=1,
                            lower=np.zeros(4), tol=1e-12)
    u = np.sort(t)[::-1]
    k = np.max(np.flatnonzero(u - (np.cumsum(u) - 1) / np.arange(1, 5) > 0)) + 1
    ref = np.maximum(t - (np.cumsum(u)[k - 1] - 1) / k, 0)
    assert res.success
    np.testing.assert_allclose(res.x, ref, atol=1e-10)
    np.testing.assert_allclose(res.lower_multipliers[ref == 0],
                               (res.x - t + res.multipliers[0])[ref == 0], atol=1e-10)


def test_minimize_bound_al_callback_stops():
    def stop(intermediate_result):
        raise StopIteration

    res = minimize_bound_al(lambda x: (float(np.sum(np.cosh(x))), np.sinh(x)),
                            lambda x, y: ((lambda v: np.cosh(x) * v), np.cosh(x)),
                            np.full(3, 2.0), callback=stop)
    assert res.status == 99 and res.nit == 1


def test_non_finite_objective_reported():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = minimize_bound_al(lambda x: (np.nan, np.zeros(2)),
                                lambda x, y: ((lambda v: v), np.ones(2)), np.zeros(2))
    assert res.status == 5 and not res.success


def test_minimize_bound_al_with_a_sparse_jacobian():
    # min ½‖x‖² - Σx s.t. x_i - x_{i+1} = 0 (a sparse difference Jacobian), x <= 0.5
    n = 50
    D = sp.diags([np.ones(n - 1), -np.ones(n - 1)], [0, 1], shape=(n - 1, n), format="csr")

    def fun(x):
        return 0.5 * float(x @ x) - float(x.sum()), x - 1.0

    res = minimize_bound_al(fun, lambda x, y: ((lambda v: v.copy()), np.ones(n)), np.zeros(n),
                            cons=lambda x: D @ x, jac=lambda x: D, n_constraints=n - 1,
                            upper=np.full(n, 0.5), tol=1e-10)
    assert res.success
    np.testing.assert_allclose(res.x, 0.5, atol=1e-9)
    np.testing.assert_allclose(res.upper_multipliers.sum(), n * 0.5, atol=1e-7)


# ------------------------------------------------- scikit-learn's checks on the new code paths

def _expected_failures(estimator):
    if estimator.positive:
        # non-negative coefficients cannot reach the check's 83 % training accuracy on data
        # whose classes depend negatively on some features
        return {"check_classifiers_train": "positive=True restricts the model on purpose"}
    return {}


@parametrize_with_checks([ConstrainedLogisticRegression(method="newton-cg"),
                          ConstrainedLogisticRegression(positive=True)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_checks_matrix_free_and_bounds(estimator, check):
    check(estimator)
