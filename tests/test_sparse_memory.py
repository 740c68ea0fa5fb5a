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

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.datasets import make_sparse_regression
from optsolve.decentralized import (
    DecentralizedLogisticRegression,
    DecentralizedProblem,
    DecentralizedRidge,
    partition_data,
)
from optsolve.randomwalk import TokenSGDClassifier, TokenSGDRegressor
from optsolve.utils._testing import fit_peak_memory, sparse_rows_regression

N_SAMPLES, N_FEATURES, ROW_NNZ = 2000, 30_000, 30
N_NODES = 4
MEMORY_FACTOR = 16


def _wide(n=N_SAMPLES, d=N_FEATURES, seed=0):
    return sparse_rows_regression(n, d, ROW_NNZ, seed)


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
    # short runs (tol=1e-3, a few hundred token steps) may stop on their budgets
    peak = fit_peak_memory(fit, X, y, warmup=_wide(200, 300, seed=1))
    n, d = X.shape
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    bound = MEMORY_FACTOR * (x_bytes + 8 * (n + N_NODES * d))
    assert 8 * n * d > 15 * bound  # a dense copy could not pass
    print(f"{name}: peak {peak / 2**20:.2f} MiB, bound {bound / 2**20:.1f} MiB")
    assert peak < bound, f"{name}: peak {peak / 2**20:.1f} MiB >= {bound / 2**20:.1f} MiB"


# -- methods that need a dense n_features² matrix: refused before allocating ------------------

D_HUGE = 200_000  # n_features² doubles = 298 GiB


def _huge_sparse(n=400, d=D_HUGE, row_nnz=5, seed=0):
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, d, size=(n, row_nnz))
    X = sp.csr_matrix((1.0 + rng.random(n * row_nnz), cols.ravel(),
                       np.arange(0, n * row_nnz + 1, row_nnz)), shape=(n, d))
    X.sum_duplicates()
    return X, np.arange(n) % 2


def _msda_ridge():
    X, y = _huge_sparse()
    DecentralizedRidge(solver="msda", n_nodes=N_NODES).fit(X, y)


def _continuized_logistic():
    X, y = _huge_sparse()
    DecentralizedLogisticRegression(solver="continuized", n_nodes=N_NODES).fit(X, y)


def _msda_solve():
    from optsolve.decentralized import solve
    from optsolve.graphs import make_graph

    X, y = _huge_sparse()
    prob = DecentralizedProblem.ridge(partition_data(X, y, N_NODES, random_state=0), 0.1)
    solve(prob, make_graph("complete", N_NODES), solver="msda")


def _asymptotic_covariance():
    from optsolve.graphs import make_graph
    from optsolve.randomwalk import theta_asymptotic_covariance

    X, y = _huge_sparse()
    prob = DecentralizedProblem.ridge(partition_data(X, y, N_NODES, random_state=0), 0.1)
    theta_asymptotic_covariance(prob, make_graph("complete", N_NODES), 1.0)


def _assembled_constrained_logistic():
    from optsolve.constrained import ConstrainedLogisticRegression

    # 3000 rows of 300 non-zeros: the assembled XᵀDX holds up to 2.7e8 entries (3 GiB)
    X, y = _huge_sparse(n=3000, row_nnz=300)
    A = np.ones((1, D_HUGE))
    ConstrainedLogisticRegression(A_eq=A, b_eq=[1.0], method="eal-direct").fit(X, y)


def _slsqp():
    from optsolve.problems import FunctionProblem, to_scipy

    prob = FunctionProblem(lambda x: float(x @ x), np.zeros(D_HUGE), grad=lambda x: 2 * x,
                           cons=lambda x: [x.sum() - 1.0], jac=lambda x: np.ones((1, x.size)),
                           hess=lambda x, v: 2.0 * sp.identity(x.size, format="csr"))
    to_scipy(prob, "SLSQP")


def _quadratic_engine():
    from optsolve.bcd import L1, Quadratic, minimize_bcd

    A = sp.identity(D_HUGE, format="csr") * 2.0
    minimize_bcd(Quadratic(), L1(0.1), X=A, y=np.ones(D_HUGE))


def _forest_gram():
    from optsolve.bcd import LeastSquares, minimize_bcd

    # 3000 rows of 300 non-zeros: XᵀX fills in up to 2.7e8 entries (3 GiB)
    X, _ = _huge_sparse(n=3000, row_nnz=300)
    minimize_bcd(LeastSquares(), None, X=X, y=np.ones(3000), update="message-passing")


REFUSED = {
    "DecentralizedRidge(solver='msda')": (_msda_ridge, "X: the dense local Hessians"),
    "DecentralizedLogisticRegression(solver='continuized')": (
        _continuized_logistic, "X: the dense local Hessians"),
    "solve(solver='msda')": (_msda_solve, "problem: the dense local Hessians"),
    "theta_asymptotic_covariance": (_asymptotic_covariance, "problem: the n_features x"),
    "ConstrainedLogisticRegression(method='eal-direct')": (
        _assembled_constrained_logistic, "X: the Hessian XᵀDX"),
    "to_scipy(method='SLSQP')": (_slsqp, "problem: scipy's SLSQP"),
    "minimize_bcd(Quadratic(), sparse A)": (_quadratic_engine, "datafit.A: the quadratic"),
    "minimize_bcd(update='message-passing')": (_forest_gram, "X: message passing's Gram"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_dense_methods_refuse_before_allocating(name):
    fit, match = REFUSED[name]
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match) as info:
            fit()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "GiB" in str(info.value) and "OPTSOLVE_DENSE_LIMIT_BYTES" in str(info.value)
    assert peak < 200 * 2**20  # the inputs only: nothing of the refused size was tried
