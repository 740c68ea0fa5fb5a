"""GreedyBCDRegressor / GreedyBCDClassifier against scikit-learn on shared and synthetic data."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression

from optsolve.bcd import GreedyBCDClassifier, GreedyBCDRegressor
from optsolve.utils._testing import need_data


def _libsvm(name, n_rows=None):
    X, y = load_svmlight_file(str(need_data(f"libsvm/{name}")))
    if n_rows:
        X, y = X[:n_rows], y[:n_rows]
    return sp.csr_matrix(X), y


@pytest.mark.data
@pytest.mark.parametrize("name", ["cpusmall", "abalone_scale"])
def test_regressor_matches_sklearn_lasso_on_shared_data(helpers, name):
    X, y = _libsvm(name)
    X = X.toarray()
    X = X / X.std(axis=0).clip(1e-12)
    alpha = float(np.max(np.abs(X.T @ (y - y.mean())))) / X.shape[0] / 50
    ours = GreedyBCDRegressor(alpha=alpha, tol=1e-12).fit(X, y)
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=100000).fit(X, y)
    assert helpers.rel_err(ours.coef_, ref.coef_) < 1e-6
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)
    assert ours.dual_gap_ < 1e-9


@pytest.mark.data
@pytest.mark.parametrize("name", ["breast-cancer_scale", "a9a"])
def test_classifier_matches_liblinear_l1_on_shared_data(helpers, name):
    X, y = _libsvm(name, n_rows=3000)
    n = X.shape[0]
    alpha = 0.002
    ours = GreedyBCDClassifier(alpha=alpha, tol=1e-11, fit_intercept=False).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(l1_ratio=1.0, C=1 / (n * alpha), solver="liblinear",
                                 tol=1e-12, max_iter=100000, fit_intercept=False).fit(X, y)
    obj = helpers.logistic_objective
    yl = np.where(y > 0, 1.0, -1.0)
    X = X.toarray()
    assert obj(X, yl, ours.coef_.ravel(), alpha) <= obj(X, yl, ref.coef_.ravel(), alpha) + 1e-10
    assert ours.dual_gap_ < 1e-8
    if name != "a9a":  # a9a's one-hot columns are collinear: the L1 solution is not unique
        assert helpers.rel_err(ours.coef_, ref.coef_) < 1e-6


@pytest.mark.parametrize("sparse", [False, True])
def test_regressor_l1_and_l2_on_synthetic(helpers, sparse):
    X, y = helpers.make_regression(90, 40, density=0.3 if sparse else None, seed=3)
    alpha = helpers.alpha_max_ls(X, y - y.mean()) / 30
    ours = GreedyBCDRegressor(alpha=alpha, tol=1e-12).fit(X, y)
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=100000).fit(X, y)
    assert helpers.rel_err(ours.coef_, ref.coef_) < 1e-6
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-8)
    ridge = GreedyBCDRegressor(alpha=0.2, penalty="l2", tol=1e-12).fit(X, y)
    en = ElasticNet(alpha=0.2, l1_ratio=0.0, tol=1e-14, max_iter=100000).fit(X, y)
    assert helpers.rel_err(ridge.coef_, en.coef_) < 1e-6
    assert np.isnan(ridge.dual_gap_)


def test_warm_start_reuses_solution(helpers):
    X, y = helpers.make_regression(80, 30, seed=4)
    reg = GreedyBCDRegressor(alpha=0.05, warm_start=True, tol=1e-10).fit(X, y)
    first = reg.n_iter_
    reg.fit(X, y)
    assert reg.n_iter_ <= 1 < first or reg.n_iter_ < first


def test_classifier_string_labels_proba_and_history(helpers):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((150, 6))
    y = np.where(X[:, 0] - X[:, 1] > 0, "spam", "ham")
    clf = GreedyBCDClassifier(alpha=0.01, record_history=True).fit(X, y)
    assert list(clf.classes_) == ["ham", "spam"]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert clf.decision_function(X).shape == (150,)
    assert clf.score(X, y) > 0.9
    assert set(clf.history_) >= {"objective", "rel_gap"}


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_multinomial_classifier(helpers, penalty):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((150, 5))
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3] + 0.3 * rng.standard_normal((150, 3)), 1)]
    clf = GreedyBCDClassifier(alpha=0.01, loss="multinomial", penalty=penalty,
                              tol=1e-9).fit(X, y)
    assert clf.coef_.shape == (3, 5) and clf.intercept_.shape == (3,)
    if penalty == "l2":
        ref = LogisticRegression(C=1 / (150 * 0.01), tol=1e-12, max_iter=10000).fit(X, y)
        np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    else:
        assert clf.dual_gap_ < 1e-6
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("labels", [
    np.array([0.0, 1.0, 2.5]),           # a non-integral float
    np.array([0.0, 1.0, 1e20]),          # integral, but not through int64 (type_of_target)
])
def test_classifier_refuses_continuous_targets_as_scikit_learn_does(labels):
    from sklearn.utils.multiclass import type_of_target

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = labels[np.arange(30) % 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # its cast of 1e20 to int64
        assert type_of_target(y) == "continuous"
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        GreedyBCDClassifier().fit(X, y)


@pytest.mark.parametrize("y", [
    np.array([-1.0, 1.0] * 15), np.array([True, False] * 15), np.arange(30) % 3,
    np.array(["a", "b", "c"] * 10),
])
def test_classifier_accepts_discrete_targets_of_every_dtype(y):
    X = np.random.default_rng(1).standard_normal((30, 3))
    clf = GreedyBCDClassifier(alpha=0.01).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))


def test_classifier_warns_when_classes_outnumber_half_the_samples():
    X = np.random.default_rng(2).standard_normal((30, 2))
    y = np.arange(30) % 20
    with pytest.warns(UserWarning, match="number of unique classes is greater than 50%"):
        GreedyBCDClassifier(alpha=0.5).fit(X, y)
