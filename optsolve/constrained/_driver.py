"""The outer loop of :func:`optsolve.constrained.minimize_eq` (validation lives in solver.py)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .._optimize import History, ProgressReporter, call_callback, make_result
from .._status import Status, termination_message, warn_status
from ._gpu import ROWS_PER_ITER_DIVISOR, BlockSketchInnerSolver
from .hessian import LagrangianHessian
from .kkt import assemble_kkt, jacobian_rank, kkt_inertia, kkt_residual, least_squares_multipliers
from .merit import directional_derivative, merit_gradient, merit_value
from .sketches import SketchSolver, default_sketch_size, solve_direct

logger = logging.getLogger("optsolve.constrained")

#: descent test constant σ: ∇L_{μ,ν}ᵀΔ <= -σ ν ‖∇L‖² (an exact Newton step on a convex QP gives
#: ∇L_{μ,ν}ᵀΔ <= -ν‖∇L‖², so σ = 1/2 leaves room for the inexact solve)
DESCENT_SIGMA = 0.5
#: primal regularization δ: first trial, floor, growth, ceiling (IPOPT's inertia correction,
#: Wächter & Biegler 2006, Sec. 3.1)
REG_FIRST, REG_MIN, REG_GROWTH, REG_MAX = 1e-4, 1e-20, 8.0, 1e10
#: default sketch budget per outer iteration: max(MAX_INNER_MIN, MAX_INNER_PER_ROW (n + m));
#: (block sketches: max(MAX_INNER_MIN / 40, MAX_INNER_PER_ROW (n + m) / q)). Kaczmarz needs
#: about cond(K)² (n + m) log(1/η) steps, so this is a budget, not a target
MAX_INNER_MIN, MAX_INNER_PER_ROW = 20_000, 200
#: default budget of the averaged block solver (options['inner'] = 'averaged-block'): each
#: iteration visits about (n + m) / ROWS_PER_ITER_DIVISOR rows, so this is MAX_INNER_PER_ROW sweeps
AVERAGED_BLOCK_BUDGET = MAX_INNER_PER_ROW * ROWS_PER_ITER_DIVISOR
#: sharpening factor of the inner accuracy η when the descent test fails (re-sketching)
ETA_SHRINK = 0.1
#: re-sketching rounds tried before the penalty μ is raised when the descent test fails
SHARPEN_FIRST = 2

#: rounds of the descent test (re-sketch, raise μ, lower ν) before the safeguard step is taken:
#: with ``penalty_factor > 1`` μ reaches ``mu_max`` and ν ``nu_min`` in a few dozen rounds, so
#: the cap only guards against options that make the updates stall
MAX_DESCENT_ROUNDS = 200
#: infeasibility test: ‖c‖∞ > tol while ‖Gᵀc‖ <= INFEASIBLE_RTOL ‖G‖_F ‖c‖ (a stationary point
#: of ½‖c‖², IPOPT's "local infeasibility"), on INFEASIBLE_PATIENCE consecutive iterations
INFEASIBLE_RTOL, INFEASIBLE_PATIENCE = 1e-4, 3

#: the shared codes of :mod:`optsolve._status` with this solver's detail
STATUS_MESSAGES = {
    Status.SUCCESS: termination_message(Status.SUCCESS, "KKT residual below tol"),
    Status.MAX_ITER: termination_message(Status.MAX_ITER, "outer iterations"),
    Status.STALLED: termination_message(
        Status.STALLED, "stationary point of the merit function that is not a KKT point"),
    Status.LINE_SEARCH_FAILED: termination_message(
        Status.LINE_SEARCH_FAILED, "no decrease of the merit function"),
    Status.INFEASIBLE: termination_message(
        Status.INFEASIBLE, "the constraint violation is at a stationary point of ½‖c‖² "
        "and not zero"),
    Status.NON_FINITE: termination_message(Status.NON_FINITE, "returned by the problem"),
    Status.CALLBACK_STOP: termination_message(Status.CALLBACK_STOP),
}


class _Point:
    """Everything evaluated at one ``(x, λ)``."""

    __slots__ = ("G", "c", "f", "g", "grad_lag", "lam", "x")

    def __init__(self, problem, x, lam):
        self.x, self.lam = x, lam
        self.f, self.g = problem.obj(x, gradient=True)
        self.c, G = problem.cons(x, gradient=True)
        self.G = G if sp.issparse(G) else np.asarray(G, dtype=np.float64).reshape(problem.m,
                                                                                  problem.n)
        self.grad_lag = self.g + np.asarray(self.G.T @ lam).ravel() if problem.m else self.g

    def finite(self) -> bool:
        data = self.G.data if sp.issparse(self.G) else self.G
        return bool(np.isfinite(self.f) and np.all(np.isfinite(self.g))
                    and np.all(np.isfinite(self.c)) and np.all(np.isfinite(data)))

    def with_lam(self, lam):
        """∇ₓL at the same x for other multipliers (no evaluation)."""
        return self.g + np.asarray(self.G.T @ lam).ravel()


def _grad_lagrangian(problem):
    def grad_lag(x, lam):
        g = problem.grad(x)
        if not problem.m:
            return g
        return g + problem.jprod(lam, x, transpose=True)
    return grad_lag


def run_eal_newton(problem, x0, *, sketch, tol, max_iter, callback, rng, opts):
    n, m = problem.n, problem.m
    counts0 = dict(problem.counts) if hasattr(problem, "counts") else {}
    hess = LagrangianHessian(problem, opts["hessian"], _grad_lagrangian(problem))
    mu, nu = float(opts["mu0"]), float(opts["nu0"])
    rho = float(opts["penalty_factor"])
    block_average = opts["inner"] == "averaged-block"
    max_inner = opts["max_inner"] or (
        AVERAGED_BLOCK_BUDGET if block_average
        else _default_budget(sketch, n + m, opts["sketch_size"]))
    history = History("kkt") if opts["record_history"] else None
    n_inner = n_fallback = n_regularized = n_merit_gradient = 0
    flops = 0.0
    delta_last = 0.0
    nit = 0
    n_infeasible = 0
    extra_note = ""

    def finish(pt, status, nit, note=""):
        counts = dict(problem.counts) if hasattr(problem, "counts") else {}
        evals = {k: int(counts.get(k, 0) - counts0.get(k, 0)) for k in
                 ("nfev", "ngev", "ncev", "njev", "nhev", "nhprod", "njprod")}
        kkt = kkt_residual(pt.grad_lag, pt.c) if pt is not None else np.inf
        if status in (Status.MAX_ITER, Status.STALLED, Status.LINE_SEARCH_FAILED) and (
                pt is not None and _locally_infeasible(pt, tol)):
            status = Status.INFEASIBLE
        msg = STATUS_MESSAGES[status] + note + extra_note
        res = make_result(
            pt.x.copy() if pt is not None else x0.copy(),
            float(pt.f) if pt is not None else np.nan,
            success=status == 0, status=status, message=msg, nit=nit,
            multipliers=pt.lam.copy() if pt is not None else np.zeros(m), kkt=kkt,
            constr_violation=float(np.max(np.abs(pt.c))) if pt is not None and m else 0.0,
            n_inner=int(n_inner), flops=float(flops), mu=mu, nu=nu,
            jac_rank=(jacobian_rank(pt.G) if m else 0) if pt is not None else None,
            n_fallback=n_fallback, n_regularized=n_regularized,
            n_merit_gradient=n_merit_gradient,
            history=None if history is None else history.as_dict(), **evals,
        )
        warn_status("minimize_eq", status, f"after {nit} iterations, KKT residual "
                    f"{kkt:.3e}, tol {tol:.3e}", stacklevel=4)
        return res

    rank = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in user code -> status 5
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        pt = _Point(problem, x0, np.zeros(m))
        if not pt.finite():
            return finish(None, Status.NON_FINITE, 0, " at x0 (f, ∇f, c or J)")
        dual_reg = 0.0
        lam0 = opts["lambda0"]
        if isinstance(lam0, str):
            lam = (least_squares_multipliers(pt.g, pt.G) if lam0 == "least_squares"
                   else np.zeros(m))
        else:
            lam = np.array(lam0, dtype=np.float64).reshape(m)
        pt.lam, pt.grad_lag = lam, pt.with_lam(lam)

        reporter = ProgressReporter(max_iter, "minimize_eq", opts["verbose"], "kkt")
        with reporter:
            for nit in range(max_iter + 1):
                kkt = kkt_residual(pt.grad_lag, pt.c)
                if history is not None:
                    history.record(nit, pt.f, kkt)
                reporter.update(nit, pt.f, kkt)
                if nit > 0 and call_callback(callback, x=pt.x.copy(), fun=pt.f,
                                             multipliers=pt.lam.copy(), kkt=kkt, nit=nit):
                    return finish(pt, Status.CALLBACK_STOP, nit)
                if kkt <= tol:
                    return finish(pt, Status.SUCCESS, nit)
                n_infeasible = n_infeasible + 1 if _locally_infeasible(pt, tol) else 0
                if n_infeasible >= INFEASIBLE_PATIENCE:
                    return finish(pt, Status.INFEASIBLE, nit)
                if nit == max_iter:
                    break
                # ---- 1. Hessian of the Lagrangian and the KKT matrix ----------------------------
                B = hess.at(pt.x, pt.lam, pt.grad_lag)
                Hg = hess.times_grad_lag()
                if not (np.all(np.isfinite(B.data if sp.issparse(B) else B))
                        and np.all(np.isfinite(Hg))):
                    return finish(pt, Status.NON_FINITE, nit, " (Hessian of the Lagrangian)")
                # rank-deficient G: K is singular; the inner solvers then return a (least-
                # squares) solution from zero, and the expected inertia is (n, rank, m - rank)
                rank = jacobian_rank(pt.G) if m else 0
                if rank is not None and rank < m and not extra_note:
                    extra_note = (f"; constraint Jacobian found rank deficient at iteration "
                                  f"{nit} (rank {rank} < m = {m})")
                    logger.warning("minimize_eq: %s", extra_note[2:])
                scale = max(_max_abs(B), _max_abs(pt.G))
                b = -np.concatenate([pt.grad_lag, pt.c])
                bnorm = float(np.linalg.norm(b))
                K, delta, inertia = inertia_correction(
                    B, pt.G, n, delta_last, scale=scale, dual_reg=dual_reg,
                    dense_max=opts["dense_threshold"])
                if delta:
                    n_regularized += 1
                    delta_last = delta
                # ---- 2. inner solve to the adaptive accuracy ------------------------------------
                eta = float(opts["eta"])
                if opts["superlinear"]:
                    eta = min(eta, bnorm ** float(opts["superlinear_power"]))
                solver = None
                exact = opts["inner"] == "direct"
                if exact:
                    z, fl, _ = solve_direct(K, b)
                    flops += fl
                else:
                    solver = (BlockSketchInnerSolver(K, rng, device=opts["inner_device"],
                                                     block_size=opts["sketch_size"])
                              if block_average else
                              SketchSolver(K, sketch, rng, sketch_size=opts["sketch_size"]))
                    z, res = solver.run(b, eta * bnorm, max_inner)
                    z, exact = _fallback_if_needed(solver, K, b, z, res, eta * bnorm,
                                                   opts["inner_fallback"])
                    n_fallback += exact
                dx, dl = z[:n], z[n:]
                # negative curvature along Δx (large problems, no inertia check): regularize
                if inertia is None and delta == 0 and n and float(dx @ (B @ dx)) < -1e-12 * (
                        dx @ dx):
                    delta = max(REG_FIRST, delta_last)
                    K = assemble_kkt(B, pt.G, primal_reg=delta, dual_reg=dual_reg,
                                     dense_max=opts["dense_threshold"])
                    z, fl, _ = solve_direct(K, b)
                    flops += fl
                    exact, solver = True, None
                    dx, dl = z[:n], z[n:]
                    n_regularized += 1
                # ---- 3. descent test on the exact augmented Lagrangian, penalty updates -----
                thresh_unit = DESCENT_SIGMA * bnorm**2
                n_sharpen = 0
                for n_round in range(MAX_DESCENT_ROUNDS + 1):
                    gx, gl = merit_gradient(pt.grad_lag, pt.c, pt.G, Hg, mu, nu)
                    slope = directional_derivative(gx, gl, dx, dl)
                    if slope <= -nu * thresh_unit:
                        break
                    if n_round == MAX_DESCENT_ROUNDS:
                        dx, dl, slope = _merit_descent(gx, gl)
                        n_merit_gradient += 1
                        if slope == 0.0:
                            return finish(pt, Status.STALLED, nit)
                        break
                    # an inexact direction is sharpened first (SHARPEN_FIRST times): raising μ
                    # to make up for solver error inflates it for the rest of the run
                    sharpen = not exact and solver is not None
                    if sharpen and n_sharpen < SHARPEN_FIRST:
                        n_sharpen += 1
                        eta *= ETA_SHRINK
                        z, res = solver.run(b, eta * bnorm, max_inner)
                        z, exact = _fallback_if_needed(solver, K, b, z, res, eta * bnorm,
                                                       opts["inner_fallback"])
                        n_fallback += exact
                        dx, dl = z[:n], z[n:]
                        continue
                    mu_coef = float(pt.c @ np.asarray(pt.G @ dx).ravel()) if m else 0.0
                    if mu_coef < 0 and mu < opts["mu_max"]:
                        need = (-nu * thresh_unit - (slope - mu * mu_coef)) / mu_coef
                        mu = float(min(opts["mu_max"], max(rho * mu, need * 1.01)))
                        continue
                    if sharpen:  # sharpen the accuracy further, re-sketch
                        eta *= ETA_SHRINK
                        z, res = solver.run(b, eta * bnorm, max_inner)
                        z, exact = _fallback_if_needed(solver, K, b, z, res, eta * bnorm,
                                                       opts["inner_fallback"] or eta < 1e-12)
                        n_fallback += exact
                        dx, dl = z[:n], z[n:]
                        continue
                    if nu > opts["nu_min"]:
                        nu /= rho
                        continue
                    # safeguard (not in the paper): steepest descent on the merit itself, e.g.
                    # where LICQ fails and the regularized Newton step is useless (BT8)
                    dx, dl, slope = _merit_descent(gx, gl)
                    n_merit_gradient += 1
                    if slope == 0.0:
                        if solver is not None:
                            n_inner += solver.n_iter
                            flops += solver.flops
                        return finish(pt, Status.STALLED, nit)
                    break
                if solver is not None:
                    n_inner += solver.n_iter
                    flops += solver.flops
                # ---- 4. Armijo backtracking on L_{μ,ν} ------------------------------------------
                phi0 = merit_value(pt.f, pt.lam, pt.c, pt.grad_lag, mu, nu)
                alpha, new = 1.0, None
                for _ in range(int(opts["max_backtracks"])):
                    trial = _Point(problem, pt.x + alpha * dx, pt.lam + alpha * dl)
                    if trial.finite():
                        phi = merit_value(trial.f, trial.lam, trial.c, trial.grad_lag, mu, nu)
                        if np.isfinite(phi) and phi <= phi0 + opts["armijo"] * alpha * slope:
                            new = trial
                            break
                    alpha *= float(opts["backtrack"])
                if new is None:
                    return finish(pt, Status.LINE_SEARCH_FAILED, nit)
                logger.debug("it %3d kkt %.2e f %.6e mu %.1e nu %.1e delta %.1e dual %.1e "
                             "slope %.2e alpha %.2e |dx| %.2e |dl| %.2e", nit, kkt, pt.f, mu, nu,
                             delta, dual_reg, slope, alpha, np.linalg.norm(dx),
                             np.linalg.norm(dl))
                hess.update(new.x - pt.x, new.grad_lag - pt.with_lam(new.lam))
                pt = new
    return finish(pt, Status.MAX_ITER, max_iter)


def _merit_descent(gx, gl):
    """The safeguard direction ``-∇L_{μ,ν}`` and its slope."""
    return -gx, -gl, -float(gx @ gx + gl @ gl)


def _locally_infeasible(pt, tol: float) -> bool:
    """``‖c‖∞ > tol`` at a stationary point of ``½‖c‖²`` (``Gᵀc ≈ 0``)."""
    if not pt.c.size or float(np.max(np.abs(pt.c))) <= tol:
        return False
    data = pt.G.data if sp.issparse(pt.G) else pt.G
    g_norm = float(np.linalg.norm(data))
    gtc = float(np.linalg.norm(np.asarray(pt.G.T @ pt.c).ravel()))
    return gtc <= INFEASIBLE_RTOL * max(g_norm, 1e-300) * float(np.linalg.norm(pt.c))


def _default_budget(sketch: str, N: int, sketch_size: int | None) -> int:
    """Sketch iterations allowed per outer iteration (block sketches: divided by the width)."""
    if sketch == "kaczmarz":
        return max(MAX_INNER_MIN, MAX_INNER_PER_ROW * N)
    q = sketch_size or default_sketch_size(N)
    return max(MAX_INNER_MIN // 40, MAX_INNER_PER_ROW * N // q)


def inertia_correction(B: Any, G: Any, n: int, delta_last: float, *, scale: float,
                       tol: float | None = None, unknown: Any = None,
                       **assemble: Any) -> tuple[Any, float, tuple | None]:
    """The Newton matrix ``assemble_kkt(B, G, primal_reg=δ, **assemble)`` for the first ``δ``
    of IPOPT's schedule (``0``, then ``REG_FIRST``, or ``delta_last / 3`` but at least
    ``REG_MIN`` after a regularized iteration, then times ``REG_GROWTH`` up to ``REG_MAX``) at
    which its inertia has ``n`` positive eigenvalues or is not known: ``(K, δ, inertia)``.
    ``unknown(K, δ)``, when given, is asked for the inertia that :func:`kkt_inertia` does not
    compute (large sparse ``K``)."""
    delta = 0.0
    tol_kw = {} if tol is None else {"tol": tol}
    for _ in range(60):
        K = assemble_kkt(B, G, primal_reg=delta, **assemble)
        inertia = kkt_inertia(K, n, scale=scale, **tol_kw)
        if inertia is None and unknown is not None:
            inertia = unknown(K, delta)
        if inertia is None or inertia[0] == n:
            break
        delta = (REG_FIRST if delta_last == 0 else max(REG_MIN, delta_last / 3)) \
            if delta == 0 else delta * REG_GROWTH
        if delta > REG_MAX:
            break
    return K, delta, inertia


def _max_abs(A: Any) -> float:
    data = A.data if sp.issparse(A) else np.asarray(A)
    return float(np.max(np.abs(data))) if data.size else 0.0


def _fallback_if_needed(solver: SketchSolver, K: Any, b: np.ndarray, z: np.ndarray, res: float,
                        target: float, fallback: bool) -> tuple[np.ndarray, bool]:
    """Direct solve when the sketch budget ran out before the accuracy target (if allowed)."""
    if res <= target or not fallback:
        return z, False
    logger.info("sketching stopped at residual %.2e > target %.2e after %d iterations; "
                "direct solve", res, target, solver.n_iter)
    z_direct, fl, _ = solve_direct(K, b)
    solver.flops += fl
    return z_direct, True
