"""Numba kernels of the random walks and of token SGD (arrays and scalars only).

Row layout (see :mod:`.chains`): row ``i`` of the extended CSR holds the neighbours of ``i`` and
then ``i`` itself; ``cum`` holds the running sums of the base chain's ``p`` within each row.
Every move draws the next node from one uniform ``u`` by inverse CDF over the row in that order,
so the SRRW kernel with ``alpha = 0`` and the base walk pick the same node for the same ``u``.

The empirical measure ``x_n`` is stored in a scaled log form so that a step touches one entry:
with ``s_n = prod_{k <= n} (1 - gamma_k)`` and ``y_n = x_n / s_n`` the update
``x_{n+1} = x_n + gamma_{n+1} (delta_X - x_n)`` becomes ``y_{n+1} = y_n + (gamma_{n+1} /
s_{n+1}) delta_X``. The kernels keep ``lq_j = log(y_j / mu_j)`` and ``log_s = log s_n``; then
``x_j = mu_j exp(lq_j + log_s)``, and since ``K[x]`` is invariant to a common factor of ``x``,
the SRRW weights ``(x_j / mu_j)^(-alpha)`` are ``exp(-alpha lq_j)`` up to that factor.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..problems._partitioned_kernels import batch_grad_into, local_grad_into

WALK_SRRW, WALK_SRW, WALK_MH, WALK_NBRW, WALK_IID = 0, 1, 2, 3, 4
#: columns of a chain's ``hops`` (see :mod:`.chains`); the first 8 bytes of a slot hold ``cum``
HOP_START, HOP_LEN, HOP_BACK = 2, 3, 4
#: rows up to this length are scanned linearly, longer rows (hubs) bisected
LINEAR_SCAN_MAX = 16


@njit(cache=True)
def row_cumsum(indptr, p):
    """Running sums of ``p`` within each row, accumulated left to right from 0."""
    cum = np.empty_like(p)
    for i in range(indptr.shape[0] - 1):
        c = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            c += p[k]
            cum[k] = c
    return cum


@njit(cache=True, inline="always")
def _pick(cum, start, stop, t):
    """First ``k`` in ``[start, stop)`` with ``t < cum[k]`` (``cum`` non-decreasing).

    When ``t`` reaches the row total (a rounding of ``u * total`` up to ``total``), the last slot
    with positive weight.
    """
    if stop - start <= LINEAR_SCAN_MAX:
        for k in range(start, stop):
            if t < cum[k]:
                return k
    else:
        lo, hi = start, stop
        while lo < hi:
            mid = (lo + hi) >> 1
            if t < cum[mid]:
                hi = mid
            else:
                lo = mid + 1
        if lo < stop:
            return lo
    k = stop - 1
    while k > start and cum[k] == cum[k - 1]:
        k -= 1
    return k


@njit(cache=True, inline="always")
def cdf_slot(start, d, d_guess, u, cum):
    """Slot of the base chain's move in row ``[start, start + d)``: the inverse CDF at ``t = u *
    total``, i.e. the first slot with ``t < cum`` (as :func:`_pick`), searched from slot
    ``floor(u d_guess)`` back and forth. Exact from any start; when the ``d_guess`` first slots
    carry near-equal weights (SRW rows without their empty self slot, MH rows nearly) the start
    is right and the search costs two predictable comparisons, where a scan from the row start
    costs D/2 unpredictable branches."""
    stop = start + d
    t = u * cum[stop - 1]
    k = start + min(int(u * d_guess), d_guess - 1)
    while k > start and t < cum[k - 1]:
        k -= 1
    while k < stop and t >= cum[k]:
        k += 1
    if k == stop:  # t rounded up to the row total: the last slot with positive weight
        k = stop - 1
        while k > start and cum[k] == cum[k - 1]:
            k -= 1
    return k


@njit(cache=True, inline="always")
def base_move(cur, u, indptr, indices, cum):
    """Next node of the base chain ``P`` from ``cur`` (the slot of :func:`cdf_slot`)."""
    start = indptr[cur]
    d = indptr[cur + 1] - start
    return indices[cdf_slot(start, d, d, u, cum)]


@njit(cache=True, inline="always")
def srrw_move(cur, u, indptr, indices, p, lq, alpha, buf):
    """Next node drawn from the SRRW kernel ``K[x](cur, .)``.

    ``K[x](i, j) = P(i, j) (x_j / mu_j)^(-alpha) / sum_k P(i, k) (x_k / mu_k)^(-alpha)``
    (Doshi et al. 2023, eq. (3)), over the neighbours of ``i`` and ``i`` itself. With
    ``lq_j = log(x_j / mu_j) + const`` the weights are ``P(i, j) exp(-alpha lq_j - m)``, ``m``
    the largest exponent of the row, so no weight overflows for any ``alpha``. ``buf`` (length
    at least the longest row) receives the running sums. Only row ``cur`` is touched.
    """
    start, stop = indptr[cur], indptr[cur + 1]
    m = -np.inf
    for k in range(start, stop):
        s = -alpha * lq[indices[k]]
        buf[k - start] = s
        if s > m:
            m = s
    c = 0.0
    for k in range(start, stop):
        pk = p[k]
        if pk > 0.0:
            c += pk * np.exp(buf[k - start] - m)
        buf[k - start] = c
    return indices[start + _pick(buf, 0, stop - start, u * c)]


@njit(cache=True, inline="always")
def nbrw_slot(start, deg, back, u):
    """Slot of the non-backtracking move from the row at ``start`` (``deg`` neighbours, sorted,
    then the self slot), ``back`` the position in the row of the node the walk came from (-1 on
    the first step): a uniform neighbour other than that one, back to it only from a leaf,
    uniform over all neighbours on the first step. The ``k``-th other neighbour is slot ``k``
    or ``k + 1``, decided without reading the row."""
    if back < 0 or deg == 1:
        return start + min(int(u * deg), deg - 1)
    k = min(int(u * (deg - 1)), deg - 2)
    return start + k + (k >= back)


@njit(cache=True, inline="always")
def back_position(indices, start, deg, prev):
    """Position of ``prev`` among the ``deg`` sorted neighbours of the row at ``start`` (-1 when
    ``prev < 0``): the ``back`` of :func:`nbrw_slot`."""
    return -1 if prev < 0 else np.searchsorted(indices[start:start + deg], prev)


@njit(cache=True, inline="always")
def nbrw_move(cur, prev, u, indptr, indices):
    """Next node of the non-backtracking walk from ``cur`` (``prev`` the node before it, -1 at
    the start; see :func:`nbrw_slot`)."""
    start = indptr[cur]
    deg = indptr[cur + 1] - 1 - start
    return indices[nbrw_slot(start, deg, back_position(indices, start, deg, prev), u)]


@njit(cache=True, inline="always")
def move(walk, cur, prev, u, indptr, indices, p, cum, lq, alpha, buf):
    """One move of any walk from ``cur`` (``prev`` is the node before it, -1 at the start)."""
    if walk == WALK_SRRW:
        return srrw_move(cur, u, indptr, indices, p, lq, alpha, buf)
    if walk == WALK_NBRW:
        return nbrw_move(cur, prev, u, indptr, indices)
    if walk == WALK_IID:
        n = indptr.shape[0] - 1
        return min(int(u * n), n - 1)
    return base_move(cur, u, indptr, indices, cum)


@njit(cache=True, inline="always")
def measure_update(lq, log_mu, node, n, a, log_s):
    """In place: ``x_{n+1} = x_n + gamma_{n+1} (delta_node - x_n)``, ``gamma_{n+1} = (n+2)^-a``
    (Hu et al. 2024, Algorithm 1), in the scaled log form of the module docstring. Returns
    ``log s_{n+1}``."""
    log_gamma = -a * np.log(n + 2.0)
    log_s = log_s + np.log1p(-np.exp(log_gamma))
    v = log_gamma - log_s - log_mu[node]
    old = lq[node]
    hi = max(old, v)
    lq[node] = hi + np.log1p(np.exp(min(old, v) - hi))
    return log_s


@njit(cache=True)
def walk_run(walk, cur, prev, n0, U, indptr, indices, p, cum, hops, lq, log_mu, alpha, a,
             log_s, visits, path, buf):
    """Run ``U.shape[0]`` steps of a walk from ``cur``; ``U[t]`` moves step ``n0 + t``.

    In place: ``visits`` (+1 at each new node), ``path[t]`` (the node after step t, when
    ``path`` is non-empty), and for the SRRW the empirical measure (``lq``). Returns the last
    node, the node before it and ``log s``. Each walk has its own loop (the moves of
    :func:`move`): one generic loop over a runtime ``walk`` ran at half the speed.
    """
    record = path.shape[0] > 0
    m = U.shape[0]
    # the row of the next node is read from the slot just chosen (``hops``), not from
    # ``indptr``: one dependent memory access per step instead of two
    start = indptr[cur]
    d = indptr[cur + 1] - start
    if walk == WALK_MH or walk == WALK_SRW:
        # an SRW row's self slot is empty: the near-uniform part is its first d - 1 slots
        skip = 1 if walk == WALK_SRW else 0
        for t in range(m):
            k = cdf_slot(start, d, d - skip, U[t], cum)
            nxt, start, d = indices[k], hops[k, HOP_START], hops[k, HOP_LEN]
            visits[nxt] += 1
            if record:
                path[t] = nxt
            prev = cur
            cur = nxt
    elif walk == WALK_NBRW:
        # ``back``: where the node the walk came from sits in the current row, read from the
        # slot taken, so that the next slot is known before the row arrives
        back = back_position(indices, start, d - 1, prev)
        for t in range(m):
            k = nbrw_slot(start, d - 1, back, U[t])
            nxt, start, d = indices[k], hops[k, HOP_START], hops[k, HOP_LEN]
            back = hops[k, HOP_BACK]
            visits[nxt] += 1
            if record:
                path[t] = nxt
            prev = cur
            cur = nxt
    elif walk == WALK_IID:
        n = indptr.shape[0] - 1
        for t in range(m):
            nxt = min(int(U[t] * n), n - 1)
            visits[nxt] += 1
            if record:
                path[t] = nxt
            prev = cur
            cur = nxt
    else:
        for t in range(m):
            nxt = srrw_move(cur, U[t], indptr, indices, p, lq, alpha, buf)
            log_s = measure_update(lq, log_mu, nxt, n0 + t, a, log_s)
            visits[nxt] += 1
            if record:
                path[t] = nxt
            prev = cur
            cur = nxt
    return cur, prev, log_s


@njit(cache=True, inline="always")
def sgd_update(theta, node, u_batch, weight, beta, loss_code, is_sparse, X, Xindptr, Xindices,
               Xdata, y, offsets, inv_n_total, reg, rows, grad, center=None):
    """In place ``theta += beta * H(theta, node)`` with ``H = -weight * g``, ``g`` the gradient of
    ``f_node(w) = (1/N) sum_{r in node} l(x_r^T w, y_r) + (reg/2) ||w||^2`` (the data of
    ``problems._partitioned_kernels``): the full local gradient when ``u_batch`` is empty, else
    the unbiased mini-batch estimate from rows ``offsets[node] + floor(u * m_node)`` drawn with
    replacement, data term scaled by ``m_node / len(u_batch)``.

    ``weight = 1 / mu_node`` makes the stationary mean of ``H`` equal ``-grad F`` (the importance
    weight of the walk's stationary law ``mu``).
    """
    start, stop = offsets[node], offsets[node + 1]
    nb = u_batch.shape[0]
    m = stop - start
    if nb == 0:
        local_grad_into(loss_code, is_sparse, X, Xindptr, Xindices, Xdata, y, start, stop, theta,
                        inv_n_total, reg, grad, center)
    else:
        for k in range(nb):
            rows[k] = start + min(int(u_batch[k] * m), m - 1)
        batch_grad_into(loss_code, is_sparse, X, Xindptr, Xindices, Xdata, y, rows[:nb], m / nb,
                        theta, inv_n_total, reg, grad, center)
    step = beta * weight
    for q in range(theta.shape[0]):
        theta[q] -= step * grad[q]


@njit(cache=True)
def token_run(walk, cur, prev, n0, U, indptr, indices, p, cum, lq, log_mu, alpha, a, log_s,
              visits, inv_mu, step_size, b, theta, theta_avg, avg_start, loss_code, is_sparse, X,
              Xindptr, Xindices, Xdata, y, offsets, inv_n_total, reg, rows, grad, buf,
              center=None):
    """``U.shape[0]`` steps of token SGD (SA-SRRW, Hu et al. 2024, Algorithm 1) from step
    ``n0``; row ``U[t]`` holds the ``1 + B`` doubles of step ``n = n0 + t -> n + 1``:

    * ``X_{n+1} ~ K[x_n](X_n, .)`` from ``U[t, 0]`` (the base walk, NBRW or i.i.d. sampling
      for the baselines);
    * SRRW only: ``x_{n+1} = x_n + gamma_{n+1} (delta_{X_{n+1}} - x_n)``, ``gamma_{n+1} =
      (n+2)^-a``;
    * ``theta_{n+1} = theta_n + beta_{n+1} H(theta_n, X_{n+1})``, ``beta_{n+1} = step_size
      (n+2)^-b``, mini-batch rows from ``U[t, 1:]``;
    * ``theta_avg`` becomes the mean of ``theta_{avg_start+1} .. theta_{n+1}`` (suffix
      Polyak–Ruppert averaging), and ``theta_{n+1}`` itself while ``n + 1 <= avg_start``.

    In place: ``lq``, ``visits``, ``theta``, ``theta_avg``. Returns ``(X_n, X_{n-1}, log s)``
    after the last step. The simulator calls it on chunks of steps and an MPI agent on the
    steps it hosts (one row per visit), so a run is bit-identical whatever process holds the
    token.
    """
    for t in range(U.shape[0]):
        n = n0 + t
        u = U[t]
        nxt = move(walk, cur, prev, u[0], indptr, indices, p, cum, lq, alpha, buf)
        if walk == WALK_SRRW:
            log_s = measure_update(lq, log_mu, nxt, n, a, log_s)
        visits[nxt] += 1
        beta = step_size * np.exp(-b * np.log(n + 2.0))
        sgd_update(theta, nxt, u[1:], inv_mu[nxt], beta, loss_code, is_sparse, X, Xindptr,
                   Xindices, Xdata, y, offsets, inv_n_total, reg, rows, grad, center)
        inv_count = 1.0 / max(n + 1.0 - avg_start, 1.0)
        for q in range(theta.shape[0]):
            theta_avg[q] += (theta[q] - theta_avg[q]) * inv_count
        prev = cur
        cur = nxt
    return cur, prev, log_s
