"""Effective resistances and the two graph constants of DADAO.

With edge weights ``w_ij`` (gossip rates), the weighted Laplacian is
``Λ = Σ_{(i,j)∈E} w_ij (e_i − e_j)(e_i − e_j)ᵀ``. The effective resistance of an edge is
``R_ij = (e_i − e_j)ᵀ Λ⁺ (e_i − e_j)``. Nabli & Oyallon (ICML 2023, Sec. 3) define

* ``χ₁ = 1 / λ⁺_min(Λ)``, the inverse of the smallest positive eigenvalue of Λ, and
* ``χ₂ = ½ max_{(i,j)∈E} R_ij``, the graph's maximal (halved) resistance, ``χ₂ ≤ χ₁``,

and DADAO needs ``O(n √(χ₁χ₂) √(L/μ))`` communications.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .adjacency import check_graph, edge_list

__all__ = ["chi1", "chi2", "effective_resistances", "weighted_laplacian"]

#: below this many nodes Λ⁺ is formed densely (O(n³) once); above, grounded sparse solves
DENSE_MAX_NODES = 3000
#: right-hand sides solved together in the sparse path
SOLVE_BATCH = 256


def weighted_laplacian(graph: Any, weights=None) -> sp.csr_matrix:
    """``Λ = Σ w_ij (e_i − e_j)(e_i − e_j)ᵀ``; ``weights`` has one entry per edge of
    :func:`~optsolve.graphs.edge_list` (default: the adjacency's weights)."""
    A = check_graph(graph)
    rows, cols = edge_list(A)
    if weights is None:
        w = np.asarray(A[rows, cols]).ravel()
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != rows.shape:
            raise ValueError(
                f"weights must have one entry per edge ({rows.size}), got shape {w.shape}"
            )
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError("weights must be finite and > 0 on every edge")
    n = A.shape[0]
    W = sp.coo_matrix((w, (rows, cols)), shape=(n, n))
    W = (W + W.T).tocsr()
    deg = np.asarray(W.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(deg) - W)


def effective_resistances(graph: Any, weights=None) -> np.ndarray:
    """Effective resistance ``R_ij`` of every edge, aligned with
    :func:`~optsolve.graphs.edge_list`.

    Dense pseudo-inverse up to ``DENSE_MAX_NODES`` nodes; above, the Laplacian grounded at node 0
    is factorized once (sparse LU) and solved against batches of unit vectors, so memory stays
    O(fill + n · SOLVE_BATCH).

    Examples
    --------
    >>> from optsolve.graphs import path_graph
    >>> effective_resistances(path_graph(4)).round(12).tolist()  # a tree: each edge R = 1/w
    [1.0, 1.0, 1.0]
    """
    Lam = weighted_laplacian(graph, weights)
    rows, cols = edge_list(Lam - sp.diags(Lam.diagonal()))
    n = Lam.shape[0]
    if n == 1 or rows.size == 0:
        return np.zeros(rows.size)
    if n <= DENSE_MAX_NODES:
        ev, V = np.linalg.eigh(Lam.toarray())
        keep = ev > ev[-1] * 1e-12
        G = (V[:, keep] / ev[keep]) @ V[:, keep].T
        return G[rows, rows] + G[cols, cols] - 2.0 * G[rows, cols]
    from scipy.sparse.linalg import splu

    # grounding node 0 (its potential fixed at 0) makes Λ invertible on the other nodes, and
    # R_ij = G_ii + G_jj − 2 G_ij with G the inverse of the grounded Laplacian (G_0· = 0)
    lu = splu(sp.csc_matrix(Lam[1:, 1:]))
    diag = np.zeros(n)
    cross = np.zeros(rows.size)
    order = np.argsort(cols, kind="stable")
    sorted_cols = cols[order]
    for start in range(1, n, SOLVE_BATCH):
        stop = min(start + SOLVE_BATCH, n)
        rhs = np.zeros((n - 1, stop - start))
        rhs[np.arange(start - 1, stop - 1), np.arange(stop - start)] = 1.0
        block = lu.solve(rhs)  # columns start..stop-1 of G (rows 1..n-1)
        diag[start:stop] = block[np.arange(start - 1, stop - 1), np.arange(stop - start)]
        lo, hi = np.searchsorted(sorted_cols, [start, stop])
        e = order[lo:hi]
        r = rows[e]
        cross[e] = np.where(r > 0, block[np.maximum(r - 1, 0), cols[e] - start], 0.0)
    return diag[rows] + diag[cols] - 2.0 * cross


def chi1(graph: Any, weights=None) -> float:
    """DADAO's χ₁: the inverse of the smallest positive eigenvalue of the weighted Laplacian.

    Examples
    --------
    >>> from optsolve.graphs import complete_graph
    >>> round(chi1(complete_graph(5)), 12)  # λ₂(K_n) = n
    0.2
    """
    Lam = weighted_laplacian(graph, weights)
    n = Lam.shape[0]
    if n == 1:
        return 0.0
    if n <= DENSE_MAX_NODES:
        ev = np.linalg.eigvalsh(Lam.toarray())
        return float(1.0 / ev[1])
    from scipy.sparse.linalg import eigsh

    shift = 1e-10 * float(Lam.diagonal().max())
    small = eigsh(Lam + shift * sp.eye(n), k=2, sigma=0, which="LM", return_eigenvectors=False)
    return float(1.0 / (np.sort(small)[1] - shift))


def chi2(graph: Any, weights=None) -> float:
    """DADAO's χ₂ = ½ max over edges of the effective resistance.

    Examples
    --------
    >>> from optsolve.graphs import star_graph
    >>> round(chi2(star_graph(6)), 12)  # every edge of a tree has R = 1
    0.5
    """
    R = effective_resistances(graph, weights)
    return float(0.5 * R.max()) if R.size else 0.0
