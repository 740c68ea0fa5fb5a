"""Row-solver micro-benchmarks: one U half-step, sketched vs exact, on long rows.

``python -m pytest bench/bench_completion_kernels.py -o addopts="" --benchmark-only``
(threads pinned to 1; the sketch is forced on so that the sketched kernel itself is timed).
"""

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from optsolve.completion import row_least_squares
from optsolve.datasets import make_incoherent_low_rank

FORCE_SKETCH = {"min_rank": 0}


@pytest.fixture(scope="module")
def long_rows():
    X, _, _ = make_incoherent_low_rank(60, 8000, 5, 0.5, random_state=0)  # d_i ~ 4000
    return X


@pytest.mark.parametrize("k", [16, 64])
@pytest.mark.parametrize("method", ["exact", "sketched"])
def test_half_step(benchmark, long_rows, method, k):
    numba.set_num_threads(1)
    F = np.random.default_rng(k).standard_normal((long_rows.shape[1], k)) / 90
    sol, _ = row_least_squares(long_rows, F, method="exact")
    x0 = sol * (1 + 1e-2 * np.random.default_rng(1).standard_normal(sol.shape))
    benchmark.group = f"half-step k={k}"
    with threadpool_limits(1):
        got, _ = benchmark(row_least_squares, long_rows, F, method=method, x0=x0, tol=1e-2,
                           options=FORCE_SKETCH)
    assert np.linalg.norm(got - sol) <= 1e-3 * np.linalg.norm(sol)
