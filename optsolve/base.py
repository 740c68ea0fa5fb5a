"""Conventions shared by every optsolve estimator.

Estimators follow the scikit-learn contract exactly: ``__init__`` stores its keyword arguments
verbatim; parameters are validated in ``fit`` against ``_parameter_constraints`` (through
``_fit_context``); learned state ends with ``_``; ``fit`` returns ``self``. An optsolve
estimator additionally exposes ``n_iter_`` and, when ``record_history=True``, a ``history_``
dict of per-iteration arrays (objective, optimality measure, time) taken from the
:class:`~scipy.optimize.OptimizeResult` of the functional solver it wraps.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ._compat import Interval, StrOptions, _fit_context, validate_data

__all__ = [
    "COMMON_SOLVER_CONSTRAINTS",
    "Interval",
    "SolverEstimatorMixin",
    "StrOptions",
    "_fit_context",
    "validate_data",
]

#: constraints shared by the solver-backed estimators; merge into ``_parameter_constraints``
COMMON_SOLVER_CONSTRAINTS: dict[str, list[Any]] = {
    "tol": [Interval(numbers.Real, 0, None, closed="left")],
    "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "record_history": ["boolean"],
    "verbose": ["verbose"],
}


class SolverEstimatorMixin:
    """Mixin for estimators fitted by an optsolve functional solver.

    Subclasses call :meth:`_rng` to get the ``RandomState`` for this fit and
    :meth:`_store_result` once the solver returned.
    """

    def _rng(self) -> np.random.RandomState:
        return check_random_state(getattr(self, "random_state", None))

    def _seed(self) -> int:
        """A fresh integer seed drawn from ``random_state`` (for numba kernels)."""
        return int(self._rng().randint(np.iinfo(np.int32).max))

    def _store_result(self, result) -> None:
        """Copy the common learned attributes from a solver result."""
        self.n_iter_ = int(result.nit)
        if getattr(self, "record_history", False):
            self.history_ = dict(result.get("history") or {})
        elif hasattr(self, "history_"):
            del self.history_
