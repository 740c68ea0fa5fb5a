"""Numba kernels of greedy block coordinate descent: arrays and scalars only.

Conventions shared by every kernel:

* ``loss`` codes: 0 least squares ``½(z - y)²``, 1 binary logistic ``log(1 + exp(-y z))`` with
  ``y ∈ {-1, +1}``, 2 multinomial ``logsumexp(z_i) - z_{i, y_i}`` with integer-valued ``y``.
* ``pen`` codes: 0 none, 1 ``α|w|``, 2 ``½α w²``, 3 ``w ≥ 0``, 4 ``α|w|`` with ``w ≥ 0``.
* selection ``rule`` codes: 0 GS, 1 GSL, 2 GSD, 3 GS-q / GSQ (quadratic-model decrease).
* A multi-output parameter ``W`` of shape ``(p, K)`` is stored flat: coordinate ``q = j*K + c``
  belongs to feature ``j = q // K`` and output ``c = q % K``; ``z`` (n, K) is flat likewise.
* Sparse matrices arrive as their ``(indptr, indices, data)`` arrays; a dense matrix is passed
  through the same kernels as a CSC/CSR view built once by the caller.

Kernels that mutate an argument say "in place". Nothing is allocated inside inner loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOSS_LS, LOSS_LOGISTIC, LOSS_MULTINOMIAL = 0, 1, 2
PEN_NONE, PEN_L1, PEN_L2, PEN_POS, PEN_L1_POS = 0, 1, 2, 3, 4
RULE_GS, RULE_GSL, RULE_GSD, RULE_GSQ = 0, 1, 2, 3
RULE_CYCLIC, RULE_RANDOM = 10, 11


# ------------------------------------------------------------------ scalar pieces


@njit(cache=True)
def _sigmoid(t):
    if t >= 0:
        return 1.0 / (1.0 + np.exp(-t))
    e = np.exp(t)
    return e / (1.0 + e)


@njit(cache=True)
def _log1pexp(t):
    if t > 30.0:
        return t
    if t < -30.0:
        return np.exp(t)
    return np.log1p(np.exp(t))


@njit(cache=True)
def prox_scalar(pen, alpha, u, step):
    """Proximal operator of ``step * pen`` at ``u``."""
    if pen == 1:
        t = alpha * step
        if u > t:
            return u - t
        if u < -t:
            return u + t
        return 0.0
    if pen == 2:
        return u / (1.0 + alpha * step)
    if pen == 3:
        return u if u > 0.0 else 0.0
    if pen == 4:
        v = u - alpha * step
        return v if v > 0.0 else 0.0
    return u


@njit(cache=True)
def pen_scalar(pen, alpha, w):
    """Value of the penalty at the scalar ``w`` (``inf`` outside a constraint)."""
    if pen == 1:
        return alpha * abs(w)
    if pen == 2:
        return 0.5 * alpha * w * w
    if pen == 3:
        return 0.0 if w >= 0.0 else np.inf
    if pen == 4:
        return alpha * w if w >= 0.0 else np.inf
    return 0.0


@njit(cache=True)
def pen_sum(pens, alphas, v):
    """``Σ_a pen_a(v_a)`` for a block of coordinates."""
    s = 0.0
    for a in range(v.shape[0]):
        s += pen_scalar(pens[a], alphas[a], v[a])
    return s


@njit(cache=True)
def prox_block(pens, alphas, w, g, lip, out):
    """``out_a = prox_{pen_a / lip}(w_a - g_a / lip)``: a block prox-gradient step (in place)."""
    for a in range(w.shape[0]):
        out[a] = prox_scalar(pens[a], alphas[a], w[a] - g[a] / lip, 1.0 / lip)


@njit(cache=True)
def min_norm_subgrad(pen, alpha, g, w):
    """Smallest-magnitude element of ``g + ∂pen(w)`` (the GS-s / projected-gradient quantity)."""
    if pen == 1:
        if w != 0.0:
            return g + alpha * (1.0 if w > 0 else -1.0)
        if g > alpha:
            return g - alpha
        if g < -alpha:
            return g + alpha
        return 0.0
    if pen == 2:
        return g + alpha * w
    if pen == 3 or pen == 4:
        gg = g + (alpha if pen == 4 else 0.0)
        if w > 0.0:
            return gg
        return gg if gg < 0.0 else 0.0
    return g


@njit(cache=True)
def coord_score(rule, pen, alpha, g, w, lip):
    """Greedy score of one coordinate with gradient ``g``, value ``w`` and constant ``lip``.

    GS uses the minimum-norm subgradient squared, GSL and GSD divide it by ``lip``, GS-q is
    the decrease of the prox-linear model ``g d + lip/2 d² + pen(w + d) - pen(w)``.
    """
    if rule == 3:
        wn = prox_scalar(pen, alpha, w - g / lip, 1.0 / lip)
        d = wn - w
        dec = -(g * d + 0.5 * lip * d * d + pen_scalar(pen, alpha, wn) - pen_scalar(pen, alpha, w))
        return dec if dec > 0.0 else 0.0
    s = min_norm_subgrad(pen, alpha, g, w)
    if rule == 0:
        return s * s
    return s * s / lip


# ------------------------------------------------------------------ losses on rows


@njit(cache=True)
def row_loss(loss, z, y, i, K):
    """Loss of sample ``i`` at the linear predictions ``z[i*K:(i+1)*K]``."""
    if loss == 0:
        r = z[i] - y[i]
        return 0.5 * r * r
    if loss == 1:
        return _log1pexp(-y[i] * z[i])
    base = i * K
    m = z[base]
    for c in range(1, K):
        if z[base + c] > m:
            m = z[base + c]
    s = 0.0
    for c in range(K):
        s += np.exp(z[base + c] - m)
    return m + np.log(s) - z[base + int(y[i])]


@njit(cache=True)
def row_derivative(loss, z, y, i, K, out):
    """Derivative of the loss of sample ``i`` w.r.t. its predictions, into ``out[i*K:...]``."""
    if loss == 0:
        out[i] = z[i] - y[i]
        return
    if loss == 1:
        out[i] = -y[i] * _sigmoid(-y[i] * z[i])
        return
    base = i * K
    m = z[base]
    for c in range(1, K):
        if z[base + c] > m:
            m = z[base + c]
    s = 0.0
    for c in range(K):
        e = np.exp(z[base + c] - m)
        out[base + c] = e
        s += e
    for c in range(K):
        out[base + c] /= s
    out[base + int(y[i])] -= 1.0


@njit(cache=True)
def loss_sum(loss, z, y, K):
    """``Σ_i loss_i(z_i)`` over all samples."""
    n = y.shape[0]
    s = 0.0
    if loss == 0:
        for i in range(n):
            r = z[i] - y[i]
            s += r * r
        return 0.5 * s
    if loss == 1:
        for i in range(n):
            t = -y[i] * z[i]
            s += t + np.log1p(np.exp(-t)) if t > 0 else np.log1p(np.exp(t))
        return s
    for i in range(n):
        s += row_loss(loss, z, y, i, K)
    return s


@njit(cache=True)
def loss_derivatives(loss, z, y, K, out):
    """All per-sample derivatives, in place into ``out`` (n*K)."""
    if loss == 0:
        for i in range(y.shape[0]):
            out[i] = z[i] - y[i]
        return
    if loss == 1:
        for i in range(y.shape[0]):
            out[i] = -y[i] / (1.0 + np.exp(y[i] * z[i]))
        return
    for i in range(y.shape[0]):
        row_derivative(loss, z, y, i, K, out)


# ------------------------------------------------------------------ sparse products


@njit(cache=True)
def csc_transpose_matvec(indptr, indices, data, v, K, scale, out):
    """``out[j*K+c] = scale * Σ_i X_ij v[i*K+c]`` for every feature ``j`` (in place)."""
    p = indptr.shape[0] - 1
    for j in range(p):
        for c in range(K):
            s = 0.0
            for t in range(indptr[j], indptr[j + 1]):
                s += data[t] * v[indices[t] * K + c]
            out[j * K + c] = s * scale


@njit(cache=True)
def csc_col_sq_norms(indptr, data, out):
    """``out[j] = Σ_i X_ij²`` (in place)."""
    for j in range(indptr.shape[0] - 1):
        s = 0.0
        for t in range(indptr[j], indptr[j + 1]):
            s += data[t] * data[t]
        out[j] = s


@njit(cache=True)
def csc_matvec(indptr, indices, data, w, out):
    """``out = X w`` for a single output, skipping the zero entries of ``w`` (in place)."""
    out[:] = 0.0
    for j in range(indptr.shape[0] - 1):
        wj = w[j]
        if wj == 0.0:
            continue
        for t in range(indptr[j], indptr[j + 1]):
            out[indices[t]] += data[t] * wj


@njit(cache=True)
def csc_matvec_add(indptr, indices, data, coords, delta, K, z):
    """``z[:, c] += X_j * delta_a`` for each coordinate ``coords[a] = j*K + c`` (in place)."""
    for a in range(coords.shape[0]):
        d = delta[a]
        if d == 0.0:
            continue
        q = coords[a]
        j = q // K
        c = q % K
        for t in range(indptr[j], indptr[j + 1]):
            z[indices[t] * K + c] += data[t] * d


# ------------------------------------------------------------------ max-heap of scores


@njit(cache=True)
def _sift_up(keys, heap, pos, h):
    item = heap[h]
    key = keys[item]
    while h > 0:
        parent = (h - 1) >> 1
        pit = heap[parent]
        if keys[pit] >= key:
            break
        heap[h] = pit
        pos[pit] = h
        h = parent
    heap[h] = item
    pos[item] = h


@njit(cache=True)
def _sift_down(keys, heap, pos, h, size):
    item = heap[h]
    key = keys[item]
    while True:
        child = 2 * h + 1
        if child >= size:
            break
        if child + 1 < size and keys[heap[child + 1]] > keys[heap[child]]:
            child += 1
        cit = heap[child]
        if keys[cit] <= key:
            break
        heap[h] = cit
        pos[cit] = h
        h = child
    heap[h] = item
    pos[item] = h


@njit(cache=True)
def heap_build(keys, heap, pos):
    """Arrange ``heap`` (ids) into a max-heap on ``keys``; ``pos`` maps id -> slot (in place)."""
    size = keys.shape[0]
    for i in range(size):
        heap[i] = i
        pos[i] = i
    for h in range(size // 2 - 1, -1, -1):
        _sift_down(keys, heap, pos, h, size)


@njit(cache=True)
def heap_set(keys, heap, pos, item, key):
    """Change ``keys[item]`` to ``key`` and restore the heap order in O(log size) (in place)."""
    old = keys[item]
    keys[item] = key
    if key > old:
        _sift_up(keys, heap, pos, pos[item])
    elif key < old:
        _sift_down(keys, heap, pos, pos[item], heap.shape[0])


@njit(cache=True)
def heap_top_k(keys, heap, pos, k, out):
    """Ids of the ``k`` largest keys, largest first, into ``out`` (heap left unchanged).

    Pops ``k`` times and pushes the items back: O(k log size).
    """
    size = heap.shape[0]
    saved = np.empty(k, dtype=np.float64)
    for a in range(k):
        item = heap[0]
        out[a] = item
        saved[a] = keys[item]
        # move item out of the way by giving it the lowest possible key
        keys[item] = -np.inf
        _sift_down(keys, heap, pos, 0, size)
    for a in range(k):
        item = out[a]
        keys[item] = saved[a]
        _sift_up(keys, heap, pos, pos[item])


# ------------------------------------------------------------------ incremental gradient


@njit(cache=True)
def apply_block_change(
    loss, c_ptr, c_idx, c_val, r_ptr, r_idx, r_val, y, K, inv_n,
    coords, delta, w, z, deriv, grad, row_mark, rows_buf, dderiv, coord_mark, coords_buf,
):
    """Move ``w[coords] += delta`` and update ``z``, ``deriv`` and ``grad`` incrementally.

    Only the rows touched by the block's columns and the coordinates sharing those rows are
    visited, so the cost is the number of touched non-zeros. The coordinates whose gradient
    changed are written to ``coords_buf``; their count is returned. ``row_mark`` and
    ``coord_mark`` must be all False on entry and are left so (in place on every array).
    """
    n_rows = 0
    for a in range(coords.shape[0]):
        d = delta[a]
        if d == 0.0:
            continue
        q = coords[a]
        w[q] += d
        j = q // K
        c = q % K
        for t in range(c_ptr[j], c_ptr[j + 1]):
            i = c_idx[t]
            z[i * K + c] += c_val[t] * d
            if not row_mark[i]:
                row_mark[i] = True
                rows_buf[n_rows] = i
                n_rows += 1
    n_coords = 0
    for b in range(n_rows):
        i = rows_buf[b]
        row_mark[i] = False
        for c in range(K):
            dderiv[c] = -deriv[i * K + c]
        row_derivative(loss, z, y, i, K, deriv)
        for c in range(K):
            dderiv[c] = (dderiv[c] + deriv[i * K + c]) * inv_n
        for t in range(r_ptr[i], r_ptr[i + 1]):
            j = r_idx[t]
            v = r_val[t]
            for c in range(K):
                q = j * K + c
                grad[q] += v * dderiv[c]
                if not coord_mark[q]:
                    coord_mark[q] = True
                    coords_buf[n_coords] = q
                    n_coords += 1
    for b in range(n_coords):
        coord_mark[coords_buf[b]] = False
    return n_coords


@njit(cache=True)
def refresh_coordinate_keys(rule, pens, alphas, grad, w, lips, coords, n_coords, keys, heap, pos):
    """Recompute the greedy score of ``coords[:n_coords]`` and fix the heap (in place)."""
    for b in range(n_coords):
        q = coords[b]
        key = coord_score(rule, pens[q], alphas[q], grad[q], w[q], lips[q])
        heap_set(keys, heap, pos, q, key)


@njit(cache=True)
def all_coordinate_keys(rule, pens, alphas, grad, w, lips, keys):
    """Greedy score of every coordinate, into ``keys`` (in place)."""
    for q in range(keys.shape[0]):
        keys[q] = coord_score(rule, pens[q], alphas[q], grad[q], w[q], lips[q])


@njit(cache=True)
def prox_violations(pens, alphas, grad, w, lips, out):
    """``out_q = L_q |prox(w_q - g_q / L_q) - w_q|``: the prox-gradient step length (in place).

    Zero exactly at a coordinate-wise optimum; unlike the GS-q score it involves no
    subtraction of nearly equal model values, so it stays accurate near the solution.
    """
    for q in range(out.shape[0]):
        lq = lips[q]
        out[q] = lq * abs(prox_scalar(pens[q], alphas[q], w[q] - grad[q] / lq, 1.0 / lq) - w[q])


@njit(cache=True)
def block_key(rule, pens, alphas, grad, w, lips, block_lip, members, start, stop, minv, moff):
    """Score of the fixed block ``members[start:stop]``.

    GS sums squared minimum-norm subgradients; GSL divides by the block constant
    ``block_lip``; GSD divides each coordinate by its own constant; GSQ uses the block's inverse
    bound matrix ``minv[moff:...]`` when ``moff >= 0`` (smooth problems), else the separable
    GS-q sum with ``block_lip``.
    """
    size = stop - start
    if rule == 3 and moff >= 0:
        s = 0.0
        for a in range(size):
            qa = members[start + a]
            ga = min_norm_subgrad(pens[qa], alphas[qa], grad[qa], w[qa])
            for b in range(size):
                qb = members[start + b]
                gb = min_norm_subgrad(pens[qb], alphas[qb], grad[qb], w[qb])
                s += ga * minv[moff + a * size + b] * gb
        return 0.5 * s
    s = 0.0
    for a in range(start, stop):
        q = members[a]
        if rule == 2:
            s += coord_score(1, pens[q], alphas[q], grad[q], w[q], lips[q])
        else:
            s += coord_score(rule, pens[q], alphas[q], grad[q], w[q], block_lip)
    return s


@njit(cache=True)
def refresh_block_keys(
    rule, pens, alphas, grad, w, lips, block_lips, block_ptr, members, block_of, minv, minv_ptr,
    coords, n_coords, block_mark, keys, heap, pos,
):
    """Recompute the scores of the blocks holding ``coords[:n_coords]`` (in place)."""
    for b in range(n_coords):
        blk = block_of[coords[b]]
        if block_mark[blk]:
            continue
        block_mark[blk] = True
        key = block_key(rule, pens, alphas, grad, w, lips, block_lips[blk], members,
                        block_ptr[blk], block_ptr[blk + 1], minv, minv_ptr[blk])
        heap_set(keys, heap, pos, blk, key)
    for b in range(n_coords):
        block_mark[block_of[coords[b]]] = False


@njit(cache=True)
def block_matrix(loss, bound, c_ptr, c_idx, c_val, coords, z, y, K, inv_n, scatter, out):
    """Block Hessian (``bound=False``) or its data-independent upper bound (``bound=True``).

    ``H[a, b] = inv_n Σ_i X_{i j_a} X_{i j_b} h_i(c_a, c_b)`` with ``h`` the second derivative
    of the loss (least squares 1, logistic σ(1-σ), multinomial diag(π) - ππᵀ; bounds 1, 1/4 and
    ½δ). ``scatter`` is an all-zero length-n work array (left zero). Result in ``out`` (in place).
    """
    m = coords.shape[0]
    for a in range(m):
        ja = coords[a] // K
        ca = coords[a] % K
        for t in range(c_ptr[ja], c_ptr[ja + 1]):
            scatter[c_idx[t]] = c_val[t]
        for b in range(a, m):
            jb = coords[b] // K
            cb = coords[b] % K
            s = 0.0
            for t in range(c_ptr[jb], c_ptr[jb + 1]):
                i = c_idx[t]
                xa = scatter[i]
                if xa == 0.0:
                    continue
                h = _curvature(loss, bound, z, y, i, K, ca, cb)
                s += xa * c_val[t] * h
            out[a, b] = s * inv_n
            out[b, a] = s * inv_n
        for t in range(c_ptr[ja], c_ptr[ja + 1]):
            scatter[c_idx[t]] = 0.0


@njit(cache=True)
def _curvature(loss, bound, z, y, i, K, ca, cb):
    if loss == 0:
        return 1.0 if ca == cb else 0.0
    if loss == 1:
        if bound:
            return 0.25
        s = _sigmoid(z[i])
        return s * (1.0 - s)
    if bound:
        return 0.5 if ca == cb else 0.0
    base = i * K
    m = z[base]
    for c in range(1, K):
        if z[base + c] > m:
            m = z[base + c]
    tot = 0.0
    for c in range(K):
        tot += np.exp(z[base + c] - m)
    pa = np.exp(z[base + ca] - m) / tot
    pb = np.exp(z[base + cb] - m) / tot
    return pa * (1.0 - pa) if ca == cb else -pa * pb


@njit(cache=True)
def block_direction_rows(c_ptr, c_idx, c_val, coords, delta, K, dz, row_mark, rows_buf):
    """``dz = X_B delta`` on the touched rows (listed in ``rows_buf``; count returned).

    ``dz`` and ``row_mark`` must be zero/False on entry; call :func:`clear_rows` after use.
    """
    n_rows = 0
    for a in range(coords.shape[0]):
        d = delta[a]
        if d == 0.0:
            continue
        j = coords[a] // K
        c = coords[a] % K
        for t in range(c_ptr[j], c_ptr[j + 1]):
            i = c_idx[t]
            dz[i * K + c] += c_val[t] * d
            if not row_mark[i]:
                row_mark[i] = True
                rows_buf[n_rows] = i
                n_rows += 1
    return n_rows


@njit(cache=True)
def clear_rows(dz, row_mark, rows_buf, n_rows, K):
    """Reset ``dz`` and ``row_mark`` on the listed rows (in place)."""
    for b in range(n_rows):
        i = rows_buf[b]
        row_mark[i] = False
        for c in range(K):
            dz[i * K + c] = 0.0


@njit(cache=True)
def loss_change_rows(loss, z, dz, y, K, rows_buf, n_rows, t, zbuf):
    """``Σ_{touched i} loss_i(z_i + t dz_i) - loss_i(z_i)`` (``zbuf``: work array of size K)."""
    s = 0.0
    for b in range(n_rows):
        i = rows_buf[b]
        if loss == 2:
            for c in range(K):
                zbuf[c] = z[i * K + c] + t * dz[i * K + c]
            s += row_loss(loss, zbuf, y[i:i + 1], 0, K) - row_loss(loss, z, y, i, K)
        else:
            zbuf[0] = z[i] + t * dz[i]
            s += row_loss(loss, zbuf, y[i:i + 1], 0, 1) - row_loss(loss, z, y, i, 1)
    return s


# block-subproblem kernels live in a sibling module (file size); re-exported here
from ._kernels_blocks import (  # noqa: E402, F401
    csc_cols_to_csr,
    dense_logistic_l1_solve,
    dense_ls_l1_gap,
    gram_l1_gap,
    gram_l1_solve,
    logistic_conjugate_sum,
    quad_greedy_cd,
    row_count_sq_sum,
    weighted_gram_csr,
    weighted_gram_rows,
    ws_model_cd,
)
