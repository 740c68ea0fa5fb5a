"""DecentralizedRidge / DecentralizedLogisticRegression against scikit-learn's centralized fits."""

import importlib.util
import shutil

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression, Ridge

from optsolve.decentralized import DecentralizedLogisticRegression, DecentralizedRidge
from optsolve.graphs import make_graph


def _regression(n=240, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y


def _classification(n=240, d=5, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    scores = X @ rng.standard_normal((d, n_classes))
    return X, np.array(["c0", "c1", "c2", "c3"])[scores.argmax(axis=1)]


@pytest.mark.parametrize("solver", ["dadao", "extra"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("graph", ["cycle", "star"])
def test_ridge_matches_sklearn(solver, fit_intercept, graph):
    X, y = _regression()
    alpha = 0.05
    est = DecentralizedRidge(alpha=alpha, n_nodes=6, graph=graph, solver=solver, tol=1e-8,
                             fit_intercept=fit_intercept, random_state=0).fit(X, y)
    ref = Ridge(alpha=alpha * X.shape[0], fit_intercept=fit_intercept).fit(X, y)
    assert est.success_
    assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)
    assert est.node_coefs_.shape == (6, X.shape[1])
    assert_allclose(est.node_coefs_, np.tile(ref.coef_, (6, 1)), rtol=1e-4, atol=1e-5)
    assert est.n_gradients_ > 0 and est.n_communications_ > 0 and est.n_iter_ > 0
    assert est.consensus_error_ >= 0


def test_ridge_sparse_input_matches_dense():
    X, y = _regression()
    X[np.abs(X) < 0.8] = 0.0
    kw = dict(alpha=0.05, n_nodes=4, graph="complete", tol=1e-8, random_state=3)
    for fit_intercept in (True, False):
        dense = DecentralizedRidge(fit_intercept=fit_intercept, **kw).fit(X, y)
        sparse = DecentralizedRidge(fit_intercept=fit_intercept, **kw).fit(sp.csr_matrix(X), y)
        assert_allclose(sparse.coef_, dense.coef_, rtol=1e-5, atol=1e-7)
        assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), atol=1e-5)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_logistic_binary_matches_liblinear(fit_intercept):
    X, y = _classification()
    alpha = 0.02
    est = DecentralizedLogisticRegression(alpha=alpha, n_nodes=5, graph="cycle", tol=1e-8,
                                          fit_intercept=fit_intercept, random_state=0)
    est.fit(X, y)
    # liblinear penalizes its synthetic intercept feature exactly like our appended column
    ref = LogisticRegression(C=1.0 / (alpha * X.shape[0]), solver="liblinear", tol=1e-12,
                             fit_intercept=fit_intercept, intercept_scaling=1.0,
                             max_iter=10000).fit(X, y)
    assert est.success_
    assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    assert_allclose(est.intercept_, np.atleast_1d(ref.intercept_), atol=1e-5)
    assert est.coef_.shape == (1, X.shape[1]) and est.node_coefs_.shape == (5, X.shape[1])
    assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))


def test_logistic_no_intercept_matches_lbfgs():
    X, y = _classification(seed=1)
    alpha = 0.01
    est = DecentralizedLogisticRegression(alpha=alpha, n_nodes=4, graph="path", tol=1e-8,
                                          fit_intercept=False, random_state=1).fit(X, y)
    ref = LogisticRegression(C=1.0 / (alpha * X.shape[0]), fit_intercept=False, tol=1e-12,
                             max_iter=10000).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-5)


def test_logistic_multiclass_one_vs_rest():
    X, y = _classification(n=300, n_classes=3, seed=2)
    alpha = 0.02
    est = DecentralizedLogisticRegression(alpha=alpha, n_nodes=4, graph="complete", tol=1e-8,
                                          random_state=0).fit(X, y)
    assert est.coef_.shape == (3, X.shape[1]) and est.intercept_.shape == (3,)
    assert est.node_coefs_.shape == (3, 4, X.shape[1])
    for k, label in enumerate(est.classes_):
        ref = LogisticRegression(C=1.0 / (alpha * X.shape[0]), solver="liblinear", tol=1e-12,
                                 max_iter=10000).fit(X, y == label)
        assert_allclose(est.coef_[k], ref.coef_[0], rtol=1e-4, atol=1e-5)
        assert_allclose(est.intercept_[k], ref.intercept_[0], atol=1e-5)


def test_graph_as_adjacency_and_networkx():
    nx = pytest.importorskip("networkx")
    X, y = _regression()
    A = make_graph("cycle", 5)
    by_name = DecentralizedRidge(n_nodes=5, graph="cycle", random_state=0).fit(X, y)
    by_adj = DecentralizedRidge(n_nodes=5, graph=A, random_state=0).fit(X, y)
    by_dense = DecentralizedRidge(n_nodes=5, graph=A.toarray(), random_state=0).fit(X, y)
    by_nx = DecentralizedRidge(n_nodes=5, graph=nx.cycle_graph(5), random_state=0).fit(X, y)
    for other in (by_adj, by_dense, by_nx):
        assert_allclose(other.coef_, by_name.coef_, rtol=1e-10)


def test_same_seed_same_fit_and_history():
    X, y = _regression()
    kw = dict(n_nodes=4, graph="cycle", random_state=7, record_history=True)
    a = DecentralizedRidge(**kw).fit(X, y)
    b = DecentralizedRidge(**kw).fit(X, y)
    assert_allclose(a.node_coefs_, b.node_coefs_)
    assert a.n_communications_ == b.n_communications_
    assert isinstance(a.history_, dict) and a.history_
    assert not hasattr(DecentralizedRidge(n_nodes=4).fit(X, y), "history_")


def test_bad_input_raises_clear_errors():
    X, y = _regression(n=30)
    with pytest.raises(ValueError, match="n_nodes=8"):
        DecentralizedRidge(n_nodes=8).fit(X[:5], y[:5])
    with pytest.raises(ValueError, match="graph has 5 nodes"):
        DecentralizedRidge(n_nodes=4, graph=make_graph("cycle", 5)).fit(X, y)
    disconnected = np.zeros((4, 4))
    disconnected[0, 1] = disconnected[1, 0] = disconnected[2, 3] = disconnected[3, 2] = 1.0
    with pytest.raises(ValueError, match="connected"):
        DecentralizedRidge(n_nodes=4, graph=disconnected).fit(X, y)
    directed = np.zeros((4, 4))
    directed[[0, 1, 2, 3], [1, 2, 3, 0]] = 1.0
    with pytest.raises(ValueError, match=r"symmetric|undirected"):
        DecentralizedRidge(n_nodes=4, graph=directed).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        DecentralizedRidge(alpha=0.0).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        DecentralizedRidge(solver="admm").fit(X, y)
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DecentralizedRidge(n_nodes=4).fit(Xnan, y)
    with pytest.raises(ValueError, match="class"):
        DecentralizedLogisticRegression(n_nodes=4).fit(X, np.ones(30))


def test_input_not_modified():
    X, y = _regression()
    X0, y0 = X.copy(), y.copy()
    DecentralizedRidge(n_nodes=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.skipif(
    shutil.which("mpiexec") is None or importlib.util.find_spec("mpi4py") is None,
    reason="needs mpiexec and mpi4py (the [distributed] extra)")
def test_mpi_backend_reaches_the_simulator_optimum():
    pytest.importorskip("optsolve.decentralized.mpi", reason="MPI runner not on this branch")
    X, y = _regression(n=120, d=4)
    kw = dict(alpha=0.05, n_nodes=4, graph="cycle", tol=1e-6, random_state=0)
    sim = DecentralizedRidge(**kw).fit(X, y)
    mpi = DecentralizedRidge(backend="mpi", max_time=60.0, **kw).fit(X, y)
    assert_allclose(mpi.coef_, sim.coef_, rtol=1e-4, atol=1e-5)
