"""The outer loop of :func:`optsolve.constrained.minimize` (validation lives in nlp.py).

One iteration at ``(x, λ, y)`` (equalities ``c_E``, inequalities ``g <= 0``, bounds included as
rows ``±e_jᵀx − b_j <= 0`` of a sparse Jacobian):

1. ε-active set ``A = {i : g_i >= −q y_i / μ}`` (Na, Anitescu & Kolar 2023, Sec. 2);
2. Newton step on the KKT system of the equality-constrained problem ``c_E = 0, g_A = 0``::

       [B   G_Eᵀ  G_Aᵀ] [Δx ]     [∇f + G_Eᵀλ + G_Aᵀy_A]
       [G_E  0     0  ] [Δλ ] = − [c_E                  ]        Δy_{Aᶜ} = −y_{Aᶜ}
       [G_A  0     0  ] [Δy_A]    [g_A                  ]

   solved by randomized sketching to the adaptive accuracy of minimize_eq (or by LU), with the
   inertia correction ``B + δI`` of minimize_eq; constraints of ``A`` not yet identified
   (``g_i <= 0``, ``y_i <= 0``) that the step gives a negative multiplier are released and
   the system re-solved (the sign test of active-set QP methods);
3. descent test ``∇Φᵀ Δ <= −σ ν ‖(∇ₓL, c_E, g_A)‖²`` (and ``< 0``) on the exact augmented
   Lagrangian ``Φ`` (:mod:`.merit_ineq`); when it fails: sharpen the sketch, raise ``μ`` (which
   re-identifies ``A``: the paper's decrease of ``ε``), lower ``ν``, and as a last resort step
   along ``−∇Φ``;
4. Armijo backtracking on ``Φ`` (with ``options['feasible_bounds']``: along the projection of
   ``x + αΔx`` onto the bounds, with the bounds the step would cross added to ``A``, a
   projected search (Bertsekas 1982) whose iterates never leave the bounds, for functions
   undefined outside them); a trial point outside the domain ``a > 0``, or where an
   evaluation fails as outside the functions' domain (:data:`DOMAIN_ERRORS`), is rejected; the
   region ``R`` grows when an accepted point uses more than half of it (the paper's update of
   its ``ν``). When the projected search fails (with ``feasible_bounds='auto'``), the bounds
   are handed to the merit for the rest of the run and the iteration is redone: with
   equalities, the projection can undo what the step does for them (the linearized
   equalities and the bounds the iterate is on conflict) and turn it into an ascent
   direction (NCVXQP1-6, DNIEPER, TRAINF in S2MPJ).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp

try:  # numpy's TypeError of a ufunc whose result cannot be cast (not public in numpy.exceptions)
    from numpy._core._exceptions import UFuncTypeError as _UFuncTypeError
except ImportError:  # pragma: no cover (numpy < 2)
    from numpy.core._exceptions import UFuncTypeError as _UFuncTypeError

from .._optimize import History, ProgressReporter, call_callback, make_result
from .._status import Status, termination_message, warn_status
from ._active_step import _newton_step, _sharpen
from ._driver import DESCENT_SIGMA, _grad_lagrangian
from ._driver import STATUS_MESSAGES as EQ_STATUS_MESSAGES
from ._infeasibility import (
    FEASIBILITY_CHECK_TOL,
    INFEASIBLE_PATIENCE,
    _certified_violation,
    _locally_infeasible,
)
from ._ldl import FactorCache
from .hessian import LagrangianHessian
from .kkt import least_squares_multipliers
from .merit_ineq import ineq_merit, ineq_merit_gradient
from .optimality import KKTResiduals, RowStructure, _residuals

logger = logging.getLogger("optsolve.constrained")

#: rounds of the descent test (sharpen, raise μ, lower ν) before the safeguard step
MAX_DESCENT_ROUNDS = 60
#: sketch re-solves tried before the penalty is raised (as in minimize_eq)
SHARPEN_FIRST = 2
#: raising μ counts as useful when it cuts the failure margin ∇ΦᵀΔ + σν‖·‖² by this fraction
RAISE_GAIN = 0.25
#: the region R of a(x) = R − Σ max(g, 0)³ starts at REGION_FACTOR (1 + Σ max(g(x0), 0)³) and
#: is multiplied by REGION_FACTOR when an accepted point has Σ max(g, 0)³ > R / 2
REGION_FACTOR = 10.0
#: every STALL_WINDOW iterations, a violation above STALL_DECREASE times the one STALL_WINDOW
#: iterations before triggers the infeasibility check; a check that neither certifies
#: infeasibility nor restores feasibility is not repeated for STALL_WINDOW iterations, a wait
#: doubled after each such check (each check may cost FEASIBILITY_CHECK_EVALS evaluations: on
#: SNAKE it took half the time of a 300-iteration run)
STALL_WINDOW, STALL_DECREASE = 20, 0.9
#: restarts from a feasible point found by the least-squares check (feasibility restoration)
MAX_RESTORATIONS = 3
#: the Armijo test tolerates an increase of ROUNDOFF_SLACK machine epsilons of |Φ|
ROUNDOFF_SLACK = 10.0
#: a held bound is "reached" by the full Newton step within this relative distance (round-off
#: of the solve; the sketched solves' inexactness is far larger and is left alone)
SNAP_RTOL = 1e-12
#: times an iteration is redone with a larger region when the full step leaves it
REGION_RETRIES = 3

#: errors of an evaluation at a point outside the functions' domain, which reject a trial
#: point: a fractional power of a negative number whose complex result numpy cannot cast back
#: into a float array (UFuncTypeError; S2MPJ's LAUNCH), math's ValueError ("math domain
#: error"), and ArithmeticError (ZeroDivisionError, OverflowError, FloatingPointError)
DOMAIN_ERRORS = (ArithmeticError, ValueError, _UFuncTypeError)

#: the equality driver's messages, with this driver's KKT measure and infeasibility test
STATUS_MESSAGES = {
    **EQ_STATUS_MESSAGES,
    Status.SUCCESS: termination_message(Status.SUCCESS, "scaled KKT residual below tol"),
    Status.INFEASIBLE: termination_message(
        Status.INFEASIBLE, "the constraint violation is at a stationary point of "
        "½‖(c_E, max(g, 0))‖² and not zero"),
}


class _Point:
    """Everything evaluated at one ``(x, λ, y)``."""

    __slots__ = ("GE", "GI", "J", "c", "cE", "f", "g", "gI", "grad_lag", "lam", "x", "y")

    def __init__(self, problem, rows: RowStructure, x, lam, y):
        self.x, self.lam, self.y = x, lam, y
        self.f, self.g = problem.obj(x, gradient=True)
        self.g = np.asarray(self.g, dtype=np.float64).ravel()
        if problem.m:
            self.c, J = problem.cons(x, gradient=True)
            self.J = J if sp.issparse(J) else np.asarray(J, dtype=np.float64).reshape(
                problem.m, problem.n)
        else:
            self.c = np.zeros(0)
            self.J = sp.csr_matrix((0, problem.n)) if getattr(problem, "sparse", False) \
                else np.zeros((0, problem.n))
        self.cE = rows.equalities(self.c, x)
        self.gI = rows.inequalities(self.c, x)
        self.GE, self.GI = rows.jacobians(self.J)
        self.grad_lag = self.with_mult(lam, y)

    @classmethod
    def at_trial(cls, problem, rows: RowStructure, x, lam, y) -> _Point | None:
        """The point, or None when an evaluation fails with an error of a point outside the
        functions' domain (:data:`DOMAIN_ERRORS`): the line search rejects it as it rejects
        non-finite values."""
        try:
            return cls(problem, rows, x, lam, y)
        except DOMAIN_ERRORS as err:
            logger.debug("trial point rejected: %s: %s", type(err).__name__, err)
            return None

    def with_mult(self, lam, y):
        out = self.g.copy()
        if lam.size:
            out += np.asarray(self.GE.T @ lam).ravel()
        if y.size:
            out += np.asarray(self.GI.T @ y).ravel()
        return out

    def finite(self) -> bool:
        data = self.J.data if sp.issparse(self.J) else self.J
        return bool(np.isfinite(self.f) and np.all(np.isfinite(self.g))
                    and np.all(np.isfinite(self.c)) and np.all(np.isfinite(data)))


def run_active_set_eal(problem, x0, *, sketch, tol, max_iter, callback, rng, opts,
                       solver_name="minimize"):
    n = problem.n
    rows = RowStructure(*_bounds(problem))
    counts0 = dict(problem.counts) if hasattr(problem, "counts") else {}
    hess = LagrangianHessian(problem, opts["hessian"], _grad_lagrangian(problem),
                             bounds=(rows.bl, rows.bu))
    if hess.mode != "exact" and n > opts["dense_threshold"] * 2:
        raise ValueError(f"{solver_name}: n = {n} needs the exact Hessian of the Lagrangian "
                         f"(hess, and hess of every NonlinearConstraint); mode {hess.mode!r} "
                         "would form a dense n x n matrix")
    mu, nu = float(opts["mu0"]), float(opts["nu0"])
    rho = float(opts["penalty_factor"])
    max_inner = opts["max_inner"]
    history = History("kkt") if opts["record_history"] else None
    stats = {"n_inner": 0, "n_fallback": 0, "n_regularized": 0, "n_merit_gradient": 0,
             "flops": 0.0}
    # the last sparse factorization of the Newton matrix, reused while the matrix is the same
    factors = FactorCache()
    delta_last = 0.0
    n_infeasible = n_restored = 0
    next_check, check_wait = 0, STALL_WINDOW
    region = 0.0
    promised = False  # set below; finish() reads it

    def user_mult(pt):
        return rows.to_user(pt.lam, pt.y)

    def measure(pt) -> KKTResiduals:
        v, zl, zu = user_mult(pt)
        return _residuals(pt.g, pt.J, pt.c, pt.x, v, zl, zu, rows.cl, rows.cu, rows.bl, rows.bu)

    def finish(pt, status, nit, note=""):
        counts = dict(problem.counts) if hasattr(problem, "counts") else {}
        evals = {k: int(counts.get(k, 0) - counts0.get(k, 0)) for k in
                 ("nfev", "ngev", "ncev", "njev", "nhev", "nhprod", "njprod")}
        if pt is None:
            res_kkt = KKTResiduals(np.inf, np.inf, np.inf, np.inf, np.inf)
            v, zl, zu = np.zeros(problem.m), np.zeros(n), np.zeros(n)
        else:
            res_kkt = measure(pt)
            v, zl, zu = user_mult(pt)
        note_inf = ""
        if status in (Status.MAX_ITER, Status.STALLED, Status.LINE_SEARCH_FAILED) and (
                pt is not None and res_kkt.feasibility > tol):
            min_viol, _ = _certified_violation(problem, rows, pt.x, x0, bounded=promised)
            if min_viol > max(tol, FEASIBILITY_CHECK_TOL):
                status = Status.INFEASIBLE
                note_inf = (f"; the least violation reachable from the last iterate is "
                            f"{min_viol:.3e}")
        active = None
        if pt is not None and pt.gI.size:
            active = np.flatnonzero(pt.gI >= -max(tol, 1e-8) * (1.0 + np.abs(pt.y)))
        res = make_result(
            pt.x.copy() if pt is not None else x0.copy(),
            float(pt.f) if pt is not None else np.nan,
            success=status == 0, status=int(status),
            message=STATUS_MESSAGES[status] + note + note_inf,
            nit=nit, multipliers=v, bounds_multipliers=(zl, zu),
            kkt=float(res_kkt.kkt), kkt_residuals=res_kkt._asdict(),
            constr_violation=float(res_kkt.feasibility),
            mu=mu, nu=nu, n_active=None if active is None else int(active.size),
            history=None if history is None else history.as_dict(),
            n_factorizations=factors.factorizations, **stats, **evals,
        )
        warn_status(solver_name, status, f"after {nit} iterations, KKT residual "
                    f"{res_kkt.kkt:.3e}, tol {tol:.3e}", stacklevel=5)
        return res

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        # start inside the bounds (as scipy's L-BFGS-B and SLSQP do): a violated bound only
        # costs Newton steps that the projection gives for free
        x0 = np.clip(x0, rows.bl, rows.bu)
        bound_start = rows.upper.size + rows.lower.size
        feasible_bounds = opts["feasible_bounds"]
        if feasible_bounds == "auto":  # bounds and equalities only: projected search
            feasible_bounds = rows.upper.size + rows.lower.size == 0
        box = bool(feasible_bounds) and bool(
            np.any(np.isfinite(rows.bl)) or np.any(np.isfinite(rows.bu)))
        # 'auto' may give the projection up (below); True promises iterates inside the bounds
        box_optional = box and opts["feasible_bounds"] == "auto"
        # and True promises no evaluation outside them: the feasibility check too keeps them
        # (with 'auto' it does not: its restoration points, bounded, led HS62 to stall)
        promised = box and not box_optional
        if not box:
            bound_start = rows.n_ineq  # no bound is added to stop a step
        lam = np.zeros(rows.n_eq)
        y = np.zeros(rows.n_ineq)
        pt = _Point(problem, rows, x0, lam, y)
        if not pt.finite():
            return finish(None, Status.NON_FINITE, 0, " at x0 (f, ∇f, c or J)")
        if isinstance(opts["lambda0"], str) and opts["lambda0"] == "least_squares" and lam.size:
            pt.lam = least_squares_multipliers(pt.g, pt.GE)
            pt.grad_lag = pt.with_mult(pt.lam, pt.y)
        region = REGION_FACTOR * (1.0 + float(np.sum(np.maximum(pt.gI, 0.0) ** 3)))
        sparse = sp.issparse(pt.J) or n + rows.n_eq + rows.n_ineq > opts["dense_threshold"]

        viol_hist: list[float] = []
        debug = logger.isEnabledFor(logging.DEBUG)

        def measure_viol(p):
            return float(np.max(np.abs(np.concatenate(
                [p.cE, np.maximum(p.gI, 0.0), [0.0]]))))

        reporter = ProgressReporter(max_iter, solver_name, opts["verbose"], "kkt")
        nit = 0
        with reporter:
            for nit in range(max_iter + 1):
                kkt = measure(pt).kkt
                if history is not None:
                    history.record(nit, pt.f, kkt)
                reporter.update(nit, pt.f, kkt)
                if nit > 0 and call_callback(callback, x=pt.x.copy(), fun=pt.f, kkt=kkt,
                                             nit=nit):
                    return finish(pt, Status.CALLBACK_STOP, nit)
                if kkt <= tol:
                    return finish(pt, Status.SUCCESS, nit)
                n_infeasible = n_infeasible + 1 if _locally_infeasible(pt, tol) else 0
                # the violation at a stationary point of its own (3 iterations), or not
                # falling for STALL_WINDOW iterations: infeasible, or restore feasibility
                viol_hist.append(measure_viol(pt))
                stalled_viol = (nit >= STALL_WINDOW and viol_hist[-1] > tol
                                and viol_hist[-1] > STALL_DECREASE * viol_hist[-1 - STALL_WINDOW]
                                and nit % STALL_WINDOW == 0)
                if (n_infeasible >= INFEASIBLE_PATIENCE or stalled_viol) and nit >= next_check:
                    n_infeasible = 0
                    min_viol, x_feas = _certified_violation(problem, rows, pt.x, x0, tol,
                                                            bounded=promised)
                    if min_viol > max(tol, FEASIBILITY_CHECK_TOL):
                        return finish(pt, Status.INFEASIBLE, nit, f"; the least violation "
                                      f"reachable from the last iterate is {min_viol:.3e}")
                    if x_feas is None:
                        next_check, check_wait = nit + check_wait, 2 * check_wait
                    if x_feas is not None and n_restored < MAX_RESTORATIONS:
                        n_restored += 1
                        restored = _Point(problem, rows, x_feas, pt.lam, pt.y)
                        if restored.finite():
                            pt = restored
                            continue
                if nit == max_iter:
                    break
                v_rows = user_mult(pt)[0]
                B = hess.at(pt.x, v_rows, pt.grad_lag - _bound_terms(rows, pt))
                if not np.all(np.isfinite(B.data if sp.issparse(B) else B)):
                    return finish(pt, Status.NON_FINITE, nit, " (Hessian of the Lagrangian)")
                Hg = hess.times(pt.grad_lag, v_rows)  # bound terms: constant in x
                if not np.all(np.isfinite(Hg)):
                    return finish(pt, Status.NON_FINITE, nit, " (Hessian of the Lagrangian)")
                new, stalled = None, False
                # one pass more than the region retries: the fallback from the projected search
                for attempt in range(REGION_RETRIES + 2):
                    step, slope, thresh = None, np.inf, 0.0
                    last_raise, mu_useful = None, True
                    last_lower, nu_useful = None, True
                    for _ in range(MAX_DESCENT_ROUNDS + 1):
                        mer = ineq_merit(pt.f, pt.lam, pt.y, pt.cE, pt.gI, pt.grad_lag, mu, nu,
                                         region)
                        if not np.isfinite(mer.value):  # region too small for x: widen it
                            region = REGION_FACTOR * (region + float(np.sum(
                                np.maximum(pt.gI, 0.0) ** 3)))
                            continue
                        gx, gl, gy = ineq_merit_gradient(mer, pt.y, pt.cE, pt.gI, pt.GE, pt.GI,
                                                         pt.grad_lag, Hg, mu, nu)
                        if step is None or step["active_key"] != mer.active.tobytes():
                            step, delta_last = _newton_step(
                                pt, mer.active, B, sparse, opts, sketch, rng, max_inner, stats,
                                delta_last, bound_start, factors,
                                n_general=rows.upper.size + rows.lower.size)
                        dx, dl, dy = step["dx"], step["dl"], step["dy"]
                        slope = float(gx @ dx + gl @ dl + gy @ dy)
                        thresh = DESCENT_SIGMA * nu * step["descent_norm_sq"]
                        if debug:
                            logger.debug("   round mu %.1e nu %.1e |A| %d slope %.3e thresh "
                                         "%.3e (x %.2e lam %.2e y %.2e) |dx| %.2e", mu, nu,
                                         int(mer.active.sum()), slope, thresh, gx @ dx,
                                         gl @ dl, gy @ dy, np.linalg.norm(dx))
                        if slope <= -thresh and slope < 0:
                            break
                        if step["solver"] is not None and step["n_sharpen"] < SHARPEN_FIRST:
                            _sharpen(step, opts, stats)
                            continue
                        # raise μ while it helps: the μ-part of the slope is −μ(‖c‖² + ‖g_A‖²/q)
                        # plus the barrier's (μ‖w‖²/a) yᵀΔy, which a growing ‖y‖ makes positive
                        if last_raise is not None and slope + thresh > last_raise[1] - (
                                RAISE_GAIN * abs(last_raise[1])):
                            mu, saved = last_raise[0], last_raise[2]
                            mer, gx, gl, gy, step, slope, thresh = saved
                            mu_useful, last_raise = False, None
                        if mu_useful and mu < opts["mu_max"]:
                            last_raise = (mu, slope + thresh,
                                          (mer, gx, gl, gy, step, slope, thresh))
                            mu = min(opts["mu_max"], mu * rho)
                            continue
                        if step["solver"] is not None and not step["exact"]:
                            _sharpen(step, opts, stats, force=True)
                            continue
                        if last_lower is not None and slope + thresh > last_lower[1] - (
                                RAISE_GAIN * abs(last_lower[1])):
                            nu, saved = last_lower[0], last_lower[2]
                            mer, gx, gl, gy, step, slope, thresh = saved
                            nu_useful, last_lower = False, None
                        if nu_useful and nu > opts["nu_min"]:
                            last_lower = (nu, slope + thresh,
                                          (mer, gx, gl, gy, step, slope, thresh))
                            nu /= rho
                            continue
                        break
                    if not (slope <= -thresh and slope < 0):
                        # safeguard (not in the paper): steepest descent on the merit itself
                        dx, dl, dy = -gx, -gl, -gy
                        slope = -float(gx @ gx + gl @ gl + gy @ gy)
                        stats["n_merit_gradient"] += 1
                        if slope == 0.0 or not np.isfinite(slope):
                            stalled = True
                            break
                    gx_ls, gl_ls, gy_ls = gx, gl, gy
                    if step is not None and step["solver"] is not None:
                        stats["n_inner"] += step["solver"].n_iter
                        stats["flops"] += step["solver"].flops
                    # Armijo backtracking on Φ
                    phi0 = mer.value
                    # round-off slack: near a solution the decrease of Φ falls below its
                    # rounding error, and Newton's full step must still be accepted
                    slack = ROUNDOFF_SLACK * np.finfo(float).eps * max(1.0, abs(phi0))
                    alpha, new = 1.0, None
                    for _ in range(int(opts["max_backtracks"])):
                        xt = pt.x + alpha * dx
                        if box:  # projected search: the iterates never leave the bounds
                            xt = np.clip(xt, rows.bl, rows.bu)
                            if alpha == 1.0 and step is not None:
                                _snap_held_bounds(xt, step["idx"], rows, bound_start)
                        trial = _Point.at_trial(problem, rows, xt, pt.lam + alpha * dl,
                                                pt.y + alpha * dy)
                        if trial is not None and alpha == 1.0 and attempt < REGION_RETRIES \
                                and trial.gI.size:
                            t_trial = float(np.sum(np.maximum(trial.gI, 0.0) ** 3))
                            if t_trial > 0.5 * region:  # the paper's update of its ν
                                region = max(region * REGION_FACTOR, REGION_FACTOR * t_trial)
                                break
                        if trial is not None and trial.finite():
                            phi = ineq_merit(trial.f, trial.lam, trial.y, trial.cE, trial.gI,
                                             trial.grad_lag, mu, nu, region).value
                            # projected search: the decrease predicted along the actual
                            # (projected) displacement (Bertsekas 1982)
                            pred = alpha * slope if not box else float(
                                gx_ls @ (xt - pt.x)) + alpha * float(gl_ls @ dl + gy_ls @ dy)
                            if np.isfinite(phi) and pred < 0 and (
                                    phi <= phi0 + opts["armijo"] * pred + slack):
                                new = trial
                                break
                        alpha *= float(opts["backtrack"])
                    if new is None and alpha < 1.0 and box_optional:
                        # the projection onto the box undoes what the step does for the
                        # equalities (the linearized equalities and the bounds the iterate is
                        # on conflict): the bounds are left to the merit from here on
                        logger.info("projected search failed at iteration %d; the bounds are "
                                    "handled by the merit from here on", nit)
                        box = box_optional = False
                        bound_start = rows.n_ineq
                        continue
                    if new is not None or alpha < 1.0:
                        break
                if stalled:
                    return finish(pt, Status.STALLED, nit)
                if new is None:
                    return finish(pt, Status.LINE_SEARCH_FAILED, nit)
                if debug and pt.gI.size <= 10:
                    logger.debug("    g %s y %s A %s dy %s", np.round(pt.gI, 4),
                                 np.round(pt.y, 4), mer.active.astype(int), np.round(dy, 4))
                if debug:  # the norms below are not computed when nobody reads them
                    logger.debug("it %3d kkt %.2e f %.6e viol %.1e mu %.1e nu %.1e |A| %d "
                                 "slope %.2e alpha %.2e |dx| %.1e |y| %.1e", nit, kkt, pt.f,
                                 viol_hist[-1], mu, nu, int(mer.active.sum()), slope, alpha,
                                 np.linalg.norm(dx), np.linalg.norm(pt.y + alpha * dy))
                if hess.mode == "bfgs":
                    v_new = user_mult(new)[0]
                    grad_rows = _grad_lagrangian(problem)
                    hess.update(new.x - pt.x, grad_rows(new.x, v_new) - grad_rows(pt.x, v_new))
                pt = new
                t = float(np.sum(np.maximum(pt.gI, 0.0) ** 3))
                if t > 0.5 * region:
                    region *= REGION_FACTOR
    return finish(pt, Status.MAX_ITER, max_iter)


def _bounds(problem):
    from .optimality import _bounds_of

    return _bounds_of(problem, problem.n, problem.m)


def _bound_terms(rows: RowStructure, pt) -> np.ndarray:
    """``−z_l + z_u``: the part of ``∇ₓL`` that comes from the bounds (constant in ``x``)."""
    _, zl, zu = rows.to_user(pt.lam, pt.y)
    return zu - zl


def _snap_held_bounds(x, idx, rows, bound_start) -> None:
    """Put on its bound, in place, every variable whose bound the full Newton step held as an
    equality and that landed within round-off (``SNAP_RTOL``) of it. Otherwise round-off
    decides on which side of a weakly active bound (multiplier 0) the iterate lies, and with
    it the ε-active set of the next iteration (``g >= 0`` when ``y = 0``), at the price of
    Newton steps that change nothing."""
    k = idx[idx >= bound_start] - bound_start
    if not k.size:
        return
    nbu = rows.bupper.size
    up, lo = k[k < nbu], k[k >= nbu] - nbu
    for var, value in ((rows.bupper[up], rows.bu), (rows.blower[lo], rows.bl)):
        target = value[var]
        near = np.abs(x[var] - target) <= SNAP_RTOL * (1.0 + np.abs(target))
        x[var[near]] = target[near]
