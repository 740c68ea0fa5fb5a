"""Implicit centring (``center=μ``) and the matrix-free reference solution of the partitioned
problems, against explicitly centred dense data, numpy and scikit-learn."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression, Ridge

from optsolve.problems import DecentralizedProblem, partition_data
from optsolve.problems import _partitioned_solve as solve_mod
from optsolve.problems import partitioned as part_mod


def _data(n=150, d=12, seed=0, density=0.3):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    X.data += 1.0  # non-zero column means: centring matters
    y = np.asarray(X @ rng.standard_normal(d)).ravel() + 2.0 + 0.1 * rng.standard_normal(n)
    return X, y


def _pair(loss, n=150, d=12, n_nodes=5, alpha=0.03, seed=0):
    """The same problem twice: sparse rows read minus μ, and dense rows centred explicitly."""
    X, y = _data(n, d, seed)
    if loss == "logistic":
        y = np.where(y > np.median(y), 1.0, -1.0)
    mu = np.asarray(X.mean(axis=0)).ravel()
    make = getattr(DecentralizedProblem, loss)
    implicit = make(partition_data(X, y, n_nodes, random_state=seed), alpha, center=mu)
    explicit = make(partition_data(X.toarray() - mu, y, n_nodes, random_state=seed), alpha)
    return implicit, explicit, X, y, mu


def _dloss(loss, z, y):
    return z - y if loss == "ridge" else -y / (1 + np.exp(y * z))


@pytest.mark.parametrize("loss", ["ridge", "logistic"])
def test_centred_kernels_match_numpy_reference(loss):
    imp, exp, X, _y, mu = _pair(loss)
    rng = np.random.default_rng(1)
    w = rng.standard_normal(X.shape[1])
    N = X.shape[0]
    # plain numpy reference on the explicitly centred matrix, rows in the problem's order
    Xc = sp.vstack([p[0] for p in imp.parts]).toarray() - mu
    z = Xc @ w
    yy = imp.packed.y
    loss_ref = 0.5 * (z - yy) ** 2 if loss == "ridge" else np.logaddexp(0, -yy * z)
    assert imp.value(w) == pytest.approx(loss_ref.mean() + 0.5 * imp.alpha * w @ w, rel=1e-12)
    grad_ref = Xc.T @ _dloss(loss, z, yy) / N + imp.alpha * w
    assert_allclose(imp.grad(w), grad_ref, rtol=1e-11, atol=1e-14)
    # every node-level entry point agrees with the explicit problem (rows are in the same order)
    W = rng.standard_normal((imp.n_nodes, X.shape[1]))
    for i in range(imp.n_nodes):
        assert imp.local_value(i, w) == pytest.approx(exp.local_value(i, w), rel=1e-12)
        assert_allclose(imp.local_grad(i, w), exp.local_grad(i, w), rtol=1e-11, atol=1e-14)
        idx = rng.integers(0, imp.n_samples[i], size=7)
        assert_allclose(imp.local_grad_batch(i, w, idx), exp.local_grad_batch(i, w, idx),
                        rtol=1e-11, atol=1e-14)
    assert_allclose(imp.local_grads(W), exp.local_grads(W), rtol=1e-11, atol=1e-14)
    assert_allclose(imp.grads(W), exp.grads(W), rtol=1e-11, atol=1e-14)
    assert_allclose(imp.grads(W)[2], imp.grad(W[2]), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("spectrum", ["wide_gram", "tall_gram", "lanczos"])
def test_centred_smoothness_constants(spectrum, monkeypatch):
    if spectrum == "lanczos":
        monkeypatch.setattr(part_mod, "DENSE_SPECTRUM_MAX", 3)
    n, d = (150, 12) if spectrum != "wide_gram" else (40, 60)
    imp, exp, *_ = _pair("ridge", n=n, d=d, n_nodes=2 if spectrum == "wide_gram" else 5)
    assert_allclose(imp.L_local, exp.L_local, rtol=1e-8)
    # ‖X̃_i‖² by a dense SVD of the explicitly centred part
    Xi = exp.parts[0][0]
    top = np.linalg.svd(Xi, compute_uv=False)[0] ** 2
    assert imp.L_local[0] == pytest.approx(top / imp.n_samples_total + imp.packed.reg,
                                           rel=1e-8)


@pytest.mark.parametrize("path", ["direct", "matrix_free"])
@pytest.mark.parametrize("center", [False, True])
def test_ridge_solution_paths_match_scikit_learn(path, center, monkeypatch):
    if path == "matrix_free":
        monkeypatch.setattr(solve_mod, "SOLUTION_DENSE_MAX", 5)
    imp, exp, X, y, _mu = _pair("ridge")
    prob = imp if center else DecentralizedProblem.ridge(
        partition_data(X, y, 5, random_state=0), 0.03)
    N = X.shape[0]
    ref = Ridge(alpha=0.03 * N, fit_intercept=center, tol=1e-14, solver="cholesky")
    # scikit-learn sees the rows in the problem's (partitioned) order: same minimizer
    ref.fit(sp.vstack([p[0] for p in prob.parts]).toarray(), prob.packed.y)
    w = prob.solution()
    assert_allclose(w, ref.coef_, rtol=1e-9, atol=1e-12)
    assert np.linalg.norm(prob.grad(w)) <= 1e-11 * max(1.0, np.linalg.norm(prob.grad(0 * w)))
    if center:
        assert_allclose(w, exp.solution(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("path", ["direct", "matrix_free"])
@pytest.mark.parametrize("center", [False, True])
def test_logistic_solution_paths_match_scikit_learn(path, center, monkeypatch):
    if path == "matrix_free":
        monkeypatch.setattr(solve_mod, "SOLUTION_DENSE_MAX", 5)
    imp, exp, X, y, mu = _pair("logistic")
    prob = imp if center else DecentralizedProblem.logistic(
        partition_data(X, y, 5, random_state=0), 0.03)
    N = X.shape[0]
    Xp = sp.vstack([p[0] for p in prob.parts]).toarray() - (mu if center else 0.0)
    ref = LogisticRegression(C=1.0 / (0.03 * N), fit_intercept=False, tol=1e-12,
                             solver="newton-cg", max_iter=1000).fit(Xp, prob.packed.y)
    w = prob.solution()
    assert_allclose(w, ref.coef_.ravel(), rtol=1e-6, atol=1e-8)
    assert np.linalg.norm(prob.grad(w)) <= 1e-11 * max(1.0, np.linalg.norm(prob.grad(0 * w)))
    if center:
        assert_allclose(w, exp.solution(), rtol=1e-9, atol=1e-12)


def test_matrix_free_ridge_without_penalty_is_least_norm(monkeypatch):
    # rank-deficient X with alpha = 0: CG from 0 stays in range(Xᵀ), as lstsq's minimum norm
    monkeypatch.setattr(solve_mod, "SOLUTION_DENSE_MAX", 5)
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.standard_normal((40, 8)) @ rng.standard_normal((8, 30)))
    y = rng.standard_normal(40)
    prob = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), 0.0)
    Xp = sp.vstack([p[0] for p in prob.parts]).toarray()
    ref = np.linalg.lstsq(Xp, prob.packed.y, rcond=None)[0]
    assert_allclose(prob.solution(), ref, rtol=1e-7, atol=1e-9)


def test_matrix_free_solution_is_linear_in_nnz():
    # 10 000 features: the direct path would allocate an 800 MB Hessian; here ~O(nnz)
    import tracemalloc

    rng = np.random.default_rng(0)
    n, d = 300, 10_000
    X = sp.random(n, d, density=2e-3, format="csr", random_state=0)
    y = rng.standard_normal(n)
    prob = DecentralizedProblem.ridge(partition_data(X, y, 3, random_state=0), 1e-2,
                                      center=np.asarray(X.mean(axis=0)).ravel())
    tracemalloc.start()
    try:
        w = prob.solution()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.linalg.norm(prob.grad(w)) <= 1e-11 * max(1.0, np.linalg.norm(prob.grad(0 * w)))
    assert peak < 40 * (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes + 8 * (n + d))


def test_bad_center():
    X, y = _data()
    parts = partition_data(X, y, 3, random_state=0)
    with pytest.raises(ValueError, match="center must have shape"):
        DecentralizedProblem.ridge(parts, 0.1, center=np.zeros(3))
    with pytest.raises(ValueError, match="center"):
        DecentralizedProblem.ridge(parts, 0.1, center=np.full(X.shape[1], np.nan))
    with pytest.raises(TypeError, match="center"):
        DecentralizedProblem.ridge(parts, 0.1, center=["a"] * X.shape[1])
