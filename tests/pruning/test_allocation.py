import numpy as np
import pytest

from optsolve.pruning import allocate_dp, allocate_lagrangian


def _random_instance(seed, L=3, K=4, max_cost=6):
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, max_cost + 1, size=(L, K))
    distortions = rng.uniform(0, 10, size=(L, K))
    return costs, distortions


def _total(a, levels):
    return a[np.arange(a.shape[0]), levels].sum()


def dp_reference(bin_costs, distortions, n_bins):
    """Plain numpy DP (vectorized over the budget) with the kernel's tie rule."""
    best = np.zeros(n_bins + 1)
    table = []
    for l in range(bin_costs.shape[0]):
        cur = np.full(n_bins + 1, np.inf)
        arg = np.full(n_bins + 1, -1)
        for j in range(bin_costs.shape[1]):
            c = bin_costs[l, j]
            if c > n_bins:
                continue
            cand = np.full(n_bins + 1, np.inf)
            cand[c:] = best[: n_bins + 1 - c] + distortions[l, j]
            better = cand < cur
            cur[better], arg[better] = cand[better], j
        best = cur
        table.append(arg)
    return best[n_bins], np.array(table)


@pytest.mark.parametrize("seed", range(12))
def test_dp_matches_brute_force(seed, brute):
    costs, distortions = _random_instance(seed)
    for budget in (0, 3, 7, 11, 18):
        expected = brute(costs, distortions, budget)
        if not np.isfinite(expected):
            with pytest.raises(ValueError, match="budget"):
                allocate_dp(costs, distortions, budget)
            continue
        levels = allocate_dp(costs, distortions, budget)
        assert _total(costs, levels) <= budget
        assert _total(distortions, levels) == pytest.approx(expected)


@pytest.mark.parametrize(("seed", "L", "max_cost", "n_bins"),
                         [(0, 5, 9, 20), (1, 5, 9, 20), (2, 5, 9, 20), (3, 7, 3000, 9000),
                          (4, 3, 5000, 9001), (5, 4, 9, 200)])
def test_kernel_matches_numpy_reference(seed, L, max_cost, n_bins):
    # n_bins above the kernels' block size, and budgets beyond every allocation's cost (the
    # copied, unreachable bins), are covered as well as the small tables
    from optsolve.pruning._kernels import dp_allocate_kernel

    costs, distortions = _random_instance(seed, L=L, K=6, max_cost=max_cost)
    if seed == 1:  # exact ties between levels: the densest must win
        distortions = np.round(distortions)
    table = np.empty((L, n_bins + 1), dtype=np.int8)
    work = np.empty(n_bins + 1)
    opt = dp_allocate_kernel(costs.astype(np.int64), distortions, n_bins, table, work)
    ref_opt, ref_table = dp_reference(costs, distortions, n_bins)
    assert opt == ref_opt or (np.isinf(opt) and np.isinf(ref_opt))
    np.testing.assert_array_equal(table, ref_table)


def test_dp_with_coarse_bins_fits_budget_and_is_near_optimal(brute):
    costs, distortions = _random_instance(7, L=4, K=5, max_cost=1000)
    budget = 1800
    levels = allocate_dp(costs, distortions, budget, n_bins=200)
    assert _total(costs, levels) <= budget
    exact = brute(costs, distortions, budget)
    assert _total(distortions, levels) >= exact - 1e-12
    # exact again once a bin is one unit of cost
    levels = allocate_dp(costs, distortions, budget, n_bins=budget)
    assert _total(distortions, levels) == pytest.approx(exact)


def _convex_curves(seed, L=6, K=21):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(50, 400, size=L)
    frac = np.linspace(0, 1, K)
    costs = np.rint(np.outer(sizes, 1 - frac)).astype(np.int64)
    # strictly convex decreasing-in-cost curves: d = a * frac^p, p > 1
    a = rng.uniform(1, 10, size=L)[:, None]
    p = rng.uniform(1.5, 3.0, size=L)[:, None]
    return costs, a * frac[None, :] ** p


@pytest.mark.parametrize("seed", range(3))
def test_dp_and_lagrangian_agree_on_convex_curves(seed):
    costs, distortions = _convex_curves(seed)
    total = costs[:, 0].sum()
    for budget in (0.2 * total, 0.5 * total, 0.8 * total):
        lag = allocate_lagrangian(costs, distortions, budget)
        # at the budget the Lagrangian solution uses, the DP finds the same distortion
        used = _total(costs, lag)
        dp = allocate_dp(costs, distortions, used)
        assert _total(distortions, dp) == pytest.approx(_total(distortions, lag), rel=1e-9)
        # and at the full budget the DP is at least as good, by no more than one grid step
        dp_full = allocate_dp(costs, distortions, budget)
        step = np.diff(distortions, axis=1).max()
        assert _total(distortions, dp_full) <= _total(distortions, lag) + 1e-12
        assert _total(distortions, lag) - _total(distortions, dp_full) <= step


def test_lagrangian_fits_budget():
    costs, distortions = _random_instance(3, L=5, K=6, max_cost=20)
    budget = 40
    assert _total(costs, allocate_lagrangian(costs, distortions, budget)) <= budget


@pytest.mark.parametrize("allocate", [allocate_dp, allocate_lagrangian])
def test_bad_input(allocate):
    costs = np.array([[4, 2, 1], [4, 2, 1]])
    d = np.array([[0.0, 1.0, 5.0], [0.0, 3.0, 4.0]])
    with pytest.raises(ValueError, match="budget"):
        allocate(costs, d, 1)
    with pytest.raises(ValueError, match="budget"):
        allocate(costs, d, -1)
    with pytest.raises(ValueError, match="distortions"):
        allocate(costs, d[:, :2], 5)
    with pytest.raises(ValueError, match="costs"):
        allocate(costs[0], d[0], 5)
    with pytest.raises(ValueError, match="costs"):
        allocate(-costs, d, 5)
    with pytest.raises(ValueError, match="distortions"):
        allocate(costs, d * np.nan, 5)


def test_dp_n_bins_validated():
    with pytest.raises(ValueError, match="n_bins"):
        allocate_dp([[1, 0]], [[0.0, 1.0]], 1, n_bins=0)


@pytest.mark.parametrize("seed", range(6))
def test_dp_fractional_costs_match_brute_force(seed):
    # kept fractions per layer (costs in [0, 1]) used to be rounded up to whole units, giving
    # allocations several times worse than the optimum
    import itertools

    rng = np.random.default_rng(seed)
    L, K = 4, 5
    costs = rng.integers(0, 101, size=(L, K)) / 100.0
    costs[:, -1] = 0.0  # every layer can be pruned away: some allocation always fits
    distortions = rng.uniform(0, 10, size=(L, K))
    budget = float(rng.uniform(0.5, 2.5))
    best = min((lv for lv in itertools.product(range(K), repeat=L)
                if _total(costs, np.array(lv)) <= budget + 1e-12),
               key=lambda lv: _total(distortions, np.array(lv)))
    levels = allocate_dp(costs, distortions, budget)
    assert _total(costs, levels) <= budget + 1e-12
    assert _total(distortions, levels) == pytest.approx(_total(distortions, np.array(best)))
