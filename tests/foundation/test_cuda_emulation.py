"""The CUDA C kernels of ``csrc/`` run by the CPU emulator against their CPU references.

There is no GPU in CI; ``tests/gpu`` checks the same kernels on a real card. These tests catch
what can be caught without one: indexing, barriers, warp reductions, atomics and the C types of
the launch arguments (the emulator checks each scalar against its parameter type). Sizes are
small: every emulated launch runs its block's threads as host threads.
"""

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve import _cuda
from optsolve.bcd import _gpu_ops as ops
from optsolve.bcd._gpu import solve_device
from optsolve.completion import _gpu as completion
from optsolve.completion.altmin import observed_residuals
from optsolve.completion.sketched_ls import ROW_SOLVER_OPTIONS, solve_rows
from optsolve.constrained import _gpu as kaczmarz
from optsolve.utils._cuda_emulation import (
    compiler_available,
    emulated_cupy,
    load_emulated_module,
)
from optsolve.utils._testing import rows_problem

pytestmark = pytest.mark.skipif(not compiler_available(),
                                reason="the CUDA emulator needs a C++20 compiler (g++ or clang++)")

RTOL = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]


@pytest.fixture
def emulated(monkeypatch):
    """Route every kernel load to the emulator; returns the stand-in ``cupy`` namespace."""
    monkeypatch.setattr(ops, "load_module", load_emulated_module)
    monkeypatch.setattr(_cuda, "load_module", load_emulated_module)
    xp = emulated_cupy()
    monkeypatch.setitem(sys.modules, "cupy", xp)
    return xp


def _close(got, want, dtype):
    # sums in a different order (atomics, tree reductions): the error is relative to the
    # vector's scale, not to each entry that happened to cancel
    scale = float(np.max(np.abs(want), initial=1.0))
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype] * scale * 0.1)


# ------------------------------------------------------------------ the emulator itself


def test_launch_rejects_a_python_int_for_a_c_int(emulated):
    kernel = load_emulated_module("bcd_greedy").get_function("bcd_scores_f64")
    g = np.zeros(4)
    with pytest.raises(TypeError, match="scalar 'p' must be a numpy int64, got int"):
        kernel((1,), (32,), (g, g, g, 4, np.int32(0), np.int32(0), np.float64(0), g))


def test_launch_rejects_a_wrong_dtype_and_a_wrong_block(emulated):
    kernel = load_emulated_module("bcd_greedy").get_function("bcd_scores_f64")
    g, g32 = np.zeros(4), np.zeros(4, dtype=np.float32)
    args = (g, g, g, np.int64(4), np.int32(0), np.int32(0), np.float64(0), g32)
    with pytest.raises(TypeError, match="argument 'out' must be float64, got float32"):
        kernel((1,), (32,), args)
    with pytest.raises(ValueError, match="multiple of 32"):
        kernel((1,), (48,), (*args[:-1], g))


# ------------------------------------------------------------------ greedy BCD kernels


def _coordinates(dtype, p, pen, seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(p).astype(dtype)
    w = rng.standard_normal(p).astype(dtype)
    w[::4] = 0
    if pen in (3, 4):  # non-negative penalties
        w = np.abs(w)
    lips = rng.uniform(0.1, 3.0, p).astype(dtype)
    return g, w, lips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pen", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("rule", [0, 1, 2, 3])
def test_scores_and_argmax(emulated, rule, pen, dtype):
    p = 700  # three blocks of the two-pass argmax
    g, w, lips = _coordinates(dtype, p, pen, seed=10 * rule + pen)
    want = ops.scores_ref(np, rule, pen, dtype(0.2), g, w, lips)
    _close(ops.coordinate_scores(emulated, rule, pen, 0.2, g, w, lips), want, dtype)
    ws = ops.ArgmaxWorkspace(emulated, dtype, p)
    best, best_val = ops.best_coordinate(emulated, rule, pen, 0.2, g, w, lips, ws)
    assert best[0] == np.argmax(want)
    _close(best_val[0], want.max(), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_sum", [False, True])
def test_block_step(emulated, use_sum, dtype):
    p = 500
    g, w, lips = _coordinates(dtype, p, 1, seed=3)
    coords = np.r_[np.random.default_rng(4).choice(p, 40, replace=False), p + 1, p + 7]
    coords = coords.astype(np.int64)  # the last two are padding
    w_ref, d_ref = w.copy(), np.zeros(coords.size, dtype=dtype)
    ops.block_step(np, coords, p, g, w_ref, lips, use_sum, 1, 0.05, d_ref)
    w_emu, d_emu = w.copy(), np.zeros(coords.size, dtype=dtype)
    ops.block_step(emulated, coords, p, g, w_emu, lips, use_sum, 1, 0.05, d_emu)
    _close(w_emu, w_ref, dtype)
    _close(d_emu, d_ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", [0, 1])
def test_sparse_refresh(emulated, loss, dtype):
    n, p = 400, 300
    rng = np.random.default_rng(5 + loss)
    X = sp.random(n, p, density=0.05, random_state=6, format="csc", dtype=dtype)
    csc = (X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data)
    R = X.tocsr()
    csr = (R.indptr.astype(np.int64), R.indices.astype(np.int32), R.data)
    y = (np.sign(rng.standard_normal(n)) if loss else rng.standard_normal(n)).astype(dtype)
    z = rng.standard_normal(n).astype(dtype)
    deriv = ops.loss_derivative_ref(np, loss, z, y).astype(dtype)
    grad = rng.standard_normal(p).astype(dtype)
    coords = np.r_[rng.choice(p, 25, replace=False), p + 3].astype(np.int64)
    delta = rng.standard_normal(coords.size).astype(dtype)
    delta[2] = 0  # a coordinate that did not move touches nothing
    state = {}
    for name, xp in (("ref", np), ("emu", emulated)):
        zz, dd, gg = z.copy(), deriv.copy(), grad.copy()
        dz, flag = np.zeros(n, dtype=dtype), np.zeros(n, dtype=np.int32)
        ops.sparse_refresh(xp, coords, p, delta, csc, csr, loss, y, 1.0 / n, zz, dz, dd, gg,
                           flag)
        assert not dz.any() and not flag.any(), "work buffers must be left zero"
        state[name] = (zz, dd, gg)
    for got, want in zip(state["emu"], state["ref"], strict=True):
        _close(got, want, dtype)


@pytest.mark.parametrize("loss", [0, 1])
def test_device_loop_on_emulated_kernels_matches_the_numpy_loop(emulated, monkeypatch, loss):
    """The whole device loop (argmax, step, refresh, intercept) on emulated kernels."""
    import optsolve.bcd._gpu as engine

    monkeypatch.setattr(engine, "_sparse_module", lambda xp: sp)
    rng = np.random.default_rng(11)
    X = sp.random(120, 80, density=0.1, random_state=12, format="csr")
    y = X @ rng.standard_normal(80) + 0.1 * rng.standard_normal(120)
    if loss:
        y = np.where(y > np.median(y), 1.0, -1.0)
    kw = dict(loss=loss, pen=1, alpha=0.01, w0=np.zeros(80), rule=1, block_size=1,
              variable=False, tol=1e-10, max_iter=24, check_every=8, fit_intercept=True)
    ref = solve_device(X, y, xp=np, **kw)
    emu = solve_device(X, y, xp=emulated, **kw)
    np.testing.assert_allclose(emu.w, ref.w, rtol=1e-9, atol=1e-12)
    assert emu.nit == ref.nit


# ------------------------------------------------------------------ block Kaczmarz kernels


@pytest.mark.parametrize("dtype", DTYPES)
def test_block_kaczmarz_kernels(emulated, dtype):
    rng = np.random.default_rng(7)
    K = sp.random(300, 200, density=0.05, random_state=8, format="csr", dtype=dtype)
    args = (K.indptr.astype(np.int64), K.indices.astype(np.int32), K.data)
    rows = rng.choice(300, 64, replace=False).astype(np.int64)
    z = rng.standard_normal(200).astype(dtype)
    rhs = rng.standard_normal(300).astype(dtype)
    cpu, gpu = kaczmarz._NumpyOps, kaczmarz._CupyOps
    _close(gpu.residual(*args, z, rhs, rows), cpu.residual(*args, z, rhs, rows), dtype)

    q, n_blocks = 8, 8
    ginv = rng.standard_normal((12, q, q)).astype(dtype)
    blocks = rng.integers(0, 12, n_blocks).astype(np.int64)
    s = rng.standard_normal(n_blocks * q).astype(dtype)
    _close(gpu.gram_apply(ginv, blocks, s, q), cpu.gram_apply(ginv, blocks, s, q), dtype)

    y = rng.standard_normal(rows.size).astype(dtype)
    u_ref, u_emu = np.zeros(200, dtype=dtype), np.zeros(200, dtype=dtype)
    cpu.scatter(*args, rows, y, u_ref)
    gpu.scatter(*args, rows, y, u_emu)
    _close(u_emu, u_ref, dtype)

    for den in (dtype(2.5), dtype(0)):  # no step when the denominator is zero
        z_ref, z_emu = z.copy(), z.copy()
        num = np.array(dtype(1.5))
        cpu.step(num, np.array(den), u_ref, z_ref)
        gpu.step(num.reshape(1), np.array(den).reshape(1), u_ref, z_emu)
        _close(z_emu, z_ref, dtype)


# ------------------------------------------------------------------ matrix completion row kernel


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("k", [3, 10])
def test_completion_exact_rows(emulated, k, index_dtype):
    X, F, col_offset, warm = rows_problem(k, 40, 300, k, 3 * k, min_len=2 * k)
    kern = completion.DeviceKernels(emulated)
    pattern = kern.pattern(X)
    if index_dtype == np.int64:  # the 64-bit-index kernel on a small problem
        pattern.suffix = "i64"
        pattern.indptr, pattern.indices = X.indptr.astype(np.int64), X.indices.astype(np.int64)
    for keep_empty in (False, True):
        ref, out = warm.copy(), warm.copy()
        solve_rows(X, F, ref, alpha=0.0, method="exact", opts={}, col_offset=col_offset,
                   shift=0.25, keep_empty=keep_empty)
        kern.solve_rows(pattern, F, out, alpha=0.0, method="exact", opts={}, seed=0,
                        col_offset=col_offset, shift=np.array([0.25]), keep_empty=keep_empty)
        np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)


def test_completion_sketched_rows(emulated):
    """Same hash, same sketch: the PCG iterates of the CPU kernel up to round-off."""
    k = 8
    X, F, col_offset, warm = rows_problem(108, 24, 800, k, 2 * k, long_rows=8, long_len=12 * k)
    opts = ROW_SOLVER_OPTIONS.resolve({"min_rank": 0, "sketch_nnz": 2, "row_reduction": 1e-2})
    ref, out = warm.copy(), warm.copy()
    it_ref = solve_rows(X, F, ref, alpha=0.3, method="sketched", opts=opts, seed=12345,
                        col_offset=col_offset, shift=-0.5)
    kern = completion.DeviceKernels(emulated)
    it_emu = kern.solve_rows(kern.pattern(X), F, out, alpha=0.3, method="sketched", opts=opts,
                             seed=12345, col_offset=col_offset, shift=np.array([-0.5]),
                             keep_empty=False)
    assert it_ref > 0 and abs(int(it_emu) - it_ref) <= 1
    close = np.isclose(out, ref, rtol=1e-8, atol=1e-9).all(axis=1)
    assert (~close).sum() <= abs(int(it_emu) - it_ref)


def test_completion_residuals(emulated):
    k = 7
    X, _, _, _ = rows_problem(3, 50, 120, k, 10)
    rng = np.random.default_rng(k)
    U, V = rng.standard_normal((50, k)), rng.standard_normal((120, k))
    b, c = rng.standard_normal(50), rng.standard_normal(120)
    kern = completion.DeviceKernels(emulated)
    got = kern.residuals(kern.pattern(X), U, V, b, c, np.array([0.7]))
    np.testing.assert_allclose(got, observed_residuals(X, U, V, b, c, 0.7), rtol=1e-10,
                               atol=1e-12 * k)
