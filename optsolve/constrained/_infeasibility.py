"""Infeasibility of :func:`optsolve.constrained.minimize`'s problem: the local test on an
iterate, and the least-squares check of the violation that certifies it (or finds a feasible
point to restart from, a feasibility restoration)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from .optimality import RowStructure

#: a failed run is reported infeasible when least squares on the violation from its last
#: iterate (at most FEASIBILITY_CHECK_EVALS evaluations) ends above FEASIBILITY_CHECK_TOL
FEASIBILITY_CHECK_TOL, FEASIBILITY_CHECK_EVALS = 1e-6, 500
#: local infeasibility: violation > tol at a stationary point of ½‖(c_E, max(g, 0))‖²
#: (‖∇‖ <= INFEASIBLE_RTOL ‖G‖_F ‖violation‖) on INFEASIBLE_PATIENCE consecutive iterations
INFEASIBLE_RTOL, INFEASIBLE_PATIENCE = 1e-4, 3


def _minimal_violation(problem, rows: RowStructure, x0: np.ndarray, tol: float = 0.0,
                       bounded: bool = False) -> tuple[float, np.ndarray | None]:
    """``(‖(c_E, max(g, 0))‖∞, x_feasible)`` at a local minimizer of ``½‖(c_E, max(g, 0))‖²``
    from ``x0`` (Gauss–Newton with trust region, scipy's ``least_squares``): when a run fails
    with the constraints violated, this tells an infeasible problem from a failure to
    converge. The violation is 0 unless certified (converged to a stationary point of the
    violation); ``x_feasible`` is the minimizer when its violation is at most ``tol`` (a
    feasibility restoration the solver restarts from), else None. With ``bounded`` (the
    iterates must stay inside the bounds) the search keeps the bounds as bounds (trust-region
    reflective on the free variables, fixed ones held), so that the functions are never
    evaluated outside them."""
    from scipy.optimize import least_squares

    free = np.ones(x0.size, dtype=bool)
    box = (-np.inf, np.inf)
    if bounded:
        free = rows.bl < rows.bu
        box = (rows.bl[free], rows.bu[free])

    def full(z):
        if free.all():
            return z
        x = x0.copy()
        x[free] = z
        return x

    def residual(z):
        x = full(z)
        c = problem.cons(x) if problem.m else np.zeros(0)
        return np.concatenate([rows.equalities(c, x), np.maximum(rows.inequalities(c, x), 0.0)])

    def jacobian(z):
        x = full(z)
        J = problem.jac(x) if problem.m else np.zeros((0, x.size))
        if problem.m and not sp.issparse(J):
            J = np.asarray(J, dtype=np.float64).reshape(problem.m, x.size)
        GE, GI = rows.jacobians(J)
        c = problem.cons(x) if problem.m else np.zeros(0)
        on = (rows.inequalities(c, x) > 0).astype(float)
        if sp.issparse(GI) or sp.issparse(GE):
            return sp.vstack([sp.csr_matrix(GE), sp.diags(on) @ sp.csr_matrix(GI)],
                             format="csr")[:, np.flatnonzero(free)]
        return np.vstack([GE, on[:, None] * GI])[:, free]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = least_squares(residual, x0[free], jac=jacobian, bounds=box, method="trf",
                                xtol=1e-15, ftol=1e-15, gtol=1e-12,
                                max_nfev=FEASIBILITY_CHECK_EVALS, x_scale="jac")
        r = residual(sol.x)
        sol.x = full(sol.x)
    except Exception:  # the check is advisory: any failure keeps the original status
        return 0.0, None
    viol = float(np.max(np.abs(r))) if r.size else 0.0
    if viol <= tol and np.all(np.isfinite(sol.x)):
        return 0.0, sol.x  # a feasible point: the caller may restart from it
    if sol.status <= 0:  # the evaluation budget ran out: no claim of infeasibility
        return 0.0, None
    # a stationary point of the violation, not a stop at a kink of max(g, 0): ‖Jᵀr‖ small
    # next to ‖r‖ (the same relative test as IPOPT's local infeasibility)
    if not sol.optimality <= INFEASIBLE_RTOL * max(1.0, float(np.linalg.norm(r))):
        return 0.0, None
    return viol, None


def _certified_violation(problem, rows: RowStructure, x: np.ndarray, x0: np.ndarray,
                         tol: float = 0.0,
                         bounded: bool = False) -> tuple[float, np.ndarray | None]:
    """:func:`_minimal_violation` from the last iterate ``x``, and, when that certifies a
    violation, also from the starting point ``x0``: the iterates can be drawn into a local
    minimizer of the violation of a feasible problem (nonconvex constraints; FLETCHER, HS93)
    that the start does not lead to. Infeasibility is claimed only when both certify it (the
    smaller violation is reported); a feasible point found from ``x0`` is returned for the
    restart."""
    viol, x_feas = _minimal_violation(problem, rows, x, tol, bounded)
    if viol <= max(tol, FEASIBILITY_CHECK_TOL) or np.array_equal(x, x0):
        return viol, x_feas
    viol0, x_feas0 = _minimal_violation(problem, rows, x0, tol, bounded)
    if x_feas0 is not None:
        return 0.0, x_feas0
    if viol0 <= max(tol, FEASIBILITY_CHECK_TOL):
        return 0.0, None  # no certificate from the start: no claim
    return min(viol, viol0), None


def _locally_infeasible(pt, tol: float) -> bool:
    """Violation ``> tol`` at a stationary point of ``½‖(c_E, max(g, 0))‖²``."""
    viol_i = np.maximum(pt.gI, 0.0)
    viol = np.concatenate([pt.cE, viol_i])
    if not viol.size or float(np.max(np.abs(viol))) <= tol:
        return False
    grad = np.zeros(pt.x.size)
    norm_sq = 0.0
    for G, r in ((pt.GE, pt.cE), (pt.GI, viol_i)):
        if r.size:
            grad += np.asarray(G.T @ r).ravel()
            data = G.data if sp.issparse(G) else G
            norm_sq += float(np.sum(np.asarray(data) ** 2))
    return float(np.linalg.norm(grad)) <= INFEASIBLE_RTOL * max(np.sqrt(norm_sq), 1e-300) * \
        float(np.linalg.norm(viol))
