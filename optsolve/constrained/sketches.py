"""Randomized iterative sketching (sketch-and-project) for the KKT system ``K z = b``.

The inner solver of the sketched Newton method (Hong, Na, Mahoney & Kolar, ICML 2023, Sec. 3)
is the sketch-and-project method of Gower & Richtárik (2015) with the identity as projection
norm. For a sketch ``S`` (``N x q``) and the symmetric ``K`` it updates

    z <- z - K S (Sᵀ K² S)^† Sᵀ (K z - b),

i.e. with ``W = Sᵀ K`` (``q x N``): ``z <- z - Wᵀ (W Wᵀ)^† Sᵀ r`` where ``r = K z - b``.

=============  ====================================================================================
sketch         ``S``
=============  ====================================================================================
``kaczmarz``   one unit vector ``e_i``, row ``i`` drawn with probability ``‖K_i‖² / ‖K‖_F²``
               (Strohmer & Vershynin 2009); runs in a numba kernel on the CSR rows of ``K``
``gaussian``   ``q`` i.i.d. standard Gaussian columns
``block``      ``q`` distinct unit vectors (block Kaczmarz), drawn with row-norm weights
``count``      count sketch: each row of ``K`` is added with a random sign to one of ``q`` rows
=============  ====================================================================================

The solver is resumable (:meth:`SketchSolver.run` continues from the current iterate), which is
what the outer loop needs when it tightens the accuracy target and "re-sketches".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._kernels import kaczmarz_run

__all__ = ["SKETCHES", "SketchSolver", "default_sketch_size", "solve_direct"]

SKETCHES = ("kaczmarz", "gaussian", "block", "count")
#: fewest Kaczmarz steps between two residual checks
KACZMARZ_MIN_CHECK = 64
#: Kaczmarz rows drawn per kernel call (the kernel stops early once the target is met)
KACZMARZ_CHUNK = 1 << 14
#: with ``give_up``, the run's progress is measured every PROBE_SWEEPS sweeps (N steps each,
#: at least PROBE_MIN_STEPS; block sketches: PROBE_MIN_BLOCKS steps): the residual's average
#: contraction per step since the start, extrapolated, must reach the target within the
#: remaining budget. Kaczmarz contracts fastest at the start (the large singular directions
#: go first), so the extrapolation is optimistic and stops only runs that cannot finish: on
#: the indefinite, badly conditioned KKT matrices of CUTEst (contraction 1 - σ_min²/‖K‖_F²
#: per step, often > 1 - 1e-8) the budget is otherwise spent in full before the direct solve
PROBE_SWEEPS, PROBE_MIN_STEPS, PROBE_MIN_BLOCKS = 4, 1024, 16


def default_sketch_size(n_rows: int) -> int:
    """``q = clip(round(sqrt(N)), 2, N)``: a block a few times wider than a row, whose
    ``q x q`` Gram solve stays negligible next to forming ``W = SᵀK`` (our choice, not the
    paper's, which uses a fixed small block in its experiments)."""
    return int(min(n_rows, max(2, round(math.sqrt(n_rows)))))


class SketchSolver:
    """Sketch-and-project iterations on a fixed square system ``K z = b``.

    Parameters
    ----------
    K : ndarray or scipy.sparse matrix of shape (N, N)
        Symmetric system matrix (the KKT matrix).
    sketch : {'kaczmarz', 'gaussian', 'block', 'count'}
        Sketch family.
    rng : numpy.random.Generator
        Source of the sketches.
    sketch_size : int or None
        Number of sketch columns ``q`` (ignored by ``'kaczmarz'``).
    check_every : int or None
        Iterations between residual checks; default one sweep (``N``) for Kaczmarz and 1 for
        the block sketches.

    Attributes
    ----------
    z : ndarray of shape (N,)
        Current iterate (starts at zero, as in the paper).
    n_iter : int
        Sketch iterations done so far.
    flops : float
        Floating-point operations counted so far (multiply and add count one each).

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[2.0, 1.0], [1.0, 0.0]])
    >>> s = SketchSolver(K, "kaczmarz", np.random.default_rng(0))
    >>> z, res = s.run(np.array([1.0, 1.0]), target=1e-10, max_iter=10_000)
    >>> np.allclose(K @ z, [1.0, 1.0])
    True
    """

    def __init__(self, K: Any, sketch: str, rng: np.random.Generator, *,
                 sketch_size: int | None = None, check_every: int | None = None):
        if sketch not in SKETCHES:
            raise ValueError(f"sketch must be one of {list(SKETCHES)}, got {sketch!r}")
        self.sketch = sketch
        self.rng = rng
        self.N = K.shape[0]
        self.sparse = sp.issparse(K)
        self.K = K.tocsr() if self.sparse else np.asarray(K, dtype=np.float64)
        self.nnz = self.K.nnz if self.sparse else int(np.count_nonzero(self.K))
        self.q = int(sketch_size) if sketch_size else default_sketch_size(self.N)
        self.q = max(1, min(self.q, self.N))
        self.z = np.zeros(self.N)
        self.n_iter = 0
        self.flops = 0.0
        if sketch in ("kaczmarz", "block"):
            csr = self.K if self.sparse else sp.csr_matrix(self.K)
            csr.sum_duplicates()
            self._csr = csr
            self._row_nnz = np.diff(csr.indptr)
            self._row_norms_sq = np.asarray(csr.multiply(csr).sum(axis=1)).ravel()
            total = self._row_norms_sq.sum()
            self._probs = self._row_norms_sq / total if total > 0 else None
        # Kaczmarz: check the residual (2 nnz(K) flops) once per sweep, and not more often than
        # every KACZMARZ_MIN_CHECK steps so that tiny systems are not dominated by the checks
        self.check_every = check_every or (
            max(self.N, KACZMARZ_MIN_CHECK) if sketch == "kaczmarz" else 1)

    # ------------------------------------------------------------------------------------------
    def residual(self, b: np.ndarray) -> np.ndarray:
        """``K z - b`` (counted: ``2 nnz(K)`` flops)."""
        self.flops += 2.0 * self.nnz
        return np.asarray(self.K @ self.z).ravel() - b

    def run(self, b: np.ndarray, target: float, max_iter: int,
            give_up: bool = False) -> tuple[np.ndarray, float]:
        """Iterate until ``‖K z - b‖₂ <= target`` or ``max_iter`` more iterations.

        ``give_up``: also stop as soon as the measured rate of convergence says that the
        target will not be met within ``max_iter`` (module constants ``PROBE_*``), for a caller
        that then solves directly: the rest of the budget would be wasted.

        Returns the iterate (a copy) and its residual norm.
        """
        r = self.residual(b)
        res = res0 = float(np.linalg.norm(r))
        done = 0
        kaczmarz = self.sketch == "kaczmarz"
        probe = max(PROBE_SWEEPS * self.check_every, PROBE_MIN_STEPS) if kaczmarz \
            else PROBE_MIN_BLOCKS
        next_probe = probe if give_up else max_iter
        while res > target and done < max_iter and np.isfinite(res):
            if kaczmarz:
                if self._probs is None:
                    break
                steps, res = self._kaczmarz(
                    b, r, min(max_iter - done, KACZMARZ_CHUNK, next_probe - done), target)
            else:
                self._block_step(r)
                r = self.residual(b)
                res = float(np.linalg.norm(r))
                steps = 1
            done += steps
            self.n_iter += steps
            if done >= next_probe and res > target:
                if _hopeless(res0, res, target, done, max_iter - done):
                    break
                next_probe = done + probe
        return self.z.copy(), res

    # ------------------------------------------------------------------------------------------
    def _kaczmarz(self, b: np.ndarray, r: np.ndarray, steps: int,
                  target: float) -> tuple[int, float]:
        """Up to ``steps`` Kaczmarz steps in the numba kernel, which checks the residual every
        ``check_every`` steps (``r`` is updated in place). Returns (steps done, residual)."""
        rows = self.rng.choice(self.N, size=steps, p=self._probs).astype(np.int64)
        csr = self._csr
        done, touched, checks, res_sq = kaczmarz_run(
            csr.indptr, csr.indices, csr.data, self._row_norms_sq, b, rows, self.z, r,
            int(self.check_every), float(target) ** 2)
        self.flops += 4.0 * float(touched) + 3.0 * done + 2.0 * self.nnz * checks
        return int(done), float(np.sqrt(res_sq))

    def _block_step(self, r: np.ndarray) -> None:
        """One sketch-and-project step with ``W = SᵀK``: ``z -= Wᵀ (W Wᵀ)^† Sᵀ r``."""
        N, q, K = self.N, self.q, self.K
        if self.sketch == "gaussian":
            S = self.rng.standard_normal((N, q))
            W = np.asarray(K @ S).T  # K symmetric: SᵀK = (K S)ᵀ
            s = S.T @ r
            self.flops += 2.0 * self.nnz * q + 2.0 * N * q
        elif self.sketch == "block":
            if self._probs is None:
                return
            idx = self.rng.choice(N, size=q, replace=False, p=self._probs)
            W = self._csr[idx] if self.sparse else K[idx]
            s = r[idx]
            self.flops += 0.0  # row selection moves data only
        else:  # count sketch
            buckets = self.rng.integers(0, q, size=N)
            signs = self.rng.choice(np.array([-1.0, 1.0]), size=N)
            if self.sparse:
                St = sp.csr_matrix((signs, (buckets, np.arange(N))), shape=(q, N))
                W = St @ K
                s = St @ r
            else:
                W = np.zeros((q, N))
                np.add.at(W, buckets, signs[:, None] * K)
                s = np.bincount(buckets, weights=signs * r, minlength=q)
            self.flops += 2.0 * self.nnz + 2.0 * N
        if sp.issparse(W):
            W = sp.csr_matrix(W)
            gram = (W @ W.T).toarray()
            self.flops += 2.0 * W.nnz * q
        else:
            gram = W @ W.T
            self.flops += 2.0 * q * q * N
        y = _psd_solve(gram, np.asarray(s).ravel())
        self.flops += 2.0 * q**3 / 3.0 + 2.0 * q * q
        step = np.asarray(W.T @ y).ravel()
        self.flops += 2.0 * (W.nnz if sp.issparse(W) else W.size)
        self.z -= step


def _hopeless(res0: float, res: float, target: float, done: int, left: int) -> bool:
    """Whether ``left`` more steps at the average contraction ``(res / res0)^(1/done)`` seen so
    far leave the residual above ``target``."""
    if not (res0 > 0 and target > 0 and np.isfinite(res)):
        return False
    rate = math.log(max(res, 1e-300) / res0) / done  # log contraction per step
    if rate >= 0:
        return True
    return math.log(target / res) / rate > left


def _psd_solve(gram: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``gram^† s`` for a PSD Gram matrix: Cholesky, or a pseudo-inverse when singular."""
    try:
        c = scipy.linalg.cho_factor(gram, check_finite=False)
        y = scipy.linalg.cho_solve(c, s, check_finite=False)
        if np.all(np.isfinite(y)):
            return y
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError, ValueError):
        pass
    return np.linalg.lstsq(gram, s, rcond=None)[0]


def solve_direct(K: Any, b: np.ndarray, n_primal: int | None = None,
                 cache: Any = None) -> tuple[np.ndarray, float, bool]:
    """Exact solve of ``K z = b`` (LU; least squares if ``K`` is singular).

    Returns ``(z, flops, singular)``. Dense: LAPACK ``gesv`` (``2N³/3`` flops). Sparse: with
    ``n_primal`` (``K`` is a symmetric KKT matrix whose first ``n_primal`` rows are the
    Hessian block), first a quasi-definite LDLᵀ with a fill-reducing ordering and iterative
    refinement (:mod:`._ldl`), else SuperLU; the flop figure is then ``2 (nnz(L) + nnz(U))``
    for SuperLU's triangular solves and ``2 nnz(K)`` per refinement product for the LDLᵀ,
    lower bounds (neither reports its factorization work). ``cache``
    (:class:`._ldl.FactorCache`) keeps the last sparse factorization for an identical ``K``.
    """
    N = K.shape[0]
    if sp.issparse(K):
        from scipy.sparse.linalg import splu

        from ._ldl import ldl_factor

        K = sp.csr_matrix(K)
        kind, factor = cache.lookup(K) if cache is not None else (None, None)
        if n_primal is not None and kind in (None, "ldl"):
            if factor is None:
                factor = ldl_factor(K, n_primal, cache)
                if factor is not None and cache is not None:
                    cache.store(K, factor, "ldl")
            if factor is not None:
                n0 = factor.n_products
                z = factor.solve(b)
                if z is not None:
                    return z, 2.0 * K.nnz * (factor.n_products - n0), False
            kind = factor = None  # this K needs pivoting: LU, remembered for this K
        try:
            if kind != "lu" or factor is None:
                factor = None
                if cache is not None:
                    cache.clear()
                factor = splu(sp.csc_matrix(K))
                if cache is not None:
                    cache.store(K, factor, "lu")
            z = factor.solve(b)
            if np.all(np.isfinite(z)):
                return z, 2.0 * (factor.L.nnz + factor.U.nnz), False
        except RuntimeError:  # "Factor is exactly singular"
            pass
        from scipy.sparse.linalg import lsqr

        z = lsqr(K, b, atol=1e-14, btol=1e-14, iter_lim=20 * N)[0]
        return z, float("nan"), True
    try:
        z = scipy.linalg.solve(K, b, assume_a="sym", check_finite=False)
        if np.all(np.isfinite(z)) and np.linalg.norm(K @ z - b) <= 1e-8 * (
            1.0 + np.linalg.norm(b)
        ):
            return z, 2.0 * N**3 / 3.0 + 2.0 * N * N, False
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        pass
    z = np.linalg.lstsq(K, b, rcond=None)[0]
    return z, 4.0 * N**3, True
