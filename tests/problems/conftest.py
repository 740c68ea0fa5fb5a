"""Shared helpers of the problem-layer tests (fixtures: test files cannot import each other)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

# scalable library problems are tested at small sizes to keep the suite fast
SMALL_PARAMS = {"POISSON_CONTROL": {"N": 5}}


def dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)


def central_difference(fun, x, rel_step=1e-6):
    """Jacobian of ``fun`` at ``x`` (rows: outputs), independent of the library's own FD code."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = rel_step * max(1.0, abs(x[i]))
        cols.append((np.atleast_1d(fun(x + e)) - np.atleast_1d(fun(x - e))) / (2 * e[i]))
    return np.column_stack(cols)


@pytest.fixture
def fd():
    return central_difference


@pytest.fixture
def to_dense():
    return dense


@pytest.fixture
def small_params():
    return SMALL_PARAMS
