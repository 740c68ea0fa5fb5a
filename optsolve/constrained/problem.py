"""A general nonlinear program from scipy.optimize's arguments, in the problem protocol.

:class:`NonlinearProblem` turns ``(fun, x0, args, jac, hess, hessp, constraints, bounds)`` --
exactly what ``scipy.optimize.minimize`` accepts -- into one problem object with the names that
CUTEst / pycutest / S2MPJ problems use, so that the solver and the KKT measure see one form::

    min f(x)   s.t.   cl <= c(x) <= cu,   bl <= x <= bu

* ``cons(x)`` stacks every constraint function of the user's list (in order), ``jac(x)`` their
  Jacobians (scipy.sparse CSR as soon as one of them is sparse, dense otherwise);
* ``cl``, ``cu`` (shape ``(m,)``) and ``bl``, ``bu`` (shape ``(n,)``) hold the bounds, ``±inf``
  when absent; ``is_eq_cons = (cl == cu)``;
* ``hess(x, v)`` is the Hessian of the Lagrangian ``∇²f + Σ v_i ∇²c_i`` (sign convention
  ``L = f + vᵀc``, pycutest's), from ``hess``/``hessp`` of the objective and ``hess(x, v)`` of
  each ``NonlinearConstraint`` (linear constraints have none);
* ``constraint_slices`` maps the rows back to the user's list, so that a row multiplier vector
  ``v`` of shape ``(m,)`` becomes ``[v[s] for s in constraint_slices]``.

Conversions (scipy's, see ``scipy.optimize.minimize``): a dict ``{'type': 'eq', 'fun'}`` is
``c(x) = 0``; ``{'type': 'ineq', 'fun'}`` means ``fun(x) >= 0`` (``cl = 0``, ``cu = inf``);
``NonlinearConstraint(fun, lb, ub)`` and ``LinearConstraint(A, lb, ub)`` keep their ``lb``,
``ub`` (rows with ``lb = -inf`` and ``ub = inf`` are allowed and ignored); ``bounds`` is a
``Bounds`` or a sequence of ``n`` pairs ``(lo, hi)`` with ``None`` for no bound.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, HessianUpdateStrategy, LinearConstraint, NonlinearConstraint
from scipy.sparse.linalg import LinearOperator

from ..problems.base import EqualityConstrainedProblem, copy_value
from ..problems.function import FiniteDifferenceWarning, _central_difference

__all__ = ["NonlinearProblem", "standardize_bounds", "standardize_constraints"]

#: largest n for which a LinearOperator Hessian / Jacobian is turned into a dense matrix
DENSE_OPERATOR_MAX = 2000
_FD_CHOICES = ("2-point", "3-point", "cs")


class _Block:
    """One user constraint: ``lb <= fun(x) <= ub`` with its Jacobian and Hessian."""

    __slots__ = ("fun", "hess", "jac", "kind", "lb", "linear", "size", "ub")

    def __init__(self, fun, jac, hess, lb, ub, kind, linear=None):
        self.fun, self.jac, self.hess = fun, jac, hess
        self.lb, self.ub, self.kind, self.linear = lb, ub, kind, linear
        self.size = 0


def _callable_or_fd(value: Any, name: str) -> Callable | str:
    if value is None or (isinstance(value, str) and value in _FD_CHOICES):
        return "fd"
    if callable(value):
        return value
    raise ValueError(f"{name} must be a callable or one of {_FD_CHOICES}, got {value!r}")


def standardize_constraints(constraints: Any, args: tuple = ()) -> list[_Block]:
    """The user's ``constraints`` (one, or a list, of ``NonlinearConstraint``,
    ``LinearConstraint`` or dicts) as blocks ``lb <= fun(x) <= ub``; raises on anything else."""
    if constraints is None:
        return []
    if isinstance(constraints, (NonlinearConstraint, LinearConstraint, Mapping)):
        constraints = [constraints]
    if not isinstance(constraints, Sequence) or isinstance(constraints, str):
        raise TypeError("constraints must be a NonlinearConstraint, a LinearConstraint, a dict "
                        f"or a list of them, got {type(constraints).__name__}")
    blocks = []
    for k, con in enumerate(constraints):
        label = f"constraints[{k}]"
        if isinstance(con, NonlinearConstraint):
            if not callable(con.fun):
                raise TypeError(f"{label}.fun must be callable")
            jac = _callable_or_fd(con.jac, f"{label}.jac")
            hess = con.hess if callable(con.hess) and not isinstance(
                con.hess, HessianUpdateStrategy) else None
            blocks.append(_Block(con.fun, jac, hess, con.lb, con.ub, "nonlinear"))
        elif isinstance(con, LinearConstraint):
            A = con.A
            A = sp.csr_matrix(A, dtype=np.float64) if sp.issparse(A) else np.atleast_2d(
                np.asarray(A, dtype=np.float64))
            blocks.append(_Block(None, None, None, con.lb, con.ub, "linear", linear=A))
        elif isinstance(con, Mapping):
            unknown = sorted(set(con) - {"type", "fun", "jac", "args"})
            if unknown:
                raise ValueError(f"{label}: unknown key(s) {unknown}; a constraint dict has "
                                 "'type', 'fun' and optionally 'jac', 'args'")
            ctype = con.get("type")
            if not isinstance(ctype, str) or ctype.lower() not in ("eq", "ineq"):
                raise ValueError(f"{label}['type'] must be 'eq' or 'ineq', got {ctype!r}")
            fun = con.get("fun")
            if not callable(fun):
                raise TypeError(f"{label}['fun'] must be callable, got "
                                f"{type(fun).__name__}")
            cargs = con.get("args", ())
            cargs = cargs if isinstance(cargs, tuple) else (cargs,)
            jac = con.get("jac")
            if jac is not None and not callable(jac):
                raise TypeError(f"{label}['jac'] must be callable or absent")
            f = _bind(fun, cargs)
            j = "fd" if jac is None else _bind(jac, cargs)
            lb, ub = (0.0, 0.0) if ctype.lower() == "eq" else (0.0, np.inf)
            blocks.append(_Block(f, j, None, lb, ub, ctype.lower()))
        else:
            raise TypeError(f"{label} must be a NonlinearConstraint, a LinearConstraint or a "
                            f"dict with 'type' and 'fun', got {type(con).__name__}")
    return blocks


def _bind(f: Callable, args: tuple) -> Callable:
    return (lambda x: f(x, *args)) if args else f


def standardize_bounds(bounds: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(bl, bu)`` of shape ``(n,)`` from a ``Bounds`` or ``n`` pairs ``(lo, hi)`` (None for
    none); raises on a wrong length, a NaN or ``lo > hi``."""
    if bounds is None:
        return np.full(n, -np.inf), np.full(n, np.inf)
    if isinstance(bounds, Bounds):
        try:
            lo = np.broadcast_to(np.asarray(bounds.lb, dtype=np.float64), (n,)).copy()
            hi = np.broadcast_to(np.asarray(bounds.ub, dtype=np.float64), (n,)).copy()
        except ValueError:
            raise ValueError(f"bounds: Bounds.lb and Bounds.ub must be scalars or have {n} "
                             f"entries (the length of x0), got shapes "
                             f"{np.shape(bounds.lb)} and {np.shape(bounds.ub)}") from None
    else:
        try:
            pairs = list(bounds)
        except TypeError:
            raise TypeError("bounds must be a scipy.optimize.Bounds or a sequence of (min, "
                            f"max) pairs, got {type(bounds).__name__}") from None
        if len(pairs) != n:
            raise ValueError(f"bounds must have {n} (min, max) pairs (the length of x0), got "
                             f"{len(pairs)}")
        lo, hi = np.empty(n), np.empty(n)
        for i, pair in enumerate(pairs):
            try:
                a, b = pair
            except (TypeError, ValueError):
                raise ValueError(f"bounds[{i}] must be a (min, max) pair, got {pair!r}") from None
            try:
                lo[i] = -np.inf if a is None else float(a)
                hi[i] = np.inf if b is None else float(b)
            except (TypeError, ValueError):
                raise TypeError(f"bounds[{i}] must hold numbers or None, got {pair!r}") from None
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise ValueError("bounds contain NaN")
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        raise ValueError(f"bounds: lower bound > upper bound for variable(s) "
                         f"{bad[:10].tolist()} (e.g. {lo[bad[0]]} > {hi[bad[0]]})")
    return lo, hi


def _as_matrix(M: Any, shape: tuple[int, int], label: str) -> Any:
    """Dense array, scipy.sparse CSR or (small) LinearOperator -> array or CSR of ``shape``."""
    if sp.issparse(M):
        if M.shape != shape:
            raise ValueError(f"{label} returned a sparse matrix of shape {M.shape}, expected "
                             f"{shape}")
        return sp.csr_matrix(M, dtype=np.float64)
    if isinstance(M, LinearOperator):
        if M.shape != shape:
            raise ValueError(f"{label} returned a LinearOperator of shape {M.shape}, expected "
                             f"{shape}")
        if shape[1] > DENSE_OPERATOR_MAX:
            raise ValueError(f"{label} returned a LinearOperator with {shape[1]} columns; the "
                             "KKT matrix needs its entries: return a scipy.sparse matrix for "
                             f"n > {DENSE_OPERATOR_MAX}")
        return np.asarray(M @ np.eye(shape[1]), dtype=np.float64).reshape(shape)
    arr = np.asarray(M, dtype=np.float64)
    if arr.shape != shape and arr.size == shape[0] * shape[1]:
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise ValueError(f"{label} returned shape {arr.shape}, expected {shape}")
    return arr


class NonlinearProblem(EqualityConstrainedProblem):
    """``min f(x)`` subject to ``cl <= c(x) <= cu`` and ``bl <= x <= bu``, built from
    scipy.optimize's arguments.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float`` (or ``(f, g)`` when ``jac=True``).
    x0 : array-like of shape (n,)
    args : tuple
        Extra arguments of ``fun``, ``jac``, ``hess``, ``hessp``.
    jac : callable, True, {'2-point', '3-point', 'cs'} or None
        Gradient of ``fun``; strings and None: central differences.
    hess : callable, optional
        ``hess(x, *args) -> (n, n)`` dense, scipy.sparse or LinearOperator.
    hessp : callable, optional
        ``hessp(x, p, *args) -> (n,)``, used when ``hess`` is absent.
    constraints : constraint, dict or list of them
        As in ``scipy.optimize.minimize``.
    bounds : Bounds or sequence of (min, max) pairs, optional

    Attributes
    ----------
    n, m : int
        Variables and constraint rows (all blocks stacked).
    cl, cu : ndarray of shape (m,)
    bl, bu : ndarray of shape (n,)
    is_eq_cons : ndarray of bool, shape (m,)
    constraint_slices : list of slice
        Rows of each user constraint, in the order given.
    has_hessian : bool
        Whether the Hessian of the Lagrangian is exact (``hess``/``hessp`` of the objective and
        of every nonlinear constraint given).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import NonlinearConstraint
    >>> p = NonlinearProblem(lambda x: x @ x, [1.0, 2.0], jac=lambda x: 2 * x,
    ...                      constraints=[{"type": "ineq", "fun": lambda x: x[0] - 1,
    ...                                    "jac": lambda x: [[1.0, 0.0]]}],
    ...                      bounds=[(0, None), (None, 3)])
    >>> p.n, p.m, p.cl.tolist(), p.cu.tolist(), p.bu.tolist()
    (2, 1, [0.0], [inf], [inf, 3.0])
    """

    def __init__(self, fun: Callable, x0: Any, args: tuple = (), jac: Any = None,
                 hess: Any = None, hessp: Any = None, constraints: Any = (),
                 bounds: Any = None, *, name: str = "nonlinear_problem"):
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {type(fun).__name__}")
        args = args if isinstance(args, tuple) else (args,)
        x0 = np.array(x0, dtype=np.float64)
        if x0.ndim > 1 and x0.size == max(x0.shape):
            x0 = x0.ravel()
        if x0.ndim != 1 or x0.size == 0:
            raise ValueError(f"x0 must be a non-empty 1-D array, got shape {x0.shape}")
        if not np.all(np.isfinite(x0)):
            raise ValueError("x0 contains non-finite values")
        self.name, self.x0, self.n = name, x0, x0.size
        self._args = args
        self._fun = fun
        if jac is True:
            self._grad_mode = "combined"
        elif callable(jac):
            self._grad_mode = "callable"
        elif jac is None or jac is False or (isinstance(jac, str) and jac in _FD_CHOICES):
            self._grad_mode = "fd"
        else:
            raise ValueError(f"jac must be a callable, True, None or one of {_FD_CHOICES}, "
                             f"got {jac!r}")
        self._jac_fn = jac
        for label, f in (("hess", hess), ("hessp", hessp)):
            if f is not None and not callable(f) and not isinstance(f, HessianUpdateStrategy) \
                    and not (isinstance(f, str) and f in _FD_CHOICES):
                raise TypeError(f"{label} must be callable or None, got {type(f).__name__}")
        self._hess_fn = hess if callable(hess) and not isinstance(
            hess, HessianUpdateStrategy) else None
        self._hessp_fn = hessp if callable(hessp) else None
        self.bl, self.bu = standardize_bounds(bounds, self.n)
        self._blocks = standardize_constraints(constraints, args=())
        # sizes from one evaluation at x0 (not counted), then the bounds of every row
        cl, cu, slices, start = [], [], [], 0
        for k, blk in enumerate(self._blocks):
            if blk.kind == "linear":
                if blk.linear.shape[1] != self.n:
                    raise ValueError(f"constraints[{k}]: LinearConstraint.A has "
                                     f"{blk.linear.shape[1]} columns, expected n = {self.n}")
                size = blk.linear.shape[0]
            else:
                size = np.atleast_1d(np.asarray(blk.fun(x0.copy()), dtype=np.float64)).size
            try:
                lb = np.broadcast_to(np.asarray(blk.lb, dtype=np.float64), (size,)).copy()
                ub = np.broadcast_to(np.asarray(blk.ub, dtype=np.float64), (size,)).copy()
            except ValueError:
                raise ValueError(f"constraints[{k}]: lb and ub must be scalars or have {size} "
                                 f"entries, got shapes {np.shape(blk.lb)} and "
                                 f"{np.shape(blk.ub)}") from None
            if np.any(np.isnan(lb)) or np.any(np.isnan(ub)):
                raise ValueError(f"constraints[{k}]: lb/ub contain NaN")
            if np.any(lb > ub):
                raise ValueError(f"constraints[{k}]: lb > ub for row(s) "
                                 f"{np.flatnonzero(lb > ub)[:10].tolist()}")
            blk.size = size
            cl.append(lb)
            cu.append(ub)
            slices.append(slice(start, start + size))
            start += size
        self.m = start
        self.cl = np.concatenate(cl) if cl else np.zeros(0)
        self.cu = np.concatenate(cu) if cu else np.zeros(0)
        self.is_eq_cons = self.cl == self.cu
        self.constraint_slices = slices
        self.sparse = any(blk.kind == "linear" and sp.issparse(blk.linear)
                          for blk in self._blocks)
        fd = []
        if self._grad_mode == "fd":
            fd.append("grad")
        if any(blk.jac == "fd" for blk in self._blocks if blk.kind != "linear"):
            fd.append("jac")
        self.has_hessian = (self._hess_fn is not None or self._hessp_fn is not None) and all(
            blk.kind == "linear" or blk.hess is not None for blk in self._blocks)
        self.finite_difference = frozenset(fd)
        if fd:
            warnings.warn(f"{', '.join(fd)} not given; using central finite differences",
                          FiniteDifferenceWarning, stacklevel=3)

    # -- objective -----------------------------------------------------------------------------
    # every evaluation is cached by x (the base class's ``_cached``: one point per kind), so
    # that f and ∇f, c and J at one point cost one call of the user's functions each
    def _compute_f_and_g(self, x):
        f, g = self._fun(x, *self._args)
        return self._checked_f(f), self._checked_g(g)

    def _compute_f(self, x):
        return self._checked_f(self._fun(x, *self._args))

    def _compute_g(self, x):
        if self._grad_mode == "callable":
            return self._checked_g(self._jac_fn(x, *self._args))
        return self._checked_g(_central_difference(lambda z: self._fun(z, *self._args), x,
                                                    self.bl, self.bu))

    def _checked_f(self, f):
        f = np.asarray(f, dtype=np.float64)
        if f.size != 1:
            raise ValueError(f"fun must return a scalar, got an array of shape {f.shape}")
        return float(f.reshape(()))

    def _checked_g(self, g):
        g = np.array(g, dtype=np.float64).ravel()
        if g.shape != (self.n,):
            raise ValueError(f"jac (gradient) returned shape {g.shape}, expected ({self.n},)")
        return g

    def _obj(self, x):
        if self._grad_mode == "combined":
            return self._cached("f_and_g", x, self._compute_f_and_g)[0]
        return self._cached("f", x, self._compute_f)

    def _grad(self, x):
        if self._grad_mode == "combined":
            return self._cached("f_and_g", x, self._compute_f_and_g)[1].copy()
        return self._cached("g", x, self._compute_g).copy()

    # -- constraints ---------------------------------------------------------------------------
    def _block_value(self, k, blk, x):
        if blk.kind == "linear":
            return np.asarray(blk.linear @ x, dtype=np.float64).ravel()
        c = np.array(blk.fun(x.copy()), dtype=np.float64, ndmin=1).ravel()
        if c.size != blk.size:
            raise ValueError(f"constraints[{k}].fun returned {c.size} values, expected "
                             f"{blk.size}")
        return c

    def _block_jac(self, k, blk, x):
        if blk.kind == "linear":
            return blk.linear
        if blk.jac == "fd":
            return _central_difference(blk.fun, x, self.bl, self.bu).reshape(blk.size, self.n)
        return _as_matrix(blk.jac(x.copy()), (blk.size, self.n), f"constraints[{k}].jac")

    def _compute_cons(self, x):
        return np.concatenate([self._block_value(k, b, x) for k, b in enumerate(self._blocks)])

    def _compute_jac(self, x):
        parts = [self._block_jac(k, b, x) for k, b in enumerate(self._blocks)]
        if any(sp.issparse(P) for P in parts):
            self.sparse = True
            return sp.vstack([sp.csr_matrix(P) for P in parts], format="csr")
        return np.vstack(parts)

    def _cons(self, x):
        if not self.m:
            return np.zeros(0)
        return self._cached("c", x, self._compute_cons).copy()

    def _jac(self, x):
        if not self.m:
            return sp.csr_matrix((0, self.n)) if self.sparse else np.zeros((0, self.n))
        return copy_value(self._cached("J", x, self._compute_jac))

    # -- Hessian of the Lagrangian -------------------------------------------------------------
    def _hess(self, x, v):
        if not self.has_hessian or self._hess_fn is None:
            raise NotImplementedError
        H = _as_matrix(self._hess_fn(x.copy(), *self._args), (self.n, self.n), "hess")
        for sl, blk in zip(self.constraint_slices, self._blocks, strict=True):
            if blk.kind == "linear" or not np.any(v[sl]):
                continue
            Hk = _as_matrix(blk.hess(x.copy(), v[sl].copy()), (self.n, self.n),
                            "constraint hess")
            H = (sp.csr_matrix(H) + sp.csr_matrix(Hk)) if (sp.issparse(H) or sp.issparse(Hk)) \
                else H + Hk
        if sp.issparse(H):
            self.sparse = True
        return H

    def _hprod(self, p, x, v):
        if not self.has_hessian:
            raise NotImplementedError
        if self._hess_fn is not None:
            return np.asarray(self._hess(x, v) @ p).ravel()
        out = np.asarray(self._hessp_fn(x.copy(), p.copy(), *self._args),
                         dtype=np.float64).ravel()
        for sl, blk in zip(self.constraint_slices, self._blocks, strict=True):
            if blk.kind == "linear" or not np.any(v[sl]):
                continue
            Hk = blk.hess(x.copy(), v[sl].copy())
            out = out + np.asarray(Hk @ p).ravel()
        return out

    def split_multipliers(self, v: np.ndarray) -> list[np.ndarray]:
        """Row multipliers ``v`` (shape ``(m,)``) as a list aligned with the user's
        constraints."""
        return [np.array(v[s]) for s in self.constraint_slices]

