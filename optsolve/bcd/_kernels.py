"""Numba kernels of greedy block coordinate descent: arrays and scalars only.

Conventions shared by every kernel:

* ``loss`` codes (``LOSS_*`` below, each datafit's ``code``): least squares ``½(z - y)²``,
  binary logistic ``log(1 + exp(-y z))`` with ``y ∈ {-1, +1}``, multinomial
  ``logsumexp(z_i) - z_{i, y_i}`` with integer-valued ``y``.
* ``pen`` codes and the penalties' scalar kernels: :mod:`.penalties`.
* selection ``rule`` codes and the scores: :mod:`.rules`.
* block models (small dense quadratics): :mod:`._quadratic`; the working-set engine's own
  kernels: :mod:`._working_set_kernels`.
* A multi-output parameter ``W`` of shape ``(p, K)`` is stored flat: coordinate ``q = j*K + c``
  belongs to feature ``j = q // K`` and output ``c = q % K``; ``z`` (n, K) is flat likewise.
* Sparse matrices arrive as their ``(indptr, indices, data)`` arrays; a dense matrix is passed
  through the same kernels as a CSC/CSR view built once by the caller.

Kernels that mutate an argument say "in place". Nothing is allocated inside inner loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rules import block_key, coord_score

LOSS_LS, LOSS_LOGISTIC, LOSS_MULTINOMIAL = 0, 1, 2
#: every loss code by name (written into ``csrc/bcd_codes.cuh`` for the CUDA source)
LOSS_CODES = {"LOSS_LS": LOSS_LS, "LOSS_LOGISTIC": LOSS_LOGISTIC,
              "LOSS_MULTINOMIAL": LOSS_MULTINOMIAL}


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


# ------------------------------------------------------------------ losses on rows


@njit(cache=True)
def row_loss(loss, z, y, i, K):
    """Loss of sample ``i`` at the linear predictions ``z[i*K:(i+1)*K]``."""
    if loss == LOSS_LS:
        r = z[i] - y[i]
        return 0.5 * r * r
    if loss == LOSS_LOGISTIC:
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
    if loss == LOSS_LS:
        out[i] = z[i] - y[i]
        return
    if loss == LOSS_LOGISTIC:
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
    if loss == LOSS_LS:
        for i in range(n):
            r = z[i] - y[i]
            s += r * r
        return 0.5 * s
    if loss == LOSS_LOGISTIC:
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
    if loss == LOSS_LS:
        for i in range(y.shape[0]):
            out[i] = z[i] - y[i]
        return
    if loss == LOSS_LOGISTIC:
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
    """Block Hessian (``bound == 0``) or its data-independent upper bound (``bound > 0``).

    ``H[a, b] = inv_n Σ_i X_{i j_a} X_{i j_b} h_i(c_a, c_b)`` with ``h`` the second derivative
    of the loss (least squares 1, logistic σ(1-σ), multinomial diag(π) - ππᵀ), or
    ``h = bound · δ(c_a, c_b)`` with ``bound`` the datafit's ``curvature_bound``. ``scatter``
    is an all-zero length-n work array (left zero). Result in ``out`` (in place).
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
    if bound > 0.0:
        return bound if ca == cb else 0.0
    if loss == LOSS_LS:
        return 1.0 if ca == cb else 0.0
    if loss == LOSS_LOGISTIC:
        s = _sigmoid(z[i])
        return s * (1.0 - s)
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
        if loss == LOSS_MULTINOMIAL:
            for c in range(K):
                zbuf[c] = z[i * K + c] + t * dz[i * K + c]
            s += row_loss(loss, zbuf, y[i:i + 1], 0, K) - row_loss(loss, z, y, i, K)
        else:
            zbuf[0] = z[i] + t * dz[i]
            s += row_loss(loss, zbuf, y[i:i + 1], 0, 1) - row_loss(loss, z, y, i, 1)
    return s


# ------------------------------------------------------------------ block Gram matrices


@njit(cache=True)
def row_count_sq_sum(indices, n):
    """``Σ_i r_i²`` for the row counts ``r_i`` of a sparse matrix with row ``indices``."""
    counts = np.zeros(n, dtype=np.int64)
    for t in range(indices.shape[0]):
        counts[indices[t]] += 1
    total = 0.0
    for i in range(n):
        total += float(counts[i]) * counts[i]
    return total


@njit(cache=True)
def csc_cols_to_csr(indptr, indices, data, cols, n, r_ptr, r_pos, r_val):
    """Rows of ``X[:, cols]`` (CSR with column positions in ``cols``), by counting sort.

    ``r_ptr`` has length n + 1; ``r_pos``/``r_val`` length ``nnz(X[:, cols])`` (in place).
    Cost O(nnz(X[:, cols]) + n).
    """
    r_ptr[:] = 0
    for a in range(cols.shape[0]):
        j = cols[a]
        for t in range(indptr[j], indptr[j + 1]):
            r_ptr[indices[t] + 1] += 1
    for i in range(n):
        r_ptr[i + 1] += r_ptr[i]
    fill = r_ptr[:-1].copy()
    for a in range(cols.shape[0]):
        j = cols[a]
        for t in range(indptr[j], indptr[j + 1]):
            i = indices[t]
            r_pos[fill[i]] = a
            r_val[fill[i]] = data[t]
            fill[i] += 1


@njit(cache=True)
def weighted_gram_rows(r_ptr, r_pos, r_val, weights, k, out):
    """``out = Σ_i weights_i x_i x_iᵀ`` from the rows of a k-column block (in place)."""
    for a in range(k):
        for b in range(k):
            out[a, b] = 0.0
    for i in range(r_ptr.shape[0] - 1):
        wi = weights[i]
        if wi == 0.0:
            continue
        for s in range(r_ptr[i], r_ptr[i + 1]):
            pa = r_pos[s]
            va = wi * r_val[s]
            for t in range(s, r_ptr[i + 1]):
                out[pa, r_pos[t]] += va * r_val[t]
    for a in range(k):
        for b in range(a + 1, k):
            s2 = out[a, b] + out[b, a]
            out[a, b] = s2
            out[b, a] = s2


@njit(cache=True)
def weighted_gram_csr(indptr, indices, data, weights, col_pos, k, rbuf_pos, rbuf_val, out):
    """``out = Σ_i weights_i x_{i,W} x_{i,W}ᵀ`` over the columns with ``col_pos >= 0``.

    ``col_pos[j]`` is the position of column ``j`` in the working set ``W`` (size ``k``) or -1;
    ``rbuf_*`` are work arrays of length ≥ the longest row. Row by row, so the cost is
    ``Σ_i nnz(x_{i,W})²`` (in place into ``out``, which is overwritten).
    """
    for a in range(k):
        for b in range(k):
            out[a, b] = 0.0
    n = indptr.shape[0] - 1
    for i in range(n):
        wi = weights[i]
        if wi == 0.0:
            continue
        m = 0
        for t in range(indptr[i], indptr[i + 1]):
            pj = col_pos[indices[t]]
            if pj >= 0:
                rbuf_pos[m] = pj
                rbuf_val[m] = data[t]
                m += 1
        for a in range(m):
            pa = rbuf_pos[a]
            va = wi * rbuf_val[a]
            for b in range(a, m):
                out[pa, rbuf_pos[b]] += va * rbuf_val[b]
    for a in range(k):
        for b in range(a + 1, k):
            s = out[a, b] + out[b, a]
            out[a, b] = s
            out[b, a] = s
        # the diagonal was accumulated once; the loop above double-counts nothing


# ------------------------------------------------------------------ conjugates


@njit(cache=True)
def logistic_conjugate_sum(rho, y):
    """``Σ_i t log t + (1 - t) log(1 - t)`` with ``t = clip(-ρ_i y_i, 0, 1)``."""
    s = 0.0
    for i in range(rho.shape[0]):
        t = -rho[i] * y[i]
        if t > 0.0 and t < 1.0:
            s += t * np.log(t) + (1.0 - t) * np.log(1.0 - t)
    return s
