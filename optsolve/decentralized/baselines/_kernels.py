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
#: a chord step (last Newton Hessian) is kept only if it cuts ‖∇f_i(θ) − v‖ by this factor;
#: one refactorization costs about as much as 10–20 chord steps
CHORD_CONTRACTION = 0.25
#: chord steps (linear convergence) go on to ``CHORD_TARGET · tol`` while they contract, so that
#: they stop about as far below the tolerance as a last quadratic Newton step would
CHORD_TARGET = 1e-2


@njit(cache=True, fastmath=True)
def cholesky_factor(H):
    """``H ← L``, the lower Cholesky factor of the symmetric positive definite H (``H = LLᵀ``;
    in place, the strict upper triangle left as it was). Row-oriented dot products,
    reassociated (``fastmath``) so that they vectorize: as fast as LAPACK on one thread at
    these sizes, without its thread pool on a loaded machine."""
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


@njit(cache=True, fastmath=True)
def cholesky_apply(Lf, b, out):
    """``out ← (LLᵀ)⁻¹ b`` with the lower factor ``Lf``: ``L u = b``, then ``Lᵀ out = u``.

    Both sweeps read ``Lf`` by rows (contiguous, so they vectorize): the forward one as dot
    products, the backward one as axpys ``u[:i] −= x_i L[i, :i]`` once ``x_i = u_i / L_ii`` is
    known (column-oriented back substitution of ``Lᵀ``)."""
    d = Lf.shape[0]
    for i in range(d):
        s = b[i]
        for k in range(i):
            s -= Lf[i, k] * out[k]
        out[i] = s / Lf[i, i]
    for i in range(d - 1, -1, -1):
        xi = out[i] / Lf[i, i]
        out[i] = xi
        for k in range(i):
            out[k] -= Lf[i, k] * xi


@njit(cache=True)
def cholesky_solve(H, b, out):
    """``out ← H⁻¹ b`` for symmetric positive definite H (overwritten by its lower factor)."""
    cholesky_factor(H)
    cholesky_apply(H, b, out)


@njit(cache=True)
def hessian_features(is_sparse, X, indptr, indices, data, start, stop, inv_n, reg, center,
                     theta, H, sx):
    """``H ← (1/N) Σ_r c_r x̃_r x̃_rᵀ + reg·I``, the Hessian of the logistic node in feature
    space (``c_r = σ(z_r)σ(−z_r)``, ``z_r = x̃_rᵀθ``), accumulated from the rows as given
    plus the rank-two correction ``− s μᵀ − μ sᵀ + (Σ_r c_r) μμᵀ``, ``s = Σ_r c_r x_r``
    (``sx``): a sparse X is never densified."""
    d = theta.shape[0]
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


@njit(cache=True)
def woodbury_matrix(is_sparse, X, indptr, indices, data, start, stop, inv_n, reg, center,
                    theta, gram, M, wv):
    """``M ← reg·I + W G̃ W`` and ``wv ← diag(W)``, ``W = C^{1/2}``, ``C = diag(c_r/N)``:
    the Newton matrix of the logistic node in the row space of its ``m = stop − start`` rows
    (``gram`` = ``G̃ = X̃X̃ᵀ``, m x m), used by :func:`woodbury_apply`."""
    m = stop - start
    shift = center_dot(center, theta)
    for k in range(m):
        z = row_dot(is_sparse, X, indptr, indices, data, start + k, theta) - shift
        s = 1.0 / (1.0 + np.exp(-abs(z)))
        wv[k] = np.sqrt(s * (1.0 - s) * inv_n)
    for a in range(m):
        wa = wv[a]
        for b in range(m):
            M[a, b] = wa * gram[a, b] * wv[b]
        M[a, a] += reg


@njit(cache=True)
def woodbury_apply(is_sparse, X, indptr, indices, data, start, stop, reg, center, Lf, wv, g,
                   u, q, step):
    """``step ← H⁻¹ g`` for ``H = reg·I + X̃ᵀW²X̃`` from the Cholesky factor ``Lf`` of
    ``M = reg·I + W G̃ W`` (Woodbury)::

        H⁻¹ g = (g − X̃ᵀ W M⁻¹ W X̃ g) / reg,

    ``O(nnz + m²)``; ``X̃ v = Xv − (μᵀv) 1`` and ``X̃ᵀ w = Xᵀw − (1ᵀw) μ`` read the rows as
    given. ``u, q`` are m-vectors of work."""
    m = stop - start
    d = g.shape[0]
    gc = center_dot(center, g)
    for k in range(m):
        u[k] = wv[k] * (row_dot(is_sparse, X, indptr, indices, data, start + k, g) - gc)
    cholesky_apply(Lf, u[:m], q[:m])
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
def _factored_solve(rows, is_sparse, X, indptr, indices, data, start, stop, reg, center, F, W,
                    g, u, q, step):
    """``step ← H⁻¹ g`` from the factor ``F`` of the node's Newton matrix: in the row space
    (:func:`woodbury_apply`, weights ``W``) when ``rows``, else ``F`` is H's own factor."""
    if rows:
        woodbury_apply(is_sparse, X, indptr, indices, data, start, stop, reg, center, F, W, g, u,
                       q, step)
    else:
        cholesky_apply(F, g, step)


@njit(cache=True)
def _grad_residual(is_sparse, X, indptr, indices, data, y, start, stop, inv_n, reg, center, v,
                   theta, g):
    """``g ← ∇f_i(θ) − v``; returns ``‖g‖``."""
    local_grad_into(LOSS_LOGISTIC, is_sparse, X, indptr, indices, data, y, start, stop, theta,
                    inv_n, reg, g, center)
    gnorm2 = 0.0
    for a in range(g.shape[0]):
        g[a] -= v[a]
        gnorm2 += g[a] * g[a]
    return np.sqrt(gnorm2)


@njit(cache=True)
def logistic_conjugate_grad(is_sparse, X, indptr, indices, data, y, start, stop, inv_n, reg,
                            center, v, theta, gram, fac, facw, has_fac, Hbuf, g, step, cand,
                            gc, sx, wv, u, q, stats):
    """``θ ← ∇f_i*(v) = argmin_θ f_i(θ) − ⟨v, θ⟩`` for the logistic node owning rows
    ``start:stop`` (``f_i(θ) = (1/N) Σ_r log(1 + e^{−y_r x̃_rᵀθ}) + (reg/2)‖θ‖²``, x̃_r =
    x_r − μ with ``center`` μ, x̃_r = x_r when ``center`` is empty), from the given θ (warm
    start; in place) until ``‖∇f_i(θ) − v‖ ≤ INNER_RTOL · max(1, ‖v‖)``.

    Steps ``θ ← θ − t H⁻¹(∇f_i(θ) − v)``:

    * Newton (``H`` the Hessian at θ, Armijo backtracking on ``f_i − ⟨v, ·⟩``), its system
      solved in the row space when ``gram`` holds the node's m x m Gram matrix
      (:func:`woodbury_matrix`, m < d) or else in feature space (:func:`hessian_features`);
    * chord (``H`` the node's last Newton Hessian, kept factored in ``fac`` (and its weights in
      ``facw``) when ``fac`` is not empty; ``t = 1``), accepted only when it cuts the residual
      by ``CHORD_CONTRACTION``, else a Newton step is taken from the same θ; chord steps go on
      to ``CHORD_TARGET · tol`` (linear, not quadratic, convergence). Warm-started calls of the
      dual methods move v a little, so most calls need no new factorization.

    ``has_fac[0]`` says whether ``fac`` holds a factor. ``Hbuf, g, step, cand, gc, sx, wv, u,
    q`` are work arrays. ``stats[0] +=`` steps taken (Newton and chord), ``stats[1] +=``
    factorizations. Returns the steps taken."""
    d = theta.shape[0]
    rows = gram.shape[0] > 0
    keep = fac.shape[0] > 0
    m = stop - start
    side = m if rows else d
    F = fac if keep else Hbuf[:side * side].reshape((side, side))
    W = facw if keep else wv
    chord = keep and has_fac[0] != 0
    tol = INNER_RTOL * max(1.0, np.sqrt(np.sum(v * v)))
    n_steps = 0
    gnorm = _grad_residual(is_sparse, X, indptr, indices, data, y, start, stop, inv_n, reg,
                           center, v, theta, g)
    for _ in range(INNER_MAX_STEPS):
        if gnorm <= tol and not (chord and gnorm > CHORD_TARGET * tol):
            break
        if chord:
            _factored_solve(rows, is_sparse, X, indptr, indices, data, start, stop, reg, center,
                            F, W, g, u, q, step)
            for a in range(d):
                cand[a] = theta[a] - step[a]
            cnorm = _grad_residual(is_sparse, X, indptr, indices, data, y, start, stop, inv_n,
                                   reg, center, v, cand, gc)
            if cnorm <= CHORD_CONTRACTION * gnorm:
                for a in range(d):
                    theta[a] = cand[a]
                    g[a] = gc[a]
                gnorm = cnorm
                n_steps += 1
                continue
            if gnorm <= tol:  # stalled below the tolerance (rounding): done
                break
            chord = False  # too slow a contraction: a fresh Newton step from θ
        if rows:
            woodbury_matrix(is_sparse, X, indptr, indices, data, start, stop, inv_n, reg,
                            center, theta, gram, F, W)
        else:
            hessian_features(is_sparse, X, indptr, indices, data, start, stop, inv_n, reg,
                             center, theta, F, sx)
        cholesky_factor(F)
        _factored_solve(rows, is_sparse, X, indptr, indices, data, start, stop, reg, center, F,
                        W, g, u, q, step)
        stats[1] += 1
        if keep:
            has_fac[0] = 1
            chord = True
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
        gnorm = _grad_residual(is_sparse, X, indptr, indices, data, y, start, stop, inv_n, reg,
                               center, v, theta, g)
    stats[0] += n_steps
    return n_steps


@njit(cache=True)
def _node_views(gram, gram_off, fac, fac_off, facw, has_fac, offsets, d, i):
    """Node i's Gram block (m x m; empty when it works in feature space, ``gram_off[i] < 0``),
    its kept factor (m x m or d x d; empty without factor keeping, ``fac_off[i] < 0``), its
    factor weights (``facw[rows]``) and its ``has_fac`` flag, as views of the flat arrays."""
    s, e = offsets[i], offsets[i + 1]
    m = e - s
    o = gram_off[i]
    G = gram[:0].reshape((0, 0)) if o < 0 else gram[o:o + m * m].reshape((m, m))
    side = d if o < 0 else m
    f = fac_off[i]
    F = fac[:0].reshape((0, 0)) if f < 0 else fac[f:f + side * side].reshape((side, side))
    Wf = facw[:0] if f < 0 else facw[s:e]
    return G, F, Wf, has_fac[i:i + 1]


@njit(cache=True)
def logistic_conjugate_node(is_sparse, X, indptr, indices, data, y, offsets, inv_n, reg, center,
                            i, v, Theta, gram, gram_off, fac, fac_off, facw, has_fac, Hbuf, g,
                            step, cand, gc, sx, wv, u, q, stats):
    """``Theta[i] ← ∇f_i*(v)`` (:func:`logistic_conjugate_grad` on node i's views of the flat
    per-node arrays); returns the steps taken."""
    G, F, Wf, hf = _node_views(gram, gram_off, fac, fac_off, facw, has_fac, offsets,
                               Theta.shape[1], i)
    return logistic_conjugate_grad(is_sparse, X, indptr, indices, data, y, offsets[i],
                                   offsets[i + 1], inv_n, reg, center, v, Theta[i], G, F, Wf,
                                   hf, Hbuf, g, step, cand, gc, sx, wv, u, q, stats)


@njit(cache=True)
def logistic_conjugate_all(is_sparse, X, indptr, indices, data, y, offsets, inv_n, reg, center,
                           V, Theta, gram, gram_off, fac, fac_off, facw, has_fac, Hbuf, g, step,
                           cand, gc, sx, wv, u, q, stats):
    """``Theta[i] ← ∇f_i*(V[i])`` for every node (warm-started from ``Theta``; in place).
    Returns the steps taken in all (also added to ``stats[0]``)."""
    total = 0
    for i in range(V.shape[0]):
        total += logistic_conjugate_node(is_sparse, X, indptr, indices, data, y, offsets, inv_n,
                                         reg, center, i, V[i], Theta, gram, gram_off, fac,
                                         fac_off, facw, has_fac, Hbuf, g, step, cand, gc, sx, wv,
                                         u, q, stats)
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


@njit(cache=True, fastmath=True)
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
                    offsets, inv_n, reg, center, Theta, gram, gram_off, fac, fac_off, facw,
                    has_fac, Hbuf, g, step, cand, gc, sx, wv, u, q, stats, out):
    """``out ← ∇f_i*(Yi)`` (inner steps added to ``stats``, none for ridge)."""
    if loss_is_ridge:
        ridge_conjugate_grad(H_inv, shift, i, Yi, out)
        return
    logistic_conjugate_node(is_sparse, X, indptr, indices, data, y, offsets, inv_n, reg, center,
                            i, Yi, Theta, gram, gram_off, fac, fac_off, facw, has_fac, Hbuf, g,
                            step, cand, gc, sx, wv, u, q, stats)
    out[:] = Theta[i]


@njit(cache=True)
def continuized_events(Y, Z, t_last, rows, cols, step_y, ev_edge, ev_time, start, t_stop,
                       max_count, eta, gamma_z, loss_is_ridge, H_inv, shift, is_sparse, X,
                       indptr, indices, data, y, offsets, inv_n, reg, center, Theta, gram, gram_off,
                       fac, fac_off, facw, has_fac, Hbuf, g, step, cand, gc, sx, wv, u, q, gi,
                       gj, inner):
    """Play the pre-drawn events ``start, start+1, …`` with ``ev_time < t_stop`` (at most
    ``max_count``), in place on ``Y, Z, t_last`` (and the logistic warm starts ``Theta``). Event
    on edge e = (i, j) at time t (Even et al. 2021, decentralized continuized method)::

        advance i and j to t;  G = ∇f_i*(y_i) − ∇f_j*(y_j)
        y_i −= s_e G,  y_j += s_e G,  z_i −= γ' G,  z_j += γ' G

    with ``s_e = step_y[e]``; ``∇f*`` in closed form (ridge: ``H_inv``, ``shift``) or by Newton
    (logistic: the packed data, rows read minus ``center`` when it is not empty). ``inner``
    accumulates the inner steps and factorizations (``stats`` of
    :func:`logistic_conjugate_grad`). Returns the index of the first event not played.
    """
    k = start
    end = min(ev_edge.shape[0], start + max_count)
    d = Y.shape[1]
    while k < end and ev_time[k] < t_stop:
        e = ev_edge[k]
        i, j, t = rows[e], cols[e], ev_time[k]
        advance_node(Y, Z, t_last, i, t, eta)
        advance_node(Y, Z, t_last, j, t, eta)
        _conjugate_into(i, Y[i], loss_is_ridge, H_inv, shift, is_sparse, X, indptr, indices,
                        data, y, offsets, inv_n, reg, center, Theta, gram, gram_off, fac, fac_off,
                        facw, has_fac, Hbuf, g, step, cand, gc, sx, wv, u, q, inner, gi)
        _conjugate_into(j, Y[j], loss_is_ridge, H_inv, shift, is_sparse, X, indptr, indices,
                        data, y, offsets, inv_n, reg, center, Theta, gram, gram_off, fac, fac_off,
                        facw, has_fac, Hbuf, g, step, cand, gc, sx, wv, u, q, inner, gj)
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
