"""Block coordinate descent with forest-structured blocks solved by message passing.

Minimises ``f(x) = 1/2 x'Ax - b'x`` (``A`` sparse symmetric positive definite; ``b`` may hold
several right-hand sides as columns) by exact block updates ``x_B <- x_B - A_BB^{-1} g_B`` on
blocks ``B`` whose induced graph is a forest, so each update costs ``O(|B|)`` (Nutini, Laradji &
Schmidt 2022, Section 5). The gradient ``g = A x - b`` is updated on the rows a block touches,
so an iteration costs about the edges it touches; greedy scores live in an indexed max-heap.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..._optimize import History, ProgressReporter, call_callback
from ..._status import Status
from ..._validation import as_float_array
from .._result import EngineResult, to_optimize_result
from . import _kernels
from .blocks import check_partition, forest_partition, lattice_tree_partition, red_black_partition
from .message_passing import _raise_on_status, as_symmetric_csr

__all__ = ["SELECTIONS", "minimize_forest_bcd", "solve_forest"]

#: block selection rules (Section 5.3 of the paper)
SELECTIONS = ("greedy-tree", "random-tree", "tree-partition", "red-black")
#: greedy scores: GS uses ||g_i||, GSL ||g_i|| / sqrt(A_ii) (Section 3.2, L_i = A_ii)
SCORES = ("gsl", "gs")
#: iterations between exact recomputations of g = A x - b (bounds round-off drift of the
#: incremental updates; one refresh costs one sparse product)
DEFAULT_REFRESH_EVERY = 1000
#: ||g||^2 is updated incrementally (subtract old row norms, add new ones), which loses about
#: eps * ||g_ref||^2 per update to cancellation; it is recomputed exactly once it falls below
#: this fraction of its value at the last exact computation, so tight tolerances stay reachable
GSQ_RECOMPUTE_RATIO = 1e-4
#: iterations run inside one kernel call when no per-iteration Python work is needed
BATCH_SIZE = 256


def minimize_forest_bcd(
    A,
    b,
    *,
    x0=None,
    selection: str = "greedy-tree",
    tol: float = 1e-6,
    max_iter: int = 100_000,
    callback: Callable | None = None,
    random_state=None,
    record_history: bool = False,
    max_block_size: int | None = None,
    score: str = "gsl",
    partition=None,
    lattice_shape: tuple[int, int] | None = None,
    refresh_every: int = DEFAULT_REFRESH_EVERY,
    verbose: bool | int = False,
):
    """Minimise ``1/2 x'Ax - b'x`` by block coordinate descent over forest-structured blocks.

    Every iteration picks a block ``B`` whose subgraph (sparsity of ``A`` restricted to ``B``)
    is a forest and minimises exactly over ``x_B`` by message passing in ``O(|B|)``.

    Parameters
    ----------
    A : sparse matrix or ndarray of shape (n, n)
        Symmetric positive-definite matrix (e.g. a graph Laplacian restricted to the
        unlabelled nodes).
    b : ndarray of shape (n,) or (n, k)
        Linear term; ``k`` columns are ``k`` independent problems sharing ``A`` (classes).
    x0 : ndarray of the shape of ``b``, default=None
        Starting point (zeros when None). Not modified.
    selection : {'greedy-tree', 'random-tree', 'tree-partition', 'red-black'}
        ``'greedy-tree'``: grow a forest by adding nodes in decreasing ``score`` order whenever
        they keep it acyclic; ``'random-tree'``: the same in a random order; ``'tree-partition'``:
        cycle through a fixed partition into forests (the two combs of a lattice when
        ``lattice_shape`` is given, a greedy forest partition otherwise); ``'red-black'``: cycle
        through the colour classes of a colouring (independent sets).
    tol : float, default=1e-6
        Stop when ``||A x - b||_F <= tol * ||b||_F`` (``tol * ||A x0 - b||_F`` when ``b = 0``).
    max_iter : int, default=100000
        Maximum number of block updates.
    callback : callable, default=None
        ``callback(intermediate_result)`` after each block update with fields ``x``, ``fun``,
        ``nit``, ``grad_norm`` and ``block`` (the indices just updated); raise
        ``StopIteration`` to stop (``status = 99``).
    random_state : int, RandomState instance or None
        Seeds the random-tree order.
    record_history : bool, default=False
        Store per-iteration ``objective``, ``grad_norm`` and ``time`` in ``result.history``.
    max_block_size : int, default=None
        Largest block grown by the tree rules (unbounded when None). ``1`` turns greedy-tree into
        the single-coordinate GS/GSL rule and random-tree into uniform random coordinates.
    score : {'gsl', 'gs'}, default='gsl'
        Greedy score ``||g_i|| / sqrt(A_ii)`` (Gauss–Southwell–Lipschitz) or ``||g_i||``.
    partition : list of array-like, default=None
        Explicit partition into forests for ``'tree-partition'`` / ``'red-black'``; validated.
    lattice_shape : tuple of int, default=None
        ``(h, w)`` when ``A`` lives on a row-major ``h × w`` lattice: ``'tree-partition'`` then
        uses the paper's two-tree partition.
    refresh_every : int, default=1000
        Recompute ``g = A x - b`` exactly every this many iterations.
    verbose : bool or int, default=False
        Progress bar / log lines.

    Returns
    -------
    result : OptimizeResult
        ``x``, ``fun``, ``nit``, ``success``, ``status`` (0 converged, 1 ``max_iter`` reached,
        99 callback stop), ``message``, ``grad_norm``, ``n_block_updates``, ``n_blocks`` (size of
        the fixed partition, 0 for grown blocks), ``mean_block_size``, ``optimality``
        (``||Ax - b|| / ||b||``) and ``history`` when asked; built by the same code as
        :func:`optsolve.bcd.minimize_bcd`'s results (which returns these fields for
        ``update='message-passing'``).

    References
    ----------
    Nutini, Laradji & Schmidt, "Let's Make Block Coordinate Descent Converge Faster: Faster
    Greedy Rules, Message-Passing, Active-Set Complexity, and Superlinear Convergence",
    JMLR 23 (2022), Section 5.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd.forest import label_propagation_lattice, minimize_forest_bcd
    >>> A, b, _ = label_propagation_lattice((20, 20), n_labeled=20, random_state=0)
    >>> res = minimize_forest_bcd(A, b, selection="greedy-tree", tol=1e-8)
    >>> res.success, bool(np.allclose(A @ res.x, b, atol=1e-6))
    (True, True)
    """
    history = History(measure="grad_norm") if record_history else None
    out = solve_forest(A, b, x0=x0, selection=selection, tol=tol, max_iter=max_iter,
                       callback=callback, random_state=random_state, history=history,
                       max_block_size=max_block_size, score=score, partition=partition,
                       lattice_shape=lattice_shape, refresh_every=refresh_every,
                       verbose=verbose)
    return to_optimize_result(out, x=out.w, measure_name="||Ax - b|| / ||b||", tol=tol,
                              history=history, solver="minimize_forest_bcd", stacklevel=4)


def solve_forest(A, b, *, x0=None, selection="greedy-tree", tol=1e-6, max_iter=100_000,
                 callback=None, random_state=None, history=None, relative_history=False,
                 max_block_size=None, score="gsl", partition=None, lattice_shape=None,
                 refresh_every=DEFAULT_REFRESH_EVERY, verbose=False) -> EngineResult:
    """:func:`minimize_forest_bcd` as an engine: validates its arguments, runs, and returns
    the :class:`~optsolve.bcd._result.EngineResult` that ``minimize_forest_bcd`` and
    ``minimize_bcd(update='message-passing')`` turn into an ``OptimizeResult``.

    ``measure`` is ``||Ax - b|| / ||b||`` (``/ ||Ax0 - b||`` when ``b = 0``), compared with
    ``tol``; ``history`` (an :class:`optsolve._optimize.History` or None) records
    ``||Ax - b||``, or the relative measure when ``relative_history``.
    """
    M = as_symmetric_csr(A)
    n = M.shape[0]
    b_arr, one_d = _as_columns(b, n, "b")
    k = b_arr.shape[1]
    if x0 is None:
        x = np.zeros((n, k))
    else:
        x, _ = _as_columns(x0, n, "x0")
        if x.shape != b_arr.shape:
            raise ValueError(f"x0 must have the shape of b {np.shape(b)}, got {np.shape(x0)}")
        x = x.copy()
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {list(SELECTIONS)}, got {selection!r}")
    if score not in SCORES:
        raise ValueError(f"score must be one of {list(SCORES)}, got {score!r}")
    if not (isinstance(tol, (int, float)) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 0):
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if max_block_size is None:
        max_block = max(n, 1)
    elif isinstance(max_block_size, (int, np.integer)) and max_block_size >= 1:
        max_block = int(max_block_size)
    else:
        raise ValueError(f"max_block_size must be a positive integer or None, got "
                         f"{max_block_size!r}")
    if not (isinstance(refresh_every, (int, np.integer)) and refresh_every >= 1):
        raise ValueError(f"refresh_every must be a positive integer, got {refresh_every!r}")

    mode, blocks = _blocks_for(selection, M, partition, lattice_shape)
    part_ptr = np.zeros(len(blocks) + 1, np.int64)
    part_ptr[1:] = np.cumsum([blk.size for blk in blocks]) if blocks else []
    part_nodes = np.concatenate(blocks) if blocks else np.zeros(0, np.int64)
    if mode == _kernels.MODE_CYCLIC and len(blocks) == 0:
        part_ptr, part_nodes = np.zeros(2, np.int64), np.zeros(0, np.int64)
    diag = M.diagonal().copy()
    scale = 1.0 / np.sqrt(diag) if score == "gsl" else np.ones(n)
    factors = _factor_blocks(M, diag, part_ptr, part_nodes)

    rng = check_random_state(random_state)
    ws = _Workspace(n, k, int(rng.randint(1, np.iinfo(np.int32).max)))
    g = np.asarray(M @ x) - b_arr
    b_norm = float(np.linalg.norm(b_arr))
    ref = b_norm if b_norm > 0 else float(np.linalg.norm(g))
    threshold = tol * ref
    hist_scale = 1.0 / ref if (relative_history and ref > 0) else 1.0
    tol_sq = threshold * threshold

    gsq_ref = [0.0]

    def exact_state():
        """Recompute g, f and ||g||^2 from x (and the heap keys for greedy selection)."""
        g[...] = np.asarray(M @ x) - b_arr
        ws.fstate[0] = 0.5 * float(np.sum(x * (g - b_arr)))  # f = 1/2 x'(Ax - b) - 1/2 x'b
        ws.fstate[1] = float(np.sum(g * g))
        gsq_ref[0] = ws.fstate[1]
        if mode == _kernels.MODE_GREEDY and n:
            _kernels.gradient_scores(g, scale, ws.key)
            ws.istate[3] = _kernels.heap_build(ws.heap, ws.where, ws.key, n)

    exact_state()
    if history is not None:
        history.record(0, ws.fstate[0], hist_scale * np.sqrt(ws.fstate[1]))
    per_iteration = callback is not None or history is not None or bool(verbose)
    nit = 0
    since_refresh = 0
    status = Status.MAX_ITER
    block_sizes = 0
    stopped_by_callback = False
    with ProgressReporter(max_iter, "forest-bcd", verbose, "grad_norm") as progress:
        while True:
            if ws.fstate[1] <= tol_sq:
                exact_state()  # confirm on the exact gradient: incremental norms drift
                since_refresh = 0
                if ws.fstate[1] <= tol_sq:
                    status = Status.SUCCESS
                    break
            if nit >= max_iter or n == 0:
                break
            steps = min(max_iter - nit, refresh_every - since_refresh,
                        1 if per_iteration else BATCH_SIZE)
            done, m, solve_status = _kernels.forest_bcd_iterations(
                mode, steps, max_block, tol_sq, M.indptr, M.indices, M.data, diag, scale,
                part_ptr, part_nodes, *factors, x, g, ws.fstate, ws.istate, ws.rstate,
                ws.block, ws.pos, ws.uf, ws.mark, ws.touched, ws.popped, ws.perm,
                ws.heap, ws.where, ws.key,
                ws.order, ws.parent, ws.pweight, ws.pivot, ws.rhs, ws.delta,
                ws.fun_trace, ws.gsq_trace,
            )
            _raise_on_status(solve_status, "a selected block")
            nit += done
            since_refresh += done
            block_sizes += done * m if mode != _kernels.MODE_CYCLIC else 0
            if since_refresh >= refresh_every or ws.fstate[1] < GSQ_RECOMPUTE_RATIO * gsq_ref[0]:
                exact_state()
                since_refresh = 0
            if per_iteration and done:
                grad_norm = float(np.sqrt(ws.fstate[1]))
                if history is not None:
                    history.record(nit, ws.fstate[0], hist_scale * grad_norm)
                progress.update(nit, ws.fstate[0], grad_norm)
                if call_callback(callback, x=_shaped(x, one_d, copy=True), fun=float(ws.fstate[0]),
                                 nit=nit, grad_norm=grad_norm, block=ws.block[:m].copy()):
                    stopped_by_callback = True
                    status = Status.CALLBACK_STOP
                    break
    exact_state()
    grad_norm = float(np.sqrt(ws.fstate[1]))
    if stopped_by_callback:
        status = Status.CALLBACK_STOP
    if mode == _kernels.MODE_CYCLIC:
        mean_block = float(n / max(len(blocks), 1))
    else:
        mean_block = float(block_sizes / nit) if nit else 0.0
    extra: dict[str, Any] = {
        "grad_norm": grad_norm,
        "n_block_updates": nit,
        "n_blocks": len(blocks) if mode == _kernels.MODE_CYCLIC else 0,
        "mean_block_size": mean_block,
    }
    measure = grad_norm / ref if ref > 0 else (0.0 if grad_norm == 0 else np.inf)
    return EngineResult(w=_shaped(x, one_d), objective=float(ws.fstate[0]), measure=measure,
                        nit=nit, status=int(status), n_updates=nit, extra=extra)


class _Workspace:
    """Kernel workspaces, allocated once per solve (the kernels allocate nothing)."""

    def __init__(self, n: int, k: int, seed: int):
        self.fstate = np.zeros(2)
        self.istate = np.zeros(4, dtype=np.int64)
        # xorshift64 needs a non-zero state; spread the seed's bits over the word
        self.rstate = np.array([(seed * 0x9E3779B97F4A7C15) % 2**64 or 1], dtype=np.uint64)
        self.block = np.zeros(n, np.int64)
        self.pos = np.full(n, -1, np.int64)
        self.uf = np.full(n, -1, np.int64)
        self.mark = np.zeros(n, np.int64)
        self.touched = np.zeros(n, np.int64)
        self.popped = np.zeros(n, np.int64)
        self.perm = np.arange(n, dtype=np.int64)
        self.heap = np.zeros(n, np.int64)
        self.where = np.full(n, -1, np.int64)
        self.key = np.zeros(n)
        self.order = np.zeros(n, np.int64)
        self.parent = np.zeros(n, np.int64)
        self.pweight = np.zeros(n)
        self.pivot = np.zeros(n)
        self.rhs = np.zeros((n, k))
        self.delta = np.zeros((n, k))
        self.fun_trace = np.zeros(BATCH_SIZE)
        self.gsq_trace = np.zeros(BATCH_SIZE)


def _factor_blocks(M: sp.csr_matrix, diag: np.ndarray, part_ptr: np.ndarray,
                   part_nodes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Elimination order, parents, edge weights and pivots of every fixed block, computed once
    (the factor of a block depends on ``A`` only), concatenated like ``part_nodes``."""
    size = part_nodes.size
    order, parent = np.zeros(size, np.int64), np.zeros(size, np.int64)
    pweight, pivot = np.zeros(size), np.zeros(size)
    pos = np.full(M.shape[0], -1, np.int64)
    for lo, hi in itertools.pairwise(part_ptr):
        status = _kernels.forest_factor(
            M.indptr, M.indices, M.data, diag, part_nodes[lo:hi], hi - lo, pos, order[lo:hi],
            parent[lo:hi], pweight[lo:hi], pivot[lo:hi])
        _raise_on_status(status, "a block of the partition")
    return order, parent, pweight, pivot


def _blocks_for(selection: str, M: sp.csr_matrix, partition, lattice_shape):
    """Kernel mode and the fixed partition (empty for grown blocks)."""
    n = M.shape[0]
    if selection == "greedy-tree":
        return _kernels.MODE_GREEDY, []
    if selection == "random-tree":
        return _kernels.MODE_RANDOM, []
    if partition is not None:
        blocks = check_partition(M, partition)
        if selection == "red-black":
            for i, blk in enumerate(blocks):
                sub = M[blk][:, blk]
                if sub.nnz != blk.size:
                    raise ValueError(f"partition block {i} is not an independent set")
        return _kernels.MODE_CYCLIC, blocks
    if lattice_shape is not None:
        h, w = (int(s) for s in lattice_shape)
        if h * w != n:
            raise ValueError(f"lattice_shape {lattice_shape} does not match n = {n}")
    if selection == "tree-partition":
        blocks = (lattice_tree_partition(lattice_shape) if lattice_shape is not None
                  else forest_partition(M))
    else:
        blocks = red_black_partition(M)
    return _kernels.MODE_CYCLIC, blocks


def _as_columns(a, n: int, name: str) -> tuple[np.ndarray, bool]:
    arr = as_float_array(a, name)
    if arr.ndim not in (1, 2) or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) or ({n}, k), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    one_d = arr.ndim == 1
    return np.ascontiguousarray(arr[:, None] if one_d else arr), one_d


def _shaped(x: np.ndarray, one_d: bool, copy: bool = False) -> np.ndarray:
    out = x[:, 0] if one_d else x
    return out.copy() if copy or one_d else out
