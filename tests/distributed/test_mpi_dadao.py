"""DADAO on MPI processes reaches the optimum the simulator reaches (the centralized closed
form), with one node per process or several; a killed process ends the run with an error."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from optsolve import _mpi
from optsolve.decentralized import DecentralizedProblem, TimeVaryingGraph, partition_data, solve
from optsolve.decentralized.mpi import run_mpi
from optsolve.graphs import make_graph

OK, WHY = _mpi.mpi_available()
pytestmark = pytest.mark.skipif(not OK, reason=WHY)


def _problem(n_nodes):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((160, 4))
    y = X @ np.array([1.0, -1.0, 0.5, 2.0]) + 0.1 * rng.standard_normal(160)
    return DecentralizedProblem.ridge(partition_data(X, y, n_nodes, random_state=0), 0.5)


@pytest.mark.parametrize(("n_nodes", "n_procs", "kind"), [(4, 4, "cycle"), (6, 2, "path")])
def test_dadao_over_mpi_reaches_the_simulators_optimum(n_nodes, n_procs, kind):
    prob = _problem(n_nodes)
    graph = make_graph(kind, n_nodes)
    w_star = prob.solution()  # closed-form centralized ridge solution
    sim = solve(prob, graph, tol=1e-6, random_state=0)
    res = run_mpi(prob, graph, n_procs=n_procs, tol=1e-6, max_time=30.0, random_state=0)
    assert res.success and res.status == 0, res.message
    assert res.x.shape == (n_nodes, 4)
    scale = np.linalg.norm(w_star)
    assert np.abs(res.x - w_star).max() < 1e-4 * scale
    assert np.abs(res.x - sim.x).max() < 1e-4 * scale
    assert res.grad_rel < 1e-5 and res.consensus_error < 1e-4 * scale
    # counters: every exchange between processes is two messages, within one process none
    owners = res.owners
    assert np.bincount(owners).tolist() == [n_nodes // n_procs] * n_procs
    assert 0 < res.n_messages <= 2 * res.n_communications
    assert res.nit >= res.n_gradients + res.n_communications - n_procs
    assert res.time > 0 and res.sim_time > 0
    h = res.history
    assert h["grad_rel"][-1] <= 1e-6 < h["grad_rel"][0]
    assert np.all(np.diff(h["time"]) > 0)


def test_a_killed_process_ends_the_dadao_run_with_an_error(monkeypatch):
    monkeypatch.setenv(_mpi.TEST_KILL_ENV, "2:40")
    prob = _problem(4)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="a peer process died") as err:
        run_mpi(prob, make_graph("cycle", 4), n_procs=4, tol=1e-12, max_time=60.0,
                random_state=0, liveness_timeout=5.0)
    assert 2 in err.value.dead_ranks
    assert time.monotonic() - t0 < 40.0


def test_bad_input_is_refused_before_launching():
    prob = _problem(4)
    with pytest.raises(ValueError, match="solver"):
        run_mpi(prob, make_graph("cycle", 4), solver="dgd")
    with pytest.raises(ValueError, match="fixed graph"):
        run_mpi(prob, TimeVaryingGraph([make_graph("cycle", 4), make_graph("star", 4)],
                                       [0.0, 1.0]))
    with pytest.raises(ValueError, match="n_procs"):
        run_mpi(prob, make_graph("cycle", 4), n_procs=5)
    with pytest.raises(ValueError, match="time_scale"):
        run_mpi(prob, make_graph("cycle", 4), time_scale=-1.0)
    with pytest.raises(ValueError, match="connected"):
        A = np.zeros((4, 4))
        A[0, 1] = A[1, 0] = A[2, 3] = A[3, 2] = 1
        run_mpi(prob, A)


@pytest.mark.parametrize("n_nodes", [2, 3, 40])
def test_n_procs_none_is_one_process_per_node_up_to_the_cpu_count(n_nodes):
    # zero targets: the gradient vanishes at the start, so the run returns before mpiexec
    X = np.random.default_rng(0).standard_normal((2 * n_nodes, 3))
    prob = DecentralizedProblem.ridge(
        partition_data(X, np.zeros(2 * n_nodes), n_nodes, random_state=0), 0.5)
    graph = make_graph("path", n_nodes)
    res = run_mpi(prob, graph, n_procs=None)
    assert res.success and res.n_procs == min(n_nodes, os.cpu_count() or 1)
    counts = np.bincount(res.owners)
    assert counts.size == res.n_procs and counts.max() - counts.min() <= 1
