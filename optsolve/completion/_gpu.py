"""Alternating minimization on an array module: numpy (host kernels) or cupy (CUDA kernels).

The sweep loop :func:`altmin_engine` is written once against ``xp`` and calls its hot work
through a small kernel table:

* :class:`HostKernels` (numpy): the numba kernels of the CPU path (``solve_rows``,
  ``observed_residuals``) and its randomized spectral initialization, so that the engine on
  numpy reproduces :func:`optsolve.completion.altmin` exactly (tested);
* :class:`DeviceKernels` (cupy): ``csrc/completion_rows.cu``, one thread block per row doing
  the gather, the Gram / sketch, the Cholesky factor and the (preconditioned CG) solve in shared
  memory with the CPU kernel's per-row stopping rule, plus an entry-parallel residual kernel;
  the spectral initialization uses ``cupyx.scipy.sparse.linalg.svds`` on the device CSR.

Inside the sweep loop nothing leaves the device except the two scalars of the convergence test
(objective and residual norm), read once per sweep through :func:`optsolve._backend.to_host`.
Ranks above :data:`KMAX` (shared-memory budget of one block) fall back to
:func:`solve_rows_batched`, exact normal equations batched over rows of similar length with
``xp.linalg.solve``; that function is also the numpy reference of the exact row kernel.
"""

from __future__ import annotations

import logging
from types import ModuleType

import numpy as np

from .._backend import to_float, to_host
from .._optimize import (
    STATUS_CALLBACK_STOP,
    History,
    ProgressReporter,
    call_callback,
)
from .altmin import (
    STATUS_CONVERGED_RESIDUAL,
    STATUS_CONVERGED_STALLED,
    STATUS_MAX_ITER,
    altmin_result,
    observed_residuals,
)
from .init import INIT_INCOHERENCE, spectral_init
from .sketched_ls import _sketch_size, solve_rows

__all__ = ["KMAX", "DeviceKernels", "HostKernels", "altmin_engine", "solve_rows_batched"]

logger = logging.getLogger("optsolve.completion")

#: largest number of unknowns per row (rank, +1 with biases) of the one-block-per-row kernel:
#: its k x k Gram, a tile of design rows and ten k-vectors must fit 48 KiB of shared memory
KMAX = 72
#: threads per row block (4 warps: the design matvec runs one warp per observation)
THREADS = 128
#: 48 KiB of dynamic shared memory, in doubles (the default limit, no opt-in attribute needed)
SHARED_DOUBLES = 6144
#: row blocks launched per resident block slot (grid-stride over rows): a few waves let the
#: scheduler balance rows of unequal length; each block owns a sketch scratch of s x k doubles
WAVES = 4
#: entries (rows x padded length x k) gathered at once by the batched fallback
BATCH_ENTRIES = 1 << 25
GRAM_JITTER = 1e-12  # as _kernels.GRAM_JITTER
_NO_SKETCH = np.iinfo(np.int64).max


def _tile_rows(k: int) -> int:
    """Design rows staged per Gram tile: what is left of the shared budget (see the .cu)."""
    return min(32, (SHARED_DOUBLES - k * k - 10 * k - 8) // (k + 1))


def shared_bytes(k: int) -> int:
    """Dynamic shared memory of one row block (layout documented in completion_rows.cu)."""
    return 8 * (k * k + _tile_rows(k) * (k + 1) + 6 * k + (THREADS // 32) * k + 8)


def _resident_blocks(xp, k: int) -> int:
    """Row blocks that fit on the device at once (SM count x blocks per SM by shared memory)."""
    try:
        n_sm = int(xp.cuda.Device().attributes["MultiProcessorCount"])
    except Exception:  # pragma: no cover - attribute name of an older CuPy
        n_sm = 132
    per_sm = max(1, min(2048 // THREADS, (227 * 1024) // (shared_bytes(k) + 1024)))
    return n_sm * per_sm


def _min_rows(method: str, k: int, opts: dict) -> tuple[int, int]:
    """(sketch size, row length up to which rows are solved exactly), as ``solve_rows``."""
    if method == "exact":
        return 1, _NO_SKETCH
    s = _sketch_size(k, opts)
    if k < opts["min_rank"]:
        return s, _NO_SKETCH
    return s, int(opts["min_rows_factor"] * s)


# ----------------------------------------------------------------------------- references
def solve_rows_batched(xp: ModuleType, indptr, indices, data, F, col_offset, shift, alpha: float,
                       keep_empty: bool, out, *, row_lengths: np.ndarray | None = None) -> None:
    """Exact per-row ridge solves, batched over rows of similar length (in place into ``out``).

    Rows are sorted by observation count and cut into batches whose padded gather
    ``(rows, d_max, k)`` stays under ``BATCH_ENTRIES``; each batch forms its Gram matrices with
    one ``einsum``, adds ``alpha`` and the relative jitter of the CPU kernel, and solves them with
    the batched ``xp.linalg.solve``. ``row_lengths`` (host) avoids reading ``indptr`` back.
    """
    k = F.shape[1]
    lengths = np.diff(to_host(indptr)) if row_lengths is None else row_lengths
    order = np.argsort(lengths, kind="stable")
    empty = order[lengths[order] == 0]
    if empty.size and not keep_empty:
        out[xp.asarray(empty)] = 0.0
    order = order[lengths[order] > 0]
    shift = xp.asarray(shift, dtype=xp.float64).reshape(-1)[:1]
    eye = xp.eye(k)
    lo = 0
    while lo < order.size:
        hi = lo + 1
        while hi < order.size and (hi - lo + 1) * int(lengths[order[hi]]) * k <= BATCH_ENTRIES:
            hi += 1
        rows = order[lo:hi]
        d_max = int(lengths[rows[-1]])
        rows_d = xp.asarray(rows)
        offsets = xp.arange(d_max)
        mask = offsets[None, :] < xp.asarray(lengths[rows])[:, None]
        pos = xp.where(mask, indptr[rows_d][:, None].astype(xp.int64) + offsets[None, :], 0)
        j = indices[pos]
        A = F[j] * mask[:, :, None]
        y = (data[pos] - shift - col_offset[j]) * mask
        G = xp.einsum("bdk,bdl->bkl", A, A)
        rhs = xp.einsum("bdk,bd->bk", A, y)
        trace = xp.trace(G, axis1=1, axis2=2)
        jitter = GRAM_JITTER * xp.maximum(trace / k, 1e-300)
        G = G + (alpha + jitter)[:, None, None] * eye
        out[rows_d] = xp.linalg.solve(G, rhs[:, :, None])[:, :, 0]
        lo = hi


class _Pattern:
    """A CSR pattern on one array module, with what the kernels need precomputed once."""

    def __init__(self, xp, csr):
        self.csr = csr
        self.shape = tuple(int(s) for s in csr.shape)
        self.nnz = int(csr.nnz)
        if xp is np:
            return
        index = xp.int32 if self.nnz < 2**31 - 1 else xp.int64
        self.suffix = "i32" if index == xp.int32 else "i64"
        self.indptr = csr.indptr.astype(index, copy=False)
        self.indices = csr.indices.astype(index, copy=False)
        self.data = csr.data.astype(xp.float64, copy=False)
        lengths = xp.diff(self.indptr)
        self.row_lengths_host = None  # only the batched fallback needs them (read on demand)
        self.max_length = int(to_float(lengths.max())) if self.shape[0] else 0
        self._rows = None

    def rows(self, xp):
        """Row index of every entry (for the entry-parallel residual kernel)."""
        if self._rows is None:
            positions = xp.arange(self.nnz, dtype=self.indptr.dtype)
            self._rows = (
                xp.searchsorted(self.indptr, positions, side="right") - 1
            ).astype(self.indptr.dtype)
        return self._rows


# ----------------------------------------------------------------------------- tables
class HostKernels:
    """numpy table: the numba kernels and the randomized spectral init of the CPU path."""

    xp = np

    def pattern(self, csr):
        return _Pattern(np, csr)

    def transpose(self, pattern):
        m = pattern.csr.T.tocsr()
        m.sort_indices()
        return _Pattern(np, m)

    def solve_rows(self, pattern, F, out, *, alpha, method, opts, seed, col_offset, shift,
                   keep_empty):
        return solve_rows(pattern.csr, F, out, alpha=alpha, method=method, opts=opts, seed=seed,
                          col_offset=col_offset, shift=float(shift[0]), keep_empty=keep_empty)

    def residuals(self, pattern, U, V, b, c, mean):
        return observed_residuals(pattern.csr, U, V, b, c, float(mean[0]))

    def spectral_init(self, pattern, rank, mean, rng):
        centred = pattern.csr.copy()
        centred.data = centred.data - float(mean[0])
        return spectral_init(centred, rank, random_state=rng)


class DeviceKernels:
    """cupy table: ``csrc/completion_rows.cu`` kernels and cupyx ``svds``."""

    def __init__(self, xp: ModuleType):
        self.xp = xp

    def pattern(self, csr):
        return _Pattern(self.xp, csr)

    def transpose(self, pattern):
        m = pattern.csr.T.tocsr()
        m.sort_indices()
        return _Pattern(self.xp, m)

    def solve_rows(self, pattern, F, out, *, alpha, method, opts, seed, col_offset, shift,
                   keep_empty):
        """Launch the row kernel (in place into ``out``); returns the CG iterations (device)."""
        from .._cuda import get_kernel

        xp = self.xp
        n_rows, k = out.shape
        if n_rows == 0:
            return xp.zeros((), dtype=xp.int64)
        F = xp.ascontiguousarray(F, dtype=xp.float64)
        col_offset = xp.ascontiguousarray(col_offset, dtype=xp.float64)
        shift = xp.ascontiguousarray(xp.asarray(shift, dtype=xp.float64).reshape(-1))
        if k > KMAX:  # a block's shared memory cannot hold the Gram: exact, batched
            if pattern.row_lengths_host is None:
                pattern.row_lengths_host = np.diff(to_host(pattern.indptr))
            solve_rows_batched(xp, pattern.indptr, pattern.indices, pattern.data, F, col_offset,
                               shift, alpha, keep_empty, out,
                               row_lengths=pattern.row_lengths_host)
            return xp.zeros((), dtype=xp.int64)
        s, min_rows = _min_rows(method, k, opts)
        sketched = min_rows < pattern.max_length
        grid = min(n_rows, WAVES * _resident_blocks(xp, k))
        scratch = xp.empty(grid * s * k if sketched else 1, dtype=xp.float64)
        cg_iters = xp.zeros(n_rows, dtype=xp.int64)
        kernel = get_kernel("completion_rows", f"completion_rows_{pattern.suffix}")
        kernel(
            (grid,), (THREADS,),
            (pattern.indptr, pattern.indices, pattern.data, F, np.int32(k), col_offset, shift,
             np.float64(alpha), np.int32(bool(keep_empty)), np.int64(n_rows), np.int64(s),
             np.int64(opts.get("sketch_nnz", 1)), np.int64(min_rows),
             np.float64(opts.get("row_reduction", 0.0)), np.float64(opts.get("row_abs_tol", 0.0)),
             np.int64(opts.get("row_max_cg", 0)), np.int64(int(seed) & 0x7FFFFFFF), out,
             cg_iters, scratch, np.int32(_tile_rows(k))),
            shared_mem=shared_bytes(k),
        )
        return cg_iters.sum()

    def residuals(self, pattern, U, V, b, c, mean):
        from .._cuda import get_kernel

        xp = self.xp
        out = xp.empty(pattern.nnz, dtype=xp.float64)
        if pattern.nnz == 0:
            return out
        threads = 256
        blocks = min((pattern.nnz + threads - 1) // threads, 65535)
        kernel = get_kernel("completion_rows", f"completion_residuals_{pattern.suffix}")
        kernel(
            (blocks,), (threads,),
            (pattern.rows(xp), pattern.indices, pattern.data, xp.ascontiguousarray(U),
             xp.ascontiguousarray(V), np.int32(U.shape[1]), xp.ascontiguousarray(b),
             xp.ascontiguousarray(c), xp.ascontiguousarray(mean, dtype=xp.float64), out,
             np.int64(pattern.nnz)),
        )
        return out

    def spectral_init(self, pattern, rank, mean, rng):
        seed = 0 if rng is None else int(rng.randint(np.iinfo(np.int32).max))
        return spectral_init_device(self.xp, pattern, rank, mean, seed=seed)


def _seeded_svds(xp, Y, rank: int, seed: int):
    """cupyx ``svds`` (its Lanczos start vector comes from CuPy's global generator: seed it for
    a reproducible result, then put the caller's generator back)."""
    from cupyx.scipy.sparse.linalg import svds

    try:
        saved = xp.random.get_random_state()
        xp.random.set_random_state(xp.random.RandomState(seed))
    except AttributeError:  # pragma: no cover - an older CuPy: unseeded, still correct
        return svds(Y, k=rank)
    try:
        return svds(Y, k=rank)
    finally:
        xp.random.set_random_state(saved)


def spectral_init_device(xp, pattern, rank: int, mean, incoherence: float = INIT_INCOHERENCE,
                         seed: int = 0):
    """:func:`~optsolve.completion.spectral_init` on the device: cupyx ``svds`` (Lanczos)."""
    import cupyx.scipy.sparse as cpsp

    m, n = pattern.shape
    p = max(pattern.nnz, 1) / (m * n)
    Y = cpsp.csr_matrix(((pattern.data - mean[0]) / p, pattern.indices, pattern.indptr),
                        shape=(m, n))
    U, sigma, Wt = _seeded_svds(xp, Y, rank, seed)
    order = xp.argsort(-sigma)
    U, sigma, Wt = U[:, order], sigma[order], Wt[order]
    threshold = 2.0 * np.sqrt(incoherence * rank / m)
    norms = xp.linalg.norm(U, axis=1)
    scale = xp.minimum(1.0, threshold / xp.maximum(norms, 1e-300))
    U0, _ = xp.linalg.qr(U * scale[:, None])
    return U0, sigma, xp.ascontiguousarray(Wt.T)


# ----------------------------------------------------------------------------- engine
def _half_step(kern, pattern, fixed, fixed_bias, solved, solved_bias, mean, seed, *, solver,
               alpha, biases, opts, keep_empty):
    xp = kern.xp
    if biases:
        F = xp.hstack([fixed, xp.ones((fixed.shape[0], 1))])
        out = xp.ascontiguousarray(xp.hstack([solved, solved_bias[:, None]]))
    else:
        F, out = fixed, xp.ascontiguousarray(solved)
    iters = kern.solve_rows(pattern, F, out, alpha=alpha, method=solver, opts=opts, seed=seed,
                            col_offset=fixed_bias, shift=mean, keep_empty=keep_empty)
    if biases:
        return xp.ascontiguousarray(out[:, :-1]), xp.ascontiguousarray(out[:, -1]), iters
    return out, solved_bias, iters


def altmin_engine(kern, csr, rank: int, *, solver: str, alpha: float, biases: bool,
                  max_iter: int, tol: float, opts: dict, rng, callback=None,
                  record_history: bool = False, verbose=False, init=None):
    """The AltMin sweep loop of :func:`~optsolve.completion.altmin` on ``kern.xp``.

    ``csr`` is a canonical (sorted, duplicate-free) float64 CSR matrix of the observations on
    ``kern``'s array module; validation is the caller's. Draws from ``rng`` in the CPU path's
    order (sketch seed base, then the initialization), so that on numpy the result is the CPU
    path's. ``init=(U0, sigma, W)`` replaces the spectral initialization (parity tests).
    """
    xp = kern.xp
    seed_base = int(rng.randint(np.iinfo(np.int32).max))
    orthonormalize = alpha == 0.0 and not biases
    full = kern.pattern(csr)
    full_t = kern.transpose(full)
    m, n = full.shape
    values = full.csr.data
    mean = values.mean().reshape(1) if biases else xp.zeros(1)
    b, c = xp.zeros(m), xp.zeros(n)
    U0, sigma, W = kern.spectral_init(full, rank, mean, rng) if init is None else init
    if orthonormalize:
        U, V = U0, W * sigma
    else:
        U, V = U0 * xp.sqrt(sigma), W * xp.sqrt(sigma)
    U, V = xp.ascontiguousarray(U), xp.ascontiguousarray(V)

    def orthonormal(Q_side, other):
        Q, R = xp.linalg.qr(Q_side)
        return Q, other @ R.T

    history = History(measure="rel_residual") if record_history else None
    y_norm = to_float(xp.linalg.norm(values)) or 1.0
    f_prev, f, rel_res = np.inf, np.inf, np.inf
    status, nit = STATUS_MAX_ITER, 0
    cg_total = xp.zeros((), dtype=xp.int64)
    step = dict(solver=solver, alpha=alpha, biases=biases, opts=opts, keep_empty=False)
    with ProgressReporter(max_iter, "altmin", verbose, measure="rel_res") as progress:
        for it in range(1, max_iter + 1):
            if biases:  # mu is unpenalized: its exact minimizer given the rest
                mean = mean + kern.residuals(full, U, V, b, c, mean).mean()
            if orthonormalize:
                U, V = orthonormal(U, V)
            V, c, iters_v = _half_step(kern, full_t, U, b, V, c, mean, seed_base + 2 * it, **step)
            if orthonormalize:
                V, U = orthonormal(V, U)
            U, b, iters_u = _half_step(kern, full, V, c, U, b, mean, seed_base + 2 * it + 1,
                                       **step)
            cg_total = cg_total + iters_u + iters_v
            nit = it
            r = kern.residuals(full, U, V, b, c, mean)
            rr = r @ r
            penalty = xp.sum(U * U) + xp.sum(V * V) + b @ b + c @ c
            # the one host read of the sweep: objective pieces for the convergence test
            rr_host, penalty_host = (float(v) for v in to_host(xp.stack([rr, penalty])))
            f = rr_host + (alpha * penalty_host if alpha else 0.0)
            rel_res = float(np.sqrt(rr_host)) / y_norm
            if history is not None:
                history.record(it, f, rel_res)
            progress.update(it, f, rel_res)
            if callback is not None:
                x = xp.concatenate([U.ravel(), V.ravel()])
                if call_callback(callback, x=x, fun=f, nit=it, U=U, V=V, row_bias=b, col_bias=c,
                                 mean=to_float(mean[0]), rel_residual=rel_res):
                    status = STATUS_CALLBACK_STOP
                    break
            if rel_res <= tol:
                status = STATUS_CONVERGED_RESIDUAL
                break
            if np.isfinite(f_prev) and abs(f_prev - f) <= tol * f_prev:
                status = STATUS_CONVERGED_STALLED
                break
            f_prev = f
    return altmin_result(xp.concatenate([U.ravel(), V.ravel()]), f, status, nit, tol,
                         label=f"altmin ({xp.__name__})", U=U, V=V, row_bias=b, col_bias=c,
                         mean=to_float(mean[0]), rel_residual=rel_res,
                         cg_iterations=int(to_float(cg_total)), history=history)


def altmin_device(X, rank, *, solver, alpha, biases, max_iter, tol, sample_splitting,
                  random_state, callback, options, record_history, verbose):
    """:func:`~optsolve.completion.altmin` for CuPy / cupyx input: factors stay on the device."""
    from sklearn.utils import check_random_state

    from ._device_input import device_csr
    from .altmin import _check_alpha_rank
    from .sketched_ls import ROW_SOLVER_OPTIONS

    if sample_splitting:
        raise ValueError(
            "sample_splitting=True is not available for CuPy input (the GPU sweep runs on the "
            "full pattern); pass host (numpy / scipy.sparse) data for sample splitting"
        )
    from .._backend import get_namespace

    csr = device_csr(X)
    alpha = _check_alpha_rank(alpha, rank, csr.shape, csr.nnz)
    opts = ROW_SOLVER_OPTIONS.resolve(options)
    kern = DeviceKernels(get_namespace(csr.data))
    return altmin_engine(
        kern, csr, rank, solver=solver, alpha=alpha, biases=biases, max_iter=max_iter, tol=tol,
        opts=opts, rng=check_random_state(random_state), callback=callback,
        record_history=record_history, verbose=verbose,
    )
