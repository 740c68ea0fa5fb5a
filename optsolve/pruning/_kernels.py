"""Numba kernels of the pruning family: the rate–distortion dynamic program.

Arrays and scalars only; each kernel has a plain numpy reference in the tests.

One DP layer computes ``best[t] = min_j prev[t - c_j] + d_j`` for every budget ``t``. The bins are
cut into blocks of ``BLOCK_BINS``; inside a block the levels are the outer loop and the bins the
inner one, with a branch-free update (select, no conditional store) over contiguous memory, so
the compiler vectorizes it and the block's running minimum stays in L1 cache; four levels are
fused per pass over a block. The kernel is serial: a ``prange`` over the blocks of each layer
(deterministic, the blocks are independent) measured 10x slower on the shared 2-core machine,
where a parallel region per layer costs more than it saves. Only the reachable bins are
computed: below the sum of the layers' cheapest costs nothing fits, and above the sum of their
dearest every allocation fits, so the values there are copies of the last reachable bin.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: bins per block: running minimum (float64) + argmin (int64, the same lane width, so the
#: select vectorizes) = 32 KiB, an L1 data cache
BLOCK_BINS = 2048


@njit(cache=True)
def _relax_level(prev, c, d, level, t0, start, t1, block_best, block_arg):
    """``block_best[t] = min(block_best[t], prev[t - c] + d)`` for ``t`` in ``[start, t1)``."""
    m = t1 - start
    if m <= 0:
        return
    # slices indexed from 0 let the compiler prove the indices non-negative (no wraparound
    # branch), so the loop vectorizes
    src = prev[start - c : start - c + m]
    dst_best = block_best[start - t0 : start - t0 + m]
    dst_arg = block_arg[start - t0 : start - t0 + m]
    for i in range(m):
        v = src[i] + d
        b = dst_best[i]
        better = v < b  # strict: the densest (first scanned) of tied levels is kept
        dst_best[i] = v if better else b
        dst_arg[i] = level if better else dst_arg[i]


@njit(cache=True)
def _dp_block(prev, costs_row, dist_row, t0, t1, lo, best, arg_row, block_best, block_arg):
    """One block ``[t0, t1)`` of one DP layer; ``lo`` is the first reachable bin.

    Levels are relaxed four at a time over the bins all four reach: one load and one store of
    the running minimum per four levels instead of per level, which is what bounds the loop.
    The per-bin order of the levels (densest first) and the strict comparison are those of the
    one-level loop, so the result is identical.
    """
    n = t1 - t0
    for i in range(n):
        block_best[i] = np.inf
        block_arg[i] = -1
    first = max(t0, lo)
    n_levels = costs_row.shape[0]
    j = 0
    while j + 4 <= n_levels:
        c0, c1, c2, c3 = costs_row[j], costs_row[j + 1], costs_row[j + 2], costs_row[j + 3]
        start = max(first, max(max(c0, c1), max(c2, c3)))
        # bins below `start` that only some of the four reach: one level at a time, in order;
        # each level's bins here precede `start`, so the per-bin order stays densest first
        for q in range(4):
            c = costs_row[j + q]
            _relax_level(prev, c, dist_row[j + q], np.int64(j + q), t0, max(first, c),
                         min(start, t1), block_best, block_arg)
        m = t1 - start
        if m > 0:
            d0, d1, d2, d3 = dist_row[j], dist_row[j + 1], dist_row[j + 2], dist_row[j + 3]
            j0 = np.int64(j)
            j1, j2, j3 = j0 + 1, j0 + 2, j0 + 3
            src0 = prev[start - c0 : start - c0 + m]
            src1 = prev[start - c1 : start - c1 + m]
            src2 = prev[start - c2 : start - c2 + m]
            src3 = prev[start - c3 : start - c3 + m]
            dst_best = block_best[start - t0 : start - t0 + m]
            dst_arg = block_arg[start - t0 : start - t0 + m]
            for i in range(m):
                b = dst_best[i]
                a = dst_arg[i]
                v = src0[i] + d0
                better = v < b
                b = v if better else b
                a = j0 if better else a
                v = src1[i] + d1
                better = v < b
                b = v if better else b
                a = j1 if better else a
                v = src2[i] + d2
                better = v < b
                b = v if better else b
                a = j2 if better else a
                v = src3[i] + d3
                better = v < b
                b = v if better else b
                a = j3 if better else a
                dst_best[i] = b
                dst_arg[i] = a
        j += 4
    while j < n_levels:
        c = costs_row[j]
        _relax_level(prev, c, dist_row[j], np.int64(j), t0, max(first, c), t1, block_best,
                     block_arg)
        j += 1
    for i in range(n):
        best[t0 + i] = block_best[i]
        arg_row[t0 + i] = block_arg[i]


@njit(cache=True)
def _fill_unreachable(best, arg_row, lo, hi, width):
    """Bins below ``lo`` are infeasible; above ``hi`` equal bin ``hi`` (every level fits)."""
    for t in range(min(lo, width)):
        best[t] = np.inf
        arg_row[t] = -1
    if hi < width - 1:
        for t in range(hi + 1, width):
            best[t] = best[hi]
            arg_row[t] = arg_row[hi]


@njit(cache=True)
def _reachable(bin_costs, l, lo, hi):
    """Reachable bins after layer ``l`` given those ``[lo, hi]`` after layer ``l - 1``."""
    cmin = bin_costs[l, 0]
    cmax = bin_costs[l, 0]
    for j in range(bin_costs.shape[1]):
        cmin = min(cmin, bin_costs[l, j])
        cmax = max(cmax, bin_costs[l, j])
    return lo + cmin, hi + cmax


@njit(cache=True)
def dp_allocate_kernel(bin_costs, distortions, n_bins, argmin_table, best):
    """Fill the DP tables of the layer-wise allocation (in place) and return the optimum.

    ``best[t]`` after layer ``l`` is the least total distortion of layers ``0..l`` using at most
    ``t`` bins; ``argmin_table[l, t]`` the level of layer ``l`` reaching it (-1 if infeasible).

    Parameters
    ----------
    bin_costs : int64 array (L, K)
        Cost of each layer at each level, in bins (non-negative).
    distortions : float64 array (L, K)
        Distortion of each layer at each level.
    n_bins : int
        Budget in bins (the table has ``n_bins + 1`` columns).
    argmin_table : int array (L, n_bins + 1)
        Output, written in place.
    best : float64 array (n_bins + 1,)
        Work array, written in place; on return ``best[n_bins]`` is the optimum (inf when
        no allocation fits the budget).
    """
    n_layers = bin_costs.shape[0]
    width = n_bins + 1
    prev = np.zeros(width)
    arg_row = np.empty(width, dtype=np.int32)
    block_best = np.empty(BLOCK_BINS)
    block_arg = np.empty(BLOCK_BINS, dtype=np.int64)
    lo, hi = 0, 0
    for l in range(n_layers):
        lo, hi = _reachable(bin_costs, l, lo, hi)
        top = min(hi, n_bins) + 1
        for t0 in range(min(lo, width), top, BLOCK_BINS):
            _dp_block(prev, bin_costs[l], distortions[l], t0, min(t0 + BLOCK_BINS, top), lo,
                      best, arg_row, block_best, block_arg)
        _fill_unreachable(best, arg_row, lo, hi, width)
        for t in range(width):
            prev[t] = best[t]
            argmin_table[l, t] = arg_row[t]
    return best[n_bins]
