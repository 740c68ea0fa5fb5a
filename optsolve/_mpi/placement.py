"""Which rank hosts which nodes, and the slice of a partitioned problem's data a rank receives."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["local_packed", "node_owners", "resolve_n_procs"]


def resolve_n_procs(n_procs, n_nodes: int) -> int:
    """``n_procs`` validated (``None``: one process per node, at most the CPU count)."""
    import numbers

    if n_procs is None:
        return max(1, min(n_nodes, os.cpu_count() or 1))
    if isinstance(n_procs, bool) or not isinstance(n_procs, numbers.Integral):
        raise TypeError(f"n_procs must be an int >= 1 or None, got {type(n_procs).__name__}")
    if not 1 <= n_procs <= n_nodes:
        raise ValueError(f"n_procs must be in [1, n_nodes={n_nodes}], got {n_procs}")
    return int(n_procs)


def node_owners(n_nodes: int, n_procs: int) -> np.ndarray:
    """Rank hosting each node: contiguous blocks of ``n_nodes / n_procs`` nodes (sizes differ by
    at most one, the first ranks taking the extra nodes), so node ``i`` lives on one rank and a
    rank hosts ``ceil`` or ``floor`` of ``n_nodes / n_procs`` nodes."""
    sizes = np.full(n_procs, n_nodes // n_procs)
    sizes[: n_nodes % n_procs] += 1
    return np.repeat(np.arange(n_procs), sizes)


def local_packed(packed, nodes) -> dict:
    """The rows of ``packed`` (a ``DecentralizedProblem.packed``) that ``nodes`` own, and nothing
    else, in the same layout: ``offsets`` keeps one entry per node of the whole problem, with
    empty row ranges for the nodes held elsewhere, so that the numba kernels index a node's rows
    exactly as in the simulator. ``inv_n_total`` (1/N over all nodes) and ``reg`` are kept.

    Returns a dict of the ``PackedData`` fields (picklable, for a rank's payload).
    """
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    off = np.asarray(packed.offsets, dtype=np.int64)
    counts = np.zeros(off.size - 1, dtype=np.int64)
    counts[nodes] = off[nodes + 1] - off[nodes]
    rows = (np.concatenate([np.arange(off[i], off[i + 1]) for i in nodes]) if nodes.size
            else np.zeros(0, dtype=np.int64))
    out = dict(loss_code=int(packed.loss_code), is_sparse=bool(packed.is_sparse),
               y=np.ascontiguousarray(packed.y[rows]),
               offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
               inv_n_total=float(packed.inv_n_total), reg=float(packed.reg),
               center=np.array(packed.center, dtype=np.float64))
    if packed.is_sparse:
        import scipy.sparse as sp

        A = sp.csr_matrix((packed.data, packed.indices, packed.indptr),
                          shape=(off[-1], int(packed.indices.max(initial=-1)) + 1))[rows]
        out.update(X=np.zeros((0, 0)), indptr=A.indptr.astype(np.int64),
                   indices=A.indices.astype(np.int64), data=A.data.astype(np.float64))
    else:
        empty_i = np.zeros(0, dtype=np.int64)
        out.update(X=np.ascontiguousarray(packed.X[rows]), indptr=empty_i, indices=empty_i,
                   data=np.zeros(0))
    return out
