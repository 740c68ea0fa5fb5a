"""Block selection: every block the solver updates, and every fixed partition, is a forest."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.bcd.forest import (
    forest_partition,
    is_forest,
    label_propagation_lattice,
    lattice_graph,
    lattice_tree_partition,
    minimize_forest_bcd,
    red_black_partition,
)

SELECTIONS = ["greedy-tree", "random-tree", "tree-partition", "red-black"]


def reference_is_forest(A, nodes):
    """Union-find over the induced edges: a forest iff no edge joins two nodes of one tree."""
    A = sp.csr_matrix(A)
    nodes = [int(v) for v in nodes]
    inside = set(nodes)
    root = {v: v for v in nodes}

    def find(v):
        while root[v] != v:
            v = root[v]
        return v

    for v in nodes:
        for u in A.indices[A.indptr[v]:A.indptr[v + 1]]:
            u = int(u)
            if u <= v or u not in inside:
                continue
            ru, rv = find(u), find(v)
            if ru == rv:
                return False
            root[ru] = rv
    return True


def random_graph_spd(n, avg_degree, rng):
    """Laplacian of a random graph plus a positive diagonal: SPD, with many cycles."""
    m = n * avg_degree // 2
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    ok = rows != cols
    W = sp.coo_matrix((rng.uniform(0.5, 2.0, ok.sum()), (rows[ok], cols[ok])), shape=(n, n))
    W = (W + W.T).tocsr()
    return (sp.diags(np.asarray(W.sum(axis=1)).ravel() + rng.uniform(0.01, 0.1, n)) - W).tocsr()


def blocks_updated(A, b, selection, n_iter=15, **kwargs):
    blocks = []

    def callback(intermediate_result):
        blocks.append(intermediate_result.block)

    minimize_forest_bcd(A, b, selection=selection, max_iter=n_iter, tol=0.0, callback=callback,
                        random_state=0, **kwargs)
    return blocks


def problems():
    rng = np.random.default_rng(0)
    A_lat, b_lat, _ = label_propagation_lattice((12, 15), n_labeled=8, random_state=0)
    A_rand = random_graph_spd(150, 6, rng)
    return {"lattice": (A_lat, b_lat), "random_graph": (A_rand, rng.standard_normal((150, 2)))}


PROBLEMS = problems()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("max_block_size", [None, 20])
def test_every_updated_block_is_a_forest(selection, problem, max_block_size):
    A, b = PROBLEMS[problem]
    blocks = blocks_updated(A, b, selection, max_block_size=max_block_size)
    assert len(blocks) == 15
    for block in blocks:
        assert block.size >= 1
        assert np.unique(block).size == block.size
        assert reference_is_forest(A, block)
        if selection == "red-black":  # colour classes are independent sets
            assert sp.csr_matrix(A)[block][:, block].nnz == block.size
        if max_block_size is not None and selection in ("greedy-tree", "random-tree"):
            assert block.size <= max_block_size


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("max_block_size", [None, 10])
def test_greedy_tree_matches_sorted_union_find_reference(problem, max_block_size):
    """First greedy block = nodes by decreasing GSL score, kept when they add no cycle."""
    A, _ = PROBLEMS[problem]
    A = sp.csr_matrix(A)
    b = np.random.default_rng(1).uniform(0.5, 1.0, (A.shape[0], 2))  # continuous: no ties
    score = np.linalg.norm(b, axis=1) / np.sqrt(A.diagonal())  # at x0 = 0, g = -b
    limit = max_block_size or A.shape[0]
    expected = []
    for v in np.argsort(-score, kind="stable"):
        if len(expected) == limit:
            break
        if reference_is_forest(A, [*expected, v]):
            expected.append(int(v))
    block = blocks_updated(A, b, "greedy-tree", n_iter=1, max_block_size=max_block_size)[0]
    assert block.tolist() == expected


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("score", ["gsl", "gs"])
def test_single_coordinate_greedy_is_gauss_southwell(score):
    """max_block_size=1: each update is the coordinate of largest (scaled) gradient."""
    A, b = PROBLEMS["random_graph"]
    b = b[:, 0]
    A = sp.csr_matrix(A)
    scale = 1 / np.sqrt(A.diagonal()) if score == "gsl" else np.ones(A.shape[0])
    picked, expected = [], []

    def callback(intermediate_result):
        picked.append(int(intermediate_result.block[0]))

    x = np.zeros(A.shape[0])
    for _ in range(10):  # reference: exact coordinate minimisation by the GS(L) rule
        g = A @ x - b
        i = int(np.argmax(np.abs(g) * scale))
        expected.append(i)
        x[i] -= g[i] / A[i, i]
    res = minimize_forest_bcd(A, b, selection="greedy-tree", max_block_size=1, score=score,
                              max_iter=10, tol=0.0, callback=callback)
    assert picked == expected
    np.testing.assert_allclose(res.x, x, rtol=1e-12, atol=1e-14)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_random_tree_is_reproducible_and_seed_dependent():
    A, b = PROBLEMS["lattice"]
    first = blocks_updated(A, b, "random-tree", n_iter=3, max_block_size=30)
    again = blocks_updated(A, b, "random-tree", n_iter=3, max_block_size=30)
    assert all(np.array_equal(p, q) for p, q in zip(first, again, strict=True))
    other = []
    minimize_forest_bcd(A, b, selection="random-tree", max_iter=1, tol=0.0, random_state=1,
                        max_block_size=30,
                        callback=lambda intermediate_result: other.append(
                            intermediate_result.block))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (5, 1), (2, 2), (4, 7), (50, 50)])
def test_lattice_tree_partition_is_two_spanning_trees(shape):
    W = lattice_graph(shape)
    blocks = lattice_tree_partition(shape)
    n = shape[0] * shape[1]
    assert np.array_equal(np.sort(np.concatenate(blocks)), np.arange(n))
    assert len(blocks) == (1 if min(shape) == 1 else 2)
    for block in blocks:
        sub = W[block][:, block]
        n_comp = sp.csgraph.connected_components(sub, directed=False)[0]
        assert reference_is_forest(W, block)
        assert n_comp == 1  # each is a single tree: connected and acyclic


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forest_and_red_black_partitions_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    A = random_graph_spd(200, 8, rng)
    order = rng.permutation(200)
    for blocks in (forest_partition(A), forest_partition(A, order=order)):
        assert np.array_equal(np.sort(np.concatenate(blocks)), np.arange(200))
        assert all(reference_is_forest(A, blk) for blk in blocks)
        assert len(blocks) <= 8 // 2 + 6  # first fit stays near the degree bound
    colors = red_black_partition(A)
    assert np.array_equal(np.sort(np.concatenate(colors)), np.arange(200))
    for blk in colors:
        assert A[blk][:, blk].nnz == blk.size  # only the diagonal: independent


def test_red_black_on_a_lattice_uses_two_colours():
    W = lattice_graph((6, 9))
    red, black = red_black_partition(W)
    rows, cols = np.divmod(np.arange(54), 9)
    parity = (rows + cols) % 2
    assert len(set(parity[red])) == 1 and len(set(parity[black])) == 1
    assert red.size + black.size == 54


def test_is_forest_matches_reference():
    rng = np.random.default_rng(4)
    A = random_graph_spd(40, 4, rng)
    for size in (1, 3, 8, 15, 40):
        nodes = rng.choice(40, size, replace=False)
        assert is_forest(A, nodes) == reference_is_forest(A, nodes)


def test_invalid_partitions_are_rejected():
    W = lattice_graph((3, 3))
    A = sp.diags(np.full(9, 5.0)) - W
    with pytest.raises(ValueError, match="cycle"):
        minimize_forest_bcd(A, np.ones(9), selection="tree-partition",
                            partition=[np.arange(9)])
    with pytest.raises(ValueError, match="exactly once"):
        minimize_forest_bcd(A, np.ones(9), selection="tree-partition",
                            partition=[np.arange(4)])
    with pytest.raises(ValueError, match="independent"):
        minimize_forest_bcd(A, np.ones(9), selection="red-black",
                            partition=lattice_tree_partition((3, 3)))
    with pytest.raises(ValueError, match="lattice_shape"):
        minimize_forest_bcd(A, np.ones(9), selection="tree-partition", lattice_shape=(2, 2))
    with pytest.raises(ValueError, match="order"):
        forest_partition(A, order=[0, 1])
