"""The public ``solve`` contract: bad input fails early with a clear error naming the argument,
the result carries the documented fields, and the input is never modified."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.decentralized import (
    METHODS,
    DecentralizedProblem,
    TimeVaryingGraph,
    partition_data,
    solve,
)
from optsolve.graphs import make_graph


@pytest.fixture(scope="module")
def prob():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
    return DecentralizedProblem.ridge(partition_data(X, y, 5, random_state=0), alpha=1.0)


def test_result_fields(prob):
    G = make_graph("cycle", 5)
    res = solve(prob, G, random_state=0)
    for key in ("x", "x_mean", "fun", "grad_rel", "consensus_error", "n_gradients",
                "n_communications", "time", "history", "nit", "success", "status", "message"):
        assert key in res
    assert res.x.shape == (5, 3) and res.success and res.status == 0
    assert res.nit == res.n_gradients + res.n_communications
    assert res.consensus_error == pytest.approx(
        np.sqrt(np.mean(np.sum((res.x - res.x.mean(0)) ** 2, axis=1))))
    assert res.fun == pytest.approx(prob.value(res.x.mean(0)))


@pytest.mark.parametrize("graph", [
    nx.cycle_graph(5),
    make_graph("cycle", 5).toarray(),
    sp.csr_array(make_graph("cycle", 5)),
])
def test_graph_formats(prob, graph):
    assert solve(prob, graph, random_state=0, tol=1e-4).success


def test_disconnected_graph(prob):
    A = sp.block_diag([make_graph("cycle", 3), make_graph("path", 2)]).tocsr()
    with pytest.raises(ValueError, match="disconnected"):
        solve(prob, A)


def test_directed_graph(prob):
    with pytest.raises(ValueError, match="directed"):
        solve(prob, nx.DiGraph(nx.cycle_graph(5)))
    A = np.zeros((5, 5))
    A[np.arange(4), np.arange(1, 5)] = 1.0  # one-way edges
    with pytest.raises(ValueError, match="symmetric"):
        solve(prob, A)


def test_node_count_mismatch(prob):
    with pytest.raises(ValueError, match="6 nodes but the problem has 5"):
        solve(prob, make_graph("cycle", 6))


def test_dadao_needs_strong_convexity():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    p0 = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), alpha=0.0)
    with pytest.raises(ValueError, match="mu > 0"):
        solve(p0, make_graph("cycle", 4))


def test_nan_in_data():
    X = np.ones((20, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite|NaN"):
        DecentralizedProblem.ridge(partition_data(X, np.ones(20), 4), alpha=1.0)


def test_nan_in_x0(prob):
    with pytest.raises(ValueError, match="x0"):
        solve(prob, make_graph("cycle", 5), x0=np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="x0"):
        solve(prob, make_graph("cycle", 5), x0=np.zeros(4))


def test_unknown_solver_and_option(prob):
    with pytest.raises(ValueError, match="unknown solver 'admm'"):
        solve(prob, make_graph("cycle", 5), solver="admm")
    with pytest.raises(TypeError, match="unknown option"):
        solve(prob, make_graph("cycle", 5), step_size=0.1)
    with pytest.raises(TypeError, match="solver"):
        solve(prob, make_graph("cycle", 5), solver=3)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"tol": "1e-6"}, TypeError, "tol"),
    ({"tol": -1.0}, ValueError, "tol"),
    ({"tol": np.nan}, ValueError, "tol"),
    ({"max_time": "10"}, TypeError, "max_time"),
    ({"max_time": 0.0}, ValueError, "max_time"),
    ({"max_events": 2.5}, TypeError, "max_events"),
    ({"max_events": 0}, ValueError, "max_events"),
    ({"callback": 3}, TypeError, "callback"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"rates": "fast"}, ValueError, "rates"),
    ({"rates": np.ones(2)}, ValueError, "rates"),
    ({"rate_scale": -1.0}, ValueError, "rate_scale"),
])
def test_bad_arguments(prob, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        solve(prob, make_graph("cycle", 5), **kwargs)


def test_bad_problem_type():
    with pytest.raises(TypeError, match="DecentralizedProblem"):
        solve(np.zeros((5, 3)), make_graph("cycle", 5))


def test_time_varying_graph_validation():
    with pytest.raises(ValueError, match="start at 0"):
        TimeVaryingGraph([make_graph("cycle", 4), make_graph("star", 4)], [1.0, 2.0])
    with pytest.raises(ValueError, match="one start time per graph"):
        TimeVaryingGraph([make_graph("cycle", 4)], [0.0, 2.0])
    with pytest.raises(ValueError, match="nodes"):
        TimeVaryingGraph([make_graph("cycle", 4), make_graph("star", 5)], [0.0, 2.0])
    with pytest.raises(ValueError, match="period"):
        TimeVaryingGraph([make_graph("cycle", 4), make_graph("star", 4)], [0.0, 2.0], period=1.0)
    A = sp.block_diag([make_graph("cycle", 3), make_graph("path", 2)]).tocsr()
    with pytest.raises(ValueError, match="disconnected"):
        TimeVaryingGraph([make_graph("cycle", 5), A], [0.0, 2.0])
    g = TimeVaryingGraph([make_graph("cycle", 4), make_graph("star", 4)], [0.0, 2.0], period=5)
    assert [g.index_at(t) for t in (0.0, 1.9, 2.0, 4.99, 5.0, 7.5)] == [0, 0, 1, 1, 0, 1]


def test_input_not_modified(prob):
    x0 = np.ones(3)
    A = make_graph("cycle", 5)
    A0 = A.copy()
    packed_X = prob.packed.X.copy()
    solve(prob, A, x0=x0, random_state=0)
    np.testing.assert_array_equal(x0, np.ones(3))
    assert (A != A0).nnz == 0
    np.testing.assert_array_equal(prob.packed.X, packed_X)


def test_start_at_optimum(prob):
    # ∇F at the computed solution is ~1e-16, not 0: the relative measure's reference is floored
    # so that the run still converges instead of chasing 1e-22
    res = solve(prob, make_graph("cycle", 5), x0=prob.solution(), tol=1e-6, random_state=0)
    assert res.success
    np.testing.assert_allclose(res.x_mean, prob.solution(), atol=1e-9)


def test_methods_table_lists_the_paper_set():
    assert "dadao" in METHODS
    for name, method in METHODS.items():
        assert isinstance(name, str) and method.engine
