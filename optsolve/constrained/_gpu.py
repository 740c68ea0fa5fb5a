"""Array-module generic (numpy / CuPy) block sketch-and-project for large sparse KKT systems.

Randomized Kaczmarz takes one row per step, which leaves a GPU idle. The GPU engine therefore
runs the *averaged block* variant of sketch-and-project with an adaptive extrapolated step
(Necoara, "Faster randomized block Kaczmarz algorithms", SIAM J. Matrix Anal. Appl. 40, 2019,
Sec. 4; the projection form of Richtárik & Takáč, "Stochastic reformulations of linear systems",
SIAM J. Matrix Anal. Appl. 41, 2020, Sec. 5.6):

* once: the rows of ``K`` are shuffled with the seed and cut into ``n_blocks`` blocks of
  ``q = block_size`` rows (a fixed random partition, the last block padded with zero rows); the
  ``q x q`` Gram matrix ``G_j = K_j K_jᵀ`` of every block is formed (one sparse product) and
  inverted (batched), with a relative ridge ``1e-10 tr(G_j)/q``;
* per iteration: ``p`` distinct blocks ``J`` (consecutive slices of a fresh permutation of the
  blocks each epoch, drawn on the host from the seed, so the CPU and GPU runs pick the same rows)
  and, with ``s_j = K_j z - b_j`` and ``y_j = G_j⁻¹ s_j``,

      u = Σ_{j∈J} K_jᵀ y_j,   z <- z - (Σ_j s_jᵀ y_j / ‖u‖²) u.

  For ``p = 1`` this is exactly the block Kaczmarz projection of :class:`SketchSolver`
  (``sketch='block'``). For a consistent system ``s_j = K_j e`` with ``e = z - z*``, so
  ``eᵀu = Σ s_jᵀ y_j`` and the step is the exact line search of ``‖e - β u‖``:
  ``‖e⁺‖² = ‖e‖² - (Σ s_jᵀ y_j)² / ‖u‖²`` -- monotone, never worse than one block step on
  average, and up to ``p`` times better when the blocks are nearly orthogonal (sparse PDE KKT
  systems). The ridge keeps ``G_j⁻¹`` positive definite, which is all the argument needs.

The loop is written once against ``xp``; the three irregular steps go through a table of
operations: plain numpy (the references) or CUDA kernels from
``csrc/constrained_block_kaczmarz.cu`` (the step length stays on the device). The residual
``‖K z - b‖`` is brought to the host only every ``check_every`` iterations, through
:func:`optsolve._backend.to_float`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import get_namespace, to_float
from .._optimize import OptimizeResult, make_result
from .._status import Status, termination_message, warn_status

__all__ = [
    "SKETCH_KINDS",
    "BlockKaczmarz",
    "BlockSketchInnerSolver",
    "apply_sketch",
    "block_kaczmarz_solve",
    "draw_sketch",
]

#: default rows per block ``q`` (the Gram inverses take ``N q`` numbers)
DEFAULT_BLOCK_SIZE = 16
#: default share of the rows visited per iteration (``p q ≈ N / ROWS_PER_ITER_DIVISOR``)
ROWS_PER_ITER_DIVISOR = 8
#: relative ridge on the block Gram matrices (bounds their condition number)
GRAM_RIDGE = 1e-10
#: block-schedule epochs drawn on the host and copied to the device at once
EPOCHS_PER_UPLOAD = 16
#: sketches that :func:`apply_sketch` forms
SKETCH_KINDS = ("gaussian", "count", "sparse_sign")
_THREADS = 256
_MAX_BLOCKS = 65535


# ---- the table of operations: numpy references ----
def _row_segments(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions into ``indices/data`` of the stored entries of ``rows``, and their row slot."""
    starts = indptr[rows]
    lens = indptr[rows + 1] - starts
    slot = np.repeat(np.arange(rows.shape[0]), lens)
    first = np.cumsum(lens) - lens
    pos = np.arange(int(lens.sum())) - np.repeat(first, lens) + np.repeat(starts, lens)
    return pos, slot


def _np_block_residual(indptr, indices, data, z, rhs, rows):
    """``out[t] = K[rows[t]] @ z - rhs[rows[t]]`` (reference of ``block_residual``)."""
    pos, slot = _row_segments(indptr, rows)
    dots = np.bincount(slot, weights=data[pos] * z[indices[pos]], minlength=rows.shape[0])
    return dots.astype(data.dtype, copy=False) - rhs[rows]


def _np_block_gram_apply(ginv, blocks, s, q):
    """``y_j = ginv[blocks[j]] @ s_j`` (reference of ``block_gram_apply``)."""
    return np.matmul(ginv[blocks], s.reshape(-1, q, 1)).ravel()


def _np_block_scatter(indptr, indices, data, rows, y, u):
    """``u += Σ_t y[t] K[rows[t]]`` in place (reference of ``block_scatter``)."""
    pos, slot = _row_segments(indptr, rows)
    u += np.bincount(indices[pos], weights=y[slot] * data[pos],
                     minlength=u.shape[0]).astype(u.dtype, copy=False)


def _np_block_step(num, den, u, z):
    """``z -= (num / den) u`` in place, no step when ``den == 0`` (reference of
    ``block_step``; ``num`` and ``den`` are 0-d arrays)."""
    if den > 0:
        z -= (num / den) * u


class _NumpyOps:
    residual = staticmethod(_np_block_residual)
    gram_apply = staticmethod(_np_block_gram_apply)
    scatter = staticmethod(_np_block_scatter)
    step = staticmethod(_np_block_step)


# ---- the table of operations: CUDA kernels ----
def _launch_size(work: int) -> int:
    return max(1, min(_MAX_BLOCKS, (int(work) + _THREADS - 1) // _THREADS))


def _suffix(dtype) -> str:
    return "f64" if np.dtype(dtype) == np.float64 else "f32"


def _kernel(name: str, dtype):
    from .._cuda import get_kernel

    return get_kernel("constrained_block_kaczmarz", f"{name}_{_suffix(dtype)}")


class _CupyOps:
    @staticmethod
    def residual(indptr, indices, data, z, rhs, rows):
        import cupy as cp

        n_sel = rows.shape[0]
        out = cp.empty(n_sel, dtype=data.dtype)
        _kernel("block_residual", data.dtype)(
            (_launch_size(32 * n_sel),), (_THREADS,),
            (indptr, indices, data, z, rhs, rows, np.int64(n_sel), out))
        return out

    @staticmethod
    def gram_apply(ginv, blocks, s, q):
        import cupy as cp

        n_blocks = blocks.shape[0]
        y = cp.empty(n_blocks * q, dtype=s.dtype)
        _kernel("block_gram_apply", s.dtype)(
            (_launch_size(n_blocks * q),), (_THREADS,),
            (ginv, blocks, s, np.int64(n_blocks), np.int64(q), y))
        return y

    @staticmethod
    def scatter(indptr, indices, data, rows, y, u):
        n_sel = rows.shape[0]
        _kernel("block_scatter", data.dtype)(
            (_launch_size(32 * n_sel),), (_THREADS,),
            (indptr, indices, data, rows, y, np.int64(n_sel), u))


    @staticmethod
    def step(num, den, u, z):
        n = z.shape[0]
        _kernel("block_step", z.dtype)((_launch_size(n),), (_THREADS,), (num, den, u, z,
                                                                         np.int64(n)))


def _ops(xp):
    return _NumpyOps if xp is np else _CupyOps


def _sparse_module(xp):
    if xp is np:
        import scipy.sparse as sparse
    else:
        import cupyx.scipy.sparse as sparse
    return sparse


def _is_sparse(K: Any) -> bool:
    return hasattr(K, "tocsr") and hasattr(K, "nnz")


# ---- the solver ----
class BlockKaczmarz:
    """Averaged block sketch-and-project on ``K z = b`` for numpy/scipy or CuPy/cupyx ``K``.

    Parameters
    ----------
    K : scipy.sparse or cupyx.scipy.sparse matrix, or 2-D ndarray, shape (N, N)
        System matrix (any square matrix; the KKT matrix in the sketched Newton method).
    block_size : int
        Rows per block ``q``.
    blocks_per_iter : int or None
        Blocks ``p`` averaged per iteration; default ``ceil(N / (8 q))``.
    seed : int or None
        Seed of the row partition and of the block schedule (host numpy generator, so a CPU and a
        GPU run with the same seed visit the same rows).
    check_every : int
        Iterations between residual checks (each check is one host transfer on a GPU).

    Attributes
    ----------
    z : array of shape (N,)
        Current iterate (starts at zero), in the namespace of ``K``.
    n_iter : int
        Iterations done so far.
    n_checks : int
        Residual evaluations brought to the host so far.
    """

    def __init__(self, K: Any, *, block_size: int = DEFAULT_BLOCK_SIZE,
                 blocks_per_iter: int | None = None, seed: int | None = None,
                 check_every: int = 10):
        xp = get_namespace(K)
        sparse = _sparse_module(xp)
        if len(K.shape) != 2 or K.shape[0] != K.shape[1]:
            raise ValueError(f"K must be a square matrix, got shape {K.shape}")
        if int(block_size) < 1:
            raise ValueError(f"block_size must be >= 1, got {block_size}")
        if int(check_every) < 1:
            raise ValueError(f"check_every must be >= 1, got {check_every}")
        self.xp = xp
        self.N = N = int(K.shape[0])
        if not _is_sparse(K):
            K = sparse.csr_matrix(xp.asarray(K, dtype=xp.float64))
        self.K = K.tocsr()
        dtype = self.K.dtype if self.K.dtype in (np.float32, np.float64) else np.float64
        self.dtype = np.dtype(dtype)
        self.q = q = max(1, min(int(block_size), N))
        self.n_blocks = nb = -(-N // q)
        self.p = max(1, min(nb, int(blocks_per_iter) if blocks_per_iter
                            else -(-N // (ROWS_PER_ITER_DIVISOR * q))))
        self.check_every = int(check_every)
        self.rng = np.random.default_rng(seed)
        perm = self.rng.permutation(N)
        # the shuffled, zero-padded rows: block j is rows j q .. j q + q - 1 of Kp
        indptr_p = np.concatenate([np.arange(N + 1), np.full(nb * q - N, N)])
        P = sparse.csr_matrix((xp.ones(N, dtype=self.dtype), xp.asarray(perm, dtype=xp.int32),
                               xp.asarray(indptr_p, dtype=xp.int32)), shape=(nb * q, N))
        Kp = (P @ self.K).tocsr()
        Kp.sum_duplicates()
        self._perm = xp.asarray(perm, dtype=xp.int64)
        self.indptr = xp.asarray(Kp.indptr, dtype=xp.int64)
        self.indices = xp.asarray(Kp.indices, dtype=xp.int32)
        self.data = xp.asarray(Kp.data, dtype=self.dtype)
        self.ginv = self._gram_inverses(Kp, sparse)
        self._arange_q = xp.arange(q, dtype=xp.int64)
        self._orders = None
        self._order = None
        self._epoch = -1
        self._pos = 0
        self.z = xp.zeros(N, dtype=self.dtype)
        self.n_iter = 0
        self.n_checks = 0

    def _gram_inverses(self, Kp, sparse) -> Any:
        """``(G_j + ridge I)⁻¹`` for every block, with the rows and columns of zero rows of
        ``K`` set to zero."""
        xp, q, nb = self.xp, self.q, self.n_blocks
        prod = (Kp @ Kp.T.tocsr()).tocoo()
        row, col = prod.row.astype(xp.int64), prod.col.astype(xp.int64)
        # entries outside the block diagonal land in a scratch block nb, dropped afterwards
        # (a masked scatter instead of boolean indexing, which would sync the device)
        blk = xp.where(row // q == col // q, row // q, nb)
        grams = xp.zeros((nb + 1, q, q), dtype=self.dtype)
        grams[blk, row % q, col % q] = prod.data
        grams = grams[:nb]
        row_nonzero = (xp.diagonal(grams, axis1=1, axis2=2) > 0).astype(self.dtype)
        trace = xp.trace(grams, axis1=1, axis2=2)
        shift = GRAM_RIDGE * trace / q + (trace == 0)
        grams += shift[:, None, None] * xp.eye(q, dtype=self.dtype)
        ginv = xp.linalg.inv(grams)
        # zero rows (and the padding) are skipped, as in the Kaczmarz kernel: with b_i != 0
        # their tiny ridge pivot would otherwise blow up the step length
        ginv *= row_nonzero[:, :, None] * row_nonzero[:, None, :]
        return xp.ascontiguousarray(ginv)

    def _next_blocks(self) -> Any:
        """The next ``p`` blocks of the current epoch's permutation (a new one when spent).

        Permutations are drawn on the host ``EPOCHS_PER_UPLOAD`` at a time and copied to the
        device together, so the loop makes one host-to-device copy every few hundred
        iterations (the same sequence as one draw per epoch)."""
        if self._order is None or self._pos >= self.n_blocks:
            self._epoch += 1
            if self._orders is None or self._epoch >= self._orders.shape[0]:
                epochs = max(1, min(EPOCHS_PER_UPLOAD, (1 << 22) // self.n_blocks))
                self._orders = self.xp.asarray(
                    np.stack([self.rng.permutation(self.n_blocks) for _ in range(epochs)]),
                    dtype=self.xp.int64)
                self._epoch = 0
            self._order = self._orders[self._epoch]
            self._pos = 0
        blocks = self._order[self._pos:self._pos + self.p]
        self._pos += self.p
        return blocks

    def step(self, rhs_perm: Any) -> None:
        """One averaged block iteration (no host synchronisation)."""
        xp, ops, q = self.xp, _ops(self.xp), self.q
        blocks = self._next_blocks()
        rows = (blocks[:, None] * q + self._arange_q[None, :]).ravel()
        s = ops.residual(self.indptr, self.indices, self.data, self.z, rhs_perm, rows)
        y = ops.gram_apply(self.ginv, blocks, s, q)
        u = xp.zeros(self.N, dtype=self.dtype)
        ops.scatter(self.indptr, self.indices, self.data, rows, y, u)
        ops.step(xp.dot(s, y), xp.dot(u, u), u, self.z)
        self.n_iter += 1

    def permuted_rhs(self, b: Any) -> Any:
        """``b`` in the shuffled, zero-padded row order of the blocks."""
        xp = self.xp
        bp = xp.zeros(self.n_blocks * self.q, dtype=self.dtype)
        bp[:self.N] = xp.asarray(b, dtype=self.dtype)[self._perm]
        return bp

    def residual_norm(self, b: Any) -> float:
        """``‖K z - b‖₂`` as a host float (one transfer on a GPU)."""
        self.n_checks += 1
        return to_float(self.xp.linalg.norm(self.K @ self.z - b))

    def run(self, b: Any, target: float, max_iter: int) -> tuple[Any, float]:
        """Iterate until ``‖K z - b‖₂ <= target`` (checked every ``check_every`` iterations) or
        ``max_iter`` more iterations; returns the iterate (a copy) and its residual norm."""
        b = self.xp.asarray(b, dtype=self.dtype)
        rhs_perm = self.permuted_rhs(b)
        res = self.residual_norm(b)
        done = 0
        while res > target and done < max_iter and math.isfinite(res):
            for _ in range(min(self.check_every, max_iter - done)):
                self.step(rhs_perm)
                done += 1
            res = self.residual_norm(b)
        return self.z.copy(), res


def block_kaczmarz_solve(K: Any, b: Any, *, rtol: float = 1e-6, max_iter: int | None = None,
                         block_size: int = DEFAULT_BLOCK_SIZE,
                         blocks_per_iter: int | None = None, check_every: int = 10,
                         seed: int | None = None) -> OptimizeResult:
    """Solve ``K z = b`` by averaged block sketch-and-project, on the host or on a GPU.

    The randomized inner solver of the sketched Newton method for large sparse KKT systems:
    numpy/scipy input runs the loop with numpy, CuPy/cupyx input runs the same loop with CUDA
    kernels and keeps everything on the device (the residual is read every ``check_every``
    iterations, one scalar each time).

    Parameters
    ----------
    K : scipy.sparse / cupyx.scipy.sparse matrix or 2-D array of shape (N, N)
        System matrix, e.g. the KKT matrix ``[[B, Gᵀ], [G, 0]]``.
    b : array of shape (N,)
        Right-hand side, in the same namespace as ``K``.
    rtol : float
        Stop when ``‖K z - b‖₂ <= rtol ‖b‖₂``.
    max_iter : int or None
        Iteration budget; default ``200 N / (p q)`` (200 passes over the rows).
    block_size : int
        Rows per block ``q``.
    blocks_per_iter : int or None
        Blocks averaged per iteration ``p``; default about ``N / (8 q)``.
    check_every : int
        Iterations between residual checks.
    seed : int or None
        Seed of the row partition and the block schedule.

    Returns
    -------
    res : OptimizeResult
        ``x`` (the solution, same namespace as ``K``), ``residual`` (``‖K x - b‖₂``),
        ``success``, ``status`` (0 converged, 1 budget spent), ``nit``, ``n_checks``,
        ``block_size``, ``blocks_per_iter``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from optsolve.constrained import block_kaczmarz_solve
    >>> K = sp.csr_matrix(np.array([[4.0, 1, 1], [1, 3, 0], [1, 0, 0]]))
    >>> res = block_kaczmarz_solve(K, np.array([1.0, 2, 3]), rtol=1e-10, block_size=2,
    ...                            max_iter=10_000, seed=0)
    >>> bool(res.success), np.allclose(K @ res.x, [1, 2, 3])
    (True, True)
    """
    xp = get_namespace(K, b)
    if b.ndim != 1 or b.shape[0] != K.shape[0]:
        raise ValueError(f"b must have shape ({K.shape[0]},), got {b.shape}")
    if not rtol > 0:
        raise ValueError(f"rtol must be > 0, got {rtol}")
    if not math.isfinite(to_float(xp.abs(b).sum())):
        raise ValueError("b must be finite")
    solver = BlockKaczmarz(K, block_size=block_size, blocks_per_iter=blocks_per_iter, seed=seed,
                           check_every=check_every)
    if max_iter is None:
        max_iter = max(1, -(-200 * solver.N // (solver.p * solver.q)))
    bnorm = to_float(xp.linalg.norm(b))
    target = rtol * bnorm
    z, res = solver.run(b, target, int(max_iter))
    success = res <= target
    if not math.isfinite(res):
        status, detail = Status.NON_FINITE, "residual"
    elif success:
        status, detail = Status.SUCCESS, "residual below rtol"
    else:
        status = Status.MAX_ITER
        detail = (f"after {solver.n_iter} iterations, relative residual "
                  f"{res / bnorm if bnorm else res:.3e} > rtol = {rtol:.3e}")
    warn_status("block_kaczmarz_solve", status, detail)
    return make_result(z, res, success=status == Status.SUCCESS, status=int(status),
                       message=termination_message(status, detail),
                       nit=solver.n_iter, residual=res, n_checks=solver.n_checks,
                       block_size=solver.q, blocks_per_iter=solver.p)


# ---- sketch application ----
def draw_sketch(kind: str, n_rows: int, sketch_size: int, *, seed: int | None = None,
                nnz_per_column: int = 4, xp: Any = np, dtype: Any = np.float64) -> Any:
    """Draw ``S`` (``n_rows x sketch_size``) on the host from ``seed`` and move it to ``xp``.

    Returns the dense ``S`` for ``'gaussian'`` and the sparse CSR ``Sᵀ`` otherwise (see
    :func:`apply_sketch` for the kinds). The same seed gives the same ``S`` for numpy and CuPy.

    Examples
    --------
    >>> St = draw_sketch("count", 5, 2, seed=0)
    >>> St.shape, St.nnz
    ((2, 5), 5)
    """
    if kind not in SKETCH_KINDS:
        raise ValueError(f"kind must be one of {list(SKETCH_KINDS)}, got {kind!r}")
    q, N = int(sketch_size), int(n_rows)
    if q < 1:
        raise ValueError(f"sketch_size must be >= 1, got {sketch_size}")
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        return xp.asarray(rng.standard_normal((N, q)), dtype=dtype)
    if kind == "count":
        rows = rng.integers(0, q, size=N)
        vals = rng.choice(np.array([-1.0, 1.0]), size=N)
        cols = np.arange(N)
    else:
        s = max(1, min(int(nnz_per_column), q))
        rows = rng.integers(0, q, size=N * s)  # with replacement: repeats add up
        vals = rng.choice(np.array([-1.0, 1.0]), size=N * s) / math.sqrt(s)
        cols = np.repeat(np.arange(N), s)
    sparse = _sparse_module(xp)
    return sparse.coo_matrix((xp.asarray(vals, dtype=dtype),
                              (xp.asarray(rows, dtype=xp.int32),
                               xp.asarray(cols, dtype=xp.int32))), shape=(q, N)).tocsr()


def apply_sketch(K: Any, kind: str, sketch_size: int, *, seed: int | None = None,
                 nnz_per_column: int = 4, symmetric: bool = False,
                 sketch: Any = None) -> tuple[Any, Any]:
    """Form ``W = Sᵀ K`` for a random sketch ``S`` of shape ``(N, sketch_size)``.

    ``S`` is drawn on the host from ``seed`` (the same ``S`` for numpy and CuPy input), moved to
    the namespace of ``K``, and applied with a sparse product (cuSPARSE on a GPU).

    Parameters
    ----------
    K : sparse or dense matrix of shape (N, M)
        Matrix to sketch (scipy.sparse / ndarray, or cupyx.scipy.sparse / cupy.ndarray).
    kind : {'gaussian', 'count', 'sparse_sign'}
        ``gaussian``: i.i.d. N(0, 1) entries, ``W`` dense. ``count``: one ±1 per row of ``S``
        (count sketch, Clarkson & Woodruff 2013), ``W`` sparse. ``sparse_sign``:
        ``nnz_per_column`` entries ±1/√s per row of ``S`` (Meng & Mahoney 2013), ``W`` sparse.
    sketch_size : int
        ``q``, the columns of ``S``.
    seed : int or None
        Seed of ``S``.
    nnz_per_column : int
        Nonzeros per row of ``S`` for ``sparse_sign`` (per column of ``Sᵀ``).
    symmetric : bool
        ``K`` is symmetric (the KKT matrix): skip the transpose in the Gaussian case.
    sketch : array or sparse matrix or None
        A sketch returned earlier (by this function or :func:`draw_sketch`) to apply again
        instead of drawing one.

    Returns
    -------
    W : array or sparse matrix of shape (sketch_size, M)
        ``Sᵀ K`` in the namespace of ``K``.
    S : array or sparse matrix
        The sketch: dense ``S`` of shape (N, q) for ``gaussian``, sparse ``Sᵀ`` (q, N) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.arange(12.0).reshape(4, 3)
    >>> W, St = apply_sketch(K, "count", 2, seed=0)
    >>> np.allclose(W, St @ K)
    True
    """
    xp = get_namespace(K)
    dtype = K.dtype if K.dtype in (np.float32, np.float64) else np.float64
    S = sketch if sketch is not None else draw_sketch(
        kind, K.shape[0], sketch_size, seed=seed, nnz_per_column=nnz_per_column, xp=xp,
        dtype=dtype)
    if kind == "gaussian":
        if symmetric:
            KtS = K @ S
        else:
            KtS = K.T.tocsr() @ S if _is_sparse(K) else K.T @ S
        return xp.ascontiguousarray(KtS.T), S
    if _is_sparse(K):
        return (S @ K.tocsr()).tocsr(), S
    return S @ K, S


# ---- the Newton driver's inner solver ----
class BlockSketchInnerSolver:
    """:class:`SketchSolver`'s interface (``run``, ``n_iter``, ``flops``) over
    :class:`BlockKaczmarz`, on the host (``device='cpu'``) or on a GPU (``device='gpu'``: the
    KKT matrix is copied to the device once per Newton system; each ``run`` copies ``b`` there
    and the solution back, and reads the residual every ``check_every`` iterations).

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[2.0, 1.0], [1.0, 0.0]])
    >>> s = BlockSketchInnerSolver(K, np.random.default_rng(0), block_size=1)
    >>> z, res = s.run(np.array([1.0, 1.0]), target=1e-10, max_iter=10_000)
    >>> bool(np.allclose(K @ z, [1.0, 1.0]))
    True
    """

    def __init__(self, K: Any, rng: np.random.Generator, *, device: str = "cpu",
                 block_size: int | None = None, check_every: int = 10):
        import scipy.sparse as sp

        from .._backend import to_device

        if device not in ("cpu", "gpu"):
            raise ValueError(f"options['inner_device'] must be 'cpu' or 'gpu', got {device!r}")
        K = K if sp.issparse(K) else sp.csr_matrix(np.asarray(K, dtype=np.float64))
        self._on_gpu = device == "gpu"
        if self._on_gpu:
            K = to_device(K.tocsr())
        self.engine = BlockKaczmarz(K, block_size=block_size or DEFAULT_BLOCK_SIZE,
                                    seed=int(rng.integers(np.iinfo(np.int64).max)),
                                    check_every=check_every)
        self.nnz = int(K.nnz)
        self.flops = 0.0

    @property
    def n_iter(self) -> int:
        return self.engine.n_iter

    def run(self, b: np.ndarray, target: float, max_iter: int) -> tuple[np.ndarray, float]:
        """Continue from the current iterate until ``‖K z - b‖ <= target`` or ``max_iter`` more
        iterations; returns the iterate on the host and its residual norm."""
        from .._backend import to_device, to_host

        eng = self.engine
        before, checks_before = eng.n_iter, eng.n_checks
        z, res = eng.run(to_device(b, eng.xp), target, max_iter)
        rows = eng.p * eng.q
        nnz_rows = self.nnz * rows / (eng.n_blocks * eng.q)
        # per iteration: two passes over the selected rows, the block solves, u·u and the step;
        # per check: one product with K
        self.flops += (eng.n_iter - before) * (4.0 * nnz_rows + 2.0 * rows * eng.q
                                               + 2.0 * rows + 4.0 * eng.N)
        self.flops += (eng.n_checks - checks_before) * 2.0 * self.nnz
        return to_host(z), res
