"""The working-set engine: greedy working sets with proximal-Newton block updates (least squares
and logistic; ``minimize_bcd(update='auto')``).

This is the fast path behind the estimators. Each outer iteration

1. computes the full datafit gradient from the maintained predictions (one pass over nnz);
2. scores every coordinate with the chosen greedy rule (GS-q by default: the decrease of the
   prox-linear model, Nutini et al. 2022, Section 4) and forms a *variable block* — the current
   support plus the best-scoring coordinates (the greedy approximation for variable blocks);
   the prox-step violations of the stopping test, the scores and the candidates to enter the
   block come from one pass over the coordinates (:func:`._working_set_kernels.outer_scan`);
3. updates that block with a proximal-Newton step: the block quadratic model (exact for least
   squares, the block Hessian for logistic) plus the penalty is minimized by greedy coordinate
   descent on the small dense block Hessian, followed by an Armijo backtracking on the true
   objective (Section 7, "active-set complexity" and superlinear convergence).

For least squares with few features the block is the whole coordinate set and the Gram matrix
is computed once, so the whole solve runs on p-sized arrays.

On a sparse design the block model is first solved by column CD in sample space, its
iterates Anderson-extrapolated every few epochs (:func:`._working_set_kernels.ws_model_cd`;
Bertrand & Massias 2021, as skglm does): at low regularization the block holds thousands of
active, strongly correlated features and plain CD needs hundreds of epochs per block. The
block grows as skglm's working sets do (twice the support, at least a first block of
``MIN_WORKING_SET`` to ``MAX_FIRST_WORKING_SET`` coordinates),
and a warm start (``w0``, a regularization path: :mod:`.path`) starts it from the support
of the previous solution.
"""

from __future__ import annotations

import numpy as np

from .._optimize import STATUS_CALLBACK_STOP, ProgressReporter, call_callback
from . import _kernels as K
from . import _working_set_kernels as WK
from ._design import Design
from ._quadratic import quad_greedy_cd
from ._result import EngineResult
from .datafits import curvature_bound, gap_from_predictions, loss_value
from .penalties import (
    PEN_NONE,
    manifold_gradient,
    min_norm_subgradients,
    pen_sum,
    penalty_slope,
    signs_kept,
)
from .rules import (
    GREEDY_RULES,
    RULE_CYCLIC,
    RULE_GSQ,
    RULE_LIPSCHITZ,
    RULE_RANDOM,
    is_greedy,
)

#: the rules this engine runs: greedy rules choose the working set (the support plus the
#: best-scoring coordinates) and order the inner coordinate updates; cyclic and sampled rules
#: order the inner updates on every coordinate
RULES = (*GREEDY_RULES, RULE_CYCLIC, RULE_RANDOM, RULE_LIPSCHITZ)

#: Armijo sufficient-decrease constant of the proximal-Newton line search (Section 7)
ARMIJO_C = 1e-4
#: the full-Gram least-squares solve checks the gap once its largest step is this fraction of
#: the previous outer violation
INNER_TOL_FACTOR = 0.1
#: block (working-set) subproblems are solved until their largest step is this fraction of
#: their initial one: inner updates cost O(|block|) while a Newton iteration costs a pass over
#: the data, so a tight forcing term (superlinear Newton, Section 7) is cheap
NEWTON_FORCING = 1e-3
#: compute the duality gap once the largest KKT violation is below this fraction of alpha
GAP_SKIP = 0.1
#: largest support on which the dense manifold Newton step (O(k³)) is taken
MANIFOLD_MAX = 1500
#: the loosest forcing term, used far from the solution (and for least-squares blocks once
#: a block solve has cost more than HEAVY_BLOCK_PASSES passes over the data)
MAX_FORCING = 0.3
HEAVY_BLOCK_PASSES = 1.0
#: least-squares blocks cheaper than a pass over the data are solved to this forcing term
LS_FORCING = 1e-2
#: smallest working set (the first greedy block; then twice the support): an eighth of the
#: features, clipped to [MIN_WORKING_SET, MAX_FIRST_WORKING_SET]. A first block much larger
#: than the support costs the Newton iterations that shrink the support again, one much
#: smaller the doublings, each a pass over the data (measured on L1-logistic: 25 is 5-25 %
#: faster than 50 on mushrooms and dna, p = 112 and 180; 50 is 30 % faster than 25 on a
#: 1000 x 10000 problem at alpha_max / 10)
MIN_WORKING_SET = 25
MAX_FIRST_WORKING_SET = 50
FIRST_BLOCK_SHARE = 0.125
#: use the full Gram matrix when forming it costs less than this many passes over the data
GRAM_PASSES = 40
#: and when it has at most this many columns
GRAM_MAX_FEATURES = 2000
#: up to this many features an unobserved L1 solve (least squares in Gram form, logistic on
#: a dense X) runs whole in one compiled call (:func:`._kernels.gram_l1_solve`,
#: :func:`._kernels.dense_logistic_l1_solve`; greedy CD / proximal Newton on all coordinates,
#: no separate manifold step): an iteration costs O(p²) or O(n p²) there, and the Python
#: loop's per-iteration overhead would be most of the solve
COMPILED_MAX_FEATURES = 64
#: and, for logistic, up to this many entries n·p: above, the BLAS float32 Hessians and the
#: manifold Newton steps of the Python loop win (measured on satimage, 4435 x 36: 0.7x);
#: also the size up to which a least-squares gap is confirmed by one compiled pass
COMPILED_MAX_ENTRIES = 100_000
MAX_LINE_SEARCH = 30
#: a row-major copy of a sparse block costs about this many column-CD epochs (scattered writes)
COLUMN_CD_CONVERSION_EPOCHS = 2.0
#: one Gram multiply-add per non-zero and per unit of row overlap, in column-CD epochs
GRAM_FMA_EPOCHS = 0.3
MAX_COLUMN_CD_EPOCHS = 10_000
#: logistic block Hessians on a dense X are formed in float32 (half the time of the float64
#: syrk) until the relative duality gap is below this; the last, superlinear Newton steps use
#: float64. Far from the solution the model is solved to a forcing term far above the float32
#: rounding of the Hessian, and the line search keeps every step a descent step.
SINGLE_PRECISION_GAP = 1e-4


def _full_gram_cheap(design: Design) -> bool:
    if design.p > GRAM_MAX_FEATURES:
        return False
    if design.sparse:  # Σ_i r_i² ≤ GRAM_PASSES · nnz
        return 2.0 * design.row_overlap() <= GRAM_PASSES
    return design.p <= GRAM_PASSES


class _LossAtZ:
    """The datafit value at the current predictions, or None when unknown; and whether a
    block's column CD has already run out of its budget (the next blocks whose Gram epochs
    are cheaper go to the Gram matrix directly, without paying the column epochs again)."""

    __slots__ = ("gram_won", "value")

    def __init__(self):
        self.value = None
        self.gram_won = False


def solve_working_set(
    design: Design,
    y: np.ndarray,
    loss: int,
    pens: np.ndarray,
    alphas: np.ndarray,
    w0: np.ndarray,
    *,
    l1_gap: tuple[float, bool] | None,
    fit_intercept: bool,
    intercept0: float,
    rule: int,
    use_working_set: bool,
    tol: float,
    max_iter: int,
    seed: int,
    callback,
    history,
    verbose,
    cache: dict | None = None,
) -> EngineResult:
    """Run the working-set proximal-Newton BCD; see the module docstring.

    ``l1_gap = (alpha, positive)`` switches the stopping test to the relative duality gap;
    otherwise it is the relative minimum-norm-subgradient infinity norm. For least squares
    with an intercept the caller passes ``design.offset`` (column means) and centred ``y``.
    ``cache``: a dict kept by a caller that solves on the same ``design`` and ``y`` several
    times (a regularization path): the Gram matrix, column norms and ``Xᵀy`` are stored
    there by the first call and read by the next ones.
    """
    cache = {} if cache is None else cache
    n, p = design.n, design.p
    gram_mode = loss == K.LOSS_LS and (not use_working_set or _full_gram_cheap(design))
    G = c = None
    if gram_mode:
        if "gram" not in cache:
            cache["gram"] = design.gram(np.arange(p)) / n
        G = cache["gram"]
    elif "col_sq_norms" not in cache:
        cache["col_sq_norms"] = design.col_sq_norms() / n
    w = w0.astype(np.float64, copy=True)
    # scale of the stopping measures: the objective / the gradient at w = 0
    # (least squares: loss'(0) = -y; logistic: loss'(0) = -y/2, so both need only Xᵀy)
    if "xty" not in cache:
        cache["xty"] = design.rmatvec(y) / n
    xty = cache["xty"]
    y_sq = float(y @ y) / n
    obj0 = 0.5 * y_sq if loss == K.LOSS_LS else float(np.log(2.0))
    # the duality gap costs passes over the samples: far from the solution (violation above
    # GAP_SKIP * alpha) it is skipped unless someone watches the iterations
    watched = history is not None or callback is not None or bool(verbose)
    compiled = l1_gap is not None and not watched and p <= COMPILED_MAX_FEATURES
    n_changes = 0
    identified_at = 0
    n_updates = 0
    it = 0
    if gram_mode:
        c = xty.copy()
        grad = G @ w - c
        # few features: the whole outer loop in one compiled call; the loop below then only
        # confirms the gap on the residual, when the Gram form's rounding could hide it
        if compiled:
            it, n_updates, n_changes, identified_at = WK.gram_l1_solve(
                G, c, y_sq, pens, alphas, *l1_gap, w, grad, rule, INNER_TOL_FACTOR, tol,
                max_iter, seed)
            trusted = _trusted_gram_gap(G, c, y_sq, pens, alphas, l1_gap, w, grad, design, tol)
            if trusted is not None:
                return EngineResult(w=w, objective=trusted[0], measure=trusted[1], nit=it,
                                    status=0, gap=trusted[1] * obj0, intercept=0.0,
                                    n_active_set_changes=n_changes,
                                    support_identified_at=identified_at, n_updates=n_updates)

    # the column norms (from the Gram diagonal, without another pass)
    lips = np.maximum(np.diag(G), 0.0) if gram_mode else cache["col_sq_norms"]
    lips_model = np.maximum(lips * curvature_bound(loss), 1e-300)
    b = float(intercept0) if (fit_intercept and loss != K.LOSS_LS) else 0.0
    free_intercept = fit_intercept and loss != K.LOSS_LS
    zero_start = not (np.any(w) or b)
    z = np.zeros(n) if zero_start else design.matvec(w) + b
    grad0_scale = max(float(np.max(np.abs(xty), initial=0.0)), 1e-300)
    if loss != K.LOSS_LS:
        grad0_scale *= 0.5

    support = w != 0
    status = 1
    measure = np.inf
    objective = np.inf
    keys = np.empty(p)
    viol = np.empty(p)
    cand = np.empty(p, dtype=np.int64)
    key_rule = rule if is_greedy(rule) else RULE_GSQ
    stalled = False
    n_stalls = 0
    heavy_blocks = False
    reporter = ProgressReporter(max_iter, "bcd", verbose, "gap" if l1_gap else "grad")
    loss_at_z = _LossAtZ()
    first_block = int(min(MAX_FIRST_WORKING_SET,
                          max(MIN_WORKING_SET, FIRST_BLOCK_SHARE * p)))
    # few features, logistic on a dense X: the whole outer loop in one compiled call
    if (compiled and loss == K.LOSS_LOGISTIC and not design.sparse and design.offset is None
          and n * p <= COMPILED_MAX_ENTRIES):
        b, it, n_updates, n_changes, identified_at = _compiled_logistic(
            design, y, pens, alphas, l1_gap, w, z, b, lips_model, free_intercept, grad0_scale,
            rule, tol, max_iter, seed)
        support = w != 0
    while True:
        # (max violation, max violation at zero, number of candidates) of one outer_scan of
        # the current gradient, or None before it is taken
        scan = None
        # ---------------------------------------------------- optimality and stopping
        if gram_mode:
            if l1_gap is not None:
                objective, measure = WK.gram_l1_gap(G, c, y_sq, pens, alphas, *l1_gap, w, grad)
            else:
                wc = float(w @ c)
                objective = 0.5 * (y_sq - 2.0 * wc + float(w @ (grad + c))) + _penalty_value(
                    pens, alphas, w)
                measure = _subgrad_norm(pens, alphas, grad, w) / grad0_scale
            trusted = None
            if measure <= tol and l1_gap is not None and p * p <= design.nnz:
                trusted = _trusted_gram_gap(G, c, y_sq, pens, alphas, l1_gap, w, grad, design,
                                            tol)
            if trusted is not None:
                objective, measure = trusted
            elif measure <= tol or stalled:
                # the p-space formulas cancel when the residual is small: confirm with the
                # residual itself (one pass over the data) and resynchronize the gradient
                if l1_gap is not None and not design.sparse and n * p <= COMPILED_MAX_ENTRIES:
                    # small: one compiled pass instead of a handful of numpy calls
                    z = np.empty(n)
                    offset = design.offset if design.offset is not None else np.zeros(p)
                    objective, gap = WK.dense_ls_l1_gap(design.dense, offset, y, pens, alphas,
                                                       *l1_gap, w, z, grad)
                    measure = gap / max(obj0, 1e-300)
                elif l1_gap is not None:
                    z = design.matvec(w)
                    grad[:] = design.rmatvec(z - y) / n
                    objective, gap = gap_from_predictions(loss, z, y, w, grad, *l1_gap)
                    measure = gap / max(obj0, 1e-300)
                else:
                    z = design.matvec(w)
                    grad[:] = design.rmatvec(z - y) / n
                    objective = loss_value(loss, z, y, 1) + _penalty_value(pens, alphas, w)
                    measure = _subgrad_norm(pens, alphas, grad, w) / grad0_scale
                n_stalls += int(stalled)
        else:
            deriv = _derivative(loss, z, y)
            if it == 0 and zero_start:
                # at z = 0 the loss derivative is -y (least squares) or -y/2 (logistic):
                # the gradient is the already computed Xᵀy/n, no pass over the data
                grad = -xty if loss == K.LOSS_LS else -0.5 * xty
            else:
                grad = design.rmatvec(deriv) / n
            if l1_gap is not None:
                alpha, positive = l1_gap
                # the prox-step violation, not the subgradient: a coordinate about to cross
                # zero has a large subgradient but a tiny step, and must not hide the gap
                scan = WK.outer_scan(key_rule, pens, alphas, grad, w, lips_model, viol, keys,
                                     cand)
                if watched or scan[0] <= GAP_SKIP * alpha:
                    objective, gap = gap_from_predictions(loss, z, y, w, grad, alpha,
                                                          positive, deriv)
                    measure = gap / max(obj0, 1e-300)
                else:
                    objective = measure = np.inf
            else:
                objective = loss_value(loss, z, y, 1) + _penalty_value(pens, alphas, w)
                measure = _subgrad_norm(pens, alphas, grad, w) / grad0_scale
            if free_intercept:
                measure = max(measure, abs(float(deriv.sum())) / n / grad0_scale)
        if history is not None:
            history.record(it, objective, measure)
        reporter.update(it, objective, measure)
        if measure <= tol:
            status = 0
            break
        if it >= max_iter or n_stalls >= 2:
            break
        if call_callback(callback, x=w.copy(), fun=objective, nit=it, optimality=measure):
            status = STATUS_CALLBACK_STOP
            break
        it += 1

        # ---------------------------------------------------- greedy variable block
        # the prox-step violations, the greedy scores and the candidates in one pass (the
        # stopping test above may already have taken it on the same gradient)
        if scan is None:
            scan = WK.outer_scan(key_rule, pens, alphas, grad, w, lips_model, viol, keys, cand)
        outer_violation, zero_violation, n_cand = scan
        tol_in = INNER_TOL_FACTOR * outer_violation
        # on the active manifold (support unchanged since the last iteration and every zero
        # coordinate optimal) the problem is smooth in the support: take a Newton step there
        # (Section 7: active-set identification, then superlinear convergence)
        n_support = int(support.sum())
        on_manifold = (it > 2 and identified_at < it - 1 and 0 < n_support <= MANIFOLD_MAX
                       and zero_violation == 0.0)
        moved = False
        if gram_mode:
            if on_manifold:
                moved = _manifold_step_gram(G, grad, w, support, pens, alphas)
            if not moved:
                n_up = quad_greedy_cd(G, c, w, grad, pens, alphas, rule, tol_in,
                                        50 * p + 1000, seed + it)
                stalled = n_up == 0
                n_updates += n_up
        else:
            if on_manifold:
                b, moved = _newton_block_step(design, y, loss, pens, alphas, w, z, b, grad,
                                              np.flatnonzero(support), deriv, free_intercept,
                                              rule, NEWTON_FORCING,
                                              float(np.max(viol[support], initial=0.0)),
                                              seed + it, loss_at_z, manifold=True)
            if not moved:
                # the block: the support plus as many best-scoring coordinates (at least
                # first_block), as skglm's working sets; solved to a forcing term that
                # tightens with the gap (inexact Newton, superlinear in the limit)
                ws = _working_set(keys, support, cand[:n_cand], first_block,
                                  use_working_set)
                forcing = min(MAX_FORCING, max(NEWTON_FORCING, float(np.sqrt(measure))))
                if loss == K.LOSS_LS:
                    # the block model is exact: once the working set holds the support, a
                    # block solved to LS_FORCING ends the solve at the next check. While
                    # block solves cost less than a pass over the data that tight solve is
                    # cheaper than the outer passes it saves; once one has cost more (many
                    # active features, ill-conditioned block), a block solved tightly
                    # before the working set is final is wasted (skglm's inner tolerance:
                    # 0.3 times the outer violation)
                    forcing = MAX_FORCING if heavy_blocks else LS_FORCING
                b, n_up = _newton_block_step(design, y, loss, pens, alphas, w, z, b, grad, ws,
                                             deriv, free_intercept, rule, forcing,
                                             float(np.max(viol[ws], initial=0.0)), seed + it,
                                             loss_at_z, precise=measure <= SINGLE_PRECISION_GAP)
                n_updates += n_up
                # coordinate updates / p: the block solve's cost in passes over the data
                heavy_blocks = heavy_blocks or n_up > HEAVY_BLOCK_PASSES * p

        new_support = w != 0
        if np.any(new_support != support):
            n_changes += 1
            identified_at = it
            support = new_support
    reporter.close()
    if not np.isfinite(objective) and l1_gap is not None:
        # stopped at max_iter on an iteration that skipped the gap (a NaN objective of a
        # diverged run stays NaN: the caller reports it as non-finite)
        deriv = _derivative(loss, z, y)
        grad = design.rmatvec(deriv) / n
        objective, gap = gap_from_predictions(loss, z, y, w, grad, *l1_gap, deriv)
        measure = gap / max(obj0, 1e-300)
    if loss == K.LOSS_LS and fit_intercept:
        b = 0.0  # the caller recovers the intercept from the centring
    return EngineResult(w=w, objective=objective, measure=measure, nit=it, status=status,
                        gap=measure * obj0 if l1_gap is not None else np.nan, intercept=b,
                        n_active_set_changes=n_changes, support_identified_at=identified_at,
                        n_updates=n_updates)


def _trusted_gram_gap(G, c, y_sq, pens, alphas, l1_gap, w, grad, design, tol):
    """``(objective, relative gap)`` from the Gram form when its rounding error
    (:func:`._working_set_kernels.gram_l1_gap_bounded`; ``grad`` recomputed in place) cannot
    take the gap above ``tol``, else None: the caller confirms on the residual."""
    offset = design.offset if design.offset is not None else np.zeros(design.p)
    objective, measure, error = WK.gram_l1_gap_bounded(G, c, y_sq, pens, alphas, *l1_gap, w,
                                                       grad, offset, design.n)
    if measure + error <= tol:
        return objective, measure
    return None


def _compiled_logistic(design, y, pens, alphas, l1_gap, w, z, b, lips, free_intercept,
                       grad0_scale, rule, tol, max_iter, seed):
    """:func:`._kernels.dense_logistic_l1_solve` on the design (an intercept as a column of
    ones); updates ``w`` and ``z`` in place, returns ``(b, nit, n_updates, n_changes,
    identified_at)``."""
    X = np.ascontiguousarray(design.dense)
    wk = w
    if free_intercept:
        X = np.hstack([X, np.ones((design.n, 1))])
        pens = np.append(pens, PEN_NONE).astype(pens.dtype)
        alphas = np.append(alphas, 0.0)
        lips = np.append(lips, 0.25)
        wk = np.append(w, b)
    out = WK.dense_logistic_l1_solve(X, y, pens, alphas, *l1_gap, wk, z, lips, grad0_scale,
                                    rule, tol, max_iter, NEWTON_FORCING, GAP_SKIP,
                                    ARMIJO_C, MAX_LINE_SEARCH, seed)
    if free_intercept:
        w[:] = wk[:-1]
        b = float(wk[-1])
    return (b, *out)


def _derivative(loss, z, y):
    out = np.empty_like(z)
    K.loss_derivatives(loss, z, y, 1, out)
    return out


def _penalty_value(pens, alphas, w) -> float:
    return float(pen_sum(pens, alphas, w))


def _subgrad_norm(pens, alphas, grad, w) -> float:
    """``max_j |min-norm element of ∂_j P(w)|`` (vectorized :func:`_kernels.min_norm_subgrad`)."""
    return float(np.max(np.abs(min_norm_subgradients(pens, alphas, grad, w)), initial=0.0))


def _manifold_step_gram(G, grad, w, support, pens, alphas) -> bool:
    """Exact Newton step of least squares on the support (in place); False if signs change."""
    S = np.flatnonzero(support)
    mg, ridge = manifold_gradient(grad[S], w[S], pens[S], alphas[S])
    H = G[np.ix_(S, S)] + np.diag(ridge)
    try:
        d = np.linalg.solve(H, -mg)
    except np.linalg.LinAlgError:
        return False
    new = w[S] + d
    if not np.all(np.isfinite(new)) or not signs_kept(pens[S], w[S], new):
        return False
    w[S] = new
    grad += G[:, S] @ d
    return True


def _working_set(keys, support, cand, size, use_working_set) -> np.ndarray:
    """The support plus the best-scoring candidates ``cand`` (coordinates at zero with a
    positive score), ``max(size, 2 |support|)`` in all at most; sorted."""
    p = keys.shape[0]
    if not use_working_set or size >= p:
        return np.arange(p)
    sup = np.flatnonzero(support)
    size = max(size, 2 * sup.shape[0])
    if size >= p:
        return np.arange(p)
    extra = size - sup.shape[0]
    if cand.shape[0] > extra:
        cand = cand[np.argpartition(-keys[cand], extra - 1)[:extra]]
    return np.sort(np.concatenate([sup, cand]))


def _column_cd_epoch_budget(design, ws, row_overlap=None) -> int:
    """How many column-CD epochs to run on the block before forming its Gram matrix.

    A column-CD epoch costs ``nnz(X_W)``; a greedy CD epoch on the Gram matrix costs ``k²``
    (k updates of O(k)), after a one-off formation worth a row-major copy of the block (about
    two column epochs: scattered writes) plus ``Σ_i r_i(W)²/2`` multiply-adds, about a third
    of a column epoch per non-zero each, with ``r_i(W) ≈ f r_i`` and ``f`` the block's share
    of the non-zeros. Ski rental: switch once the column epochs have cost what the switch
    saves, i.e. after ``formation / (1 - k²/nnz(X_W))`` epochs; never when Gram epochs are
    not cheaper than column epochs (a block wider than its columns are dense).
    ``row_overlap`` in place of the design's (a lower bound, to skip computing it).
    """
    indptr = design.csc.indptr
    nnz_block = float(np.sum(indptr[ws + 1] - indptr[ws]))
    saving = 1.0 - float(ws.shape[0]) ** 2 / max(nnz_block, 1.0)
    if saving <= 0.0:
        return MAX_COLUMN_CD_EPOCHS
    share = nnz_block / max(float(design.csc.nnz), 1.0)
    if row_overlap is None:
        row_overlap = design.row_overlap()
    formation = COLUMN_CD_CONVERSION_EPOCHS + GRAM_FMA_EPOCHS * share * row_overlap
    return int(min(MAX_COLUMN_CD_EPOCHS, max(2, round(formation / saving))))


def _unsigned(a: np.ndarray) -> np.ndarray:
    """An int32 index array as uint32 (a view): numba then skips the negative-index
    wraparound on every entry of the column-CD gathers and scatters."""
    return a.view(np.uint32) if a.dtype == np.int32 else a


def _newton_block_step(design, y, loss, pens, alphas, w, z, b, grad, ws, deriv, free_intercept,
                       rule, forcing, scale, seed, loss_at_z, manifold=False, precise=True):
    """One proximal-Newton update of the block ``ws`` (in place on ``w`` and ``z``).

    The block model is solved until its largest prox-step violation is ``forcing * scale``
    (``scale``: the block's violation at the current point, as the inner kernels measure
    it). On a sparse design it is first solved by column CD in sample space (no Gram matrix)
    for the epochs of :func:`_column_cd_epoch_budget`; if that is not enough, the Gram matrix
    is formed and greedy CD on it finishes the solve to the tight term ``NEWTON_FORCING``.

    With ``manifold=True`` the block is the support and the step is a plain Newton step on
    the smooth restriction to the current signs; when that step would change a sign, the
    proximal-Newton step of the same block model (its Hessian already formed) is taken
    instead; ``(b, False)`` when neither moves. Otherwise returns ``(b, n_inner_updates)``.
    ``precise=False`` lets a dense logistic block Hessian be formed in float32.
    """
    n = design.n
    if loss == K.LOSS_LS:
        weights = None
    else:
        # logistic: loss' = -y σ(-yz), so σ(1 - σ) = |loss'| (1 - |loss'|), no exp needed
        s = np.abs(deriv)
        weights = s * (1.0 - s)
    g = grad[ws]
    sub_pens, sub_alphas = pens[ws], alphas[ws]
    v0 = w[ws].copy()
    v = None
    n_up = 0
    if not manifold and not free_intercept and design.sparse and design.offset is None:
        # first within the budget of the smallest possible row overlap (nnz / 2n, by
        # Cauchy-Schwarz), which needs no pass over the row indices: most blocks converge
        # within it; the exact budget only for those that do not
        budget = _column_cd_epoch_budget(design, ws, design.csc.nnz / (2.0 * n))
        # once column CD has fallen short, blocks whose Gram epochs are cheaper skip it
        if not (loss_at_z.gram_won and budget < MAX_COLUMN_CD_EPOCHS):
            indptr, indices, data = (_unsigned(a) for a in design.csc_arrays())
            wts = np.ones(n) if weights is None else weights
            v = v0.copy()
            u = np.zeros(n)
            epochs = WK.ws_model_cd(indptr, indices, data, ws, wts, 1.0 / n, g, v0, v, u,
                                    sub_pens, sub_alphas, forcing * scale, budget, rule, seed)
            if epochs < 0:
                extra = _column_cd_epoch_budget(design, ws) - budget
                if extra > 0:
                    more = WK.ws_model_cd(indptr, indices, data, ws, wts, 1.0 / n, g, v0, v,
                                          u, sub_pens, sub_alphas, forcing * scale, extra,
                                          rule, seed + 1)
                    epochs = budget + more if more > 0 else -(budget - more)
            loss_at_z.gram_won = epochs < 0
            n_up = abs(epochs) * ws.shape[0]
            if epochs > 0:  # converged before the Gram matrix would have paid for itself
                return _take_block_step(design, y, loss, w, z, b, ws, v0, v, g, sub_pens,
                                        sub_alphas, free_intercept, u, loss_at_z), n_up
    # with a Gram matrix the inner updates cost O(|block|) against a pass over the data to
    # form it: solve the block model tightly whatever the forcing term
    H = design.gram(ws, weights, single=weights is not None and not precise) / n
    if free_intercept:
        k = ws.shape[0]
        Hx = np.empty((k + 1, k + 1))
        Hx[:k, :k] = H
        hb = design.rmatvec_raw_cols(ws, weights) / n
        Hx[:k, k] = hb
        Hx[k, :k] = hb
        Hx[k, k] = weights.sum() / n
        H = Hx
        g = np.append(g, deriv.sum() / n)
        sub_pens = np.append(sub_pens, PEN_NONE).astype(pens.dtype)
        sub_alphas = np.append(sub_alphas, 0.0)
        v0 = np.append(v0, b)
        scale = max(scale, abs(float(g[-1])))  # the intercept's gradient is its violation
    if manifold:
        mg, ridge = manifold_gradient(g, v0, sub_pens, sub_alphas)
        try:
            d = np.linalg.solve(H + np.diag(ridge), -mg)
        except np.linalg.LinAlgError:
            return b, False
        v = v0 + d
        if not np.all(np.isfinite(v)):
            return b, False
        if signs_kept(sub_pens, v0, v):
            n_up = True
        else:
            # a sign would change: the proximal-Newton step on the same block, with the
            # Hessian already formed. The block (the support) is enough: the caller only
            # takes manifold steps when every coordinate outside it is optimal
            v = v0.copy()
            n_up = quad_greedy_cd(H, H @ v0 - g, v, g.copy(), sub_pens, sub_alphas, rule,
                                  forcing * scale, 50 * v.shape[0] + 1000, seed)
            if n_up == 0:
                return b, False
    else:
        # from the column-CD iterate when there is one: the model gradient there is g + HΔ
        v = v0.copy() if v is None else v
        q = H @ v0 - g
        gin = g + H @ (v - v0)
        n_up += quad_greedy_cd(H, q, v, gin, sub_pens, sub_alphas, rule,
                                 min(forcing, NEWTON_FORCING) * scale,
                                 50 * v.shape[0] + 1000, seed)
    return _take_block_step(design, y, loss, w, z, b, ws, v0, v, g, sub_pens, sub_alphas,
                            free_intercept, None, loss_at_z), n_up


def _take_block_step(design, y, loss, w, z, b, ws, v0, v, g, sub_pens, sub_alphas,
                     free_intercept, dz, loss_at_z):
    """Move ``w`` (and ``b``) along ``d = v - v0`` with the line search; returns ``b``.

    ``dz = X_W d`` when the caller has it (column CD keeps it), else it is computed.
    ``loss_at_z`` carries the datafit value at ``z`` from one line search to the next
    (a pass of exp/log over the samples saved per iteration).
    """
    n = design.n
    d = v - v0
    if not np.any(d):
        return b
    dw = d[:ws.shape[0]]
    if dz is None:
        dz = design.cols_matvec(ws, dw)
        if free_intercept:
            dz += d[-1]
    if loss == K.LOSS_LS:
        step = 1.0  # the block model is exact: the minimizer needs no line search
    else:
        # Armijo backtracking; a step is also accepted when the directional derivative of the
        # objective there is non-positive (as skglm's prox-Newton does), which stays reliable
        # when the decrease is below the rounding error of the objective values
        pen_old = _penalty_value(sub_pens, sub_alphas, v0)
        decrease = float(g @ d) + _penalty_value(sub_pens, sub_alphas, v) - pen_old
        f_old = loss_at_z.value if loss_at_z.value is not None else loss_value(loss, z, y, 1)
        step = 1.0
        loss_at_z.value = None
        for _ in range(MAX_LINE_SEARCH):
            vt = v0 + step * d
            zt = z + step * dz
            f_new = loss_value(loss, zt, y, 1)
            if f_new - f_old + _penalty_value(sub_pens, sub_alphas, vt) - pen_old <= (
                    ARMIJO_C * step * decrease):
                loss_at_z.value = f_new
                break
            slope = float(dz @ _derivative(loss, zt, y)) / n
            if slope + penalty_slope(sub_pens, sub_alphas, vt, d) <= 0.0:
                loss_at_z.value = f_new
                break
            step *= 0.5
    w[ws] = w[ws] + step * dw
    z += step * dz
    if free_intercept:
        b = b + step * d[-1]
    return b
