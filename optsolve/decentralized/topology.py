"""Communication topologies seen by the decentralized engines: a fixed graph, or a sequence of
graphs switching at given times (:class:`TimeVaryingGraph`).

:func:`as_graph_info` validates whatever the user passed as ``graph`` once and hands every engine
the same :class:`GraphInfo`: one :class:`GraphSegment` per graph of the sequence (a fixed graph is
a sequence of one), each with its symmetric CSR adjacency and its edge list ``rows < cols``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..graphs import check_graph, edge_list

__all__ = ["GraphInfo", "GraphSegment", "TimeVaryingGraph", "as_graph_info"]


class TimeVaryingGraph:
    """A sequence of undirected graphs on the same nodes, graph ``k`` active on
    ``[switch_times[k], switch_times[k+1])`` of the (simulated) clock.

    Accepted wherever :func:`optsolve.decentralized.solve` takes a ``graph``. Every graph of the
    sequence must be connected (DADAO's constants χ₁, χ₂ are taken as their worst case over the
    sequence, as in the time-varying analysis of Nabli & Oyallon).

    Parameters
    ----------
    graphs : sequence of graphs
        Each a SciPy sparse adjacency, a dense array or a ``networkx.Graph``, all with the same
        number of nodes.
    switch_times : sequence of float
        Start time of each graph; ``switch_times[0]`` must be 0 and the times strictly increase.
    period : float or None, default=None
        When given (``> switch_times[-1]``), the sequence repeats with this period; otherwise the
        last graph stays active forever.

    Attributes
    ----------
    n_nodes : int
    adjacencies : tuple of scipy.sparse.csr_matrix
    switch_times : ndarray of shape (n_graphs,)
    period : float or None

    Examples
    --------
    >>> from optsolve.graphs import cycle_graph, star_graph
    >>> g = TimeVaryingGraph([cycle_graph(6), star_graph(6)], [0.0, 5.0], period=10.0)
    >>> g.index_at(3.0), g.index_at(7.0), g.index_at(13.0)
    (0, 1, 0)
    """

    def __init__(self, graphs, switch_times, period: float | None = None):
        if isinstance(graphs, (str, bytes)) or not hasattr(graphs, "__len__") or len(graphs) == 0:
            raise ValueError("graphs must be a non-empty sequence of graphs")
        adjacencies = tuple(check_graph(g, f"graphs[{k}]") for k, g in enumerate(graphs))
        n = adjacencies[0].shape[0]
        for k, A in enumerate(adjacencies):
            if A.shape[0] != n:
                raise ValueError(
                    f"graphs[{k}] has {A.shape[0]} nodes but graphs[0] has {n}: a time-varying "
                    "graph keeps its nodes"
                )
        times = np.asarray(switch_times, dtype=np.float64)
        if times.ndim != 1 or times.size != len(adjacencies):
            raise ValueError(
                f"switch_times must hold one start time per graph ({len(adjacencies)}), got "
                f"shape {times.shape}"
            )
        if not np.all(np.isfinite(times)) or times[0] != 0.0 or np.any(np.diff(times) <= 0):
            raise ValueError("switch_times must start at 0 and strictly increase")
        if period is not None:
            if isinstance(period, bool) or not np.isscalar(period) or not np.isfinite(period) \
                    or float(period) <= times[-1]:
                raise ValueError(
                    f"period must be a finite number > switch_times[-1] = {times[-1]:g}, got "
                    f"{period!r}"
                )
            period = float(period)
        self.adjacencies = adjacencies
        self.switch_times = times
        self.period = period
        self.n_nodes = n

    def index_at(self, t: float) -> int:
        """Index of the graph active at time ``t``."""
        tt = float(t) % self.period if self.period is not None else float(t)
        return int(np.searchsorted(self.switch_times, tt, side="right") - 1)

    def __len__(self) -> int:
        return len(self.adjacencies)

    def __repr__(self) -> str:
        return (f"TimeVaryingGraph(n_nodes={self.n_nodes}, n_graphs={len(self)}, "
                f"period={self.period})")


@dataclass(frozen=True)
class GraphSegment:
    """One graph of a topology: symmetric CSR ``adjacency`` and its edges ``rows[e] < cols[e]``
    (the order of :func:`optsolve.graphs.edge_list`, which per-edge arrays follow)."""

    adjacency: sp.csr_matrix
    rows: np.ndarray
    cols: np.ndarray

    @property
    def n_edges(self) -> int:
        return int(self.rows.size)


@dataclass(frozen=True)
class GraphInfo:
    """The validated topology an engine receives.

    Attributes
    ----------
    n_nodes : int
    segments : tuple of GraphSegment
        One per graph; a fixed graph has exactly one.
    switch_times : ndarray of shape (n_segments,)
        Start time of each segment (``[0.0]`` for a fixed graph).
    period : float or None
        Repetition period of the sequence (None: the last segment stays forever).
    """

    n_nodes: int
    segments: tuple[GraphSegment, ...]
    switch_times: np.ndarray
    period: float | None = None
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_time_varying(self) -> bool:
        return len(self.segments) > 1

    @property
    def adjacency(self) -> sp.csr_matrix:
        """Adjacency of the first (for a fixed graph: the only) segment."""
        return self.segments[0].adjacency

    @property
    def rows(self) -> np.ndarray:
        return self.segments[0].rows

    @property
    def cols(self) -> np.ndarray:
        return self.segments[0].cols

    @property
    def n_edges(self) -> int:
        return self.segments[0].n_edges

    def index_at(self, t: float) -> int:
        """Index of the segment active at time ``t``."""
        tt = float(t) % self.period if self.period is not None else float(t)
        return int(np.searchsorted(self.switch_times, tt, side="right") - 1)


def as_graph_info(graph: Any, n_nodes: int | None = None, name: str = "graph") -> GraphInfo:
    """Validate ``graph`` (anything :func:`optsolve.graphs.check_graph` accepts, or a
    :class:`TimeVaryingGraph`) and return its :class:`GraphInfo`.

    Raises ``ValueError`` for a directed, disconnected or malformed graph, and when ``n_nodes``
    is given and differs from the graph's number of nodes.
    """
    if isinstance(graph, TimeVaryingGraph):
        adjacencies = graph.adjacencies
        times, period = graph.switch_times.copy(), graph.period
    elif isinstance(graph, GraphInfo):
        info = graph
        adjacencies = None
    else:
        adjacencies = (check_graph(graph, name),)
        times, period = np.zeros(1), None
    if adjacencies is not None:
        segments = []
        for A in adjacencies:
            rows, cols = edge_list(A)
            segments.append(GraphSegment(A, rows.astype(np.int64), cols.astype(np.int64)))
        info = GraphInfo(adjacencies[0].shape[0], tuple(segments), times, period)
    if info.n_nodes < 2:
        raise ValueError(f"{name} must have at least 2 nodes, got {info.n_nodes}")
    if n_nodes is not None and info.n_nodes != n_nodes:
        raise ValueError(
            f"{name} has {info.n_nodes} nodes but the problem has {n_nodes} nodes (parts); "
            "partition the data into as many parts as the graph has nodes"
        )
    return info
