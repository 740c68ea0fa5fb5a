"""Numba kernels of the asynchronous baselines (the continuized accelerated dual gossip).

Node i carries two dual vectors ``y_i, z_i`` that, between events, mix by the linear ODE
``dy = η(z − y) dt, dz = η(y − z) dt``: the mean ``(y + z)/2`` is constant and the difference
decays as ``e^{−2ητ}``, so a node is advanced exactly (and lazily, only when it has an event)
in 2 multiply-adds per coordinate.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
def continuized_ridge_events(Y, Z, t_last, H_inv, shift, rows, cols, step_y, ev_edge, ev_time,
                             start, t_stop, max_count, eta, gamma_z, gi, gj):
    """Play the pre-drawn events ``start, start+1, …`` with ``ev_time < t_stop`` (at most
    ``max_count``), in place on ``Y, Z, t_last``. Event on edge e = (i, j) at time t
    (Even et al. 2021, decentralized continuized method)::

        advance i and j to t;  G = ∇f_i*(y_i) − ∇f_j*(y_j)
        y_i −= s_e G,  y_j += s_e G,  z_i −= γ' G,  z_j += γ' G

    with ``s_e = step_y[e]``. Returns the index of the first event not played.
    """
    k = start
    end = min(ev_edge.shape[0], start + max_count)
    d = Y.shape[1]
    while k < end and ev_time[k] < t_stop:
        e = ev_edge[k]
        i, j, t = rows[e], cols[e], ev_time[k]
        advance_node(Y, Z, t_last, i, t, eta)
        advance_node(Y, Z, t_last, j, t, eta)
        ridge_conjugate_grad(H_inv, shift, i, Y[i], gi)
        ridge_conjugate_grad(H_inv, shift, j, Y[j], gj)
        s = step_y[e]
        for a in range(d):
            g = gi[a] - gj[a]
            Y[i, a] -= s * g
            Y[j, a] += s * g
            Z[i, a] -= gamma_z * g
            Z[j, a] += gamma_z * g
        k += 1
    return k


@njit(cache=True)
def advance_all(Y, Z, t_last, t, eta):
    """Advance every node to time ``t`` (a checkpoint; exact, so it changes no later event)."""
    for i in range(Y.shape[0]):
        advance_node(Y, Z, t_last, i, t, eta)
