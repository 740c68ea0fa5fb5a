"""Numba kernels of the DADAO event simulator.

Each node ``i`` carries a state ``S[i]`` of shape (6, d), rows ``(x, x̃, y, ỹ, z, z̃)``. Between
two of its events the state follows the linear ODE ``dS/dt = A S`` with the same 6×6 matrix
``A`` at every node (Nabli & Oyallon 2023, Eq. (4)); the kernels integrate it exactly and lazily
with the spectral form

    exp(A τ) = Σ_k e^{a_k τ} (cos(b_k τ) R_k − sin(b_k τ) I_k),

one term per eigenvalue group ``a_k + i b_k`` (conjugate pairs merged, ``R_k``/``I_k`` real),
precomputed once. ``A`` couples only ``(x, x̃)`` → itself, ``(z, z̃)`` → itself and
``(y, ỹ)`` ← everything, so ``exp(Aτ)`` has that block pattern and advancing one coordinate
costs 20 multiply-adds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..problems._partitioned_kernels import batch_grad_into, local_grad_into


@njit(cache=True)
def ode_transition(tau, mode_a, mode_b, mode_R, mode_I, E):
    """E ← exp(A τ) = Σ_k e^{a_k τ}(cos(b_k τ) R_k − sin(b_k τ) I_k) (in place, 6×6), summed on
    the block pattern of A's exponential (x, x̃ ← x, x̃; z, z̃ ← z, z̃; y, ỹ ← all)."""
    for r in range(6):
        for c in range(6):
            E[r, c] = 0.0
    # DADAO's decay rates are small integer multiples of the slowest one (√(ν/L)/8 · {1,2,3}):
    # one exponential, then powers, instead of one exponential per mode
    base = 0.0
    for k in range(mode_a.shape[0]):
        if mode_a[k] != 0.0 and (base == 0.0 or abs(mode_a[k]) < abs(base)):
            base = mode_a[k]
    q = np.exp(base * tau) if base != 0.0 else 1.0
    for k in range(mode_a.shape[0]):
        scale = 1.0
        if mode_a[k] != 0.0:
            ratio = mode_a[k] / base
            p = int(ratio + 0.5)
            if 1 <= p <= 8 and abs(ratio - p) <= 1e-12 * p:
                for _ in range(p):
                    scale *= q
            else:
                scale = np.exp(mode_a[k] * tau)
        if mode_b[k] == 0.0:
            _add_blocks(E, mode_R, k, scale)
        else:
            _add_blocks(E, mode_R, k, scale * np.cos(mode_b[k] * tau))
            _add_blocks(E, mode_I, k, -scale * np.sin(mode_b[k] * tau))


@njit(cache=True, inline="always")
def _add_blocks(E, M, k, w):
    """E += w M[k] on the 20 entries of exp(Aτ)'s block pattern (the others stay 0)."""
    for r in range(2):
        for c in range(2):
            E[r, c] += w * M[k, r, c]
    for r in range(4, 6):
        for c in range(4, 6):
            E[r, c] += w * M[k, r, c]
    for r in range(2, 4):
        for c in range(6):
            E[r, c] += w * M[k, r, c]


@njit(cache=True)
def apply_transition(Si, E):
    """Si ← E Si for one node's (6, d) state, using E's block pattern (in place)."""
    e00, e01, e10, e11 = E[0, 0], E[0, 1], E[1, 0], E[1, 1]
    e44, e45, e54, e55 = E[4, 4], E[4, 5], E[5, 4], E[5, 5]
    e20, e21, e22, e23, e24, e25 = E[2, 0], E[2, 1], E[2, 2], E[2, 3], E[2, 4], E[2, 5]
    e30, e31, e32, e33, e34, e35 = E[3, 0], E[3, 1], E[3, 2], E[3, 3], E[3, 4], E[3, 5]
    for k in range(Si.shape[1]):
        x, xt, y, yt, z, zt = Si[0, k], Si[1, k], Si[2, k], Si[3, k], Si[4, k], Si[5, k]
        Si[0, k] = e00 * x + e01 * xt
        Si[1, k] = e10 * x + e11 * xt
        Si[2, k] = e20 * x + e21 * xt + e22 * y + e23 * yt + e24 * z + e25 * zt
        Si[3, k] = e30 * x + e31 * xt + e32 * y + e33 * yt + e34 * z + e35 * zt
        Si[4, k] = e44 * z + e45 * zt
        Si[5, k] = e54 * z + e55 * zt


@njit(cache=True)
def gradient_jump(Si, g, nu, gamma, gamma_t, delta_sum):
    """DADAO's gradient jump at one node (Nabli & Oyallon 2023, Eq. (5)), in place on its
    (6, d) state ``Si = (x, x̃, y, ỹ, z, z̃)`` given ``g = ∇f_i(x)`` (or an unbiased estimate)::

        ĝ = g − ν x − ỹ,    x −= γ ĝ,    x̃ −= γ̃ ĝ,    ỹ += (δ + δ̃) ĝ

    (``delta_sum`` = δ + δ̃).
    """
    for k in range(Si.shape[1]):
        gk = g[k] - nu * Si[0, k] - Si[3, k]
        Si[0, k] -= gamma * gk
        Si[1, k] -= gamma_t * gk
        Si[3, k] += delta_sum * gk


@njit(cache=True, inline="always")
def _message(Si, k):
    """What a node sends in Eq. (6), coordinate k: y + z."""
    return Si[2, k] + Si[4, k]


@njit(cache=True, inline="always")
def _gossip_half(Si, k, mk, beta, beta_t):
    """One end of Eq. (6) on coordinate k: z += β m, z̃ += β̃ m."""
    Si[4, k] += beta * mk
    Si[5, k] += beta_t * mk


@njit(cache=True)
def gossip_jump(Si, Sj, beta, beta_t):
    """DADAO's communication jump on edge (i, j) (Nabli & Oyallon 2023, Eq. (6)), in place on
    both (6, d) states::

        m = (y_i + z_i) − (y_j + z_j),   z_i −= β m,   z_j += β m,   z̃_i −= β̃ m,   z̃_j += β̃ m

    (``Σ z`` and ``Σ z̃`` are conserved). The two halves are :func:`gossip_half_jump`.
    """
    for k in range(Si.shape[1]):
        mk = _message(Si, k) - _message(Sj, k)
        _gossip_half(Si, k, -mk, beta, beta_t)
        _gossip_half(Sj, k, mk, beta, beta_t)


@njit(cache=True)
def gossip_message(Si, out):
    """out ← y + z of one node's (6, d) state: what a node sends to its neighbour in Eq. (6)."""
    for k in range(Si.shape[1]):
        out[k] = _message(Si, k)


@njit(cache=True)
def gossip_half_jump(Si, m, sign, beta, beta_t):
    """One end of :func:`gossip_jump` given the difference ``m`` (Eq. (6) split across two
    processes): ``z += sign β m``, ``z̃ += sign β̃ m`` (``sign`` = −1 at i, +1 at j)."""
    for k in range(Si.shape[1]):
        _gossip_half(Si, k, sign * m[k], beta, beta_t)


@njit(cache=True)
def positions_at(S, t_last, t, mode_a, mode_b, mode_R, mode_I, out):
    """out[i] ← x_i(t), every node's x advanced by the ODE from ``t_last[i]`` to ``t``
    (the states themselves are not modified)."""
    E = np.empty((6, 6))
    for i in range(S.shape[0]):
        ode_transition(t - t_last[i], mode_a, mode_b, mode_R, mode_I, E)
        for k in range(S.shape[2]):
            out[i, k] = E[0, 0] * S[i, 0, k] + E[0, 1] * S[i, 1, k]


@njit(cache=True)
def _advance(S, t_last, i, t, mode_a, mode_b, mode_R, mode_I, E):
    tau = t - t_last[i]
    if tau > 0.0:
        ode_transition(tau, mode_a, mode_b, mode_R, mode_I, E)
        apply_transition(S[i], E)
    t_last[i] = t


@njit(cache=True)
def _locate_segment(t, seg_times, period):
    """(segment index, its end time) of the segment active at time t; a time within rounding of
    a switch belongs to the segment that starts there."""
    K = seg_times.shape[0]
    eps = 1e-12 * (1.0 + abs(t))
    base = 0.0
    tt = t
    if period > 0.0:
        base = np.floor(t / period) * period
        tt = t - base
        if tt >= period - eps:
            base += period
            tt = 0.0
    k = 0
    while k + 1 < K and seg_times[k + 1] <= tt + eps:
        k += 1
    if k + 1 < K:
        end = base + seg_times[k + 1]
    elif period > 0.0:
        end = base + period
    else:
        end = np.inf
    return k, end


@njit(cache=True)
def dadao_events(S, t_last, clock, seed,
                 seg_times, period, seg_ptr, edge_uv, alias_pack, comm_rate,
                 mode_a, mode_b, mode_R, mode_I,
                 nu, gamma, gamma_t, delta_sum, beta, beta_t,
                 loss_code, is_sparse, X, indptr, indices, data, y, offsets, inv_n_total, reg,
                 batch_size, rows_buf,
                 t_stop, max_events, grad_count, comm_count, g, center=None):
    """Run DADAO's events from ``clock[0]`` until ``t_stop`` or ``max_events`` events (in place).

    Events come from one merged Poisson clock of rate ``n + Λ_seg`` (``n`` gradient clocks of
    rate 1, edges of segment ``seg`` with total rate ``comm_rate[seg]``); an event is a gradient
    at a uniform node with probability ``n / (n + Λ_seg)``, else a communication on an edge drawn
    from the segment's alias table (``alias_pack[e] = (probability, alias)``, local indices from
    ``seg_ptr[seg]``; endpoints ``edge_uv[e]``). The nodes involved are first advanced by the
    ODE to the event time; then

    * gradient at i: :func:`gradient_jump` (Eq. (5)) with ∇f_i(x_i), or a mini-batch
      estimate of it when ``batch_size > 0``;
    * communication on (i, j): :func:`gossip_jump` (Eq. (6)).

    A wait crossing ``t_stop`` or a segment switch is discarded (memorylessness) and the clock
    restarts there. ``center``: the problem's column offsets (implicit centring, see
    ``problems._partitioned_kernels``). Returns ``(events, gradients, communications)``;
    ``clock[0]`` holds the final time.
    """
    np.random.seed(seed)  # noqa: NPY002 (numba's per-thread generator, seeded per call)
    n = S.shape[0]
    t = clock[0]
    seg, seg_end = _locate_segment(t, seg_times, period)
    E = np.empty((6, 6))
    n_ev = 0
    n_g = 0
    n_c = 0
    fn = float(n)
    while n_ev < max_events:
        rate = fn + comm_rate[seg]
        t_next = t - np.log(1.0 - np.random.random()) / rate  # noqa: NPY002
        boundary = seg_end if seg_end < t_stop else t_stop
        if t_next >= boundary:
            t = boundary
            if boundary == t_stop:
                break
            seg, seg_end = _locate_segment(t, seg_times, period)
            continue
        t = t_next
        u = np.random.random() * rate  # noqa: NPY002
        if u < fn:
            i = int(u)
            if i >= n:
                i = n - 1
            _advance(S, t_last, i, t, mode_a, mode_b, mode_R, mode_I, E)
            xi = S[i, 0]
            if batch_size > 0:
                start = offsets[i]
                m_i = offsets[i + 1] - start
                for b in range(batch_size):
                    r = int(np.random.random() * m_i)  # noqa: NPY002
                    rows_buf[b] = start + (r if r < m_i else m_i - 1)
                batch_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, rows_buf,
                                m_i / batch_size, xi, inv_n_total, reg, g, center)
            else:
                local_grad_into(loss_code, is_sparse, X, indptr, indices, data, y, offsets[i],
                                offsets[i + 1], xi, inv_n_total, reg, g, center)
            gradient_jump(S[i], g, nu, gamma, gamma_t, delta_sum)
            grad_count[i] += 1
            n_g += 1
        else:
            e0 = seg_ptr[seg]
            m = seg_ptr[seg + 1] - e0
            v = (u - fn) / comm_rate[seg] * m
            c = int(v)
            if c >= m:
                c = m - 1
            e = e0 + c if v - c < alias_pack[e0 + c, 0] else e0 + int(alias_pack[e0 + c, 1])
            i = edge_uv[e, 0]
            j = edge_uv[e, 1]
            _advance(S, t_last, i, t, mode_a, mode_b, mode_R, mode_I, E)
            _advance(S, t_last, j, t, mode_a, mode_b, mode_R, mode_I, E)
            gossip_jump(S[i], S[j], beta, beta_t)
            comm_count[e] += 1
            n_c += 1
        n_ev += 1
    clock[0] = t
    return n_ev, n_g, n_c
