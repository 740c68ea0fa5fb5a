"""The design matrix's Gram products against dense numpy, in float64 and in mixed precision."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.bcd import L1, Logistic, _working_set, duality_gap, minimize_bcd
from optsolve.bcd._design import Design


def _data(seed=0, n=300, p=40):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, ::3] *= 10.0  # uneven column scales
    return X, rng.uniform(0.0, 0.25, n)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True, "signed"])
def test_gram_matches_numpy(sparse, weighted):
    X, w = _data()
    if weighted == "signed":
        w = w - 0.1
    cols = np.array([0, 3, 4, 17, 39])
    design = Design(sp.csc_matrix(X) if sparse else X)
    weights = None if weighted is False else w
    d = np.ones(X.shape[0]) if weights is None else weights
    want = X[:, cols].T @ (d[:, None] * X[:, cols])
    np.testing.assert_allclose(design.gram(cols, weights), want, rtol=1e-12, atol=1e-9)


def test_single_precision_gram_is_a_rounding_of_the_exact_one():
    X, w = _data(1)
    design = Design(X)
    cols = np.arange(0, 40, 2)
    exact = design.gram(cols, w)
    single = design.gram(cols, w, single=True)
    assert single.dtype == np.float64
    assert np.abs(single - exact).max() <= 1e-5 * np.abs(exact).max()
    np.testing.assert_array_equal(single, single.T)


def test_single_precision_gram_refused_where_float32_would_overflow():
    X, w = _data(2)
    design = Design(X * 1e20)
    cols = np.arange(5)
    np.testing.assert_allclose(design.gram(cols, w, single=True), design.gram(cols, w),
                               rtol=0)  # exact: the float32 copy was refused


def test_mixed_precision_newton_reaches_the_float64_solution(monkeypatch):
    """Float32 block Hessians far from the solution: the same solution (the duality gap
    certifies it)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 120))
    y = np.where(X[:, :6] @ rng.standard_normal(6) + 0.3 * rng.standard_normal(400) > 0, 1.0,
                 -1.0)
    alpha = float(np.max(np.abs(X.T @ y))) / (2 * 400) / 50
    runs = {}
    for name, threshold in (("mixed", 1e-4), ("float64", np.inf)):
        monkeypatch.setattr(_working_set, "SINGLE_PRECISION_GAP", threshold)
        runs[name] = minimize_bcd(Logistic(), L1(alpha), X=X, y=y, tol=1e-10)
    mixed, exact = runs["mixed"], runs["float64"]
    assert mixed.success and exact.success
    assert duality_gap(Logistic(), L1(alpha), X, y, mixed.x)[1] <= 1e-9
    np.testing.assert_allclose(mixed.x, exact.x, rtol=1e-6, atol=1e-8)
