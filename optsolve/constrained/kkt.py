"""KKT quantities: residual, the Newton (KKT) matrix, inertia, rank and initial multipliers."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "DENSE_KKT_MAX",
    "assemble_kkt",
    "jacobian_rank",
    "kkt_inertia",
    "kkt_residual",
    "least_squares_multipliers",
]

#: largest KKT size ``n + m`` assembled as a dense array; above it ``K`` is scipy.sparse CSR
DENSE_KKT_MAX = 1000
#: largest ``n + m`` whose inertia is checked by a dense symmetric eigen-decomposition
INERTIA_CHECK_MAX = 400
#: largest ``m * n`` whose Jacobian rank is checked by a dense SVD
RANK_CHECK_MAX = 40_000


def kkt_residual(grad_lag: np.ndarray, c: np.ndarray) -> float:
    """``max(‖∇ₓL‖∞, ‖c‖∞)``, the stopping measure.

    Examples
    --------
    >>> import numpy as np
    >>> kkt_residual(np.array([1e-3, -2e-3]), np.array([5e-4]))
    0.002
    """
    gi = float(np.max(np.abs(grad_lag))) if grad_lag.size else 0.0
    ci = float(np.max(np.abs(c))) if c.size else 0.0
    return max(gi, ci)


def assemble_kkt(B: Any, G: Any, *, primal_reg: float = 0.0, dual_reg: float = 0.0,
                 dense_max: int = DENSE_KKT_MAX) -> Any:
    """``K = [[B + δₓI, Gᵀ], [G, -δ_c I]]``: dense when ``n + m <= dense_max``, scipy.sparse CSR
    otherwise (a dense ``K`` is never formed above ``dense_max``).

    Examples
    --------
    >>> import numpy as np
    >>> assemble_kkt(np.eye(2), np.array([[1.0, 1.0]])).tolist()
    [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]]
    """
    n = B.shape[0]
    m = G.shape[0]
    if n + m <= dense_max:  # small: dense (also for sparse blocks), so inertia can be checked
        K = np.zeros((n + m, n + m))
        K[:n, :n] = B.toarray() if sp.issparse(B) else np.asarray(B)
        K[:n, :n] += primal_reg * np.eye(n)
        Gd = G.toarray() if sp.issparse(G) else np.asarray(G)
        K[n:, :n] = Gd
        K[:n, n:] = Gd.T
        K[n:, n:] -= dual_reg * np.eye(m)
        return K
    Bs = sp.csr_matrix(B) + primal_reg * sp.identity(n, format="csr")
    Gs = sp.csr_matrix(G)
    C = -dual_reg * sp.identity(m, format="csr") if dual_reg else None
    return sp.bmat([[Bs, Gs.T], [Gs, C]], format="csr")


def kkt_inertia(K: Any, n: int, *, scale: float = 1.0,
                tol: float = 1e-10) -> tuple[int, int, int] | None:
    """``(positive, negative, zero)`` eigenvalue counts of a small dense ``K``; None if not
    checked (sparse or larger than ``INERTIA_CHECK_MAX``). Eigenvalues below
    ``tol * max(1, scale)`` in magnitude count as zero; pass the size of the unregularized
    blocks as ``scale`` (a large regularization must not widen the zero band). The reduced
    Hessian is positive definite exactly when ``positive == n`` (Nocedal & Wright,
    Thm 16.3; with a rank-deficient ``G`` the zero eigenvalues belong to the (2,2) side)."""
    if sp.issparse(K) or K.shape[0] > INERTIA_CHECK_MAX:
        return None
    w = np.linalg.eigvalsh(K)
    zero = np.abs(w) <= tol * max(1.0, scale)
    return int(np.sum((w > 0) & ~zero)), int(np.sum((w < 0) & ~zero)), int(np.sum(zero))


def jacobian_rank(G: Any, *, rtol: float = 1e-10) -> int | None:
    """Numerical rank of the Jacobian (dense SVD), or None when too large to check."""
    m, n = G.shape
    if m == 0:
        return 0
    if m * n > RANK_CHECK_MAX:
        return None
    Gd = G.toarray() if sp.issparse(G) else np.asarray(G)
    s = np.linalg.svd(Gd, compute_uv=False)
    if not np.all(np.isfinite(s)):
        return None
    return int(np.sum(s > rtol * max(1.0, s[0] if s.size else 0.0)))


def least_squares_multipliers(g: np.ndarray, G: Any) -> np.ndarray:
    """``argmin_λ ‖∇f + Gᵀλ‖₂`` (minimum-norm), the usual first multiplier estimate."""
    m = G.shape[0]
    if m == 0:
        return np.zeros(0)
    if sp.issparse(G):
        from scipy.sparse.linalg import lsqr

        return lsqr(G.T, -g, atol=1e-12, btol=1e-12, iter_lim=10 * (m + 10))[0]
    return np.linalg.lstsq(np.asarray(G).T, -g, rcond=None)[0]
