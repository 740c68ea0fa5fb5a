"""Coordinate descent with exact one-dimensional updates on a dense quadratic plus a separable
penalty, ``½xᵀHx - qᵀx + Σ_j pen_j(x_j)``: the kernel every engine solves its block models
with (:func:`quad_greedy_cd`), and the engine of the ``Quadratic`` datafit
(:func:`solve_quadratic`)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from .._validation import check_dense_size
from ._result import EngineResult
from .penalties import min_norm_subgradients, pen_sum, prox_scalar, separable_form
from .rules import RULE_CYCLIC, RULE_GS, RULE_GSQ, RULE_LIPSCHITZ, RULE_RANDOM, sample_lipschitz

#: the rules this engine runs (all of them: the inner kernel orders its updates by the rule)
RULES = (RULE_CYCLIC, RULE_RANDOM, RULE_LIPSCHITZ, *range(4))
#: the inner kernel stops a chunk of updates at this fraction of ``tol`` (absolute, on the
#: largest prox-gradient step): the outer test then sees an accurate measure
INNER_TOL_FACTOR = 0.1


def solve_quadratic(A, b, pens, alphas, w0, *, rule, tol, max_iter, seed, history) -> EngineResult:
    """Minimize by the rule ``rule`` in chunks of ``n`` updates, testing the relative
    minimum-norm subgradient ``max_j |s_j| / max|b|`` against ``tol`` between chunks."""
    if sp.issparse(A):
        # the inner kernel reads H densely: refuse before allocating when that is too large
        check_dense_size(A.shape, "datafit.A", "the quadratic engine's dense copy of A")
    H = A.toarray() if sp.issparse(A) else np.asarray(A)
    w = w0.copy()
    grad = H @ w - b
    scale = max(float(np.max(np.abs(b))), 1e-300)
    total = 0
    status = 1
    chunk = max(H.shape[0], 1)
    while True:
        sg = min_norm_subgradients(pens, alphas, grad, w)
        measure = float(np.max(np.abs(sg), initial=0.0)) / scale
        fun = 0.5 * float(w @ (grad - b)) + pen_sum(pens, alphas, w)
        if history is not None:
            history.record(total, fun, measure)
        if measure <= tol:
            status = 0
            break
        if total >= max_iter:
            break
        n_up = quad_greedy_cd(H, b, w, grad, pens, alphas, rule, INNER_TOL_FACTOR * tol * scale,
                                min(chunk, max_iter - total), seed + total)
        total += max(n_up, 1)
    return EngineResult(w=w, objective=fun, measure=measure, nit=total, status=status)


@njit(cache=True)
def quad_greedy_cd(H, q, v, grad, pens, alphas, rule, tol, max_updates, seed):
    """Minimize ``½ vᵀHv - qᵀv + Σ_j pen_j(v_j)`` by exact one-coordinate minimizations.

    ``pens``/``alphas`` give each coordinate's penalty code and strength, ``L_j = H_jj`` is
    coordinate j's constant. ``grad`` must hold ``Hv - q`` on entry; ``v`` and ``grad`` are
    updated in place. The coordinate is chosen by ``rule`` (codes and scores of
    :mod:`.rules`): greedily, the largest :func:`.rules.coord_score` (GS ``s²``, GSL / GSD
    ``s²/L_j``, GS-q the prox-linear model decrease), computed by a branch-free scan with the
    penalty written as ``kink_j |v| + ½ curv_j v²`` (and ``v ≥ 0`` where constrained); or by
    epochs of ``m`` updates in order (cyclic), uniformly at random, or with probability
    ``L_j / Σ L`` (lipschitz; random draws seeded by ``seed`` when ``seed >= 0``). Each update
    costs O(m). Stops when the largest prox-gradient step ``max_j L_j |Δv_j|`` is at most
    ``tol``; a negative ``tol`` is relative: ``|tol|`` times that step at the start. Returns
    the number of coordinate updates.
    """
    m = v.shape[0]
    if m == 0:
        return 0
    if seed >= 0:
        np.random.seed(seed)  # noqa: NPY002
    n_up = 0
    first = True
    invd = np.empty(m)
    thr = np.empty(m)
    shrink = np.empty(m)
    neg = np.empty(m)
    kink = np.empty(m)
    curv = np.empty(m)
    diag = np.empty(m)
    score = np.empty(m)
    cum = np.empty(m)
    step = np.empty(m)
    weight = np.empty(m)
    total = 0.0
    for j in range(m):
        lj = H[j, j]
        diag[j] = lj
        invd[j] = 1.0 / lj if lj > 0.0 else 0.0
        kink[j], curv[j], nonneg = separable_form(pens[j], alphas[j])
        thr[j] = kink[j] * invd[j]
        shrink[j] = 1.0 / (1.0 + curv[j] * invd[j])
        neg[j] = 0.0 if nonneg else 1.0
        weight[j] = 1.0 if rule == RULE_GS else invd[j]
        total += lj if lj > 0.0 else 0.0
        cum[j] = total
    while n_up < max_updates:
        if rule == RULE_CYCLIC or rule == RULE_RANDOM or rule == RULE_LIPSCHITZ:
            worst = 0.0
            for e in range(m):
                if rule == RULE_CYCLIC:
                    j = e
                elif rule == RULE_RANDOM:
                    j = np.random.randint(m)  # noqa: NPY002
                else:
                    j = sample_lipschitz(cum, np.random.random())  # noqa: NPY002
                lj = diag[j]
                if lj <= 0.0:
                    continue
                vn = prox_scalar(pens[j], alphas[j], v[j] - grad[j] / lj, 1.0 / lj)
                d = vn - v[j]
                if d != 0.0:
                    v[j] = vn
                    for i in range(m):
                        grad[i] += H[i, j] * d
                    viol = lj * abs(d)
                    if viol > worst:
                        worst = viol
                n_up += 1
            if first and tol < 0:
                tol = -tol * worst
                first = False
            if worst <= tol:
                worst = 0.0
                for j in range(m):
                    lj = diag[j]
                    if lj > 0.0:
                        vn = prox_scalar(pens[j], alphas[j], v[j] - grad[j] / lj, 1.0 / lj)
                        viol = lj * abs(vn - v[j])
                        if viol > worst:
                            worst = viol
                if worst <= tol:
                    break
            continue
        if rule == RULE_GSQ:
            for j in range(m):
                vj = v[j]
                gj = grad[j]
                u = vj - gj * invd[j]
                vn = shrink[j] * (max(u - thr[j], 0.0) + neg[j] * min(u + thr[j], 0.0))
                d = vn - vj
                step[j] = diag[j] * d
                score[j] = -(gj * d + 0.5 * step[j] * d + kink[j] * (abs(vn) - abs(vj))
                             + 0.5 * curv[j] * (vn * vn - vj * vj))
        else:
            for j in range(m):
                vj = v[j]
                gj = grad[j]
                u = vj - gj * invd[j]
                vn = shrink[j] * (max(u - thr[j], 0.0) + neg[j] * min(u + thr[j], 0.0))
                step[j] = diag[j] * (vn - vj)
                gg = gj + curv[j] * vj
                sgn = (1.0 if vj > 0.0 else 0.0) - (1.0 if vj < 0.0 else 0.0)
                at0 = neg[j] * max(gg - kink[j], 0.0) + min(gg + kink[j], 0.0)
                s = gg + kink[j] * sgn if vj != 0.0 else at0
                score[j] = s * s * weight[j]
        worst = 0.0
        best = 0.0
        jbest = -1
        for j in range(m):
            a = abs(step[j])
            if a > worst:
                worst = a
            if score[j] > best:
                best = score[j]
                jbest = j
        if first and tol < 0:
            tol = -tol * worst
        first = False
        if worst <= tol:
            break
        if jbest < 0:
            break
        j = jbest
        u = v[j] - grad[j] * invd[j]
        vn = shrink[j] * (max(u - thr[j], 0.0) + neg[j] * min(u + thr[j], 0.0))
        d = vn - v[j]
        if d == 0.0:
            break
        v[j] = vn
        for i in range(m):
            grad[i] += H[i, j] * d
        n_up += 1
    return n_up
