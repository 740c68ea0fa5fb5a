"""Numba kernels of the alternating-minimization sweep (arrays and scalars only).

Every kernel solves, for each row ``i`` of a CSR pattern, the ridge least-squares problem

    min_x  sum_{p in row i} (data[p] - shift - col_offset[indices[p]] - F[indices[p]] @ x)^2
           + alpha * ||x||^2

and writes ``x`` into ``X[i]`` (in place). Rows are independent, so the ``prange`` over row
chunks gives the same result for any number of threads; the sketch of each row is drawn from a
counter-based hash of ``(seed, entry position)``, never from a shared random state, for the same
reason.

Plain numpy references of every kernel live in ``tests/completion/conftest.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: rows per parallel chunk (scratch buffers are allocated once per chunk, not per row)
ROWS_PER_CHUNK = 64
#: below this many observed entries the callers use the ``*_serial`` kernels: a parallel
#: region costs little on an idle machine but milliseconds on an oversubscribed one, more than
#: the whole half-step of a small problem
PARALLEL_MIN_ENTRIES = 200_000
#: relative diagonal jitter that keeps the Gram matrix of a rank-deficient row factorizable
#: (alpha = 0 and fewer observations than unknowns); it changes solutions at the 1e-12 level
GRAM_JITTER = 1e-12
_MASK32 = 0xFFFFFFFF


@njit(cache=True)
def _hash32(key, seed):
    """A 32-bit mix of ``key`` and ``seed`` (both < 2**31): murmur3's finalizer.

    Written with int64 products that never overflow, so the pure-Python path (NUMBA_DISABLE_JIT)
    returns the same bits as the compiled one.
    """
    x = ((key & 0x7FFFFFFF) * 0x9E3779B1 + seed) & _MASK32
    x = x ^ (x >> 16)
    x = (x * 0x45D9F3B) & _MASK32
    x = x ^ (x >> 16)
    x = (x * 0x45D9F3B) & _MASK32
    x = x ^ (x >> 16)
    return x


@njit(cache=True)
def _cholesky_inplace(G, k):
    """Lower Cholesky factor of the leading k x k block of ``G`` (overwrites its lower part)."""
    for j in range(k):
        s = G[j, j]
        for t in range(j):
            s -= G[j, t] * G[j, t]
        if s <= 0.0:  # round-off on a numerically singular Gram: keep the factor finite
            s = 1e-300
        d = np.sqrt(s)
        G[j, j] = d
        for i in range(j + 1, k):
            s = G[i, j]
            for t in range(j):
                s -= G[i, t] * G[j, t]
            G[i, j] = s / d


@njit(cache=True)
def _cholesky_solve_inplace(L, k, v):
    """Solve ``L L^T z = v`` in place for the lower factor ``L``."""
    for i in range(k):
        s = v[i]
        for t in range(i):
            s -= L[i, t] * v[t]
        v[i] = s / L[i, i]
    for i in range(k - 1, -1, -1):
        s = v[i]
        for t in range(i + 1, k):
            s -= L[t, i] * v[t]
        v[i] = s / L[i, i]


@njit(cache=True)
def _regularize_and_factor(G, k, alpha):
    trace = 0.0
    for a in range(k):
        trace += G[a, a]
    jitter = GRAM_JITTER * max(trace / k, 1e-300)
    for a in range(k):
        G[a, a] += alpha + jitter
    _cholesky_inplace(G, k)


@njit(cache=True)
def _gather(indptr, indices, data, F, col_offset, shift, i, A, y):
    """Copy row ``i``'s design rows ``F[indices]`` into ``A`` and its targets into ``y``."""
    start = indptr[i]
    d = indptr[i + 1] - start
    k = F.shape[1]
    for t in range(d):
        j = indices[start + t]
        y[t] = data[start + t] - shift - col_offset[j]
        for a in range(k):
            A[t, a] = F[j, a]
    return d


@njit(cache=True)
def _solve_exact_row(A, y, d, k, alpha, G, x):
    """x = (A^T A + alpha I)^{-1} A^T y through the k x k normal equations (BLAS gemm)."""
    Ad = A[:d]
    G[:, :] = Ad.T @ Ad
    rhs = Ad.T @ y[:d]
    _regularize_and_factor(G, k, alpha)
    _cholesky_solve_inplace(G, k, rhs)
    x[:] = rhs


@njit(cache=True)
def _max_row_length(indptr):
    best = 0
    for i in range(indptr.shape[0] - 1):
        best = max(best, indptr[i + 1] - indptr[i])
    return best


@njit(cache=True)
def _exact_rows(indptr, indices, data, F, col_offset, shift, alpha, keep_empty, X, lo, hi, max_d):
    """Rows ``lo:hi`` of :func:`row_solve_exact` (scratch allocated once per call)."""
    k = F.shape[1]
    A = np.empty((max(max_d, 1), k))
    y = np.empty(max(max_d, 1))
    G = np.empty((k, k))
    x = np.empty(k)
    for i in range(lo, hi):
        d = _gather(indptr, indices, data, F, col_offset, shift, i, A, y)
        if d == 0:
            if not keep_empty:
                X[i, :] = 0.0
            continue
        _solve_exact_row(A, y, d, k, alpha, G, x)
        X[i, :] = x


@njit(parallel=True, cache=True)
def row_solve_exact(indptr, indices, data, F, col_offset, shift, alpha, keep_empty, X):
    """Exact per-row ridge least squares (classical AltMin): O(d_i k^2 + k^3) per row.

    Writes ``X[i]`` in place; a row without observations gets ``0`` (the ridge / minimum-norm
    solution) unless ``keep_empty``, which leaves it untouched (sample splitting).
    """
    n_rows = indptr.shape[0] - 1
    max_d = _max_row_length(indptr)
    n_chunks = (n_rows + ROWS_PER_CHUNK - 1) // ROWS_PER_CHUNK
    for c in prange(n_chunks):
        lo = c * ROWS_PER_CHUNK
        hi = min(n_rows, lo + ROWS_PER_CHUNK)
        _exact_rows(indptr, indices, data, F, col_offset, shift, alpha, keep_empty, X, lo, hi,
                    max_d)


@njit(cache=True)
def row_solve_exact_serial(indptr, indices, data, F, col_offset, shift, alpha, keep_empty, X):
    """:func:`row_solve_exact` on one thread (small problems: no parallel-region overhead)."""
    n_rows = indptr.shape[0] - 1
    _exact_rows(indptr, indices, data, F, col_offset, shift, alpha, keep_empty, X, 0, n_rows,
                _max_row_length(indptr))


@njit(cache=True, fastmath=True)
def _sketch_rows(A, d, k, start, sketch_size, n_nonzeros, seed, SA):
    """SA = S A for a sparse sign embedding S (``sketch_size x d``).

    S has ``n_nonzeros`` entries ±1/sqrt(n_nonzeros) per column, one in each of
    ``n_nonzeros`` blocks of ``sketch_size / n_nonzeros`` rows (OSNAP / CountSketch with
    ``n_nonzeros = 1``); cost O(n_nonzeros d k). The hash key is the global entry position, so
    the sketch does not depend on how rows are split across threads.
    """
    block = sketch_size // n_nonzeros
    SA[:sketch_size, :] = 0.0
    scale = 1.0 / np.sqrt(n_nonzeros)
    base = np.int64(start)  # indptr may be int32: keep the key arithmetic in 64 bits
    for t in range(d):
        key = (base + t) * n_nonzeros
        for z in range(n_nonzeros):
            h = _hash32(key + z, seed)
            r = z * block + (((h >> 1) * block) >> 31)  # multiply-shift, no division
            sgn = scale * (2 * (h & 1) - 1)  # branchless: the sign bit is unpredictable
            for a in range(k):
                SA[r, a] += sgn * A[t, a]


@njit(cache=True, fastmath=True)
def _normal_matvec(A, d, k, p, q):
    """q = A[:d]^T (A[:d] p) in one pass over the rows of A (each row read once, from cache)."""
    for a in range(k):
        q[a] = 0.0
    for t in range(d):
        s = 0.0
        for a in range(k):
            s += A[t, a] * p[a]
        for a in range(k):
            q[a] += s * A[t, a]


@njit(cache=True)
def _pcg_row(A, y, d, k, alpha, L, x, reduction, abs_tol, max_iter, r, z, p, q):
    """Preconditioned CG on (A^T A + alpha I) x = A^T y with M = L L^T, warm-started at ``x``.

    Stops when ||r||_{M^-1} <= max(reduction * ||r_0||_{M^-1}, abs_tol * ||A^T y||_{M^-1}).
    Returns the number of iterations (each costs two passes over the d x k design).
    """
    Ad = A[:d]
    yd = y[:d]
    b = Ad.T @ yd
    _normal_matvec(A, d, k, x, q)
    for a in range(k):
        r[a] = b[a] - q[a] - alpha * x[a]
        z[a] = b[a]
    _cholesky_solve_inplace(L, k, z)
    b_norm2 = 0.0
    for a in range(k):
        b_norm2 += b[a] * z[a]
    z[:] = r
    _cholesky_solve_inplace(L, k, z)
    rz = 0.0
    for a in range(k):
        rz += r[a] * z[a]
    target2 = max(reduction * reduction * rz, abs_tol * abs_tol * b_norm2)
    if rz <= target2:
        return 0
    p[:] = z
    it = 0
    while it < max_iter:
        it += 1
        _normal_matvec(A, d, k, p, q)
        pq = 0.0
        for a in range(k):
            q[a] += alpha * p[a]
            pq += p[a] * q[a]
        if pq <= 0.0:
            break
        step = rz / pq
        for a in range(k):
            x[a] += step * p[a]
            r[a] -= step * q[a]
        z[:] = r
        _cholesky_solve_inplace(L, k, z)
        rz_new = 0.0
        for a in range(k):
            rz_new += r[a] * z[a]
        if rz_new <= target2:
            break
        beta = rz_new / rz
        rz = rz_new
        for a in range(k):
            p[a] = z[a] + beta * p[a]
    return it


@njit(cache=True)
def _sketched_rows(indptr, indices, data, F, col_offset, shift, alpha, keep_empty, sketch_size,
                   n_nonzeros, min_rows, reduction, abs_tol, max_cg, seed, X, cg_iters, lo, hi,
                   max_d):
    """Rows ``lo:hi`` of :func:`row_solve_sketched` (scratch allocated once per call)."""
    k = F.shape[1]
    A = np.empty((max(max_d, 1), k))
    y = np.empty(max(max_d, 1))
    SA = np.empty((sketch_size, k))
    G = np.empty((k, k))
    x = np.empty(k)
    r = np.empty(k)
    z = np.empty(k)
    p = np.empty(k)
    q = np.empty(k)
    for i in range(lo, hi):
        cg_iters[i] = 0
        d = _gather(indptr, indices, data, F, col_offset, shift, i, A, y)
        if d == 0:
            if not keep_empty:
                X[i, :] = 0.0
            continue
        if d <= min_rows:
            _solve_exact_row(A, y, d, k, alpha, G, x)
            X[i, :] = x
            continue
        _sketch_rows(A, d, k, indptr[i], sketch_size, n_nonzeros, seed, SA)
        G[:, :] = SA.T @ SA
        _regularize_and_factor(G, k, alpha)
        x[:] = X[i, :]
        cg_iters[i] = _pcg_row(A, y, d, k, alpha, G, x, reduction, abs_tol, max_cg, r, z, p, q)
        X[i, :] = x


@njit(parallel=True, cache=True)
def row_solve_sketched(indptr, indices, data, F, col_offset, shift, alpha, keep_empty,
                       sketch_size, n_nonzeros, min_rows, reduction, abs_tol, max_cg, seed, X,
                       cg_iters):
    """Sketch-and-precondition per-row ridge least squares (Gu, Song, Yin & Zhang 2024).

    For a row with ``d > min_rows`` observations: sketch its ``d x k`` design to
    ``sketch_size`` rows (sparse sign embedding, O(d k)), factor the sketched Gram
    ``(SA)^T SA + alpha I = R^T R`` (R is the QR factor of the sketch, O(sketch_size k^2)),
    then run preconditioned CG warm-started at the current ``X[i]`` (O(d k) per iteration).
    Rows with ``d <= min_rows`` cannot be shrunk by a sketch and are solved exactly.
    ``X`` (warm start in, solution out) and ``cg_iters`` (iterations per row) are written in
    place.
    """
    n_rows = indptr.shape[0] - 1
    max_d = _max_row_length(indptr)
    n_chunks = (n_rows + ROWS_PER_CHUNK - 1) // ROWS_PER_CHUNK
    for c in prange(n_chunks):
        lo = c * ROWS_PER_CHUNK
        hi = min(n_rows, lo + ROWS_PER_CHUNK)
        _sketched_rows(indptr, indices, data, F, col_offset, shift, alpha, keep_empty,
                       sketch_size, n_nonzeros, min_rows, reduction, abs_tol, max_cg, seed, X,
                       cg_iters, lo, hi, max_d)


@njit(cache=True)
def row_solve_sketched_serial(indptr, indices, data, F, col_offset, shift, alpha, keep_empty,
                              sketch_size, n_nonzeros, min_rows, reduction, abs_tol, max_cg,
                              seed, X, cg_iters):
    """:func:`row_solve_sketched` on one thread (small problems: no parallel-region overhead)."""
    _sketched_rows(indptr, indices, data, F, col_offset, shift, alpha, keep_empty, sketch_size,
                   n_nonzeros, min_rows, reduction, abs_tol, max_cg, seed, X, cg_iters, 0,
                   indptr.shape[0] - 1, _max_row_length(indptr))


@njit(cache=True)
def _residual_row(indptr, indices, data, U, V, row_bias, col_bias, mean, out, i):
    k = U.shape[1]
    for p in range(indptr[i], indptr[i + 1]):
        j = indices[p]
        s = mean + row_bias[i] + col_bias[j]
        for a in range(k):
            s += U[i, a] * V[j, a]
        out[p] = data[p] - s


@njit(parallel=True, cache=True)
def observed_residuals(indptr, indices, data, U, V, row_bias, col_bias, mean, out):
    """out[p] = data[p] - mean - row_bias[i] - col_bias[j] - U[i] @ V[j] over the CSR pattern."""
    for i in prange(indptr.shape[0] - 1):
        _residual_row(indptr, indices, data, U, V, row_bias, col_bias, mean, out, i)


@njit(cache=True)
def observed_residuals_serial(indptr, indices, data, U, V, row_bias, col_bias, mean, out):
    """:func:`observed_residuals` on one thread."""
    for i in range(indptr.shape[0] - 1):
        _residual_row(indptr, indices, data, U, V, row_bias, col_bias, mean, out, i)


@njit(parallel=True, cache=True)
def predict_entries(rows, cols, U, V, row_bias, col_bias, mean, out):
    """out[t] = mean + row_bias[rows[t]] + col_bias[cols[t]] + U[rows[t]] @ V[cols[t]]."""
    k = U.shape[1]
    for t in prange(rows.shape[0]):
        i = rows[t]
        j = cols[t]
        s = mean + row_bias[i] + col_bias[j]
        for a in range(k):
            s += U[i, a] * V[j, a]
        out[t] = s
