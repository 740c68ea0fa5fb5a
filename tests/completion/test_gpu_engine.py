"""The array-module-generic AltMin engine (the GPU sweep's loop) run on numpy.

On numpy the engine calls the CPU path's numba kernels, so it must reproduce ``altmin``
bit for bit; on CuPy only the kernel table differs (CUDA row / residual kernels, cupyx svds),
and tests/gpu/test_completion.py compares those kernels with the same numba kernels. Private
modules are imported on purpose: the engine is not public API.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from optsolve.completion import altmin
from optsolve.completion._gpu import (
    KMAX,
    SHARED_DOUBLES,
    HostKernels,
    altmin_engine,
    shared_bytes,
    solve_rows_batched,
)
from optsolve.completion._kernels import _hash32
from optsolve.completion._observations import from_matrix
from optsolve.completion.sketched_ls import ROW_SOLVER_OPTIONS


@pytest.mark.parametrize(
    ("solver", "alpha", "biases", "options"),
    [("sketched", 0.0, False, {"min_rank": 0}), ("exact", 0.0, False, None),
     ("sketched", 0.5, True, {"min_rank": 0}), ("exact", 3.0, True, None)],
)
def test_engine_on_numpy_is_the_cpu_path(recovery_problem, solver, alpha, biases, options):
    X, _, _, k = recovery_problem
    with warnings.catch_warnings():  # the biased runs stop at max_iter on both sides
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = altmin(X, k, solver=solver, alpha=alpha, biases=biases, tol=1e-9, max_iter=8,
                     random_state=0, options=options)
        got = altmin_engine(
            HostKernels(), from_matrix(X).csr(), k, solver=solver, alpha=alpha, biases=biases,
            max_iter=8, tol=1e-9, opts=ROW_SOLVER_OPTIONS.resolve(options),
            rng=check_random_state(0),
        )
    np.testing.assert_array_equal(got.U, ref.U)
    np.testing.assert_array_equal(got.V, ref.V)
    np.testing.assert_array_equal(got.row_bias, ref.row_bias)
    assert (got.nit, got.status, got.cg_iterations) == (ref.nit, ref.status, ref.cg_iterations)
    assert got.fun == ref.fun and got.mean == ref.mean


@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("keep_empty", [False, True])
def test_batched_exact_rows_match_lstsq(alpha, keep_empty, ridge_rows_reference):
    rng = np.random.default_rng(2)
    X = sp.random(50, 200, density=0.3, format="lil", random_state=2)
    X[3] = 0
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    F = rng.standard_normal((200, 5))
    col_offset = rng.standard_normal(200)
    out = np.full((50, 5), 7.0)
    solve_rows_batched(np, X.indptr, X.indices, X.data, F, col_offset, np.array([0.3]), alpha,
                       keep_empty, out)
    ref = ridge_rows_reference(X, F, alpha, col_offset=col_offset, shift=0.3)
    if keep_empty:
        ref[3] = 7.0
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-10)


def _hash32_uint32(key, seed):
    """The CUDA kernel's hash: one 64-bit product, then uint32 arithmetic mod 2**32."""
    x = np.uint64(key & 0x7FFFFFFF) * np.uint64(0x9E3779B1) + np.uint64(seed)
    x = np.uint32(x & np.uint64(0xFFFFFFFF))
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint32(16))
        x = np.uint32(x * np.uint32(0x45D9F3B))
        x = x ^ (x >> np.uint32(16))
        x = np.uint32(x * np.uint32(0x45D9F3B))
        x = x ^ (x >> np.uint32(16))
    return int(x)


def test_device_hash_arithmetic_matches_cpu_hash():
    rng = np.random.default_rng(0)
    keys, seeds = rng.integers(0, 2**40, 200), rng.integers(0, 2**31 - 1, 200)
    for key, seed in zip(keys, seeds, strict=True):
        assert _hash32_uint32(int(key), int(seed)) == _hash32(int(key), int(seed))


@pytest.mark.parametrize("k", [1, 10, 41, 64, KMAX])
def test_row_block_fits_default_shared_memory(k):
    assert shared_bytes(k) <= 8 * SHARED_DOUBLES
    assert (SHARED_DOUBLES - k * k - 10 * k - 8) // (k + 1) >= 1
