"""The samplers: alpha = 0 is the base chain step for step, the empirical measure converges
to mu, and the simulated covariance of the visit frequencies matches V_X(alpha)."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.graphs import make_graph
from optsolve.randomwalk import asymptotic_covariance, base_chain, random_walk, srrw_walk
from optsolve.randomwalk.chains import WALKS


@pytest.mark.parametrize("base", ["mh", "srw"])
@pytest.mark.parametrize("kind", ["community", "star"])  # star: a hub row is bisected
def test_alpha_zero_reproduces_base_chain(base, kind):
    g = make_graph(kind, 40, random_state=0)
    v0, p0 = srrw_walk(g, 0.0, 5000, base, random_state=7)
    v1, p1 = random_walk(g, 5000, base, random_state=7)
    np.testing.assert_array_equal(p0, p1)
    np.testing.assert_array_equal(v0, v1)
    # and alpha > 0 is a different walk on the same stream
    assert not np.array_equal(srrw_walk(g, 1.0, 5000, base, random_state=7)[1], p0)


def test_outputs_and_seed(small_graph):
    v, p = srrw_walk(small_graph, 3.0, 1000, random_state=1)
    assert v.sum() == 1000 and p.shape == (1001,)
    np.testing.assert_array_equal(v, np.bincount(p[1:], minlength=8))
    A = small_graph.toarray()
    moved = p[1:] != p[:-1]
    assert np.all(A[p[:-1][moved], p[1:][moved]] > 0)  # moves follow edges
    np.testing.assert_array_equal(p, srrw_walk(small_graph, 3.0, 1000, random_state=1)[1])
    v2, none = srrw_walk(small_graph, 3.0, 1000, random_state=1, return_path=False)
    assert none is None
    np.testing.assert_array_equal(v, v2)
    assert srrw_walk(small_graph, 3.0, 10, random_state=1, start=5)[1][0] == 5


def test_chunked_stream_is_the_stream(small_graph, monkeypatch):
    """Drawing the uniforms in chunks gives the walk of the stream drawn one by one."""
    import optsolve.randomwalk.walks as walks

    _, ref = srrw_walk(small_graph, 2.0, 3000, random_state=3)
    monkeypatch.setattr(walks, "CHUNK_STEPS", 1)
    np.testing.assert_array_equal(srrw_walk(small_graph, 2.0, 3000, random_state=3)[1], ref)
    monkeypatch.setattr(walks, "CHUNK_STEPS", 777)
    np.testing.assert_array_equal(srrw_walk(small_graph, 2.0, 3000, random_state=3)[1], ref)


@pytest.mark.parametrize("base", ["mh", "srw"])
def test_empirical_measure_converges_to_target(base):
    g = make_graph("power_law", 60, random_state=1)
    mu = base_chain(g, base).mu
    n = 400_000
    v, _ = srrw_walk(g, 10.0, n, base, random_state=0, return_path=False)
    err_srrw = np.abs(v / n - mu).max()
    v0, _ = random_walk(g, n, base, random_state=0, return_path=False)
    err_base = np.abs(v0 / n - mu).max()
    assert err_srrw < 0.1 * mu.min()
    assert err_srrw < err_base / 2


@pytest.mark.parametrize("graph", [
    make_graph("power_law", 40, random_state=5), nx.path_graph(2), nx.star_graph(5),
    nx.complete_graph(5), nx.cycle_graph(7), nx.barbell_graph(4, 2)],
    ids=["power_law", "edge", "star", "complete", "cycle", "barbell"])
@pytest.mark.parametrize("walk", ["mh", "srw", "nbrw"])
def test_sampler_loops_follow_the_moves(graph, walk, monkeypatch):
    """The samplers' loop (which reads rows through ``hops``) picks the nodes of the per-step
    moves (the ones token SGD uses, which read them through ``indptr``) for the same uniforms,
    across the chunks the stream is drawn in."""
    from optsolve.randomwalk import _kernels as K
    from optsolve.randomwalk import walks

    monkeypatch.setattr(walks, "CHUNK_STEPS", 97)
    n_steps = 1000
    _, path = random_walk(graph, n_steps, walk, random_state=0, start=1)
    ch = base_chain(graph, "mh" if walk == "mh" else "srw")
    U = np.random.default_rng(0).random(n_steps)
    lq, buf = np.zeros(ch.n_nodes), np.empty(ch.n_nodes + 1)
    cur, prev = 1, -1
    for t, u in enumerate(U):
        nxt = K.move(WALKS[walk], cur, prev, u, ch.indptr, ch.indices, ch.p, ch.cum, lq, 0.0,
                     buf)
        assert nxt == path[t + 1], t
        prev, cur = cur, nxt


@pytest.mark.parametrize("walk", ["mh", "srw", "nbrw"])
def test_wide_hops_walk_the_same_path(walk, monkeypatch):
    """Chains past 2^31 slots hold their hops in int64: the walk is the same."""
    from optsolve.randomwalk import chains

    g = make_graph("power_law", 50, random_state=4)
    base = "mh" if walk == "mh" else "srw"
    _, ref = random_walk(base_chain(g, base), 2000, walk, random_state=3)
    monkeypatch.setattr(chains, "INT32_SLOTS", 0)
    wide = base_chain(g, base)
    assert wide.hops.dtype == np.int64
    _, path = random_walk(wide, 2000, walk, random_state=3)
    np.testing.assert_array_equal(path, ref)


@pytest.mark.parametrize("base", ["mh", "srw"])
def test_chain_hops_point_at_the_rows_of_their_nodes(base):
    """Each slot's hop holds the row of its node, and its first 8 bytes are ``cum`` (a view)."""
    from optsolve.randomwalk import _kernels as K

    ch = base_chain(make_graph("power_law", 60, random_state=3), base)
    j = ch.indices
    np.testing.assert_array_equal(ch.hops[:, K.HOP_START], ch.indptr[j])
    np.testing.assert_array_equal(ch.hops[:, K.HOP_LEN], ch.indptr[j + 1] - ch.indptr[j])
    rows = np.repeat(np.arange(ch.n_nodes), np.diff(ch.indptr))
    ref = np.array([ch.p[ch.indptr[r]:k + 1].sum() for k, r in enumerate(rows)])
    np.testing.assert_allclose(ch.cum, ref, rtol=1e-14)
    assert np.shares_memory(ch.cum, ch.hops)
    back = ch.hops[:, K.HOP_BACK]
    edge = back >= 0
    np.testing.assert_array_equal(edge, rows != j)
    np.testing.assert_array_equal(j[(ch.indptr[j] + back)[edge]], rows[edge])


def test_baseline_walks():
    g = make_graph("power_law", 30, random_state=2)
    deg = np.diff(g.indptr)
    n = 300_000
    v, p = random_walk(g, n, "nbrw", random_state=0)
    # non-backtracking: X_{k+1} == X_{k-1} only from a leaf
    back = p[2:] == p[:-2]
    assert np.all(deg[p[1:-1][back]] == 1)
    np.testing.assert_allclose(v / n, deg / deg.sum(), atol=0.01)
    v, _ = random_walk(g, n, "iid", random_state=0, return_path=False)
    np.testing.assert_allclose(v / n, 1 / 30, atol=0.003)
    v, _ = random_walk(g, n, "srw", random_state=0, return_path=False)
    np.testing.assert_allclose(v / n, deg / deg.sum(), atol=0.01)


def test_covariance_closed_form_matches_fundamental_matrix(small_graph):
    """V_X(0) = D Z + Z^T D - D - mu mu^T, Z = (I - P + 1 mu^T)^-1 (Kemeny–Snell)."""
    for base in ("mh", "srw"):
        ch = base_chain(small_graph, base)
        P, mu, n = ch.to_dense(), ch.mu, ch.n_nodes
        Z = np.linalg.inv(np.eye(n) - P + np.outer(np.ones(n), mu))
        D = np.diag(mu)
        ref = D @ Z + Z.T @ D - D - np.outer(mu, mu)
        np.testing.assert_allclose(asymptotic_covariance(ch, 0.0, base), ref, atol=1e-12)
    V5 = asymptotic_covariance(small_graph, 5.0)
    np.testing.assert_allclose(V5.sum(axis=1), 0, atol=1e-12)
    assert np.linalg.eigvalsh(V5).min() > -1e-12
    assert np.trace(V5) < np.trace(asymptotic_covariance(small_graph, 0.0)) / 5


# Monte-Carlo check of n Cov(visits / n) -> V_X(alpha). With S seeds, the sample variance of
# a statistic has relative standard error sqrt(2 / (S - 1)) (Gaussian limit): 0.10 for
# S = 200. The tolerance is 4 standard errors plus 10 % for the finite-n bias.
SEEDS = 200
STEPS = 20_000
TOL = 4 * np.sqrt(2 / (SEEDS - 1)) + 0.10


@pytest.mark.parametrize("base", ["mh", "srw"])
@pytest.mark.parametrize("alpha", [0.0, 3.0])
def test_simulated_covariance_matches_closed_form(small_graph, base, alpha):
    ch = base_chain(small_graph, base)
    V = asymptotic_covariance(ch, alpha, base)
    freqs = np.array([srrw_walk(ch, alpha, STEPS, base, random_state=s, return_path=False)[0]
                      for s in range(SEEDS)]) / STEPS
    C = STEPS * np.cov(freqs.T)
    rng = np.random.default_rng(0)
    tests = np.vstack([np.eye(8)[[0, 3, 7]], rng.standard_normal((3, 8))])  # nodes + random f
    for f in tests:
        ratio = (f @ C @ f) / (f @ V @ f)
        assert abs(ratio - 1) < TOL, (f, ratio)
    assert abs(np.trace(C) / np.trace(V) - 1) < TOL


def test_covariance_falls_like_one_over_alpha(small_graph):
    tr = [np.trace(asymptotic_covariance(small_graph, a)) for a in (10.0, 20.0, 40.0)]
    assert 1.8 < tr[0] / tr[1] < 2.05 and 1.8 < tr[1] / tr[2] < 2.05


def test_graph_formats_agree(small_graph):
    ref = srrw_walk(small_graph, 2.0, 500, random_state=0)[1]
    for g in (small_graph.toarray(), sp.csr_array(small_graph), nx.from_scipy_sparse_array(
            small_graph)):
        np.testing.assert_array_equal(srrw_walk(g, 2.0, 500, random_state=0)[1], ref)


def test_bad_input(small_graph):
    with pytest.raises(ValueError, match="alpha"):
        srrw_walk(small_graph, -1.0, 10)
    with pytest.raises(ValueError, match="alpha"):
        srrw_walk(small_graph, np.nan, 10)
    with pytest.raises(ValueError, match="alpha"):
        asymptotic_covariance(small_graph, -0.5)
    two = sp.block_diag([small_graph, small_graph]).tocsr()
    with pytest.raises(ValueError, match="disconnected"):
        srrw_walk(two, 1.0, 10)
    with pytest.raises(ValueError, match="directed"):
        srrw_walk(nx.DiGraph([(0, 1), (1, 2), (2, 0)]), 1.0, 10)
    D = small_graph.toarray()
    D[0, np.flatnonzero(D[0])[0]] = 0
    with pytest.raises(ValueError, match="symmetric"):
        srrw_walk(D, 1.0, 10)
    D = small_graph.toarray()
    D[D > 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        srrw_walk(D, 1.0, 10)
    with pytest.raises(ValueError, match="base"):
        srrw_walk(small_graph, 1.0, 10, base="nbrw")
    with pytest.raises(ValueError, match="n_steps"):
        srrw_walk(small_graph, 1.0, 0)
    with pytest.raises(ValueError, match="start"):
        srrw_walk(small_graph, 1.0, 10, start=8)
    with pytest.raises(ValueError, match="x0"):
        srrw_walk(small_graph, 1.0, 10, x0=np.r_[1.0, np.zeros(7)])
    with pytest.raises(ValueError, match="walk"):
        random_walk(small_graph, 10, "srrw")
    with pytest.raises(TypeError, match="graph"):
        srrw_walk("cycle", 1.0, 10)
