"""The device engine of greedy BCD, run on numpy: its loop against the CPU solver, and the numpy
references of its CUDA kernels against brute force (tests/gpu/test_bcd.py compares the kernels
with these references on a GPU)."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve._backend import host_transfers
from optsolve.bcd import L1, L2, LeastSquares, Logistic, minimize_bcd
from optsolve.bcd import _gpu_ops as ops
from optsolve.bcd import rules as R
from optsolve.bcd._gpu import solve_device

RULES = {"gs": 0, "gsl": 1, "gsq": 3}
PENS = [0, 1, 2, 3, 4]


def _problem(loss, sparse, n=50, p=30, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=0.2, random_state=seed, format="csr",
                  data_rvs=rng.standard_normal)
    X = X + sp.csr_matrix((np.ones(p), (rng.integers(0, n, p), np.arange(p))), shape=(n, p))
    coef = np.zeros(p)
    coef[:5] = rng.standard_normal(5)
    y = X @ coef + 0.1 * rng.standard_normal(n)
    if loss == "logistic":
        y = np.where(y > np.median(y), 1.0, -1.0)
    return (X.tocsr() if sparse else X.toarray()), y


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("pen", PENS)
def test_scores_reference_matches_scalar_kernel(rule, pen):
    rng = np.random.default_rng(pen)
    g, lips = rng.standard_normal(200), rng.uniform(0.1, 3.0, 200)
    w = rng.standard_normal(200)
    w[::3] = 0.0
    if pen in (3, 4):
        w = np.abs(w)
    got = ops.scores_ref(np, RULES[rule], pen, 0.3, g, w, lips)
    want = [R.coord_score(RULES[rule], pen, 0.3, g[j], w[j], lips[j]) for j in range(200)]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("use_sum", [False, True])
def test_block_step_reference(use_sum):
    rng = np.random.default_rng(1)
    p = 20
    g, w, lips = rng.standard_normal(p), rng.standard_normal(p), rng.uniform(0.5, 2, p)
    coords = np.array([3, 7, 11, p + 2], dtype=np.int64)  # the last one is padding
    w_new, delta = w.copy(), np.zeros(4)
    ops.block_step(np, coords, p, g, w_new, lips, use_sum, 1, 0.2, delta)
    lip = lips[[3, 7, 11]].sum() if use_sum else lips[[3, 7, 11]]
    u = w[[3, 7, 11]] - g[[3, 7, 11]] / lip
    want = np.sign(u) * np.maximum(np.abs(u) - 0.2 / lip, 0.0)
    np.testing.assert_allclose(w_new[[3, 7, 11]], want, rtol=1e-14)
    np.testing.assert_allclose(delta, np.r_[want - w[[3, 7, 11]], 0.0], rtol=1e-14, atol=1e-16)
    untouched = np.setdiff1d(np.arange(p), [3, 7, 11])
    np.testing.assert_array_equal(w_new[untouched], w[untouched])


@pytest.mark.parametrize("loss", [0, 1])
@pytest.mark.parametrize("sparse", [True, False])
def test_refresh_reference_matches_recomputation(loss, sparse):
    Xs, y = _problem("logistic" if loss else "ls", True, seed=3)
    X = Xs if sparse else Xs.toarray()
    n, p = X.shape
    rng = np.random.default_rng(2)
    w = rng.standard_normal(p) * 0.1
    z = np.asarray(X @ w).ravel()
    deriv = ops.loss_derivative_ref(np, loss, z, y)
    grad = np.asarray(X.T @ deriv).ravel() / n
    coords = np.array([2, 9, 17], dtype=np.int64)
    delta = np.array([0.3, -0.2, 0.0])
    w[coords] += delta
    if sparse:
        csc = sp.csc_matrix(Xs)
        arrays = lambda m: (m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data)  # noqa: E731
        dz, flags = np.zeros(n), np.zeros(n, dtype=np.int32)
        ops.sparse_refresh(np, coords, p, delta, arrays(csc), arrays(Xs), loss, y, 1.0 / n, z, dz,
                           deriv, grad, flags)
        assert not dz.any() and not flags.any()
    else:
        ops.dense_refresh(np, coords, p, delta, X, loss, y, 1.0 / n, z, deriv, grad)
    z_want = np.asarray(X @ w).ravel()
    d_want = ops.loss_derivative_ref(np, loss, z_want, y)
    np.testing.assert_allclose(z, z_want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(deriv, d_want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, np.asarray(X.T @ d_want).ravel() / n, rtol=1e-12,
                               atol=1e-14)


def test_top_k_picks_the_largest_scores():
    s = np.random.default_rng(0).permutation(100).astype(float)
    idx = ops.top_k(np, s, 7)
    assert sorted(s[idx]) == list(range(93, 100))
    assert ops.top_k(np, s, 100).shape == (100,)


CASES = [("gsl", 1, "order"), ("gs", 1, "order"), ("gsl", 4, "order"), ("gs", 3, "order"),
         ("gsl", 4, "variable")]


@pytest.mark.parametrize(("selection", "block_size", "partition"), CASES)
@pytest.mark.parametrize("loss", ["ls", "logistic"])
@pytest.mark.parametrize("sparse", [True, False])
def test_engine_reaches_the_cpu_solution(selection, block_size, partition, loss, sparse):
    X, y = _problem(loss, sparse)
    datafit = LeastSquares() if loss == "ls" else Logistic()
    alpha = 0.05 * float(np.max(np.abs(X.T @ y))) / X.shape[0]
    ref = minimize_bcd(datafit, L1(alpha), X=X, y=y, tol=1e-11, fit_intercept=True)
    with host_transfers() as t:
        out = solve_device(X, y, datafit.code, 1, alpha, np.zeros(X.shape[1]),
                           rule=RULES[selection], block_size=block_size,
                           variable=partition == "variable", tol=1e-9, max_iter=300_000,
                           fit_intercept=True, xp=np)
    assert t.count == 0  # host arrays never count as transfers
    assert out.status == 0
    np.testing.assert_allclose(out.w, ref.x, atol=2e-5 if loss == "logistic" else 1e-7)
    assert abs(out.intercept - ref.intercept) < (1e-5 if loss == "logistic" else 1e-7)


@pytest.mark.parametrize("penalty", [None, L2(0.1)])
def test_engine_smooth_penalties_reach_a_stationary_point(penalty):
    X, y = _problem("ls", True, seed=5)
    ref = minimize_bcd(LeastSquares(), penalty, X=X, y=y, tol=1e-10)
    pen, alpha = (0, 0.0) if penalty is None else (2, 0.1)
    out = solve_device(X, y, 0, pen, alpha, np.zeros(X.shape[1]), rule=1, block_size=1,
                       variable=False, tol=1e-8, max_iter=400_000, xp=np)
    assert out.status == 0
    np.testing.assert_allclose(out.w, ref.x, atol=1e-6)
