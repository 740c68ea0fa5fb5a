"""Numba kernels of the pruning family: the rate–distortion dynamic program.

Arrays and scalars only; each kernel has a plain numpy reference in the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def dp_allocate_kernel(bin_costs, distortions, n_bins, argmin_table, best):
    """Fill the DP tables of the layer-wise allocation (in place) and return the optimum.

    ``best[t]`` after layer ``l`` is the least total distortion of layers ``0..l`` using at most
    ``t`` bins; ``argmin_table[l, t]`` the level of layer ``l`` reaching it (-1 if infeasible).

    Parameters
    ----------
    bin_costs : int64 array (L, K)
        Cost of each layer at each level, in bins.
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
    n_layers, n_levels = bin_costs.shape
    width = n_bins + 1
    prev = np.zeros(width)
    for l in range(n_layers):
        for t in range(width):
            best[t] = np.inf
            argmin_table[l, t] = -1
        for j in range(n_levels):
            c = bin_costs[l, j]
            if c > n_bins:
                continue
            d = distortions[l, j]
            # levels are scanned from the densest; a strict comparison keeps the densest of ties
            for t in range(c, width):
                v = prev[t - c] + d
                if v < best[t]:
                    best[t] = v
                    argmin_table[l, t] = j
        for t in range(width):
            prev[t] = best[t]
    return best[n_bins]
