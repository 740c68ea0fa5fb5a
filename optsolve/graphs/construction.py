"""Communication graphs for decentralized solvers, as symmetric scipy CSR adjacency matrices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._validation import check_positive_int, check_scalar_in_range

__all__ = [
    "complete_graph",
    "cycle_graph",
    "erdos_renyi_graph",
    "grid_graph",
    "make_graph",
    "path_graph",
    "random_geometric_graph",
    "star_graph",
]


def _from_edges(n: int, rows, cols, weights=None) -> sp.csr_matrix:
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    w = np.ones(rows.size) if weights is None else np.asarray(weights, dtype=np.float64)
    A = sp.coo_matrix((w, (rows, cols)), shape=(n, n)).tocsr()
    A = A.maximum(A.T)  # undirected
    A.setdiag(0)
    A.eliminate_zeros()
    A.sort_indices()
    return A.tocsr()


def path_graph(n: int) -> sp.csr_matrix:
    """Path 0 - 1 - ... - (n-1)."""
    n = check_positive_int(n, "n")
    i = np.arange(n - 1)
    return _from_edges(n, i, i + 1)


def cycle_graph(n: int) -> sp.csr_matrix:
    """Ring of ``n >= 3`` nodes."""
    n = check_positive_int(n, "n")
    if n < 3:
        raise ValueError(f"n must be >= 3 for a cycle, got {n}")
    i = np.arange(n)
    return _from_edges(n, i, (i + 1) % n)


def complete_graph(n: int) -> sp.csr_matrix:
    """All pairs connected."""
    n = check_positive_int(n, "n")
    r, c = np.triu_indices(n, 1)
    return _from_edges(n, r, c)


def star_graph(n: int) -> sp.csr_matrix:
    """Node 0 connected to every other node."""
    n = check_positive_int(n, "n")
    return _from_edges(n, np.zeros(n - 1, dtype=np.int64), np.arange(1, n))


def grid_graph(rows: int, cols: int, *, periodic: bool = False) -> sp.csr_matrix:
    """2-D lattice with 4-neighbour edges (a torus when ``periodic``); node ``i*cols + j``."""
    rows, cols = check_positive_int(rows, "rows"), check_positive_int(cols, "cols")
    idx = np.arange(rows * cols).reshape(rows, cols)
    r = [idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    c = [idx[:, 1:].ravel(), idx[1:, :].ravel()]
    if periodic:
        if cols > 2:
            r.append(idx[:, -1])
            c.append(idx[:, 0])
        if rows > 2:
            r.append(idx[-1, :])
            c.append(idx[0, :])
    return _from_edges(rows * cols, np.concatenate(r), np.concatenate(c))


def erdos_renyi_graph(n: int, p: float, *, random_state=None) -> sp.csr_matrix:
    """G(n, p): each pair connected independently with probability ``p``."""
    n = check_positive_int(n, "n")
    check_scalar_in_range(p, "p", low=0, high=1)
    rng = check_random_state(random_state)
    r, c = np.triu_indices(n, 1)
    keep = rng.random_sample(r.size) < p
    return _from_edges(n, r[keep], c[keep])


def random_geometric_graph(n: int, radius: float, *, dim: int = 2, random_state=None):
    """Nodes uniform in the unit cube, connected when closer than ``radius``.

    Returns ``(adjacency, positions)``.
    """
    from scipy.spatial import cKDTree

    n = check_positive_int(n, "n")
    check_scalar_in_range(radius, "radius", low=0, include_low=False)
    rng = check_random_state(random_state)
    pos = rng.random_sample((n, dim))
    pairs = cKDTree(pos).query_pairs(radius, output_type="ndarray")
    return _from_edges(n, pairs[:, 0], pairs[:, 1]), pos


_NAMED = {
    "path": lambda n, rs: path_graph(n),
    "cycle": lambda n, rs: cycle_graph(n),
    "ring": lambda n, rs: cycle_graph(n),
    "complete": lambda n, rs: complete_graph(n),
    "star": lambda n, rs: star_graph(n),
}


def make_graph(kind: str, n: int, *, random_state=None, **params) -> sp.csr_matrix:
    """Build a named graph: ``"path"``, ``"cycle"``/``"ring"``, ``"complete"``, ``"star"``,
    ``"grid"`` (``n`` must be a perfect square, or pass ``rows``/``cols``), ``"erdos_renyi"``
    (``p``), ``"geometric"`` (``radius``).

    Examples
    --------
    >>> make_graph("cycle", 5).nnz
    10
    """
    if kind in _NAMED:
        return _NAMED[kind](n, random_state)
    if kind == "grid":
        rows = params.get("rows") or round(float(np.sqrt(n)))
        cols = params.get("cols") or n // rows
        if rows * cols != n:
            raise ValueError(f"n={n} is not rows*cols={rows}*{cols}; pass rows= and cols=")
        return grid_graph(rows, cols, periodic=params.get("periodic", False))
    if kind == "erdos_renyi":
        return erdos_renyi_graph(n, params.get("p", 0.1), random_state=random_state)
    if kind == "geometric":
        return random_geometric_graph(n, params.get("radius", 0.3), random_state=random_state)[0]
    raise ValueError(
        "kind must be one of ['complete', 'cycle', 'erdos_renyi', 'geometric', 'grid', 'path', "
        f"'ring', 'star'], got {kind!r}"
    )
