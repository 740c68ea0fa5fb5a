"""Helpers over any problem: the KKT residual, and scipy.optimize.minimize arguments."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_allocation
from .base import EqualityConstrainedProblem

__all__ = ["kkt_residual", "least_squares_multipliers", "to_scipy"]


def _dense(a: Any) -> np.ndarray:
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)


def least_squares_multipliers(problem: EqualityConstrainedProblem, x: Any) -> np.ndarray:
    """Multipliers minimizing ``‖∇f(x) + J(x)ᵀλ‖₂`` (the sign convention ``L = f + λᵀc``).

    Examples
    --------
    >>> from optsolve.problems import get_problem
    >>> p = get_problem("HS7")
    >>> least_squares_multipliers(p, p.x_opt).round(6)
    array([0.288675])
    """
    g = problem.grad(x)
    if problem.m == 0:
        return np.zeros(0)
    J = problem.jac(x)
    if sp.issparse(J):
        import scipy.sparse.linalg as spla

        return spla.lsqr(J.T.tocsr(), -g, atol=1e-14, btol=1e-14, iter_lim=10 * J.shape[0])[0]
    return np.linalg.lstsq(_dense(J).T, -g, rcond=None)[0]


def kkt_residual(problem: EqualityConstrainedProblem, x: Any, multipliers: Any = None) -> float:
    """``max(‖∇f + Jᵀλ‖∞, ‖c‖∞)``, the stopping measure of equality-constrained solvers.

    Parameters
    ----------
    problem : EqualityConstrainedProblem
    x : array-like of shape (n,)
    multipliers : array-like of shape (m,), optional
        Defaults to the least-squares multipliers at ``x``, which gives the smallest
        stationarity residual any multiplier can (a fair measure for solvers that do not
        report multipliers, like SLSQP through scipy).

    Examples
    --------
    >>> from optsolve.problems import get_problem
    >>> p = get_problem("HS28")
    >>> kkt_residual(p, p.x_opt) < 1e-12, kkt_residual(p, p.x0) > 1
    (True, True)
    """
    x = np.asarray(x, dtype=np.float64)
    lam = (least_squares_multipliers(problem, x) if multipliers is None
           else np.asarray(multipliers, dtype=np.float64))
    g = problem.grad(x)
    if problem.m == 0:
        return float(np.abs(g).max())
    stationarity = g + np.asarray(problem.jac(x).T @ lam).ravel()
    return float(max(np.abs(stationarity).max(), np.abs(problem.cons(x)).max()))


def _slsqp_constraints(problem: EqualityConstrainedProblem) -> list[dict]:
    """SLSQP's dict form: one ``eq`` block, one ``ineq`` block ``s(x) >= 0`` for the finite
    sides of the inequality rows (SLSQP wants them apart)."""
    if problem.is_equality_constrained:
        return [{"type": "eq", "fun": problem.cons, "jac": lambda x: _dense(problem.jac(x))}]
    eq = np.flatnonzero(problem.is_eq_cons)
    ineq = np.flatnonzero(~np.asarray(problem.is_eq_cons, dtype=bool))
    lower = ineq[np.isfinite(problem.cl[ineq])]
    upper = ineq[np.isfinite(problem.cu[ineq])]
    cl, cu = problem.cl[lower], problem.cu[upper]
    out = []
    if eq.size:
        out.append({"type": "eq", "fun": lambda x: problem.cons(x)[eq],
                    "jac": lambda x: _dense(problem.jac(x))[eq]})
    if lower.size or upper.size:
        out.append({
            "type": "ineq",
            "fun": lambda x: np.concatenate([problem.cons(x)[lower] - cl,
                                             cu - problem.cons(x)[upper]]),
            "jac": lambda x: np.vstack([_dense(problem.jac(x))[lower],
                                        -_dense(problem.jac(x))[upper]]),
        })
    return out


def to_scipy(problem: EqualityConstrainedProblem, method: str = "trust-constr") -> dict:
    """Keyword arguments for ``scipy.optimize.minimize`` on ``problem`` from its ``x0``.

    Constraints ``cl <= c(x) <= cu`` become one ``NonlinearConstraint`` (equality rows have
    ``cl_i = cu_i``), finite variable bounds a ``Bounds``; an equality-constrained problem gets
    neither bounds nor inequality rows.

    Parameters
    ----------
    problem : EqualityConstrainedProblem
        Any problem of the protocol, with inequalities and bounds or without.
    method : {'trust-constr', 'SLSQP'}, default='trust-constr'
        trust-constr gets the exact Hessians (objective, and ``Σ v_i ∇²c_i`` as the difference
        of two Lagrangian Hessians); SLSQP uses first derivatives only (dense Jacobians).

    Returns
    -------
    dict
        ``fun``, ``x0``, ``jac``, ``constraints``, ``bounds`` (when some bound is finite),
        ``method`` and, for trust-constr, ``hess``.

    Examples
    --------
    >>> from scipy.optimize import minimize
    >>> from optsolve.problems import get_problem
    >>> p = get_problem("HS28")
    >>> round(float(minimize(**to_scipy(p, "SLSQP")).fun), 8)
    0.0
    """
    from scipy.optimize import Bounds, NonlinearConstraint

    if method not in ("trust-constr", "SLSQP"):
        raise ValueError(f"method must be 'trust-constr' or 'SLSQP', got {method!r}")
    zeros = np.zeros(problem.m)
    kwargs: dict[str, Any] = {"fun": problem.obj, "x0": problem.x0.copy(), "jac": problem.grad,
                              "method": method}
    if problem.has_bounds:
        kwargs["bounds"] = Bounds(problem.bl, problem.bu)
    if method == "SLSQP":
        # SLSQP keeps a dense (n + 1)(n + 2)/2 quasi-Newton factor and an m x n Jacobian
        n, m = problem.n, problem.m
        check_allocation(8 * ((n + 1) * (n + 2) // 2 + m * n), "problem",
                         "scipy's SLSQP", detail="a dense quasi-Newton factor and Jacobian")
        if not problem.m:
            return kwargs
        kwargs["constraints"] = _slsqp_constraints(problem)
        return kwargs
    kwargs["hess"] = lambda x: problem.hess(x, zeros)
    if problem.m:
        kwargs["constraints"] = [NonlinearConstraint(
            problem.cons, problem.cl, problem.cu, jac=problem.jac,
            hess=lambda x, v: problem.hess(x, v) - problem.hess(x, zeros),
        )]
    return kwargs
