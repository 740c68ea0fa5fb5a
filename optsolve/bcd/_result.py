"""What every engine of ``minimize_bcd`` returns, and the one place it becomes an
``OptimizeResult`` with its status, message and warning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .._backend import get_namespace, to_float
from .._optimize import make_result
from .._status import Status, termination_message, warn_status

__all__ = ["EngineResult", "to_optimize_result"]


@dataclass
class EngineResult:
    """The outcome of one engine run, before the shared status handling.

    ``w`` is the flat coefficient vector (numpy, or CuPy for the device engine), ``measure``
    the stopping measure the engine tested against ``tol`` (relative duality gap or relative
    gradient), ``status`` a :class:`optsolve._status.Status` code, ``gap`` the absolute
    duality gap (``nan`` without an L1 penalty); ``extra`` the engine's own result fields
    (the forest engine's ``grad_norm``, ``n_block_updates``, ...).
    """

    w: Any
    objective: float
    measure: float
    nit: int
    status: int
    gap: float = np.nan
    intercept: Any = 0.0
    n_active_set_changes: int = 0
    support_identified_at: int = 0
    n_updates: int = 0
    extra: dict = field(default_factory=dict)


def to_optimize_result(out: EngineResult, *, x, measure_name: str, tol: float,
                       history=None, solver: str = "minimize_bcd",
                       stacklevel: int = 4) -> OptimizeResult:
    """``OptimizeResult`` of an engine run: a non-finite objective or iterate is never a
    success, the message comes from the shared status table, an unsuccessful run warns
    (naming ``solver``; ``stacklevel`` points the warning at the caller of the public
    function)."""
    status = out.status
    finite = bool(np.isfinite(float(out.objective)) and np.isfinite(float(out.measure)))
    if finite:
        w = out.w
        xp = np if isinstance(w, np.ndarray) else get_namespace(w)
        finite = bool(to_float(xp.isfinite(w).all()))
    if not finite and status != Status.CALLBACK_STOP:
        status = Status.NON_FINITE
    status = Status(int(status))
    if status == Status.SUCCESS:
        detail = f"{measure_name} <= tol"
    elif status == Status.CALLBACK_STOP:
        detail = None
    else:
        detail = (f"after {out.nit} iterations, {measure_name} = {out.measure:.3e} > tol = "
                  f"{tol:.3e}; increase max_iter or loosen tol")
    warn_status(solver, status, detail, stacklevel=stacklevel)
    extra = {"optimality": float(out.measure), "intercept": out.intercept,
             "n_active_set_changes": out.n_active_set_changes,
             "support_identified_at": out.support_identified_at, "dual_gap": float(out.gap),
             **out.extra}
    if history is not None:
        extra["history"] = history.as_dict()
    return make_result(x, float(out.objective), success=status == Status.SUCCESS,
                       status=int(status), message=termination_message(status, detail),
                       nit=out.nit, **extra)
