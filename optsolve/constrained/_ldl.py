"""Sparse symmetric KKT solves by a quasi-definite LDLᵀ factorization (QDLDL, or the
supernodal backend of :mod:`._supernodal` for large matrices), with a cache of the last
factorization and of the last fill-reducing ordering.

For ``K = [[B, Gᵀ], [G, 0]]`` (``n_primal`` rows of ``B`` first) the solve

1. equilibrates ``K`` symmetrically (Ruiz 2001: ``D K D`` with every row's largest entry
   near 1; the KKT matrices of discretized PDEs mix entries of size ``h²`` and ``1/h²``);
2. factorizes ``D K D − diag(0, δ I)`` by LDLᵀ with a fill-reducing ordering and no
   pivoting: a quasi-definite matrix (Vanderbei 1995) has an LDLᵀ factorization for every
   symmetric permutation, so the ordering is never spoilt by pivoting, and only one triangle
   is stored (about a third of SuperLU's memory on the bound-constrained Poisson control:
   144 MB against 526 MB at 164k rows). Small matrices go to QDLDL (AMD ordering, column by
   column; Stellato et al., the factorization of OSQP); from ``SUPERNODAL_MIN_ROWS`` rows on,
   when ``pymetis`` is installed, to the supernodal multifrontal backend
   (:mod:`._supernodal`: nested dissection, dense frontal matrices, BLAS), whose work grows
   like ``n^1.5`` on a 2-D grid instead of AMD's ``n^1.7``, at BLAS speed;
3. removes the regularization by iterative refinement on the unregularized ``D K D``.

It returns None (the caller falls back to an LU with pivoting) when QDLDL is not installed,
when a pivot vanishes (``B`` not positive definite where the ordering needs it), or when the
refinement does not reach ``REFINE_BERR``: the quasi-definite route is an accelerator, never a
different answer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["FactorCache", "ldl_available", "ldl_factor", "ldl_inertia", "ldl_solve"]

#: regularization of the constraint block of the equilibrated matrix: large enough that LDLᵀ
#: without pivoting is stable, small enough that refinement converges in a few steps
#: (measured on the bound-constrained Poisson control at 164k rows: 1e-8 stalls at 4e-6,
#: 1e-7 needs over 12 steps, 1e-6 seven, 1e-5 five, 1e-4 three)
DUAL_REG = 1e-5
#: Ruiz equilibration sweeps (each halves the log-spread of the row maxima)
RUIZ_SWEEPS = 10
#: refinement steps at most; it stops at the backward error REFINE_STOP (round-off) or when a
#: step gains less than the factor REFINE_GAIN, and the solution counts when the backward
#: error of the equilibrated system is at most REFINE_BERR (LU with partial pivoting reaches
#: about 1e-16 on these matrices)
REFINE_MAX, REFINE_STOP, REFINE_GAIN, REFINE_BERR = 20, 1e-15, 0.5, 1e-12
#: from this many rows on the supernodal backend replaces QDLDL (when pymetis is installed):
#: below it the ordering's cost outweighs the factorization's gain (on the bound-constrained
#: Poisson control at 13k rows QDLDL factorizes in 0.03 s, METIS alone takes longer; at 54k
#: rows the supernodal solve is the faster)
SUPERNODAL_MIN_ROWS = 20_000


def ldl_available() -> bool:
    """True when the QDLDL package (``pip install qdldl``) can be imported."""
    try:
        import qdldl  # noqa: F401
    except ImportError:
        return False
    return True


def _equilibrate(K: sp.csr_matrix, compiled: bool = False) -> tuple[sp.csr_matrix,
                                                                     np.ndarray]:
    """``(D K D, d)`` with ``D = diag(d)`` by Ruiz's symmetric scaling; ``compiled``: by the
    numba kernel ``ruiz_sweeps`` (the same arithmetic; for the supernodal path, which loads
    numba anyway)."""
    A = K.copy()
    A.sum_duplicates()
    N = A.shape[0]
    if compiled:
        from ._ldl_kernels import ruiz_sweeps

        A.data = np.ascontiguousarray(A.data, dtype=np.float64)
        d = ruiz_sweeps(A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data,
                        RUIZ_SWEEPS, 1e-2)
        return A, d
    d = np.ones(N)
    rows = np.repeat(np.arange(N), np.diff(A.indptr))
    nonempty = np.diff(A.indptr) > 0
    starts = A.indptr[:-1][nonempty]
    for _ in range(RUIZ_SWEEPS):
        rmax = np.ones(N)
        if A.nnz:
            rmax[nonempty] = np.maximum.reduceat(np.abs(A.data), starts)
        rmax[rmax == 0] = 1.0
        s = 1.0 / np.sqrt(rmax)
        if np.max(np.abs(rmax - 1.0)) < 1e-2:
            break
        A.data *= s[rows] * s[A.indices]
        d *= s
    return A, d


class FactorCache:
    """The last sparse factorization and the matrix it belongs to, so that an identical KKT
    matrix (the same active set with a constant Hessian, a re-solve after a rejected step) is
    not factorized twice. Holding one factorization costs no peak memory: it is dropped
    before a different matrix is factorized.

    Attributes
    ----------
    factorizations, hits : int
        Factorizations stored, and solves that reused one.
    """

    def __init__(self):
        self.key = None
        self.kind = None
        self.factor = None
        self.hits = 0
        self.factorizations = 0
        # the last nested-dissection ordering and the pattern it belongs to (outlives the
        # factor: the Newton matrices of successive active sets share their core pattern)
        self.ordering_key = None
        self.ordering = None
        self.orderings = 0

    def _same(self, K: sp.csr_matrix) -> bool:
        if self.key is None:
            return False
        shape, indptr, indices, data = self.key
        return (K.shape == shape and np.array_equal(K.indptr, indptr)
                and np.array_equal(K.indices, indices) and np.array_equal(K.data, data))

    def lookup(self, K: sp.csr_matrix) -> tuple[str | None, object]:
        """``(kind, factor)`` stored for this very ``K``, else ``(None, None)`` (and the old
        factor is released)."""
        if self._same(K):
            self.hits += 1
            return self.kind, self.factor
        self.key = self.kind = self.factor = None
        return None, None

    def clear(self) -> None:
        """Release the stored factorization."""
        self.key = self.kind = self.factor = None

    def store(self, K: sp.csr_matrix, factor, kind: str) -> None:
        self.key = (K.shape, K.indptr.copy(), K.indices.copy(), K.data.copy())
        self.kind, self.factor = kind, factor
        self.factorizations += 1


def _pymetis_available() -> bool:
    """True when ``pymetis`` imports (checked without importing numba, which the QDLDL path
    does not need)."""
    try:
        import pymetis  # noqa: F401
    except ImportError:
        return False
    return True


def _ordering(A: sp.csc_matrix, n_primal: int, cache: FactorCache | None) -> np.ndarray:
    """Fill-reducing ordering for the supernodal backend.

    1. The vertices that repeated removal of pendants takes (bounds, single-variable
       constraints, and the variables left hanging by them) come first: eliminating a vertex
       of degree at most one creates no fill.
    2. The rest (the graph's 2-core, unchanged by the active bounds) is ordered by METIS'
       nested dissection of its quotient graph after matching each constraint row to one of
       its variables (``match_dual_rows``), each pair variable-first: nested dissection alone
       eliminates some constraint rows before their variables, and the pivots ``−δ`` cost the
       LDLᵀ of the regularized matrix digits that iterative refinement must win back (on the
       bound-constrained Poisson control with 160k rows: 11 to 18 refinement steps instead of
       3 to 5). The quotient graph has about half the vertices, so METIS takes half the time.
    3. The ordering of the 2-core is kept in ``cache`` for the next matrix with its pattern.
    """
    A = sp.csr_matrix(A)
    A.sort_indices()
    from ._ldl_kernels import peel_pendants  # numba: imported only on this path

    peeled, leaf = peel_pendants(A.indptr.astype(np.int64), A.indices.astype(np.int64))
    core = np.flatnonzero(~leaf)
    C = A[core][:, core]
    C.sort_indices()
    key = (C.shape, C.indptr, C.indices)
    if cache is not None and cache.ordering_key is not None and cache.ordering_key[0] == \
            key[0] and np.array_equal(cache.ordering_key[1], key[1]) and np.array_equal(
            cache.ordering_key[2], key[2]):
        perm_core = cache.ordering
    else:
        perm_core = _paired_dissection(C, int(np.searchsorted(core, n_primal)))
        if cache is not None:
            cache.ordering_key, cache.ordering = key, perm_core
            cache.orderings += 1
    return np.concatenate([peeled, core[perm_core]])


def _paired_dissection(C: sp.csr_matrix, n_primal: int) -> np.ndarray:
    """Nested dissection of the quotient graph of ``C`` under ``match_dual_rows``, each
    matched pair expanded variable first."""
    N = C.shape[0]
    if N == 0:
        return np.zeros(0, np.int64)
    from ._ldl_kernels import match_dual_rows
    from ._supernodal import nested_dissection

    mate = match_dual_rows(C.indptr.astype(np.int64), C.indices.astype(np.int64),
                           C.data.astype(np.float64), n_primal)
    idx = np.arange(N)
    label = np.where((mate >= 0) & (idx >= n_primal), mate, idx)  # a pair: its variable's id
    _, label = np.unique(label, return_inverse=True)
    nq = int(label.max()) + 1
    P = sp.csr_matrix((np.ones(N), (idx, label)), shape=(N, nq))
    S = sp.csr_matrix((np.ones(C.nnz), C.indices, C.indptr), shape=C.shape)
    Q = (P.T @ S @ P).tocsr()
    rank = np.empty(nq, np.int64)
    rank[nested_dissection(Q)] = np.arange(nq)
    return np.lexsort((idx >= n_primal, rank[label])).astype(np.int64)


class _LDLFactor:
    """LDLᵀ factor of the equilibrated, regularized ``K`` with its refinement solve: the
    supernodal backend (:mod:`._supernodal`) for large ``K`` when ``pymetis`` is installed,
    else QDLDL."""

    def __init__(self, K: sp.csr_matrix, n_primal: int, cache: FactorCache | None = None):
        N = K.shape[0]
        supernodal = N >= SUPERNODAL_MIN_ROWS and _pymetis_available()
        A, d = _equilibrate(K, compiled=supernodal)
        reg = np.zeros(N)
        reg[n_primal:] = -DUAL_REG
        self.A, self.d = A, d
        self.anorm = float(np.max(np.add.reduceat(np.abs(A.data), A.indptr[:-1][
            np.diff(A.indptr) > 0]))) if A.nnz else 1.0
        self.n_products = 0
        self.last_error = np.inf
        self.backend = "qdldl"
        if supernodal:
            from ._supernodal import SupernodalLDL

            Areg = (A + sp.diags(reg, format="csr")).tocsc()
            perm = _ordering(Areg, n_primal, cache)
            self.solver = SupernodalLDL(Areg, perm=perm)
            self.backend = "supernodal"
            return
        import qdldl

        # QDLDL needs every diagonal entry stored, zeros included
        U = sp.triu(A, k=1, format="coo")
        diag = A.diagonal() + reg
        idx = np.arange(N)
        upper = sp.csc_matrix((np.concatenate([U.data, diag]),
                               (np.concatenate([U.row, idx]), np.concatenate([U.col, idx]))),
                              shape=(N, N))
        self.solver = qdldl.Solver(upper, upper=True)

    def pivots(self) -> np.ndarray:
        """The pivots ``D`` of the factorization (in its own order)."""
        if self.backend == "supernodal":
            return self.solver.d
        return self.solver.factors()[1]  # (the copy of L it also returns is dropped at once)

    def factor_size(self) -> tuple[float, float]:
        """``(nnz(L), Σ_j nnz(L[:, j])²)``: the factor's entries and its flops."""
        if self.backend == "supernodal":
            return self.solver.nnz_L, self.solver.flops
        L = self.solver.factors()[0].tocsc()
        counts = np.diff(L.indptr).astype(float) + 1.0
        return float(L.nnz + L.shape[0]), float(np.sum(counts**2))

    def solve(self, b: np.ndarray) -> np.ndarray | None:
        """``K⁻¹ b`` by refinement on the equilibrated system until its normwise backward
        error ``‖r‖∞ / (‖A‖∞ ‖z‖∞ + ‖b‖∞)`` stops falling; None above ``REFINE_BERR``."""
        bs = self.d * b
        bnorm = float(np.max(np.abs(bs))) if bs.size else 0.0
        if bnorm == 0.0:
            return np.zeros_like(b)
        z = self.solver.solve(bs)
        best, best_err, prev = None, np.inf, np.inf
        for _ in range(REFINE_MAX):
            if not np.all(np.isfinite(z)):
                break
            r = bs - self.A @ z
            self.n_products += 1
            err = float(np.max(np.abs(r))) / (self.anorm * float(np.max(np.abs(z))) + bnorm)
            if err < best_err:
                best, best_err = z, err
            if err <= REFINE_STOP or err > REFINE_GAIN * prev:  # converged, or stagnating
                break
            prev = err
            z = z + self.solver.solve(r)
        self.last_error = best_err
        if not best_err <= REFINE_BERR:
            return None
        return self.d * best


def ldl_inertia(K, n_primal: int, cache: FactorCache | None = None) -> tuple[int, int, int] | None:
    """``(positive, negative, 0)`` eigenvalue counts of the regularized KKT matrix from the
    signs of its LDLᵀ pivots (Sylvester's law of inertia), or None when the factorization
    does not exist; the factor is stored in ``cache`` for the solve that follows. With the
    constraint block ``−δI``, ``positive == n_primal`` exactly when ``B + Gᵀ G / δ ≻ 0``,
    which for small ``δ`` is the reduced Hessian's positive definiteness that the inertia
    correction asks for (Finsler's lemma)."""
    K = sp.csr_matrix(K)
    kind, factor = cache.lookup(K) if cache is not None else (None, None)
    if kind != "ldl" or factor is None:
        factor = ldl_factor(K, n_primal, cache)
        if factor is None:
            return None
        if cache is not None:
            cache.store(K, factor, "ldl")
    d = factor.pivots()
    return int(np.sum(d > 0)), int(np.sum(d < 0)), 0


def ldl_factor(K, n_primal: int, cache: FactorCache | None = None) -> _LDLFactor | None:
    """The quasi-definite LDLᵀ factor of the KKT matrix ``K`` (module docstring), or None
    when QDLDL is missing or a pivot vanishes. ``cache`` lends its stored fill-reducing
    ordering (the supernodal backend's) to a matrix of the same pattern."""
    if not ldl_available():
        return None
    try:
        return _LDLFactor(sp.csr_matrix(K), n_primal, cache)
    except (ValueError, RuntimeError):  # a zero pivot: not quasi-definite
        return None


def ldl_solve(K, b: np.ndarray, n_primal: int) -> np.ndarray | None:
    """Solve the symmetric KKT system ``K z = b`` by quasi-definite LDLᵀ (module docstring);
    None when this route cannot answer (then use an LU with pivoting).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> K = sp.csr_matrix(np.array([[2.0, 0.0, 1.0], [0.0, 1e-4, 1.0], [1.0, 1.0, 0.0]]))
    >>> z = ldl_solve(K, np.array([1.0, 2.0, 3.0]), n_primal=2)
    >>> z is None or bool(np.allclose(K @ z, [1.0, 2.0, 3.0]))
    True
    """
    factor = ldl_factor(K, n_primal)
    return None if factor is None else factor.solve(b)
