"""Greedy BCD on a GPU: every CUDA kernel of csrc/bcd_greedy.cu against its numpy reference,
and minimize_bcd / the estimators on CuPy input against the CPU solver."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve._backend import host_transfers
from optsolve.bcd import (
    L1,
    GreedyBCDClassifier,
    GreedyBCDRegressor,
    LeastSquares,
    Logistic,
    minimize_bcd,
)
from optsolve.bcd import _gpu_ops as ops

cp = pytest.importorskip("cupy")
cpsp = pytest.importorskip("cupyx.scipy.sparse")

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
DTYPES = [np.float64, np.float32]


def _inputs(p, dtype, seed, pen):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(p).astype(dtype)
    w = rng.standard_normal(p).astype(dtype)
    w[::3] = 0
    if pen in (3, 4):
        w = np.abs(w)
    lips = rng.uniform(0.1, 3.0, p).astype(dtype)
    return g, w, lips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rule", [0, 1, 3])
@pytest.mark.parametrize("pen", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("p", [1, 1000, 1 << 20])
def test_scores_and_argmax_match_numpy(dtype, rule, pen, p):
    g, w, lips = _inputs(p, dtype, p + rule + 7 * pen, pen)
    want = ops.scores_ref(np, rule, pen, dtype(0.3), g, w, lips)
    dg, dw, dl = cp.asarray(g), cp.asarray(w), cp.asarray(lips)
    got = ops.coordinate_scores(cp, rule, pen, 0.3, dg, dw, dl)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.get(), want, **TOL[dtype])
    ws = ops.ArgmaxWorkspace(cp, dtype, p)
    best, best_val = ops.best_coordinate(cp, rule, pen, 0.3, dg, dw, dl, ws)
    # the kernel picks the largest score, ties to the smallest index, as numpy.argmax
    s = got.get()
    assert int(best.get()[0]) == int(np.argmax(s))
    np.testing.assert_allclose(best_val.get()[0], want.max(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_sum", [False, True])
@pytest.mark.parametrize("k", [1, 16, 300])
def test_block_step_matches_numpy(dtype, use_sum, k):
    p = 5000
    g, w, lips = _inputs(p, dtype, k, 1)
    rng = np.random.default_rng(k)
    coords = rng.choice(p, k, replace=False).astype(np.int64)
    if k > 1:
        coords[-1] = p + 3  # padding of a short last block: must not move
    w_ref, d_ref = w.copy(), np.zeros(k, dtype=dtype)
    ops.block_step(np, coords, p, g, w_ref, lips, use_sum, 1, 0.2, d_ref)
    dw, dd = cp.asarray(w), cp.zeros(k, dtype=dtype)
    ops.block_step(cp, cp.asarray(coords), p, cp.asarray(g), dw, cp.asarray(lips), use_sum, 1,
                   0.2, dd)
    np.testing.assert_allclose(dw.get(), w_ref, **TOL[dtype])
    np.testing.assert_allclose(dd.get(), d_ref, **TOL[dtype])


def _csr(n, p, density, dtype, seed):
    X = sp.random(n, p, density=density, random_state=seed, format="csr", dtype=np.float64)
    X.data = np.random.default_rng(seed).standard_normal(X.nnz)
    return X.astype(dtype)


def _arrays(m):
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", [0, 1])
@pytest.mark.parametrize("k", [1, 8, 64])
def test_sparse_refresh_matches_numpy(dtype, loss, k):
    n, p = 3000, 2000
    X = _csr(n, p, 0.01, dtype, k + loss)
    rng = np.random.default_rng(k)
    y = (np.where(rng.random(n) > 0.5, 1.0, -1.0) if loss else rng.standard_normal(n)).astype(
        dtype)
    z = (rng.standard_normal(n) * 0.3).astype(dtype)
    deriv = ops.loss_derivative_ref(np, loss, z, y).astype(dtype)
    grad = (X.T @ deriv / n).astype(dtype)
    coords = rng.choice(p, k, replace=False).astype(np.int64)
    delta = rng.standard_normal(k).astype(dtype)
    delta[0] = 0  # a coordinate that did not move
    csc, csr = _arrays(sp.csc_matrix(X)), _arrays(X)
    host = [a.copy() for a in (z, deriv, grad)]
    ops.sparse_refresh(np, coords, p, delta, csc, csr, loss, y, dtype(1.0 / n), *host[:1],
                       np.zeros(n, dtype), host[1], host[2], np.zeros(n, np.int32))
    dev = [cp.asarray(a) for a in (z, deriv, grad)]
    dz, flags = cp.zeros(n, dtype), cp.zeros(n, cp.int32)
    ops.sparse_refresh(cp, cp.asarray(coords), p, cp.asarray(delta),
                       tuple(cp.asarray(a) for a in csc), tuple(cp.asarray(a) for a in csr), loss,
                       cp.asarray(y), 1.0 / n, dev[0], dz, dev[1], dev[2], flags)
    for got, want in zip(dev, host, strict=True):
        np.testing.assert_allclose(got.get(), want, **TOL[dtype])
    assert not dz.any() and not flags.any()  # work buffers come back clean


def test_top_k_on_device():
    s = np.random.default_rng(0).permutation(1 << 20).astype(np.float64)
    idx = ops.top_k(cp, cp.asarray(s), 64)
    assert sorted(s[idx.get()]) == list(range((1 << 20) - 64, 1 << 20))


def _problem(loss, n=400, p=1000, seed=0):
    X = _csr(n, p, 0.02, np.float64, seed)
    rng = np.random.default_rng(seed)
    coef = np.zeros(p)
    coef[:10] = rng.standard_normal(10)
    y = X @ coef + 0.05 * rng.standard_normal(n)
    if loss == "logistic":
        y = np.where(y > 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("loss", ["ls", "logistic"])
@pytest.mark.parametrize("layout", ["csr", "dense"])
@pytest.mark.parametrize(("selection", "block_size", "partition"),
                         [("gsl", 1, "order"), ("gs", 4, "order"), ("gsl", 8, "variable")])
def test_minimize_bcd_on_device_matches_cpu(loss, layout, selection, block_size, partition):
    X, y = _problem(loss)
    datafit = LeastSquares() if loss == "ls" else Logistic()
    alpha = 0.05 * float(np.max(np.abs(X.T @ y))) / X.shape[0]
    ref = minimize_bcd(datafit, L1(alpha), X=X, y=y, tol=1e-10, fit_intercept=True)
    dX = cpsp.csr_matrix(X) if layout == "csr" else cp.asarray(X.toarray())
    tol = 1e-7 if loss == "logistic" else 1e-9
    res = minimize_bcd(datafit, L1(alpha), X=dX, y=cp.asarray(y), selection=selection,
                       block_size=block_size, partition=partition, update="gradient", tol=tol,
                       max_iter=2_000_000, fit_intercept=True)
    assert isinstance(res.x, cp.ndarray)  # cupy in, cupy out
    assert res.success
    atol = 2e-4 if loss == "logistic" else 1e-7
    np.testing.assert_allclose(res.x.get(), ref.x, atol=atol)
    assert abs(res.intercept - ref.intercept) < atol


def test_no_host_round_trips_inside_the_loop(monkeypatch):
    X, y = _problem("ls", n=2000, p=20000)
    alpha = 0.05 * float(np.max(np.abs(X.T @ y))) / X.shape[0]
    calls, asnumpy = [], cp.asnumpy

    def counting_asnumpy(*args, **kwargs):
        calls.append(1)
        return asnumpy(*args, **kwargs)

    monkeypatch.setattr(cp, "asnumpy", counting_asnumpy)
    with host_transfers() as t:
        res = minimize_bcd(LeastSquares(), L1(alpha), X=cpsp.csr_matrix(X), y=cp.asarray(y),
                           update="gradient", tol=1e-8, max_iter=50_000)
    check_every = 1000
    n_checks = -(-res.nit // check_every) + 1
    # one small vector per optimality check, plus the input checks and the final intercept
    assert t.count <= n_checks + 8, (t.count, n_checks)
    assert t.nbytes <= 64 * (n_checks + 8)
    assert not calls


@pytest.mark.parametrize("dtype", DTYPES)
def test_regressor_on_device(dtype):
    X, y = _problem("ls")
    cpu = GreedyBCDRegressor(alpha=0.01, tol=1e-10).fit(X, y)
    gpu = GreedyBCDRegressor(alpha=0.01, tol=1e-9 if dtype == np.float64 else 1e-5,
                             max_iter=10_000).fit(cpsp.csr_matrix(X.astype(dtype)),
                                                  cp.asarray(y, dtype=dtype))
    assert isinstance(gpu.coef_, cp.ndarray) and gpu.coef_.dtype == dtype
    atol = 1e-6 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(gpu.coef_.get(), cpu.coef_, atol=atol)
    pred = gpu.predict(cpsp.csr_matrix(X.astype(dtype)))
    assert isinstance(pred, cp.ndarray)
    np.testing.assert_allclose(pred.get(), cpu.predict(X), atol=50 * atol)
    # numpy in, numpy out, from a model fitted on the GPU
    assert isinstance(gpu.predict(X), np.ndarray)


def test_classifier_on_device():
    X, y = _problem("logistic")
    labels = np.where(y > 0, 3, 7)
    cpu = GreedyBCDClassifier(alpha=0.005, tol=1e-10).fit(X, labels)
    gpu = GreedyBCDClassifier(alpha=0.005, tol=1e-7, max_iter=100_000).fit(
        cp.asarray(X.toarray()), cp.asarray(labels))
    assert isinstance(gpu.coef_, cp.ndarray)
    np.testing.assert_allclose(gpu.coef_.get(), cpu.coef_, atol=5e-4)
    np.testing.assert_array_equal(gpu.predict(cp.asarray(X.toarray())).get(), cpu.predict(X))
    proba = gpu.predict_proba(cp.asarray(X.toarray()))
    assert isinstance(proba, cp.ndarray)
    np.testing.assert_allclose(proba.get(), cpu.predict_proba(X), atol=1e-3)


def test_bad_device_input_names_the_argument():
    X, y = _problem("ls", n=50, p=20)
    dX, dy = cp.asarray(X.toarray()), cp.asarray(y)
    bad = dX.copy()
    bad[0, 0] = cp.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        minimize_bcd(LeastSquares(), L1(0.1), X=bad, y=dy)
    with pytest.raises(ValueError, match="rows but y has"):
        minimize_bcd(LeastSquares(), L1(0.1), X=dX, y=dy[:-1])
    with pytest.raises(ValueError, match="on CuPy arrays update"):
        minimize_bcd(LeastSquares(), L1(0.1), X=dX, y=dy, update="newton")
    with pytest.raises(TypeError, match="mixed array namespaces"):
        minimize_bcd(LeastSquares(), L1(0.1), X=dX, y=y)
