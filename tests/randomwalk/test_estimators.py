"""TokenSGDRegressor / TokenSGDClassifier against scikit-learn's centralized solvers."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from optsolve.graphs import make_graph
from optsolve.randomwalk import TokenSGDClassifier, TokenSGDRegressor


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    y = X @ rng.standard_normal(5) + 3.0 + 0.2 * rng.standard_normal(400)
    return X, y


@pytest.mark.parametrize("walk", ["srrw", "mh", "iid"])
def test_regressor_matches_ridge(regression, walk):
    X, y = regression
    l2 = 1e-3
    est = TokenSGDRegressor(n_agents=20, walk=walk, l2_reg=l2, random_state=0).fit(X, y)
    # the intercept is the weight of a constant column, penalized like the others
    Xa = np.hstack([X, np.ones((400, 1))])
    ref = Ridge(alpha=l2 * 400, fit_intercept=False).fit(Xa, y).coef_
    np.testing.assert_allclose(est.coef_, ref[:-1], atol=0.02)
    assert est.intercept_ == pytest.approx(ref[-1], abs=0.02)
    assert est.score(X, y) > 0.99
    assert est.graph_.shape == (20, 20) and est.visits_.sum() == est.n_iter_ == 20_000


def test_regressor_sparse_graph_object_and_history(regression):
    X, y = regression
    g = make_graph("cycle", 10)
    dense = TokenSGDRegressor(graph=g, record_history=True, random_state=1).fit(X, y)
    sparse = TokenSGDRegressor(graph=g, record_history=True, random_state=1).fit(
        sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10)
    assert dense.history_["error"][-1] < 0.05 * dense.history_["error"][0]
    with pytest.raises(ValueError, match="n_agents"):
        TokenSGDRegressor(n_agents=12, graph=g).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 sample"):
        TokenSGDRegressor(n_agents=10).fit(X[:5], y[:5])
    with pytest.raises(ValueError, match="alpha"):
        TokenSGDRegressor(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="disconnected"):
        TokenSGDRegressor(graph=sp.block_diag([make_graph("cycle", 5)] * 2)).fit(X, y)


def test_classifier_binary_matches_logistic_regression():
    X, y = make_classification(400, 6, n_informative=4, random_state=0)
    l2 = 1e-2
    clf = TokenSGDClassifier(n_agents=20, l2_reg=l2, n_steps=40_000, random_state=0).fit(X, y)
    Xa = np.hstack([X, np.ones((400, 1))])
    ref = LogisticRegression(C=1 / (l2 * 400), fit_intercept=False, tol=1e-10,
                             max_iter=1000).fit(Xa, y)
    np.testing.assert_allclose(clf.coef_.ravel(), ref.coef_.ravel()[:-1], atol=0.05)
    agree = np.mean(clf.predict(X) == ref.predict(Xa))
    assert agree > 0.98
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, ref.predict_proba(Xa), atol=0.03)


def test_classifier_multiclass_one_vs_rest():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)  # SGD wants scaled features
    clf = TokenSGDClassifier(n_agents=10, random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 4) and clf.intercept_.shape == (3,)
    assert clf.score(X, y) > 0.9
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
