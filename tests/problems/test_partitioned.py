"""Partitioned problems shared by the decentralized families, against centralized references."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, Ridge

from optsolve.problems import DecentralizedProblem, partition_data


def _data(n=120, d=5, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    w = rng.standard_normal(d)
    y = np.asarray(X @ w).ravel() + 0.1 * rng.standard_normal(n)
    return X, y


def _make(loss, sparse=False, n_nodes=6, alpha=0.05, seed=0):
    X, y = _data(seed=seed, sparse=sparse)
    if loss == "logistic":
        y = np.where(y > 0, "yes", "no")
    parts = partition_data(X, y, n_nodes, random_state=seed)
    return getattr(DecentralizedProblem, loss)(parts, alpha), X, y


def _loss_ref(loss, z, y):
    return 0.5 * (z - y) ** 2 if loss == "ridge" else np.logaddexp(0, -y * z)


def _dloss_ref(loss, z, y):
    return z - y if loss == "ridge" else -y / (1 + np.exp(y * z))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss", ["ridge", "logistic"])
def test_local_functions_match_numpy_reference(loss, sparse):
    prob, _, _ = _make(loss, sparse)
    rng = np.random.default_rng(1)
    w = rng.standard_normal(prob.n_features)
    N = prob.n_samples_total
    reg = prob.alpha / prob.n_nodes
    total_v, total_g = 0.0, np.zeros_like(w)
    for i, (Xi, yi) in enumerate(prob.parts):
        Xd = Xi.toarray() if sp.issparse(Xi) else Xi
        z = Xd @ w
        v_ref = _loss_ref(loss, z, yi).sum() / N + 0.5 * reg * w @ w
        g_ref = Xd.T @ _dloss_ref(loss, z, yi) / N + reg * w
        assert prob.local_value(i, w) == pytest.approx(v_ref, rel=1e-12)
        np.testing.assert_allclose(prob.local_grad(i, w), g_ref, rtol=1e-12, atol=1e-15)
        # the mini-batch estimate over each local row once is the full local gradient
        idx = np.arange(prob.n_samples[i])
        np.testing.assert_allclose(prob.local_grad_batch(i, w, idx), g_ref, rtol=1e-12)
        total_v += v_ref
        total_g += g_ref
    assert prob.value(w) == pytest.approx(total_v, rel=1e-12)
    np.testing.assert_allclose(prob.grad(w), total_g, rtol=1e-11, atol=1e-14)
    W = rng.standard_normal((prob.n_nodes, prob.n_features))
    G = prob.local_grads(W)
    for i in range(prob.n_nodes):
        np.testing.assert_allclose(G[i], prob.local_grad(i, W[i]), rtol=1e-13)


@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss", ["ridge", "logistic"])
def test_value_and_grad_is_value_and_grad_to_the_bit(loss, sparse, centred):
    X, y = _data(sparse=sparse)
    if loss == "logistic":
        y = np.sign(y)
    center = np.linspace(-1, 1, X.shape[1]) if centred else None
    prob = getattr(DecentralizedProblem, loss)(partition_data(X, y, 4, random_state=0), 0.05,
                                               center=center)
    w = np.random.default_rng(3).standard_normal(prob.n_features)
    w0 = w.copy()
    f, g = prob.value_and_grad(w)
    assert f == prob.value(w)
    np.testing.assert_array_equal(g, prob.grad(w))
    Xd = (X.toarray() if sparse else X) - (0 if center is None else center)
    z = Xd @ w
    y_pm = y if loss == "ridge" else np.where(y > 0, 1.0, -1.0)
    assert f == pytest.approx(_loss_ref(loss, z, y_pm).mean() + 0.5 * 0.05 * w @ w, rel=1e-12)
    out = np.empty(prob.n_features)
    assert prob.value_and_grad(w, out=out)[1] is out
    np.testing.assert_array_equal(out, g)
    np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("out", [np.empty(4), np.empty(6), np.empty(5, np.float32),
                                 np.empty(10)[::2], [0.0] * 5])
@pytest.mark.parametrize("method", ["grad", "value_and_grad", "local_grad"])
def test_gradients_refuse_a_wrong_out(method, out):
    prob, _, _ = _make("ridge")
    args = (0,) if method == "local_grad" else ()
    with pytest.raises(ValueError, match="out must be a writable contiguous float64 array"):
        getattr(prob, method)(*args, np.zeros(prob.n_features), out=out)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss", ["ridge", "logistic"])
@pytest.mark.parametrize("k", [0, 1, 7])
def test_grads_equal_grad_row_by_row(loss, sparse, k, monkeypatch):
    prob, _, _ = _make(loss, sparse)
    rng = np.random.default_rng(2)
    W = 3.0 * rng.standard_normal((k, prob.n_features))
    W0 = W.copy()
    ref = np.array([prob.grad(w) for w in W]).reshape(k, prob.n_features)
    np.testing.assert_allclose(prob.grads(W), ref, rtol=1e-11, atol=1e-13)
    if k == 1:  # one row: the fused pass of grad itself
        np.testing.assert_array_equal(prob.grads(W), ref)
    # chunked over the rows of W: one row per pass gives the same result
    monkeypatch.setattr("optsolve.problems.partitioned.GRADS_BLOCK_ENTRIES", 1)
    np.testing.assert_allclose(prob.grads(np.asfortranarray(W)), ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(W, W0)
    with pytest.raises(ValueError, match="W must have shape"):
        prob.grads(W[:, :-1] if k else np.zeros(prob.n_features))


def test_minibatch_estimate_is_unbiased():
    prob, _, _ = _make("logistic")
    rng = np.random.default_rng(2)
    w = rng.standard_normal(prob.n_features)
    m = prob.n_samples[0]
    # averaging over every single-row batch (with replacement, uniform) gives the expectation
    mean = np.mean([prob.local_grad_batch(0, w, [r]) for r in range(m)], axis=0)
    np.testing.assert_allclose(mean, prob.local_grad(0, w), rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_ridge_solution_matches_scikit_learn(sparse):
    prob, X, y = _make("ridge", sparse, alpha=0.05)
    # F = (1/(2N))||Xw - y||^2 + (a/2)||w||^2  <=>  sklearn Ridge(alpha = a N)
    ref = Ridge(alpha=0.05 * X.shape[0], fit_intercept=False, solver="cholesky").fit(X, y)
    # the parts are a permutation of the rows: the objective is the same
    np.testing.assert_allclose(prob.solution(), ref.coef_, rtol=1e-9, atol=1e-12)
    assert np.linalg.norm(prob.grad(prob.solution())) < 1e-12


@pytest.mark.parametrize("sparse", [False, True])
def test_logistic_solution_matches_scikit_learn(sparse):
    prob, X, y = _make("logistic", sparse, alpha=0.05)
    ref = LogisticRegression(C=1 / (0.05 * X.shape[0]), fit_intercept=False, tol=1e-12,
                             max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(prob.solution(), ref.coef_.ravel(), rtol=1e-6, atol=1e-8)
    assert list(prob.classes_) == ["no", "yes"]
    assert prob.value_star <= prob.value(ref.coef_.ravel()) + 1e-14


@pytest.mark.parametrize("loss", ["ridge", "logistic"])
def test_smoothness_constants_bound_the_local_hessians(loss):
    prob, _, _ = _make(loss)
    for i, (Xi, _) in enumerate(prob.parts):
        top = np.linalg.eigvalsh(Xi.T @ Xi)[-1] / prob.n_samples_total
        c = 1.0 if loss == "ridge" else 0.25
        assert prob.L_local[i] == pytest.approx(c * top + prob.alpha / prob.n_nodes)
    assert prob.L == prob.L_local.max() and prob.mu == pytest.approx(prob.alpha / prob.n_nodes)


@pytest.mark.parametrize("how", ["iid", "sorted", "dirichlet"])
@pytest.mark.parametrize("sparse", [False, True])
def test_partition_covers_every_row_once_and_copies(how, sparse):
    X, y = _data(sparse=sparse)
    y = np.round(y).astype(int) if how == "dirichlet" else y
    X_before = X.copy()
    parts = partition_data(X, y, 7, how=how, random_state=3)
    again = partition_data(X, y, 7, how=how, random_state=3)
    assert len(parts) == 7 and all(len(yi) > 0 for _, yi in parts)
    assert sum(len(yi) for _, yi in parts) == len(y)
    stacked = sp.vstack([Xi for Xi, _ in parts]).toarray() if sparse else \
        np.vstack([Xi for Xi, _ in parts])
    full = X.toarray() if sparse else X
    # the same multiset of rows
    key = lambda A: np.sort(A.round(12).view([("", A.dtype)] * A.shape[1]).ravel())  # noqa: E731
    assert np.array_equal(key(stacked), key(full))
    for (_, ya), (_, yb) in zip(parts, again, strict=True):
        assert np.array_equal(ya, yb)
    if not sparse:  # parts are copies: writing into one leaves the user's X intact
        parts[0][0][...] = 0.0
        np.testing.assert_array_equal(X, X_before)
    if how == "sorted":
        assert all(parts[k][1].max() <= parts[k + 1][1].min() for k in range(6))


def test_dirichlet_small_concentration_is_heterogeneous():
    X, y = _data(n=2000)
    labels = (y > 0).astype(int)
    parts = partition_data(X, labels, 10, how="dirichlet", concentration=0.05, random_state=0)
    fractions = np.array([yi.mean() for _, yi in parts])
    assert fractions.std() > 0.3  # nodes see mostly one class


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"n_nodes": 500}, ValueError, "exceeds the number of samples"),
        ({"n_nodes": 0}, ValueError, "n_nodes must be > 0"),
        ({"n_nodes": 2.5}, TypeError, "n_nodes must be an integer"),
        ({"n_nodes": 3, "how": "random"}, ValueError, "how must be one of"),
        ({"n_nodes": 3, "how": "dirichlet", "concentration": 0}, ValueError, "concentration"),
    ],
)
def test_partition_bad_arguments(kwargs, err, match):
    X, y = _data()
    with pytest.raises(err, match=match):
        partition_data(X, y, **kwargs)


def test_partition_bad_data():
    X, y = _data()
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains non-finite"):
        partition_data(Xn, y, 3)
    with pytest.raises(ValueError, match="y has 119 entries but X has 120 rows"):
        partition_data(X, y[:-1], 3)


def test_problem_bad_input():
    X, y = _data()
    parts = partition_data(X, y, 3, random_state=0)
    with pytest.raises(ValueError, match=r"parts\[1\] X has no samples"):
        DecentralizedProblem.ridge([parts[0], (X[:0], y[:0])], 1.0)
    with pytest.raises(ValueError, match=r"parts\[1\] has 4 features but parts\[0\] has 5"):
        DecentralizedProblem.ridge([parts[0], (X[:5, :4], y[:5])], 1.0)
    bad = [(parts[0][0].copy(), parts[0][1].copy()), parts[1]]
    bad[0][1][0] = np.inf
    with pytest.raises(ValueError, match=r"parts\[0\] y contains non-finite"):
        DecentralizedProblem.ridge(bad, 1.0)
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        DecentralizedProblem.ridge(parts, -1.0)
    with pytest.raises(ValueError, match="exactly two distinct labels"):
        DecentralizedProblem.logistic([(X, np.arange(120) % 3)], 1.0)
    with pytest.raises(TypeError, match="parts must be a list"):
        DecentralizedProblem.ridge("abc", 1.0)
    with pytest.raises(ValueError, match="parts is empty"):
        DecentralizedProblem.ridge([], 1.0)
    prob = DecentralizedProblem.ridge(parts, 1.0)
    with pytest.raises(ValueError, match="node index"):
        prob.local_grad(3, np.zeros(5))
    with pytest.raises(ValueError, match=r"w must have shape \(5,\)"):
        prob.local_grad(0, np.zeros(4))
    with pytest.raises(ValueError, match="idx must lie in"):
        prob.local_grad_batch(0, np.zeros(5), [10**6])
