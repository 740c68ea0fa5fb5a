"""Token SGD over MPI processes gives the simulator's iterates bit for bit, and a lost agent
ends the run with an error naming it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from optsolve import _mpi
from optsolve.graphs import make_graph
from optsolve.randomwalk import DecentralizedProblem, partition_data, token_sgd
from optsolve.randomwalk.mpi import run_mpi

OK, WHY = _mpi.mpi_available()
pytestmark = pytest.mark.skipif(not OK, reason=WHY)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((160, 4))
    y = X @ np.array([1.0, -1.0, 0.5, 2.0]) + 0.1 * rng.standard_normal(160)
    return DecentralizedProblem.ridge(partition_data(X, y, 8, random_state=0), 0.05)


@pytest.mark.parametrize(
    ("n_procs", "options"),
    [
        (4, dict(walk="srrw", alpha=10.0)),  # two agents per process
        (3, dict(walk="nbrw", batch_size=2, averaging=True)),  # uneven blocks, mini-batches
    ],
)
def test_token_over_mpi_equals_the_simulator(problem, n_procs, options):
    graph = make_graph("erdos_renyi", 8, p=0.4, random_state=1)
    sim = token_sgd(problem, graph, n_steps=1500, random_state=7, **options)
    res = run_mpi(problem, graph, n_steps=1500, n_procs=n_procs, random_state=7, **options)
    assert res.success and res.nit == sim.nit == 1500
    np.testing.assert_array_equal(res.x, sim.x)
    np.testing.assert_array_equal(res.x_last, sim.x_last)
    np.testing.assert_array_equal(res.visits, sim.visits)
    np.testing.assert_array_equal(res.history["step"], sim.history["step"])
    np.testing.assert_array_equal(res.history["error"], sim.history["error"])
    if sim.measure is not None:
        np.testing.assert_array_equal(res.measure, sim.measure)
    # and it converges to the centralized closed-form optimum as the simulator does
    assert res.history["error"][-1] < 0.5 * res.history["error"][0]
    # the token crossed processes, and only between different owners
    assert 0 < res.n_messages < 1500
    assert res.n_procs == n_procs and np.bincount(res.owners).min() >= 8 // n_procs


def test_a_killed_agent_ends_the_token_run_with_an_error(problem, monkeypatch):
    monkeypatch.setenv(_mpi.TEST_KILL_ENV, "1:30")
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="a peer process died") as err:
        run_mpi(problem, make_graph("cycle", 8), n_steps=100_000, n_procs=4, random_state=0,
                liveness_timeout=5.0, timeout=60.0)
    assert 1 in err.value.dead_ranks
    assert time.monotonic() - t0 < 30.0


def test_bad_n_procs(problem):
    with pytest.raises(ValueError, match="n_procs"):
        run_mpi(problem, make_graph("cycle", 8), n_steps=10, n_procs=9)
    with pytest.raises(TypeError, match="n_procs"):
        run_mpi(problem, make_graph("cycle", 8), n_steps=10, n_procs=2.0)


def test_started_by_hand_with_mpiexec(tmp_path):
    """``mpiexec -n 2 python -m optsolve.randomwalk.mpi ...`` (no run_mpi): rank 0 builds the
    problem from the options and the run equals the simulator's on the same problem."""
    import argparse
    import os
    import subprocess
    import sys
    from pathlib import Path

    import optsolve

    out = tmp_path / "res.npz"
    argv = ["--nodes", "6", "--graph", "cycle", "--steps", "800", "--seed", "4", "--out",
            str(out)]
    root = str(Path(optsolve.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([_mpi.find_mpiexec(), "-n", "2", sys.executable, "-m",
                           "optsolve.randomwalk.mpi", *argv], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "token SGD (srrw) on 2 MPI processes, 6 agents" in proc.stdout
    parser = argparse.ArgumentParser()
    _mpi.add_problem_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    problem, graph = _mpi.problem_from_arguments(args, 2)
    sim = token_sgd(problem, graph, n_steps=800, random_state=4)
    saved = np.load(out)
    np.testing.assert_array_equal(saved["x"], sim.x)
    assert int(saved["nit"]) == 800 and int(saved["n_procs"]) == 2
