"""Numba kernels of the dual baselines: gradients of the local conjugates and the continuized
accelerated dual gossip.

Conjugates: ``∇f_i*(v) = argmin_θ f_i(θ) − ⟨v, θ⟩``, closed form for ridge, damped Newton for
logistic (:func:`logistic_conjugate_grad`).

Continuized: node i carries two dual vectors ``y_i, z_i`` that, between events, mix by the
linear ODE ``dy = η(z − y) dt, dz = η(y − z) dt``: the mean ``(y + z)/2`` is constant and the
difference decays as ``e^{−2ητ}``, so a node is advanced exactly (and lazily, only when it has
an event) in 2 multiply-adds per coordinate.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ...problems._partitioned_kernels import (
    LOSS_LOGISTIC,
    center_dot,
    dense_row_axpy,
    local_grad_into,
    local_value,
    row_dot,
    sparse_row_axpy,
)

#: Newton tolerance of the logistic conjugate, relative to max(1, ‖v‖)
INNER_RTOL = 1e-12
#: Newton steps allowed per logistic conjugate call
INNER_MAX_STEPS = 60
#: Armijo constant of the Newton backtracking
ARMIJO = 1e-4


@njit(cache=True, fastmath=True)
def cholesky_solve(H, b, out):
    """``out ← H⁻¹ b`` for symmetric positive definite H, by Cholesky ``H = LLᵀ`` (H
    overwritten by its lower factor; in place), then ``L u = b`` and ``Lᵀ out = u``.
    Row-oriented dot products, reassociated (``fastmath``) so that they vectorize: as fast as
    LAPACK on one thread at these sizes, without its thread pool on a loaded machine."""
    d = H.shape[0]
    for j in range(d):
        s = H[j, j]
        for k in range(j):
            s -= H[j, k] * H[j, k]
        H[j, j] = np.sqrt(s)
        inv = 1.0 / H[j, j]
        for i in range(j + 1, d):
            s = H[i, j]
            for k in range(j):
                s -= H[i, k] * H[j, k]
            H[i, j] = s * inv
    for i in range(d):  # L u = b
        s = b[i]
        for k in range(i):
            s -= H[i, k] * out[k]
        out[i] = s / H[i, i]
    for i in range(d - 1, -1, -1):  # Lᵀ x = u
        s = out[i]
        for k in range(i + 1, d):
            s -= H[k, i] * out[k]
        out[i] = s / H[i, i]


@njit(cache=True)
def newton_direction_features(is_sparse, X, indptr, indices, data, start, stop, inv_n, reg,
                              center, theta, g, Hbuf, sx, step):
    """``step ← H⁻¹ g`` with the Hessian of the logistic node in feature space,
    ``H = (1/N) Σ_r c_r x̃_r x̃_rᵀ + reg·I`` (``c_r = σ(z_r)σ(−z_r)``, ``z_r = x̃_rᵀθ``),
    accumulated from the rows as given plus the rank-two correction
    ``− s μᵀ − μ sᵀ + (Σ_r c_r) μμᵀ``, ``s = Σ_r c_r x_r`` (``sx``): a sparse X is never
    densified. ``d x d`` work: the Cholesky costs d³/3."""
    d = theta.shape[0]
    H = Hbuf[:d * d].reshape((d, d))
    for a in range(d):
        for b in range(d):
            H[a, b] = 0.0
        H[a, a] = reg
        sx[a] = 0.0
    shift = center_dot(center, theta)
    c_sum = 0.0
    for r in range(start, stop):
        z = row_dot(is_sparse, X, indptr, indices, data, r, theta) - shift
        s = 1.0 / (1.0 + np.exp(-abs(z)))
        c = s * (1.0 - s) * inv_n
        c_sum += c
        if is_sparse:
            for p in range(indptr[r], indptr[r + 1]):
                cp = c * data[p]
                sx[indices[p]] += cp
                for q in range(indptr[r], indptr[r + 1]):
                    H[indices[p], indices[q]] += cp * data[q]
        else:
            for a in range(d):
                ca = c * X[r, a]
                sx[a] += ca
                for b in range(d):
                    H[a, b] += ca * X[r, b]
    if center.shape[0] > 0:
        for a in range(d):
            for b in range(d):
                H[a, b] += (c_sum * center[a] - sx[a]) * center[b] - center[a] * sx[b]
    cholesky_solve(H, g, step)


@njit(cache=True)
def newton_direction_rows(is_sparse, X, indptr, indices, data, start, stop, inv_n, reg,
                          center, theta, g, gram, Hbuf, wv, u, q, step):
    """``step ← H⁻¹ g`` for the same Hessian ``H = reg·I + X̃ᵀCX̃`` (``C = diag(c_r/N)``) in
    the row space of the node's ``m = stop − start`` rows, for ``m < d``. With ``W = C^{1/2}``
    and the node's centred Gram matrix ``G̃ = X̃X̃ᵀ`` (``gram``, m x m, formed once), Woodbury
    gives

        H⁻¹ g = (g − X̃ᵀ W M⁻¹ W X̃ g) / reg,    M = reg·I + W G̃ W,

    an ``m x m`` Cholesky (m³/3) instead of a ``d x d`` one; ``X̃ v = Xv − (μᵀv) 1`` and
    ``X̃ᵀ w = Xᵀw − (1ᵀw) μ`` read the rows as given. ``wv, u, q`` are m-vectors of work."""
    m = stop - start
    d = theta.shape[0]
    M = Hbuf[:m * m].reshape((m, m))
    shift = center_dot(center, theta)
    gc = center_dot(center, g)
    for k in range(m):
        r = start + k
        z = row_dot(is_sparse, X, indptr, indices, data, r, theta) - shift
        s = 1.0 / (1.0 + np.exp(-abs(z)))
        w = np.sqrt(s * (1.0 - s) * inv_n)
        wv[k] = w
        u[k] = w * (row_dot(is_sparse, X, indptr, indices, data, r, g) - gc)
    for a in range(m):
        wa = wv[a]
        for b in range(m):
            M[a, b] = wa * gram[a, b] * wv[b]
        M[a, a] += reg
    cholesky_solve(M, u[:m], q[:m])
    for a in range(d):
        step[a] = g[a]
    q_sum = 0.0
    for k in range(m):
        qk = q[k] * wv[k]
        q_sum += qk
        if is_sparse:
            sparse_row_axpy(indptr, indices, data, start + k, -qk, step)
        else:
            dense_row_axpy(X, start + k, -qk, step)
    for a in range(d):
        if center.shape[0] > 0:
            step[a] += q_sum * center[a]
        step[a] /= reg


@njit(cache=True)
def logistic_conjugate_grad(is_sparse, X, indptr, indices, data, y, start, stop, inv_n, reg,
                            center, v, theta, gram, Hbuf, g, step, cand, sx, wv, u, q):
    """``θ ← ∇f_i*(v) = argmin_θ f_i(θ) − ⟨v, θ⟩`` for the logistic node owning rows
    ``start:stop`` (``f_i(θ) = (1/N) Σ_r log(1 + e^{−y_r x̃_rᵀθ}) + (reg/2)‖θ‖²``, x̃_r =
    x_r − μ with ``center`` μ, x̃_r = x_r when ``center`` is empty), by damped Newton from the
    given θ (warm start; in place) until ``‖∇f_i(θ) − v‖ ≤ INNER_RTOL · max(1, ‖v‖)``, with
    Armijo backtracking on ``f_i − ⟨v, ·⟩``. The Newton system is solved in the row space
    (:func:`newton_direction_rows`, Woodbury) when ``gram`` holds the node's m x m Gram
    matrix, else in feature space (:func:`newton_direction_features`); both solve the same
    system. ``Hbuf, g, step, cand, sx, wv, u, q`` are work arrays. Returns the Newton steps
    taken."""
    d = theta.shape[0]
    rows = gram.shape[0] > 0
    tol = INNER_RTOL * max(1.0, np.sqrt(np.sum(v * v)))
    n_steps = 0
    for _ in range(INNER_MAX_STEPS):
        local_grad_into(LOSS_LOGISTIC, is_sparse, X, indptr, indices, data, y, start, stop,
                        theta, inv_n, reg, g, center)
        gnorm2 = 0.0
        for a in range(d):
            g[a] -= v[a]
            gnorm2 += g[a] * g[a]
        if np.sqrt(gnorm2) <= tol:
            break
        if rows:
            newton_direction_rows(is_sparse, X, indptr, indices, data, start, stop, inv_n, reg,
                                  center, theta, g, gram, Hbuf, wv, u, q, step)
        else:
            newton_direction_features(is_sparse, X, indptr, indices, data, start, stop, inv_n,
                                      reg, center, theta, g, Hbuf, sx, step)
        slope = 0.0  # Newton direction −step
        for a in range(d):
            slope -= g[a] * step[a]
        f0 = local_value(LOSS_LOGISTIC, is_sparse, X, indptr, indices, data, y, start, stop,
                         theta, inv_n, reg, center)
        vt = 0.0
        for a in range(d):
            vt += v[a] * theta[a]
        f0 -= vt
        t = 1.0
        while t > 1e-10:
            vt = 0.0
            for a in range(d):
                cand[a] = theta[a] - t * step[a]
                vt += v[a] * cand[a]
            f1 = local_value(LOSS_LOGISTIC, is_sparse, X, indptr, indices, data, y, start,
                             stop, cand, inv_n, reg, center) - vt
            # near the solution the decrease is below the rounding of f: take the step
            if f1 <= f0 + ARMIJO * t * slope or -slope <= 1e-15 * max(1.0, abs(f0)):
                break
            t *= 0.5
        for a in range(d):
            theta[a] -= t * step[a]
        n_steps += 1
    return n_steps


@njit(cache=True)
def _node_gram(gram, gram_off, offsets, i):
    """Node i's m x m Gram block of the flat ``gram`` (an empty 2-D view when node i works
    in feature space, ``gram_off[i] < 0``)."""
    o = gram_off[i]
    if o < 0:
        return gram[:0].reshape((0, 0))
    m = offsets[i + 1] - offsets[i]
    return gram[o:o + m * m].reshape((m, m))


@njit(cache=True)
def logistic_conjugate_all(is_sparse, X, indptr, indices, data, y, offsets, inv_n, reg, center,
                           V, Theta, gram, gram_off, Hbuf, g, step, cand, sx, wv, u, q):
    """``Theta[i] ← ∇f_i*(V[i])`` for every node (warm-started from ``Theta``; in place);
    node i's Gram block starts at ``gram_off[i]`` of the flat ``gram`` (−1: feature space).
    Returns the Newton steps taken in all."""
    total = 0
    for i in range(V.shape[0]):
        total += logistic_conjugate_grad(is_sparse, X, indptr, indices, data, y, offsets[i],
                                         offsets[i + 1], inv_n, reg, center, V[i], Theta[i],
                                         _node_gram(gram, gram_off, offsets, i), Hbuf, g, step,
                                         cand, sx, wv, u, q)
    return total


@njit(cache=True)
def advance_node(Y, Z, t_last, i, t, eta):
    """Integrate node i's ODE from ``t_last[i]`` to ``t`` (in place):
    ``y, z ← m ± (y − z) e^{−2η(t − t_last)} / 2`` with ``m = (y + z)/2``."""
    tau = t - t_last[i]
    if tau > 0.0:
        h = 0.5 * np.exp(-2.0 * eta * tau)
        for k in range(Y.shape[1]):
            m = 0.5 * (Y[i, k] + Z[i, k])
            dlt = h * (Y[i, k] - Z[i, k])
            Y[i, k] = m + dlt
            Z[i, k] = m - dlt
    t_last[i] = t


@njit(cache=True)
def ridge_conjugate_grad(H_inv, shift, i, y, out):
    """``out ← ∇f_i*(y) = H_i⁻¹ (y + X_iᵀb_i/N)`` (ridge, in place)."""
    d = y.shape[0]
    for a in range(d):
        acc = 0.0
        for b in range(d):
            acc += H_inv[i, a, b] * (y[b] + shift[i, b])
        out[a] = acc


@njit(cache=True)
def _conjugate_into(i, Yi, loss_is_ridge, H_inv, shift, is_sparse, X, indptr, indices, data, y,
                    offsets, inv_n, reg, center, Theta, gram, gram_off, Hbuf, g, step, cand, sx, wv,
                    u, q, out):
    """``out ← ∇f_i*(Yi)``; returns the Newton steps (0 for ridge)."""
    if loss_is_ridge:
        ridge_conjugate_grad(H_inv, shift, i, Yi, out)
        return 0
    k = logistic_conjugate_grad(is_sparse, X, indptr, indices, data, y, offsets[i],
                                offsets[i + 1], inv_n, reg, center, Yi, Theta[i],
                                _node_gram(gram, gram_off, offsets, i), Hbuf, g, step, cand,
                                sx, wv, u, q)
    out[:] = Theta[i]
    return k


@njit(cache=True)
def continuized_events(Y, Z, t_last, rows, cols, step_y, ev_edge, ev_time, start, t_stop,
                       max_count, eta, gamma_z, loss_is_ridge, H_inv, shift, is_sparse, X,
                       indptr, indices, data, y, offsets, inv_n, reg, center, Theta, gram, gram_off,
                       Hbuf, g, step, cand, sx, wv, u, q, gi, gj, inner):
    """Play the pre-drawn events ``start, start+1, …`` with ``ev_time < t_stop`` (at most
    ``max_count``), in place on ``Y, Z, t_last`` (and the logistic warm starts ``Theta``). Event
    on edge e = (i, j) at time t (Even et al. 2021, decentralized continuized method)::

        advance i and j to t;  G = ∇f_i*(y_i) − ∇f_j*(y_j)
        y_i −= s_e G,  y_j += s_e G,  z_i −= γ' G,  z_j += γ' G

    with ``s_e = step_y[e]``; ``∇f*`` in closed form (ridge: ``H_inv``, ``shift``) or by Newton
    (logistic: the packed data, rows read minus ``center`` when it is not empty). ``inner[0]``
    accumulates the Newton steps. Returns the index of the first event not played.
    """
    k = start
    end = min(ev_edge.shape[0], start + max_count)
    d = Y.shape[1]
    while k < end and ev_time[k] < t_stop:
        e = ev_edge[k]
        i, j, t = rows[e], cols[e], ev_time[k]
        advance_node(Y, Z, t_last, i, t, eta)
        advance_node(Y, Z, t_last, j, t, eta)
        inner[0] += _conjugate_into(i, Y[i], loss_is_ridge, H_inv, shift, is_sparse, X, indptr,
                                    indices, data, y, offsets, inv_n, reg, center, Theta, gram,
                                    gram_off, Hbuf, g, step, cand, sx, wv, u, q, gi)
        inner[0] += _conjugate_into(j, Y[j], loss_is_ridge, H_inv, shift, is_sparse, X, indptr,
                                    indices, data, y, offsets, inv_n, reg, center, Theta, gram,
                                    gram_off, Hbuf, g, step, cand, sx, wv, u, q, gj)
        s = step_y[e]
        for a in range(d):
            gd = gi[a] - gj[a]
            Y[i, a] -= s * gd
            Y[j, a] += s * gd
            Z[i, a] -= gamma_z * gd
            Z[j, a] += gamma_z * gd
        k += 1
    return k


@njit(cache=True)
def advance_all(Y, Z, t_last, t, eta):
    """Advance every node to time ``t`` (a checkpoint; exact, so it changes no later event)."""
    for i in range(Y.shape[0]):
        advance_node(Y, Z, t_last, i, t, eta)
