"""Fixed partitions of a graph's nodes into forest-structured blocks.

* ``lattice_tree_partition``: the two interlocking "combs" that split a rectangular lattice into
  two trees (Nutini et al. 2022, Figure 5);
* ``forest_partition``: greedy partition of any graph into induced forests (first fit);
* ``red_black_partition``: the classic colouring into independent sets (two colours for a
  bipartite graph such as a lattice, greedy colouring otherwise).

Every block of these partitions induces a forest, so it is solved exactly by message passing.
The variable (greedy-tree, random-tree) blocks are grown inside the solver's kernel.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _kernels
from .message_passing import as_symmetric_csr

__all__ = ["forest_partition", "is_forest", "lattice_tree_partition", "red_black_partition"]


def lattice_tree_partition(shape: tuple[int, int]) -> list[np.ndarray]:
    """Split the nodes of an ``h × w`` 4-neighbour lattice (row-major) into two trees.

    Tree 0 holds the even rows except their last column plus the first column of the odd
    rows; tree 1 holds the rest (a comb whose spine is the last column).

    Parameters
    ----------
    shape : tuple of int
        ``(h, w)``, the lattice's rows and columns.

    Returns
    -------
    blocks : list of ndarray
        Sorted node indices of each tree (one block when ``w == 1``: a path).

    Examples
    --------
    >>> from optsolve.bcd.forest import lattice_tree_partition
    >>> [b.tolist() for b in lattice_tree_partition((2, 3))]
    [[0, 1, 3], [2, 4, 5]]
    """
    h, w = (int(s) for s in shape)
    if h < 1 or w < 1:
        raise ValueError(f"shape must hold two positive sizes, got {shape}")
    if w == 1 or h == 1:
        return [np.arange(h * w, dtype=np.int64)]
    rows, cols = np.divmod(np.arange(h * w, dtype=np.int64), w)
    in_first = ((rows % 2 == 0) & (cols < w - 1)) | ((rows % 2 == 1) & (cols == 0))
    return [np.flatnonzero(in_first), np.flatnonzero(~in_first)]


def forest_partition(A, order=None) -> list[np.ndarray]:
    """Greedily partition the nodes of the graph of ``A`` into induced forests.

    Nodes are visited in ``order`` (default ``0..n-1``) and each joins the first forest it
    keeps acyclic (at most ``max degree / 2 + 1`` forests).

    Parameters
    ----------
    A : sparse matrix or ndarray of shape (n, n)
        Symmetric matrix; its off-diagonal nonzeros are the edges.
    order : array-like of int, default=None
        Visiting order (a permutation of ``range(n)``).

    Returns
    -------
    blocks : list of ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd.forest import forest_partition
    >>> triangle = np.ones((3, 3)) + 2 * np.eye(3)
    >>> [b.tolist() for b in forest_partition(triangle)]
    [[0, 1], [2]]
    """
    M = _graph_csr(A)
    n = M.shape[0]
    visit = _visit_order(order, n)
    forest_of = np.full(n, -1, np.int64)
    n_forests = _kernels.greedy_forest_partition(
        M.indptr, M.indices, visit, forest_of, np.full(n, -1, np.int64), np.zeros(n, np.int64)
    )
    return [np.flatnonzero(forest_of == f) for f in range(n_forests)]


def red_black_partition(A, order=None) -> list[np.ndarray]:
    """Colour the graph of ``A`` into independent sets (red–black ordering).

    A bipartite graph (a lattice) gets its two BFS colours; any other graph a greedy first-fit
    colouring in ``order``.

    Parameters
    ----------
    A : sparse matrix or ndarray of shape (n, n)
    order : array-like of int, default=None
        Visiting order of the greedy colouring.

    Returns
    -------
    blocks : list of ndarray

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from optsolve.bcd.forest import red_black_partition
    >>> path = sp.diags([[1.0] * 3, [1.0] * 3], [-1, 1])
    >>> [b.tolist() for b in red_black_partition(path)]
    [[0, 2], [1, 3]]
    """
    M = _graph_csr(A)
    n = M.shape[0]
    two = _two_coloring(M)
    if two is not None:
        return [b for b in (np.flatnonzero(two == 0), np.flatnonzero(two == 1)) if b.size]
    color = np.full(n, -1, np.int64)
    n_colors = _kernels.greedy_coloring(
        M.indptr, M.indices, _visit_order(order, n), color, np.full(n + 1, -1, np.int64)
    )
    return [np.flatnonzero(color == c) for c in range(n_colors)]


def is_forest(A, nodes) -> bool:
    """Whether the subgraph of the graph of ``A`` induced by ``nodes`` has no cycle.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd.forest import is_forest
    >>> triangle = np.ones((3, 3))
    >>> is_forest(triangle, [0, 1]), is_forest(triangle, [0, 1, 2])
    (True, False)
    """
    M = _graph_csr(A)
    sub = M[np.asarray(nodes, dtype=np.int64)][:, np.asarray(nodes, dtype=np.int64)]
    sub = sp.triu(sub, k=1)
    n_nodes = sub.shape[0]
    n_comp = sp.csgraph.connected_components(sub, directed=False)[0]
    return sub.nnz == n_nodes - n_comp  # a graph is a forest iff |E| = |V| - #components


def check_partition(M: sp.csr_matrix, blocks, name: str = "partition") -> list[np.ndarray]:
    """Validate a user partition: int blocks covering ``0..n-1`` once, each a forest."""
    n = M.shape[0]
    out = [np.asarray(b, dtype=np.int64).ravel() for b in blocks]
    if not out:
        raise ValueError(f"{name} must hold at least one block")
    allnodes = np.concatenate(out)
    if allnodes.size != n or not np.array_equal(np.sort(allnodes), np.arange(n)):
        raise ValueError(f"{name} must cover every index 0..{n - 1} exactly once")
    for i, b in enumerate(out):
        if not is_forest(M, b):
            raise ValueError(f"{name} block {i} induces a cycle: it is not a forest")
    return out


def _two_coloring(M: sp.csr_matrix):
    """BFS 2-colouring (0/1 per node) when the graph is bipartite, else None."""
    n = M.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    off = M - sp.diags(M.diagonal())
    off.eliminate_zeros()
    n_comp, labels = sp.csgraph.connected_components(off, directed=False)
    color = np.full(n, -1, np.int64)
    for c in range(n_comp):
        root = int(np.flatnonzero(labels == c)[0])
        order, preds = sp.csgraph.breadth_first_order(off, root, directed=False)
        color[root] = 0
        # BFS order lists parents before children, so one pass colours every node
        for v in order[1:]:
            color[v] = 1 - color[preds[v]]
    rows, cols = off.nonzero()
    if np.any(color[rows] == color[cols]):
        return None
    return color


def _graph_csr(A) -> sp.csr_matrix:
    if sp.issparse(A) or np.ndim(A) == 2:
        M = sp.csr_matrix(A, dtype=np.float64)
        if M.shape[0] != M.shape[1]:
            raise ValueError(f"A must be square, got shape {M.shape}")
        M = M.copy()
        M.sum_duplicates()
        M.eliminate_zeros()
        M.indptr = M.indptr.astype(np.int64)
        M.indices = M.indices.astype(np.int64)
        return M
    return as_symmetric_csr(A)


def _visit_order(order, n: int) -> np.ndarray:
    if order is None:
        return np.arange(n, dtype=np.int64)
    visit = np.asarray(order, dtype=np.int64).ravel()
    if visit.size != n or not np.array_equal(np.sort(visit), np.arange(n)):
        raise ValueError(f"order must be a permutation of range({n})")
    return visit
