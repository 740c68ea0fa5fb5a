"""Sparse input with an intercept stays sparse (implicit centring) and gives the dense answer:
the decentralized and token-SGD estimators, every engine that reads the packed rows."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression, Ridge

from optsolve import _mpi
from optsolve.decentralized import (
    DecentralizedLogisticRegression,
    DecentralizedProblem,
    DecentralizedRidge,
    partition_data,
    solve,
)
from optsolve.graphs import make_graph
from optsolve.problems.partitioned import PackedData
from optsolve.randomwalk import TokenSGDClassifier, TokenSGDRegressor, token_sgd
from optsolve.utils._testing import fit_peak_memory, sparse_rows_regression


def _sparse_regression(n=200, d=15, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.25, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    X.data += 2.0  # column means far from 0: the intercept matters
    y = np.asarray(X @ rng.standard_normal(d)).ravel() + 3.0 + 0.1 * rng.standard_normal(n)
    return X, y


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# DGD (a fixed step: a biased limit, slow) shares EXTRA's gradient path and is left out
@pytest.mark.parametrize("solver", ["dadao", "extra", "adom+", "msda", "continuized"])
def test_ridge_sparse_with_intercept_equals_dense_and_sklearn(solver):
    X, y = _sparse_regression()
    kw = dict(alpha=0.05, n_nodes=4, graph="complete", solver=solver, tol=1e-9,
              random_state=0, max_events=400_000)
    sparse = DecentralizedRidge(**kw).fit(X, y)
    dense = DecentralizedRidge(**kw).fit(X.toarray(), y)
    # same seed, same events: the two runs differ by rounding only
    assert _rel(sparse.coef_, dense.coef_) < 1e-8
    assert abs(sparse.intercept_ - dense.intercept_) < 1e-8 * max(1.0, abs(dense.intercept_))
    assert sparse.n_iter_ == dense.n_iter_
    ref = Ridge(alpha=0.05 * X.shape[0], solver="cholesky", tol=1e-14).fit(X.toarray(), y)
    assert_allclose(sparse.coef_, ref.coef_, rtol=1e-6, atol=1e-6)
    assert sparse.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-6)


def test_ridge_sparse_mpi_payload_carries_the_centring():
    X, y = _sparse_regression()
    mu = np.asarray(X.mean(axis=0)).ravel()
    prob = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), 0.05, center=mu)
    ref = DecentralizedProblem.ridge(partition_data(X.toarray() - mu, y, 4, random_state=0),
                                     0.05)
    pk = PackedData(**_mpi.local_packed(prob.packed, [1, 3]))
    assert_allclose(pk.center, mu)
    from optsolve.problems import _partitioned_kernels as K

    w = np.random.default_rng(0).standard_normal(X.shape[1])
    for node in (1, 3):
        g = np.empty_like(w)
        K.local_grad_into(*pk.kernel_args(), pk.offsets[node], pk.offsets[node + 1], w,
                          pk.inv_n_total, pk.reg, g, pk.center)
        assert_allclose(g, ref.local_grad(node, w), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("loss", ["ridge", "logistic"])
@pytest.mark.parametrize("solver", ["msda", "continuized"])
def test_conjugate_solvers_on_a_centred_problem_equal_explicit_centring(solver, loss):
    X, y = _sparse_regression()
    if loss == "logistic":
        y = np.where(y > np.median(y), 1.0, -1.0)
    mu = np.asarray(X.mean(axis=0)).ravel()
    make = getattr(DecentralizedProblem, loss)
    imp = make(partition_data(X, y, 4, random_state=0), 0.05, center=mu)
    exp = make(partition_data(X.toarray() - mu, y, 4, random_state=0), 0.05)
    g = make_graph("cycle", 4)
    kw = dict(solver=solver, tol=1e-9, random_state=0, max_events=400_000)
    a, b = solve(imp, g, **kw), solve(exp, g, **kw)
    assert a.success and b.success
    # same seed, same events, the same conjugates up to rounding
    assert _rel(a.x, b.x) < 1e-8
    assert (a.n_gradients, a.n_communications) == (b.n_gradients, b.n_communications)
    assert_allclose(a.x_mean, exp.solution(), rtol=1e-6, atol=1e-7)


def test_conjugate_solver_memory_is_refused_beyond_the_limit(monkeypatch):
    X, y = _sparse_regression()
    # the 5 local 15 x 15 matrices of MSDA's ridge oracle need 8.8 KiB; no copy of X is made
    monkeypatch.setenv("OPTSOLVE_DENSE_LIMIT_BYTES", "5000")
    with pytest.raises(ValueError, match=r"X: the dense local Hessians of solver 'msda'"):
        DecentralizedRidge(solver="msda", n_nodes=4).fit(X, y)
    with pytest.raises(ValueError, match=r"problem: the dense local Hessians of solver 'msda'"):
        solve(DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), 0.1),
              make_graph("complete", 4), solver="msda")
    monkeypatch.setenv("OPTSOLVE_DENSE_LIMIT_BYTES", "1000")  # logistic: one 16 x 16 matrix
    with pytest.raises(ValueError, match=r"X: the dense local Hessians of solver 'continuized'"):
        DecentralizedLogisticRegression(solver="continuized", n_nodes=4).fit(X, y > 0)
    # the default solver holds no d x d matrix: the limit does not apply
    DecentralizedRidge(n_nodes=4, graph="complete", alpha=0.05, tol=1e-4,
                       random_state=0).fit(X, y)


_tall_sparse = sparse_rows_regression


def _ridge_msda_fit(X, y):
    DecentralizedRidge(solver="msda", n_nodes=4, graph="complete", alpha=0.05, tol=1e-3,
                       max_events=20_000, random_state=0).fit(X, y)


def _logistic_continuized_solve(X, y):
    labels = np.where(y > np.median(y), 1.0, -1.0)
    mu = np.asarray(X.mean(axis=0)).ravel()
    prob = DecentralizedProblem.logistic(partition_data(X, labels, 4, random_state=0), 0.05,
                                         center=mu)
    solve(prob, make_graph("complete", 4), solver="continuized", tol=1e-3, max_events=600,
          random_state=0, record_history=False)


@pytest.mark.parametrize("fit", [_ridge_msda_fit, _logistic_continuized_solve],
                         ids=["msda-ridge-estimator", "continuized-logistic-center"])
def test_conjugate_solvers_never_densify_a_centred_sparse_x(fit):
    """Tall sparse X (50 000 x 200, 4 non-zeros a row): its dense copy is 76 MiB, the CSR
    arrays and the oracle's 4 + 1 local 200 x 200 matrices 2 MiB each. The peak of the fit
    (tracemalloc: numpy and scipy allocations) must stay far below one dense copy."""
    X, y = _tall_sparse(50_000, 200, 4)
    peak = fit_peak_memory(fit, X, y, warmup=_tall_sparse(400, 20, 4, seed=1))
    n, d = X.shape
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    bound = 8 * x_bytes + 8 * 8 * (5 * d * d + n)  # copies of X's CSR, the d x d state
    assert bound < 8 * n * d / 2  # a dense copy of X could not pass
    assert peak < bound, f"peak {peak / 2**20:.1f} MiB >= {bound / 2**20:.1f} MiB"


@pytest.mark.parametrize("batch_size", [None, 3])
def test_token_sgd_on_a_centred_problem_equals_explicit_centring(batch_size):
    X, y = _sparse_regression()
    mu = np.asarray(X.mean(axis=0)).ravel()
    imp = DecentralizedProblem.ridge(partition_data(X, y, 6, random_state=0), 0.05, center=mu)
    exp = DecentralizedProblem.ridge(partition_data(X.toarray() - mu, y, 6, random_state=0),
                                     0.05)
    g = make_graph("cycle", 6)
    kw = dict(n_steps=3000, batch_size=batch_size, random_state=0, record_history=False)
    a, b = token_sgd(imp, g, **kw), token_sgd(exp, g, **kw)
    assert _rel(a.x, b.x) < 1e-10


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_logistic_sparse_equals_dense_and_liblinear(fit_intercept):
    X, y = _sparse_regression()
    labels = np.where(y > np.median(y), "up", "down")
    kw = dict(alpha=0.02, n_nodes=4, graph="complete", tol=1e-9, random_state=0,
              fit_intercept=fit_intercept)
    sparse = DecentralizedLogisticRegression(**kw).fit(X, labels)
    dense = DecentralizedLogisticRegression(**kw).fit(X.toarray(), labels)
    assert _rel(sparse.coef_, dense.coef_) < 1e-8
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-8, atol=1e-12)
    ref = LogisticRegression(C=1.0 / (0.02 * X.shape[0]), solver="liblinear", tol=1e-12,
                             fit_intercept=fit_intercept, max_iter=10_000).fit(X, labels)
    assert_allclose(sparse.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    assert_allclose(sparse.intercept_, np.atleast_1d(ref.intercept_), rtol=1e-5, atol=1e-6)


def test_token_sgd_estimators_sparse_equal_dense():
    X, y = _sparse_regression()
    kw = dict(n_agents=5, n_steps=2000, random_state=0)
    a = TokenSGDRegressor(**kw).fit(X, y)
    b = TokenSGDRegressor(**kw).fit(X.toarray(), y)
    assert _rel(a.coef_, b.coef_) < 1e-8 and a.intercept_ == pytest.approx(b.intercept_)
    labels = y > np.median(y)
    c = TokenSGDClassifier(**kw).fit(X, labels)
    d = TokenSGDClassifier(**kw).fit(X.toarray(), labels)
    assert _rel(c.coef_, d.coef_) < 1e-8
    assert_allclose(c.intercept_, d.intercept_, rtol=1e-8)
