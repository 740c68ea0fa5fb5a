"""Graph construction and spectral quantities against closed forms and networkx-free counts."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.graphs import (
    check_graph,
    complete_graph,
    cycle_graph,
    erdos_renyi_graph,
    grid_graph,
    laplacian,
    make_graph,
    metropolis_weights,
    path_graph,
    random_geometric_graph,
    spectral_gap,
    star_graph,
)


@pytest.mark.parametrize(
    ("A", "n_edges"),
    [
        (path_graph(6), 5),
        (cycle_graph(6), 6),
        (complete_graph(6), 15),
        (star_graph(6), 5),
        (grid_graph(3, 4), 3 * 3 + 2 * 4),
        (grid_graph(4, 4, periodic=True), 32),
    ],
)
def test_edge_counts_and_symmetry(A, n_edges):
    assert A.nnz == 2 * n_edges
    assert (A != A.T).nnz == 0 and not A.diagonal().any()


@pytest.mark.parametrize("n", [3, 5, 10])
def test_cycle_spectrum_closed_form(n):
    # Laplacian eigenvalues of C_n: 2 - 2 cos(2 pi k / n)
    s = spectral_gap(cycle_graph(n))
    assert s["lambda_2"] == pytest.approx(2 - 2 * np.cos(2 * np.pi / n))
    lam_max = max(2 - 2 * np.cos(2 * np.pi * k / n) for k in range(n))
    assert s["lambda_max"] == pytest.approx(lam_max)


def test_complete_graph_spectrum():
    s = spectral_gap(complete_graph(7))
    assert s["lambda_2"] == pytest.approx(7) and s["chi"] == pytest.approx(1)


def test_large_graph_uses_lanczos_and_agrees():
    A = grid_graph(50, 50)  # 2500 nodes -> Lanczos path
    s = spectral_gap(A)
    # path P_m Laplacian lambda_2 = 2 - 2cos(pi/m); grid = Cartesian product
    assert s["lambda_2"] == pytest.approx(2 - 2 * np.cos(np.pi / 50), rel=1e-6)
    assert s["lambda_max"] == pytest.approx(2 * (2 - 2 * np.cos(49 * np.pi / 50)), rel=1e-6)


def test_metropolis_is_doubly_stochastic():
    A = erdos_renyi_graph(30, 0.2, random_state=0)
    W = metropolis_weights(A).toarray()
    np.testing.assert_allclose(W.sum(axis=0), 1)
    np.testing.assert_allclose(W, W.T)
    assert W.min() >= 0


def test_laplacian_rows_sum_to_zero():
    L = laplacian(random_geometric_graph(40, 0.3, random_state=1)[0])
    np.testing.assert_allclose(np.asarray(L.sum(axis=1)).ravel(), 0, atol=1e-12)


def test_disconnected_graph_is_a_clear_error():
    A = sp.block_diag([cycle_graph(4), path_graph(3)]).tocsr()
    msg = r"graph is disconnected: 2 connected components of sizes \[4, 3\]"
    with pytest.raises(ValueError, match=msg):
        check_graph(A)


@pytest.mark.parametrize(
    ("A", "match"),
    [
        (np.ones((2, 3)), "must be square"),
        (np.array([[0, 1], [0, 0]]), "not symmetric"),
        (np.array([[1, 1], [1, 0]]), "self-loops"),
        (np.array([[0, -1], [-1, 0]]), "negative weights"),
        (np.array([[0, np.nan], [np.nan, 0]]), "non-finite"),
    ],
)
def test_check_graph_messages(A, match):
    with pytest.raises(ValueError, match=match):
        check_graph(A)


def test_make_graph_dispatch_and_errors():
    assert make_graph("grid", 16).shape == (16, 16)
    assert make_graph("erdos_renyi", 10, p=1.0).nnz == 90
    with pytest.raises(ValueError, match="kind must be one of"):
        make_graph("hypercube", 8)
    with pytest.raises(ValueError, match="n must be >= 3"):
        cycle_graph(2)


# --- conversion, named kinds, effective resistances and DADAO's chi_1 / chi_2 ---------------

from optsolve.graphs import (  # noqa: E402
    GRAPH_KINDS,
    as_adjacency,
    barbell_graph,
    chi1,
    chi2,
    edge_list,
    effective_resistances,
)


def _closed_forms(kind, n):
    """(chi1, chi2) of unit-weight graphs: chi1 = 1 / lambda_2, chi2 = max R / 2."""
    if kind == "cycle":
        # lambda_2(C_n) = 2 - 2 cos(2 pi / n); neighbours: one edge parallel to a path of n-1
        return 1 / (2 - 2 * np.cos(2 * np.pi / n)), 0.5 * (n - 1) / n
    if kind == "path":
        return 1 / (2 - 2 * np.cos(np.pi / n)), 0.5  # a tree: R = 1 on every edge
    if kind == "complete":
        return 1 / n, 1 / n  # lambda_2(K_n) = n, R = 2 / n
    if kind == "star":
        return 1.0, 0.5  # lambda_2(S_n) = 1, a tree
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["cycle", "path", "complete", "star"])
@pytest.mark.parametrize("n", [5, 12])
def test_chi1_chi2_closed_forms(kind, n):
    A = make_graph(kind, n)
    c1, c2 = _closed_forms(kind, n)
    assert chi1(A) == pytest.approx(c1, rel=1e-10)
    assert chi2(A) == pytest.approx(c2, rel=1e-10)


def test_chi_scale_inversely_with_uniform_rates():
    A = cycle_graph(8)
    w = np.full(8, 2.5)
    assert chi1(A, w) == pytest.approx(chi1(A) / 2.5)
    assert chi2(A, w) == pytest.approx(chi2(A) / 2.5)


def test_effective_resistances_sparse_path_matches_dense(monkeypatch):
    import optsolve.graphs.resistance as res

    A = make_graph("random_geometric", 300, random_state=3)
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 2.0, edge_list(A)[0].size)
    dense = effective_resistances(A, w)
    monkeypatch.setattr(res, "DENSE_MAX_NODES", 10)
    monkeypatch.setattr(res, "SOLVE_BATCH", 37)
    np.testing.assert_allclose(effective_resistances(A, w), dense, rtol=1e-8)
    # Foster's theorem: sum over edges of w_ij R_ij = n - 1
    assert np.sum(w * dense) == pytest.approx(A.shape[0] - 1)


def test_networkx_and_dense_inputs_are_converted():
    nx = pytest.importorskip("networkx")
    G = nx.cycle_graph(6)
    A = as_adjacency(G)
    assert (A != cycle_graph(6)).nnz == 0
    assert chi1(G) == pytest.approx(chi1(cycle_graph(6)))
    assert chi1(cycle_graph(6).toarray()) == pytest.approx(chi1(cycle_graph(6)))
    with pytest.raises(ValueError, match="directed networkx graph"):
        check_graph(nx.DiGraph([(0, 1), (1, 2), (2, 0)]))


def test_directed_graph_is_refused_by_metropolis_weights():
    A = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float))
    with pytest.raises(ValueError, match="not symmetric"):
        metropolis_weights(A)


@pytest.mark.parametrize("bad", ["cycle", None, np.zeros(3)])
def test_bad_graph_types_are_clear_errors(bad):
    with pytest.raises((TypeError, ValueError), match="graph"):
        check_graph(bad)


@pytest.mark.parametrize("kind", sorted(GRAPH_KINDS))
def test_every_named_kind_is_connected_and_seeded(kind):
    n = 36
    A = make_graph(kind, n, random_state=7)
    B = make_graph(kind, n, random_state=7)
    assert A.shape == (n, n) and (A != B).nnz == 0
    check_graph(A)  # symmetric, loop-free, connected


def test_barbell_structure():
    A = barbell_graph(10)
    rows, cols = edge_list(A)
    assert rows.size == 2 * 10 + 1  # two K_5 (10 edges each) and the bridge
    # the bridge is a cut edge: its resistance is 1
    R = effective_resistances(A)
    bridge = np.flatnonzero((rows == 4) & (cols == 5))
    assert R[bridge] == pytest.approx(1.0)
    assert chi2(A) == pytest.approx(0.5)


def test_edge_list_is_sorted_and_unique():
    rows, cols = edge_list(make_graph("erdos_renyi", 40, random_state=0))
    assert np.all(rows < cols)
    keys = rows * 40 + cols
    assert np.all(np.diff(keys) > 0)
