"""Numba kernels of the working-set engine (:mod:`._working_set`): column CD on a working set
with Anderson extrapolation, the Gram-form L1 least-squares gap and solver, and the compiled
small dense L1-logistic proximal Newton.

Same conventions as :mod:`._kernels` (arrays and scalars only, "in place" said when an
argument is mutated). The block models are solved by :func:`._quadratic.quad_greedy_cd`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import logistic_conjugate_sum
from ._quadratic import quad_greedy_cd
from .penalties import PEN_NONE, pen_sum, prox_scalar, prox_violations
from .rules import (
    RULE_GSQ,
    RULE_LIPSCHITZ,
    RULE_RANDOM,
    coord_score,
    gsq_decrease,
    sample_lipschitz,
)

__all__ = [
    "anderson_weights",
    "dense_logistic_l1_solve",
    "dense_ls_l1_gap",
    "gram_l1_gap",
    "gram_l1_gap_bounded",
    "gram_l1_solve",
    "outer_scan",
    "ws_model_cd",
]


@njit(cache=True)
def outer_scan(rule, pens, alphas, grad, w, lips, viol, keys, cand):
    """One pass over the coordinates at an outer iteration (in place on ``viol``, ``keys``,
    ``cand``).

    ``viol_q = L_q |prox(w_q - g_q / L_q) - w_q|`` (the prox-step violation of
    :func:`.penalties.prox_violations`), ``keys_q = coord_score(rule, ..., L_q)`` (the greedy
    score, :func:`.rules.all_coordinate_keys`; GS-q reuses the prox step above), and
    ``cand[:m]`` the coordinates with ``w_q = 0`` and ``keys_q > 0`` (the candidates to enter
    a working set), in increasing order. Returns ``(max_q viol_q, max_{w_q = 0} viol_q, m)``.
    """
    worst = 0.0
    worst_zero = 0.0
    m = 0
    for q in range(w.shape[0]):
        lq = lips[q]
        wq = w[q]
        gq = grad[q]
        wn = prox_scalar(pens[q], alphas[q], wq - gq / lq, 1.0 / lq)
        d = wn - wq
        v = lq * abs(d)
        viol[q] = v
        if v > worst or v != v:  # a NaN propagates, as np.max does
            worst = v
        if rule == RULE_GSQ:
            key = gsq_decrease(pens[q], alphas[q], gq, wq, wn, lq)
        else:
            key = coord_score(rule, pens[q], alphas[q], gq, wq, lq)
        keys[q] = key
        if wq == 0.0:
            if v > worst_zero or v != v:
                worst_zero = v
            if key > 0.0:
                cand[m] = q
                m += 1
    return worst, worst_zero, m


@njit(cache=True)
def gram_l1_gap(G, c, y_sq, pens, alphas, alpha, positive, w, grad):
    """``(objective, relative gap)`` of L1 least squares from its Gram form alone.

    ``grad = Gw - c`` with ``G = XᵀX/n``, ``c = Xᵀy/n``, ``y_sq = yᵀy/n``: the datafit is
    ``½(y_sq - 2wᵀc + wᵀ(grad + c))`` and the dual point is the residual rescaled into the
    dual ball, so no pass over the samples is needed (the caller confirms on the residual,
    where these formulas cancel).
    """
    wc = 0.0
    wgc = 0.0
    dual_norm = 0.0
    for j in range(w.shape[0]):
        wc += w[j] * c[j]
        wgc += w[j] * (grad[j] + c[j])
        g = -grad[j] if positive else abs(grad[j])
        if g > dual_norm:
            dual_norm = g
    datafit = 0.5 * (y_sq - 2.0 * wc + wgc)
    objective = datafit + pen_sum(pens, alphas, w)
    s = 1.0 if dual_norm <= alpha else alpha / dual_norm
    dual = -(s * s * datafit + s * (wc - y_sq))
    return objective, max(objective - dual, 0.0) / max(0.5 * y_sq, 1e-300)


@njit(cache=True)
def dense_ls_l1_gap(X, offset, y, pens, alphas, alpha, positive, w, z, grad):
    """``(objective, duality gap)`` of L1 least squares on a dense ``X``, from the residual.

    One pass over the data: ``z = (X - 1 offsetᵀ) w`` and ``grad = (X - 1 offsetᵀ)ᵀ(z - y)/n``
    are written in place (the exact values, which the Gram-form updates only approximate);
    the dual point is the residual rescaled into the dual ball, as in
    :func:`optsolve.bcd.datafits.gap_from_predictions`.
    """
    n, p = X.shape
    shift = 0.0
    for j in range(p):
        shift += offset[j] * w[j]
        grad[j] = 0.0
    r_sum = 0.0
    r_sq = 0.0
    r_y = 0.0
    for i in range(n):
        s = -shift
        for j in range(p):
            s += X[i, j] * w[j]
        z[i] = s
        r = s - y[i]
        r_sum += r
        r_sq += r * r
        r_y += r * y[i]
        for j in range(p):
            grad[j] += X[i, j] * r
    dual_norm = 0.0
    for j in range(p):
        grad[j] = (grad[j] - offset[j] * r_sum) / n
        g = -grad[j] if positive else abs(grad[j])
        if g > dual_norm:
            dual_norm = g
    objective = 0.5 * r_sq / n + pen_sum(pens, alphas, w)
    sc = 1.0 if dual_norm <= alpha else alpha / dual_norm
    dual = -(0.5 * sc * sc * r_sq + sc * r_y) / n
    return objective, max(objective - dual, 0.0)


@njit(cache=True)
def gram_l1_gap_bounded(G, c, y_sq, pens, alphas, alpha, positive, w, grad, offset, n_rows):
    """``(objective, relative gap, bound on its rounding error)`` of L1 least squares in
    Gram form, with ``grad`` first recomputed as ``Gw - c`` (in place; no drift from the
    inner updates).

    The rest of the error comes from the rounding of ``G = XᵀX/n``, ``c = Xᵀy/n`` and
    ``y_sq = yᵀy/n``: at most ``γ = (n + p)·eps`` times ``|X|ᵀ|X|``, ``|X|ᵀ|y|`` and ``yᵀy``
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 2002, Section 3.1), whose
    entries Cauchy-Schwarz bounds by the uncentred column norms ``ν_j`` (``ν_j² = G_jj +
    offset_j²``) and ``‖y‖``. With ``s = ‖y‖ + Σ_j |w_j| ν_j``, the datafit and the dual
    value ``-(σ² datafit + σ(wᵀc - y_sq))`` are then off by at most ``γ s²`` each, and the
    dual scaling ``σ = α / ‖grad‖∞`` by a relative ``γ max_j ν_j s / α``: the bound is
    ``γ s² (2 + max_j ν_j s / α) / (y_sq / 2)``.
    """
    p = w.shape[0]
    spread = np.sqrt(max(y_sq, 0.0))
    nu_max = 0.0
    for j in range(p):
        acc = -c[j]
        for k in range(p):
            acc += G[j, k] * w[k]
        grad[j] = acc
        nu = np.sqrt(max(G[j, j], 0.0) + offset[j] * offset[j])
        spread += abs(w[j]) * nu
        nu_max = max(nu_max, nu)
    objective, measure = gram_l1_gap(G, c, y_sq, pens, alphas, alpha, positive, w, grad)
    gamma = (n_rows + p) * np.finfo(np.float64).eps
    error = gamma * spread * spread * (2.0 + nu_max * spread / max(alpha, 1e-300))
    return objective, measure, error / max(0.5 * y_sq, 1e-300)


@njit(cache=True)
def _update_support(w, support):
    """Set ``support`` to ``w != 0`` (in place); True if any entry changed."""
    changed = False
    for j in range(w.shape[0]):
        nz = w[j] != 0.0
        if nz != support[j]:
            support[j] = nz
            changed = True
    return changed


@njit(cache=True)
def gram_l1_solve(G, c, y_sq, pens, alphas, alpha, positive, w, grad, rule, inner_factor, tol,
                  max_iter, seed):
    """The outer loop of the Gram-form active-set solver for L1 least squares, compiled.

    Each outer iteration runs greedy coordinate descent (:func:`quad_greedy_cd`, rule
    ``rule``) to ``inner_factor`` times the largest prox-gradient step, then tests the
    p-space gap (:func:`gram_l1_gap`) against ``tol``. For problems with few features, where
    the Python loop's per-iteration overhead would be most of the solve. ``w`` and ``grad``
    (``= Gw - c`` on entry) are updated in place. Stops also at ``max_iter`` outer
    iterations or when an inner solve makes no update (stalled). Returns ``(n_outer,
    n_updates, n_support_changes, last_change_iteration)``.
    """
    p = w.shape[0]
    diag = np.empty(p)
    support = np.empty(p, dtype=np.bool_)
    for j in range(p):
        diag[j] = max(G[j, j], 1e-300)
        support[j] = w[j] != 0.0
    viol = np.empty(p)
    it = 0
    n_updates = 0
    n_changes = 0
    identified_at = 0
    while it < max_iter:
        if gram_l1_gap(G, c, y_sq, pens, alphas, alpha, positive, w, grad)[1] <= tol:
            break
        it += 1
        prox_violations(pens, alphas, grad, w, diag, viol)
        n_up = quad_greedy_cd(G, c, w, grad, pens, alphas, rule, inner_factor * viol.max(),
                              50 * p + 1000, seed + it)
        n_updates += n_up
        if _update_support(w, support):
            n_changes += 1
            identified_at = it
        if n_up == 0:
            break
    return it, n_updates, n_changes, identified_at


@njit(cache=True)
def _logistic_loss_and_derivatives(z, y, out):
    """``Σ_i log(1 + exp(-y_i z_i))``, and ``out_i = -y_i σ(-y_i z_i)``, with one exp each."""
    s = 0.0
    for i in range(z.shape[0]):
        t = -y[i] * z[i]
        if t > 0.0:
            e = np.exp(-t)
            s += t + np.log1p(e)
            out[i] = -y[i] / (1.0 + e)
        else:
            e = np.exp(t)
            s += np.log1p(e)
            out[i] = -y[i] * e / (1.0 + e)
    return s


@njit(cache=True)
def dense_logistic_l1_solve(X, y, pens, alphas, alpha, positive, w, z, lips, grad0_scale, rule,
                            tol, max_iter, forcing, gap_skip, armijo_c, max_line_search, seed):
    """Proximal Newton for L1 logistic regression on a small dense ``X``, compiled.

    ``X`` (n, p) C-contiguous, ``y`` ±1, ``z = Xw`` on entry; ``w`` and ``z`` are updated in
    place. Coordinates with ``pens == 0`` are unpenalized (an intercept column of ones); the
    others are L1 (``positive``: and non-negative) with strength ``alpha``. Each iteration
    takes the working set of the non-zero, unpenalized and violating coordinates (a non-zero
    prox-gradient step, measured with the curvature bounds ``lips``), forms its Hessian
    block ``X_WᵀDX_W/n``, solves the L1 model by greedy CD (:func:`quad_greedy_cd`, rule
    ``rule``) to ``forcing`` times the largest step, and takes an Armijo step (accepted also
    where the directional derivative is non-positive). The relative duality gap
    ``gap / log 2`` is computed once the largest step is at most ``gap_skip * alpha``; it
    stops when that gap and every unpenalized gradient (over ``grad0_scale``) are at most
    ``tol``, after ``max_iter`` iterations, or when the model solve makes no update. Returns
    ``(n_iter, n_updates, n_support_changes, last_change_iteration)``.
    """
    n, p = X.shape
    inv_n = 1.0 / n
    deriv = np.empty(n)
    grad = np.empty(p)
    ws = np.empty(p, dtype=np.int64)
    d = np.empty(p)
    dz = np.empty(n)
    zt = np.empty(n)
    deriv_t = np.empty(n)
    viol = np.empty(p)
    support = np.empty(p, dtype=np.bool_)
    for j in range(p):
        support[j] = w[j] != 0.0
    f_loss = _logistic_loss_and_derivatives(z, y, deriv) * inv_n
    it = 0
    n_updates = 0
    n_changes = 0
    identified_at = 0
    log2 = np.log(2.0)
    while True:
        for j in range(p):
            grad[j] = 0.0
        for i in range(n):
            di = deriv[i] * inv_n
            for j in range(p):
                grad[j] += X[i, j] * di
        pen = pen_sum(pens, alphas, w)
        prox_violations(pens, alphas, grad, w, lips, viol)
        largest = 0.0
        unpenalized = 0.0
        for j in range(p):
            if pens[j] == PEN_NONE:
                unpenalized = max(unpenalized, abs(grad[j]) / grad0_scale)
            elif viol[j] > largest:
                largest = viol[j]
        if largest <= gap_skip * alpha:
            # the gap at the dual point -loss'(z)/n rescaled into {‖Xᵀθ‖∞ ≤ α}
            dual_norm = 0.0
            for j in range(p):
                if pens[j] != PEN_NONE:
                    g = -grad[j] if positive else abs(grad[j])
                    if g > dual_norm:
                        dual_norm = g
            sc = 1.0 if dual_norm <= alpha else alpha / dual_norm
            conj = logistic_conjugate_sum(sc * deriv, y)
            measure = max(f_loss + pen + conj * inv_n, 0.0) / log2
            if max(measure, unpenalized) <= tol:
                break
        if it >= max_iter:
            break
        it += 1
        k = 0
        for j in range(p):
            if w[j] != 0.0 or pens[j] == PEN_NONE or viol[j] > 0.0:
                ws[k] = j
                k += 1
        # Hessian block of the datafit, BᵀB with B = D^½ X_W / √n (one BLAS product):
        # σ(1 - σ) = |loss'| (1 - |loss'|)
        B = np.empty((n, k))
        for i in range(n):
            a_i = abs(deriv[i])
            si = np.sqrt(a_i * (1.0 - a_i) * inv_n)
            for a in range(k):
                B[i, a] = si * X[i, ws[a]]
        H = np.ascontiguousarray(B.T @ B)
        q = np.empty(k)
        v = np.empty(k)
        gin = np.empty(k)
        sub_pens = np.empty(k, dtype=pens.dtype)
        sub_alphas = np.empty(k)
        worst = 0.0
        for a in range(k):
            ja = ws[a]
            s_a = 0.0
            for b in range(k):
                s_a += H[a, b] * w[ws[b]]
            q[a] = s_a - grad[ja]
            v[a] = w[ja]
            gin[a] = grad[ja]
            sub_pens[a] = pens[ja]
            sub_alphas[a] = alphas[ja]
            worst = max(worst, viol[ja])
        n_up = quad_greedy_cd(H, q, v, gin, sub_pens, sub_alphas, rule, forcing * worst,
                              50 * k + 1000, seed + it)
        n_updates += n_up
        if n_up == 0:
            break
        decrease = 0.0
        for j in range(p):
            d[j] = 0.0
        for a in range(k):
            ja = ws[a]
            d[ja] = v[a] - w[ja]
            decrease += grad[ja] * d[ja]
        decrease += pen_sum(sub_pens, sub_alphas, v) - pen_sum(sub_pens, sub_alphas, w[ws[:k]])
        for i in range(n):
            s_i = 0.0
            for a in range(k):
                s_i += X[i, ws[a]] * d[ws[a]]
            dz[i] = s_i
        step = 1.0
        accepted = False
        f_new = f_loss
        for _ in range(max_line_search):
            for i in range(n):
                zt[i] = z[i] + step * dz[i]
            f_new = _logistic_loss_and_derivatives(zt, y, deriv_t) * inv_n
            pen_change = 0.0
            slope = 0.0
            for a in range(k):
                ja = ws[a]
                if pens[ja] == PEN_NONE:
                    continue
                vt = w[ja] + step * d[ja]
                pen_change += alphas[ja] * (abs(vt) - abs(w[ja]))
                sg = (1.0 if vt > 0.0 else -1.0) if vt != 0.0 else (
                    (1.0 if d[ja] > 0.0 else -1.0) if d[ja] != 0.0 else 0.0)
                slope += alphas[ja] * sg * d[ja]
            if f_new - f_loss + pen_change <= armijo_c * step * decrease:
                accepted = True
                break
            # the directional derivative at the trial point (reliable where the decrease is
            # below the rounding of the objective values)
            for i in range(n):
                slope += dz[i] * deriv_t[i] * inv_n
            if slope <= 0.0:
                accepted = True
                break
            step *= 0.5
        for a in range(k):
            w[ws[a]] += step * d[ws[a]]
        if accepted:
            for i in range(n):
                z[i] = zt[i]
                deriv[i] = deriv_t[i]
            f_loss = f_new
        else:
            for i in range(n):
                z[i] += step * dz[i]
            f_loss = _logistic_loss_and_derivatives(z, y, deriv) * inv_n
        if _update_support(w, support):
            n_changes += 1
            identified_at = it
    return it, n_updates, n_changes, identified_at


#: column CD on a working set is extrapolated from its last ANDERSON_K + 1 epoch iterates
#: (Anderson acceleration of coordinate descent, Bertrand & Massias, AISTATS 2021, Alg. 2;
#: skglm's K = 5); the extrapolated point is kept only when it lowers the block model
ANDERSON_K = 5


@njit(cache=True)
def anderson_weights(V, c):
    """Anderson weights of the iterates ``V[0..K]`` (rows), in place on ``c`` (length K).

    With ``U_i = V[i+1] - V[i]`` and ``C = U Uᵀ``: ``c = C⁻¹1 / (1ᵀ C⁻¹ 1)``
    (Bertrand & Massias 2021, eq. 8), the affine combination of ``V[1..K]`` whose residual
    ``Σ c_i U_i`` is smallest. Returns False when ``C`` is numerically singular.
    """
    K = c.shape[0]
    k = V.shape[1]
    C = np.zeros((K, K + 1))
    for i in range(K):
        for j in range(i, K):
            s = 0.0
            for a in range(k):
                s += (V[i + 1, a] - V[i, a]) * (V[j + 1, a] - V[j, a])
            C[i, j] = s
            C[j, i] = s
        C[i, K] = 1.0
    scale = 0.0
    for i in range(K):
        scale = max(scale, C[i, i])
    if scale <= 0.0:
        return False
    # Gaussian elimination with partial pivoting on the augmented [C | 1]
    for col in range(K):
        piv = col
        for r in range(col + 1, K):
            if abs(C[r, col]) > abs(C[piv, col]):
                piv = r
        if abs(C[piv, col]) <= 1e-14 * scale:
            return False
        if piv != col:
            for t in range(K + 1):
                tmp = C[col, t]
                C[col, t] = C[piv, t]
                C[piv, t] = tmp
        for r in range(col + 1, K):
            f = C[r, col] / C[col, col]
            for t in range(col, K + 1):
                C[r, t] -= f * C[col, t]
    total = 0.0
    for i in range(K - 1, -1, -1):
        s = C[i, K]
        for t in range(i + 1, K):
            s -= C[i, t] * c[t]
        c[i] = s / C[i, i]
        total += c[i]
    if not np.isfinite(total) or total == 0.0:
        return False
    for i in range(K):
        c[i] /= total
    return True


@njit(cache=True)
def _block_model_value(g, v0, v, u, weights, inv_n, pens, alphas):
    """``gᵀ(v - v0) + ½ Σ_i weights_i u_i² / n + pen(v)`` with ``u = X_W (v - v0)``."""
    s = 0.0
    for a in range(v.shape[0]):
        s += g[a] * (v[a] - v0[a])
    q = 0.0
    for i in range(u.shape[0]):
        q += weights[i] * u[i] * u[i]
    return s + 0.5 * q * inv_n + pen_sum(pens, alphas, v)


@njit(cache=True)
def _largest_step(indptr, indices, data, ws, weights, inv_n, g, v, u, pens, alphas, hdiag):
    """``max_a H_aa |prox step of coordinate a|`` of the block model at ``v`` (no update)."""
    worst = 0.0
    for a in range(ws.shape[0]):
        h = hdiag[a]
        if h <= 0.0:
            continue
        j = ws[a]
        s = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            i = indices[t]
            s += data[t] * weights[i] * u[i]
        vn = prox_scalar(pens[a], alphas[a], v[a] - (g[a] + s * inv_n) / h, 1.0 / h)
        worst = max(worst, h * abs(vn - v[a]))
    return worst


@njit(cache=True)
def ws_model_cd(indptr, indices, data, ws, weights, inv_n, g, v0, v, u, pens, alphas, tol,
                max_epochs, rule, seed):
    """Column CD on the block model ``gᵀd + ½ dᵀ X_Wᵀ D X_W d / n + pen(v0 + d)``.

    An epoch is ``k = |ws|`` coordinate updates: a sweep in order (``rule`` cyclic or greedy:
    a greedy choice would need every column's gradient after each update), or ``k`` draws,
    uniform (``RULE_RANDOM``) or with probability ``H_jj / Σ H`` (``RULE_LIPSCHITZ``), seeded
    by ``seed``; a sampled run stops only once a pass over every coordinate confirms the test.

    Works on the sparse columns ``ws`` of a CSC matrix (the block), keeping ``u = X_W d``
    (length n, zero on entry) instead of a block Gram matrix, so one coordinate update costs
    ``2 nnz(X_j)``: cheaper than a Gram column when the block is wider than its columns are
    dense. ``D = diag(weights)`` (ones for least squares, where the model is exact). ``v``
    holds ``v0`` on entry and the block solution on exit (in place on ``v`` and ``u``).
    Every ``ANDERSON_K + 1`` epochs the iterates are Anderson-extrapolated
    (:func:`anderson_weights`) on the sign pattern of the last one (a coordinate at zero or
    whose extrapolation changes sign is set to zero); the extrapolation replaces ``v`` when
    it lowers the model.
    Stops when an epoch's largest step ``H_jj |Δ|`` is at most ``tol`` (relative to the first
    epoch's when negative). Returns the number of epochs, negated when ``max_epochs`` ran out
    before the test was met.
    """
    k = ws.shape[0]
    n = u.shape[0]
    hdiag = np.empty(k)
    for a in range(k):
        j = ws[a]
        s = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            s += data[t] * data[t] * weights[indices[t]]
        hdiag[a] = s * inv_n
    sampled = rule == RULE_RANDOM or rule == RULE_LIPSCHITZ
    cum = np.empty(k)
    if sampled:
        np.random.seed(seed)  # noqa: NPY002 (numba supports the legacy global generator)
        total = 0.0
        for a in range(k):
            total += max(hdiag[a], 0.0)
            cum[a] = total
    hist = np.empty((ANDERSON_K + 1, k))
    coefs = np.empty(ANDERSON_K)
    v_acc = np.empty(k)
    u_acc = np.empty(n)
    n_hist = 0
    epoch = 0
    while epoch < max_epochs:
        worst = 0.0
        for e in range(k):
            if not sampled:
                a = e
            elif rule == RULE_RANDOM:
                a = np.random.randint(k)  # noqa: NPY002
            else:
                a = sample_lipschitz(cum, np.random.random())  # noqa: NPY002
            h = hdiag[a]
            if h <= 0.0:
                continue
            j = ws[a]
            s = 0.0
            for t in range(indptr[j], indptr[j + 1]):
                i = indices[t]
                s += data[t] * weights[i] * u[i]
            grad = g[a] + s * inv_n
            vn = prox_scalar(pens[a], alphas[a], v[a] - grad / h, 1.0 / h)
            d = vn - v[a]
            if d != 0.0:
                v[a] = vn
                for t in range(indptr[j], indptr[j + 1]):
                    u[indices[t]] += data[t] * d
                if h * abs(d) > worst:
                    worst = h * abs(d)
        epoch += 1
        if epoch == 1 and tol < 0:
            tol = -tol * worst
        if worst <= tol and (not sampled or _largest_step(
                indptr, indices, data, ws, weights, inv_n, g, v, u, pens, alphas, hdiag) <= tol):
            return epoch
        if sampled:
            # Anderson extrapolates the fixed-point map of a cyclic sweep
            continue
        hist[n_hist, :] = v
        n_hist += 1
        if n_hist == ANDERSON_K + 1:
            n_hist = 0
            if anderson_weights(hist, coefs):
                for a in range(k):
                    s = 0.0
                    for m in range(ANDERSON_K):
                        s += coefs[m] * hist[m + 1, a]
                    # on the last iterate's sign pattern: the CD map is linear on a fixed
                    # support, and Anderson extrapolates that linear map; leaving it costs
                    # penalty and is refused by the model test most of the time
                    last = hist[ANDERSON_K, a]
                    v_acc[a] = s if s * last > 0.0 else 0.0
                u_acc[:] = 0.0
                for a in range(k):
                    d = v_acc[a] - v0[a]
                    if d != 0.0:
                        j = ws[a]
                        for t in range(indptr[j], indptr[j + 1]):
                            u_acc[indices[t]] += data[t] * d
                if (_block_model_value(g, v0, v_acc, u_acc, weights, inv_n, pens, alphas)
                        < _block_model_value(g, v0, v, u, weights, inv_n, pens, alphas)):
                    v[:] = v_acc
                    u[:] = u_acc
    return -epoch


