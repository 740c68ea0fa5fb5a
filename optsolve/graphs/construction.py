"""Communication graphs for decentralized solvers, as symmetric scipy CSR adjacency matrices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._validation import check_positive_int, check_scalar_in_range

__all__ = [
    "barbell_graph",
    "community_graph",
    "complete_graph",
    "cycle_graph",
    "erdos_renyi_graph",
    "grid_graph",
    "make_graph",
    "path_graph",
    "power_law_graph",
    "random_geometric_graph",
    "star_graph",
]

#: seeds tried by the random constructors of :func:`make_graph` to get a connected graph
CONNECT_ATTEMPTS = 100


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


def barbell_graph(n: int) -> sp.csr_matrix:
    """Two complete graphs on ``ceil(n/2)`` and ``floor(n/2)`` nodes joined by a single edge
    (the bridge ``(ceil(n/2) - 1, ceil(n/2))``): the poorly connected graph of DADAO's
    experiments, with χ₁ growing like n² while the cliques mix instantly."""
    n = check_positive_int(n, "n")
    if n < 4:
        raise ValueError(f"n must be >= 4 for a barbell, got {n}")
    a = (n + 1) // 2
    r1, c1 = np.triu_indices(a, 1)
    r2, c2 = np.triu_indices(n - a, 1)
    rows = np.concatenate([r1, r2 + a, [a - 1]])
    cols = np.concatenate([c1, c2 + a, [a]])
    return _from_edges(n, rows, cols)


def power_law_graph(n: int, m: int = 2, *, random_state=None) -> sp.csr_matrix:
    """Barabási–Albert preferential attachment: each new node links to ``m`` existing nodes
    chosen with probability proportional to their degree (a power-law degree tail, exponent 3).
    Connected by construction."""
    n = check_positive_int(n, "n")
    m = check_positive_int(m, "m")
    if m >= n:
        raise ValueError(f"m must be < n, got m={m}, n={n}")
    rng = check_random_state(random_state)
    # the first m + 1 nodes form a star so that every node starts with degree >= 1
    rows = [np.zeros(m, dtype=np.int64)]
    cols = [np.arange(1, m + 1)]
    targets = np.empty(2 * m * n, dtype=np.int64)  # node repeated once per incident edge end
    targets[:m] = 0
    targets[m : 2 * m] = np.arange(1, m + 1)
    n_ends = 2 * m
    for v in range(m + 1, n):
        chosen: set[int] = set()
        while len(chosen) < m:
            chosen.add(int(targets[rng.randint(n_ends)]))
        picked = np.fromiter(chosen, dtype=np.int64, count=m)
        rows.append(np.full(m, v, dtype=np.int64))
        cols.append(picked)
        targets[n_ends : n_ends + m] = picked
        targets[n_ends + m : n_ends + 2 * m] = v
        n_ends += 2 * m
    return _from_edges(n, np.concatenate(rows), np.concatenate(cols))


def community_graph(
    n: int, n_blocks: int = 4, p_in: float | None = None, p_out: float | None = None, *,
    random_state=None,
) -> sp.csr_matrix:
    """Stochastic block model: ``n_blocks`` near-equal communities, an edge inside a community
    with probability ``p_in`` (default ``min(1, 3 log(n) / block size)``, a well-connected
    block) and across with ``p_out`` (default ``p_in / 50``). May be disconnected; see
    :func:`make_graph`."""
    n = check_positive_int(n, "n")
    n_blocks = check_positive_int(n_blocks, "n_blocks")
    if n_blocks > n:
        raise ValueError(f"n_blocks must be <= n, got n_blocks={n_blocks}, n={n}")
    if p_in is None:
        p_in = min(1.0, 3.0 * np.log(max(n, 2)) / (n / n_blocks))
    if p_out is None:
        p_out = p_in / 50.0
    check_scalar_in_range(p_in, "p_in", low=0, high=1)
    check_scalar_in_range(p_out, "p_out", low=0, high=1)
    rng = check_random_state(random_state)
    block = np.arange(n) * n_blocks // n
    r, c = np.triu_indices(n, 1)
    p = np.where(block[r] == block[c], p_in, p_out)
    keep = rng.random_sample(r.size) < p
    return _from_edges(n, r[keep], c[keep])


def _connected(build, random_state, kind: str):
    """Call ``build(seed)`` with seeds drawn from ``random_state`` until the graph is
    connected (random graph models can be disconnected; the solvers need connectivity)."""
    from .adjacency import connected_components

    rng = check_random_state(random_state)
    for _ in range(CONNECT_ATTEMPTS):
        A = build(rng.randint(2**31 - 1))
        if connected_components(A)[0] == 1:
            return A
    raise ValueError(
        f"could not draw a connected {kind!r} graph in {CONNECT_ATTEMPTS} attempts; increase "
        "its density parameter"
    )


_NAMED = {
    "path": lambda n, rs: path_graph(n),
    "cycle": lambda n, rs: cycle_graph(n),
    "ring": lambda n, rs: cycle_graph(n),
    "complete": lambda n, rs: complete_graph(n),
    "star": lambda n, rs: star_graph(n),
    "barbell": lambda n, rs: barbell_graph(n),
}


def make_graph(kind: str, n: int, *, random_state=None, **params) -> sp.csr_matrix:
    """Build a named graph as a symmetric CSR adjacency.

    Parameters
    ----------
    kind : str
        ``"path"``, ``"cycle"``/``"ring"``, ``"complete"``, ``"star"``, ``"barbell"``,
        ``"grid"`` (``n`` a perfect square, or pass ``rows``/``cols``; ``periodic``),
        ``"erdos_renyi"`` (``p``, default ``2 log(n) / n``), ``"random_geometric"`` (alias
        ``"geometric"``; ``radius``, default ``sqrt(2 log(n) / n)``), ``"power_law"``
        (Barabási–Albert, ``m``, default 2), ``"community"`` (stochastic block model:
        ``n_blocks``, ``p_in``, ``p_out``). The random kinds are redrawn from
        ``random_state`` until connected.
    n : int
        Number of nodes.
    random_state : int, RandomState instance or None
        Seed of the random kinds.

    Examples
    --------
    >>> make_graph("cycle", 5).nnz
    10
    >>> make_graph("barbell", 6).nnz // 2  # two triangles and a bridge
    7
    """
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, got {type(kind).__name__}")
    n = check_positive_int(n, "n")
    if kind in _NAMED:
        return _NAMED[kind](n, random_state)
    if kind == "grid":
        rows = params.get("rows") or round(float(np.sqrt(n)))
        cols = params.get("cols") or n // rows
        if rows * cols != n:
            raise ValueError(f"n={n} is not rows*cols={rows}*{cols}; pass rows= and cols=")
        return grid_graph(rows, cols, periodic=params.get("periodic", False))
    log_n = np.log(max(n, 2))
    if kind == "erdos_renyi":
        p = params.get("p", min(1.0, 2 * log_n / n))
        return _connected(lambda s: erdos_renyi_graph(n, p, random_state=s), random_state, kind)
    if kind in ("random_geometric", "geometric"):
        radius = params.get("radius", min(1.5, float(np.sqrt(2 * log_n / n))))
        dim = params.get("dim", 2)
        return _connected(
            lambda s: random_geometric_graph(n, radius, dim=dim, random_state=s)[0],
            random_state, kind,
        )
    if kind == "power_law":
        return power_law_graph(n, params.get("m", 2), random_state=random_state)
    if kind == "community":
        kw = {k: params[k] for k in ("n_blocks", "p_in", "p_out") if k in params}
        return _connected(lambda s: community_graph(n, **kw, random_state=s), random_state, kind)
    raise ValueError(f"kind must be one of {sorted(GRAPH_KINDS)}, got {kind!r}")


GRAPH_KINDS = frozenset(
    {*_NAMED, "grid", "erdos_renyi", "random_geometric", "geometric", "power_law", "community"}
)
