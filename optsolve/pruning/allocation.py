"""Allocating a budget across layers from their rate–distortion curves.

Two allocators solve ``min Σ_l d_l(j_l)  s.t.  Σ_l c_l(j_l) <= budget`` over one level ``j_l``
per layer: the exact dynamic program of Xu et al. (2023, Sec. 3.3) and the Lagrangian
slope-matching relaxation (bisection on the multiplier), which only reaches points on the lower
convex hull of the curves.
"""

from __future__ import annotations

import logging

import numpy as np

from .._validation import (
    as_float_array,
    check_array_finite,
    check_positive_int,
    check_scalar_in_range,
)

logger = logging.getLogger("optsolve.pruning")

__all__ = ["allocate_dp", "allocate_lagrangian"]

#: bisection steps on the Lagrange multiplier (each halves the bracket)
LAGRANGIAN_MAX_BISECTIONS = 200


def _check_curves(costs, distortions) -> tuple[np.ndarray, np.ndarray]:
    costs = as_float_array(costs, "costs")
    distortions = as_float_array(distortions, "distortions")
    if costs.ndim != 2:
        raise ValueError(f"costs must be 2-D (layers x levels), got shape {costs.shape}")
    if distortions.shape != costs.shape:
        raise ValueError(
            f"distortions must have the shape of costs {costs.shape}, got {distortions.shape}"
        )
    if costs.shape[0] == 0 or costs.shape[1] == 0:
        raise ValueError(f"costs must have at least one layer and one level, got {costs.shape}")
    check_array_finite(costs, "costs")
    check_array_finite(distortions, "distortions")
    if np.any(costs < 0):
        raise ValueError("costs must be non-negative")
    return costs, distortions


def _check_budget(budget, costs) -> float:
    budget = check_scalar_in_range(budget, "budget", low=0.0)
    smallest = float(costs.min(axis=1).sum())
    if smallest > budget:
        raise ValueError(
            f"budget={budget:g} cannot be met: the cheapest allocation (every layer at its "
            f"cheapest level) costs {smallest:g}"
        )
    return budget


def allocate_dp(costs, distortions, budget: float, n_bins: int = 100_000) -> np.ndarray:
    """Exact layer-wise allocation by dynamic programming over a discretized budget.

    Chooses one level ``j_l`` per layer minimizing ``Σ_l distortions[l, j_l]`` subject to
    ``Σ_l costs[l, j_l] <= budget``. The budget is split into ``n_bins`` bins (a cost is rounded
    *up* to whole bins so the returned allocation always fits the real budget); the state is
    (layers so far, bins used), an argmin table of shape ``(L, n_bins + 1)`` is filled layer by
    layer and backtracked. Time O(L·T·K) with T = ``n_bins`` and K levels. With integer costs and
    ``budget <= n_bins`` one bin is one unit of cost and the result is exact; otherwise (fractional
    costs such as kept fractions, or a larger budget) the budget spans the ``n_bins`` bins and
    the result is optimal among allocations whose cost, rounded up to bins, fits.

    Parameters
    ----------
    costs : array-like of shape (n_layers, n_levels)
        ``costs[l, j]``: weights (or FLOPs) kept by layer ``l`` at level ``j``.
    distortions : array-like of shape (n_layers, n_levels)
        ``distortions[l, j]``: output distortion of pruning layer ``l`` to level ``j`` alone.
    budget : float
        Largest allowed total cost.
    n_bins : int, default=100_000
        Number of budget bins (the resolution of the DP).

    Returns
    -------
    levels : ndarray of shape (n_layers,), dtype int64
        The chosen level of each layer.

    Raises
    ------
    ValueError
        If no allocation fits the budget (even after rounding costs up to whole bins).

    References
    ----------
    .. [1] K. Xu, Z. Wang, X. Geng, M. Wu, X. Li, W. Lin, "Efficient Joint Optimization of
       Layer-Adaptive Weight Pruning in Deep Neural Networks", ICCV 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import allocate_dp
    >>> costs = np.array([[4, 2, 0], [4, 2, 0]])
    >>> distortions = np.array([[0.0, 1.0, 5.0], [0.0, 3.0, 4.0]])
    >>> allocate_dp(costs, distortions, budget=4).tolist()
    [1, 1]
    """
    from ._kernels import dp_allocate_kernel

    costs, distortions = _check_curves(costs, distortions)
    budget = _check_budget(budget, costs)
    n_bins = check_positive_int(n_bins, "n_bins")
    n_layers, n_levels = costs.shape
    # integer costs within n_bins: a bin is one unit of cost (exact); otherwise (fractional
    # costs, e.g. kept fractions, or a large budget) the budget is spread over n_bins bins
    integral = bool(np.all(costs == np.round(costs)))
    scale = 1.0 if (integral and budget <= n_bins) or budget == 0 else n_bins / budget
    budget_bins = int(np.floor(budget * scale + 1e-9))
    bin_costs = np.ceil(costs * scale - 1e-9).astype(np.int64)
    # never need more bins than the densest allocation uses
    budget_bins = min(budget_bins, int(bin_costs.max(axis=1).sum()))
    if n_levels <= np.iinfo(np.int8).max:
        table_dtype = np.int8
    elif n_levels <= np.iinfo(np.int16).max:
        table_dtype = np.int16
    else:
        table_dtype = np.int32
    argmin_table = np.empty((n_layers, budget_bins + 1), dtype=table_dtype)
    work = np.empty(budget_bins + 1)
    optimum = dp_allocate_kernel(
        bin_costs, np.ascontiguousarray(distortions), budget_bins, argmin_table, work
    )
    if not np.isfinite(optimum):
        raise ValueError(
            f"budget={budget:g} cannot be met with n_bins={n_bins}: rounding costs up to whole "
            "bins makes every allocation too expensive; increase n_bins"
        )
    levels = np.empty(n_layers, dtype=np.int64)
    t = budget_bins
    for l in range(n_layers - 1, -1, -1):
        j = int(argmin_table[l, t])
        levels[l] = j
        t -= int(bin_costs[l, j])
    logger.debug("allocate_dp: %d layers, %d levels, %d bins, optimum %g",
                 n_layers, n_levels, budget_bins, optimum)
    return levels


def _lagrangian_levels(costs, distortions, lam):
    """Per-layer argmin of ``d + lam * c``; ties go to the cheapest level."""
    score = distortions + lam * costs
    best = score.min(axis=1, keepdims=True)
    tied = score <= best + 1e-12 * np.maximum(1.0, np.abs(best))
    masked_cost = np.where(tied, costs, np.inf)
    return masked_cost.argmin(axis=1)


def allocate_lagrangian(costs, distortions, budget: float) -> np.ndarray:
    """Layer-wise allocation by Lagrangian slope matching, bisecting on the multiplier.

    For a multiplier ``λ`` every layer independently picks ``argmin_j d_l(j) + λ c_l(j)``, which
    equalizes the slopes of the curves; ``λ`` is bisected to the smallest value whose total cost
    fits the budget. The result is optimal for the budget it actually uses, and equals the DP
    when the curves are convex and the budget lies on a vertex of their combined hull; otherwise
    it may leave part of the budget unused.

    Parameters
    ----------
    costs, distortions : array-like of shape (n_layers, n_levels)
        As in :func:`allocate_dp`.
    budget : float
        Largest allowed total cost.

    Returns
    -------
    levels : ndarray of shape (n_layers,), dtype int64

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import allocate_lagrangian
    >>> costs = np.array([[4, 2, 0], [4, 2, 0]])
    >>> distortions = np.array([[0.0, 1.0, 5.0], [0.0, 3.0, 9.0]])
    >>> allocate_lagrangian(costs, distortions, budget=6).tolist()
    [1, 0]
    """
    costs, distortions = _check_curves(costs, distortions)
    budget = _check_budget(budget, costs)

    def total(lam):
        levels = _lagrangian_levels(costs, distortions, lam)
        return levels, float(costs[np.arange(costs.shape[0]), levels].sum())

    levels, used = total(0.0)
    if used <= budget:
        return levels.astype(np.int64)
    lo, hi = 0.0, 1.0
    while total(hi)[1] > budget:
        lo, hi = hi, 2.0 * hi
        if hi > 1e300:  # pragma: no cover - guarded by _check_budget
            raise ValueError(f"budget={budget:g} cannot be met")
    for _ in range(LAGRANGIAN_MAX_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if total(mid)[1] <= budget:
            hi = mid
        else:
            lo = mid
    return total(hi)[0].astype(np.int64)
