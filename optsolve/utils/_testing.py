"""Test helpers (like ``sklearn.utils._testing``): the data-or-skip policy of the test suite.

Tests that need data files call :func:`need_data`. When a file is absent they skip with a
reason, unless ``OPTSOLVE_REQUIRE_DATA=1`` (set by ``.ci/run``), which turns the skip into a
failure so that CI always runs them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["need_data"]


def need_data(relpath: str) -> Path:
    """Return ``$OPTSOLVE_DATA/relpath``, or skip (fail under OPTSOLVE_REQUIRE_DATA=1)."""
    import pytest

    root = os.environ.get("OPTSOLVE_DATA")
    path = Path(root) / relpath if root else None
    if path is not None and path.exists():
        return path
    msg = f"data file {relpath!r} not found under OPTSOLVE_DATA={root!r}"
    if os.environ.get("OPTSOLVE_REQUIRE_DATA") == "1":
        pytest.fail(msg + " and OPTSOLVE_REQUIRE_DATA=1")
    pytest.skip(msg)


def rows_problem(seed, m, n, k, mean_len, *, min_len=0, long_rows=0, long_len=0):
    """CSR with rows of varied length (one empty row, optional long rows), F, offsets.

    ``min_len >= 2 k`` keeps every non-empty row well conditioned without a ridge (rows with
    fewer observations than unknowns are solved through the 1e-12 jitter alone, where CPU and
    GPU round-off is amplified by ~1e12).
    """
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, 2 * mean_len + 1, m)
    lengths[0] = 0
    if min_len <= 1:
        lengths[1] = 1
    lengths[2 : 2 + long_rows] = long_len
    rows = np.repeat(np.arange(m), lengths)
    cols = np.concatenate([np.sort(rng.choice(n, size=d, replace=False)) for d in lengths])
    X = sp.csr_matrix((rng.standard_normal(rows.size), (rows, cols)), shape=(m, n))
    X.sort_indices()
    F = rng.standard_normal((n, k))
    col_offset = 0.1 * rng.standard_normal(n)
    warm = rng.standard_normal((m, k))
    return X, F, col_offset, warm


def sparse_rows_regression(n, d, row_nnz, seed=0):
    """``(X, y)``: a CSR ``X`` with ``row_nnz`` columns a row, drawn in O(nnz) memory
    (``scipy.sparse.random`` permutes all ``n·d`` cells), values ``1 + N(0, 1)`` so that the
    column means are not zero and an intercept is not trivial; ``y`` linear in ``X`` plus 1
    and noise."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    cols = rng.integers(0, d, size=(n, row_nnz))
    X = sp.csr_matrix((1.0 + rng.standard_normal(n * row_nnz), cols.ravel(),
                       np.arange(0, n * row_nnz + 1, row_nnz)), shape=(n, d))
    X.sum_duplicates()
    y = np.asarray(X @ rng.standard_normal(d)).ravel() + 1.0 + 0.1 * rng.standard_normal(n)
    return X, y


def fit_peak_memory(fit, X, y, warmup) -> int:
    """Peak bytes traced by ``tracemalloc`` (numpy and scipy allocations) while ``fit(X, y)``
    runs on one BLAS thread, after ``fit(*warmup)`` has compiled or loaded the numba kernels
    outside the measure. Convergence warnings of short test budgets are silenced."""
    import tracemalloc
    import warnings

    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(1):
            fit(*warmup)
        tracemalloc.start()
        try:
            with threadpool_limits(1):
                fit(X, y)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
