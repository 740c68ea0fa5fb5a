"""altmin: exact recovery, agreement of the solvers, noise floor, splitting, callbacks."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from optsolve.completion import altmin, spectral_init
from optsolve.datasets import make_incoherent_low_rank

#: the sketch is skipped below rank 40 by default (it does not pay off there): force it
FORCE_SKETCH = {"min_rank": 0}


@pytest.mark.parametrize("solver", ["sketched", "exact"])
def test_exact_recovery(recovery_problem, rel_error, solver):
    """p = 4 k log(n) / n samples recover the rank-k matrix to 1e-6 (JNS 2013, Thm. 2.5)."""
    X, U, V, k = recovery_problem
    res = altmin(X, k, solver=solver, tol=1e-10, random_state=0, options=FORCE_SKETCH)
    assert res.success and res.status == 0
    assert rel_error(res.U, res.V, U, V) <= 1e-6
    assert (res.cg_iterations > 0) == (solver == "sketched")


def test_sketched_and_exact_agree(recovery_problem, rel_error):
    X, _, _, k = recovery_problem
    a = altmin(X, k, solver="sketched", tol=1e-11, random_state=0, options=FORCE_SKETCH)
    b = altmin(X, k, solver="exact", tol=1e-11, random_state=0)
    assert rel_error(a.U, a.V, b.U, b.V) <= 1e-8


def test_recovery_with_sketched_rows_forced(rel_error):
    """Long rows (d_i >> sketch size) go through sketch + PCG, and recovery still holds."""
    X, U, V = make_incoherent_low_rank(400, 400, 3, 0.5, random_state=2)
    res = altmin(X, 3, tol=1e-10, random_state=0, options={"sketch_factor": 2, "min_rank": 0})
    assert res.cg_iterations > 0
    assert rel_error(res.U, res.V, U, V) <= 1e-6


@pytest.mark.parametrize("solver", ["sketched", "exact"])
def test_noisy_reaches_noise_floor(solver):
    """Error of the fit vs the oracle projection: within a small factor of the noise level."""
    m, n, k, p, sigma = 300, 250, 3, 0.4, 0.05
    X, U, V = make_incoherent_low_rank(m, n, k, p, noise=sigma, random_state=4)
    res = altmin(X, k, solver=solver, tol=1e-9, random_state=0, options=FORCE_SKETCH)
    M = U @ V.T
    rmse = np.linalg.norm(res.U @ res.V.T - M) / np.sqrt(m * n)
    # least-squares fit of (m + n) k parameters to |Omega| noisy values: error ~ sigma
    # sqrt((m + n) k / |Omega|); a constant factor 2 allows for the nonconvex fit
    floor = sigma * np.sqrt((m + n) * k / X.nnz)
    assert rmse <= 2 * floor
    train_rmse = np.sqrt(res.fun / X.nnz)
    assert 0.8 * sigma <= train_rmse <= sigma


def test_sample_splitting_converges(rel_error):
    X, U, V = make_incoherent_low_rank(300, 300, 2, 0.9, random_state=5)
    with pytest.warns(ConvergenceWarning):
        res = altmin(X, 2, sample_splitting=True, max_iter=6, tol=1e-12, random_state=0)
    assert rel_error(res.U, res.V, U, V) <= 1e-3


def test_spectral_init_is_close_and_orthonormal(recovery_problem):
    X, U, _, k = recovery_problem
    U0, sigma, W = spectral_init(X, k, random_state=0)
    np.testing.assert_allclose(U0.T @ U0, np.eye(k), atol=1e-10)
    Qu, _ = np.linalg.qr(U)
    # principal angles: the initial subspace is already well aligned (JNS Lemma 4.4)
    assert np.linalg.norm(Qu.T @ U0, 2) > 0.9
    assert sigma.shape == (k,) and W.shape == (X.shape[1], k)


def test_history_callback_and_stop(recovery_problem):
    X, _, _, k = recovery_problem
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.rel_residual)
        if len(seen) == 3:
            raise StopIteration

    res = altmin(X, k, callback=callback, record_history=True, random_state=0)
    assert res.status == 99 and not res.success and res.nit == 3
    np.testing.assert_allclose(res.history["rel_residual"], seen)
    assert np.all(np.diff(res.history["rel_residual"]) < 0)


def test_not_converged_warns(recovery_problem):
    X, _, _, k = recovery_problem
    with pytest.warns(ConvergenceWarning, match="maximum number of iterations"):
        res = altmin(X, k, max_iter=2, tol=1e-14, random_state=0)
    # the shared vocabulary (optsolve._status): 1 is the iteration limit in every family
    assert not res.success and res.status == 1


def test_biases_objective_is_the_stated_one(ridge_rows_reference, residuals_reference):
    """fun = sum_Omega r^2 + alpha (|U|^2 + |V|^2 + |b|^2 + |c|^2), U is a ridge solve."""
    X, _, _ = make_incoherent_low_rank(50, 40, 2, 0.6, noise=0.1, random_state=6)
    X.data += 3.0
    res = altmin(X, 2, solver="exact", alpha=2.0, biases=True, tol=1e-8, max_iter=300)
    r = residuals_reference(X, res.U, res.V, res.row_bias, res.col_bias, res.mean)
    penalty = sum(np.sum(a**2) for a in (res.U, res.V, res.row_bias, res.col_bias))
    np.testing.assert_allclose(res.fun, r @ r + 2.0 * penalty, rtol=1e-12)
    assert abs(r.mean()) < 1e-4  # mu is the unpenalized minimizer
    F = np.hstack([res.V, np.ones((40, 1))])
    Xc = X.copy()
    Xc.data = Xc.data - res.mean - res.col_bias[Xc.indices]
    ref = ridge_rows_reference(Xc, F, 2.0)
    np.testing.assert_allclose(ref[:, :2], res.U, atol=1e-8)
    np.testing.assert_allclose(ref[:, 2], res.row_bias, atol=1e-8)


def test_altmin_bad_input(recovery_problem):
    X, _, _, k = recovery_problem
    with pytest.raises(ValueError, match="rank"):
        altmin(X, min(X.shape))
    with pytest.raises(ValueError, match="solver"):
        altmin(X, k, solver="svd")
    with pytest.raises(ValueError, match="alpha"):
        altmin(X, k, alpha=-1.0)


@pytest.mark.parametrize(("options", "exc"), [
    ({"sketch_factr": 4}, ValueError),
    ({"sketch_factor": 0}, ValueError),
    ({"sketch_factor": "4"}, TypeError),
    ({"sketch_nnz": 1.5}, TypeError),
    ({"row_reduction": 1.0}, ValueError),
    ({"row_max_cg": 0}, ValueError),
    ({"min_rank": -1}, ValueError),
    ({"row_abs_tol": np.nan}, ValueError),
    ("min_rank=0", TypeError),
])
def test_options_validated_like_keyword_arguments(recovery_problem, options, exc):
    X, _, _, k = recovery_problem
    with pytest.raises(exc, match="options"):
        altmin(X, k, options=options, random_state=0)


def test_shared_status_vocabulary(recovery_problem):
    # the objective-stalled stop used to be status 1, which is the iteration limit elsewhere
    X, _, _, k = recovery_problem
    noisy = X.copy()
    noisy.data = noisy.data + 0.3 * np.random.default_rng(0).standard_normal(noisy.nnz)
    res = altmin(noisy, k, tol=1e-3, max_iter=200, random_state=0)
    assert res.success and res.status == 0 and "objective decrease" in res.message
    res = altmin(X, k, tol=1e-10, random_state=0)
    assert res.success and res.status == 0 and "residual" in res.message
