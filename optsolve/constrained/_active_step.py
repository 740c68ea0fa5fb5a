"""The Newton direction of one iteration of :func:`optsolve.constrained.minimize` on its
ε-active set (step 2 of the loop in ``_driver_ineq``): the KKT system of the equality-
constrained problem ``c_E = 0, g_A = 0`` with the inertia correction of minimize_eq, solved by
sketching (or directly), the working set refined by the sign test and by the constraints the
step would cross, and the sketch sharpened on demand."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from ._driver import ETA_SHRINK, REG_FIRST, _default_budget, _max_abs, inertia_correction
from ._ldl import ldl_inertia
from ._working_set import WORKING_SET_MAX_N, _dense, degenerate_rows, qp_working_set
from .kkt import assemble_kkt
from .sketches import SketchSolver, solve_direct

logger = logging.getLogger("optsolve.constrained")

#: Newton re-solves per iteration with the inequalities the linearized step would cross added
#: to the active set (relative slack CROSS_TOL)
BOUND_RESOLVES, CROSS_TOL = 5, 1e-8
#: a held inequality whose multiplier after the Newton step is below −SIGN_TOL (1 + ‖y‖∞) is
#: released and the step re-solved (the sign test of active-set QP methods, Nocedal & Wright,
#: Alg. 16.3, applied to all such constraints at once)
SIGN_TOL = 1e-8
#: a Newton step longer than STEP_MAX_RATIO max(√n, ‖x‖) is regularized further (at most
#: STEP_REG_TRIES times, δ multiplied by 10)
STEP_MAX_RATIO, STEP_REG_TRIES = 1000.0, 12
#: eigenvalues of the (dense) Newton matrix below INERTIA_ZERO_TOL max(‖B‖, ‖G‖) count as zero
#: in the inertia test: at 1e-10 (the default of kkt_inertia) the small but positive
#: curvature of a badly scaled problem is taken for zero and B is regularized at every
#: iteration (HS54, variables ~1e4: 129 iterations, 13 at 1e-12); 1e-12 stays above the
#: eigensolver's round-off (N eps ‖K‖ <= 1e-13 for N <= 400)
INERTIA_ZERO_TOL = 1e-12
#: a direct solve whose residual exceeds SINGULAR_RTOL (1 + ‖b‖) met a singular matrix (the
#: dense solver's own acceptance test, sketches.solve_direct)
SINGULAR_RTOL = 1e-8


def _rows_of(G, idx):
    return G[idx]


def _stack(GE, GA, sparse):
    if sparse:
        return sp.vstack([sp.csr_matrix(GE), sp.csr_matrix(GA)], format="csr")
    return np.vstack([_dense(GE), _dense(GA)])


def _newton_step(pt, active, B, sparse, opts, sketch, rng, max_inner, stats, delta_last,
                 bound_start, factors=None, n_general=None):
    """Newton direction on the ε-active set (module docstring, step 2), refined as an
    active-set QP method refines its working set: held inequalities (not the bounds of the
    projected search) whose multiplier after the step has the wrong sign are released (the
    linearized constraint wants to be strictly satisfied), and the bounds, or released
    constraints, that the step would cross are held (projected Newton, Bertsekas 1982; a
    constraint re-held after its release stays held). When the rows of ``A`` cannot all be
    held (more than ``n``, or nearly dependent), the working set is the active set of the
    linearized QP over ``A`` (:mod:`._working_set`); the rows it leaves out are not re-added
    as crossed."""
    key = active.tobytes()
    merit_active = active
    active = active.copy()
    released = np.zeros_like(active)
    pinned = np.zeros_like(active)
    left_out = np.zeros_like(active)
    n = pt.x.size
    # not with the projected search (bound_start < n_ineq): a bound the QP leaves out would be
    # crossed and the step clipped by the projection (ALJAZZAF: no progress in 3000 iterations)
    # decided on the general rows (the first n_general): bounds held beside them are handled
    # by the sign test and the crossed-constraint re-solves (HS97, HS98: 2 constraints and 6
    # bounds in A, n = 6; the QP's working set there stalled the run)
    general = active.copy()
    if n_general is not None:
        general[n_general:] = False
    if pt.gI.size and bound_start >= pt.gI.size and n <= WORKING_SET_MAX_N and (
            degenerate_rows(pt.GE, pt.GI, general)):
        held = qp_working_set(B, pt.g, pt.GE, pt.cE, pt.GI, pt.gI, active)
        if held is not None:
            left_out = active & ~held
            active = held
            # the Newton matrix is now small (n + m_E + |W| rows, |W| <= n) even where the
            # Jacobian is sparse and long: dense, so that its inertia is checked and corrected
            sparse = sparse and n + pt.cE.size + int(held.sum()) > opts["dense_threshold"]
    for _ in range(BOUND_RESOLVES + 1):
        step, delta_last = _newton_step_on(pt, active, B, sparse, opts, sketch, rng,
                                           max_inner, stats, delta_last, factors)
        if not pt.gI.size:
            break
        y_new = pt.y + step["dy"]
        wrong = active & ~pinned & (y_new < -SIGN_TOL * (1.0 + float(np.max(np.abs(y_new)))))
        # bounds kept feasible by the projected search are left to it (the projection
        # releases a bound the step leaves; releasing them here too slowed LOGROS 5-fold)
        wrong[bound_start:] = False
        # only constraints not yet identified: satisfied, without a positive multiplier (a
        # start on the boundary with y = 0, LISWET); releasing identified ones made the
        # active set oscillate (CSFI2: 16 -> 2625 iterations, HS105: 13 -> 51)
        wrong &= (pt.y <= 0.0) & (pt.gI <= 0.0)
        lin = pt.gI + np.asarray(pt.GI @ step["dx"]).ravel()
        crossed = (lin > CROSS_TOL * (1.0 + np.abs(pt.gI))) & ~active & ~left_out
        crossed[:bound_start] &= released[:bound_start]
        if not np.any(crossed) and not np.any(wrong):
            break
        pinned |= crossed & released
        active = (active & ~wrong) | crossed
        released |= wrong
    added = active & ~merit_active
    if np.any(added):
        # a bound held only to stop the step keeps the multiplier of an inactive constraint
        # (its KKT multiplier answers a question the merit did not ask)
        step["dy"][added] = -pt.y[added]
    step["active_key"] = key
    return step, delta_last


def _newton_step_on(pt, active, B, sparse, opts, sketch, rng, max_inner, stats, delta_last,
                    factors=None):
    """Newton direction with the inequalities ``active`` held as equalities."""
    n = pt.x.size
    idx = np.flatnonzero(active)
    GA = _rows_of(pt.GI, idx)
    G = _stack(pt.GE, GA, sparse)
    m_a = G.shape[0]
    y_a = pt.y[idx]
    inactive = ~active
    grad_lag_a = pt.grad_lag.copy()
    if np.any(inactive):
        grad_lag_a -= np.asarray(_rows_of(pt.GI, np.flatnonzero(inactive)).T
                                 @ pt.y[inactive]).ravel()
    b = -np.concatenate([grad_lag_a, pt.cE, pt.gI[idx]])
    bnorm = float(np.linalg.norm(b))
    # the descent test's measure uses ∇ₓL with every multiplier (the ν-term of Φ decreases by
    # ν‖∇ₓL‖² along an exact step, the inactive multipliers included)
    descent_norm_sq = float(pt.grad_lag @ pt.grad_lag + pt.cE @ pt.cE
                            + pt.gI[idx] @ pt.gI[idx])
    scale = max(_max_abs(B), _max_abs(G) if m_a else 0.0)
    dense_max = opts["dense_threshold"] if not sparse else -1
    def sparse_inertia(K, delta):
        if sp.issparse(K) and opts["inner"] == "direct" and not _gershgorin_pd(B, delta):
            return ldl_inertia(K, n, factors)  # the factor serves the solve below
        return None

    K, delta, inertia = inertia_correction(B, G, n, delta_last, scale=scale,
                                           tol=INERTIA_ZERO_TOL, unknown=sparse_inertia,
                                           dense_max=dense_max)
    if delta:
        stats["n_regularized"] += 1
        delta_last = delta
    eta = float(opts["eta"])
    if opts["superlinear"]:
        eta = min(eta, bnorm ** float(opts["superlinear_power"]))
    step = {"K": K, "b": b, "bnorm": bnorm, "descent_norm_sq": descent_norm_sq, "eta": eta,
            "n_sharpen": 0, "solver": None,
            "exact": True, "idx": idx, "n": n, "y_a": y_a, "inactive": inactive,
            "y": pt.y, "active_key": active.tobytes(), "fallback": opts["inner_fallback"],
            "factors": factors}
    if opts["inner"] == "direct":
        z, fl, _ = solve_direct(K, b, n, factors)
        stats["flops"] += fl
    else:
        solver = SketchSolver(K, sketch, rng, sketch_size=opts["sketch_size"])
        budget = max_inner or _default_budget(sketch, K.shape[0], opts["sketch_size"])
        step["budget"] = budget
        z, res = solver.run(b, eta * max(bnorm, 1e-300), budget,
                            give_up=bool(opts["inner_fallback"]))
        z, exact = _fallback(solver, K, b, z, res, eta * bnorm, opts["inner_fallback"], n,
                             factors)
        stats["n_fallback"] += exact
        step.update(solver=solver, exact=exact)
    # negative curvature along Δx (no inertia check for large K): regularize, solve exactly
    if inertia is None and delta == 0 and float(z[:n] @ (B @ z[:n])) < -1e-12 * float(
            z[:n] @ z[:n]):
        delta = max(REG_FIRST, delta_last)
        K = assemble_kkt(B, G, primal_reg=delta, dense_max=dense_max)
        z, fl, _ = solve_direct(K, b, n, factors)
        stats["flops"] += fl
        stats["n_regularized"] += 1
        step.update(K=K, solver=None, exact=True)
    # a singular Newton matrix that no inertia test saw (sparse K) and whose direct solve fell
    # back to least squares: B singular on the null space of the active Jacobian (a linear
    # objective with no row held: K = 0 and the least-squares step Δx = 0, after which only
    # the merit-gradient safeguard moved; SIPOW1 in S2MPJ): regularize, as the inertia
    # correction would, when that makes the system consistent
    if inertia is None and delta == 0 and step["exact"] and _inconsistent(K, z, b):
        delta_try = max(REG_FIRST, delta_last)
        K_try = assemble_kkt(B, G, primal_reg=delta_try, dense_max=dense_max)
        z_try, fl, _ = solve_direct(K_try, b, n, factors)
        stats["flops"] += fl
        if not _inconsistent(K_try, z_try, b):
            delta, K, z = delta_try, K_try, z_try
            stats["n_regularized"] += 1
            step.update(K=K, solver=None, exact=True)
    # a step far longer than the iterate (B + δI nearly singular on the null space of the
    # active Jacobian, e.g. a linear objective): raise δ, Levenberg–Marquardt style, so that
    # the merit's line search is not left with a tiny α
    x_scale = STEP_MAX_RATIO * max(np.sqrt(n), float(np.linalg.norm(pt.x)))
    for _ in range(STEP_REG_TRIES):
        if not float(np.linalg.norm(z[:n])) > x_scale:
            break
        delta = max(REG_FIRST, 10.0 * delta, 1e-3 * scale)
        K = assemble_kkt(B, G, primal_reg=delta, dense_max=dense_max)
        z, fl, _ = solve_direct(K, b, n, factors)
        stats["flops"] += fl
        stats["n_regularized"] += 1
        step.update(K=K, solver=None, exact=True)
    _set_direction(step, z)
    return step, delta_last


def _inconsistent(K, z, b) -> bool:
    """``K z = b`` not solved to ``SINGULAR_RTOL`` (a least-squares solution of a singular
    ``K``)."""
    return bool(np.linalg.norm(K @ z - b) > SINGULAR_RTOL * (1.0 + np.linalg.norm(b)))


def _gershgorin_pd(B, delta: float) -> bool:
    """``B + δI ≻ 0`` certified by Gershgorin's discs (strict diagonal dominance with a
    positive diagonal): then no inertia correction is needed, and the pivots of the sparse
    factorization need not be read (that copies the factor)."""
    if not sp.issparse(B):
        return False
    diag = B.diagonal() + delta
    off = np.asarray(abs(B).sum(axis=1)).ravel() - np.abs(B.diagonal())
    return bool(np.all(diag > off))


def _set_direction(step, z):
    n, idx = step["n"], step["idx"]
    n_e = z.size - n - idx.size
    step["dx"] = z[:n]
    step["dl"] = z[n:n + n_e]
    dy = -step["y"].copy()
    dy[idx] = z[n + n_e:]
    step["dy"] = dy


def _fallback(solver, K, b, z, res, target, allowed, n, factors):
    """Direct solve (the KKT matrix's LDLᵀ, kept for the re-solves) when the sketch budget ran
    out before the accuracy target, if allowed: ``(z, fell_back)``."""
    if res <= target or not allowed:
        return z, False
    logger.info("sketching stopped at residual %.2e > target %.2e after %d iterations; "
                "direct solve", res, target, solver.n_iter)
    z_direct, fl, _ = solve_direct(K, b, n, factors)
    solver.flops += fl
    return z_direct, True


def _sharpen(step, opts, stats, force=False):
    """Tighten the inner accuracy and continue sketching (re-sketch); ``force``: solve
    directly (the driver forces only when every other remedy of the descent test is spent,
    and then needs the exact step: a sketch that meets each tightened target is never marked
    exact, and the driver would sharpen again and again instead of lowering ν, as on DIAGIQB
    it spent all its rounds of the first iteration)."""
    step["n_sharpen"] += 1
    if force:
        z, fl, _ = solve_direct(step["K"], step["b"], step["n"], step["factors"])
        step["solver"].flops += fl
        stats["n_fallback"] += 1
        step["exact"] = True
        _set_direction(step, z)
        return
    step["eta"] *= ETA_SHRINK
    solver, K, b = step["solver"], step["K"], step["b"]
    target = step["eta"] * step["bnorm"]
    allowed = bool(step["fallback"] or force or step["eta"] < 1e-12)
    z, res = solver.run(b, target, step["budget"], give_up=allowed)
    z, exact = _fallback(solver, K, b, z, res, target, allowed, step["n"], step["factors"])
    stats["n_fallback"] += exact
    step["exact"] = exact
    _set_direction(step, z)
