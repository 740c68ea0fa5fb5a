"""The incremental BCD engine: one block per iteration, under every selection rule, partition
and block update of the paper (``minimize_bcd`` with an explicit ``update``).

One iteration selects a block, computes its update, and moves the iterate while the gradient is
maintained incrementally (only the rows touched by the block and the coordinates sharing them
are visited, :func:`_kernels.apply_block_change`). Greedy rules keep their scores in a max-heap
(:func:`_kernels.heap_set`), so selection is O(1) for fixed blocks and O(k log p) for
variable blocks of size k: an iteration costs about the touched non-zeros, not the number of
features.
"""

from __future__ import annotations

import numpy as np

from .._optimize import STATUS_CALLBACK_STOP, ProgressReporter, call_callback
from . import _kernels as K
from ._design import Design
from ._quadratic import quad_greedy_cd
from ._result import EngineResult
from .datafits import gap_from_predictions, loss_value
from .partitions import make_partition
from .penalties import (
    KINKED,
    NONNEG,
    PEN_NONE,
    is_smooth,
    min_norm_subgrad,
    min_norm_subgradients,
    pen_sum,
    prox_block,
    ridge,
)
from .rules import (
    RULE_CYCLIC,
    RULE_GSQ,
    RULE_LIPSCHITZ,
    RULE_RANDOM,
    all_coordinate_keys,
    block_key,
    is_greedy,
    lipschitz_probabilities,
)

#: the rules this engine runs (all of them)
RULES = (RULE_CYCLIC, RULE_RANDOM, RULE_LIPSCHITZ, *range(4))
#: Armijo constant of the Newton / two-metric line searches (Section 5)
ARMIJO_C = 1e-4
MAX_BACKTRACK = 40
#: exact block subproblems (matrix / Newton with a non-smooth penalty) are solved to this
#: relative accuracy by greedy coordinate descent on the block matrix
SUBPROBLEM_RTOL = 1e-10


class _State:
    """Arrays shared by the per-iteration kernels (the iterate and its incremental caches)."""

    def __init__(self, design: Design, y, loss, n_out, w, curvature):
        self.n, self.p, self.K = design.n, design.p, n_out
        self.curvature = curvature
        self.c = design.csc_arrays()
        self.r = design.csr_arrays()
        self.y, self.loss = y, loss
        self.inv_n = 1.0 / self.n
        self.w = w
        z = np.asarray(design.matvec(w.reshape(self.p, n_out)), dtype=np.float64)
        self.z = np.ascontiguousarray(z).ravel()
        self.deriv = np.empty_like(self.z)
        K.loss_derivatives(loss, self.z, y, n_out, self.deriv)
        self.grad = np.empty(self.p * n_out)
        K.csc_transpose_matvec(*self.c, self.deriv, n_out, self.inv_n, self.grad)
        self.row_mark = np.zeros(self.n, dtype=np.bool_)
        self.rows_buf = np.empty(self.n, dtype=np.int64)
        self.dz = np.zeros(self.n * n_out)
        self.dderiv = np.empty(n_out)
        self.coord_mark = np.zeros(self.p * n_out, dtype=np.bool_)
        self.coords_buf = np.empty(self.p * n_out, dtype=np.int64)
        self.scatter = np.zeros(self.n)
        self.zbuf = np.empty(n_out)

    def apply(self, coords, delta) -> int:
        """Apply the block move; the ids of the coordinates whose gradient changed are left in
        ``coords_buf[:last_count]``."""
        self.last_count = K.apply_block_change(
            self.loss, *self.c, *self.r, self.y, self.K, self.inv_n, coords, delta, self.w,
            self.z, self.deriv, self.grad, self.row_mark, self.rows_buf, self.dderiv,
            self.coord_mark, self.coords_buf)
        return self.last_count

    def datafit_change(self, coords, delta, steps) -> list[float]:
        """``f(w + t Δ) - f(w)`` for each ``t`` in ``steps``, visiting touched rows only."""
        n_rows = K.block_direction_rows(*self.c, coords, delta, self.K, self.dz, self.row_mark,
                                        self.rows_buf)
        out = [K.loss_change_rows(self.loss, self.z, self.dz, self.y, self.K, self.rows_buf,
                                  n_rows, t, self.zbuf) * self.inv_n for t in steps]
        K.clear_rows(self.dz, self.row_mark, self.rows_buf, n_rows, self.K)
        return out

    def matrix(self, coords, bound: bool) -> np.ndarray:
        """The block Hessian, or its upper bound from the datafit's curvature bound."""
        m = coords.shape[0]
        out = np.empty((m, m))
        K.block_matrix(self.loss, self.curvature if bound else 0.0, *self.c, coords, self.z,
                       self.y, self.K, self.inv_n, self.scatter, out)
        return out


def _pen_value(pens, alphas, v) -> float:
    return pen_sum(pens, alphas, v)


def solve_incremental(
    design: Design, y, loss, n_out, pens, alphas, w0, *, curvature, rule, partition, update,
    block_size, l1_gap, tol, max_iter, rng, callback, history, verbose,
) -> EngineResult:
    """Run BCD with the given rule code, partition and update (see the module docstring);
    ``curvature`` is the datafit's ``curvature_bound``."""
    st = _State(design, y, loss, n_out, w0.astype(np.float64, copy=True), curvature)
    n_coords = st.p * n_out
    lips = np.repeat(design.col_sq_norms() / st.n * curvature, n_out)
    lips = np.maximum(lips, 1e-12)
    greedy = is_greedy(rule)
    smooth = is_smooth(pens)
    bs = min(block_size, n_coords)
    # with single-coordinate blocks a fixed partition only orders the coordinates, which a
    # greedy rule ignores: use the coordinate heap directly
    variable = partition == "variable" or (greedy and bs == 1)

    # ------------------------------------------------ blocks, block constants, score heap
    if variable:
        block_ptr = members = block_of = block_lips = None
        n_blocks = n_coords
    else:
        block_ptr, members = make_partition(partition, lips, bs)
        n_blocks = block_ptr.shape[0] - 1
        block_of = np.empty(n_coords, dtype=np.int64)
        for blk in range(n_blocks):
            block_of[members[block_ptr[blk]:block_ptr[blk + 1]]] = blk
        block_lips = np.empty(n_blocks)
        use_minv = greedy and rule == RULE_GSQ and smooth and bs > 1
        minv_ptr = np.full(n_blocks, -1, dtype=np.int64)
        minv_parts = []
        offset = 0
        for blk in range(n_blocks):
            coords = members[block_ptr[blk]:block_ptr[blk + 1]]
            if coords.shape[0] == 1:
                block_lips[blk] = lips[coords[0]]
                M = np.array([[lips[coords[0]]]])
            else:
                M = st.matrix(coords, True)
                block_lips[blk] = max(float(np.linalg.eigvalsh(M)[-1]), 1e-12)
            if use_minv:
                M = M + np.diag(ridge(pens[coords], alphas[coords]))
                minv_parts.append(np.linalg.pinv(M).ravel())
                minv_ptr[blk] = offset
                offset += coords.shape[0] ** 2
        minv = np.concatenate(minv_parts) if minv_parts else np.zeros(0)
        block_mark = np.zeros(n_blocks, dtype=np.bool_)
    if greedy:
        n_keys = n_coords if variable else n_blocks
        keys = np.empty(n_keys)
        heap = np.empty(n_keys, dtype=np.int64)
        pos = np.empty(n_keys, dtype=np.int64)
        if variable:
            all_coordinate_keys(rule, pens, alphas, st.grad, st.w, lips, keys)
        else:
            for blk in range(n_blocks):
                keys[blk] = block_key(rule, pens, alphas, st.grad, st.w, lips, block_lips[blk],
                                      members, block_ptr[blk], block_ptr[blk + 1], minv,
                                      minv_ptr[blk])
        K.heap_build(keys, heap, pos)
        top = np.empty(bs, dtype=np.int64)
    lhat = lips.copy()  # adaptive Lipschitz estimates (Section 5.1), per coordinate
    if rule == RULE_LIPSCHITZ:
        probs = lipschitz_probabilities(lips if variable else block_lips)
    draws = np.empty(0, dtype=np.int64)
    draw_at = 0

    # unpenalized coordinates (the intercept column): left out of the L1 gap's penalty and
    # dual norm, their gradient is held to the same tolerance instead (as in _working_set)
    free = np.flatnonzero(pens == PEN_NONE) if l1_gap is not None else None
    penalized = None if free is None or free.size == 0 else np.flatnonzero(pens != PEN_NONE)

    def full_measure():
        st.z[:] = np.ascontiguousarray(design.matvec(st.w.reshape(st.p, n_out))).ravel()
        K.loss_derivatives(loss, st.z, y, n_out, st.deriv)
        K.csc_transpose_matvec(*st.c, st.deriv, n_out, st.inv_n, st.grad)
        zz = st.z.reshape(st.n, n_out) if n_out > 1 else st.z
        if l1_gap is not None:
            if penalized is None:
                w_pen, g_pen = st.w, st.grad
            else:
                w_pen, g_pen = st.w[penalized], st.grad[penalized]
            obj, gap = gap_from_predictions(loss, zz, y, w_pen, g_pen, *l1_gap)
            measure = gap / obj0
            if penalized is not None:
                measure = max(measure, float(np.max(np.abs(st.grad[free]))) / grad0)
            return obj, measure
        obj = loss_value(loss, zz, y, n_out) + _pen_value(pens, alphas, st.w)
        sg = min_norm_subgradients(pens, alphas, st.grad, st.w)
        return obj, float(np.max(np.abs(sg), initial=0.0)) / grad0

    zero = np.zeros(st.n * n_out)
    obj0 = max(K.loss_sum(loss, zero, y, n_out) / st.n, 1e-300)
    d0 = np.empty_like(zero)
    K.loss_derivatives(loss, zero, y, n_out, d0)
    g0 = np.empty(n_coords)
    K.csc_transpose_matvec(*st.c, d0, n_out, st.inv_n, g0)
    grad0 = max(float(np.max(np.abs(g0), initial=0.0)), 1e-300)

    objective, measure = full_measure()
    # the stopping test costs O(nnz + p): amortize it over up to 1000 block updates, and skip
    # it when tol = 0 (fixed iteration budgets, e.g. per-iteration cost measurements)
    check_every = max(1, min(n_blocks // max(bs if variable else 1, 1), 1000))
    if tol <= 0:
        check_every = max_iter
    support = st.w != 0
    n_changes = identified_at = 0
    status = 1
    reporter = ProgressReporter(max_iter, "bcd", verbose, "gap" if l1_gap else "grad")
    if history is not None:
        history.record(0, objective, measure)
    it = 0
    if measure <= tol:
        status = 0
    while status != 0 and it < max_iter:
        # ------------------------------------------------ selection
        if greedy:
            if variable:
                K.heap_top_k(keys, heap, pos, bs, top)
                coords = top.copy()
                if keys[coords[0]] <= 0.0:
                    objective, measure = full_measure()
                    status = 0 if measure <= tol else status
                    if status == 0:
                        break
            else:
                blk = int(heap[0])
                coords = members[block_ptr[blk]:block_ptr[blk + 1]]
        else:
            if rule == RULE_CYCLIC:
                idx = it % n_blocks
            else:
                if draw_at >= draws.shape[0]:
                    draws = (rng.integers(0, n_blocks, 4096) if rule == RULE_RANDOM else
                             rng.choice(n_blocks, 4096, p=probs))
                    draw_at = 0
                idx = int(draws[draw_at])
                draw_at += 1
            if variable:
                coords = (np.array([idx]) if bs == 1 else
                          rng.choice(n_coords, bs, replace=False))
            else:
                coords = members[block_ptr[idx]:block_ptr[idx + 1]]
                blk = idx
        if variable:
            blip = None
        else:
            blip = block_lips[blk]
        # ------------------------------------------------ block update
        delta, dobj = _block_update(st, coords, update, pens, alphas, lips, lhat, blip, loss)
        it += 1
        if np.any(delta):
            st.apply(coords, delta)
            objective += dobj
            if greedy:
                changed = np.concatenate([st.coords_buf[:st.last_count], coords])
                if variable:
                    K.refresh_coordinate_keys(rule, pens, alphas, st.grad, st.w, lips, changed,
                                              changed.shape[0], keys, heap, pos)
                else:
                    K.refresh_block_keys(rule, pens, alphas, st.grad, st.w, lips, block_lips,
                                         block_ptr, members, block_of, minv, minv_ptr, changed,
                                         changed.shape[0], block_mark, keys, heap, pos)
        elif greedy and not variable:
            # a greedy block that cannot move: re-score it to 0 so the next best is taken
            K.heap_set(keys, heap, pos, blk, 0.0)
        if it % check_every == 0 or it == max_iter:
            objective, measure = full_measure()
            new_support = st.w != 0
            if np.any(new_support != support):
                n_changes += 1
                identified_at = it
                support = new_support
            if measure <= tol:
                status = 0
        if history is not None:
            history.record(it, objective, measure)
        reporter.update(it, objective, measure)
        if callback is not None and call_callback(callback, x=st.w.copy(), fun=objective, nit=it,
                                                  optimality=measure):
            status = STATUS_CALLBACK_STOP
            break
    reporter.close()
    if status != STATUS_CALLBACK_STOP:
        objective, measure = full_measure()
        if measure <= tol:
            status = 0
    return EngineResult(w=st.w, objective=objective, measure=measure, nit=it, status=status,
                        gap=measure * obj0 if l1_gap is not None else np.nan,
                        n_active_set_changes=n_changes, support_identified_at=identified_at)


def _block_update(st, coords, update, pens, alphas, lips, lhat, blip, loss):
    """Return ``(delta, objective change)`` of one block update (nothing applied yet)."""
    w_b = st.w[coords]
    g_b = st.grad[coords]
    bp, ba = pens[coords], alphas[coords]
    pen_old = _pen_value(bp, ba, w_b)
    m = coords.shape[0]
    if update == "gradient":
        if blip is not None:
            L = blip
        elif m == 1:
            L = lips[coords[0]]
        else:
            L = max(float(np.linalg.eigvalsh(st.matrix(coords, True))[-1]), 1e-12)
        v = np.empty(m)
        prox_block(bp, ba, w_b, g_b, L, v)
        delta = v - w_b
        df = st.datafit_change(coords, delta, (1.0,))[0] if np.any(delta) else 0.0
        return delta, df + _pen_value(bp, ba, v) - pen_old
    if update == "adaptive":
        L = float(np.max(lhat[coords])) * 0.5
        for _ in range(MAX_BACKTRACK):
            v = np.empty(m)
            prox_block(bp, ba, w_b, g_b, L, v)
            delta = v - w_b
            if not np.any(delta):
                return delta, 0.0
            df = st.datafit_change(coords, delta, (1.0,))[0]
            if df <= g_b @ delta + 0.5 * L * (delta @ delta) + 1e-15 * abs(df):
                lhat[coords] = L
                return delta, df + _pen_value(bp, ba, v) - pen_old
            L *= 2.0
        return np.zeros(m), 0.0
    if update == "two-metric":
        return _two_metric(st, coords, pens, alphas, w_b, g_b, pen_old, loss)
    # matrix (upper bound), newton / prox-newton (Hessian + Armijo), exact (quadratics)
    H = st.matrix(coords, update == "matrix")
    v = _solve_block_model(H, g_b, w_b, bp, ba)
    delta = v - w_b
    if not np.any(delta):
        return delta, 0.0
    if update in ("matrix", "exact"):
        df = st.datafit_change(coords, delta, (1.0,))[0]
        return delta, df + _pen_value(bp, ba, v) - pen_old
    # Armijo backtracking on F = f + pen along the (prox-)Newton direction
    decrease = float(g_b @ delta) + _pen_value(bp, ba, v) - pen_old
    steps = [0.5**k for k in range(MAX_BACKTRACK)]
    t = 1.0
    for t in steps:
        vt = w_b + t * delta
        dF = st.datafit_change(coords, t * delta, (1.0,))[0] + _pen_value(bp, ba, vt) - pen_old
        if dF <= ARMIJO_C * t * decrease:
            return t * delta, dF
    return np.zeros(m), 0.0


def _solve_block_model(H, g, w, pens, alphas):
    """Minimize ``gᵀd + ½ dᵀHd + pen(w + d)`` over ``d``; returns ``w + d``."""
    m = w.shape[0]
    if is_smooth(pens):
        reg = ridge(pens, alphas)
        rhs = -(g + reg * w)
        A = H + np.diag(reg)
        try:
            d = np.linalg.solve(A + 1e-14 * np.trace(A) / m * np.eye(m), rhs)
        except np.linalg.LinAlgError:
            d = np.linalg.lstsq(A, rhs, rcond=None)[0]
        return w + d
    v = w.copy()
    q = H @ w - g
    gin = g.copy()
    tol = SUBPROBLEM_RTOL * max(float(np.max(np.abs(g))), 1e-300)
    quad_greedy_cd(H, q, v, gin, pens, alphas, RULE_GSQ, tol, 200 * m + 1000, -1)
    return v


def _two_metric(st, coords, pens, alphas, w_b, g_b, pen_old, loss):
    """Two-metric projection (Gafni & Bertsekas) for L1 / non-negativity (Section 7).

    Coordinates fixed at a bound whose min-norm subgradient is zero stay put; the others take a
    Newton step on the orthant they lie in (the pseudo-gradient ``g + α·sign``), then the
    trial point is projected back onto that orthant along an Armijo arc.
    """
    m = coords.shape[0]
    sg = np.array([min_norm_subgrad(pens[c], alphas[c], st.grad[c], st.w[c]) for c in coords])
    # orthant sign of every coordinate: its sign, or for zeros the descent direction
    sign = np.where(w_b != 0, np.sign(w_b), -np.sign(sg))
    l1 = np.isin(pens[coords], KINKED)
    constrained = np.isin(pens[coords], NONNEG)
    sign = np.where(constrained & (sign < 0), 0.0, sign)
    free = (sign != 0) | ~(l1 | constrained)
    pg = g_b + np.where(l1, alphas[coords] * sign, 0.0)
    pg += ridge(pens[coords], alphas[coords]) * w_b
    delta = np.zeros(m)
    if not np.any(free):
        return delta, 0.0
    H = st.matrix(coords, False)
    Hf = H[np.ix_(free, free)] + np.diag(ridge(pens[coords][free], alphas[coords][free]))
    try:
        d_free = -np.linalg.solve(Hf + 1e-14 * np.eye(Hf.shape[0]) * np.trace(Hf), pg[free])
    except np.linalg.LinAlgError:
        d_free = -pg[free] / np.maximum(np.diag(Hf), 1e-12)
    direction = np.zeros(m)
    direction[free] = d_free
    bounded = l1 | constrained
    bp, ba = pens[coords], alphas[coords]
    for k in range(MAX_BACKTRACK):
        t = 0.5**k
        trial = w_b + t * direction
        # project onto the orthant {sign * w >= 0} for bounded coordinates
        trial = np.where(bounded & (trial * sign < 0), 0.0, trial)
        step = trial - w_b
        if not np.any(step):
            break
        dF = st.datafit_change(coords, step, (1.0,))[0] + _pen_value(bp, ba, trial) - pen_old
        if dF <= ARMIJO_C * float(pg @ step):
            return step, dF
    return delta, 0.0
