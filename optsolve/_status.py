"""One termination vocabulary for every solver family, in the manner of scipy's
``TERMINATION_MESSAGES``.

A status code means the same thing in every family: ``0`` is the only code for "converged to the
requested tolerance"; every other code is an unsuccessful run, and every unsuccessful run warns
through :func:`warn_status` (a :class:`~sklearn.exceptions.ConvergenceWarning`).

Examples
--------
>>> from optsolve._status import Status, termination_message
>>> int(Status.MAX_ITER), termination_message(Status.MAX_ITER)
(1, 'maximum number of iterations reached')
"""

from __future__ import annotations

import warnings
from enum import IntEnum

from sklearn.exceptions import ConvergenceWarning

__all__ = ["TERMINATION_MESSAGES", "Status", "termination_message", "warn_status"]


class Status(IntEnum):
    """Shared status codes (``OptimizeResult.status``)."""

    SUCCESS = 0
    MAX_ITER = 1
    STALLED = 2
    LINE_SEARCH_FAILED = 3
    INFEASIBLE = 4
    NON_FINITE = 5
    MAX_TIME = 6
    MAX_EVENTS = 7
    PEER_FAILED = 8
    CALLBACK_STOP = 99


TERMINATION_MESSAGES: dict[int, str] = {
    Status.SUCCESS: "converged: the optimality measure is below tol",
    Status.MAX_ITER: "maximum number of iterations reached",
    Status.STALLED: "no further progress is possible at this precision (stalled)",
    Status.LINE_SEARCH_FAILED: "the line search failed to find an acceptable step",
    Status.INFEASIBLE: "the problem appears infeasible",
    Status.NON_FINITE: "a non-finite value (NaN or inf) appeared in the iterates",
    Status.MAX_TIME: "time limit reached",
    Status.MAX_EVENTS: "maximum number of events reached",
    Status.PEER_FAILED: "a peer process failed or stopped answering",
    Status.CALLBACK_STOP: "stopped by the callback",
}


def termination_message(status: int, detail: str | None = None) -> str:
    """The shared message for ``status``, with an optional solver-specific ``detail``."""
    base = TERMINATION_MESSAGES[Status(status)]
    return f"{base} ({detail})" if detail else base


def warn_status(solver: str, status: int, detail: str | None = None, *, stacklevel: int = 3):
    """Warn (``ConvergenceWarning``) for every unsuccessful status except a callback stop."""
    status = Status(status)
    if status in (Status.SUCCESS, Status.CALLBACK_STOP):
        return
    warnings.warn(
        f"{solver}: {termination_message(status, detail)}", ConvergenceWarning,
        stacklevel=stacklevel,
    )
