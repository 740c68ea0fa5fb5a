"""Matrix-free Newton–CG for ``min f(x) s.t. c(x) = 0, l <= x <= u`` (few equality constraints).

The Newton steps of :func:`~optsolve.constrained.minimize_eq` solve the KKT system with ``K``
assembled; for a loss such as logistic regression on a wide sparse ``X`` the (1,1) block
``XᵀDX`` fills in (``Σᵢ nnz(xᵢ)²`` entries, 50 million for a 20000 x 200000 matrix with 50
non-zeros a row) while ``X`` itself holds one million. This module never forms a matrix of
the size of the Hessian: it needs only Hessian-vector products ``v ↦ ∇²ₓL v`` (for a GLM
``Xᵀ(D(Xv)) + αv``, two passes over ``X``) and the diagonal of ``∇²ₓL``, so memory stays
``O(nnz(X) + n m)``.

Method (bound-constrained augmented Lagrangian, Conn, Gould & Toint 1991; Nocedal & Wright,
Algorithm 17.4, with the updates of ALGENCAN, Andreani et al. 2008). The equality constraints
enter the augmented Lagrangian

    Φ_ρ(x; λ) = f(x) + λᵀc(x) + (ρ/2)‖c(x)‖²,

minimized over the box by a projected Newton–CG method (Bertsekas 1982; the ε-active set of
TRON, Lin & Moré 1999) to a tolerance ``ω`` shrinking tenfold per outer iteration, after which
``λ ← λ + ρc``, and ``ρ ← 10ρ`` when ``‖c‖∞`` did not halve. Its Newton system

    (∇²ₓL(x, λ + ρc) + ρ GᵀG) Δx = -∇Φ_ρ

on the free variables is the Schur complement of the regularized KKT system
``[[∇²ₓL, Gᵀ], [G, -I/ρ]]``: it is solved by CG preconditioned by the block-diagonal
preconditioner ``diag(D, G D⁻¹ Gᵀ + I/ρ)`` of that saddle-point system carried to the Schur
complement (``D`` the diagonal of ``∇²ₓL``; Woodbury's identity, an ``m x m`` Cholesky), the
matrix-free counterpart of the family's KKT solve, with the bounds handled by projection
rather than by a saddle-point block per bound. The constraint rows are scaled to unit norm
first. Negative curvature met by CG is removed by a shift ``+δI`` grown as in the assembled
method's inertia correction.

The stopping measure is the projected KKT residual

    max(‖x - P[x - ∇ₓL(x, λ)]‖∞, ‖c(x)‖∞),

which is ``max(‖∇ₓL‖∞, ‖c‖∞)`` of :func:`minimize_eq` when there are no bounds.

Each iteration costs ``O(nnz + n m)`` per CG step; an inner budget ``max_cg`` keeps a
truncated-Newton step affordable, the forcing term ``min(0.1, √‖∇Φ‖)`` (Eisenstat & Walker
1996) keeps the local rate superlinear.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .._optimize import History, OptimizeResult, ProgressReporter, call_callback, make_result
from .._status import Status, termination_message, warn_status
from .._validation import CheckedOptions, option
from ._driver import REG_FIRST, REG_GROWTH, REG_MIN

__all__ = ["NEWTON_CG_OPTIONS", "minimize_bound_al"]

logger = logging.getLogger("optsolve.constrained")

#: first penalty ρ₀ and its growth factor when ‖c‖ did not shrink enough (Nocedal & Wright,
#: Algorithm 17.4 uses the same factor), and the ceiling beyond which the run stops
RHO0, RHO_GROWTH, RHO_MAX = 10.0, 10.0, 1e12
#: ‖c‖ must shrink by this factor between two outer iterations, else ρ grows (ALGENCAN's τ)
C_SHRINK = 0.5
#: first inner tolerance ω and its factor per outer iteration
OMEGA0, OMEGA_SHRINK = 1e-1, 0.1
#: Armijo constant of the projected search (Bertsekas 1982, eq. (33)) and backtracking factor
ARMIJO, BACKTRACK, MAX_BACKTRACKS = 1e-4, 0.5, 40
#: largest forcing term of the CG solve, ‖r‖ <= min(FORCING_MAX, √‖∇Φ‖) ‖∇Φ‖ (Eisenstat &
#: Walker 1996 use 0.5; with the Schur-complement preconditioner one CG step often meets 0.5 and
#: the Newton step degrades to a scaled gradient step)
FORCING_MAX = 0.1
#: shifts H + δI tried per Newton step before a scaled gradient step is taken
MAX_SHIFTS = 30
#: relative rounding error allowed in the Armijo test
ROUNDOFF = 8 * np.finfo(float).eps
#: largest ε of the ε-active set (Bertsekas 1982, eq. (31)): ε = min(EPS_ACTIVE, ‖x - P[x - g]‖)
EPS_ACTIVE = 1e-3
#: infeasibility test: ‖c‖∞ > tol while the projected gradient of ½‖c‖² is below
#: INFEASIBLE_RTOL ‖G‖_F ‖c‖, on INFEASIBLE_PATIENCE consecutive outer iterations
INFEASIBLE_RTOL, INFEASIBLE_PATIENCE = 1e-4, 3

_DEFAULTS = {
    "max_cg": None,
    "max_inner": 200,
    "rho0": RHO0,
    "record_history": False,
    "verbose": 0,
}

#: options of the matrix-free method, checked like keyword arguments
NEWTON_CG_OPTIONS = CheckedOptions("newton-cg", _DEFAULTS, {
    "max_cg": option("int", low=1, allow_none=True),
    "max_inner": option("int", low=1),
    "rho0": option("real", low=0.0, include_low=False),
    "record_history": option("bool"),
    "verbose": option("int", low=0),
})

_MESSAGES = {
    Status.SUCCESS: termination_message(Status.SUCCESS, "projected KKT residual below tol"),
    Status.MAX_ITER: termination_message(Status.MAX_ITER, "Newton iterations"),
    Status.STALLED: termination_message(
        Status.STALLED, "the penalty reached its ceiling before the constraints were met"),
    Status.LINE_SEARCH_FAILED: termination_message(
        Status.LINE_SEARCH_FAILED, "no decrease of the augmented Lagrangian"),
    Status.INFEASIBLE: termination_message(
        Status.INFEASIBLE, "the constraint violation is at a stationary point of ½‖c‖² on "
        "the bounds and not zero"),
    Status.NON_FINITE: termination_message(Status.NON_FINITE, "returned by the problem"),
    Status.CALLBACK_STOP: termination_message(Status.CALLBACK_STOP),
}


class _Scaled:
    """``c̃ = c / s``, ``G̃ = G / s`` with ``s`` the row norms of ``G`` at the first point."""

    def __init__(self, cons, jac, scale):
        self.cons, self.jac, self.s = cons, jac, scale

    def c(self, x):
        return self.cons(x) / self.s

    def G(self, x):
        G = self.jac(x)
        if sp.issparse(G):
            return sp.csr_matrix(sp.diags(1.0 / self.s) @ G)
        return np.asarray(G, dtype=np.float64) / self.s[:, None]


def _project(x, lower, upper):
    return np.minimum(np.maximum(x, lower), upper)


def _pg(x, g, lower, upper):
    """``x - P[x - g]``, the projected gradient (zero exactly at a box-KKT point)."""
    return x - _project(x - g, lower, upper)


class _Preconditioner:
    """``(D + ρ G_Fᵀ G_F)⁻¹`` restricted to the free variables, ``D`` the diagonal of the Hessian
    of the Lagrangian (clipped positive) plus the shift: Woodbury's identity

        (D + ρGᵀG)⁻¹ = D⁻¹ - D⁻¹Gᵀ (I/ρ + G D⁻¹ Gᵀ)⁻¹ G D⁻¹,

    i.e. the block-diagonal preconditioner ``diag(D, G D⁻¹ Gᵀ + I/ρ)`` of the regularized KKT
    system carried to its Schur complement. Without the ``m x m`` correction the cluster of
    ``ρ GᵀG`` would end CG after one step at a loose forcing term, leaving a gradient step."""

    def __init__(self, diag, G, rho, free, shift):
        dmax = float(np.max(diag)) if diag.size else 1.0
        d = np.maximum(diag, 1e-8 * dmax if dmax > 0 else 1.0) + shift
        self.dinv = np.where(free, 1.0 / d, 0.0)
        self.scale = float(np.max(d)) if d.size else 1.0
        self.mean = float(np.mean(d)) if d.size else 1.0
        self.GD = None
        if G is not None and G.shape[0]:
            if sp.issparse(G):  # stays sparse: O(nnz(G)) (m x m Gram densified only)
                self.GD = sp.csr_matrix(G @ sp.diags(self.dinv))
                gram = (self.GD @ G.T).toarray()
            else:
                self.GD = G * self.dinv  # G_F D⁻¹ (inactive columns are zero)
                gram = self.GD @ G.T
            S = np.eye(G.shape[0]) / rho + gram
            self.chol = scipy.linalg.cho_factor(S + 1e-14 * np.trace(S) * np.eye(len(S)))

    def __call__(self, r):
        z = self.dinv * r
        if self.GD is not None:
            z -= np.asarray(self.GD.T @ scipy.linalg.cho_solve(self.chol, self.GD @ r)).ravel()
        return z


def _cg(hessp: Callable, b: np.ndarray, psolve: Callable, free: np.ndarray, rtol: float,
        max_iter: int, shift: float = 0.0) -> tuple[np.ndarray, int, float | None]:
    """Preconditioned CG on ``(H + shift I)_FF d = b_F`` (components outside ``free`` stay
    zero).

    Stops at ``‖r‖ <= rtol ‖b_F‖``, after ``max_iter`` steps, or at a direction ``p`` of
    non-positive curvature. Returns ``(d, steps, q)`` with ``q = pᵀ(H + shift I)p / pᵀp`` at
    such a direction, else None."""
    d = np.zeros_like(b)
    r = np.where(free, b, 0.0)
    bnorm = float(np.linalg.norm(r))
    if bnorm == 0.0:
        return d, 0, None
    z = psolve(r)
    p = z.copy()
    rz = float(r @ z)
    for k in range(max_iter):
        Hp = hessp(p)
        if shift:
            Hp += shift * p
        Hp[~free] = 0.0
        pp = float(p @ p)
        curv = float(p @ Hp)
        if curv <= 1e-14 * pp * max(1.0, psolve.scale):
            return d, k + 1, curv / pp
        a = rz / curv
        d += a * p
        r -= a * Hp
        if float(np.linalg.norm(r)) <= rtol * bnorm:
            return d, k + 1, None
        z = psolve(r)
        rz_new = float(r @ z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return d, max_iter, None


def minimize_bound_al(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    hess: Callable[[np.ndarray, np.ndarray], tuple[Callable, np.ndarray]],
    x0: np.ndarray,
    *,
    cons: Callable[[np.ndarray], np.ndarray] | None = None,
    jac: Callable[[np.ndarray], Any] | None = None,
    n_constraints: int = 0,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    tol: float = 1e-6,
    max_iter: int = 100,
    callback: Callable | None = None,
    options: dict | None = None,
) -> OptimizeResult:
    """Minimize ``f(x)`` subject to ``c(x) = 0`` and ``lower <= x <= upper`` with Hessian-vector
    products only (bound-constrained augmented Lagrangian, projected Newton–CG inner solves).

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (f, ∇f)``.
    hess : callable
        ``hess(x, y) -> (hessp, diag)``: ``hessp(v)`` is ``∇²ₓL(x, y) v`` with
        ``∇²ₓL = ∇²f + Σⱼ yⱼ ∇²cⱼ`` and ``diag`` its diagonal (for the Jacobi preconditioner).
    x0 : ndarray of shape (n,)
        Starting point (projected onto the bounds).
    cons, jac : callable, optional
        ``cons(x) -> c`` of shape ``(m,)`` and ``jac(x) -> G`` of shape ``(m, n)`` (ndarray or
        scipy.sparse); ``m`` is expected to be small next to ``n``.
    n_constraints : int
        ``m`` (0 when there are no equality constraints).
    lower, upper : ndarray of shape (n,), optional
        Bounds (``±inf`` where absent).
    tol : float
        Stop when the projected KKT residual ``max(‖x - P[x - ∇ₓL]‖∞, ‖c‖∞) <= tol``.
    max_iter : int
        Maximum number of Newton iterations (all inner iterations together).
    callback : callable, optional
        ``callback(intermediate_result)`` after each Newton iteration (``x``, ``fun``,
        ``multipliers``, ``kkt``, ``nit``); ``StopIteration`` stops.
    options : dict, optional
        ``max_cg`` (CG steps per Newton step, default ``clip(n, 50, 1000)``), ``max_inner``
        (Newton steps per augmented-Lagrangian subproblem, 200), ``rho0`` (first penalty, 10),
        ``record_history``, ``verbose``.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``multipliers`` (``L = f + λᵀc``), ``lower_multipliers``,
        ``upper_multipliers`` (``∇f + Gᵀλ - z_l + z_u = 0``, both ``>= 0``), ``kkt``,
        ``constr_violation``, ``success``, ``status``, ``message``, ``nit`` (Newton
        iterations), ``n_outer`` (multiplier updates), ``n_cg`` (Hessian-vector products),
        ``rho``, and ``history`` when ``options['record_history']``.

    Examples
    --------
    >>> import numpy as np
    >>> fun = lambda x: (0.5 * x @ x - x.sum(), x - 1.0)
    >>> hess = lambda x, y: ((lambda v: v.copy()), np.ones(3))
    >>> res = minimize_bound_al(fun, hess, np.zeros(3), cons=lambda x: np.array([x[0] - x[1]]),
    ...                         jac=lambda x: np.array([[1.0, -1.0, 0.0]]), n_constraints=1,
    ...                         lower=np.zeros(3), upper=np.array([np.inf, np.inf, 0.5]))
    >>> res.success, np.round(res.x, 6).tolist()
    (True, [1.0, 1.0, 0.5])
    """
    opts = NEWTON_CG_OPTIONS.resolve(options)
    x = np.array(x0, dtype=np.float64)
    n = x.size
    m = int(n_constraints)
    lower = np.full(n, -np.inf) if lower is None else np.asarray(lower, dtype=np.float64)
    upper = np.full(n, np.inf) if upper is None else np.asarray(upper, dtype=np.float64)
    x = _project(x, lower, upper)
    max_cg = opts["max_cg"] or int(min(max(n, 50), 1000))
    history = History("kkt") if opts["record_history"] else None

    if m:
        G0 = jac(x)
        scale = (np.sqrt(np.asarray(G0.multiply(G0).sum(axis=1)).ravel()) if sp.issparse(G0)
                 else np.linalg.norm(np.asarray(G0, dtype=np.float64), axis=1))
        scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
        sc = _Scaled(cons, jac, scale)
    else:
        scale = np.ones(0)
        sc = None

    lam = np.zeros(m)  # multipliers of the scaled constraints
    rho = float(opts["rho0"])
    n_cg = nit = n_outer = 0
    n_infeasible = 0
    status = None

    def evaluate(x):
        f, g = fun(x)
        if m:
            c, G = sc.c(x), sc.G(x)
        else:
            c, G = np.zeros(0), np.zeros((0, n))
        return float(f), np.asarray(g, dtype=np.float64), c, G

    def grad_phi(g, c, G, y):
        return g + np.asarray(G.T @ y).ravel() if m else g

    def measures(x, g, c, G):
        """(projected KKT residual in the user's units, stationarity part, ‖c‖∞)."""
        gl = grad_phi(g, c, G, lam + rho * c)
        st = float(np.max(np.abs(_pg(x, gl, lower, upper)))) if n else 0.0
        cv = float(np.max(np.abs(c * scale))) if m else 0.0
        return max(st, cv), st, cv

    f, g, c, G = evaluate(x)
    if not (np.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(c))):
        return _finish(x, f, g, c, G, lam, rho, scale, lower, upper, Status.NON_FINITE, 0, 0,
                       0, history, tol, " at x0")
    # the inner tolerance ω and the feasibility target η of Algorithm 17.4
    omega = max(tol, OMEGA0) if m else tol
    omega_min = 0.1 * tol
    c_prev = np.inf
    shift_last = 0.0
    max_outer = max_iter + 100
    reporter = ProgressReporter(max_iter, "newton-cg", opts["verbose"], "kkt")
    with reporter:
        while status is None:
            # ---- inner: projected Newton-CG on Φ_ρ(·; λ) over the box ---------------------------
            for _ in range(int(opts["max_inner"])):
                y = lam + rho * c
                phi = f + float(lam @ c) + 0.5 * rho * float(c @ c)
                gp = grad_phi(g, c, G, y)
                pg = _pg(x, gp, lower, upper)
                pgn = float(np.max(np.abs(pg))) if n else 0.0
                kkt, _, cv = measures(x, g, c, G)
                if history is not None:
                    history.record(nit, f, kkt)
                reporter.update(nit, f, kkt)
                if nit > 0 and call_callback(callback, x=x.copy(), fun=f,
                                             multipliers=(lam + rho * c) / scale, kkt=kkt, nit=nit):
                    status = Status.CALLBACK_STOP
                    break
                if pgn <= omega or (kkt <= tol):
                    break
                if nit >= max_iter:
                    status = Status.MAX_ITER
                    break
                nit += 1
                eps = min(EPS_ACTIVE, pgn)
                at_low = (x <= lower + eps) & (gp > 0)
                at_up = (x >= upper - eps) & (gp < 0)
                free = ~(at_low | at_up)
                hp_L, diag_L = hess(x, y / scale) if m else hess(x, y)
                if m:
                    Gd = G

                    def hessp(v, hp_L=hp_L, Gd=Gd, rho=rho):
                        return hp_L(v) + rho * np.asarray(Gd.T @ np.asarray(Gd @ v).ravel()).ravel()
                else:
                    hessp = hp_L
                gnorm = float(np.linalg.norm(gp[free]))
                rtol = min(FORCING_MAX, math.sqrt(gnorm))
                # negative curvature (the Hessian of Φ_ρ is indefinite away from a minimizer, e.g.
                # under a norm constraint): shift H + δI and solve again, the inertia correction of
                # the assembled method (Wächter & Biegler 2006, Sec. 3.1) with the Rayleigh
                # quotient of the offending direction as a lower bound on δ
                shift = 0.0
                for _ in range(MAX_SHIFTS):
                    psolve = _Preconditioner(diag_L, G if m else None, rho, free, shift)
                    d, k, q = _cg(hessp, -gp, psolve, free, rtol, max_cg, shift)
                    n_cg += k
                    if q is None:
                        break
                    first = REG_FIRST * psolve.mean if shift_last == 0 else max(REG_MIN,
                                                                                 shift_last / 3)
                    shift = max(first, REG_GROWTH * shift, shift - 2.0 * q)
                else:
                    d = -psolve(gp)
                shift_last = shift
                # active variables go to their bound
                d = np.where(at_low, lower - x, np.where(at_up, upper - x, d))
                accepted = False
                for direction in (d, -psolve(gp) - np.where(free, 0.0, gp)):
                    alpha = 1.0
                    for _ in range(MAX_BACKTRACKS):
                        xt = _project(x + alpha * direction, lower, upper)
                        decrease = float(gp @ (xt - x))
                        if decrease >= 0:
                            alpha *= BACKTRACK
                            continue
                        ft, gt, ct, Gt = evaluate(xt)
                        if np.isfinite(ft) and np.all(np.isfinite(gt)) and np.all(np.isfinite(ct)):
                            phit = ft + float(lam @ ct) + 0.5 * rho * float(ct @ ct)
                            # relaxed by the rounding error of Φ: near the solution the decrease
                            # predicted is below what double precision can show
                            if phit <= phi + ARMIJO * decrease + ROUNDOFF * max(1.0, abs(phi)):
                                x, f, g, c, G = xt, ft, gt, ct, Gt
                                accepted = True
                                break
                        alpha *= BACKTRACK
                    if accepted:
                        break
                if not accepted:
                    status = Status.LINE_SEARCH_FAILED
                    break
                logger.debug("newton-cg it %3d f %.6e |pg| %.2e |c| %.2e rho %.1e cg %d", nit,
                             f, pgn, cv, rho, k)
                logger.debug("  shift %.1e |w| %.3e", shift, float(np.linalg.norm(x)))
            if status is not None:
                break
            kkt, _, cv = measures(x, g, c, G)
            if kkt <= tol:
                status = Status.SUCCESS
                break
            if not m:
                # no constraints: the inner loop ended only on its budget
                if nit >= max_iter:
                    status = Status.MAX_ITER
                omega = tol
                continue
            n_outer += 1
            cn = float(np.max(np.abs(c)))
            if _infeasible_point(x, c, G, lower, upper):
                n_infeasible += 1
                if n_infeasible >= INFEASIBLE_PATIENCE and cv > tol:
                    status = Status.INFEASIBLE
                    break
            else:
                n_infeasible = 0
            if n_outer > max_outer:
                status = Status.MAX_ITER
                break
            # ALGENCAN's update (Andreani, Birgin, Martínez & Schuverdt 2008, Algorithm 1):
            # first-order multipliers every time, ρ raised when ‖c‖ did not shrink by C_SHRINK
            lam = lam + rho * c
            if cn > C_SHRINK * c_prev:
                if rho >= RHO_MAX:
                    status = Status.INFEASIBLE if _infeasible_point(x, c, G, lower, upper) \
                        else Status.STALLED
                    break
                rho = min(RHO_MAX, rho * RHO_GROWTH)
            c_prev = cn
            omega = max(omega_min, OMEGA_SHRINK * omega)
            if nit >= max_iter:
                status = Status.MAX_ITER
    return _finish(x, f, g, c, G, lam, rho, scale, lower, upper, status, nit, n_outer, n_cg,
                   history, tol)


def _infeasible_point(x, c, G, lower, upper) -> bool:
    """``x`` is (nearly) stationary for ``½‖c‖²`` on the box while ``c ≠ 0``."""
    cn = float(np.linalg.norm(c))
    if cn == 0.0:
        return False
    gc = np.asarray(G.T @ c).ravel()
    data = G.data if sp.issparse(G) else G
    return float(np.linalg.norm(_pg(x, gc, lower, upper))) <= INFEASIBLE_RTOL * max(
        float(np.linalg.norm(data)), 1e-300) * cn


def _finish(x, f, g, c, G, lam, rho, scale, lower, upper, status, nit, n_outer, n_cg, history,
            tol, note=""):
    m = c.size
    y = lam + rho * c if m else lam
    gl = g + np.asarray(G.T @ y).ravel() if m else g
    pg = _pg(x, gl, lower, upper)
    st = float(np.max(np.abs(pg))) if x.size else 0.0
    cv = float(np.max(np.abs(c * scale))) if m else 0.0
    kkt = max(st, cv)
    if not np.isfinite(kkt) and status == Status.SUCCESS:
        status = Status.NON_FINITE
    at_low = x <= lower
    at_up = x >= upper
    z_low = np.where(at_low, np.maximum(gl, 0.0), 0.0)
    z_up = np.where(at_up, np.maximum(-gl, 0.0), 0.0)
    res = make_result(
        x.copy(), float(f), success=status == Status.SUCCESS, status=status,
        message=_MESSAGES[status] + note, nit=nit, multipliers=y / scale if m else np.zeros(0),
        lower_multipliers=z_low, upper_multipliers=z_up, kkt=kkt, constr_violation=cv,
        n_outer=n_outer, n_cg=n_cg, rho=rho,
        history=None if history is None else history.as_dict())
    warn_status("newton-cg", status, f"after {nit} iterations, projected KKT residual "
                f"{kkt:.3e}, tol {tol:.3e}", stacklevel=4)
    return res
