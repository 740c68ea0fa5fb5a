"""Numba kernels of the partitioned (decentralized) problems: local losses and gradients.

Data of all nodes is packed row-wise: node ``i`` owns rows ``offsets[i]:offsets[i+1]`` of
either a dense ``X`` (``is_sparse`` False) or a CSR matrix (``indptr``, ``indices``,
``data``). With ``N`` the total number of rows, ``inv_n_total = 1/N`` and ``reg = α/n``, node i
holds

    f_i(w) = (1/N) Σ_{r ∈ rows(i)} ℓ(x_rᵀ w, y_r) + (reg/2) ‖w‖²,

with ``LOSS_RIDGE``: ℓ(z, y) = ½ (z − y)², and ``LOSS_LOGISTIC``: ℓ(z, y) = log(1 + e^{−y z}),
y ∈ {−1, +1}. The kernels are plain ``@njit`` functions so that the solvers' own kernels can
call them inside their event loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOSS_RIDGE = 0
LOSS_LOGISTIC = 1


@njit(cache=True, inline="always")
def row_dot(is_sparse, X, indptr, indices, data, r, w):
    """x_rᵀ w."""
    s = 0.0
    if is_sparse:
        for k in range(indptr[r], indptr[r + 1]):
            s += data[k] * w[indices[k]]
    else:
        for j in range(X.shape[1]):
            s += X[r, j] * w[j]
    return s


@njit(cache=True, inline="always")
def row_axpy(is_sparse, X, indptr, indices, data, r, a, out):
    """out += a x_r (in place)."""
    if is_sparse:
        for k in range(indptr[r], indptr[r + 1]):
            out[indices[k]] += a * data[k]
    else:
        for j in range(X.shape[1]):
            out[j] += a * X[r, j]


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


@njit(cache=True)
def local_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w,
                    inv_n_total, reg, out):
    """out ← (1/N) Σ_{r=start}^{stop−1} ℓ'(x_rᵀw, y_r) x_r + reg·w (in place)."""
    for j in range(out.shape[0]):
        out[j] = reg * w[j]
    for r in range(start, stop):
        z = row_dot(is_sparse, X, indptr, indices, data, r, w)
        g = loss_derivative(loss_code, z, y[r]) * inv_n_total
        row_axpy(is_sparse, X, indptr, indices, data, r, g, out)


@njit(cache=True)
def batch_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, rows, scale, w,
                    inv_n_total, reg, out):
    """out ← scale·(1/N) Σ_{r ∈ rows} ℓ'(x_rᵀw, y_r) x_r + reg·w (in place).

    With ``rows`` drawn uniformly with replacement from a node's m_i rows and
    ``scale = m_i / len(rows)``, this is an unbiased estimate of ∇f_i(w).
    """
    for j in range(out.shape[0]):
        out[j] = reg * w[j]
    for t in range(rows.shape[0]):
        r = rows[t]
        z = row_dot(is_sparse, X, indptr, indices, data, r, w)
        g = loss_derivative(loss_code, z, y[r]) * inv_n_total * scale
        row_axpy(is_sparse, X, indptr, indices, data, r, g, out)


@njit(cache=True)
def local_value(loss_code, is_sparse, X, indptr, indices, data, y, start, stop, w,
                inv_n_total, reg):
    """(1/N) Σ_{r=start}^{stop−1} ℓ(x_rᵀw, y_r) + (reg/2)‖w‖²."""
    s = 0.0
    for r in range(start, stop):
        s += loss_value(loss_code, row_dot(is_sparse, X, indptr, indices, data, r, w), y[r])
    return s * inv_n_total + 0.5 * reg * np.dot(w, w)


@njit(cache=True)
def all_local_grads_into(loss_code, is_sparse, X, indptr, indices, data, y, offsets, W,
                         inv_n_total, reg, out):
    """out[i] ← ∇f_i(W[i]) for every node i (in place)."""
    for i in range(W.shape[0]):
        local_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, offsets[i],
                        offsets[i + 1], W[i], inv_n_total, reg, out[i])
