"""Run a suite: every applicable (problem, solver) pair, timed, into a table, CSV and PNG."""

from __future__ import annotations

import csv
import logging
import math
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .registry import BenchProblem, Suite, get_registry
from .timing import blas_threads, time_callable

logger = logging.getLogger("optsolve.bench")

__all__ = ["BenchRecord", "format_table", "run_suite", "write_csv"]


@dataclass
class BenchRecord:
    """One row of the results table."""

    suite: str
    problem: str
    solver: str
    is_peer: bool
    time_s: float
    metric: str
    metric_value: float
    tol: float
    reached: bool
    objective: float
    n_iter: int
    peer: str
    ratio_vs_peer: float
    backend: str
    blas_threads: int
    versions: str
    error: str = ""


def _versions() -> str:
    import numba
    import numpy
    import scipy
    import sklearn

    import optsolve

    return (
        f"optsolve={optsolve.__version__};numpy={numpy.__version__};scipy={scipy.__version__};"
        f"sklearn={sklearn.__version__};numba={numba.__version__};python={platform.python_version()}"
    )


def _run_one(suite: Suite, problem: BenchProblem, solver, threads: int, versions: str):
    try:
        solve = solver.prepare(problem)
        with blas_threads(threads):
            t, _, outcome = time_callable(solve, repeats=suite.repeats, warmup=1, max_seconds=30)
        reached = bool(outcome.success and outcome.metric_value <= problem.tol)
        err = ""
    except Exception as exc:  # a failing contender is a row, not a crash of the whole run
        logger.warning("%s on %s failed: %s", solver.name, problem.name, exc)
        t, reached, err = math.nan, False, f"{type(exc).__name__}: {exc}"
        from .registry import SolveOutcome

        outcome = SolveOutcome(metric_value=math.nan, success=False)
    ver = versions if solver.version is None else f"{versions};{solver.name}={solver.version()}"
    return BenchRecord(
        suite=suite.name,
        problem=problem.name,
        solver=solver.name,
        is_peer=solver.is_peer,
        time_s=t,
        metric=problem.metric,
        metric_value=float(outcome.metric_value),
        tol=problem.tol,
        reached=reached,
        objective=float(outcome.objective),
        n_iter=int(outcome.n_iter),
        peer=problem.peer or "",
        ratio_vs_peer=math.nan,
        backend="numpy",
        blas_threads=threads,
        versions=ver,
        error=err,
    )


def run_suite(
    name: str = "quick",
    *,
    out_dir: str | Path = "optsolve-results",
    threads: int = 1,
    solvers: Sequence[str] | None = None,
    problems: Sequence[str] | None = None,
    plot: bool = True,
) -> list[BenchRecord]:
    """Run suite ``name`` and write ``<suite>.csv`` and ``<suite>_profile.png`` to ``out_dir``.

    Parameters
    ----------
    name : str
        Suite name (``optsolve bench --list`` shows them).
    out_dir : path
        Folder for the CSV and the performance-profile PNG (created).
    threads : int
        BLAS threads given to every contender (recorded in each row).
    solvers, problems : sequence of str, optional
        Keep only the solvers / problems whose name contains one of these substrings.
    plot : bool
        Write the Dolan–Moré performance profile PNG (needs matplotlib).

    Returns
    -------
    records : list of BenchRecord
        One per (problem, solver) pair that applies. ``ratio_vs_peer`` is this solver's time
        divided by the problem's peer's time (below 1: faster than the peer); it is NaN when
        either did not reach the problem's tolerance.
    """
    suite = get_registry()[name]
    available = []
    for s in suite.solvers:
        ok, why = s.available()
        if ok and (not solvers or any(k in s.name for k in solvers)):
            available.append(s)
        elif not ok:
            suite.notes.append(f"skipped solver: {why}")
    versions = _versions()
    records: list[BenchRecord] = []
    for problem in suite.problems():
        if problems and not any(k in problem.name for k in problems):
            continue
        rows = [
            _run_one(suite, problem, s, threads, versions)
            for s in available
            if s.applies_to(problem)
        ]
        peer_row = next((r for r in rows if r.solver == problem.peer), None)
        for r in rows:
            if peer_row is not None and r.reached and peer_row.reached and peer_row.time_s > 0:
                r.ratio_vs_peer = r.time_s / peer_row.time_s
        records.extend(rows)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(records, out / f"{name}.csv")
    if plot and records:
        from .profile import performance_profile

        performance_profile(records, out / f"{name}_profile.png", title=f"optsolve bench: {name}")
    return records


def write_csv(records: Sequence[BenchRecord], path: str | Path) -> None:
    """Write the records (one row each, every field a column)."""
    fields = list(BenchRecord.__dataclass_fields__)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in records:
            w.writerow(asdict(r))


def format_table(records: Sequence[BenchRecord]) -> str:
    """Fixed-column text table: problem, solver, time, accuracy reached, ratio vs peer."""
    head = (
        f"{'problem':<38} {'solver':<26} {'time [s]':>10} {'metric':>8} {'reached':>10} "
        f"{'tol':>8} {'objective':>14} {'iters':>7} {'vs peer':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in records:
        ok = "" if r.reached else " !"
        ratio = "peer" if r.solver == r.peer else (
            "n/a" if math.isnan(r.ratio_vs_peer) else f"{r.ratio_vs_peer:.2f}x"
        )
        t = "failed" if math.isnan(r.time_s) else f"{r.time_s:.4f}"
        lines.append(
            f"{r.problem[:38]:<38} {r.solver[:26]:<26} {t:>10} {r.metric[:8]:>8} "
            f"{r.metric_value:>10.2e}{ok:<2}{r.tol:>6.0e} {r.objective:>14.7g} {r.n_iter:>7d} "
            f"{ratio:>9}"
        )
        if r.error:
            lines.append(f"    error: {r.error[:150]}")
    lines.append(
        "time = median of repeats after a warm-up; 'vs peer' = time / peer's time (< 1 is "
        "faster); '!' = tolerance not reached (no ratio)."
    )
    return "\n".join(lines)
