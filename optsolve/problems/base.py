"""The constrained problem protocol, in pycutest's method names.

A problem is ``min f(x) s.t. cl <= c(x) <= cu, bl <= x <= bu`` with ``x`` in R^n and ``c`` in
R^m, pycutest's (and CUTEst's) form. Equality rows (``is_eq_cons``) are shifted to read
``c_i(x) = 0`` (``cl_i = cu_i = 0``); absent bounds are ``±inf``. The defaults (every row an
equality, no variable bound) make a problem that sets none of these attributes the
equality-constrained ``min f(x) s.t. c(x) = 0``. Subclasses implement the private evaluators;
the public methods (named as in pycutest so that a CUTEst problem plugs in through a thin
adapter) validate ``x`` and count evaluations.

=============================  ==================================================================
method                         returns
=============================  ==================================================================
``obj(x, gradient=False)``     ``f`` or ``(f, g)``
``grad(x)``                    ``g = ∇f(x)``, shape (n,)
``cons(x, gradient=False)``    ``c`` or ``(c, J)``; ``J`` is (m, n), dense or scipy.sparse
``jac(x)``                     ``J = ∇c(x)ᵀ``, shape (m, n)
``hess(x, v)``                 Hessian of the Lagrangian ``∇²f(x) + Σ v_i ∇²c_i(x)``, (n, n)
``hprod(p, x, v)``             ``hess(x, v) @ p``
``jprod(p, x, transpose)``     ``J @ p`` or ``J.T @ p``
=============================  ==================================================================

=============================  ==================================================================
attribute                      meaning
=============================  ==================================================================
``bl``, ``bu``                 variable bounds, shape (n,), ``±inf`` when absent
``cl``, ``cu``                 bounds on ``cons(x)``, shape (m,); zeros on equality rows
``is_eq_cons``                 bool, shape (m,): which rows are equalities
``n_eq``, ``n_ineq``           numbers of equality and inequality rows
``has_bounds``                 whether some variable has a finite bound
=============================  ==================================================================

Sign convention: the Lagrangian is ``L = f + vᵀc`` (pycutest's and the paper's); at a KKT point
``v_i >= 0`` on a row active at its upper bound ``cu_i``, ``v_i <= 0`` at its lower bound ``cl_i``.
Large problems may return scipy.sparse ``J`` and Hessians; solvers accept both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["EqualityConstrainedProblem", "copy_value"]


def _stored(name: str, default):
    """A per-instance array attribute whose default depends on ``n``/``m`` (set to override)."""
    key = "_" + name

    def get(self) -> np.ndarray:
        value = self.__dict__.get(key)
        return default(self) if value is None else value

    def set_(self, value) -> None:
        self.__dict__[key] = None if value is None else np.asarray(value)

    return property(get, set_)

COUNTER_NAMES = ("nfev", "ngev", "ncev", "njev", "nhev", "nhprod", "njprod")


def copy_value(value: Any) -> Any:
    """A copy of an evaluation (array, scipy.sparse matrix, tuple of them, or a scalar) that
    shares no buffer with ``value``."""
    if isinstance(value, tuple):
        return tuple(copy_value(v) for v in value)
    if sp.issparse(value):
        return value.copy()
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


class EqualityConstrainedProblem:
    """Base class of constrained problems (equality-constrained unless told otherwise).

    Subclasses set ``n``, ``m``, ``x0`` (and, when known, ``x_opt``, ``f_opt``, ``source``)
    and implement ``_obj``, ``_grad``, ``_cons``, ``_jac`` and ``_hess`` (Hessian of the
    Lagrangian). ``_hprod`` and ``_jprod`` default to products with the full matrices.

    Attributes
    ----------
    name : str
    n, m : int
        Numbers of variables and of constraints.
    x0 : ndarray of shape (n,)
        Standard starting point.
    bl, bu : ndarray of shape (n,)
        Variable bounds (default ``-inf``/``+inf``: none).
    cl, cu : ndarray of shape (m,)
        Bounds on ``cons(x)`` (default zeros: every row an equality ``c_i(x) = 0``).
    is_eq_cons : ndarray of bool, shape (m,)
        Which rows are equalities (default all).
    x_opt : ndarray of shape (n,) or None
        A known solution (one of them if several).
    f_opt : float or None
        The known optimal objective value.
    source : str
        Bibliographic reference of the definition.
    sparse : bool
        Whether ``jac`` and ``hess`` return scipy.sparse matrices (large problems).
    finite_difference : frozenset of str
        Derivatives (``"grad"``, ``"jac"``, ``"hess"``) that are finite-difference
        approximations rather than exact; empty for library and CUTEst problems.
    counts : dict
        Evaluation counters (``nfev``, ``ngev``, ``ncev``, ``njev``, ``nhev``, ``nhprod``,
        ``njprod``); :meth:`reset_counts` zeroes them.

    Examples
    --------
    >>> import numpy as np
    >>> class Circle(EqualityConstrainedProblem):
    ...     name, n, m, x0 = "circle", 2, 1, np.array([1.0, 1.0])
    ...     def _obj(self, x): return x[0] + x[1]
    ...     def _grad(self, x): return np.ones(2)
    ...     def _cons(self, x): return np.array([x @ x - 2.0])
    ...     def _jac(self, x): return 2.0 * x[None, :]
    ...     def _hess(self, x, v): return 2.0 * v[0] * np.eye(2)
    >>> p = Circle()
    >>> p.obj(p.x0), p.cons(p.x0), p.counts["nfev"]
    (2.0, array([0.]), 1)
    """

    name: str = "problem"
    n: int = 0
    m: int = 0
    x0: np.ndarray
    x_opt: np.ndarray | None = None
    f_opt: float | None = None
    source: str = ""
    sparse: bool = False
    finite_difference: frozenset = frozenset()

    bl = _stored("bl", lambda self: np.full(self.n, -np.inf))
    bu = _stored("bu", lambda self: np.full(self.n, np.inf))
    cl = _stored("cl", lambda self: np.zeros(self.m))
    cu = _stored("cu", lambda self: np.zeros(self.m))
    is_eq_cons = _stored("is_eq_cons", lambda self: np.ones(self.m, dtype=bool))

    @property
    def n_eq(self) -> int:
        """Number of equality constraints."""
        return int(np.count_nonzero(self.is_eq_cons))

    @property
    def n_ineq(self) -> int:
        """Number of inequality constraints."""
        return int(self.m - self.n_eq)

    @property
    def has_bounds(self) -> bool:
        """Whether some variable has a finite bound."""
        return bool(np.any(np.isfinite(self.bl)) or np.any(np.isfinite(self.bu)))

    @property
    def is_equality_constrained(self) -> bool:
        """True for ``min f(x) s.t. c(x) = 0``: no inequality row, no finite variable bound."""
        return self.n_ineq == 0 and not self.has_bounds

    # -- to implement -------------------------------------------------------------------------
    def _obj(self, x: np.ndarray) -> float:
        raise NotImplementedError

    def _grad(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _cons(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _jac(self, x: np.ndarray) -> Any:
        raise NotImplementedError

    def _hess(self, x: np.ndarray, v: np.ndarray) -> Any:
        raise NotImplementedError

    def _hprod(self, p: np.ndarray, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.asarray(self._hess(x, v) @ p).ravel()

    def _jprod(self, p: np.ndarray, x: np.ndarray, transpose: bool) -> np.ndarray:
        J = self._jac(x)
        return np.asarray((J.T @ p) if transpose else (J @ p)).ravel()

    # -- evaluation cache ------------------------------------------------------------------------
    def _cached(self, kind: str, x: np.ndarray, compute: Callable[[np.ndarray], Any]) -> Any:
        """``compute(x)``, evaluated once per point: the value last computed for ``kind`` is
        returned while ``x`` is the same (one point per ``kind``).

        Solvers ask for ``f`` and ``∇f`` (``c`` and ``J``) at the same point one call after
        the other, and an adapter whose evaluator returns them together (S2MPJ's ``fgx`` and
        ``cJx``, a user's ``fun`` returning ``(f, g)``) pays for one evaluation. The key is a
        copy of ``x`` and ``compute`` gets another, so neither the caller nor the evaluator
        can change the key by writing into ``x``; the stored value is the cache's own:
        callers must hand out copies (:func:`copy_value`), never the stored arrays.
        """
        cache = self.__dict__.setdefault("_eval_cache", {})
        hit = cache.get(kind)
        if hit is not None and hit[0].shape == x.shape and np.array_equal(hit[0], x):
            return hit[1]
        value = compute(x.copy())
        cache[kind] = (x.copy(), value)
        return value

    def _cached_at(self, kind: str, x: np.ndarray) -> Any:
        """The value stored for ``kind`` if it was computed at ``x``, else None."""
        hit = self.__dict__.get("_eval_cache", {}).get(kind)
        if hit is not None and hit[0].shape == x.shape and np.array_equal(hit[0], x):
            return hit[1]
        return None

    def clear_cache(self) -> None:
        """Forget the values cached at the last points (after changing the problem's data)."""
        self.__dict__.pop("_eval_cache", None)

    # -- public, pycutest names -----------------------------------------------------------------
    @property
    def counts(self) -> dict[str, int]:
        c = self.__dict__.setdefault("_counts", dict.fromkeys(COUNTER_NAMES, 0))
        return c

    def reset_counts(self) -> None:
        self.__dict__["_counts"] = dict.fromkeys(COUNTER_NAMES, 0)

    def _x(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n,):
            raise ValueError(
                f"x must have shape ({self.n},) for problem {self.name}, got {x.shape}"
            )
        return x

    def _v(self, v: Any) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if v.shape != (self.m,):
            raise ValueError(
                f"v (multipliers) must have shape ({self.m},) for problem {self.name}, "
                f"got {v.shape}"
            )
        return v

    def obj(self, x, gradient: bool = False):
        x = self._x(x)
        self.counts["nfev"] += 1
        f = float(self._obj(x))
        if gradient:
            self.counts["ngev"] += 1
            return f, np.asarray(self._grad(x), dtype=np.float64)
        return f

    def grad(self, x) -> np.ndarray:
        x = self._x(x)
        self.counts["ngev"] += 1
        return np.asarray(self._grad(x), dtype=np.float64)

    def cons(self, x, gradient: bool = False):
        x = self._x(x)
        self.counts["ncev"] += 1
        c = np.asarray(self._cons(x), dtype=np.float64).reshape(self.m)
        if gradient:
            self.counts["njev"] += 1
            return c, self._jac(x)
        return c

    def jac(self, x):
        x = self._x(x)
        self.counts["njev"] += 1
        return self._jac(x)

    def hess(self, x, v):
        x, v = self._x(x), self._v(v)
        self.counts["nhev"] += 1
        return self._hess(x, v)

    def hprod(self, p, x, v) -> np.ndarray:
        x, v = self._x(x), self._v(v)
        self.counts["nhprod"] += 1
        return self._hprod(np.asarray(p, dtype=np.float64), x, v)

    def jprod(self, p, x, transpose: bool = False) -> np.ndarray:
        x = self._x(x)
        self.counts["njprod"] += 1
        return self._jprod(np.asarray(p, dtype=np.float64), x, transpose)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: n={self.n}, m={self.m}>"
