"""Per-row least-squares kernels against numpy's lstsq (exact and sketch-and-precondition)."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.completion import row_least_squares

#: the sketch is skipped below rank 40 by default (it does not pay off there): force it
FORCE_SKETCH = {"min_rank": 0}


@pytest.fixture
def rows_problem():
    rng = np.random.default_rng(1)
    X = sp.random(40, 300, density=0.4, format="lil", random_state=1)  # ~120 obs per row
    X[0] = 0  # one empty row
    X[1] = 0
    X[1, :8] = 1.0  # one short row (solved exactly even by the sketched solver)
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    F = rng.standard_normal((300, 6))
    return X, F


@pytest.mark.parametrize("method", ["exact", "sketched"])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_rows_match_lstsq(rows_problem, method, alpha, ridge_rows_reference):
    X, F = rows_problem
    ref = ridge_rows_reference(X, F, alpha)
    got, iters = row_least_squares(
        X, F, alpha=alpha, method=method, tol=1e-12, options=FORCE_SKETCH
    )
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-10)
    assert (iters > 0) == (method == "sketched")


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-8])
def test_sketched_reaches_requested_accuracy(rows_problem, tol, ridge_rows_reference):
    """The preconditioned residual falls by ``tol``: the error in the A^T A norm follows."""
    X, F = rows_problem
    ref = ridge_rows_reference(X, F, 0.0)
    got, _ = row_least_squares(
        X, F, method="sketched", tol=tol, random_state=3, options=FORCE_SKETCH
    )
    for i in range(2, X.shape[0]):
        idx = X.indices[X.indptr[i] : X.indptr[i + 1]]
        A = F[idx]
        err = np.linalg.norm(A @ (got[i] - ref[i]))
        # ||r||_{M^-1} <= tol ||b||_{M^-1}, M within a constant of A^T A: allow a factor 10
        assert err <= 10 * tol * np.linalg.norm(A @ ref[i])


def test_sketched_needs_few_iterations(rows_problem):
    """Sketch-and-precondition: condition number O(1), so iterations do not grow with d."""
    X, F = rows_problem
    _, iters = row_least_squares(X, F, method="sketched", tol=1e-10, options=FORCE_SKETCH)
    n_sketched = X.shape[0] - 2
    assert iters / n_sketched < 25


def test_sketch_is_seeded(rows_problem):
    X, F = rows_problem
    a, _ = row_least_squares(X, F, tol=1e-3, random_state=5, options=FORCE_SKETCH)
    b, _ = row_least_squares(X, F, tol=1e-3, random_state=5, options=FORCE_SKETCH)
    np.testing.assert_array_equal(a, b)


def test_row_least_squares_bad_input(rows_problem):
    X, F = rows_problem
    with pytest.raises(ValueError, match="method"):
        row_least_squares(X, F, method="qr")
    with pytest.raises(TypeError, match=r"X must be a scipy\.sparse"):
        row_least_squares(X.toarray(), F)
    with pytest.raises(ValueError, match="F must have shape"):
        row_least_squares(X, F[:10])
    with pytest.raises(ValueError, match="alpha"):
        row_least_squares(X, F, alpha=-1.0)
    # options are checked like keyword arguments: an unknown key is an error (issue 19)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['sketch_sise'\]"):
        row_least_squares(X, F, options={"sketch_sise": 3})


def test_small_rank_rows_are_solved_exactly_by_default(rows_problem):
    X, F = rows_problem
    _, iters = row_least_squares(X, F, method="sketched")
    assert iters == 0


def test_parallel_kernels_match_reference(ridge_rows_reference, residuals_reference):
    """Above 200k entries the parallel (prange) kernels run: same answers as numpy."""
    from sklearn.exceptions import ConvergenceWarning

    from optsolve.completion import altmin

    rng = np.random.default_rng(7)
    X = sp.random(400, 1200, density=0.45, format="csr", random_state=7)  # 216k entries
    F = rng.standard_normal((1200, 3))
    ref = ridge_rows_reference(X[:40], F, 0.1)
    for method in ("exact", "sketched"):
        got, _ = row_least_squares(X, F, alpha=0.1, method=method, tol=1e-12,
                                   options=FORCE_SKETCH)
        np.testing.assert_allclose(got[:40], ref, rtol=1e-8, atol=1e-10)
    with pytest.warns(ConvergenceWarning):
        res = altmin(X, 3, solver="exact", max_iter=1, tol=0.0, random_state=0)
    r = residuals_reference(X, res.U, res.V, res.row_bias, res.col_bias, res.mean)
    np.testing.assert_allclose(res.fun, r @ r, rtol=1e-10)
