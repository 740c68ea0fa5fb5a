"""Base Markov chains P on a graph, each reversible with respect to its target law μ.

A chain is stored as an *extended CSR*: row ``i`` lists the neighbours of ``i`` in increasing
order and then ``i`` itself (the self-loop slot, weight ``P(i, i)``, possibly 0). Every
sampler of the package draws the next node from such a row by inverse CDF with one uniform,
scanning the slots in this order, so that the SRRW kernel with ``alpha = 0`` and the base walk
choose the same node for the same uniform.

A walk spends its time fetching the row of the node it moves to, from memory that no cache
holds on large graphs. So every slot also records where its node's row lies (``hops``: the
start and length of the row of the slot's node, and for a slot ``i -> j`` the position of ``i`` in
row ``j``, beside the slot's ``cum`` in the same 24 bytes): the walk reads the next row's place
from the slot it has just chosen, one dependent memory access per step instead of two (``indptr``
of the new node, then its row), and the non-backtracking walk knows which slot of the new row
leads back before that row arrives.

Edge weights of the input graph are ignored: the walks move on the graph's topology, as in
Doshi et al. (2023) and Hu et al. (2024).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..graphs import check_graph

__all__ = ["BASE_CHAINS", "WALKS", "BaseChain", "base_chain", "graph_adjacency", "stationary_law"]

#: base chains accepted by the SRRW kernel (target law μ in brackets)
BASE_CHAINS = ("mh", "srw")  # Metropolis–Hastings (uniform), simple random walk (∝ degree)
#: every walk of the package (integer codes used by the kernels)
WALKS = {"srrw": 0, "srw": 1, "mh": 2, "nbrw": 3, "iid": 4}
#: chains with fewer slots than this hold their hops in int32
INT32_SLOTS = 2**31


class BaseChain(NamedTuple):
    """Arrays of a base chain (see the module docstring for the row layout).

    ``indptr`` / ``indices`` / ``p`` / ``cum`` describe the extended rows (neighbours, then the
    self slot); ``cum`` holds the running sums of ``p`` within each row, accumulated left to
    right. ``hops`` holds, per slot, ``cum`` in its first 8 bytes, then the start and length
    of the row of the slot's node and the position of the slot's own row node in that row (-1
    in self slots), at columns ``_kernels.HOP_START``, ``HOP_LEN``, ``HOP_BACK`` (int32, or
    int64 past 2³¹ slots; the last column pads a slot to a multiple of 8 bytes); ``cum`` is a
    view into it. ``mu`` is the chain's stationary law, ``degree`` the number of neighbours.
    """

    name: str
    indptr: np.ndarray  # int64 (n + 1,)
    indices: np.ndarray  # int32 (nnz + n,)
    p: np.ndarray  # float64 (nnz + n,)
    cum: np.ndarray  # float64 (nnz + n,), a strided view into hops
    hops: np.ndarray  # int32 or int64 (nnz + n, 6)
    mu: np.ndarray  # float64 (n,)
    log_mu: np.ndarray  # float64 (n,)
    degree: np.ndarray  # int64 (n,)

    @property
    def n_nodes(self) -> int:
        return self.mu.shape[0]

    def to_dense(self) -> np.ndarray:
        """The transition matrix ``P`` as a dense array (small graphs, tests, spectra)."""
        n = self.n_nodes
        rows = np.repeat(np.arange(n), np.diff(self.indptr))
        P = np.zeros((n, n))
        np.add.at(P, (rows, self.indices), self.p)
        return P


def graph_adjacency(graph, name: str = "graph") -> sp.csr_matrix:
    """Validate a graph (SciPy sparse, dense array or networkx) and return its symmetric CSR
    adjacency with sorted indices.

    Raises ``ValueError`` for directed, asymmetric or disconnected graphs, self loops and
    graphs of fewer than two nodes, ``TypeError`` for objects that are not graphs.
    """
    A = check_graph(graph, name)
    if A.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 nodes, got {A.shape[0]}")
    return A


def stationary_law(adjacency: sp.csr_matrix, walk: str) -> np.ndarray:
    """Stationary law of a walk: uniform for 'mh' and 'iid', ∝ degree for 'srw' and 'nbrw'."""
    n = adjacency.shape[0]
    if walk in ("mh", "iid"):
        return np.full(n, 1.0 / n)
    deg = np.diff(adjacency.indptr).astype(np.float64)
    return deg / deg.sum()


def base_chain(graph, base: str = "mh", *, name: str = "graph") -> BaseChain:
    """Build the base chain ``P`` of ``graph``.

    Parameters
    ----------
    graph : sparse matrix, ndarray or networkx.Graph
        Connected undirected graph (weights ignored).
    base : {"mh", "srw"}, default="mh"
        ``"mh"``: Metropolis–Hastings walk to the uniform law, ``P(i, j) = min(1/d_i, 1/d_j)``
        on edges and ``P(i, i) = 1 - sum_j P(i, j)``. ``"srw"``: simple random walk,
        ``P(i, j) = 1/d_i``, stationary law ``d_i / 2|E|``.

    Returns
    -------
    BaseChain

    Examples
    --------
    >>> from optsolve.graphs import make_graph
    >>> chain = base_chain(make_graph("star", 4), "mh")
    >>> chain.to_dense().sum(axis=1)
    array([1., 1., 1., 1.])
    """
    if base not in BASE_CHAINS:
        raise ValueError(f"base must be one of {list(BASE_CHAINS)}, got {base!r}")
    A = graph_adjacency(graph, name)
    n = A.shape[0]
    deg = np.diff(A.indptr).astype(np.int64)
    rows = np.repeat(np.arange(n), deg)
    cols = A.indices.astype(np.int64)
    if base == "mh":
        p_edge = np.minimum(1.0 / deg[rows], 1.0 / deg[cols])
        p_self = 1.0 - np.bincount(rows, weights=p_edge, minlength=n)
        # round-off must not produce a negative (or a spurious tiny) holding probability
        p_self[p_self < 1e-15] = 0.0
    else:
        p_edge = 1.0 / deg[rows]
        p_self = np.zeros(n)
    indptr = np.asarray(A.indptr, dtype=np.int64) + np.arange(n + 1)
    self_pos = indptr[1:] - 1
    is_self = np.zeros(indptr[-1], dtype=bool)
    is_self[self_pos] = True
    indices = np.empty(indptr[-1], dtype=np.int32)
    p = np.empty(indptr[-1])
    indices[~is_self], p[~is_self] = cols, p_edge
    indices[is_self], p[is_self] = np.arange(n), p_self
    from ._kernels import HOP_BACK, HOP_LEN, HOP_START, row_cumsum

    # int32 fields keep a slot in 24 bytes: the less memory the rows span, the more of them
    # stay in the caches
    hops = np.empty((indptr[-1], 6), dtype=np.int32 if indptr[-1] < INT32_SLOTS else np.int64)
    cum = hops.view(np.float64)[:, 0]
    cum[:] = row_cumsum(indptr, p)
    hops[:, HOP_START] = indptr[indices]
    hops[:, HOP_LEN] = np.diff(indptr)[indices]
    back = np.full(indptr[-1], -1, dtype=hops.dtype)
    back[~is_self] = _reverse_slots(A) - A.indptr[cols]
    hops[:, HOP_BACK] = back
    hops[:, HOP_BACK + 1:] = 0
    mu = stationary_law(A, base)
    return BaseChain(base, indptr, indices, p, cum, hops, mu, np.log(mu), deg)


def _reverse_slots(A: sp.csr_matrix) -> np.ndarray:
    """For each stored entry ``(i, j)`` of a symmetric CSR with sorted indices, the position of
    ``(j, i)`` in ``A.indices``."""
    ids = sp.csr_matrix((np.arange(1, A.nnz + 1), A.indices, A.indptr), shape=A.shape)
    T = ids.T.tocsr()
    T.sort_indices()
    return T.data - 1
