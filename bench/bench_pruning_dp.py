"""pytest-benchmark micro-benchmarks of the pruning DP (``pytest bench/bench_pruning_dp.py``)."""

import numpy as np
import pytest

from optsolve.pruning import allocate_dp, allocate_lagrangian
from optsolve.pruning._bench import numpy_dp, random_curves


@pytest.fixture(scope="module")
def curves():
    costs, dist = random_curves(100)
    return costs, dist, 0.1 * costs[:, 0].sum()


@pytest.mark.parametrize("solver", ["numba", "numpy", "lagrangian"])
def test_allocation_time(benchmark, curves, solver):
    costs, dist, budget = curves
    fn = {
        "numba": lambda: allocate_dp(costs, dist, budget, 10_000),
        "numpy": lambda: numpy_dp(costs, dist, budget, 10_000),
        "lagrangian": lambda: allocate_lagrangian(costs, dist, budget),
    }[solver]
    fn()  # compile
    levels = benchmark(fn)
    assert np.take_along_axis(costs, levels[:, None], 1).sum() <= budget
