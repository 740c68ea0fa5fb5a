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
