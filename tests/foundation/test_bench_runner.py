"""The benchmark runner end to end on the built-in quick rows, the profile, the timing helper."""

import csv
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from optsolve.bench import compare_solvers, get_registry, run_suite, time_callable
from optsolve.bench.profile import profile_ratios


def test_registry_has_builtin_suites_and_unknown_is_clear():
    reg = get_registry()
    assert "quick" in reg.names()
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        reg["nope"]


def test_run_quick_least_squares_rows(tmp_path):
    records = run_suite("quick", out_dir=tmp_path, problems=["least_squares/dense_2000x100"])
    assert {r.solver for r in records} >= {"numpy.lstsq", "scipy.lsqr"}
    for r in records:
        assert r.reached and r.metric_value <= r.tol
        assert r.blas_threads == 1 and "numpy=" in r.versions
    peer = next(r for r in records if r.solver == "numpy.lstsq")
    assert math.isclose(peer.ratio_vs_peer, 1.0)
    objs = {round(r.objective, 6) for r in records}
    assert len(objs) == 1  # every contender reached the same optimum
    rows = list(csv.DictReader(open(tmp_path / "quick.csv")))
    assert len(rows) == len(records) and "ratio_vs_peer" in rows[0]
    png = (tmp_path / "quick_profile.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_lists_suites_and_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "optsolve", "bench", "--list"], capture_output=True, text=True,
        check=True,
    )
    assert "quick" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "optsolve", "bench", "--suite", "quick", "--problem",
         "least_squares/dense_2000x100", "--solver", "lstsq", "--out", str(tmp_path), "--no-plot"],
        capture_output=True, text=True, check=True,
    )
    assert "numpy.lstsq" in out.stdout and "peer" in out.stdout
    assert (tmp_path / "quick.csv").is_file()


def test_performance_profile_ratios():
    recs = [
        SimpleNamespace(problem="p1", solver="a", time_s=1.0, reached=True),
        SimpleNamespace(problem="p1", solver="b", time_s=2.0, reached=True),
        SimpleNamespace(problem="p2", solver="a", time_s=3.0, reached=False),
        SimpleNamespace(problem="p2", solver="b", time_s=1.5, reached=True),
    ]
    solvers, ratios = profile_ratios(recs)
    assert solvers == ["a", "b"]
    np.testing.assert_array_equal(ratios, [[1.0, 2.0], [np.inf, 1.0]])


def test_time_callable_and_compare():
    calls = []
    med, times, out = time_callable(lambda: calls.append(1) or len(calls), repeats=3, warmup=2)
    assert len(calls) == 5 and len(times) == 3 and out == 5 and med >= 0
    cmp = compare_solvers(lambda: 1.0, lambda: 1.0 + 1e-12, lambda v: abs(v - 1.0), tol=1e-9,
                          repeats=2)
    assert cmp.both_reached and cmp.ratio > 0 and "speed-up" in str(cmp)
    with pytest.raises(AssertionError, match="accuracy not reached"):
        compare_solvers(lambda: 1.0, lambda: 2.0, lambda v: abs(v - 1.0), tol=1e-9, repeats=1)


def test_cutest_status_explains_setup(monkeypatch):
    from optsolve.problems import cutest_status

    for var in ("ARCHDEFS", "SIFDECODE", "CUTEST", "MASTSIF", "MYARCH"):
        monkeypatch.delenv(var, raising=False)
    ok, why = cutest_status()
    assert not ok
    assert "pycutest" in why and ("MASTSIF" in why or "not installed" in why)


@pytest.mark.parametrize(("args", "argument"), [
    (["--suite", "nosuch"], "--suite"),
    (["--threads", "0"], "--threads"),
    (["--threads", "-2"], "--threads"),
    (["--threads", "two"], "--threads"),
    (["--out", "{file}/sub"], "--out"),
])
def test_cli_bad_arguments_are_one_line_errors(tmp_path, args, argument):
    # these used to end in a traceback (ValueError, NotADirectoryError) or run silently
    afile = tmp_path / "afile"
    afile.write_text("")
    args = [a.replace("{file}", str(afile)) for a in args]
    out = subprocess.run([sys.executable, "-m", "optsolve", "bench", "--no-plot", *args],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert f"error: argument {argument}" in out.stderr and "Traceback" not in out.stderr
