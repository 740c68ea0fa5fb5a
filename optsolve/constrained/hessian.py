"""Hessian of the Lagrangian for the Newton system and for the merit gradient.

Two different things are needed at each outer iteration:

* ``B``, the (1,1) block of the KKT matrix: the exact Hessian of the Lagrangian, a damped BFGS
  approximation of it, or a finite-difference one; regularized (``B + δI``) by the driver when
  the reduced Hessian is not positive definite;
* ``H ∇ₓL`` with the **exact** Hessian of the Lagrangian, for the merit gradient (see
  :mod:`.merit`). When no second derivatives are available it is a forward difference of
  ``∇ₓL`` along ``∇ₓL``, which costs one gradient and one Jacobian evaluation.

=========  =====================================================================================
mode       ``B``
=========  =====================================================================================
exact      ``problem.hess(x, λ)``
hessp      built column by column from ``problem.hprod`` (for problems that only give products)
bfgs       damped BFGS on ``∇ₓL`` (Powell 1978; Nocedal & Wright, Procedure 18.2)
fd         forward differences of ``∇ₓL`` (``n`` gradient + Jacobian evaluations), symmetrized
=========  =====================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["HESSIAN_MODES", "LagrangianHessian", "damped_bfgs_update", "difference_along"]

HESSIAN_MODES = ("auto", "exact", "hessp", "bfgs", "fd")

#: Powell's damping threshold (Nocedal & Wright, eq. (18.15))
POWELL_DAMPING = 0.2


def damped_bfgs_update(B: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Powell-damped BFGS update of ``B`` (returns a new array, positive definite if ``B`` is).

    Examples
    --------
    >>> import numpy as np
    >>> B = damped_bfgs_update(np.eye(2), np.array([1.0, 0.0]), np.array([2.0, 0.0]))
    >>> B.tolist()
    [[2.0, 0.0], [0.0, 1.0]]
    """
    Bs = B @ s
    sBs = float(s @ Bs)
    if sBs <= 1e-16 * max(1.0, float(s @ s)):
        return B
    sy = float(s @ y)
    if sy >= POWELL_DAMPING * sBs:
        r = y
    else:
        theta = (1.0 - POWELL_DAMPING) * sBs / (sBs - sy)
        r = theta * y + (1.0 - theta) * Bs
    sr = float(s @ r)
    return B - np.outer(Bs, Bs) / sBs + np.outer(r, r) / sr


def _leaving(x: np.ndarray, step: np.ndarray, lower: np.ndarray | None,
             upper: np.ndarray | None) -> np.ndarray | None:
    """Mask of the components of ``x + step`` outside ``[lower, upper]``, or None when there
    are no bounds or ``x`` itself is outside them (nothing to keep then)."""
    if lower is None or not (np.all(lower <= x) and np.all(x <= upper)):
        return None
    xp = x + step
    return (xp < lower) | (xp > upper)


def difference_along(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                     g0: np.ndarray, d: np.ndarray, lower: np.ndarray | None = None,
                     upper: np.ndarray | None = None) -> np.ndarray:
    """``H d`` by a forward difference of ``grad`` (``g0 = grad(x)``) along ``d``.

    With bounds ``lower <= x <= upper`` that ``x`` satisfies, the components of ``d`` that
    would take ``x + h d`` out of them are differenced backward (a second evaluation), so that
    a function undefined outside its bounds is never evaluated there.

    Examples
    --------
    >>> import numpy as np
    >>> grad = lambda x: np.array([2 * x[0], 6 * x[1]])
    >>> x = np.array([0.0, 1.0])
    >>> Hd = difference_along(grad, x, grad(x), np.array([-1.0, 1.0]), np.zeros(2), np.ones(2))
    >>> np.round(Hd, 6).tolist()
    [-2.0, 6.0]
    """
    dn = float(np.linalg.norm(d))
    if dn == 0.0:
        return np.zeros_like(d)
    h = np.sqrt(np.finfo(float).eps) * max(1.0, float(np.linalg.norm(x))) / dn
    out = _leaving(x, h * d, lower, upper)
    if out is None or not np.any(out):
        return (grad(x + h * d) - g0) / h
    backward = np.where(out, d, 0.0)
    result = (g0 - grad(x - h * backward)) / h
    forward = d - backward
    if np.any(forward):
        result = result + (grad(x + h * forward) - g0) / h
    return result


class LagrangianHessian:
    """Provides ``B`` and ``H v`` for a problem in one of :data:`HESSIAN_MODES`.

    Parameters
    ----------
    problem : EqualityConstrainedProblem
    mode : str
        One of :data:`HESSIAN_MODES`; ``'auto'`` picks ``exact``, else ``hessp``, else ``bfgs``
        depending on what the problem implements.
    grad_lagrangian : callable
        ``grad_lagrangian(x, lam) -> ∇ₓL`` (counts its evaluations on the problem).
    bounds : (lower, upper), optional
        Bounds on ``x`` that the finite differences respect at points inside them.
    """

    def __init__(self, problem: Any, mode: str, grad_lagrangian: Callable,
                 bounds: tuple[np.ndarray, np.ndarray] | None = None):
        if mode not in HESSIAN_MODES:
            raise ValueError(f"options['hessian'] must be one of {list(HESSIAN_MODES)}, "
                             f"got {mode!r}")
        self.problem = problem
        self.grad_lagrangian = grad_lagrangian
        self.bounds = (None, None) if bounds is None else bounds
        self.mode = self._resolve(mode) if mode == "auto" else mode
        self._B: Any = None
        self._H: Any = None  # the exact Hessian at the current point (modes exact and hessp)
        self._x = None
        self._lam = None

    def _resolve(self, mode: str) -> str:
        p = self.problem
        x0 = np.asarray(p.x0, dtype=np.float64)
        v0 = np.zeros(p.m)
        for name, trial in (("exact", lambda: p._hess(x0, v0)),
                            ("hessp", lambda: p._hprod(np.zeros(p.n), x0, v0))):
            try:
                trial()
                return name
            except NotImplementedError:
                continue
            except Exception:  # any other failure shows up (and is reported) at evaluation
                return name
        return "bfgs"

    def at(self, x: np.ndarray, lam: np.ndarray, grad_lag: np.ndarray) -> Any:
        """Return ``B`` at ``(x, λ)`` (the current BFGS matrix in mode ``bfgs``)."""
        self._x, self._lam, self._grad_lag = x, lam, grad_lag
        n = self.problem.n
        if self.mode == "exact":
            H = self.problem.hess(x, lam)
            self._H = H if sp.issparse(H) else np.asarray(H, dtype=np.float64)
            return self._H
        if self.mode == "hessp":
            cols = [self.problem.hprod(e, x, lam) for e in np.eye(n)]
            H = np.column_stack(cols) if cols else np.zeros((0, 0))
            self._H = 0.5 * (H + H.T)
            return self._H
        if self.mode == "fd":
            h = np.sqrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
            out = _leaving(x, h, *self.bounds)
            if out is not None:
                h = np.where(out, -h, h)  # differences stay inside the bounds
            cols = []
            for i in range(n):
                xp = x.copy()
                xp[i] += h[i]
                cols.append((self.grad_lagrangian(xp, lam) - grad_lag) / h[i])
            H = np.column_stack(cols) if cols else np.zeros((0, 0))
            self._H = 0.5 * (H + H.T)
            return self._H
        if self._B is None:  # bfgs
            self._B = np.eye(n)
        return self._B

    def times_grad_lag(self) -> np.ndarray:
        """``H ∇ₓL`` at the point of the last :meth:`at` call (exact Hessian of the Lagrangian
        when available, else a forward difference of ``∇ₓL``)."""
        return self.times(self._grad_lag, self._lam, self._grad_lag)

    def times(self, d: np.ndarray, lam: np.ndarray, g0: np.ndarray | None = None) -> np.ndarray:
        """``H d`` at the point of the last :meth:`at` call, with the multipliers ``lam`` (the
        exact Hessian when available, else a difference of ``∇ₓL(·, lam)`` along ``d`` that
        respects the bounds; ``g0 = ∇ₓL(x, lam)``, evaluated when not given)."""
        if self._H is not None and self.mode != "bfgs":
            return np.asarray(self._H @ d).ravel()
        if g0 is None:
            g0 = self.grad_lagrangian(self._x, lam)
        return difference_along(lambda z: self.grad_lagrangian(z, lam), self._x, g0, d,
                                *self.bounds)

    def update(self, s: np.ndarray, y: np.ndarray) -> None:
        """BFGS update with the step ``s`` and the change ``y`` of ``∇ₓL`` (same ``λ``)."""
        if self.mode == "bfgs" and self._B is not None and np.all(np.isfinite(y)):
            self._B = damped_bfgs_update(self._B, s, y)
