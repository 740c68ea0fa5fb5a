"""The runner's statuses, isolated solves with a time limit, resumable CSV, grouped profiles."""

import csv
import math
import os
from types import SimpleNamespace

import numpy as np
import pytest

from optsolve.bench import run_suite
from optsolve.bench.profile import data_profile_costs, solver_groups
from optsolve.bench.runner import BenchRecord, _cpu_seconds, format_table

LSQ = ["least_squares/dense_2000x100"]


def test_isolated_solves_end_solved_and_overruns_end_as_timeout(tmp_path):
    records = run_suite("quick", out_dir=tmp_path, problems=LSQ, solvers=["lstsq"],
                        isolate=True, time_limit=120, plot=False)
    assert records and all(r.status == "solved" and r.reached for r in records)
    assert all(r.time_s > 0 and r.metric_value <= r.tol for r in records)
    # a worker cannot even start in 1 ms: every solve ends as a timeout, none crashes the run
    late = run_suite("quick", out_dir=tmp_path / "late", problems=LSQ, solvers=["numpy"],
                     isolate=True, time_limit=0.001, plot=False)
    assert [r.status for r in late] == ["timeout"] and "time limit" in late[0].reason
    assert math.isnan(late[0].time_s) and not late[0].reached


def test_time_limit_needs_isolation(tmp_path):
    with pytest.raises(ValueError, match="isolate"):
        run_suite("quick", out_dir=tmp_path, problems=LSQ, time_limit=5, isolate=False)


def test_resume_keeps_rows_and_runs_only_missing_pairs(tmp_path):
    first = run_suite("quick", out_dir=tmp_path, problems=LSQ, solvers=["lstsq"], plot=False)
    path = tmp_path / "quick.csv"
    rows = list(csv.DictReader(open(path)))
    kept = rows[0]
    with open(path, "w", newline="") as fh:  # as if the run had stopped after one row
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerow(kept)
    again = run_suite("quick", out_dir=tmp_path, problems=LSQ, solvers=["lstsq"], plot=False,
                      resume=True)
    assert len(again) == len(first)
    resumed = next(r for r in again if r.solver == kept["solver"])
    assert resumed.time_s == float(kept["time_s"])  # not re-run
    assert len(list(csv.DictReader(open(path)))) == len(first)


def _rec(problem, solver, t, reached=True, kind="k", evals=10, n=4, status=None):
    return SimpleNamespace(problem=problem, solver=solver, time_s=t, reached=reached, kind=kind,
                           evals=evals, n_vars=n, tol=1e-6,
                           status=status or ("solved" if reached else "failed"))


def test_profiles_group_solvers_that_attempt_the_same_problems():
    recs = [_rec("a/1", "s1", 1.0), _rec("a/1", "s2", 2.0), _rec("a/2", "s1", 1.0),
            _rec("a/2", "s2", 1.0, reached=False),
            _rec("b/1", "t1", 1.0, kind="other"), _rec("b/1", "t2", 3.0, kind="other")]
    groups = solver_groups(recs)
    assert [label for label, _ in groups] == ["k", "other"]
    assert {r.solver for r in groups[0][1]} == {"s1", "s2"}
    solvers, costs = data_profile_costs(groups[0][1])
    assert solvers == ["s1", "s2"]
    np.testing.assert_allclose(costs, [[2.0, 2.0], [2.0, np.inf]])  # evals / (n + 1)
    assert data_profile_costs([_rec("a/1", "s1", 1.0, evals=-1)]) is None


def test_a_solver_of_two_sections_joins_the_peers_of_each():
    # like optsolve.bcd on Lasso and L1-logistic, sklearn.cd on Lasso, liblinear on L1-logistic
    recs = [_rec("lasso/1", "bcd", 1.0, kind="lasso"), _rec("lasso/1", "cd", 2.0, kind="lasso"),
            _rec("l1/1", "bcd", 1.0, kind="l1"), _rec("l1/1", "liblinear", 0.5, kind="l1")]
    groups = {label: {r.solver for r in rows} for label, rows in solver_groups(recs)}
    assert groups == {"lasso": {"bcd", "cd"}, "l1": {"bcd", "liblinear"}}


def test_profile_png_has_a_panel_per_group(tmp_path):
    from optsolve.bench.profile import performance_profile

    recs = [_rec("a/1", f"s{i}", 1.0 + i) for i in range(12)] + [_rec("b/1", "t", 1.0, "o")]
    path = performance_profile(recs, tmp_path / "p.png", title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_prints_long_names_whole_and_every_status():
    long_problem, long_solver = "p/" + "x" * 60, "solver-with-a-long-name[" + "y" * 30 + "]"
    rec = BenchRecord(suite="s", problem=long_problem, solver=long_solver, is_peer=False,
                      time_s=math.nan, metric="kkt_with_a_long_name", metric_value=math.nan,
                      tol=1e-6, reached=False, objective=math.nan, n_iter=-1, peer="",
                      ratio_vs_peer=math.nan, backend="numpy", blas_threads=1, versions="",
                      status="timeout", reason="over the 5 s time limit")
    text = format_table([rec])
    assert long_problem in text and long_solver in text and "kkt_with_a_long_name" in text
    assert "timeout: over the 5 s time limit" in text and "1 timeout" in text


def _worker_running(code):
    import subprocess
    import sys

    from optsolve.bench.runner import _Worker

    worker = _Worker.__new__(_Worker)
    worker.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
    worker.log, worker.buffer = open(os.devnull, "rb"), b""
    return worker


@pytest.mark.skipif(_cpu_seconds(os.getpid()) is None, reason="no per-process CPU time here")
@pytest.mark.parametrize("code, limits, answered", [
    # waiting costs no CPU: the answer after 0.5 s of sleep comes through a 0.2 s CPU limit
    ("import time; time.sleep(0.5); print('DONE ok', flush=True)", (30.0, 0.2), True),
    # spinning uses the CPU limit up long before the wall-clock backstop
    ("while True: pass", (30.0, 0.2), False),
    # a blocked process is stopped by the wall-clock backstop
    ("import time; time.sleep(60)", (0.5, 30.0), False),
])
def test_the_time_limit_counts_cpu_seconds_with_a_wall_clock_backstop(code, limits, answered):
    worker = _worker_running(code)
    wall, cpu = limits
    try:
        line = worker._read_line(b"DONE ", wall, (_cpu_seconds(worker.proc.pid), cpu))
    finally:
        worker.close()
    assert (line == b"ok") if answered else (line is None)
    if not answered:
        assert worker.proc.returncode is not None  # killed, not left running
        stopped_by_cpu = worker.cpu_used >= cpu
        assert stopped_by_cpu == (wall > cpu)
        assert ("CPU time)" in worker.overrun(cpu)) == stopped_by_cpu
        assert ("wall-clock backstop" in worker.overrun(cpu)) != stopped_by_cpu
