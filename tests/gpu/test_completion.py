"""Matrix completion on the GPU: CUDA row / residual kernels against the CPU numba kernels,
cupyx spectral init against a dense SVD, the engine and the public API cupy vs numpy.

Private modules are imported on purpose (kernel tables are not public API). Skipped without a
CUDA device by tests/gpu/conftest.py.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from optsolve._backend import host_transfers
from optsolve.completion import AltMinCompletion, altmin, spectral_init
from optsolve.completion._gpu import (
    KMAX,
    DeviceKernels,
    HostKernels,
    altmin_engine,
    solve_rows_batched,
)
from optsolve.completion._observations import from_matrix
from optsolve.completion.altmin import observed_residuals
from optsolve.completion.sketched_ls import ROW_SOLVER_OPTIONS, solve_rows
from optsolve.datasets import make_incoherent_low_rank
from optsolve.utils._testing import rows_problem


@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy")


@pytest.fixture(scope="module")
def cpsp(cp):
    return pytest.importorskip("cupyx.scipy.sparse")


def _pattern(cp, kern, csr, index_dtype):
    pattern = kern.pattern(csr)
    if index_dtype == np.int64:  # force the 64-bit-index kernel on a small problem
        pattern.suffix = "i64"
        pattern.indptr = csr.indptr.astype(cp.int64)
        pattern.indices = csr.indices.astype(cp.int64)
    return pattern


@pytest.mark.parametrize("k", [1, 3, 10, 41, 64, KMAX])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_exact_row_kernel_matches_cpu(cp, cpsp, k, alpha, index_dtype):
    X, F, col_offset, warm = rows_problem(k, 300, 900, k, 3 * k,
                                           min_len=2 * k if alpha == 0 else 0)
    for keep_empty in (False, True):
        ref = warm.copy()
        solve_rows(X, F, ref, alpha=alpha, method="exact", opts={}, col_offset=col_offset,
                   shift=0.25, keep_empty=keep_empty)
        kern = DeviceKernels(cp)
        out = cp.asarray(warm)
        kern.solve_rows(_pattern(cp, kern, cpsp.csr_matrix(X), index_dtype), cp.asarray(F),
                        out, alpha=alpha, method="exact", opts={}, seed=0,
                        col_offset=cp.asarray(col_offset), shift=cp.asarray([0.25]),
                        keep_empty=keep_empty)
        np.testing.assert_allclose(cp.asnumpy(out), ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("k", [8, 41, 64])
@pytest.mark.parametrize("reduction", [1e-12, 1e-2])
@pytest.mark.parametrize("sketch_nnz", [1, 2])
def test_sketched_row_kernel_matches_cpu(cp, cpsp, k, reduction, sketch_nnz):
    """Same hash ⇒ same sketch ⇒ the same PCG iterates up to round-off."""
    X, F, col_offset, warm = rows_problem(100 + k, 120, 4000, k, 2 * k, long_rows=40,
                                           long_len=12 * k)
    opts = ROW_SOLVER_OPTIONS.resolve({"min_rank": 0, "sketch_nnz": sketch_nnz,
                                       "row_reduction": reduction})
    ref = warm.copy()
    it_ref = solve_rows(X, F, ref, alpha=0.3, method="sketched", opts=opts, seed=12345,
                        col_offset=col_offset, shift=-0.5)
    kern = DeviceKernels(cp)
    out = cp.asarray(warm)
    it_gpu = kern.solve_rows(kern.pattern(cpsp.csr_matrix(X)), cp.asarray(F), out, alpha=0.3,
                             method="sketched", opts=opts, seed=12345,
                             col_offset=cp.asarray(col_offset), shift=cp.asarray([-0.5]),
                             keep_empty=False)
    assert it_ref > 0
    diff = abs(int(it_gpu) - it_ref)
    if reduction < 1e-6:
        # near the round-off floor a row may stop one iteration earlier or later (seen in a CPU
        # emulation of the kernel: 169 vs 168 at k = 41), with the same converged solution
        assert diff <= 0.02 * it_ref + 1
        np.testing.assert_allclose(cp.asnumpy(out), ref, rtol=1e-8, atol=1e-9)
    else:
        # a round-off tie at a row's stopping test could move one row by one iteration
        assert diff <= 1
        close = np.isclose(cp.asnumpy(out), ref, rtol=1e-8, atol=1e-9).all(axis=1)
        assert (~close).sum() <= diff, np.flatnonzero(~close)


def test_rank_above_kmax_uses_batched_exact(cp, cpsp):
    k = KMAX + 8
    X, F, col_offset, warm = rows_problem(7, 60, 600, k, 2 * k)
    ref = warm.copy()
    solve_rows(X, F, ref, alpha=0.1, method="exact", opts={}, col_offset=col_offset, shift=0.0)
    kern = DeviceKernels(cp)
    out = cp.asarray(warm)
    kern.solve_rows(kern.pattern(cpsp.csr_matrix(X)), cp.asarray(F), out, alpha=0.1,
                    method="sketched", opts=ROW_SOLVER_OPTIONS.resolve(None), seed=0,
                    col_offset=cp.asarray(col_offset), shift=cp.zeros(1), keep_empty=False)
    np.testing.assert_allclose(cp.asnumpy(out), ref, rtol=1e-9, atol=1e-9)
    out_np = warm.copy()
    solve_rows_batched(np, X.indptr, X.indices, X.data, F, col_offset, np.zeros(1), 0.1, False,
                       out_np)
    np.testing.assert_allclose(out_np, ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("k", [1, 7, 64])
def test_residual_kernel_matches_cpu(cp, cpsp, k):
    X, _, _, _ = rows_problem(3, 200, 500, k, 20)
    rng = np.random.default_rng(k)
    U, V = rng.standard_normal((200, k)), rng.standard_normal((500, k))
    b, c = rng.standard_normal(200), rng.standard_normal(500)
    ref = observed_residuals(X, U, V, b, c, 0.7)
    kern = DeviceKernels(cp)
    got = kern.residuals(kern.pattern(cpsp.csr_matrix(X)), cp.asarray(U), cp.asarray(V),
                         cp.asarray(b), cp.asarray(c), cp.asarray([0.7]))
    np.testing.assert_allclose(cp.asnumpy(got), ref, rtol=1e-10, atol=1e-12 * k)


def test_spectral_init_device_matches_dense_svd(cp, cpsp):
    X, _, _ = make_incoherent_low_rank(300, 250, 5, 0.3, random_state=1)
    kern = DeviceKernels(cp)
    U0, sigma, W = kern.spectral_init(kern.pattern(cpsp.csr_matrix(X)), 5, cp.zeros(1), None)
    p = X.nnz / (300 * 250)
    _, sd, Wdt = np.linalg.svd(X.toarray() / p)
    np.testing.assert_allclose(cp.asnumpy(sigma), sd[:5], rtol=1e-8)
    W_h = cp.asnumpy(W)
    np.testing.assert_allclose(np.abs(W_h.T @ Wdt[:5].T), np.eye(5), atol=1e-6)
    U_h = cp.asnumpy(U0)
    np.testing.assert_allclose(U_h.T @ U_h, np.eye(5), atol=1e-10)
    U_cpu, _, _ = spectral_init(X, 5, random_state=0)
    # same clipped subspace as the CPU (randomized) init, up to its own accuracy
    assert np.linalg.norm(U_h @ U_h.T - U_cpu @ U_cpu.T) < 1e-4


@pytest.mark.parametrize(
    ("solver", "alpha", "biases", "options"),
    [("exact", 0.0, False, None),
     ("sketched", 0.0, False, {"min_rank": 0, "row_reduction": 1e-10}),
     ("exact", 2.0, True, None),
     ("sketched", 0.5, True, {"min_rank": 0, "row_reduction": 1e-10})],
)
def test_engine_same_init_cupy_vs_numpy(cp, cpsp, solver, alpha, biases, options):
    """Same initial factors and seeds: the GPU sweep follows the CPU sweep."""
    X, _, _ = make_incoherent_low_rank(400, 300, 6, 0.3, random_state=2)
    csr = from_matrix(X).csr()
    init = spectral_init(csr, 6, random_state=0)
    opts = ROW_SOLVER_OPTIONS.resolve(options)
    kw = dict(solver=solver, alpha=alpha, biases=biases, max_iter=4, tol=1e-14, opts=opts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = altmin_engine(HostKernels(), csr, 6, rng=check_random_state(0), init=init, **kw)
        got = altmin_engine(DeviceKernels(cp), cpsp.csr_matrix(csr), 6,
                            rng=check_random_state(0),
                            init=tuple(cp.asarray(a) for a in init), **kw)
    assert isinstance(got.U, cp.ndarray)
    M_ref = ref.U @ ref.V.T
    M_got = cp.asnumpy(got.U @ got.V.T)
    np.testing.assert_allclose(M_got, M_ref, rtol=0, atol=1e-8 * np.abs(M_ref).max())
    np.testing.assert_allclose(cp.asnumpy(got.row_bias), ref.row_bias, atol=1e-8)
    assert got.mean == pytest.approx(ref.mean, rel=1e-8, abs=1e-10)
    # the objective can be near zero (noiseless data): compare on the scale of ||P_Omega M||^2
    assert got.fun == pytest.approx(ref.fun, rel=1e-6, abs=1e-10 * float(X.data @ X.data))


@pytest.mark.parametrize("solver", ["exact", "sketched"])
def test_altmin_cupy_in_cupy_out_and_recovers(cp, cpsp, solver, recovery_problem_gpu):
    X, U, V = recovery_problem_gpu
    M = U @ V.T
    ref = altmin(X, 4, solver=solver, tol=1e-10, random_state=0)
    with host_transfers() as t:
        res = altmin(cpsp.csr_matrix(X), 4, solver=solver, tol=1e-10, random_state=0)
    assert isinstance(res.U, cp.ndarray) and isinstance(res.V, cp.ndarray)
    assert isinstance(ref.U, np.ndarray)
    assert res.success
    assert t.count <= res.nit + 8, t
    M_gpu = cp.asnumpy(res.U @ res.V.T)
    assert np.linalg.norm(M_gpu - M) / np.linalg.norm(M) < 1e-6
    np.testing.assert_allclose(M_gpu, ref.U @ ref.V.T, atol=1e-5 * np.abs(M).max())


@pytest.fixture(scope="module")
def recovery_problem_gpu():
    m, n, k = 300, 250, 4
    X, U, V = make_incoherent_low_rank(m, n, k, 4 * k * np.log(n) / n, random_state=0)
    return X, U, V


def test_estimator_cupy_in_cupy_out(cp, cpsp, recovery_problem_gpu):
    X, U, V = recovery_problem_gpu
    est_cpu = AltMinCompletion(rank=4, tol=1e-10, random_state=0).fit(X)
    est_gpu = AltMinCompletion(rank=4, tol=1e-10, random_state=0).fit(cpsp.csr_matrix(X))
    assert isinstance(est_gpu.U_, cp.ndarray) and isinstance(est_cpu.U_, np.ndarray)
    rows, cols = np.arange(50), np.arange(50, 100)
    p_cpu = est_cpu.predict(rows, cols)
    p_gpu = est_gpu.predict(cp.asarray(rows), cp.asarray(cols))
    assert isinstance(p_gpu, cp.ndarray) and isinstance(p_cpu, np.ndarray)
    np.testing.assert_allclose(cp.asnumpy(p_gpu), p_cpu, atol=1e-5)
    full = est_gpu.transform()
    assert isinstance(full, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(full), U @ V.T, atol=1e-5)
    folded = est_gpu.transform(cpsp.csr_matrix(X[:10]))
    np.testing.assert_allclose(cp.asnumpy(folded), est_cpu.transform(X[:10]), atol=1e-5)
    with pytest.raises(TypeError, match="host-only"):
        est_gpu.fold_in(X[:2])


def test_estimator_biases_dense_and_triplets(cp, cpsp):
    rng = np.random.default_rng(4)
    X, _, _ = make_incoherent_low_rank(120, 90, 3, 0.4, random_state=4)
    X = X.tocsr()
    X.data = X.data + 3.0 + 0.01 * rng.standard_normal(X.nnz)
    dense = np.full(X.shape, np.nan)
    coo = X.tocoo()
    dense[coo.row, coo.col] = coo.data
    kw = dict(rank=3, biases=True, max_iter=300, tol=1e-12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est_cpu = AltMinCompletion(**kw).fit(X)
        est_dense = AltMinCompletion(**kw).fit(cp.asarray(dense))
        est_trip = AltMinCompletion(**kw).fit(cp.asarray(coo.row), cp.asarray(coo.col),
                                              cp.asarray(coo.data), shape=X.shape)
    ref = est_cpu.predict(coo.row, coo.col)
    rows_d, cols_d = cp.asarray(coo.row), cp.asarray(coo.col)
    got_dense = cp.asnumpy(est_dense.predict(rows_d, cols_d))
    got_trip = cp.asnumpy(est_trip.predict(rows_d, cols_d))
    np.testing.assert_allclose(got_trip, got_dense, rtol=1e-10, atol=1e-10)  # same CSR
    np.testing.assert_allclose(got_dense, ref, atol=1e-3)  # other init, same ridge optimum
    with pytest.raises(ValueError, match="duplicate"):
        AltMinCompletion(rank=2).fit(cp.asarray([0, 0]), cp.asarray([1, 1]),
                                     cp.asarray([1.0, 2.0]), shape=(5, 5))
