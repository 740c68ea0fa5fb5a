"""minimize_bcd against scikit-learn on synthetic problems, every rule / update / partition."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression

from optsolve.bcd import L1, L2, LeastSquares, Logistic, Multinomial, NonNegative, minimize_bcd


def _lasso(X, y, alpha, **kw):
    return Lasso(alpha=alpha, tol=1e-14, max_iter=100000, **kw).fit(X, y)


@pytest.mark.parametrize("density", [None, 0.3])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("selection", ["gsl", "gsq", "gs", "cyclic", "random"])
def test_lasso_fast_path_matches_sklearn(helpers, density, fit_intercept, selection):
    X, y = helpers.make_regression(80, 30, density=density, seed=1)
    y = y + 2.0
    alpha = helpers.alpha_max_ls(X, y - y.mean()) / 10
    res = minimize_bcd(LeastSquares(), L1(alpha), X=X, y=y, tol=1e-12, selection=selection,
                       fit_intercept=fit_intercept, random_state=0)
    ref = _lasso(X, y, alpha, fit_intercept=fit_intercept)
    assert res.success
    assert helpers.rel_err(res.x, ref.coef_) < 1e-6
    assert res.intercept == pytest.approx(ref.intercept_, abs=1e-6)
    b = res.intercept
    assert res.fun == pytest.approx(helpers.ls_objective(X, y - (y.mean() if fit_intercept else 0),
                                                         res.x, alpha, b=b - (
                                                             y.mean() if fit_intercept else 0)),
                                    rel=1e-8)


def test_lasso_working_set_path_matches_sklearn(helpers):
    # many more features than samples: the working-set path with block Gram matrices
    X, y = helpers.make_regression(60, 3000, density=0.05, seed=2)
    alpha = helpers.alpha_max_ls(X, y) / 20
    for fi in (False, True):
        res = minimize_bcd(LeastSquares(), L1(alpha), X=X, y=y, tol=1e-12, fit_intercept=fi)
        ref = _lasso(X, y, alpha, fit_intercept=fi)
        assert helpers.rel_err(res.x, ref.coef_) < 1e-6
        assert res.intercept == pytest.approx(ref.intercept_, abs=1e-7)


def test_nonnegative_lasso_matches_sklearn(helpers):
    X, y = helpers.make_regression(70, 20, seed=3)
    alpha = helpers.alpha_max_ls(X, y) / 20
    res = minimize_bcd(LeastSquares(), L1(alpha, positive=True), X=X, y=y, tol=1e-12)
    ref = _lasso(X, y, alpha, fit_intercept=False, positive=True)
    assert np.all(res.x >= 0)
    assert helpers.rel_err(res.x, ref.coef_) < 1e-6


def test_ridge_matches_sklearn_elasticnet(helpers):
    X, y = helpers.make_regression(70, 20, seed=4)
    alpha = 0.3
    res = minimize_bcd(LeastSquares(), L2(alpha), X=X, y=y, tol=1e-12, fit_intercept=True)
    ref = ElasticNet(alpha=alpha, l1_ratio=0.0, tol=1e-14, max_iter=100000).fit(X, y)
    assert helpers.rel_err(res.x, ref.coef_) < 1e-6
    closed = np.linalg.solve((X - X.mean(0)).T @ (X - X.mean(0)) / 70 + alpha * np.eye(20),
                             (X - X.mean(0)).T @ (y - y.mean()) / 70)
    assert helpers.rel_err(res.x, closed) < 1e-8


@pytest.mark.parametrize("density", [None, 0.3])
def test_l1_logistic_matches_liblinear(helpers, density):
    X, y = helpers.make_regression(120, 15, density=density, seed=5)
    yl = np.where(y > np.median(y), 1.0, -1.0)
    n = X.shape[0]
    alpha = float(np.max(np.abs(X.T @ yl))) / (2 * n) / 8
    res = minimize_bcd(Logistic(), L1(alpha), X=X, y=yl, tol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(l1_ratio=1.0, C=1 / (n * alpha), solver="liblinear",
                                 tol=1e-14, max_iter=100000, fit_intercept=False).fit(X, yl)
    assert helpers.rel_err(res.x, ref.coef_.ravel()) < 1e-5
    assert res.fun == pytest.approx(helpers.logistic_objective(X, yl, res.x, alpha), rel=1e-12)
    assert res.fun <= helpers.logistic_objective(X, yl, ref.coef_.ravel(), alpha) + 1e-12


def test_l2_logistic_with_intercept_matches_lbfgs(helpers):
    X, y = helpers.make_regression(150, 10, seed=6)
    yl = np.where(y > 0.3, 1.0, -1.0)
    alpha = 0.05
    res = minimize_bcd(Logistic(), L2(alpha), X=X, y=yl, tol=1e-12, fit_intercept=True)
    ref = LogisticRegression(C=1 / (150 * alpha), tol=1e-12, max_iter=10000).fit(X, yl)
    assert helpers.rel_err(res.x, ref.coef_.ravel()) < 1e-6
    assert res.intercept == pytest.approx(ref.intercept_[0], abs=1e-6)


def test_multinomial_l2_matches_lbfgs(helpers):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((120, 6))
    y = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((120, 3)), axis=1)
    alpha = 0.05
    res = minimize_bcd(Multinomial(3), L2(alpha), X=X, y=y, tol=1e-8, fit_intercept=True)
    ref = LogisticRegression(C=1 / (120 * alpha), tol=1e-12, max_iter=10000).fit(X, y)
    # the softmax model is invariant to adding a constant per feature across classes; the
    # ridge penalty picks the centred representative in both solvers
    assert helpers.rel_err(res.x.T, ref.coef_) < 1e-6


RULES = ["cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq"]
UPDATES = ["gradient", "adaptive", "matrix", "newton", "exact", "two-metric"]


@pytest.mark.parametrize("selection", RULES)
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("partition", ["order", "sort", "avg", "variable"])
def test_generic_rules_updates_partitions_reach_lasso_solution(helpers, selection, update,
                                                               partition):
    if partition == "variable" and selection in ("cyclic", "lipschitz"):
        pytest.skip("variable blocks are drawn by a greedy rule or at random")
    X, y = helpers.make_regression(40, 12, seed=8, scale_cols=True)
    alpha = helpers.alpha_max_ls(X, y) / 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = minimize_bcd(LeastSquares(), L1(alpha), X=X, y=y, selection=selection,
                           update=update, partition=partition, block_size=3, tol=1e-8,
                           max_iter=30000, random_state=0)
    ref = _lasso(X, y, alpha, fit_intercept=False)
    assert res.success
    assert helpers.rel_err(res.x, ref.coef_) < 1e-4


@pytest.mark.parametrize("update", ["gradient", "adaptive", "matrix", "newton", "two-metric"])
@pytest.mark.parametrize("penalty", ["l1", "l2", "nonneg"])
def test_generic_logistic_updates(helpers, update, penalty):
    X, y = helpers.make_regression(80, 8, seed=9)
    yl = np.where(y > 0, 1.0, -1.0)
    pen = {"l1": L1(0.01), "l2": L2(0.05), "nonneg": NonNegative()}[penalty]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = minimize_bcd(Logistic(), pen, X=X, y=yl, selection="gsq", update=update,
                           block_size=2, tol=1e-8, max_iter=20000)
        ref = minimize_bcd(Logistic(), pen, X=X, y=yl, tol=1e-12, update="auto")
    assert res.success and ref.success
    assert res.fun == pytest.approx(ref.fun, rel=1e-7, abs=1e-9)


def test_history_callback_and_stop(helpers):
    X, y = helpers.make_regression(50, 10, seed=10)
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.fun)
        if len(seen) == 3:
            raise StopIteration

    res = minimize_bcd(LeastSquares(), L1(0.01), X=X, y=y, callback=cb, selection="gsl",
                       update="gradient", record_history=True)
    assert res.status == 99 and not res.success and len(seen) == 3
    assert set(res.history) >= {"iteration", "objective", "rel_gap", "time"}
    assert np.all(np.diff(res.history["objective"]) <= 1e-12)


def test_not_converged_warns(helpers):
    X, y = helpers.make_regression(50, 10, seed=11)
    with pytest.warns(ConvergenceWarning):
        res = minimize_bcd(LeastSquares(), L1(0.001), X=X, y=y, update="gradient", max_iter=3,
                           tol=1e-12)
    assert not res.success and res.nit == 3
