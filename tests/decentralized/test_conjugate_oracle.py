"""The logistic conjugate oracle of the dual baselines (MSDA, continuized):
``∇f_i*(v) = argmin_θ f_i(θ) − ⟨v, θ⟩`` in its two Newton spaces (row space by Woodbury when a
node has fewer rows than features, feature space otherwise), with and without kept factors
(chord steps), on dense and sparse rows, centred implicitly or not, against plain numpy and
scipy references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from scipy.special import expit

from optsolve.decentralized import DecentralizedProblem, partition_data
from optsolve.decentralized.baselines import _kernels as K
from optsolve.decentralized.baselines._conjugate import ConjugateOracle


def _data(n_rows, d, sparse, seed=0):
    rng = np.random.default_rng(seed)
    if sparse:  # binary rows of ~4 nonzeros, like w8a
        X = sp.random(n_rows, d, density=4.0 / d, random_state=seed, format="csr")
        X.data[:] = 1.0
    else:
        X = rng.standard_normal((n_rows, d)) / np.sqrt(d)
    y = np.where(rng.random(n_rows) < 0.5, 1.0, -1.0)
    return X, y


def _problem(n_rows, d, n_nodes, sparse, centred, seed=0):
    X, y = _data(n_rows, d, sparse, seed)
    mu = None
    if centred:
        mu = np.asarray(X.mean(axis=0)).ravel() + 0.1
    parts = partition_data(X, y, n_nodes, random_state=seed)
    return DecentralizedProblem.logistic(parts, 0.05, center=mu), parts, mu


def _node_dense(parts, mu, i):
    Xi, yi = parts[i]
    A = Xi.toarray() if sp.issparse(Xi) else np.asarray(Xi, dtype=float)
    if mu is not None:
        A = A - mu
    return A, np.where(np.asarray(yi) > 0, 1.0, -1.0)


def _objective(A, yi, N, reg, v):
    def f(t):
        z = yi * (A @ t)
        return np.logaddexp(0.0, -z).sum() / N + 0.5 * reg * t @ t - v @ t

    def g(t):
        z = yi * (A @ t)
        return A.T @ (-yi * expit(-z)) / N + reg * t - v

    def h(t):
        s = expit(A @ t)
        return (A.T * (s * (1 - s) / N)) @ A + reg * np.eye(A.shape[1])

    return f, g, h


def _newton_reference(A, yi, N, reg, v):
    """Plain numpy damped Newton in feature space, to a gradient far below the oracle's."""
    f, g, h = _objective(A, yi, N, reg, v)
    t = np.zeros(A.shape[1])
    for _ in range(200):
        gr = g(t)
        if np.linalg.norm(gr) <= 1e-15 * max(1.0, np.linalg.norm(v)):
            break
        step = np.linalg.solve(h(t), gr)
        s, f0 = 1.0, f(t)
        # near the solution the decrease is below the rounding of f: full steps
        while (np.linalg.norm(gr) > 1e-8 and f(t - s * step) > f0 - 1e-4 * s * gr @ step
               and s > 1e-12):
            s *= 0.5
        t = t - s * step
    return t


CASES = [  # (rows, d, nodes): m_i < d (row space) and m_i > d (feature space)
    pytest.param(48, 30, 4, id="rows"),
    pytest.param(240, 12, 4, id="features"),
]


@pytest.mark.parametrize("keep", [True, False], ids=["chord", "newton"])
@pytest.mark.parametrize("centred", [False, True], ids=["plain", "centred"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize(("n_rows", "d", "n_nodes"), CASES)
def test_logistic_conjugate_matches_numpy_newton(n_rows, d, n_nodes, sparse, centred, keep):
    prob, parts, mu = _problem(n_rows, d, n_nodes, sparse, centred)
    oracle = ConjugateOracle(prob, keep_factors=keep)
    rows_space = n_rows // n_nodes < d
    assert np.all((oracle.gram_off >= 0) == rows_space)
    assert (oracle.fac.size > 0) == keep
    N, reg = prob.n_samples_total, prob.packed.reg
    rng = np.random.default_rng(3)
    V = 0.05 * rng.standard_normal((n_nodes, d))
    for _ in range(4):  # warm-started calls along a moving v, as in MSDA
        Theta = oracle(V)
        for i in range(n_nodes):
            A, yi = _node_dense(parts, mu, i)
            ref = _newton_reference(A, yi, N, reg, V[i])
            assert_allclose(Theta[i], ref, rtol=1e-10, atol=1e-10 * max(1.0, np.abs(ref).max()))
            _, g, _ = _objective(A, yi, N, reg, V[i])
            assert np.linalg.norm(g(Theta[i])) <= K.INNER_RTOL * max(1.0, np.linalg.norm(V[i]))
        V = V + 0.002 * rng.standard_normal(V.shape)
    assert oracle.n_factorizations <= oracle.n_inner_steps
    if keep:  # the later calls reuse the kept factors
        assert oracle.n_factorizations < oracle.n_inner_steps
    else:
        assert oracle.n_factorizations == oracle.n_inner_steps


@pytest.mark.parametrize("centred", [False, True], ids=["plain", "centred"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_logistic_conjugate_matches_scipy_minimize(sparse, centred):
    prob, parts, mu = _problem(40, 16, 2, sparse, centred, seed=5)
    v = np.random.default_rng(0).standard_normal((2, 16)) * 0.02
    Theta = ConjugateOracle(prob)(v)
    for i in range(2):
        A, yi = _node_dense(parts, mu, i)
        f, g, h = _objective(A, yi, prob.n_samples_total, prob.packed.reg, v[i])
        res = minimize(f, np.zeros(16), jac=g, hess=h, method="trust-exact",
                       options={"gtol": 1e-13})
        assert_allclose(Theta[i], res.x, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("centred", [False, True], ids=["plain", "centred"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_woodbury_and_feature_hessian_kernels_match_numpy(sparse, centred):
    prob, parts, mu = _problem(30, 20, 3, sparse, centred, seed=2)
    oracle = ConjugateOracle(prob)
    p = prob.packed
    rng = np.random.default_rng(1)
    theta, g = rng.standard_normal(20), rng.standard_normal(20)
    for i in range(3):
        s, e = p.offsets[i], p.offsets[i + 1]
        m = e - s
        A, _ = _node_dense(parts, mu, i)
        sig = expit(A @ theta)
        H = (A.T * (sig * (1 - sig) * p.inv_n_total)) @ A + p.reg * np.eye(20)
        Hk = np.empty((20, 20))
        K.hessian_features(p.is_sparse, p.X, p.indptr, p.indices, p.data, s, e, p.inv_n_total,
                           p.reg, p.center, theta, Hk, np.empty(20))
        assert_allclose(Hk, H, rtol=1e-12, atol=1e-14)
        G = oracle.gram[oracle.gram_off[i]:oracle.gram_off[i] + m * m].reshape(m, m)
        assert_allclose(G, A @ A.T, atol=1e-12)
        M, w, step = np.empty((m, m)), np.empty(m), np.empty(20)
        K.woodbury_matrix(p.is_sparse, p.X, p.indptr, p.indices, p.data, s, e, p.inv_n_total,
                          p.reg, p.center, theta, G, M, w)
        assert_allclose(M, p.reg * np.eye(m) + w[:, None] * (A @ A.T) * w[None, :], atol=1e-14)
        K.cholesky_factor(M)
        K.woodbury_apply(p.is_sparse, p.X, p.indptr, p.indices, p.data, s, e, p.reg, p.center,
                         M, w, g, np.empty(m), np.empty(m), step)
        assert_allclose(step, np.linalg.solve(H, g), rtol=1e-9)


@pytest.mark.parametrize("d", [1, 9, 130])
def test_cholesky_kernels_match_numpy(d):
    rng = np.random.default_rng(d)
    B = rng.standard_normal((d, d))
    H = B @ B.T + d * np.eye(d)
    b = rng.standard_normal(d)
    F, out = H.copy(), np.empty(d)
    K.cholesky_factor(F)
    assert_allclose(np.tril(F), np.linalg.cholesky(H), rtol=1e-12)
    K.cholesky_apply(F, b, out)
    assert_allclose(out, np.linalg.solve(H, b), rtol=1e-12)


def test_kept_factors_fall_back_beyond_the_memory_limit(monkeypatch):
    prob, _, _ = _problem(48, 30, 4, False, False)
    monkeypatch.setenv("OPTSOLVE_DENSE_LIMIT_BYTES", "100")
    oracle = ConjugateOracle(prob)
    assert oracle.fac.size == 0 and np.all(oracle.fac_off < 0)
    V = 0.05 * np.random.default_rng(0).standard_normal((4, 30))
    assert_allclose(oracle(V), ConjugateOracle(prob, keep_factors=True)(V), rtol=1e-9,
                    atol=1e-12)
