"""DADAO on MPI: one process per node (or a block of nodes per process), Poisson clocks on the
wall clock, pairwise gossip by non-blocking point-to-point messages, no coordinator on the
data path.

Each rank hosts the nodes :func:`optsolve._mpi.node_owners` gives it and holds only their data
(:func:`optsolve._mpi.local_packed`) and their six vectors ``(x, x̃, y, ỹ, z, z̃)``. Simulated
time runs at ``time_scale`` units per wall-clock second, the same clock on every rank (started
by a barrier). A rank draws the events of its nodes from one merged Poisson clock: a local
gradient at each of its nodes at rate 1 and a communication on each edge ``(i, j)`` it owns
(``i < j``, ``i`` hosted here) at the edge's rate ``λ_ij`` — the rates the simulator uses
(:func:`optsolve.decentralized.rates.dadao_rates`). At an event, and whenever a message
arrives, the node concerned is first advanced to the current time by the exact ODE flow
(:func:`optsolve.decentralized._kernels._advance`, the simulator's spectral ``exp(Aτ)``); then

* gradient at ``i`` (Nabli & Oyallon 2023, Eq. (5)): the simulator's
  :func:`~optsolve.decentralized._kernels.gradient_jump`;
* communication on ``(i, j)`` (Eq. (6)): when ``j`` lives on the same rank the simulator's
  :func:`~optsolve.decentralized._kernels.gossip_jump` is applied at once. Otherwise its two
  halves are split: ``i``'s rank sends ``y_i + z_i`` to ``j``'s rank (one message); on arrival
  ``j`` computes ``m = (y_i + z_i) − (y_j + z_j)``, applies ``z_j += β m``, ``z̃_j += β̃ m``
  and sends ``m`` back (one message), and ``i`` applies ``z_i −= β m``, ``z̃_i −= β̃ m`` when
  it arrives (:func:`~optsolve.decentralized._kernels.gossip_half_jump` at each end).
  Both ends apply the same ``m``, so ``Σ z`` and ``Σ z̃`` are conserved exactly as in the simulator;
  the only difference from the simulated run is the message delay between the two halves of the jump
  (``time_scale`` × latency in simulated units), which leaves the fixed point — the optimum —
  unchanged. A node takes part in one exchange at a time, so that delayed jumps never overlap and
  pile up on a node: an edge event whose hosted end is mid-exchange waits until it is free, and a
  request reaching a node whose own request is in flight is answered right after that request's
  reply (``n_deferred``). Requests always go from the lower node index to the higher one (the edge
  ``(i, j)``, ``i < j``, is driven by ``i``), so these waits cannot form a cycle: no deadlock. No
  event is lost: DADAO's constants need the full communication rate (``χ₁χ₂ <= 1/2``); with fewer
  exchanges than its clocks ask for, the dynamics diverge.

A rank that was not scheduled for a while (its clock more than ``LAG_RESET`` simulated units
behind) restarts its clock at the current time rather than firing the overdue events in a
burst (``n_dropped``): an idle node does not compute, as on a real machine.

Monitoring (not counted as communication, off the data path): every ``monitor_interval``
seconds each rank sends rank 0 its counters and its nodes' current ``x``; rank 0 assembles a
snapshot ``X`` and sends it back in its heartbeat; every rank returns ``Σ_{j hosted} ∇f_j`` at
the snapshot's rows and at their mean; rank 0 sums them into ``∇F(x_i)`` and applies the
simulator's stopping rule ``max_i ‖∇F(x_i)‖ / ‖∇F(x⁰)‖ <= tol``. After the stop no rank starts
an exchange; the ranks answer the exchanges in flight, meet at a non-blocking barrier, and send
their nodes' final state to rank 0. A rank that dies ends the run with
:class:`optsolve._mpi.MPIRunError` (see :mod:`optsolve._mpi`).

Run from Python with :func:`run_mpi`; ``python -m optsolve.decentralized.mpi --payload DIR`` is
the worker entry :func:`run_mpi` starts under ``mpiexec``.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from .. import _mpi
from ..problems import _partitioned_kernels as _pk
from . import _kernels

# the workers import this module: the launching side's dependencies (scikit-learn through the
# result plumbing, cvxpy for SDP rates) are imported inside run_mpi

__all__ = ["run_mpi"]

#: tags of the gossip halves (engine tags stay below optsolve._mpi.TAG_RESERVED)
TAG_REQUEST = 21
TAG_REPLY = 22
#: simulated DADAO events per wall-clock second on the busiest rank when time_scale is None
EVENTS_PER_SECOND = 400.0
#: monitoring evaluates ∇F at the nodes' mean and bounds ‖∇F(x_i)‖ by
#: ‖∇F(x̄)‖ + L_F ‖x_i − x̄‖; up to this many nodes, a snapshot whose mean is within FULL_CHECK
#: times tol but whose bound is not conclusive evaluates ∇F at every node exactly
FULL_MONITOR_MAX_NODES = 64
FULL_CHECK = 2.0
#: share of its CPU a rank may spend on DADAO's events when time_scale is chosen automatically
#: (the rest absorbs message handling, monitoring and the scheduling jitter of shared cores)
CPU_SHARE = 0.25
#: per-event cost besides the gradient (ODE advance, Python dispatch, a message), seconds
EVENT_OVERHEAD = 5e-5

# report layout (floats) of each rank: counters, then the snapshot's partial sums, then x
R_EVENTS, R_GRADS, R_COMMS, R_MSGS, R_LAG, R_SIM, R_SNAP, R_VALUE, R_DEFERRED, R_DROPPED = \
    range(10)
R_HEAD = 10
#: a rank whose clock falls this far behind (simulated time; the process was not scheduled)
#: restarts it at the current time instead of firing the overdue events in a burst: a node
#: that does not run does not compute, as on a real machine
LAG_RESET = 1.0


def run_mpi(problem, graph, solver: str = "dadao", n_procs: int | None = None,
            tol: float = 1e-6, max_time: float | None = None, random_state=None, *,
            time_scale: float | None = None, max_events: int | None = None,
            rates="uniform", rate_scale: float = 1.0, batch_size: int | None = None,
            x0=None, monitor_interval: float = 0.05, record_history: bool = True,
            timeout: float | None = None, liveness_timeout: float = 10.0):
    """Run DADAO with one MPI process per node (or a block of nodes per process).

    Launches ``mpiexec -n n_procs python -m optsolve.decentralized.mpi``; each process owns its
    nodes' data and state, runs their Poisson clocks on the wall clock and gossips with the
    processes of their neighbours by non-blocking point-to-point messages (module docstring).

    Parameters
    ----------
    problem : DecentralizedProblem
        As :func:`optsolve.decentralized.solve`.
    graph : sparse matrix, array-like or networkx.Graph
        Fixed undirected connected graph (time-varying graphs are simulator-only).
    solver : {'dadao'}
        The asynchronous method that runs on MPI.
    n_procs : int or None
        MPI processes, at most the number of nodes; None for one per node up to the CPU
        count. Nodes are split in contiguous blocks (:func:`optsolve._mpi.node_owners`).
    tol : float, default=1e-6
        Stop when ``max_i ‖∇F(x_i)‖ / ‖∇F(x⁰)‖ <= tol`` (monitored by rank 0, see above).
    max_time : float or None
        Wall-clock limit of the run in seconds (status 6 when reached).
    random_state : None, int or Generator
        Seeds every rank's clocks and mini-batches (the run itself also depends on the
        machine's timing, so two runs are not identical).
    time_scale : float or None
        Simulated time units per wall-clock second; None measures a local gradient of every
        node and picks it so that each rank spends about ``CPU_SHARE`` of its share of the
        cores on its events (at most ``EVENTS_PER_SECOND`` events per second per rank):
        DADAO needs its full communication rate, which a rank that cannot keep up loses.
    max_events : int or None
        Cap on the events of all ranks (status 7); when neither ``max_time`` nor
        ``max_events`` is given, the simulator's default cap from the theoretical rate.
    rates, rate_scale, batch_size, x0
        As DADAO's options in :func:`~optsolve.decentralized.solve`.
    monitor_interval : float, default=0.05
        Wall-clock seconds between two monitoring reports.
    record_history : bool, default=True
    timeout : float or None
        Hard wall-clock limit of the whole launch (None: ``max_time`` or the expected duration,
        plus 120 s); past it every process is killed and ``MPIRunError`` raised.
    liveness_timeout : float, default=10.0
        Seconds of silence after which a process is declared dead.

    Returns
    -------
    OptimizeResult
        The fields of :func:`~optsolve.decentralized.solve` — ``x`` (n_nodes, d), ``x_mean``,
        ``fun``, ``grad_rel``, ``consensus_error``, ``n_gradients``, ``n_communications``,
        ``nit`` (events), ``history``, ``status``, ``message``, ``chi1``, ``chi2``, ``rates``
        — with ``time`` in wall-clock seconds, plus ``sim_time`` (the simulated clock),
        ``time_scale``, ``n_procs``, ``owners``, ``n_messages`` (point-to-point messages on the
        data path: two per exchange between processes, none within one), ``max_lag`` (the
        largest delay, in simulated time, between an event's due time and its execution) and
        ``n_deferred`` (requests answered after the responder's own exchange), ``n_dropped``
        (events lost while a process was not scheduled) and ``launch_time``. ``grad_rel`` and
        ``consensus_error`` are evaluated on the final
        states; ``history`` holds rank 0's snapshots (``time`` wall seconds, ``sim_time``...).

    Raises
    ------
    optsolve._mpi.MPIRunError
        A ``RuntimeError`` when a process died, went silent or the launch timed out; it names
        the dead rank when known.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.decentralized import DecentralizedProblem, partition_data
    >>> from optsolve.decentralized.mpi import run_mpi
    >>> from optsolve.graphs import cycle_graph
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((80, 3)), rng.standard_normal(80)
    >>> prob = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), alpha=1.0)
    >>> res = run_mpi(prob, cycle_graph(4), n_procs=4, tol=1e-5)  # doctest: +SKIP
    >>> bool(np.allclose(res.x, prob.solution(), atol=1e-3))  # doctest: +SKIP
    True
    """
    from .solver import positive_real

    t_launch = time.perf_counter()
    if timeout is not None:
        timeout = positive_real(timeout, "timeout")
    common, per_rank, ctx = _prepare(
        problem, graph, solver, n_procs, tol, max_time, random_state, time_scale=time_scale,
        max_events=max_events, rates=rates, rate_scale=rate_scale, batch_size=batch_size, x0=x0,
        monitor_interval=monitor_interval, record_history=record_history,
        liveness_timeout=liveness_timeout)
    if ctx["g0"] == 0.0:
        out = dict(X=ctx["X0"], status=0, detail="the gradient vanishes at the start", nit=0,
                   n_gradients=0, n_communications=0, n_messages=0, time=0.0, sim_time=0.0,
                   max_lag=0.0, history=None)
    else:
        timeout = ctx["expected_s"] + 120.0 if timeout is None else timeout
        out = _mpi.launch("optsolve.decentralized.mpi", common, per_rank, timeout=timeout)
    return _finish(problem, out, ctx, t_launch)


def _prepare(problem, graph, solver, n_procs, tol, max_time, random_state, *, time_scale,
             max_events, rates, rate_scale, batch_size, x0, monitor_interval, record_history,
             liveness_timeout):
    """Validate run_mpi's arguments; build the shared settings, each rank's part (its nodes'
    rows and starting points only) and what :func:`_finish` needs."""
    from .dadao import _theory_time, dadao_constants, ode_matrix, ode_modes
    from .rates import dadao_rates
    from .solver import (
        _check_max_time,
        _check_problem,
        _check_tol,
        _check_x0,
        positive_int_or_none,
        positive_real,
        rates_option,
    )
    from .topology import as_graph_info

    if not isinstance(solver, str) or solver.lower() != "dadao":
        raise ValueError(f"solver must be 'dadao' on MPI (the asynchronous method), got "
                         f"{solver!r}; the synchronous baselines run in solve()")
    _check_problem(problem)
    tol = _check_tol(tol)
    max_time = _check_max_time(max_time)
    max_events = positive_int_or_none(max_events, "max_events")
    batch_size = positive_int_or_none(batch_size, "batch_size")
    rate_scale = positive_real(rate_scale, "rate_scale")
    monitor_interval = positive_real(monitor_interval, "monitor_interval")
    liveness_timeout = positive_real(liveness_timeout, "liveness_timeout")
    rates = rates_option(rates, "rates")
    if not problem.mu > 0:
        raise ValueError(f"DADAO needs strongly convex local functions (mu > 0), but the problem "
                         f"has mu = {problem.mu:g}: use alpha > 0")
    n, d = problem.n_nodes, problem.n_features
    info = as_graph_info(graph, n)
    if info.is_time_varying:
        raise ValueError("run_mpi runs on a fixed graph; time-varying graphs are simulated by "
                         "solve()")
    seg = info.segments[0]
    edge_rates, chi1, chi2 = dadao_rates(info, rates, rate_scale)
    lam = np.asarray(edge_rates[0], dtype=np.float64)
    c = dadao_constants(problem.L, problem.mu, chi1)
    modes = ode_modes(ode_matrix(c))
    X0 = _check_x0(x0, n, d)
    P = _mpi.resolve_n_procs(n_procs, n)
    owners = _mpi.node_owners(n, P)
    eu, ev = np.asarray(seg.rows, dtype=np.int64), np.asarray(seg.cols, dtype=np.int64)
    # the busiest rank's event rate: its gradients plus the edges it owns
    load = np.bincount(owners, minlength=P).astype(float)
    np.add.at(load, owners[eu], lam)
    if time_scale is not None:
        time_scale = positive_real(time_scale, "time_scale")
    if max_time is None and max_events is None:
        total_rate = n + float(lam.sum())
        max_events = int(min(_theory_time(problem, tol) * total_rate, 2**62))
    rows0 = range(n) if np.any(X0 != X0[0]) else [0]
    g0 = float(np.linalg.norm(problem.grads(X0[rows0]), axis=1).max())
    rng = np.random.default_rng(random_state)
    seeds = rng.integers(2**63 - 1, size=P)
    common = dict(
        n_procs=P, liveness_timeout=liveness_timeout, n=n, d=d, owners=owners, edge_u=eu,
        edge_v=ev, rates=lam, modes=tuple(modes), nu=c.NU, gamma=c.GAMMA, gamma_t=c.GAMMA_T,
        delta_sum=c.DELTA + c.DELTA_T, beta=c.BETA, beta_t=c.BETA_T, batch_size=batch_size or 0,
        time_scale=time_scale, tol=tol, max_time=math.inf if max_time is None else max_time,
        max_events=math.inf if max_events is None else max_events, g0=g0,
        L_F=float(np.sum(problem.L_local)), monitor_interval=monitor_interval,
        full_monitor=n <= FULL_MONITOR_MAX_NODES, record_history=bool(record_history),
    )
    per_rank = []
    for r in range(P):
        mine = np.flatnonzero(owners == r)
        per_rank.append(dict(nodes=mine, x0=X0[mine], seed=int(seeds[r]),
                             packed=_mpi.local_packed(problem.packed, mine)))
    _warm_up(common, per_rank[0])
    if time_scale is None:
        time_scale = _auto_time_scale(common, per_rank, load)
    common["time_scale"] = time_scale
    expected = 2.0 * (max_time if max_time is not None
                      else max_events / (n + float(lam.sum())) / time_scale)
    ctx = dict(g0=g0, X0=X0, chi1=chi1, chi2=chi2, rates=lam, time_scale=time_scale, n_procs=P,
               owners=owners, record_history=bool(record_history), expected_s=expected)
    return common, per_rank, ctx


def _finish(problem, out, ctx, t_launch):
    """The OptimizeResult of a run from rank 0's record (final measures on the final states)."""
    from .._optimize import make_result
    from .._status import Status, termination_message, warn_status

    g0 = ctx["g0"]
    X = out["X"]
    status = Status(out["status"])
    detail = out["detail"]
    xbar = X.mean(axis=0)
    finite = bool(np.all(np.isfinite(X)))
    if finite:
        grad_rel = float(np.linalg.norm(problem.grads(X), axis=1).max()) / g0 if g0 else 0.0
        consensus = float(np.sqrt(np.mean(np.sum((X - xbar) ** 2, axis=1))))
        fun = float(problem.value(xbar))
    else:
        grad_rel = consensus = fun = float("nan")
        status, detail = Status.NON_FINITE, detail or "a node's state is not finite"
    history = out["history"] if ctx["record_history"] else None
    if history is not None and g0:
        # as the simulator's, the history starts with the initial point (t = 0, grad_rel = 1)
        X0 = ctx["X0"]
        x0bar = X0.mean(axis=0)
        start = dict(time=0.0, sim_time=0.0, nit=0, n_gradients=0, n_communications=0,
                     grad_rel=1.0, grad_rel_mean=float(np.linalg.norm(problem.grad(x0bar))) / g0,
                     consensus_error=float(np.sqrt(np.mean(np.sum((X0 - x0bar) ** 2, axis=1)))),
                     objective=float(problem.value(x0bar)))
        counts = ("nit", "n_gradients", "n_communications")
        history = {k: np.r_[start[k], v].astype(np.int64 if k in counts else np.float64)
                   for k, v in history.items()}
    if status != Status.SUCCESS:
        warn_status("dadao (mpi)", status, detail, stacklevel=4)
    return make_result(
        X, fun, success=status == Status.SUCCESS, status=int(status),
        message=termination_message(status, detail), nit=int(out["nit"]), x_mean=xbar,
        grad_rel=grad_rel, consensus_error=consensus, n_gradients=int(out["n_gradients"]),
        n_communications=int(out["n_communications"]), time=float(out["time"]),
        history=history, solver="dadao",
        chi1=ctx["chi1"], chi2=ctx["chi2"], rates=ctx["rates"],
        sim_time=float(out["sim_time"]), time_scale=ctx["time_scale"],
        n_procs=ctx["n_procs"], owners=ctx["owners"], n_messages=int(out["n_messages"]),
        max_lag=float(out["max_lag"]), n_deferred=int(out.get("n_deferred", 0)),
        n_dropped=int(out.get("n_dropped", 0)), launch_time=time.perf_counter() - t_launch,
    )


# --------------------------------------------------------------------------------------------
# worker
# --------------------------------------------------------------------------------------------


class _Node:
    """The nodes one rank hosts: their states, clocks and data, and DADAO's jumps."""

    def __init__(self, c: dict, loc: dict):
        self.c = c
        self.nodes = np.asarray(loc["nodes"], dtype=np.int64)
        self.local = {int(g): k for k, g in enumerate(self.nodes)}
        n_own, d = self.nodes.size, c["d"]
        self.S = np.zeros((n_own, 6, d))
        self.S[:, 0] = loc["x0"]  # x = x̃ = x⁰, the other variables start at 0
        self.S[:, 1] = loc["x0"]
        self.t_last = np.zeros(n_own)
        self.E = np.empty((6, 6))
        self.modes = tuple(np.ascontiguousarray(m) for m in c["modes"])
        pk = loc["packed"]
        self.data = (pk["loss_code"], pk["is_sparse"], pk["X"], pk["indptr"], pk["indices"],
                     pk["data"], pk["y"])
        self.offsets = pk["offsets"]
        self.inv_n, self.reg = pk["inv_n_total"], pk["reg"]
        self.center = pk["center"]
        self.g = np.empty(d)
        self.rows = np.empty(max(c["batch_size"], 1), dtype=np.int64)

    def advance(self, k: int, t: float) -> None:
        """Node ``k`` (local index) follows the ODE exactly up to simulated time ``t``."""
        if t > self.t_last[k]:
            _kernels._advance(self.S, self.t_last, k, t, *self.modes, self.E)

    def gradient(self, k: int, rng: np.random.Generator) -> None:
        """Eq. (5) at node ``k`` (full local gradient, or an unbiased mini-batch)."""
        c, g_id = self.c, int(self.nodes[k])
        Si = self.S[k]
        start, stop = self.offsets[g_id], self.offsets[g_id + 1]
        B = c["batch_size"]
        if B > 0:
            m = stop - start
            self.rows[:B] = start + np.minimum((rng.random(B) * m).astype(np.int64), m - 1)
            _pk.batch_grad_into(*self.data, self.rows[:B], m / B, Si[0], self.inv_n, self.reg,
                                self.g, self.center)
        else:
            _pk.local_grad_into(*self.data, start, stop, Si[0], self.inv_n, self.reg, self.g,
                                self.center)
        _kernels.gradient_jump(Si, self.g, c["nu"], c["gamma"], c["gamma_t"], c["delta_sum"])

    def gossip_value(self, k: int) -> np.ndarray:
        """``y + z`` of node ``k``: what it sends in Eq. (6)."""
        out = np.empty(self.S.shape[2])
        _kernels.gossip_message(self.S[k], out)
        return out

    def jump(self, k: int, m: np.ndarray, sign: float) -> None:
        """Eq. (6) at one end: ``z += sign β m``, ``z̃ += sign β̃ m``."""
        _kernels.gossip_half_jump(self.S[k], m, sign, self.c["beta"], self.c["beta_t"])

    def gossip(self, ku: int, kv: int) -> None:
        """Eq. (6) on an edge whose two ends are hosted here, as in the simulator."""
        _kernels.gossip_jump(self.S[ku], self.S[kv], self.c["beta"], self.c["beta_t"])

    def positions(self, t: float) -> np.ndarray:
        """``x_i(t)`` of the hosted nodes, the states untouched."""
        out = np.empty((self.nodes.size, self.S.shape[2]))
        _kernels.positions_at(self.S, self.t_last, t, *self.modes, out)
        return out

    def partial_sums(self, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """``Σ_{j hosted} ∇f_j`` at each row of ``rows`` and ``Σ_j f_j`` at the last row."""
        G = np.zeros_like(rows)
        buf = np.empty(rows.shape[1])
        value = 0.0
        for g_id in self.nodes:
            s, e = self.offsets[g_id], self.offsets[g_id + 1]
            for r in range(rows.shape[0]):
                _pk.local_grad_into(*self.data, s, e, rows[r], self.inv_n, self.reg, buf,
                                    self.center)
                G[r] += buf
            value += _pk.local_value(*self.data, s, e, rows[-1], self.inv_n, self.reg,
                                     self.center)
        return G, float(value)


def _auto_time_scale(common: dict, per_rank: list, load: np.ndarray) -> float:
    """Simulated time units per second such that every rank keeps up with its events.

    Times one local gradient of every node here (the workers' code, warmed up), adds a fixed
    per-event overhead, and gives each rank ``CPU_SHARE`` of its share of the cores; never
    more than ``EVENTS_PER_SECOND`` events per second on the busiest rank. A rank that cannot
    keep up fires fewer gradients and delays its exchanges, and DADAO needs its full
    communication rate, so the choice errs on the slow side.
    """
    rng = np.random.default_rng(0)
    cost = np.zeros(len(per_rank))  # CPU seconds per simulated time unit
    for r, local in enumerate(per_rank):
        node = _Node(common, local)
        for k in range(node.nodes.size):
            t0 = time.perf_counter()
            node.gradient(k, rng)
            cost[r] += time.perf_counter() - t0  # one gradient per node per time unit
        cost[r] += EVENT_OVERHEAD * load[r]
    share = min(1.0, (os.cpu_count() or 1) / len(per_rank))
    return float(min(EVENTS_PER_SECOND / load.max(), CPU_SHARE * share / cost.max()))


def _warm_up(common: dict, local: dict) -> None:
    """Make every kernel the workers call compile here, once, into numba's cache (with the
    workers' argument types), instead of in every worker at the same time."""
    node = _Node(common, local)
    node.advance(0, 1.0)
    node.gradient(0, np.random.default_rng(0))
    node.jump(0, node.gossip_value(0), 1.0)
    node.gossip(0, 0)
    node.positions(1.0)
    node.partial_sums(node.S[:1, 0].copy())


def _worker(w: _mpi.Worker):
    """Body of one rank (see the module docstring)."""
    from mpi4py import MPI

    c = w.common
    n, d, owners = c["n"], c["d"], c["owners"]
    node = _Node(c, w.local)
    n_own = node.nodes.size
    eu, ev, lam = c["edge_u"], c["edge_v"], c["rates"]
    mine_e = np.flatnonzero(owners[eu] == w.rank)  # edges whose clock this rank runs
    cum = np.cumsum(np.r_[np.ones(n_own), lam[mine_e]])
    rate = float(cum[-1])
    rng = np.random.default_rng(w.local["seed"])
    ts = c["time_scale"]
    n_own_max = int(np.bincount(owners).max())
    n_eval = n + 1 if c["full_monitor"] else 1
    size = R_HEAD + n_eval * d + n_own_max * d
    monitor = _mpi.Monitor(w, size, period=c["monitor_interval"], control_size=2 + n * d)
    counters = np.zeros(R_HEAD)  # events, gradients, communications, messages, lag, time
    snap_done = 0
    G_part = np.zeros((n_eval, d))
    value_part = 0.0
    sends = []
    outstanding = 0
    busy = np.zeros(n_own, dtype=bool)  # hosted node waiting for the other half of a jump
    pending = np.zeros(eu.size, dtype=np.int64)  # edge events not yet exchanged
    deferred = [[] for _ in range(n_own)]  # requests waiting for the node's own exchange
    req_buf = np.empty(2 + d)  # [edge, flag, vector]

    def send(buf, dest, tag):
        nonlocal sends
        sends.append((w.comm.Isend(buf, dest=dest, tag=tag), buf))
        counters[R_MSGS] += 1
        if len(sends) > 64:
            sends = [(r, b) for r, b in sends if not r.Test()]

    def serve(now_sim):
        """Answer the gossip requests and apply the replies that arrived."""
        nonlocal outstanding
        status = MPI.Status()
        for tag in (TAG_REQUEST, TAG_REPLY):
            while w.comm.Iprobe(source=MPI.ANY_SOURCE, tag=tag, status=status):
                src = status.Get_source()
                w.comm.Recv(req_buf, source=src, tag=tag)
                e = int(req_buf[0])
                if tag == TAG_REQUEST:  # we host v = edge_v[e]
                    k = node.local[int(ev[e])]
                    if busy[k]:  # v's own exchange is in flight: answer when it is back
                        deferred[k].append((src, e, req_buf[2:].copy()))
                        counters[R_DEFERRED] += 1
                    else:
                        respond(k, src, e, req_buf[2:], now_sim)
                else:  # our exchange on edge e comes back: the same m at u = edge_u[e]
                    k = node.local[int(eu[e])]
                    busy[k] = False
                    outstanding -= 1
                    node.advance(k, now_sim)
                    node.jump(k, req_buf[2:], -1.0)
                    counters[R_COMMS] += 1
                    for src_k, e_k, value in deferred[k]:
                        respond(k, src_k, e_k, value, now_sim)
                    deferred[k].clear()

    def respond(k, src, e, value, now_sim):
        """The second half of an exchange at hosted node k: jump, and send m back."""
        node.advance(k, now_sim)
        m = value - node.gossip_value(k)
        node.jump(k, m, +1.0)
        send(np.r_[float(e), 1.0, m], src, TAG_REPLY)

    def start_exchanges(now_sim):
        """Start the pending exchanges whose hosted end is free (one per edge at a time)."""
        nonlocal outstanding
        for e in mine_e[pending[mine_e] > 0]:
            ku = node.local[int(eu[e])]
            kv = node.local.get(int(ev[e]))
            if busy[ku] or (kv is not None and busy[kv]):
                continue  # an end is mid-exchange: delayed jumps never overlap on a node
            pending[e] -= 1
            node.advance(ku, now_sim)
            if kv is not None:  # both ends here: the jump at once, as in the simulator
                node.advance(kv, now_sim)
                node.gossip(ku, kv)
                counters[R_COMMS] += 1
            else:
                send(np.r_[float(e), 0.0, node.gossip_value(ku)], int(owners[ev[e]]),
                     TAG_REQUEST)
                busy[ku] = True
                outstanding += 1

    def report():
        out = np.zeros(size)
        out[:R_HEAD] = counters
        out[R_SIM] = sim_now()
        out[R_SNAP] = snap_done
        out[R_VALUE] = value_part
        out[R_HEAD:R_HEAD + n_eval * d] = G_part.ravel()
        out[R_HEAD + n_eval * d:R_HEAD + (n_eval + n_own) * d] = \
            node.positions(sim_now()).ravel()
        return out

    # rank 0's side of the monitoring: snapshots, measures, history, stopping rule
    snap = {"id": 0, "evaluated": True, "X": None, "full": False}
    history = {k: [] for k in ("time", "sim_time", "nit", "n_gradients", "n_communications",
                               "grad_rel", "grad_rel_mean", "consensus_error", "objective")}
    decision = None  # (status, detail) once rank 0 decided to stop
    own_rows = [np.flatnonzero(owners == r) for r in range(w.size)]

    def root_check(wall):
        """Measure the published snapshot once every rank returned its share; apply the
        stopping rule; publish the next snapshot from the latest positions."""
        nonlocal decision
        V = monitor.values
        totals = V[:, :R_HEAD].sum(axis=0)
        if not snap["evaluated"] and np.all(V[:, R_SNAP] == snap["id"]):
            snap["evaluated"] = True
            Xs = snap["X"]
            G = V[:, R_HEAD:R_HEAD + n_eval * d].reshape(w.size, n_eval, d).sum(axis=0)
            xbar = Xs.mean(axis=0)
            dev = np.linalg.norm(Xs - xbar, axis=1)
            g_bar = float(np.linalg.norm(G[-1])) / c["g0"]
            slack = c["L_F"] * float(dev.max()) / c["g0"]
            if snap["full"]:
                grad_rel = float(np.linalg.norm(G[:-1], axis=1).max()) / c["g0"]
            else:  # certified upper bound: |‖∇F(x_i)‖ − ‖∇F(x̄)‖| <= L_F ‖x_i − x̄‖
                grad_rel = g_bar + slack
            # the next snapshot evaluates every node only when that can decide the stop: the
            # mean is near tol but the bound is not conclusive (n+1 gradients per f_j instead
            # of one, so the monitor never costs more than the run)
            snap["next_full"] = bool(c["full_monitor"] and g_bar <= FULL_CHECK * c["tol"]
                                     < g_bar + slack)
            rec = dict(time=wall, sim_time=float(V[:, R_SIM].min()), nit=totals[R_EVENTS],
                       n_gradients=totals[R_GRADS], n_communications=totals[R_COMMS],
                       grad_rel=grad_rel, grad_rel_mean=g_bar,
                       consensus_error=float(np.sqrt(np.mean(dev**2))),
                       objective=float(V[:, R_VALUE].sum()))
            if c["record_history"]:
                for k, v in rec.items():
                    history[k].append(v)
            if not np.all(np.isfinite(Xs)) or not math.isfinite(grad_rel):
                decision = (5, f"at {wall:.3g} s")  # Status.NON_FINITE
            elif grad_rel <= c["tol"]:
                decision = (0, None)  # Status.SUCCESS
        if decision is None and wall >= c["max_time"]:
            decision = (6, f"max_time={c['max_time']:g} s")  # Status.MAX_TIME
        if decision is None and totals[R_EVENTS] >= c["max_events"]:
            decision = (7, f"max_events={c['max_events']:g}")  # Status.MAX_EVENTS
        if snap["evaluated"] and monitor.reported.all():
            Xs = np.empty((n, d))
            for r in range(w.size):
                k = own_rows[r].size
                Xs[own_rows[r]] = V[r, R_HEAD + n_eval * d:R_HEAD + (n_eval + k) * d] \
                    .reshape(k, d)
            full = snap.pop("next_full", False)
            snap.update(id=snap["id"] + 1, evaluated=False, X=Xs, full=full)
            monitor.control[1] = snap["id"]
            monitor.control[2] = float(full)
            monitor.control[3:] = Xs.ravel()

    def evaluate_snapshot():
        """This rank's share of the latest snapshot rank 0 published."""
        nonlocal snap_done, G_part, value_part
        sid = int(monitor.control[1])
        if sid > snap_done:
            Xs = monitor.control[3:].reshape(n, d)
            G_part = np.zeros((n_eval, d))
            if monitor.control[2] == 1.0:  # every node and the mean
                G_part[:], value_part = node.partial_sums(np.vstack([Xs, Xs.mean(axis=0)]))
            else:  # the mean only
                G_part[-1:], value_part = node.partial_sums(Xs.mean(axis=0)[None])
            snap_done = sid

    # warm the kernels (numba's cache: a load, not a compilation) before the clocks start
    node.positions(0.0)
    node.advance(0, 0.0)
    w.barrier(what="the start barrier", timeout=max(60.0, 4 * w.liveness_timeout))
    t0 = time.perf_counter()

    def sim_now():
        return (time.perf_counter() - t0) * ts

    t_next = rng.exponential(1.0 / rate)
    while True:
        now = sim_now()
        serve(now)
        if now - t_next > LAG_RESET:
            # the process was not running: its gradient clocks restart now (those events are
            # lost, not bunched); its edge events are all kept, as pending exchanges
            while t_next < now:
                a = int(np.searchsorted(cum, rng.random() * rate, side="right"))
                if a < n_own:
                    counters[R_DROPPED] += 1
                else:
                    pending[int(mine_e[min(a - n_own, mine_e.size - 1)])] += 1
                    counters[R_EVENTS] += 1
                t_next += rng.exponential(1.0 / rate)
            counters[R_LAG] = max(counters[R_LAG], LAG_RESET)
        while t_next <= now:
            w.tick()
            counters[R_LAG] = max(counters[R_LAG], now - t_next)
            counters[R_EVENTS] += 1
            u = rng.random() * rate
            a = int(np.searchsorted(cum, u, side="right"))
            if a < n_own:  # a gradient at hosted node a
                node.advance(a, now)
                node.gradient(a, rng)
                counters[R_GRADS] += 1
            else:  # an exchange on an edge this rank owns: started as soon as its ends are free
                pending[int(mine_e[min(a - n_own, mine_e.size - 1)])] += 1
            t_next += rng.exponential(1.0 / rate)
        start_exchanges(now)
        wall = time.perf_counter() - t0
        if w.rank == 0:
            root_check(wall)
        evaluate_snapshot()
        cmd = monitor.step(report, stop=decision is not None)
        if cmd == _mpi.CMD_STOP:
            break
        sleep = (t_next - sim_now()) / ts
        time.sleep(min(max(sleep, 0.0), w.poll_interval * 5) if sleep > 0 else 0.0)
    wall = time.perf_counter() - t0
    # stop: answer the exchanges in flight, then meet; no new exchange starts
    while outstanding > 0:
        serve(sim_now())
        if w.rank == 0:
            monitor.drain()
        if time.perf_counter() - t0 - wall > 2 * w.liveness_timeout:
            raise _mpi.PeerFailure("a peer did not answer the exchanges in flight at the stop")
        time.sleep(w.poll_interval)
    barrier = w.comm.Ibarrier()

    def serve_stop():
        serve(sim_now())
        monitor.drain()

    w.wait(barrier, what="the stop barrier", serve=serve_stop)
    for r, _ in sends:
        w.wait(r, what="a gossip message", serve=serve_stop)
    monitor.close()
    w.barrier(what="the final barrier", serve=monitor.drain)
    t_end = sim_now()
    final = dict(nodes=node.nodes, X=node.positions(t_end), counters=counters.copy(),
                 sim_time=t_end)
    gathered = w.gather_object(final)
    if w.rank != 0:
        return None
    X = np.empty((n, d))
    tot = np.zeros(R_HEAD)
    for g in gathered:
        X[g["nodes"]] = g["X"]
        tot += g["counters"]
    status, detail = decision
    return dict(
        X=X, status=status, detail=detail, nit=int(tot[R_EVENTS]),
        n_gradients=int(tot[R_GRADS]), n_communications=int(tot[R_COMMS]),
        n_messages=int(tot[R_MSGS]), time=wall, sim_time=float(t_end),
        max_lag=float(max(g["counters"][R_LAG] for g in gathered)),
        n_deferred=int(tot[R_DEFERRED]), n_dropped=int(tot[R_DROPPED]),
        history={k: np.asarray(v) for k, v in history.items()} if c["record_history"] else None,
    )


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    """``mpiexec -n N python -m optsolve.decentralized.mpi [options]``.

    Started by :func:`run_mpi` with ``--payload DIR``; started by hand, rank 0 builds the
    problem from the options (``--help``), every rank runs its part, and rank 0 prints a
    summary (and writes ``--out``).
    """
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--payload" in argv:
        return _mpi.worker_main(_worker, argv)
    parser = argparse.ArgumentParser(
        prog="mpiexec -n N python -m optsolve.decentralized.mpi",
        description="DADAO with one MPI process per node (or a block of nodes per process).")
    _mpi.add_problem_arguments(parser)
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--max-time", type=float, default=60.0, help="wall-clock seconds")
    parser.add_argument("--time-scale", type=float, default=None,
                        help="simulated time units per second (default: automatic)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--rates", default="uniform", choices=("uniform", "sdp"))
    parser.add_argument("--liveness-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)

    def prepare(n_procs):
        problem, graph = _mpi.problem_from_arguments(args, n_procs)
        common, per_rank, ctx = _prepare(
            problem, graph, "dadao", n_procs, args.tol, args.max_time, args.seed,
            time_scale=args.time_scale, max_events=None, rates=args.rates, rate_scale=1.0,
            batch_size=args.batch_size, x0=None, monitor_interval=0.05, record_history=True,
            liveness_timeout=args.liveness_timeout)
        return common, per_rank, dict(ctx, problem=problem, t0=time.perf_counter())

    def finish(out, ctx):
        problem = ctx["problem"]
        res = _finish(problem, out, ctx, ctx["t0"])
        err = float(np.abs(res.x - problem.solution()).max())
        sys.stdout.write(
            f"dadao on {res.n_procs} MPI processes, {problem.n_nodes} nodes: {res.message}\n"
            f"  wall {res.time:.3f} s (simulated time {res.sim_time:.4g} at time_scale "
            f"{res.time_scale:.4g}), {res.n_gradients} gradients, {res.n_communications} "
            f"communications, {res.n_messages} messages\n"
            f"  max_i |grad F(x_i)| / |grad F(x0)| = {res.grad_rel:.3e}, consensus error "
            f"{res.consensus_error:.3e}, max |x_i - x*| = {err:.3e}\n")
        if args.out:
            _mpi.save_result(args.out, res)

    return _mpi.standalone_main(prepare, _worker, finish)


if __name__ == "__main__":
    sys.exit(main())
