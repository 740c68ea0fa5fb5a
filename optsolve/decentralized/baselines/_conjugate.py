"""Gradients of the local convex conjugates, the oracle of the dual baselines (MSDA, continuized).

``∇f_i*(v) = argmin_θ f_i(θ) − ⟨v, θ⟩``: the primal point whose local gradient is ``v``.

* ridge: ``f_i(θ) = ‖X_iθ − b_i‖²/(2N) + (r/2)‖θ‖²`` (``r = α/n``) gives the closed form
  ``∇f_i*(v) = H_i⁻¹ (v + X_iᵀb_i/N)``, ``H_i = X_iᵀX_i/N + rI`` (inverses formed once:
  ``n_nodes · d²`` floats).
* logistic: no closed form. Each call runs damped Newton on ``f_i(θ) − ⟨v, θ⟩`` from the node's
  previous answer (warm start) to ``‖∇f_i(θ) − v‖ ≤ 1e-12 · max(1, ‖v‖)``
  (:func:`._kernels.logistic_conjugate_grad`); the Newton steps are reported separately
  (``n_inner_steps``). One conjugate-gradient call counts as one local gradient, as in Scaman et
  al. (2017), whose lower bounds are stated for this oracle. A node with fewer rows than
  features (``m_i < d``) solves each Newton system in its row space by Woodbury, an
  ``m_i x m_i`` Cholesky of ``reg·I + W G̃_i W`` with the Gram matrix ``G̃_i = X̃_iX̃_iᵀ`` formed
  once (``Σ m_i² < N d`` floats in all); the others factor the ``d x d`` Hessian. Each node keeps
  its last factor (``Σ min(m_i, d)²`` floats, when that fits in ``OPTSOLVE_DENSE_LIMIT_BYTES``)
  for chord steps in the next calls, refactoring only when a chord step contracts the residual
  by less than 4x; ``n_inner_steps`` counts Newton and chord steps, ``n_factorizations`` the
  factorizations.

Implicit centring (``DecentralizedProblem(center=μ)``): the rows are read as ``x̃ = x − μ``
without forming them. For ridge, with ``m_i`` rows, ``s_i = X_iᵀ1`` and ``β_i = 1ᵀb_i``,

  ``X̃_iᵀX̃_i = X_iᵀX_i − s_iμᵀ − μs_iᵀ + m_i μμᵀ``,   ``X̃_iᵀb_i = X_iᵀb_i − β_i μ``;

for logistic the Newton Hessian takes the same rank-two correction (see the kernel). Memory
stays the ``d x d`` matrices above plus O(nnz): a sparse ``X`` is never densified.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..._validation import dense_limit_bytes
from . import _kernels as K


def _dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def _row_space_grams(p, d: int):
    """``(gram, gram_off, side)``: the flat centred Gram blocks ``G̃_i = X̃_iX̃_iᵀ`` of the nodes
    with ``m_i < d`` (node i's block at ``gram_off[i]``, −1 for the feature-space nodes) and the
    side of the square Newton work matrix (``d`` if any node works in feature space)."""
    n = p.offsets.size - 1
    m = np.diff(p.offsets)
    use = m < d
    gram_off = np.full(n, -1, dtype=np.int64)
    sizes = np.where(use, m * m, 0)
    gram_off[use] = (np.cumsum(sizes) - sizes)[use]
    gram = np.empty(int(sizes.sum()))
    centred = p.center.shape[0] > 0
    for i in np.flatnonzero(use):
        s, e = p.offsets[i], p.offsets[i + 1]
        if p.is_sparse:
            lo, hi = p.indptr[s], p.indptr[e]
            Xi = sp.csr_matrix((p.data[lo:hi], p.indices[lo:hi], p.indptr[s:e + 1] - lo),
                               shape=(e - s, d))
            G = _dense(Xi @ Xi.T)
        else:
            Xi = p.X[s:e]
            G = Xi @ Xi.T
        if centred:  # (X − 1μᵀ)(X − 1μᵀ)ᵀ from the rows as given
            a = np.asarray(Xi @ p.center, dtype=np.float64).ravel()
            G = G - a[:, None] - a[None, :] + float(p.center @ p.center)
        gram[gram_off[i]:gram_off[i] + sizes[i]] = np.asarray(G, dtype=np.float64).ravel()
    side = d if not use.all() else int(m.max(initial=0))
    return gram, gram_off, side


def _factor_slots(p, gram_off, d: int):
    """``(fac, fac_off)``: room for every node's kept Cholesky factor (``m_i x m_i`` in the row
    space, ``d x d`` in feature space), or empty slots (``fac_off = −1``) when they would not
    fit in :func:`~optsolve._validation.dense_limit_bytes`."""
    m = np.diff(p.offsets)
    sizes = np.where(gram_off >= 0, m * m, d * d)
    if 8 * int(sizes.sum()) > dense_limit_bytes():
        return np.zeros(0), np.full(m.size, -1, dtype=np.int64)
    return np.empty(int(sizes.sum())), (np.cumsum(sizes) - sizes).astype(np.int64)


class ConjugateOracle:
    """``∇f_i*`` for every node of a :class:`~optsolve.decentralized.DecentralizedProblem`.

    ``keep_factors`` (logistic): keep every node's last Newton factor between calls for chord
    steps (:func:`._kernels.logistic_conjugate_grad`); default: when they fit in
    ``OPTSOLVE_DENSE_LIMIT_BYTES``."""

    def __init__(self, problem, keep_factors: bool | None = None):
        if not problem.mu > 0:
            raise ValueError("the conjugate oracle needs mu > 0 (alpha > 0)")
        self.problem = problem
        self.is_ridge = problem.loss == "ridge"
        n, d = problem.n_nodes, problem.n_features
        N, r = problem.n_samples_total, problem.packed.reg
        self.theta = np.zeros((n, d))  # logistic warm starts
        mu = getattr(problem, "center", None)
        self.gram, self.gram_off = np.zeros(0), np.full(n, -1, dtype=np.int64)
        self.fac, self.fac_off = np.zeros(0), np.full(n, -1, dtype=np.int64)
        side = d
        if not self.is_ridge:
            self.gram, self.gram_off, side = _row_space_grams(problem.packed, d)
            if keep_factors is not False:
                self.fac, self.fac_off = _factor_slots(problem.packed, self.gram_off, d)
        m_max = int(np.max(np.diff(problem.packed.offsets), initial=0))
        #: the nodes' kept factors: weights (per row) and whether node i holds one
        self.facw = np.empty(problem.packed.y.shape[0] if self.fac.size else 0)
        self.has_fac = np.zeros(n, dtype=np.int64)
        #: inner steps (Newton and chord) and factorizations of every call so far
        self.stats = np.zeros(2, dtype=np.int64)
        self.work = (self.gram, self.gram_off, self.fac, self.fac_off, self.facw, self.has_fac,
                     np.empty(side * side), np.empty(d), np.empty(d), np.empty(d), np.empty(d),
                     np.empty(d), np.empty(m_max), np.empty(m_max), np.empty(m_max))
        if self.is_ridge:
            self.H_inv = np.empty((n, d, d))
            self.shift = np.empty((n, d))
            for i, (Xi, bi) in enumerate(problem.parts):
                H = _dense(Xi.T @ Xi)
                Xtb = np.asarray(Xi.T @ bi, dtype=np.float64).ravel()
                if mu is not None:  # X̃ᵀX̃ and X̃ᵀb from the rows as given (module docstring)
                    s = np.asarray(Xi.sum(axis=0), dtype=np.float64).ravel()
                    H -= np.outer(s, mu)
                    H -= np.outer(mu, s)
                    H += Xi.shape[0] * np.outer(mu, mu)
                    Xtb -= float(np.sum(bi)) * mu
                H /= N
                H[np.diag_indices(d)] += r
                self.H_inv[i] = np.linalg.inv(H)
                self.shift[i] = Xtb / N
            # symmetrize the rounding of inv so the kernels see an exactly symmetric matrix
            self.H_inv = 0.5 * (self.H_inv + np.transpose(self.H_inv, (0, 2, 1)))
        else:
            self.H_inv = np.zeros((0, 0, 0))
            self.shift = np.zeros((0, 0))

    def data_args(self) -> tuple:
        """``(is_sparse, X, indptr, indices, data, y, offsets, inv_n, reg, center)`` for the
        kernels (``center`` empty without implicit centring)."""
        p = self.problem.packed
        return (p.is_sparse, p.X, p.indptr, p.indices, p.data, p.y, p.offsets, p.inv_n_total,
                p.reg, p.center)

    def __call__(self, V: np.ndarray) -> np.ndarray:
        """``∇f_i*(V[i])`` for every node; returns a new array."""
        V = np.ascontiguousarray(V, dtype=np.float64)
        if self.is_ridge:
            return np.einsum("nij,nj->ni", self.H_inv, V + self.shift)
        K.logistic_conjugate_all(*self.data_args(), V, self.theta, *self.work, self.stats)
        return self.theta.copy()

    @property
    def n_inner_steps(self) -> int:
        """Inner steps (Newton and chord) of every logistic call so far."""
        return int(self.stats[0])

    @property
    def n_factorizations(self) -> int:
        """Hessian factorizations (one per Newton step) of every logistic call so far."""
        return int(self.stats[1])
