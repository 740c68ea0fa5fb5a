"""DADAO's optimal edge rates (``rates='sdp'``) against closed forms and brute force.

The problem: least total rate ``Σ_e λ_e`` such that ``χ₁(λ)χ₂(λ) ≤ 1/2``. Scaling the rates by
``c`` divides both χ's by ``c``, so the optimum is also the minimum over rate *shapes* ``w`` of
``Σ_e w_e · sqrt(2 χ₁(w) χ₂(w))``, a scale-free function of ``len(w) − 1`` numbers that a
derivative-free search can minimize on small graphs (the brute-force reference).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

from optsolve.decentralized import DecentralizedProblem, partition_data, solve
from optsolve.graphs import chi1, chi2, edge_list, make_graph

pytest.importorskip("cvxpy")


def _problem(n):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10 * n, 3)), rng.standard_normal(10 * n)
    return DecentralizedProblem.ridge(partition_data(X, y, n, random_state=0), alpha=1.0)


def _rates(G, rates):
    """DADAO's admissible edge rates for ``rates`` (a run of a few events only)."""
    n = G.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the run stops at max_events on purpose
        return solve(_problem(n), G, rates=rates, max_events=5, random_state=0).rates


def _incidence(G):
    rows, cols = edge_list(G)
    n, m = G.shape[0], rows.size
    B = np.zeros((n, m))
    B[rows, np.arange(m)], B[cols, np.arange(m)] = 1.0, -1.0
    return B


def _total(B, w):
    """Total rate of the shape ``w`` once scaled to χ₁χ₂ = 1/2 (χ's from a dense
    eigen-decomposition and pseudo-inverse, independent of the library's)."""
    lam, U = np.linalg.eigh((B * w) @ B.T)
    pinv = (U[:, 1:] / lam[1:]) @ U[:, 1:].T
    c1 = 1.0 / lam[1]
    c2 = 0.5 * float(np.max(np.einsum("ie,ij,je->e", B, pinv, B)))
    return float(np.sum(w) * np.sqrt(2.0 * c1 * c2))


def _brute_force(G, starts=4, seed=0):
    B = _incidence(G)
    m = B.shape[1]
    rng = np.random.default_rng(seed)

    def f(logw):  # one weight fixed to 1: the objective is scale-free
        return _total(B, np.exp(np.r_[logw, 0.0]))

    best = np.inf
    for k in range(starts):
        x0 = np.zeros(m - 1) if k == 0 else rng.normal(0.0, 1.0, m - 1)
        res = minimize(f, x0, method="Nelder-Mead",
                       options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 6000,
                                "maxfev": 6000, "adaptive": True})
        best = min(best, res.fun)
    return best


def _from_edges(n, edges):
    r, c = np.array(edges).T
    A = sp.coo_matrix((np.ones(len(edges)), (r, c)), shape=(n, n))
    return sp.csr_matrix(A + A.T)


@pytest.mark.parametrize("kind,n", [("complete", 4), ("cycle", 6), ("star", 6)])
def test_edge_transitive_graphs_get_uniform_rates(kind, n):
    # the problem is invariant under the graph's automorphisms, which act transitively on the
    # edges: averaging an optimum over them gives an optimal uniform vector
    G = make_graph(kind, n)
    uni, opt = _rates(G, "uniform"), _rates(G, "sdp")
    np.testing.assert_allclose(opt.sum(), uni.sum(), rtol=1e-5)
    assert chi1(G, opt) * chi2(G, opt) == pytest.approx(0.5, rel=1e-9)


def _lollipop():
    # a triangle with a 2-edge tail: no symmetry maps the tail edges onto the triangle's
    return _from_edges(5, [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)])


@pytest.mark.parametrize("name,make", [
    ("path5", lambda: make_graph("path", 5)),
    ("lollipop5", _lollipop),
])
def test_sdp_rates_match_brute_force(name, make):
    G = make()
    opt = _rates(G, "sdp")
    assert chi1(G, opt) * chi2(G, opt) == pytest.approx(0.5, rel=1e-9)
    brute = _brute_force(G)
    # the SDP is the exact convex problem: nothing a local search finds beats it, and the
    # search (on a nonsmooth objective, so only nearly) finds its value
    assert opt.sum() <= brute * (1 + 1e-5)
    assert opt.sum() >= brute * (1 - 5e-3)


def test_path_uniform_is_optimal():
    # on a tree R_e = 1/λ_e; on the path the brute force and the SDP both return the uniform
    # rates' total (the Fiedler gain of heavier middle edges is paid by the light end edges'
    # resistance)
    G = make_graph("path", 6)
    np.testing.assert_allclose(_rates(G, "sdp").sum(), _rates(G, "uniform").sum(), rtol=1e-5)
    assert _brute_force(G, starts=3) == pytest.approx(_rates(G, "uniform").sum(), rel=1e-5)


@pytest.mark.parametrize("n", [6, 10])
def test_barbell_weights_the_bridge(n):
    G = make_graph("barbell", n)
    rows, cols = edge_list(G)
    a = (n + 1) // 2
    bridge = int(np.flatnonzero((rows == a - 1) & (cols == a))[0])
    opt, uni = _rates(G, "sdp"), _rates(G, "uniform")
    others = np.delete(opt, bridge)
    assert opt[bridge] > 1.5 * others.max()
    assert opt.sum() < 0.9 * uni.sum()


@pytest.mark.parametrize("kind,n,n_classes", [("barbell", 10, 3), ("barbell", 11, 5),
                                              ("barbell", 15, 5), ("grid", 16, 4), ("path", 6, 3)])
def test_symmetry_reduced_rates_equal_the_full_sdp(kind, n, n_classes):
    # the problem is invariant under the automorphisms: an optimum is constant on the edge
    # orbits, which colour refinement finds on these graphs; the reduced search over one rate
    # per class must reach the full SDP's total
    from optsolve.decentralized.rates import edge_classes, sdp_rates
    from optsolve.decentralized.topology import GraphSegment

    G = make_graph(kind, n, rows=4, cols=4) if kind == "grid" else make_graph(kind, n)
    rows, cols = edge_list(G)
    seg = GraphSegment(G, rows, cols)
    classes = edge_classes(G, rows, cols)
    assert classes.max() + 1 == n_classes
    full, reduced = sdp_rates(seg, symmetry=False), sdp_rates(seg, symmetry=True)
    assert chi1(G, reduced) * chi2(G, reduced) == pytest.approx(0.5, rel=1e-9)
    assert reduced.sum() == pytest.approx(full.sum(), rel=1e-5)
    for c in range(n_classes):  # constant on each class
        np.testing.assert_allclose(reduced[classes == c], reduced[classes == c][0], rtol=1e-12)


def test_edge_classes_of_the_odd_barbell_are_its_orbits():
    from optsolve.decentralized.rates import edge_classes

    G = make_graph("barbell", 9)  # K_5 on 0..4 and K_4 on 5..8, bridge (4, 5)
    rows, cols = edge_list(G)
    classes = edge_classes(G, rows, cols)
    bridge = (rows == 4) & (cols == 5)
    at_end = ~bridge & ((rows == 4) | (cols == 4) | (rows == 5) | (cols == 5))
    big = cols <= 4
    # the five orbits: K_5 inside (6 edges) and at its bridge end (4), K_4 inside (3) and at
    # its end (3), the bridge
    orbit = np.where(bridge, 4, np.where(big, 0, 2) + at_end)
    assert np.bincount(orbit).tolist() == [6, 4, 3, 3, 1]
    pairs = set(zip(classes.tolist(), orbit.tolist(), strict=True))
    assert len(pairs) == 5 == classes.max() + 1
