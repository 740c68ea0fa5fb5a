"""Random-walk samplers on a graph: the self-repellent random walk (SRRW) and its baselines.

Random stream (shared with :func:`optsolve.randomwalk.token_sgd`): one
``numpy.random.Generator``; when no start node is given, its first double ``u`` picks
``X_0 = floor(u N)``; then step ``n`` consumes exactly one double, which moves the walk (inverse
CDF over the current row, see :mod:`.chains`). The samplers draw the doubles in chunks, which
yields the same stream as drawing them one by one.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_generator
from . import _kernels
from .chains import BASE_CHAINS, WALKS, BaseChain, base_chain

__all__ = ["random_walk", "srrw_walk"]

#: steps whose uniforms are drawn at once (bounds the memory of a long walk)
CHUNK_STEPS = 1 << 16


def check_alpha(alpha, name: str = "alpha") -> float:
    """``alpha`` as a finite float >= 0, or a clear error."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a real number >= 0, got {type(alpha).__name__}")
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {alpha}")
    return alpha


def check_steps(n_steps, name: str = "n_steps") -> int:
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
        raise TypeError(f"{name} must be an int >= 1, got {type(n_steps).__name__}")
    if n_steps < 1:
        raise ValueError(f"{name} must be >= 1, got {n_steps}")
    return int(n_steps)


def as_chain(graph, base: str) -> BaseChain:
    """The base chain of ``graph`` (a :class:`BaseChain` built beforehand is used as is)."""
    if isinstance(graph, BaseChain):
        if graph.name != base:
            raise ValueError(f"graph is a prebuilt {graph.name!r} chain but {base!r} is needed")
        return graph
    return base_chain(graph, base)


def check_start(start, n_nodes: int, rng: np.random.Generator) -> int:
    """The start node: given, or ``floor(u N)`` from the stream's first double."""
    if start is None:
        return min(int(rng.random() * n_nodes), n_nodes - 1)
    if isinstance(start, bool) or not isinstance(start, numbers.Integral):
        raise TypeError(f"start must be a node index (int), got {type(start).__name__}")
    if not 0 <= start < n_nodes:
        raise ValueError(f"start must be in [0, {n_nodes}), got {start}")
    return int(start)


def initial_log_ratio(chain: BaseChain, x0) -> np.ndarray:
    """``lq_0 = log(x_0 / mu)`` for the kernels (``x_0 = mu`` when None, so ``K[x_0] = P``)."""
    n = chain.n_nodes
    if x0 is None:
        return np.zeros(n)
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.shape != (n,):
        raise ValueError(f"x0 must have shape ({n},), got {x0.shape}")
    if not np.all(np.isfinite(x0)) or np.any(x0 <= 0) or abs(x0.sum() - 1.0) > 1e-9:
        raise ValueError(
            "x0 must be a probability vector with positive entries (the interior of the simplex)"
        )
    return np.log(x0) - chain.log_mu


def run_walk(chain: BaseChain, walk: str, n_steps: int, rng: np.random.Generator, *,
             alpha: float = 0.0, a: float = 1.0, start=None, x0=None, return_path=True):
    """Drive ``_kernels.walk_run`` over chunks of the random stream.

    Returns ``(visits, path, lq, log_s)``; ``path`` has ``n_steps + 1`` nodes (``X_0`` first) or
    is None.
    """
    n = chain.n_nodes
    cur = check_start(start, n, rng)
    lq = initial_log_ratio(chain, x0)
    visits = np.zeros(n, dtype=np.int64)
    path = np.empty(n_steps + 1 if return_path else 0, dtype=np.int32 if n < 2**31 else np.int64)
    if return_path:
        path[0] = cur
    buf = np.empty(int(np.diff(chain.indptr).max()))
    code, prev, log_s, done = WALKS[walk], -1, 0.0, 0
    U_all = np.empty(min(CHUNK_STEPS, n_steps))
    while done < n_steps:
        m = min(CHUNK_STEPS, n_steps - done)
        U = rng.random(out=U_all[:m])
        out = path[done + 1: done + 1 + m] if return_path else path
        cur, prev, log_s = _kernels.walk_run(
            code, cur, prev, done, U, chain.indptr, chain.indices, chain.p, chain.cum,
            chain.hops, lq, chain.log_mu, alpha, a, log_s, visits, out, buf)
        done += m
    return visits, (path if return_path else None), lq, log_s


def srrw_walk(graph, alpha: float, n_steps: int, base: str = "mh", random_state=None, *,
              start: int | None = None, x0=None, return_path: bool = True):
    """Sample a self-repellent random walk (SRRW) on a graph.

    From ``X_n`` the walk moves to ``j`` with probability ``K[x_n](X_n, j) ∝ P(X_n, j)
    (x_n(j) / mu_j)^(-alpha)`` over the neighbours of ``X_n`` (and ``X_n`` itself when the base
    chain ``P`` holds there), where ``x_n = (x_0 + sum_{k=1}^n delta_{X_k}) / (n + 1)`` is the
    empirical measure of the visits (``x_{n+1} = x_n + (delta_{X_{n+1}} - x_n) / (n + 2)``).
    Nodes visited more often than the target ``mu`` asks are avoided, which shrinks the
    asymptotic covariance of the visit frequencies from ``V_X(0)`` to ``V_X(alpha)`` (see
    :func:`asymptotic_covariance`), about ``1/alpha`` times smaller.

    Parameters
    ----------
    graph : sparse matrix, ndarray, networkx.Graph or BaseChain
        Connected undirected graph (edge weights are ignored), or its chain prebuilt by
        :func:`base_chain` (skips the validation when sampling many walks).
    alpha : float >= 0
        Strength of the self-repellence; ``alpha = 0`` is the base chain itself (same path for
        the same seed).
    n_steps : int
        Number of moves.
    base : {"mh", "srw"}, default="mh"
        Base chain: Metropolis–Hastings walk to the uniform law, or the simple random walk
        (target ``mu`` ∝ degree).
    random_state : int, Generator or None
        Seed of the stream: one double per step (and one for ``X_0`` when ``start`` is None).
    start : int or None
        ``X_0``; uniform at random when None.
    x0 : array-like of shape (n_nodes,) or None
        Initial empirical measure (positive, sums to 1); ``mu`` when None, so ``K[x_0] = P``.
    return_path : bool, default=True
        Return the path (``n_steps + 1`` integers); ``False`` saves the memory.

    Returns
    -------
    visits : ndarray of shape (n_nodes,)
        ``visits[i]`` = number of steps ``1 <= k <= n_steps`` with ``X_k = i`` (sums to
        ``n_steps``); ``visits / n_steps`` estimates ``mu``.
    path : ndarray of shape (n_steps + 1,) or None
        ``X_0, X_1, ..., X_n``.

    References
    ----------
    V. Doshi, J. Hu, D. Y. Eun. Self-Repellent Random Walks on General Graphs – Achieving
    Minimal Sampling Variance via Nonlinear Markov Chains. ICML 2023 (arXiv:2305.05097).

    Examples
    --------
    >>> from optsolve.graphs import make_graph
    >>> from optsolve.randomwalk import srrw_walk
    >>> visits, path = srrw_walk(make_graph("cycle", 10), alpha=5.0, n_steps=1000,
    ...                          random_state=0)
    >>> int(visits.sum()), len(path)
    (1000, 1001)
    """
    alpha = check_alpha(alpha)
    n_steps = check_steps(n_steps)
    if base not in BASE_CHAINS:
        raise ValueError(f"base must be one of {list(BASE_CHAINS)}, got {base!r}")
    chain = as_chain(graph, base)
    rng = as_generator(random_state)
    visits, path, _, _ = run_walk(chain, "srrw", n_steps, rng, alpha=alpha, start=start, x0=x0,
                                  return_path=return_path)
    return visits, path


def random_walk(graph, n_steps: int, walk: str = "mh", random_state=None, *,
                start: int | None = None, return_path: bool = True):
    """Sample one of the baseline walks on a graph (same stream and outputs as
    :func:`srrw_walk`).

    Parameters
    ----------
    graph : sparse matrix, ndarray, networkx.Graph or BaseChain
        Connected undirected graph (edge weights are ignored), or its chain from
        :func:`base_chain` (``"mh"`` for ``walk="mh"``, ``"srw"`` for the others).
    n_steps : int
        Number of moves.
    walk : {"mh", "srw", "nbrw", "iid"}, default="mh"
        ``"mh"``: Metropolis–Hastings walk to the uniform law; ``"srw"``: simple random walk
        (stationary law ∝ degree); ``"nbrw"``: non-backtracking walk (a uniform neighbour other
        than the previous node, back only from a leaf; node law ∝ degree); ``"iid"``: uniform
        node sampling, independent of the graph's edges.
    random_state : int, Generator or None
        Seed of the stream (one double per step, and one for ``X_0`` when ``start`` is None).
    start : int or None
        ``X_0``; uniform at random when None.
    return_path : bool, default=True
        Return the path.

    Returns
    -------
    visits : ndarray of shape (n_nodes,)
    path : ndarray of shape (n_steps + 1,) or None

    Examples
    --------
    >>> from optsolve.graphs import make_graph
    >>> from optsolve.randomwalk import random_walk, srrw_walk
    >>> g = make_graph("power_law", 50, random_state=0)
    >>> _, p_mh = random_walk(g, 100, "mh", random_state=1)
    >>> _, p_srrw = srrw_walk(g, 0.0, 100, "mh", random_state=1)
    >>> bool((p_mh == p_srrw).all())  # alpha = 0 is the base chain, step for step
    True
    """
    n_steps = check_steps(n_steps)
    if walk not in ("mh", "srw", "nbrw", "iid"):
        raise ValueError(f"walk must be one of ['mh', 'srw', 'nbrw', 'iid'], got {walk!r}")
    chain = as_chain(graph, "mh" if walk == "mh" else "srw")
    rng = as_generator(random_state)
    visits, path, _, _ = run_walk(chain, walk, n_steps, rng, start=start,
                                  return_path=return_path)
    return visits, path
