"""minimize_forest_bcd against scipy's sparse direct solver; progress, results, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve
from sklearn.exceptions import ConvergenceWarning

from optsolve.bcd.forest import label_propagation_lattice, lattice_graph, minimize_forest_bcd

SELECTIONS = ["greedy-tree", "random-tree", "tree-partition", "red-black"]


def random_graph_spd(n, avg_degree, rng):
    m = n * avg_degree // 2
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    ok = rows != cols
    W = sp.coo_matrix((rng.uniform(0.5, 2.0, ok.sum()), (rows[ok], cols[ok])), shape=(n, n))
    W = (W + W.T).tocsr()
    return (sp.diags(np.asarray(W.sum(axis=1)).ravel() + rng.uniform(0.05, 0.5, n)) - W).tocsr()


def objective(A, b, x):
    return float(0.5 * np.sum(x * (A @ x)) - np.sum(b * x))


LATTICE = label_propagation_lattice((30, 30), n_labeled=40, random_state=0)
RNG = np.random.default_rng(0)
RANDOM = random_graph_spd(400, 6, RNG)


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("n_rhs", [None, 3])
def test_lattice_label_propagation_matches_spsolve(selection, n_rhs):
    A, b, _ = LATTICE
    if n_rhs is not None:
        b = np.column_stack([b, 1 - b, 2 * b])[:, :n_rhs]
    res = minimize_forest_bcd(A, b, selection=selection, tol=1e-10, random_state=0)
    expected = spsolve(A.tocsc(), b)
    assert res.success and res.status == 0
    assert res.x.shape == np.shape(b)
    np.testing.assert_allclose(res.x, expected, rtol=1e-7, atol=1e-8)
    assert res.fun == pytest.approx(objective(A, b, expected), rel=1e-10)
    assert res.grad_norm <= 1e-10 * np.linalg.norm(b) * (1 + 1e-9)
    assert res.n_block_updates == res.nit > 0


@pytest.mark.parametrize("selection", SELECTIONS)
def test_random_graph_matches_spsolve(selection):
    b = RNG.standard_normal((400, 2))
    res = minimize_forest_bcd(RANDOM, b, selection=selection, tol=1e-9, random_state=0)
    assert res.success
    np.testing.assert_allclose(res.x, spsolve(RANDOM.tocsc(), b), rtol=1e-6, atol=1e-8)


def test_lattice_shape_gives_the_two_tree_partition():
    W = lattice_graph((20, 20))
    A = sp.diags(np.asarray(W.sum(axis=1)).ravel() + 0.01) - W
    b = np.random.default_rng(2).standard_normal(400)
    res = minimize_forest_bcd(A, b, selection="tree-partition", lattice_shape=(20, 20),
                              tol=1e-12)
    assert res.success and res.n_blocks == 2
    np.testing.assert_allclose(res.x, spsolve(A.tocsc(), b), rtol=1e-6, atol=1e-8)


def test_dense_input_x0_and_inputs_untouched():
    A = RANDOM[:60][:, :60].toarray() + 10 * np.eye(60)
    b = RNG.standard_normal(60)
    x0 = RNG.standard_normal(60)
    A_copy, b_copy, x0_copy = A.copy(), b.copy(), x0.copy()
    res = minimize_forest_bcd(A, b, x0=x0, tol=1e-10)
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), rtol=1e-8)
    np.testing.assert_array_equal(A, A_copy)
    np.testing.assert_array_equal(b, b_copy)
    np.testing.assert_array_equal(x0, x0_copy)
    start = minimize_forest_bcd(A, b, x0=res.x, tol=1e-6)
    assert start.nit == 0 and start.success  # already optimal


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("selection", SELECTIONS)
def test_each_block_update_decreases_f_by_the_exact_block_amount(selection):
    """Exact block minimisation: f(x+) = f(x) - 1/2 g_B' A_BB^{-1} g_B (the guaranteed progress)."""
    A, b, _ = LATTICE
    A = sp.csr_matrix(A)
    trace = [(np.zeros_like(b), 0.0)]

    def callback(intermediate_result):
        x_prev, f_prev = trace[-1]
        block = intermediate_result.block
        g = A @ x_prev - b
        A_bb = A[block][:, block].toarray()
        expected_drop = 0.5 * g[block] @ np.linalg.solve(A_bb, g[block])
        f_new = objective(A, b, intermediate_result.x)
        assert intermediate_result.fun == pytest.approx(f_new, rel=1e-9, abs=1e-12)
        assert f_prev - f_new == pytest.approx(expected_drop, rel=1e-8, abs=1e-12)
        trace.append((intermediate_result.x, f_new))

    minimize_forest_bcd(A, b, selection=selection, max_iter=8, tol=1e-12, callback=callback,
                        random_state=0, max_block_size=200)
    assert len(trace) == 9


def test_history_callback_stop_and_convergence_warning():
    A, b, _ = LATTICE
    res = minimize_forest_bcd(A, b, record_history=True, tol=1e-8)
    hist = res.history
    assert set(hist) == {"iteration", "objective", "grad_norm", "time"}
    assert hist["iteration"][-1] == res.nit and hist["iteration"][0] == 0
    assert np.all(np.diff(hist["objective"]) <= 1e-12)  # monotone: exact block minimisation

    def stop_at_three(intermediate_result):
        if intermediate_result.nit == 3:
            raise StopIteration

    res = minimize_forest_bcd(A, b, callback=stop_at_three)
    assert res.status == 99 and not res.success and res.nit == 3
    with pytest.warns(ConvergenceWarning, match="maximum number of iterations"):
        res = minimize_forest_bcd(A, b, selection="red-black", max_iter=5)
    assert not res.success and res.status == 1 and res.nit == 5


def test_bad_input_raises_naming_the_argument():
    A, b, _ = LATTICE
    with pytest.raises(ValueError, match="A must be square"):
        minimize_forest_bcd(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="A must be symmetric"):
        minimize_forest_bcd(np.array([[2.0, 1.0], [0.0, 2.0]]), np.ones(2))
    with pytest.raises(ValueError, match="A must be positive definite"):
        minimize_forest_bcd(np.array([[1.0, 0.0], [0.0, -1.0]]), np.ones(2))
    with pytest.raises(ValueError, match="A must be positive definite"):
        minimize_forest_bcd(np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones(2))
    with pytest.raises(ValueError, match="A contains non-finite"):
        minimize_forest_bcd(np.array([[1.0, np.nan], [np.nan, 1.0]]), np.ones(2))
    with pytest.raises(ValueError, match="b must have shape"):
        minimize_forest_bcd(A, np.ones(3))
    with pytest.raises(ValueError, match="b contains non-finite"):
        minimize_forest_bcd(A, np.full(A.shape[0], np.inf))
    with pytest.raises(ValueError, match="x0 must have the shape of b"):
        minimize_forest_bcd(A, b, x0=np.zeros((A.shape[0], 2)))
    with pytest.raises(ValueError, match="selection must be one of"):
        minimize_forest_bcd(A, b, selection="cyclic")
    with pytest.raises(ValueError, match="score must be one of"):
        minimize_forest_bcd(A, b, score="gsq")
    with pytest.raises(ValueError, match="max_block_size"):
        minimize_forest_bcd(A, b, max_block_size=0)
    with pytest.raises(ValueError, match="tol"):
        minimize_forest_bcd(A, b, tol=-1.0)


@pytest.mark.parametrize("selection", ["red-black", "greedy-tree"])
def test_stops_soon_after_the_exact_gradient_reaches_tol(selection):
    """The incremental ||g||^2 must not drift above the true one (cancellation) and delay the
    stop: compare with the exact gradient norm after every update."""
    A, b, _ = LATTICE
    threshold = 1e-10 * np.linalg.norm(b)
    first_below = []

    def callback(intermediate_result):
        if not first_below and np.linalg.norm(A @ intermediate_result.x - b) <= threshold:
            first_below.append(intermediate_result.nit)

    res = minimize_forest_bcd(A, b, selection=selection, tol=1e-10, callback=callback)
    assert res.success and first_below
    assert res.nit <= first_below[0] + max(3, first_below[0] // 100)
