"""Adjacency matrices: conversion from the formats users hold, validation, edge lists.

Every function of :mod:`optsolve.graphs` that takes a graph accepts a SciPy sparse matrix or
array, a dense array, or a ``networkx.Graph`` (networkx is optional and only touched when such
an object is passed); it is converted once, here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

__all__ = ["as_adjacency", "check_graph", "connected_components", "edge_list"]


def _is_networkx_graph(graph: Any) -> bool:
    # checked by module name so that networkx is never imported for other inputs
    return any(c.__module__.startswith("networkx") for c in type(graph).__mro__)


def as_adjacency(graph: Any, name: str = "graph") -> sp.csr_matrix:
    """Return ``graph`` as a float64 CSR adjacency matrix (a new object, never a view).

    Parameters
    ----------
    graph : sparse matrix or array, array-like of shape (n, n), or networkx.Graph
        A networkx graph's nodes are numbered in ``graph.nodes`` order; edge attribute
        ``weight`` is used when present. Directed networkx graphs are refused.
    name : str
        Argument name used in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix
        The adjacency, without explicit zeros, indices sorted.

    Examples
    --------
    >>> import numpy as np
    >>> as_adjacency(np.array([[0, 1], [1, 0]])).nnz
    2
    """
    if _is_networkx_graph(graph):
        import networkx as nx

        if graph.is_directed():
            raise ValueError(
                f"{name} is a directed networkx graph; decentralized methods need an undirected "
                "graph (use graph.to_undirected())"
            )
        if graph.is_multigraph():
            raise ValueError(f"{name} is a networkx multigraph; pass a simple graph")
        A = nx.to_scipy_sparse_array(graph, weight="weight", dtype=np.float64, format="csr")
        A = sp.csr_matrix(A)
    elif sp.issparse(graph):
        A = sp.csr_matrix(graph, dtype=np.float64, copy=True)
    else:
        if isinstance(graph, (str, bytes)) or graph is None:
            raise TypeError(
                f"{name} must be a SciPy sparse matrix, a dense array or a networkx.Graph, got "
                f"{type(graph).__name__}"
            )
        try:
            arr = np.array(graph, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must be a SciPy sparse matrix, a dense array or a networkx.Graph, got "
                f"{type(graph).__name__}"
            ) from exc
        if arr.ndim != 2:
            raise ValueError(f"{name} adjacency must be a 2-D array, got {arr.ndim} dimension(s)")
        A = sp.csr_matrix(arr)
    A.eliminate_zeros()
    A.sort_indices()
    return A


def check_graph(graph: Any, name: str = "graph", *, require_connected: bool = True):
    """Validate a graph; return its adjacency as symmetric CSR with float64 weights.

    Raises ``ValueError`` naming ``name`` for non-square, asymmetric (directed), negative or
    non-finite weights, self-loops, an empty graph, and (when ``require_connected``)
    disconnected graphs, listing the components' sizes.

    Examples
    --------
    >>> from optsolve.graphs import cycle_graph
    >>> check_graph(cycle_graph(4)).shape
    (4, 4)
    """
    A = as_adjacency(graph, name)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} adjacency must be square, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} has no nodes")
    if A.nnz and not np.all(np.isfinite(A.data)):
        raise ValueError(f"{name} adjacency has non-finite weights")
    if A.nnz and A.data.min() < 0:
        raise ValueError(f"{name} adjacency has negative weights (min {A.data.min():g})")
    if abs(A - A.T).sum() > 1e-12 * max(1.0, abs(A).sum()):
        raise ValueError(f"{name} adjacency is not symmetric (the graph must be undirected)")
    if A.diagonal().any():
        raise ValueError(f"{name} adjacency has self-loops on its diagonal")
    if require_connected:
        n_comp, labels = connected_components(A)
        if n_comp > 1:
            sizes = np.bincount(labels)
            raise ValueError(
                f"{name} is disconnected: {n_comp} connected components of sizes "
                f"{sorted(sizes.tolist(), reverse=True)[:10]}; decentralized methods need a "
                "connected communication graph"
            )
    return A


def connected_components(graph: Any) -> tuple[int, np.ndarray]:
    """Number of connected components and the component label of each node."""
    return csgraph.connected_components(as_adjacency(graph), directed=False)


def edge_list(graph: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each undirected edge once, as ``(rows, cols)`` with ``rows < cols``, sorted by row then
    column (int64). This order is the one every per-edge array of the package follows.

    Examples
    --------
    >>> from optsolve.graphs import path_graph
    >>> [r.tolist() for r in edge_list(path_graph(3))]
    [[0, 1], [1, 2]]
    """
    U = sp.triu(as_adjacency(graph), k=1).tocsr()
    U.sort_indices()
    rows = np.repeat(np.arange(U.shape[0], dtype=np.int64), np.diff(U.indptr))
    return rows, U.indices.astype(np.int64)
