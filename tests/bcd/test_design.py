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


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_full_sparse_matrix_is_read_as_a_dense_view(fmt):
    """Every entry stored once, in order: the dense design is a view of the data array."""
    X, _ = _data(4, n=50, p=7)
    M = sp.csc_matrix(X) if fmt == "csc" else sp.csr_matrix(X)
    assert M.nnz == X.size
    design = Design(M)
    assert not design.sparse
    assert np.shares_memory(design.dense, M.data)
    np.testing.assert_array_equal(design.dense, X)
    cols = np.arange(7)
    np.testing.assert_allclose(design.gram(cols), X.T @ X, rtol=1e-12)


def test_full_sparse_matrix_with_duplicates_is_summed_not_viewed():
    X, _ = _data(5, n=6, p=3)
    # the same n·p stored entries, one column holding a duplicate of its first row and no
    # entry for its last: not canonical, so the dense design is scipy's (summed) copy
    indptr = np.array([0, 6, 12, 18])
    indices = np.tile(np.arange(6), 3)
    indices[12:18] = [0, 0, 1, 2, 3, 4]
    M = sp.csc_matrix((X.T.ravel(), indices, indptr), shape=(6, 3))
    design = Design(M)
    assert not np.shares_memory(design.dense, M.data)
    np.testing.assert_array_equal(design.dense, M.toarray())


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_column_norms_of_a_densified_sparse_matrix_come_from_its_non_zeros(fmt):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((80, 12)) * (rng.random((80, 12)) < 0.4)
    M = sp.csc_matrix(X) if fmt == "csc" else sp.csr_matrix(X)
    design = Design(M)
    assert not design.sparse  # 40 % dense: stored densely
    np.testing.assert_allclose(design.col_sq_norms(), (X**2).sum(axis=0), rtol=1e-13)
    offset = X.mean(axis=0)
    centred = Design(M, offset)
    np.testing.assert_allclose(centred.col_sq_norms(), ((X - offset) ** 2).sum(axis=0),
                               rtol=1e-10)
    # the float32 copy is refused on the largest non-zero as on the dense entries
    big = Design(M * 1e20)
    w = rng.uniform(0.0, 0.25, 80)
    np.testing.assert_allclose(big.gram(np.arange(4), w, single=True),
                               big.gram(np.arange(4), w), rtol=0)
