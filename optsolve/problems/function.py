"""An equality-constrained problem built from user callables, finite differences for the rest."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_vector
from .base import EqualityConstrainedProblem

__all__ = ["FiniteDifferenceWarning", "FunctionProblem"]

# Central-difference steps: eps^(1/3) balances truncation O(h²) against round-off O(eps/h)
FD_STEP = np.finfo(np.float64).eps ** (1 / 3)


class FiniteDifferenceWarning(UserWarning):
    """A derivative was not given and is approximated by finite differences."""


def _central_difference(fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                        lower: np.ndarray | None = None,
                        upper: np.ndarray | None = None) -> np.ndarray:
    """Jacobian of ``fun`` (vector- or scalar-valued) at ``x`` by central differences.

    With bounds ``lower <= x <= upper`` that ``x`` satisfies, a coordinate whose central pair
    would leave them gets the one-sided three-point formula ``(−3f(x) + 4f(x + s) −
    f(x + 2s)) / 2s`` pointing inward (second order as well), so that a function undefined
    outside its bounds is never evaluated there (scipy's ``approx_derivative`` with bounds).
    A fixed variable (``lower = upper``) keeps the central pair.

    Returns shape ``(size of fun(x), n)``.
    """
    lo = np.full(x.size, -np.inf) if lower is None else lower
    hi = np.full(x.size, np.inf) if upper is None else upper
    inside = bool(np.all(lo <= x) and np.all(x <= hi))
    f0 = None
    columns = []
    for i in range(x.size):
        step = FD_STEP * max(1.0, abs(x[i]))
        # copies: a callable that returns one buffer it rewrites would give a zero difference
        if not inside or lo[i] == hi[i] or (lo[i] <= x[i] - step and x[i] + step <= hi[i]):
            xp, xm = x.copy(), x.copy()
            xp[i] += step
            xm[i] -= step
            columns.append((np.array(fun(xp), dtype=np.float64, ndmin=1)
                            - np.array(fun(xm), dtype=np.float64, ndmin=1)) / (xp[i] - xm[i]))
            continue
        room_up, room_down = hi[i] - x[i], x[i] - lo[i]
        sign = 1.0 if room_up >= room_down else -1.0
        s = sign * min(step, 0.5 * max(room_up, room_down))
        if f0 is None:
            f0 = np.array(fun(x.copy()), dtype=np.float64, ndmin=1)
        x1, x2 = x.copy(), x.copy()
        x1[i] += s
        x2[i] += 2.0 * s
        f1 = np.array(fun(x1), dtype=np.float64, ndmin=1)
        f2 = np.array(fun(x2), dtype=np.float64, ndmin=1)
        columns.append((-3.0 * f0 + 4.0 * f1 - f2) / (2.0 * s))
    return np.column_stack(columns) if columns else np.zeros((0, 0))


class FunctionProblem(EqualityConstrainedProblem):
    """Problem ``min fun(x)`` subject to ``cons(x) = 0`` from callables, in pycutest's method names.

    Missing derivatives are approximated by central differences (one
    :class:`FiniteDifferenceWarning` at construction lists them): ``grad`` from ``fun``, ``jac``
    from ``cons``, and the Hessian of the Lagrangian from the (exact or approximate) gradient of
    the Lagrangian ``∇f + Jᵀv``. Callback outputs are checked for shape; a wrong shape raises
    ``ValueError`` naming the callable. Non-finite values are passed through, so that a solver
    can stop with a clear status.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    x0 : array-like of shape (n,)
        Starting point; also fixes ``n``.
    grad : callable, optional
        ``grad(x) -> (n,)``.
    cons : callable, optional
        ``cons(x) -> (m,)``. Without it the problem is unconstrained (``m = 0``).
    jac : callable, optional
        ``jac(x) -> (m, n)``, dense or scipy.sparse.
    hess : callable, optional
        ``hess(x, v) -> (n, n)``: the Hessian of the Lagrangian ``∇²f + Σ v_i ∇²c_i``, dense or
        scipy.sparse.
    n_constraints : int, optional
        ``m``; by default found by evaluating ``cons(x0)`` once (not counted).
    name : str, default="function_problem"

    Examples
    --------
    >>> import numpy as np
    >>> p = FunctionProblem(lambda x: x[0] + x[1], [1.0, 1.0], grad=lambda x: np.ones(2),
    ...                     cons=lambda x: [x @ x - 2.0], jac=lambda x: 2.0 * x[None, :],
    ...                     hess=lambda x, v: 2.0 * v[0] * np.eye(2), name="circle")
    >>> p.n, p.m, p.obj([1.0, 2.0]), p.cons([1.0, 2.0])
    (2, 1, 3.0, array([3.]))
    """

    def __init__(
        self,
        fun: Callable[[np.ndarray], float],
        x0: Any,
        *,
        grad: Callable | None = None,
        cons: Callable | None = None,
        jac: Callable | None = None,
        hess: Callable | None = None,
        n_constraints: int | None = None,
        name: str = "function_problem",
    ):
        for label, f in (("fun", fun), ("grad", grad), ("cons", cons), ("jac", jac),
                         ("hess", hess)):
            if f is not None and not callable(f):
                raise TypeError(f"{label} must be callable or None, got {type(f).__name__}")
        if fun is None:
            raise TypeError("fun must be callable, got None")
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        self.name = name
        self.x0 = check_vector(x0, "x0").copy()
        self.n = self.x0.size
        if self.n == 0:
            raise ValueError("x0 must have at least one entry")
        if cons is None and jac is not None:
            raise ValueError("jac was given without cons")
        if n_constraints is not None:
            if isinstance(n_constraints, bool) or not isinstance(n_constraints, numbers.Integral):
                raise TypeError(f"n_constraints must be an integer, got {n_constraints!r}")
            if n_constraints < 0:
                raise ValueError(f"n_constraints must be >= 0, got {n_constraints}")
            if cons is None and n_constraints > 0:
                raise ValueError(f"n_constraints={n_constraints} but cons was not given")
            self.m = int(n_constraints)
        elif cons is None:
            self.m = 0
        else:
            self.m = int(np.asarray(cons(self.x0.copy()), dtype=np.float64).size)
        self._fun, self._grad_fn, self._cons_fn = fun, grad, cons
        self._jac_fn, self._hess_fn = jac, hess
        missing = [label for label, f in (("grad", grad), ("jac", jac), ("hess", hess))
                   if f is None and not (label == "jac" and self.m == 0)]
        self.finite_difference = frozenset(missing)
        if missing:
            warnings.warn(
                f"FunctionProblem {name!r}: {', '.join(missing)} not given; using central "
                "finite differences (slower and less accurate than exact derivatives)",
                FiniteDifferenceWarning,
                stacklevel=2,
            )

    # -- checked calls to the user's functions --------------------------------------------------
    def _checked(self, label: str, value: Any, shape: tuple[int, ...]) -> Any:
        if sp.issparse(value):
            if value.shape != shape:
                raise ValueError(f"{label} returned a sparse matrix of shape {value.shape}, "
                                 f"expected {shape} for problem {self.name!r}")
            return value
        arr = np.asarray(value, dtype=np.float64)
        # tolerated: a scalar or list for a length-k vector, and a (n,) row for a (1, n) Jacobian
        if arr.shape != shape and arr.size == int(np.prod(shape)):
            if (len(shape) == 1 and arr.ndim <= 1) or (shape[0] == 1 and arr.ndim == 1):
                arr = arr.reshape(shape)
        if arr.shape != shape:
            raise ValueError(f"{label} returned an array of shape {arr.shape}, expected "
                             f"{shape} for problem {self.name!r}")
        return arr

    def _obj(self, x):
        value = np.asarray(self._fun(x.copy()), dtype=np.float64)
        if value.size != 1:
            raise ValueError(f"fun must return a scalar, got an array of shape {value.shape} "
                             f"for problem {self.name!r}")
        return float(value.reshape(()))

    def _grad(self, x):
        if self._grad_fn is None:
            return _central_difference(self._obj, x).reshape(self.n)
        return self._checked("grad", self._grad_fn(x.copy()), (self.n,))

    def _cons(self, x):
        if self._cons_fn is None:
            return np.zeros(0)
        return self._checked("cons", self._cons_fn(x.copy()), (self.m,))

    def _jac(self, x):
        if self.m == 0:
            return np.zeros((0, self.n))
        if self._jac_fn is None:
            return _central_difference(self._cons, x).reshape(self.m, self.n)
        return self._checked("jac", self._jac_fn(x.copy()), (self.m, self.n))

    def _lagrangian_gradient(self, x, v):
        g = self._grad(x)
        if self.m:
            g = g + np.asarray(self._jac(x).T @ v).ravel()
        return g

    def _hess(self, x, v):
        if self._hess_fn is None:
            H = _central_difference(lambda y: self._lagrangian_gradient(y, v), x)
            return 0.5 * (H + H.T)
        return self._checked("hess", self._hess_fn(x.copy(), v.copy()), (self.n, self.n))
