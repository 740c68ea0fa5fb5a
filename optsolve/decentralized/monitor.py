"""The stopping and monitoring contract shared by every engine of
:func:`optsolve.decentralized.solve`.

Engine contract
---------------
An engine is a function registered in :data:`optsolve.decentralized.solver.METHODS`::

    engine(problem, graph_info, *, rng, monitor, options) -> EngineOutput

* ``problem`` — a :class:`~optsolve.problems.partitioned.DecentralizedProblem` (validated: node
  count equals the graph's, finite data).
* ``graph_info`` — a :class:`~optsolve.decentralized.topology.GraphInfo` (validated: undirected,
  connected; one segment per graph of a time-varying sequence).
* ``rng`` — a ``numpy.random.Generator`` from ``random_state``; engines draw every seed of their
  numba kernels from it, so the same ``random_state`` gives the same run.
* ``monitor`` — the :class:`Monitor` of this run. ``monitor.x0`` is the (n_nodes, d) starting
  point (a new array the engine may own).
* ``options`` — a dict of the method's options, validated, defaults filled in.

The engine loops::

    t_stop, nit_stop = monitor.next_checkpoint(time, nit)
    ... advance the run until time >= t_stop or nit >= nit_stop ...
    if monitor.check(X, time=time, nit=nit, n_gradients=g, n_communications=c):
        return EngineOutput(X, time, nit, g, c)

``check`` is called with the nodes' current iterates ``X`` (n_nodes, d) all at the same simulated
``time``; it evaluates everything centrally and its work is **not** counted as communication. It
returns True when the run must stop, and then ``monitor.status`` says why; the engine returns at
once, with ``EngineOutput.x`` the ``X`` of that last ``check``.

Counters: ``nit`` counts events (one local gradient or one pairwise communication for the
asynchronous methods; synchronous engines count one event per gradient round and per
communication round), ``n_gradients`` local gradient evaluations summed over the nodes (a
mini-batch counts as one), ``n_communications`` vectors sent over an edge counted once per edge
activation (one pairwise exchange = 1), ``time`` the engine's simulated clock (DADAO: each node
computes gradients at rate 1, so one unit of time is about one local gradient per node;
synchronous engines advance it by 1 per gradient round).

Stopping rule (checked in this order):

1. a non-finite iterate → ``Status.NON_FINITE``;
2. ``max_i ‖∇F(x_i)‖ / ‖∇F(x⁰)‖ ≤ tol`` (F = Σ f_i, the global objective, ``x⁰`` the common
   start, or the worst start over nodes; the reference is floored at
   ``1e-6 · max(1, ‖∇F(0)‖)``) → ``Status.SUCCESS``;
3. ``callback(intermediate_result)`` raised ``StopIteration`` → ``Status.CALLBACK_STOP``;
4. ``time >= max_time`` → ``Status.MAX_TIME``;
5. ``nit >= max_events`` (the user's, or when neither ``max_time`` nor ``max_events`` is given,
   a default cap derived from the method's theoretical rate) → ``Status.MAX_EVENTS``.

Evaluating ``max_i ‖∇F(x_i)‖`` costs n full-data gradients, computed together in one pass over
the data (:meth:`~optsolve.problems.partitioned.DecentralizedProblem.grads`: two matrix
products). It is screened with ``|‖∇F(x_i)‖ − ‖∇F(x̄)‖| ≤ L_F ‖x_i − x̄‖`` (``L_F = Σ L_i``):
when the bound decides, no node gradient is evaluated; otherwise nodes are evaluated
farthest-from-average first, in blocks of doubling size, and the scan stops at the first block
with a node above ``tol`` — unless ``exact_monitor`` asks for the full maximum at every check
(the default when n·N·d is small).

Result fields (``OptimizeResult``, built by :meth:`Monitor.result`)
------------------------------------------------------------------
``x`` (n_nodes, d) the nodes' iterates; ``x_mean`` their average; ``fun`` F at the node average
x̄; ``grad_rel`` the stopping measure at the last check; ``consensus_error`` the RMS deviation
``sqrt((1/n) Σ ‖x_i − x̄‖²)``; ``n_gradients``, ``n_communications``, ``time``, ``nit`` (events);
``success``, ``status``, ``message`` (shared vocabulary of :mod:`optsolve._status`); ``history``
(dict of arrays, one entry for the start and one per check: ``time``, ``nit``,
``n_gradients``, ``n_communications``, ``grad_rel`` (the stopping measure when evaluated in
full, otherwise the screened value: a certified lower bound when above tol),
``grad_rel_mean`` (‖∇F(x̄)‖/‖∇F(x⁰)‖, always exact), ``consensus_error``, ``objective``
(F(x̄))); plus engine extras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._optimize import call_callback, make_result
from .._status import Status, termination_message, warn_status

__all__ = ["EngineOutput", "Monitor"]

#: n · N · d (node count × rows × features) up to which every check evaluates all n gradients
EXACT_MONITOR_MAX_WORK = 2e7
#: relative floor of the reference gradient ‖∇F(x⁰)‖ (a start at the optimum stays solvable)
G0_FLOOR = 1e-6


@dataclass
class EngineOutput:
    """What an engine returns: final iterates, clock and counters, and method-specific extras
    (merged into the result)."""

    x: np.ndarray
    time: float
    nit: int
    n_gradients: int
    n_communications: int
    extra: dict = field(default_factory=dict)


class Monitor:
    """Central monitor of one decentralized run (see the module docstring for the contract).

    Parameters
    ----------
    problem : DecentralizedProblem
    x0 : ndarray of shape (n_nodes, d)
    tol : float
    max_time, max_events : float, int or None
    default_max_events : int
        Cap applied when neither ``max_time`` nor ``max_events`` is given.
    callback : callable or None
    check_time : float or None
        Simulated time between two checks (None: no time-based checkpoint).
    check_events : int or None
        Events between two checks (None: no event-based checkpoint).
    record_history : bool
    exact_monitor : bool or None
        Evaluate the full maximum at every check (None: when n·N·d ≤ ``EXACT_MONITOR_MAX_WORK``).
    """

    def __init__(self, problem, x0, *, tol, max_time=None, max_events=None,
                 default_max_events=None, callback=None, check_time=1.0, check_events=None,
                 record_history=True, exact_monitor=None):
        self.problem = problem
        self.x0 = np.array(x0, dtype=np.float64, copy=True)
        self.tol = float(tol)
        self.max_time = math.inf if max_time is None else float(max_time)
        self.default_cap = max_time is None and max_events is None
        if self.default_cap:
            max_events = default_max_events
        self.max_events = math.inf if max_events is None else int(max_events)
        self.callback = callback
        self.check_time = math.inf if check_time is None else float(check_time)
        self.check_events = math.inf if check_events is None else int(check_events)
        if not (self.check_time < math.inf or self.check_events < math.inf):
            raise ValueError("a monitor needs a time- or event-based checkpoint interval")
        self.record_history = bool(record_history)
        work = problem.n_nodes * problem.n_samples_total * problem.n_features
        self.exact = (work <= EXACT_MONITOR_MAX_WORK) if exact_monitor is None \
            else bool(exact_monitor)
        self.L_F = float(np.sum(problem.L_local))
        self.status: Status | None = None
        self.detail: str | None = None
        self.last: dict[str, Any] = {}
        self._hist: dict[str, list] = {k: [] for k in (
            "time", "nit", "n_gradients", "n_communications", "grad_rel", "grad_rel_mean",
            "consensus_error", "objective")}
        # ∇F at the distinct starting points and at 0, in one pass over the data
        G = problem.grads(np.vstack([self.x0[_distinct_rows(self.x0)],
                                     np.zeros((1, self.x0.shape[1]))]))
        norms = np.linalg.norm(G, axis=1)
        g0 = float(norms[:-1].max())
        # a start at (or within rounding of) the optimum would make the relative measure
        # unreachable: the reference gradient is floored at G0_FLOOR · max(1, ‖∇F(0)‖)
        floor = G0_FLOOR * max(1.0, float(norms[-1]))
        self.g0 = 0.0 if g0 == 0.0 else max(g0, floor)
        if self.record_history and self.g0 > 0.0:  # the start, so that curves begin at t = 0
            exact, self.exact = self.exact, True
            start = dict(time=0.0, nit=0, n_gradients=0, n_communications=0,
                         **self._measures(self.x0))
            self.exact = exact
            for k, v in start.items():
                self._hist[k].append(v)

    # -- engine side --------------------------------------------------------------------------
    def next_checkpoint(self, time: float, nit: int) -> tuple[float, float]:
        """``(t_stop, nit_stop)``: the engine runs until its clock reaches ``t_stop`` or its event
        count reaches ``nit_stop`` (whichever first), then calls :meth:`check`. Either may be
        ``inf``; ``t_stop`` never exceeds ``max_time`` nor ``nit_stop`` ``max_events``."""
        t_stop = min(time + self.check_time, self.max_time)
        nit_stop = min(nit + self.check_events, self.max_events)
        return t_stop, nit_stop

    def check(self, X, *, time: float, nit: int, n_gradients: int,
              n_communications: int) -> bool:
        """Evaluate the run at a checkpoint; True when it must stop (see :attr:`status`)."""
        X = np.asarray(X)
        counters = dict(time=float(time), nit=int(nit), n_gradients=int(n_gradients),
                        n_communications=int(n_communications))
        if not np.all(np.isfinite(X)):
            self.last = dict(counters, grad_rel=np.nan, grad_rel_mean=np.nan,
                             consensus_error=np.nan, objective=np.nan)
            return self._stop(Status.NON_FINITE, f"at time {time:.6g}")
        measures = self._measures(X)
        self.last = dict(counters, **measures)
        if self.record_history:
            for k, v in self.last.items():
                self._hist[k].append(v)
        if measures["grad_rel"] <= self.tol:
            return self._stop(Status.SUCCESS)
        if self.callback is not None:
            stop = call_callback(self.callback, x=np.array(X), fun=measures["objective"],
                                 **counters, grad_rel=measures["grad_rel"],
                                 grad_rel_mean=measures["grad_rel_mean"],
                                 consensus_error=measures["consensus_error"])
            if stop:
                return self._stop(Status.CALLBACK_STOP)
        if time >= self.max_time:
            return self._stop(Status.MAX_TIME, f"max_time={self.max_time:g}")
        if nit >= self.max_events:
            detail = f"max_events={self.max_events}"
            if self.default_cap:
                detail = (f"default cap of {self.max_events} events from the method's "
                          "theoretical rate; pass max_time or max_events to run longer")
            return self._stop(Status.MAX_EVENTS, detail)
        return False

    # -- measures -----------------------------------------------------------------------------
    def _measures(self, X) -> dict[str, float]:
        prob = self.problem
        xbar = X.mean(axis=0)
        dev = np.linalg.norm(X - xbar, axis=1)
        if self.exact:  # ∇F at every node and at the mean: one pass over the data
            G = prob.grads(np.vstack([X, xbar]))
            norms = np.linalg.norm(G, axis=1) / self.g0
            g_bar, grad_rel = float(norms[-1]), float(norms[:-1].max())
            objective = prob.value(xbar)
        else:  # F and ∇F at the mean share their pass over the data
            objective, g = prob.value_and_grad(xbar)
            g_bar = float(np.linalg.norm(g)) / self.g0
            grad_rel = self._screened_grad_rel(X, g_bar, dev)
        return dict(grad_rel_mean=g_bar, consensus_error=float(np.sqrt(np.mean(dev**2))),
                    objective=float(objective), grad_rel=grad_rel)

    def _screened_grad_rel(self, X, g_bar, dev) -> float:
        """``max_i ‖∇F(x_i)‖ / g0`` as far as it decides the stop, screened by the L_F bound."""
        slack = self.L_F * dev / self.g0  # |‖∇F(x_i)‖ − ‖∇F(x̄)‖| / g0 ≤ slack_i
        if g_bar + slack.max() <= self.tol:
            return g_bar + float(slack.max())  # certified: every node is below tol
        if g_bar - slack.max() > self.tol:
            # some node is above tol; the farthest node's lower bound, for the record
            return max(g_bar - float(slack.min()), self.tol * (1 + 1e-12))
        # farthest from the mean first, in blocks of doubling size (one pass over the data per
        # block), until a node is above tol
        order = np.argsort(-dev, kind="stable")
        best, start, size = 0.0, 0, 1
        while start < order.size and best <= self.tol:
            block = order[start:start + size]
            block = block[g_bar + slack[block] > best]  # the others cannot exceed the maximum
            if block.size:
                G = self.problem.grads(X[block])
                best = max(best, float(np.linalg.norm(G, axis=1).max()) / self.g0)
            start += size
            size *= 2
        return best

    def _stop(self, status: Status, detail: str | None = None) -> bool:
        self.status, self.detail = status, detail
        return True

    # -- result -------------------------------------------------------------------------------
    def history(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.int64 if k in ("nit", "n_gradients",
                                                          "n_communications") else np.float64)
                for k, v in self._hist.items()}

    def result(self, output: EngineOutput, solver: str):
        """The ``OptimizeResult`` of the run (warns when unsuccessful)."""
        status = Status.MAX_EVENTS if self.status is None else self.status
        X = np.asarray(output.x)
        xbar = X.mean(axis=0)
        last = self.last
        if not last or last.get("nit") != int(output.nit):
            last = dict(self._measures(X)) if np.all(np.isfinite(X)) else {}
        warn_status(solver, status, self.detail, stacklevel=4)
        fun = last.get("objective", np.nan)
        return make_result(
            X, fun, success=status == Status.SUCCESS, status=int(status),
            message=termination_message(status, self.detail), nit=int(output.nit),
            x_mean=xbar, grad_rel=last.get("grad_rel", np.nan),
            consensus_error=last.get("consensus_error", np.nan),
            n_gradients=int(output.n_gradients), n_communications=int(output.n_communications),
            time=float(output.time), history=self.history() if self.record_history else None,
            solver=solver, **output.extra,
        )

    def result_at_start(self, solver: str):
        """Result when ``x⁰`` is already optimal (∇F(x⁰) = 0): no event is run."""
        self.status = Status.SUCCESS
        X = self.x0
        return make_result(
            X, float(self.problem.value(X.mean(axis=0))), success=True, status=0,
            message=termination_message(Status.SUCCESS, "the gradient vanishes at the start"),
            nit=0, x_mean=X.mean(axis=0), grad_rel=0.0, consensus_error=float(
                np.sqrt(np.mean(np.sum((X - X.mean(axis=0)) ** 2, axis=1)))),
            n_gradients=0, n_communications=0, time=0.0,
            history=self.history() if self.record_history else None, solver=solver,
        )


def _distinct_rows(X) -> list[int]:
    """Indices of the distinct rows of X (the start is usually one point copied to every node)."""
    if np.all(X == X[0]):
        return [0]
    return list(range(X.shape[0]))
