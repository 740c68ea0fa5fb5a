"""Numba kernels of the partitioned (decentralized) problems: local losses and gradients.

Data of all nodes is packed row-wise: node ``i`` owns rows ``offsets[i]:offsets[i+1]`` of
either a dense ``X`` (``is_sparse`` False) or a CSR matrix (``indptr``, ``indices``,
``data``). With ``N`` the total number of rows, ``inv_n_total = 1/N`` and ``reg = α/n``, node i
holds

    f_i(w) = (1/N) Σ_{r ∈ rows(i)} ℓ(x_rᵀ w, y_r) + (reg/2) ‖w‖²,

with ``LOSS_RIDGE``: ℓ(z, y) = ½ (z − y)², and ``LOSS_LOGISTIC``: ℓ(z, y) = log(1 + e^{−y z}),
y ∈ {−1, +1}. The kernels are plain ``@njit`` functions so that the solvers' own kernels can
call them inside their event loops.

Implicit centring: the value and gradient kernels take an optional ``center`` (shape (d,), the
column offsets μ) and then read every row as ``x_r − μ`` without forming it, so a sparse ``X``
stays sparse (O(nnz) memory) while fitting an intercept:

    (x_r − μ)ᵀw = x_rᵀw − μᵀw,   Σ_r a_r (x_r − μ) = Σ_r a_r x_r − (Σ_r a_r) μ,

one O(d) term per call (the ``reg·w`` term already costs as much). ``center=None`` (omitted,
compiled away) or an empty array means no centring.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOSS_RIDGE = 0
LOSS_LOGISTIC = 1


@njit(cache=True, inline="always")
def dense_row_dot(X, r, w):
    """x_rᵀ w for a dense row."""
    s = 0.0
    for j in range(X.shape[1]):
        s += X[r, j] * w[j]
    return s


@njit(cache=True, inline="always")
def sparse_row_dot(indptr, indices, data, r, w):
    """x_rᵀ w for a CSR row."""
    s = 0.0
    for k in range(indptr[r], indptr[r + 1]):
        s += data[k] * w[indices[k]]
    return s


@njit(cache=True, inline="always")
def row_dot(is_sparse, X, indptr, indices, data, r, w):
    """x_rᵀ w for either storage (one row; loops over many rows dispatch once instead)."""
    if is_sparse:
        return sparse_row_dot(indptr, indices, data, r, w)
    return dense_row_dot(X, r, w)


@njit(cache=True, inline="always")
def dense_row_axpy(X, r, a, out):
    """out += a x_r for a dense row (in place)."""
    for j in range(X.shape[1]):
        out[j] += a * X[r, j]


@njit(cache=True, inline="always")
def sparse_row_axpy(indptr, indices, data, r, a, out):
    """out += a x_r for a CSR row (in place)."""
    for k in range(indptr[r], indptr[r + 1]):
        out[indices[k]] += a * data[k]


@njit(cache=True, inline="always")
def center_dot(center, w):
    """μᵀw (0 without centring: ``center`` None or empty)."""
    if center is None:
        return 0.0
    s = 0.0
    for j in range(center.shape[0]):
        s += center[j] * w[j]
    return s


@njit(cache=True, inline="always")
def center_axpy(center, a, out):
    """out −= a μ (in place; nothing without centring)."""
    if center is None:
        return
    for j in range(center.shape[0]):
        out[j] -= a * center[j]


@njit(cache=True, inline="always")
def loss_value(loss_code, z, y):
    """ℓ(z, y), overflow-free for the logistic loss."""
    if loss_code == LOSS_RIDGE:
        return 0.5 * (z - y) * (z - y)
    m = y * z
    if m > 0:
        return np.log1p(np.exp(-m))
    return -m + np.log1p(np.exp(m))


@njit(cache=True, inline="always")
def loss_derivative(loss_code, z, y):
    """∂ℓ/∂z, overflow-free for the logistic loss."""
    if loss_code == LOSS_RIDGE:
        return z - y
    m = y * z
    if m > 0:
        e = np.exp(-m)
        return -y * e / (1.0 + e)
    return -y / (1.0 + np.exp(m))


@njit(cache=True, inline="always")
def rows_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, rows, coef, w, reg, out,
                   center=None):
    """out ← coef Σ_{r ∈ rows} ℓ'(x̃_rᵀw, y_r) x̃_r + reg·w (in place), x̃_r = x_r − μ with
    ``center`` μ (x̃_r = x_r without).

    The storage is dispatched once per call, not per row: with a run-time ``is_sparse`` a
    branch inside the row loops keeps LLVM from specializing them (4× slower per step in the
    token-SGD loop).
    """
    for j in range(out.shape[0]):
        out[j] = reg * w[j]
    shift = center_dot(center, w)
    total = 0.0
    if is_sparse:
        for t in range(rows.shape[0]):
            r = rows[t]
            z = sparse_row_dot(indptr, indices, data, r, w) - shift
            a = loss_derivative(loss_code, z, y[r]) * coef
            sparse_row_axpy(indptr, indices, data, r, a, out)
            total += a
    else:
        for t in range(rows.shape[0]):
            r = rows[t]
            z = dense_row_dot(X, r, w) - shift
            a = loss_derivative(loss_code, z, y[r]) * coef
            dense_row_axpy(X, r, a, out)
            total += a
    center_axpy(center, total, out)


@njit(cache=True, inline="always")
def _grad_pass(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w, inv_n_total,
               reg, out, center, with_value):
    """out ← (1/N) Σ_{r=start}^{stop−1} ℓ'(x̃_rᵀw, y_r) x̃_r + reg·w (in place); returns
    Σ_r ℓ(x̃_rᵀw, y_r) when ``with_value``, else 0. Its callers pass ``with_value`` as a
    constant, so once inlined the loops carry no test of it."""
    for j in range(out.shape[0]):
        out[j] = reg * w[j]
    shift = center_dot(center, w)
    total = 0.0
    s = 0.0
    if is_sparse:
        for r in range(start, stop):
            z = sparse_row_dot(indptr, indices, data, r, w) - shift
            if with_value:
                s += loss_value(loss_code, z, y[r])
            a = loss_derivative(loss_code, z, y[r]) * inv_n_total
            sparse_row_axpy(indptr, indices, data, r, a, out)
            total += a
    else:
        for r in range(start, stop):
            z = dense_row_dot(X, r, w) - shift
            if with_value:
                s += loss_value(loss_code, z, y[r])
            a = loss_derivative(loss_code, z, y[r]) * inv_n_total
            dense_row_axpy(X, r, a, out)
            total += a
    center_axpy(center, total, out)
    return s


@njit(cache=True, inline="always")
def local_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w,
                    inv_n_total, reg, out, center=None):
    """out ← (1/N) Σ_{r=start}^{stop−1} ℓ'(x̃_rᵀw, y_r) x̃_r + reg·w (in place), x̃_r = x_r − μ
    with ``center`` μ (x̃_r = x_r without)."""
    _grad_pass(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w, inv_n_total,
               reg, out, center, False)


@njit(cache=True, inline="always")
def batch_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, rows, scale, w,
                    inv_n_total, reg, out, center=None):
    """out ← scale·(1/N) Σ_{r ∈ rows} ℓ'(x̃_rᵀw, y_r) x̃_r + reg·w (in place), x̃_r = x_r − μ
    with ``center`` μ (x̃_r = x_r without).

    With ``rows`` drawn uniformly with replacement from a node's m_i rows and
    ``scale = m_i / len(rows)``, this is an unbiased estimate of ∇f_i(w).
    """
    rows_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, rows,
                   inv_n_total * scale, w, reg, out, center)


@njit(cache=True)
def local_value(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w,
                inv_n_total, reg, center=None):
    """(1/N) Σ_{r=start}^{stop−1} ℓ(x̃_rᵀw, y_r) + (reg/2)‖w‖², x̃_r = x_r − μ with ``center``
    μ (x̃_r = x_r without)."""
    s = 0.0
    shift = center_dot(center, w)
    if is_sparse:
        for r in range(start, stop):
            s += loss_value(loss_code, sparse_row_dot(indptr, indices, data, r, w) - shift,
                            y[r])
    else:
        for r in range(start, stop):
            s += loss_value(loss_code, dense_row_dot(X, r, w) - shift, y[r])
    return s * inv_n_total + 0.5 * reg * np.dot(w, w)


@njit(cache=True)
def local_value_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w,
                          inv_n_total, reg, out, center=None):
    """:func:`local_value` (returned) and :func:`local_grad_into` (into ``out``) in one pass
    over the rows: each margin is computed once, and both results have the bits of the two
    separate kernels."""
    s = _grad_pass(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w,
                   inv_n_total, reg, out, center, True)
    return s * inv_n_total + 0.5 * reg * np.dot(w, w)


@njit(cache=True)
def all_local_grads_into(loss_code, is_sparse, X, indptr, indices, data, y, offsets, W,
                         inv_n_total, reg, out, center=None):
    """out[i] ← ∇f_i(W[i]) for every node i (in place)."""
    for i in range(W.shape[0]):
        local_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, offsets[i],
                        offsets[i + 1], W[i], inv_n_total, reg, out[i], center)
