"""Plumbing shared by the functional solvers: results, callbacks, history, option registries.

The conventions are scipy.optimize's:

* a solver returns :class:`scipy.optimize.OptimizeResult` built by :func:`make_result`;
* ``callback(intermediate_result)`` receives an ``OptimizeResult`` holding at least ``x`` and
  ``fun``; raising ``StopIteration`` stops the solver cleanly (``status = 99``, as scipy's
  ``minimize`` does);
* not converging is ``success=False`` plus a :class:`~sklearn.exceptions.ConvergenceWarning`
  (``optsolve._status.warn_status``), never an exception; option dictionaries are checked like
  keyword arguments by each family's registry (``optsolve._validation.CheckedOptions``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

__all__ = [
    "STATUS_CALLBACK_STOP",
    "History",
    "OptimizeResult",
    "ProgressReporter",
    "call_callback",
    "make_result",
]

logger = logging.getLogger("optsolve")

#: status used when the user's callback raised StopIteration (scipy.optimize uses 99 as well)
STATUS_CALLBACK_STOP = 99


def call_callback(callback: Callable | None, **fields: Any) -> bool:
    """Call ``callback(OptimizeResult(**fields))``; return True when the user asked to stop.

    A callback with the legacy signature ``callback(xk)`` is supported as scipy does: when the
    parameter is not named ``intermediate_result`` it receives ``x`` alone.
    """
    if callback is None:
        return False
    try:
        if _wants_intermediate_result(callback):
            callback(intermediate_result=OptimizeResult(**fields))
        else:
            x = fields["x"]
            # a device (CuPy) iterate stays on its device
            callback(x.copy() if hasattr(x, "__cuda_array_interface__") else np.copy(x))
    except StopIteration:
        return True
    return False


def _wants_intermediate_result(callback: Callable) -> bool:
    import inspect

    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):  # builtins, C callables
        return True
    return "intermediate_result" in params or not params


def make_result(
    x: Any,
    fun: float,
    *,
    success: bool,
    status: int,
    message: str,
    nit: int,
    **extra: Any,
) -> OptimizeResult:
    """Build an :class:`OptimizeResult` with the scipy field names plus solver extras."""
    return OptimizeResult(
        x=x, fun=fun, success=bool(success), status=int(status), message=message, nit=int(nit),
        **extra,
    )


@dataclass
class History:
    """Per-iteration record: objective, optimality measure and elapsed time.

    Parameters
    ----------
    measure : str
        Name of the optimality measure recorded (``"gap"``, ``"kkt"``, ``"grad_norm"``...).
    """

    measure: str = "optimality"
    iteration: list[int] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    optimality: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    _t0: float = field(default_factory=perf_counter, repr=False)

    def record(self, iteration: int, objective: float, optimality: float) -> None:
        self.iteration.append(int(iteration))
        self.objective.append(float(objective))
        self.optimality.append(float(optimality))
        self.time.append(perf_counter() - self._t0)

    def as_dict(self) -> dict[str, Any]:
        """Arrays keyed by column name (the form stored in ``history_`` / ``result.history``)."""
        return {
            "iteration": np.asarray(self.iteration, dtype=np.int64),
            "objective": np.asarray(self.objective),
            self.measure: np.asarray(self.optimality),
            "time": np.asarray(self.time),
        }

    def __len__(self) -> int:
        return len(self.iteration)


class ProgressReporter:
    """tqdm bar (when installed) or fixed-column log lines, shown only when ``verbose``.

    ``verbose`` may be a bool or an int; with ``verbose >= 2`` each update is also logged.
    """

    def __init__(self, total: int, desc: str, verbose: bool | int = False, measure: str = "opt"):
        self.verbose = int(verbose)
        self.measure = measure
        self._bar = None
        if self.verbose:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is optional; fall back to logging
                logger.info("%s: %8s %14s %12s", desc, "iter", "objective", measure)
            else:
                self._bar = tqdm(total=total, desc=desc, leave=False)

    def update(self, it: int, objective: float, optimality: float, n: int = 1) -> None:
        if not self.verbose:
            return
        if self._bar is not None:
            self._bar.update(n)
            self._bar.set_postfix({"obj": f"{objective:.6g}", self.measure: f"{optimality:.2e}"})
        if self._bar is None or self.verbose >= 2:
            logger.info("%8d %14.8g %12.3e", it, objective, optimality)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
