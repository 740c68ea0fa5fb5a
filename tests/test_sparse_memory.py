"""Entry points that accept sparse input stay O(nnz) in memory (issue 19).

Each case fits on a wide sparse ``X`` (2000 x 30000, 30 non-zeros a row: 60 000 non-zeros,
about 1 MB) whose dense copy would need 480 MB, and checks the peak of ``tracemalloc`` (numpy
and scipy allocations) against

    peak < C · (bytes of X's CSR arrays + 8 · (n_samples + n_nodes · n_features)),

``C = MEMORY_FACTOR = 16``. The ``n_nodes · n_features`` term is the state the methods hold by
design (DADAO: six vectors per node; the nodes' iterates), ``n_samples`` the targets and
margins. A dense copy of ``X`` alone would exceed the bound (27 MB) 17 times over. Numba compilation
is done on a tiny problem first, so that its allocations are not counted; one BLAS thread.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from optsolve.datasets import make_sparse_regression
from optsolve.decentralized import (
    DecentralizedLogisticRegression,
    DecentralizedProblem,
    DecentralizedRidge,
    partition_data,
)
from optsolve.randomwalk import TokenSGDClassifier, TokenSGDRegressor

N_SAMPLES, N_FEATURES, ROW_NNZ = 2000, 30_000, 30
N_NODES = 4
MEMORY_FACTOR = 16


def _wide(n=N_SAMPLES, d=N_FEATURES, seed=0):
    rng = np.random.default_rng(seed)
    # ROW_NNZ columns a row drawn in O(nnz) (scipy.sparse.random permutes all n·d cells);
    # values 1 + N(0, 1): non-zero column means, the intercept is not trivial
    cols = rng.integers(0, d, size=(n, ROW_NNZ))
    X = sp.csr_matrix((1.0 + rng.standard_normal(n * ROW_NNZ), cols.ravel(),
                       np.arange(0, n * ROW_NNZ + 1, ROW_NNZ)), shape=(n, d))
    X.sum_duplicates()
    y = np.asarray(X @ rng.standard_normal(d)).ravel() + 1.0 + 0.1 * rng.standard_normal(n)
    return X, y


def _ridge(X, y):
    return DecentralizedRidge(n_nodes=N_NODES, graph="complete", alpha=1e-2, tol=1e-3,
                              random_state=0).fit(X, y)


def _ridge_extra(X, y):
    return DecentralizedRidge(n_nodes=N_NODES, graph="complete", solver="extra", alpha=1e-2,
                              tol=1e-3, random_state=0).fit(X, y)


def _logistic(X, y):
    return DecentralizedLogisticRegression(n_nodes=N_NODES, graph="complete", alpha=1e-2,
                                           tol=1e-3, random_state=0).fit(X, y > np.median(y))


def _token_regressor(X, y):
    return TokenSGDRegressor(n_agents=N_NODES, n_steps=300, random_state=0).fit(X, y)


def _token_classifier(X, y):
    return TokenSGDClassifier(n_agents=N_NODES, n_steps=300, random_state=0).fit(
        X, y > np.median(y))


def _ridge_solution(X, y):
    parts = partition_data(X, y, N_NODES, random_state=0)
    prob = DecentralizedProblem.ridge(parts, 1e-2, center=np.asarray(X.mean(axis=0)).ravel())
    w = prob.solution()
    assert np.linalg.norm(prob.grad(w)) <= 1e-11 * max(1.0, np.linalg.norm(prob.grad(0 * w)))


def _logistic_solution(X, y):
    parts = partition_data(X, np.where(y > np.median(y), 1.0, -1.0), N_NODES, random_state=0)
    prob = DecentralizedProblem.logistic(parts, 1e-2)
    w = prob.solution()
    assert np.linalg.norm(prob.grad(w)) <= 1e-11 * max(1.0, np.linalg.norm(prob.grad(0 * w)))


def _partition(X, y):
    partition_data(X, y, N_NODES, how="dirichlet", random_state=0)


def _make_sparse_regression(X, y):
    make_sparse_regression(X.shape[0], X.shape[1], density=ROW_NNZ / X.shape[1],
                           n_informative=10, random_state=0)


CASES = {
    "DecentralizedRidge(fit_intercept=True)": _ridge,
    "DecentralizedRidge(solver='extra')": _ridge_extra,
    "DecentralizedLogisticRegression": _logistic,
    "TokenSGDRegressor": _token_regressor,
    "TokenSGDClassifier": _token_classifier,
    "DecentralizedProblem.ridge(center=).solution": _ridge_solution,
    "DecentralizedProblem.logistic.solution": _logistic_solution,
    "partition_data": _partition,
    "make_sparse_regression": _make_sparse_regression,
}


@pytest.fixture(scope="module")
def wide():
    return _wide()


@pytest.mark.parametrize("name", list(CASES))
def test_peak_memory_is_linear_in_nnz(name, wide):
    X, y = wide
    fit = CASES[name]
    with warnings.catch_warnings():
        # short runs (tol=1e-3, a few hundred token steps) may stop on their budgets
        warnings.simplefilter("ignore")
        Xs, ys = _wide(200, 300, seed=1)
        with threadpool_limits(1):
            fit(Xs, ys)  # compile / load the numba kernels outside the measure
        tracemalloc.start()
        try:
            with threadpool_limits(1):
                fit(X, y)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    n, d = X.shape
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    bound = MEMORY_FACTOR * (x_bytes + 8 * (n + N_NODES * d))
    assert 8 * n * d > 15 * bound  # a dense copy could not pass
    print(f"{name}: peak {peak / 2**20:.2f} MiB, bound {bound / 2**20:.1f} MiB")
    assert peak < bound, f"{name}: peak {peak / 2**20:.1f} MiB >= {bound / 2**20:.1f} MiB"
