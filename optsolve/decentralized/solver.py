"""``solve``: one entry point for DADAO and its baselines, dispatched through :data:`METHODS`.

Every method runs in the same simulator contract (:mod:`optsolve.decentralized.monitor`):
the same validation, stopping rule, counters, history and result fields.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import as_generator, check_dense_size
from .monitor import Monitor
from .topology import as_graph_info

__all__ = ["METHODS", "Method", "solve"]


@dataclass(frozen=True)
class Method:
    """A registered method.

    Attributes
    ----------
    engine : str
        ``"module:function"`` (relative to this package) of the engine, imported on first use.
    options : dict
        Option name → ``(default, validator)``; the validator takes ``(value, name)`` and returns
        the checked value or raises ``TypeError``/``ValueError`` naming the option.
    default_max_events : str
        ``"module:function"`` of ``f(problem, graph_info, tol, options) -> int``, the events
        cap used when neither ``max_time`` nor ``max_events`` is given.
    requires_strong_convexity : bool
        Refuse problems with μ = 0 (``alpha=0``).
    check_time : float or None
        Default simulated time between monitor checks (option ``monitor_interval``).
    check_events : int or None
        Default events between monitor checks (option ``monitor_every``).
    """

    engine: str
    options: dict = field(default_factory=dict)
    default_max_events: str = ""
    requires_strong_convexity: bool = True
    check_time: float | None = 1.0
    check_events: int | None = None


def _resolve(path: str) -> Callable:
    module, func = path.split(":")
    return getattr(importlib.import_module(module, __package__), func)


# -- option validators ------------------------------------------------------------------------
def positive_int_or_none(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer or None, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def positive_real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)


def rates_option(value, name):
    if isinstance(value, str):
        if value not in ("uniform", "sdp"):
            raise ValueError(f"{name} must be 'uniform', 'sdp' or an array of edge rates, got "
                             f"{value!r}")
        return value
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} as an array must be 1-D, finite and > 0 (one per edge)")
    return arr


#: name → Method. Baselines register here with their engine and options.
METHODS: dict[str, Method] = {
    "dadao": Method(
        engine=".dadao:run_dadao",
        options={
            "rates": ("uniform", rates_option),
            "batch_size": (None, positive_int_or_none),
            "rate_scale": (1.0, positive_real),
        },
        default_max_events=".dadao:default_max_events",
        requires_strong_convexity=True,
        check_time=1.0,
    ),
}

# the baselines (DGD, EXTRA / gradient tracking, MSDA, ADOM+, continuized) register themselves
from .baselines import register as _register_baselines  # noqa: E402

_register_baselines(METHODS, Method)

#: options every method accepts (handled by ``solve`` itself)
COMMON_OPTIONS = ("x0", "record_history", "monitor_interval", "monitor_every", "exact_monitor")


def _check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number, got {type(tol).__name__}")
    if not math.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be finite and >= 0, got {tol!r}")
    return float(tol)


def _check_max_time(max_time):
    if max_time is None:
        return None
    if isinstance(max_time, bool) or not isinstance(max_time, numbers.Real):
        raise TypeError(f"max_time must be a real number or None, got {type(max_time).__name__}")
    if not max_time > 0 or math.isnan(max_time):
        raise ValueError(f"max_time must be > 0, got {max_time!r}")
    return float(max_time)


#: methods whose oracle (``baselines._conjugate``) holds dense ``d x d`` local Hessians
CONJUGATE_SOLVERS = ("msda", "continuized")


def check_conjugate_memory(solver: str, loss: str, n_nodes: int, n_features: int,
                           name: str = "problem") -> None:
    """Refuse, before allocating, the dense ``d x d`` matrices of the conjugate oracle
    (``baselines._conjugate``) beyond ``OPTSOLVE_DENSE_LIMIT_BYTES``: ridge keeps every node's
    inverse local Hessian (``n_nodes`` of them) and a work matrix, logistic a work matrix
    (its per-node Gram blocks, ``Σ m_i² < N d`` floats, and kept factors, only when they fit,
    are sized by the data)."""
    count = n_nodes + 1 if loss == "ridge" else 1
    check_dense_size((count, n_features, n_features), name,
                     f"the dense local Hessians of solver {solver!r} (use 'dadao', 'extra', "
                     "'dgd' or 'adom+' for O(nnz) memory)")


def _check_problem(problem):
    required = ("n_nodes", "n_features", "L", "mu", "packed", "grad", "value", "L_local")
    missing = [a for a in required if not hasattr(problem, a)]
    if missing:
        raise TypeError(
            "problem must be a DecentralizedProblem (DecentralizedProblem.ridge / .logistic); "
            f"got {type(problem).__name__} without {missing}"
        )
    p = problem.packed
    for name in ("X", "data", "y"):
        arr = getattr(p, name)
        if arr.size and not np.all(np.isfinite(arr)):
            raise ValueError(f"problem data contain NaN or infinite values ({name})")


def _check_x0(x0, n, d):
    if x0 is None:
        return np.zeros((n, d))
    arr = np.asarray(x0, dtype=np.float64)
    if arr.shape == (d,):
        arr = np.tile(arr, (n, 1))
    if arr.shape != (n, d):
        raise ValueError(f"x0 must have shape ({d},) or ({n}, {d}), got {np.shape(x0)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x0 contains NaN or infinite values")
    return np.array(arr, copy=True)


def solve(problem, graph, solver: str = "dadao", tol: float = 1e-6,
          max_time: float | None = None, max_events: int | None = None, random_state=None,
          callback: Callable | None = None, **options: Any):
    """Minimize ``F = Σ_i f_i`` over a communication graph by a decentralized method.

    Node ``i`` holds ``f_i`` (part ``i`` of ``problem``) and exchanges with its neighbours in
    ``graph`` only. The run is simulated exactly: the returned clock is the simulated time, and
    the counters are the local gradients and pairwise communications the method spent.

    Parameters
    ----------
    problem : DecentralizedProblem
        The local functions (``DecentralizedProblem.ridge`` / ``.logistic``); its number of
        nodes must equal the graph's.
    graph : sparse matrix, array-like, networkx.Graph or TimeVaryingGraph
        Undirected connected communication graph (or a sequence of them switching in time).
    solver : {'dadao', 'dgd', 'extra', 'msda', 'adom+', 'continuized'}, default='dadao'
        The method; see :data:`METHODS` for the ones registered and their options.
    tol : float, default=1e-6
        Stop when ``max_i ‖∇F(x_i)‖ / ‖∇F(x⁰)‖ <= tol`` (monitored centrally, not counted as
        communication).
    max_time : float, optional
        Limit on the simulated clock.
    max_events : int, optional
        Limit on the number of events (gradients + communications for asynchronous methods).
        When neither limit is given, a cap derived from the method's theoretical rate bounds
        the run (reaching it is ``success=False``, ``status=7``).
    random_state : None, int or numpy.random.Generator
        Seeds every random draw (event times, edges, mini-batches): same seed, same run.
    callback : callable, optional
        ``callback(intermediate_result)`` at every check, with ``x``, ``fun``, ``time``,
        ``nit``, ``n_gradients``, ``n_communications``, ``grad_rel``, ``consensus_error``;
        raising ``StopIteration`` stops the run (``status=99``).
    **options
        Common: ``x0`` (shape (d,) or (n_nodes, d), default zeros), ``record_history`` (True),
        ``monitor_interval`` (simulated time between checks), ``monitor_every`` (events between
        checks), ``exact_monitor`` (full maximum at every check). Method-specific ones, e.g.
        DADAO's ``rates`` ('uniform', 'sdp' or per-edge array), ``batch_size`` (mini-batch size
        of the stochastic local gradients; None = full local gradients) and ``rate_scale``
        (multiplies the communication rates the theory requires, >= 1 keeps the guarantee).

    Returns
    -------
    OptimizeResult
        ``x`` (n_nodes, d), ``x_mean``, ``fun`` (F at the node average), ``grad_rel``,
        ``consensus_error``, ``n_gradients``, ``n_communications``, ``time``, ``nit`` (events),
        ``history``, ``success``, ``status``, ``message``, plus method extras (DADAO:
        ``rates``, ``chi1``, ``chi2``).

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.decentralized import DecentralizedProblem, partition_data, solve
    >>> from optsolve.graphs import cycle_graph
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((80, 3)), rng.standard_normal(80)
    >>> prob = DecentralizedProblem.ridge(partition_data(X, y, 6, random_state=0), alpha=1.0)
    >>> res = solve(prob, cycle_graph(6), tol=1e-6, random_state=0)
    >>> bool(res.success), bool(np.allclose(res.x, prob.solution(), atol=1e-4))
    (True, True)

    References
    ----------
    A. Nabli and E. Oyallon, "DADAO: Decoupled Accelerated Decentralized Asynchronous
    Optimization", ICML 2023 (arXiv:2208.00779).
    """
    if not isinstance(solver, str):
        raise TypeError(f"solver must be a string, got {type(solver).__name__}")
    key = solver.lower()
    if key not in METHODS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {sorted(METHODS)}")
    method = METHODS[key]
    tol = _check_tol(tol)
    max_time = _check_max_time(max_time)
    max_events = positive_int_or_none(max_events, "max_events")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    _check_problem(problem)
    info = as_graph_info(graph, problem.n_nodes)
    if key in CONJUGATE_SOLVERS:
        check_conjugate_memory(key, problem.loss, problem.n_nodes, problem.n_features)
    if method.requires_strong_convexity and not problem.mu > 0:
        raise ValueError(
            f"solver {key!r} needs strongly convex local functions (mu > 0), but the problem has "
            f"mu = {problem.mu:g}: use alpha > 0"
        )
    unknown = set(options) - set(method.options) - set(COMMON_OPTIONS)
    if unknown:
        raise TypeError(
            f"unknown option(s) {sorted(unknown)} for solver {key!r}; valid: "
            f"{sorted(set(method.options) | set(COMMON_OPTIONS))}"
        )
    opts = {name: validate(options.get(name, default), name)
            for name, (default, validate) in method.options.items()}
    x0 = _check_x0(options.get("x0"), problem.n_nodes, problem.n_features)
    check_time = options.get("monitor_interval", method.check_time)
    check_time = None if check_time is None else positive_real(check_time, "monitor_interval")
    check_events = positive_int_or_none(options.get("monitor_every", method.check_events),
                                        "monitor_every")
    rng = as_generator(random_state)
    default_cap = None
    if max_time is None and max_events is None:
        default_cap = int(_resolve(method.default_max_events)(problem, info, tol, opts))
    monitor = Monitor(
        problem, x0, tol=tol, max_time=max_time, max_events=max_events,
        default_max_events=default_cap, callback=callback, check_time=check_time,
        check_events=check_events, record_history=bool(options.get("record_history", True)),
        exact_monitor=options.get("exact_monitor"),
    )
    if monitor.g0 == 0.0:
        return monitor.result_at_start(key)
    output = _resolve(method.engine)(problem, info, rng=rng, monitor=monitor, options=opts)
    return monitor.result(output, key)
