"""ConstrainedLogisticRegression against independent references (scikit-learn without
constraints, scipy trust-constr with them)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import NonlinearConstraint, minimize
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from optsolve.constrained import ConstrainedLogisticRegression


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) + 0.5 * rng.standard_normal(150) > 0)
    return X, np.where(y, "yes", "no")


def test_unconstrained_matches_sklearn(data):
    X, y = data
    alpha = 0.05
    clf = ConstrainedLogisticRegression(alpha=alpha, random_state=0).fit(X, y)
    ref = LogisticRegression(C=1.0 / (alpha * X.shape[0]), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("sketch", ["kaczmarz", "gaussian"])
def test_constrained_matches_trust_constr(data, sketch):
    X, y = data
    ys = np.where(y == "yes", 1.0, -1.0)
    A = np.array([[1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0, 0.0]])
    b = np.array([0.0, 0.2])
    clf = ConstrainedLogisticRegression(A, b, norm_constraint=1.0, fit_intercept=False,
                                        sketch=sketch, random_state=0).fit(X, y)
    w = clf.coef_.ravel()
    np.testing.assert_allclose(A @ w, b, atol=1e-6)
    assert abs(w @ w - 1.0) <= 1e-6
    assert clf.kkt_ <= 1e-6 and clf.n_iter_ > 0

    def loss(w):
        return np.mean(np.logaddexp(0, -ys * (X @ w)))

    def grad(w):
        return X.T @ (-ys * expit(-ys * (X @ w))) / len(ys)

    cons = [NonlinearConstraint(lambda w: A @ w, b, b, jac=lambda w: A),
            NonlinearConstraint(lambda w: w @ w, 1.0, 1.0, jac=lambda w: 2 * w[None, :])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = minimize(loss, w, jac=grad, constraints=cons, method="trust-constr",
                       options={"gtol": 1e-10, "xtol": 1e-14, "maxiter": 2000})
    np.testing.assert_allclose(w, ref.x, atol=1e-5)


def test_sparse_input_and_history(data):
    X, y = data
    dense = ConstrainedLogisticRegression([[1.0, -1.0, 0, 0, 0]], norm_constraint=2.0,
                                          random_state=0, record_history=True).fit(X, y)
    sparse = ConstrainedLogisticRegression([[1.0, -1.0, 0, 0, 0]], norm_constraint=2.0,
                                           random_state=0).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, atol=1e-6)
    assert len(dense.history_["kkt"]) == dense.n_iter_ + 1
    assert not hasattr(sparse, "history_")


@pytest.mark.parametrize("params,match", [
    ({"A_eq": np.ones((2, 3))}, "A_eq"),
    ({"A_eq": np.ones((2, 5)), "b_eq": [1.0]}, "b_eq"),
    ({"b_eq": [1.0]}, "b_eq"),
])
def test_bad_constraint_shapes(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        ConstrainedLogisticRegression(**params).fit(X, y)


def test_multiclass_refused(data):
    X, _ = data
    with pytest.raises(ValueError, match="binary"):
        ConstrainedLogisticRegression().fit(X, np.arange(len(X)) % 3)


# ---------------------------------------------------------------- hostile-input regressions


@pytest.mark.parametrize("constraints", [
    {"A_eq": [[1.0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0]], "b_eq": [0.0, 1.0]},
    {"A_eq": [[1.0, 1.0, 0, 0, 0]], "b_eq": [3.0], "norm_constraint": 1.0},
])
def test_infeasible_constraints_fail_loudly(data, constraints):
    # used to return quietly with a KKT residual of 3.5
    from sklearn.exceptions import ConvergenceWarning

    X, y = data
    with pytest.warns(ConvergenceWarning, match="infeasible"):
        clf = ConstrainedLogisticRegression(**constraints, random_state=0).fit(X, y)
    assert not clf.result_.success and clf.result_.status == 4
    assert clf.result_.constr_violation > 0.1


@pytest.mark.parametrize("sample_weight", [0, 0.0, -1.0, np.nan, np.inf, "a", [1.0, 2.0]])
def test_bad_sample_weight_refused(data, sample_weight):
    # a scalar 0 used to give NaN weights and a fit with an infinite KKT residual
    X, y = data
    with pytest.raises((ValueError, TypeError), match="sample_weight"):
        ConstrainedLogisticRegression().fit(X, y, sample_weight=sample_weight)


def test_positive_scalar_sample_weight_is_uniform(data):
    X, y = data
    a = ConstrainedLogisticRegression(alpha=0.1, random_state=0).fit(X, y, sample_weight=3.0)
    b = ConstrainedLogisticRegression(alpha=0.1, random_state=0).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)


def test_wide_sparse_input_never_forms_a_dense_hessian():
    # a 20000 x 200000 sparse X used to ask for a 298 GiB dense Hessian; the assembled path
    # (method='eal-sketch' forced) still never forms a dense one
    import tracemalloc

    from sklearn.exceptions import ConvergenceWarning

    n, d = 400, 10_000
    rng = np.random.default_rng(0)
    X = sp.random(n, d, density=1e-3, format="csr", random_state=0)
    y = (X @ rng.standard_normal(d) > 0).astype(int)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = ConstrainedLogisticRegression(
                norm_constraint=1.0, alpha=1e-3, max_iter=2, random_state=0,
                method="eal-sketch",
                options={"inner_fallback": False, "max_inner": 500}).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.05 * 8 * d * d  # a dense Hessian alone is 800 MB
    assert np.all(np.isfinite(clf.coef_)) and clf.n_iter_ == 2
