"""The shared MPI launcher: a ring of processes, and every way a run can fail ends in bounded
time with an error naming the rank (a killed process, a silent process, the hard timeout)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from optsolve import _mpi

OK, WHY = _mpi.mpi_available()
pytestmark = pytest.mark.skipif(not OK, reason=WHY)


def _workers_alive() -> list[int]:
    """PIDs of ring self-test workers still running (none may survive a run)."""
    alive = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            state = (proc / "stat").read_bytes().split(b") ", 1)[1][:1]
        except (OSError, IndexError):
            continue
        if b"-m optsolve._mpi.selftest --payload" in cmd and state != b"Z":
            alive.append(int(proc.name))
    return alive


@pytest.mark.parametrize("n_procs", [1, 2, 4])
def test_ring_passes_the_counter_through_every_rank(n_procs):
    out = _mpi.selftest(n_procs, n_rounds=7)
    assert out["token"] == 7 * n_procs
    assert [r["rank"] for r in out["ranks"]] == list(range(n_procs))
    assert all(r["n_messages"] == 7 for r in out["ranks"])
    assert out["pid"] != os.getpid()


@pytest.mark.parametrize("victim", [0, 2])
def test_killed_rank_ends_the_run_with_an_error_naming_it(victim):
    t0 = time.monotonic()
    with pytest.raises(_mpi.MPIRunError, match=r"a peer process died: MPI ranks? .*\d") as err:
        _mpi.selftest(4, n_rounds=100_000, liveness_timeout=5.0, timeout=60.0,
                      env={_mpi.TEST_KILL_ENV: f"{victim}:20"})
    # the launcher sees the victim's exit first; on a loaded machine the process manager's
    # cleanup may land in the same instant, and the message then lists the candidates
    assert victim in err.value.dead_ranks
    assert time.monotonic() - t0 < 30.0
    assert not _workers_alive()


def test_silent_rank_is_caught_by_the_liveness_timeout():
    t0 = time.monotonic()
    with pytest.raises(_mpi.MPIRunError, match=r"rank 1 .*stopped answering") as err:
        _mpi.selftest(3, n_rounds=100_000, liveness_timeout=1.5, timeout=60.0,
                      env={_mpi.TEST_HANG_ENV: "1:10"})
    assert err.value.dead_ranks == [1]
    assert time.monotonic() - t0 < 30.0
    assert not _workers_alive()


def test_hard_timeout_kills_every_process():
    # liveness far beyond the launcher's timeout: only the hard limit can end this run
    t0 = time.monotonic()
    with pytest.raises(_mpi.MPIRunError, match="did not finish within timeout"):
        _mpi.selftest(2, n_rounds=100_000, liveness_timeout=600.0, timeout=3.0,
                      env={_mpi.TEST_HANG_ENV: "1:10"})
    assert time.monotonic() - t0 < 15.0
    assert not _workers_alive()


def test_worker_exception_is_reported_with_its_rank(monkeypatch):
    # a payload of the wrong size makes every worker raise before any message is sent
    common = {"n_procs": 3, "n_rounds": 1}
    with pytest.raises(_mpi.MPIRunError, match=r"rank \d failed: RuntimeError: the payload is"):
        _mpi.launch("optsolve._mpi.selftest", common, [{}, {}], timeout=30.0)


def test_missing_mpiexec_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(_mpi.MPIEXEC_ENV, "/nonexistent/mpiexec")
    ok, why = _mpi.mpi_available()
    assert not ok and "mpiexec" in why
    with pytest.raises(RuntimeError, match="cannot run with MPI"):
        _mpi.selftest(2)
