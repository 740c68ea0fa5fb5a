"""Message passing (leaves -> root elimination) against dense and sparse direct solves."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from optsolve.bcd.forest import solve_forest


def random_forest_matrix(n, rng, n_trees=1, extra_edges=0):
    """SPD matrix on a random forest with ``n_trees`` trees (plus ``extra_edges`` chords).

    Off-diagonal weights have both signs; the diagonal dominates, so the matrix is SPD.
    """
    parent = np.array([rng.integers(0, i) if i > 0 else -1 for i in range(n)])
    keep = np.ones(n, dtype=bool)
    keep[0] = False
    if n_trees > 1:  # cutting n_trees - 1 edges of a tree leaves a forest of n_trees trees
        keep[rng.choice(np.arange(1, n), size=n_trees - 1, replace=False)] = False
    rows, cols = np.flatnonzero(keep), parent[keep]
    if extra_edges:
        rows = np.concatenate([rows, rng.integers(0, n, extra_edges)])
        cols = np.concatenate([cols, rng.integers(0, n, extra_edges)])
        ok = rows != cols
        rows, cols = rows[ok], cols[ok]
    W = sp.coo_matrix((rng.standard_normal(rows.size), (rows, cols)), shape=(n, n)).tocsr()
    W = W + W.T
    diag = np.asarray(abs(W).sum(axis=1)).ravel() + rng.uniform(0.1, 1.0, n)
    return (W + sp.diags(diag)).tocsr()


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1000])
@pytest.mark.parametrize("n_trees", [1, 3])
@pytest.mark.parametrize("k", [None, 3])
def test_solve_forest_matches_numpy_solve(n, n_trees, k):
    rng = np.random.default_rng(n + 10 * n_trees)
    A = random_forest_matrix(n, rng, n_trees=min(n_trees, n))
    b = rng.standard_normal(n if k is None else (n, k))
    x = solve_forest(A, b)
    assert x.shape == b.shape
    np.testing.assert_allclose(x, np.linalg.solve(A.toarray(), b), rtol=1e-10, atol=1e-12)


def test_solve_forest_thousands_of_nodes_matches_spsolve():
    rng = np.random.default_rng(5)
    A = random_forest_matrix(5000, rng, n_trees=4)
    b = rng.standard_normal((5000, 2))
    np.testing.assert_allclose(solve_forest(A, b), spsolve(A.tocsc(), b), rtol=1e-9, atol=1e-12)


def test_solve_forest_on_a_block_of_a_graph_with_cycles():
    rng = np.random.default_rng(1)
    A = random_forest_matrix(60, rng, extra_edges=40)  # cycles outside the block
    tree = random_forest_matrix(20, np.random.default_rng(2))
    nodes = rng.choice(60, 20, replace=False)
    # make the block's induced graph exactly the 20-node tree
    A = sp.lil_matrix(A)
    A[np.ix_(nodes, nodes)] = tree.toarray()
    A = sp.csr_matrix(A)
    A = A + sp.diags(np.asarray(abs(A).sum(axis=1)).ravel())  # keep it SPD
    b = rng.standard_normal(20)
    expected = np.linalg.solve(A.toarray()[np.ix_(nodes, nodes)], b)
    np.testing.assert_allclose(solve_forest(A, b, nodes=nodes), expected, rtol=1e-10)


def test_dense_input_and_inputs_not_modified():
    rng = np.random.default_rng(3)
    A = random_forest_matrix(30, rng).toarray()
    b = rng.standard_normal(30)
    A0, b0 = A.copy(), b.copy()
    np.testing.assert_allclose(solve_forest(A, b), np.linalg.solve(A, b), rtol=1e-10)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(b, b0)


def test_solve_forest_rejects_cycles_and_indefinite_matrices():
    triangle = np.ones((3, 3)) + 3 * np.eye(3)
    with pytest.raises(ValueError, match="not a forest"):
        solve_forest(triangle, np.ones(3))
    indefinite_path = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        solve_forest(indefinite_path, np.ones(2))
    with pytest.raises(ValueError, match="b must have shape"):
        solve_forest(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="symmetric"):
        solve_forest(np.array([[2.0, 1.0], [0.0, 2.0]]), np.ones(2))
    with pytest.raises(ValueError, match="b contains non-finite"):
        solve_forest(np.eye(2), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="nodes"):
        solve_forest(np.eye(3), np.ones(2), nodes=[0, 5])


def test_public_api_works_without_jit():
    """The kernels are plain enough to run as Python under NUMBA_DISABLE_JIT=1."""
    code = (
        "import numpy as np\n"
        "from sklearn.datasets import make_moons\n"
        "from optsolve.bcd.forest import label_propagation_lattice, minimize_forest_bcd\n"
        "from optsolve.bcd import BCDLabelPropagation\n"
        "A, b, _ = label_propagation_lattice((6, 6), n_labeled=4, random_state=0)\n"
        "for sel in ['greedy-tree', 'random-tree', 'tree-partition', 'red-black']:\n"
        "    r = minimize_forest_bcd(A, b, selection=sel, tol=1e-8, random_state=0)\n"
        "    assert r.success and np.allclose(A @ r.x, b, atol=1e-6), sel\n"
        "X, y = make_moons(40, noise=0.05, random_state=0)\n"
        "yp = np.full_like(y, -1); yp[:6] = y[:6]\n"
        "m = BCDLabelPropagation(n_neighbors=5).fit(X, yp)\n"
        "assert m.predict(X).shape == (40,)\n"
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
