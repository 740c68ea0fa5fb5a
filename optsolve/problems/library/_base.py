"""Shared machinery of the library problems: sums of powers of affine forms, linear constraints.

Most classic test objectives are sums of terms ``coef * (aᵀx - b)^p``; writing them as data
(and differentiating them once, here) removes the hand-derived-gradient typos that plague
transcriptions of published test sets. Nonlinear constraints are still written by hand in each
problem, and every derivative is checked against finite differences in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..base import EqualityConstrainedProblem

__all__ = ["LibraryProblem", "PowerSum", "sym", "term"]


def term(coef: float, a: dict[int, float], b: float = 0.0, p: int = 2) -> tuple:
    """One objective term ``coef * (Σ_i a[i] x_i - b) ** p`` (0-based indices)."""
    return (float(coef), dict(a), float(b), int(p))


class PowerSum:
    """``f(x) = Σ_k coef_k (a_kᵀx - b_k)^{p_k}`` with its gradient and Hessian.

    Parameters
    ----------
    terms : sequence of tuples
        Built with :func:`term`.
    n : int
        Number of variables.
    """

    def __init__(self, terms: Sequence[tuple], n: int):
        self.A = np.zeros((len(terms), n))
        self.coef = np.empty(len(terms))
        self.b = np.empty(len(terms))
        self.p = np.empty(len(terms), dtype=np.int64)
        for k, (coef, a, b, p) in enumerate(terms):
            for i, aik in a.items():
                self.A[k, i] = aik
            self.coef[k], self.b[k], self.p[k] = coef, b, p

    def value(self, x: np.ndarray) -> float:
        t = self.A @ x - self.b
        return float(np.sum(self.coef * t**self.p))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        t = self.A @ x - self.b
        return self.A.T @ (self.coef * self.p * t ** (self.p - 1))

    def hessian(self, x: np.ndarray) -> np.ndarray:
        t = self.A @ x - self.b
        # p(p-1) t^(p-2) with the p < 2 terms (linear) contributing nothing, even at t = 0
        curvature = np.where(
            self.p >= 2, self.coef * self.p * (self.p - 1) * t ** np.maximum(self.p - 2, 0), 0.0
        )
        return (self.A.T * curvature) @ self.A


class LibraryProblem(EqualityConstrainedProblem):
    """A built-in test problem with a published definition and solution.

    Subclasses give ``name``, ``n``, ``m``, ``x0``, ``x_opt``, ``f_opt``, ``source`` as class
    attributes (tuples are fine; instances get their own float arrays) and either
    ``objective_terms`` (see :func:`term`) or ``_obj``/``_grad``/``_hess_obj``, and either
    ``linear_constraints = (C, d)`` (``c = C x - d``) or ``_cons``/``_jac``/``_cons_hessians``.

    Attributes
    ----------
    notes : str
        Caveats: degenerate solutions, local minima reached from ``x0``, refined digits.
    unique_x : bool
        False when other points share ``f_opt`` (several roots, symmetries, constant
        objectives on a curve): compare objective values, not ``x``, then.
    other_local_f : tuple of float
        Objective values of other known local solutions (a solver may legitimately stop there).
    params : dict
        Parameters of scalable problems (empty otherwise).
    """

    objective_terms: Sequence[tuple] | None = None
    linear_constraints: tuple[Any, Any] | None = None
    notes: str = ""
    unique_x: bool = True
    other_local_f: tuple[float, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.x0 = np.array(self.x0, dtype=np.float64)  # class tuple -> instance array
        if not isinstance(getattr(type(self), "x_opt", None), property):  # lazy ones stay lazy
            if self.x_opt is not None:
                self.x_opt = np.array(self.x_opt, dtype=np.float64)
        if self.objective_terms is not None:
            self._power_sum = PowerSum(self.objective_terms, self.n)
        if self.linear_constraints is not None:
            C, d = self.linear_constraints
            self._C = np.array(C, dtype=np.float64).reshape(self.m, self.n)
            self._d = np.array(d, dtype=np.float64).reshape(self.m)

    # -- objective ----------------------------------------------------------------------------
    def _obj(self, x: np.ndarray) -> float:
        return self._power_sum.value(x)

    def _grad(self, x: np.ndarray) -> np.ndarray:
        return self._power_sum.gradient(x)

    def _hess_obj(self, x: np.ndarray) -> np.ndarray:
        return self._power_sum.hessian(x)

    # -- constraints --------------------------------------------------------------------------
    def _cons(self, x: np.ndarray) -> np.ndarray:
        return self._C @ x - self._d

    def _jac(self, x: np.ndarray) -> np.ndarray:
        return self._C.copy()

    def _cons_hessians(self, x: np.ndarray) -> np.ndarray:
        """Hessians of the constraints, shape (m, n, n)."""
        return np.zeros((self.m, self.n, self.n))

    def _hess(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        H = np.array(self._hess_obj(x), dtype=np.float64)
        if self.m:
            H += np.tensordot(v, self._cons_hessians(x), axes=1)
        return H


def sym(n: int, entries: dict[tuple[int, int], float]) -> np.ndarray:
    """Symmetric (n, n) matrix from its upper-triangle entries ``{(i, j): value}``."""
    H = np.zeros((n, n))
    for (i, j), value in entries.items():
        H[i, j] = value
        H[j, i] = value
    return H
