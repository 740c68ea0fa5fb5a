"""A linearly independent working set for the Newton step on the ε-active set.

The ε-active set ``A = {i : g_i >= −q y_i / μ}`` of :mod:`._driver_ineq` holds every
constraint on its boundary whose multiplier is zero: from a start projected onto the bounds,
every bound the start lies on. Together with the equalities (fixed variables among them) these
rows are often linearly dependent (more rows than variables, or a bound on a variable an
equality already determines), the Newton matrix is then singular and its solve returns a step
that violates the held constraints by O(1) (the projected search then clips it into an ascent
direction of the merit: ten S2MPJ problems failed so, OPTCNTRL, DRUGDIS, NCVXQP1-6 among them).

Active-set QP methods keep their working set linearly independent (Nocedal & Wright, Sec.
16.5: a constraint enters only if its gradient is independent of those already held). Here the
rows are taken greedily in order of how surely they are active, and a row whose gradient lies
within ``DEPENDENCE_RTOL`` (relative) of the span of the rows taken before it is left out of the
Newton system (its multiplier goes to zero, as for the other inactive rows):

1. the equalities (always held);
2. the inequalities with a positive multiplier, the largest first (identified);
3. the violated ones, the most violated first;
4. the rest (on the boundary with a zero multiplier, the weakly active ones), in index order.

The test is Gram–Schmidt with re-orthogonalization on the dense rows, ``O(n k²)`` for ``k``
rows, run only when a pivoted QR (LAPACK) finds the rows dependent; above
``DEPENDENCE_CHECK_MAX`` entries (``n k``) the set is left as it is.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

__all__ = ["independent_working_set"]

#: a row is dependent when its distance to the span of the rows before it is at most this
#: times its norm (the Newton matrix's condition grows like the inverse square of it)
DEPENDENCE_RTOL = 1e-8
#: largest n x k (variables x held rows) checked densely
DEPENDENCE_CHECK_MAX = 2_000_000


def _dense_rows(G, idx) -> np.ndarray:
    rows = G[idx]
    return rows.toarray() if sp.issparse(rows) else np.asarray(rows, dtype=np.float64)


def independent_working_set(GE, GI, active: np.ndarray, y: np.ndarray,
                            g: np.ndarray) -> np.ndarray:
    """The rows of ``active`` (a boolean mask over the inequalities ``g <= 0`` with Jacobian
    ``GI``) whose gradients are independent of the equalities' (``GE``) and of the rows
    before them in the order of the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> GE = np.array([[1.0, 1.0]])                      # x0 + x1 = 1
    >>> GI = -np.eye(2)                                  # x >= 0, both on the boundary
    >>> independent_working_set(GE, GI, np.array([True, True]), np.zeros(2),
    ...                         np.zeros(2)).tolist()
    [True, False]
    """
    idx = np.flatnonzero(active)
    n = GI.shape[1]
    m_e = GE.shape[0]
    if not idx.size or n * (m_e + idx.size) > DEPENDENCE_CHECK_MAX:
        return active
    if m_e + idx.size <= 1:
        return active
    rows = np.vstack([_dense_rows(GE, np.arange(m_e)), _dense_rows(GI, idx)]) if m_e else \
        _dense_rows(GI, idx)
    if rows.shape[0] <= n:  # full row rank (the usual case) at the price of one LAPACK QR
        norms = np.linalg.norm(rows, axis=1)
        if np.all(norms > 0):
            R = scipy.linalg.qr((rows / norms[:, None]).T, mode="economic",
                                pivoting=True)[1]
            diag = np.abs(np.diag(R))
            if diag[-1] > DEPENDENCE_RTOL * diag[0]:
                return active
    ya, ga = y[idx], g[idx]
    tier = np.where(ya > 0, 0, np.where(ga > 0, 1, 2))
    key = np.where(tier == 0, -ya, np.where(tier == 1, -ga, 0.0))
    order = idx[np.lexsort((idx, key, tier))]
    basis = np.zeros((n, min(n, m_e + idx.size)))
    rank = 0

    def add(v: np.ndarray) -> bool:
        nonlocal rank
        norm = float(np.linalg.norm(v))
        if norm == 0.0 or rank == n:
            return False
        Q = basis[:, :rank]
        r = v - Q @ (Q.T @ v)
        r -= Q @ (Q.T @ r)  # re-orthogonalization (CGS2)
        dist = float(np.linalg.norm(r))
        if dist <= DEPENDENCE_RTOL * norm:
            return False
        basis[:, rank] = r / dist
        rank += 1
        return True

    for v in rows[:m_e]:
        add(v)
    keep = np.zeros_like(active)
    position = np.empty(g.size, dtype=np.intp)
    position[idx] = np.arange(idx.size)
    for i in order:
        keep[i] = add(rows[m_e + position[i]])
    return keep
