"""Kernels against plain numpy references: row sums, the moves of every walk (exact
transition probabilities recovered from a fine grid of uniforms), the empirical-measure update
and one token-SGD step."""

import numpy as np
import pytest

from optsolve.graphs import make_graph
from optsolve.randomwalk import _kernels as K
from optsolve.randomwalk import base_chain

GRID = 20001  # uniforms per row: a probability is recovered to within 2 / GRID


def srrw_matrix(P, mu, x, alpha):
    """Dense numpy reference of K[x](i, j) ∝ P(i, j) (x_j / mu_j)^-alpha."""
    W = P * (x / mu)[None, :] ** (-alpha)
    return W / W.sum(axis=1, keepdims=True)


def empirical_rows(move):
    """Transition matrix of a move ``move(i, u) -> j`` over a midpoint grid of uniforms."""
    u = (np.arange(GRID) + 0.5) / GRID
    return np.stack([np.bincount([move(i, t) for t in u], minlength=n) / GRID
                     for i in range(n)])


n = 9


@pytest.fixture(scope="module")
def graph():
    return make_graph("power_law", n, random_state=3)


def test_row_cumsum_matches_numpy(graph):
    ch = base_chain(graph, "mh")
    for i in range(n):
        sl = slice(ch.indptr[i], ch.indptr[i + 1])
        np.testing.assert_allclose(ch.cum[sl], np.cumsum(ch.p[sl]), rtol=0, atol=1e-15)


@pytest.mark.parametrize("base", ["mh", "srw"])
def test_base_chain_is_reversible_stochastic(graph, base):
    ch = base_chain(graph, base)
    P = ch.to_dense()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-14)
    F = ch.mu[:, None] * P
    np.testing.assert_allclose(F, F.T, atol=1e-15)
    A = graph.toarray() > 0
    assert np.all(P[~A & ~np.eye(n, dtype=bool)] == 0)


@pytest.mark.parametrize("base", ["mh", "srw"])
@pytest.mark.parametrize("alpha", [0.0, 1.0, 7.5, 60.0])
def test_srrw_move_matches_dense_kernel(graph, base, alpha):
    ch = base_chain(graph, base)
    rng = np.random.default_rng(1)
    x = rng.dirichlet(np.ones(n))
    # any common factor of x leaves K[x] unchanged: feed the kernel a shifted log ratio
    lq = np.log(x / ch.mu) + 123.0
    buf = np.empty(n + 1)
    Khat = empirical_rows(
        lambda i, u: K.srrw_move(i, u, ch.indptr, ch.indices, ch.p, lq, alpha, buf))
    np.testing.assert_allclose(Khat, srrw_matrix(ch.to_dense(), ch.mu, x, alpha), atol=2 / GRID)


@pytest.mark.parametrize("base", ["mh", "srw"])
def test_srrw_kernel_is_reversible_for_fixed_x(graph, base):
    """Detailed balance pi[x]_i K[x](i, j) = pi[x]_j K[x](j, i) with pi[x]_i ∝ sum_j
    mu_i P(i, j) (x_i / mu_i)^-alpha (x_j / mu_j)^-alpha (Doshi et al. 2023, eq. (4)), for the
    kernel the sampler draws from."""
    ch = base_chain(graph, base)
    alpha = 4.0
    x = np.random.default_rng(2).dirichlet(np.ones(n))
    lq = np.log(x / ch.mu)
    buf = np.empty(n + 1)
    Khat = empirical_rows(
        lambda i, u: K.srrw_move(i, u, ch.indptr, ch.indices, ch.p, lq, alpha, buf))
    r = (x / ch.mu) ** (-alpha)
    pi = ch.mu * r * (ch.to_dense() @ r)
    pi /= pi.sum()
    F = pi[:, None] * Khat
    np.testing.assert_allclose(F, F.T, atol=2 / GRID)
    np.testing.assert_allclose(pi @ Khat, pi, atol=4 / GRID)
    # pi[mu] = mu: at the target the SRRW is the base chain
    np.testing.assert_allclose(srrw_matrix(ch.to_dense(), ch.mu, ch.mu, alpha), ch.to_dense(),
                               atol=1e-14)


def test_srrw_move_alpha_zero_is_base_move_bitwise(graph):
    ch = base_chain(graph, "mh")
    lq = np.random.default_rng(0).standard_normal(n)
    buf = np.empty(n + 1)
    for i in range(n):
        for u in np.random.default_rng(i).random(2000):
            assert K.srrw_move(i, u, ch.indptr, ch.indices, ch.p, lq, 0.0, buf) == \
                K.base_move(i, u, ch.indptr, ch.indices, ch.cum)


def test_base_move_matches_P(graph):
    ch = base_chain(graph, "mh")
    Phat = empirical_rows(lambda i, u: K.base_move(i, u, ch.indptr, ch.indices, ch.cum))
    np.testing.assert_allclose(Phat, ch.to_dense(), atol=2 / GRID)


@pytest.mark.parametrize("kind", ["power_law", "star", "community"])
def test_base_move_is_the_inverse_cdf(kind):
    """Searching from slot floor(u D) only changes where the search starts: base_move returns
    the first slot with t < cum for every u, including u on the levels k / D."""
    g = make_graph(kind, 60, random_state=1)
    for base in ("mh", "srw"):
        ch = base_chain(g, base)
        for i in range(60):
            start, stop = ch.indptr[i], ch.indptr[i + 1]
            d = stop - start
            u = np.r_[np.random.default_rng(i).random(300), np.arange(d) / d,
                      np.nextafter(np.arange(1, d + 1) / d, 0)]
            for uu in u:
                t = uu * ch.cum[stop - 1]
                hit = np.flatnonzero(t < ch.cum[start:stop])
                expected = ch.indices[start + hit[0]] if hit.size else ch.indices[
                    start + np.flatnonzero(np.diff(np.r_[0.0, ch.cum[start:stop]]) > 0)[-1]]
                assert K.base_move(i, uu, ch.indptr, ch.indices, ch.cum) == expected


def test_long_rows_are_bisected_like_scanned():
    """A hub longer than LINEAR_SCAN_MAX: bisection picks the node the linear scan would."""
    star = make_graph("star", 3 * K.LINEAR_SCAN_MAX)
    ch = base_chain(star, "mh")
    start, stop = ch.indptr[0], ch.indptr[1]
    for u in np.random.default_rng(0).random(500):
        t = u * ch.cum[stop - 1]
        expected = start + int(np.argmax(t < ch.cum[start:stop]))
        assert K._pick(ch.cum, start, stop, t) == expected


def test_nbrw_move_reference(graph):
    ch = base_chain(graph, "srw")
    A = graph.toarray() > 0
    u = (np.arange(2000) + 0.5) / 2000
    for i in range(n):
        nbrs = np.flatnonzero(A[i])
        for prev in [-1, *nbrs.tolist()]:
            allowed = nbrs if prev < 0 or nbrs.size == 1 else nbrs[nbrs != prev]
            got = [K.nbrw_move(i, prev, t, ch.indptr, ch.indices) for t in u]
            counts = np.array([got.count(j) for j in allowed])
            assert sum(counts) == u.size  # never a node outside `allowed`
            np.testing.assert_allclose(counts / u.size, 1 / allowed.size, atol=1e-3)


def test_measure_update_matches_numpy():
    rng = np.random.default_rng(0)
    mu = rng.dirichlet(np.ones(6))
    x = rng.dirichlet(np.ones(6))
    lq, log_s, a = np.log(x / mu), 0.0, 0.7
    for step, node in enumerate(rng.integers(0, 6, 300)):
        gamma = (step + 2.0) ** -a
        x = x + gamma * (np.eye(6)[node] - x)
        log_s = K.measure_update(lq, np.log(mu), node, step, a, log_s)
    np.testing.assert_allclose(mu * np.exp(lq + log_s), x, rtol=1e-12)


@pytest.mark.parametrize("batch", [0, 3])
def test_token_step_matches_numpy(ridge_problem, batch):
    """theta_1 = theta_0 - beta_1 / mu_X1 * grad f_X1(theta_0) (local or mini-batch)."""
    prob = ridge_problem
    g = make_graph("cycle", prob.n_nodes)
    ch = base_chain(g, "mh")
    pk = prob.packed
    theta = np.array([0.3, -0.1, 0.2])
    theta0, avg = theta.copy(), theta.copy()
    u = np.array([0.61, 0.05, 0.5, 0.97][: 1 + batch])
    lq, visits = np.zeros(prob.n_nodes), np.zeros(prob.n_nodes, dtype=np.int64)
    inv_mu = np.full(prob.n_nodes, float(prob.n_nodes))
    step_size, b, cur = 0.05, 0.9, 2
    nxt, prev, _ = K.token_run(
        K.WALK_SRRW, cur, -1, 0, u[None, :], ch.indptr, ch.indices, ch.p, ch.cum, lq,
        ch.log_mu, 5.0, 0.8, 0.0, visits, inv_mu, step_size, b, theta, avg, 0, pk.loss_code,
        pk.is_sparse, pk.X, pk.indptr, pk.indices, pk.data, pk.y, pk.offsets, pk.inv_n_total,
        pk.reg, np.empty(4, np.int64), np.empty(3), np.empty(8))
    # from x_0 = mu the SRRW moves like P: the MH row of node 2 on a cycle
    row = ch.indices[ch.indptr[cur]:ch.indptr[cur + 1]]
    cum = ch.cum[ch.indptr[cur]:ch.indptr[cur + 1]]
    assert nxt == row[np.argmax(u[0] < cum)] and prev == cur
    if batch == 0:
        grad = prob.local_grad(nxt, theta0)
    else:
        m = prob.n_samples[nxt]
        grad = prob.local_grad_batch(nxt, theta0, np.minimum((u[1:] * m).astype(int), m - 1))
    expected = theta0 - step_size * 2.0 ** -b * prob.n_nodes * grad
    np.testing.assert_allclose(theta, expected, rtol=1e-13)
    np.testing.assert_allclose(avg, expected, rtol=1e-13)
    assert visits.sum() == 1 and visits[nxt] == 1
