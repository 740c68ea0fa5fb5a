"""Run a suite: every applicable (problem, solver) pair, timed, into a table, CSV and PNG.

Every pair ends with a status: ``solved`` (the problem's accuracy measure reached its
tolerance), ``failed`` (with the reason: the measure reached, the solver's own message),
``timeout`` (an isolated run over its time limit) or ``error`` (an exception, its message).
Rows are appended to ``<suite>.csv`` as they finish, so an interrupted run loses nothing and
``resume=True`` skips the pairs already there.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import pickle
import platform
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .registry import BenchProblem, SolveOutcome, Suite, get_registry
from .timing import blas_threads, time_callable

logger = logging.getLogger("optsolve.bench")

__all__ = ["STATUSES", "BenchRecord", "format_table", "run_suite", "write_csv"]

#: the statuses a row can end with
STATUSES = ("solved", "failed", "timeout", "error")


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
    status: str = ""
    reason: str = ""
    kind: str = ""
    n_vars: int = -1
    evals: int = -1
    extra: str = ""


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


def _status(problem: BenchProblem, outcome: SolveOutcome) -> tuple[bool, str, str]:
    reached = bool(outcome.success and outcome.metric_value <= problem.tol)
    if reached:
        return True, "solved", ""
    message = str(outcome.extra.get("message", "")).strip()
    if not math.isfinite(outcome.metric_value):
        why = f"{problem.metric} not finite"
    else:
        why = f"{problem.metric} {outcome.metric_value:.1e} > tol {problem.tol:.0e}"
    return False, "failed", why + (f" ({message})" if message else "")


def _record(suite: Suite, problem: BenchProblem, solver, threads: int, versions: str, *,
            time_s: float, outcome: SolveOutcome | None, status: str = "",
            reason: str = "") -> BenchRecord:
    if outcome is None:
        outcome = SolveOutcome(metric_value=math.nan, success=False)
        reached = False
    else:
        reached, status, reason = _status(problem, outcome)
    ver = versions if solver.version is None else f"{versions};{solver.name}={solver.version()}"
    evals = outcome.extra.get("evals", -1)
    scalars = {k: v for k, v in outcome.extra.items()
               if isinstance(v, (str, bool, int, float)) and k != "message"}
    return BenchRecord(
        suite=suite.name, problem=problem.name, solver=solver.name, is_peer=solver.is_peer,
        time_s=time_s, metric=problem.metric, metric_value=float(outcome.metric_value),
        tol=problem.tol, reached=reached, objective=float(outcome.objective),
        n_iter=int(outcome.n_iter), peer=problem.peer or "", ratio_vs_peer=math.nan,
        backend="numpy", blas_threads=threads, versions=ver,
        error=reason if status in ("error", "timeout") else "", status=status, reason=reason,
        kind=problem.kind, n_vars=int(problem.meta.get("n", -1)),
        evals=int(evals) if evals is not None else -1,
        extra=json.dumps(scalars, sort_keys=True) if scalars else "",
    )


def _solve_here(suite: Suite, problem: BenchProblem, solver, threads: int, on_ready=None):
    """Prepare and time ``solver`` on ``problem`` in this process: (seconds, outcome).

    ``on_ready()`` is called once set-up and warm-up are done, just before the timed solves.
    """
    with blas_threads(threads):
        if (suite.warmup_problem is not None and solver.name not in suite.warmed
                and solver.applies_to(suite.warmup_problem)):
            solver.prepare(suite.warmup_problem)()  # compile / load kernels outside the timing
            suite.warmed.add(solver.name)
        solve = solver.prepare(problem)
        if on_ready is not None:
            on_ready()
        t, _, outcome = time_callable(solve, repeats=suite.repeats, warmup=suite.warmup,
                                      max_seconds=30)
    return t, outcome


def _run_one(suite: Suite, problem: BenchProblem, solver, threads: int, versions: str):
    try:
        t, outcome = _solve_here(suite, problem, solver, threads)
    except Exception as exc:  # a failing contender is a row, not a crash of the whole run
        logger.warning("%s on %s failed: %s", solver.name, problem.name, exc)
        return _record(suite, problem, solver, threads, versions, time_s=math.nan, outcome=None,
                       status="error", reason=f"{type(exc).__name__}: {exc}")
    return _record(suite, problem, solver, threads, versions, time_s=t, outcome=outcome)


#: seconds a worker may take to import, build the problem and warm up before the timed solve
WORKER_SETUP_LIMIT = 600.0
#: the time limit counts the worker's CPU seconds (per BLAS thread it was given), so that a
#: solve's budget does not shrink when other jobs share the cores; a solve that blocks without
#: using the CPU is still stopped after this many times the limit in wall-clock seconds (high
#: enough that a machine loaded 10 jobs per core still stops solves by their CPU time)
WALL_BACKSTOP = 10.0
#: how often the worker's CPU time is read while a solve runs
POLL_SECONDS = 0.1


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads), or None where the
    platform does not say (then the time limit is on the wall clock)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class _Worker:
    """A ``python -m optsolve.bench.worker`` subprocess answering one solve at a time."""

    def __init__(self):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "optsolve.bench.worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.buffer = b""
        self.cpu_used: float | None = None  # CPU seconds of the last solve, where known

    def solve(self, request: dict, time_limit: float | None) -> dict | None:
        """The worker's answer, or None when it overran ``time_limit`` (it is then killed).

        The clock starts when the worker reports its set-up done (imports, problem build,
        kernel warm-up): the limit bounds the solve, not the start-up. It counts the worker's
        CPU seconds divided by its BLAS threads, with a wall-clock backstop of
        ``WALL_BACKSTOP`` times the limit (the wall clock alone where CPU time is unknown).
        """
        from .worker import PREFIX, READY

        self.proc.stdin.write(pickle.dumps(request).hex().encode() + b"\n")
        self.proc.stdin.flush()
        if self._read_line(READY.encode(), WORKER_SETUP_LIMIT) is None:
            raise RuntimeError(f"worker set-up took over {WORKER_SETUP_LIMIT:g} s")
        cpu_limit = None
        cpu0 = _cpu_seconds(self.proc.pid) if time_limit is not None else None
        if cpu0 is not None:
            cpu_limit = (cpu0, time_limit * max(1, int(request.get("threads", 1))))
            time_limit *= WALL_BACKSTOP
        line = self._read_line(PREFIX.encode(), time_limit, cpu_limit)
        return None if line is None else pickle.loads(bytes.fromhex(line.decode()))

    def overrun(self, time_limit: float) -> str:
        """Why the last solve was stopped: its CPU time, or the wall-clock backstop."""
        if self.cpu_used is None:
            return f"over the {time_limit:g} s time limit (wall clock)"
        if self.cpu_used >= time_limit:
            return f"over the {time_limit:g} s time limit (CPU time)"
        return (f"over the {time_limit:g} s time limit: stopped by the wall-clock backstop "
                f"({WALL_BACKSTOP * time_limit:g} s) after {self.cpu_used:.1f} s of CPU time")

    def _read_line(self, marker: bytes, limit: float | None,
                   cpu_limit: tuple[float, float] | None = None) -> bytes | None:
        self.cpu_used = None
        deadline = None if limit is None else time.monotonic() + limit
        fd = self.proc.stdout.fileno()
        while True:
            at = self.buffer.find(marker)
            end = self.buffer.find(b"\n", at) if at >= 0 else -1
            if end >= 0:
                line, self.buffer = self.buffer[at + len(marker):end], self.buffer[end + 1:]
                return line
            wait = None if deadline is None else deadline - time.monotonic()
            over_cpu = False
            if cpu_limit is not None:
                used = _cpu_seconds(self.proc.pid)
                if used is not None:
                    self.cpu_used = used - cpu_limit[0]
                    over_cpu = self.cpu_used >= cpu_limit[1]
                wait = min(wait, POLL_SECONDS)
            if over_cpu or (wait is not None and wait <= 0):
                self.close()
                return None
            ready, _, _ = select.select([fd], [], [], wait)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise RuntimeError(self.crash_report())
                self.buffer += chunk

    def crash_report(self) -> str:
        self.proc.wait(timeout=10)
        self.log.seek(0)
        tail = self.log.read().decode(errors="replace").strip().splitlines()[-3:]
        return f"worker exited with code {self.proc.returncode}: " + " | ".join(tail)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


def _run_isolated(suite: Suite, problem: BenchProblem, solver, threads: int, versions: str,
                  time_limit: float | None, pool: dict):
    """The same in a worker subprocess, killed (and replaced) after ``time_limit`` seconds: a
    hung or crashing solver costs one row."""
    request = {"suite": suite.name, "module": getattr(solver.prepare, "__module__", ""),
               "solver": solver.name, "problem": problem, "threads": threads,
               "selection": suite.selection}
    worker = pool.get("worker")
    if worker is None or worker.proc.poll() is not None:
        worker = pool["worker"] = _Worker()
    try:
        result = worker.solve(request, time_limit)
    except RuntimeError as exc:
        pool.pop("worker", None)
        return _record(suite, problem, solver, threads, versions, time_s=math.nan, outcome=None,
                       status="error", reason=str(exc)[:500])
    if result is None:
        pool.pop("worker", None)
        reason = worker.overrun(time_limit)
        logger.warning("%s on %s: %s", solver.name, problem.name, reason)
        return _record(suite, problem, solver, threads, versions, time_s=math.nan, outcome=None,
                       status="timeout", reason=reason)
    if "error" in result:
        return _record(suite, problem, solver, threads, versions, time_s=math.nan, outcome=None,
                       status="error", reason=result["error"])
    return _record(suite, problem, solver, threads, versions, time_s=result["time_s"],
                   outcome=result["outcome"])


def _read_csv(path: Path) -> dict[tuple[str, str], BenchRecord]:
    types = {f.name: f.type for f in fields(BenchRecord)}
    done = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            values: dict[str, Any] = {}
            for name, kind in types.items():
                raw = row.get(name, "")
                if kind in ("float", float):
                    values[name] = float(raw) if raw not in ("", None) else math.nan
                elif kind in ("int", int):
                    values[name] = int(float(raw)) if raw not in ("", None) else -1
                elif kind in ("bool", bool):
                    values[name] = raw == "True"
                else:
                    values[name] = raw or ""
            record = BenchRecord(**values)
            if record.status:  # rows of an older runner carry no status: run them again
                done[(record.problem, record.solver)] = record
    return done


def run_suite(
    name: str = "quick",
    *,
    out_dir: str | Path = "optsolve-results",
    threads: int = 1,
    solvers: Sequence[str] | None = None,
    problems: Sequence[str] | None = None,
    plot: bool = True,
    selection: dict | None = None,
    time_limit: float | None = None,
    isolate: bool | None = None,
    resume: bool = False,
) -> list[BenchRecord]:
    """Run suite ``name`` and write ``<suite>.csv`` and ``<suite>_profile.png`` to ``out_dir``.

    Parameters
    ----------
    name : str
        Suite name (``optsolve bench --list`` shows them).
    out_dir : path
        Folder for the CSV and the profile PNG (created).
    threads : int
        BLAS threads given to every contender (recorded in each row).
    solvers, problems : sequence of str, optional
        Keep only the solvers / problems whose name contains one of these substrings.
    plot : bool
        Write the profiles PNG (needs matplotlib): per group of solvers that attempted the same
        problems, the Dolan–Moré performance profile and, when evaluation counts are known, the
        Moré–Wild data profile.
    selection : dict, optional
        Suite-specific problem selection handed to its problem sets (the ``cutest`` suite reads
        ``source``, ``names``, ``max_n``, ``constraints``); stored in ``suite.selection``.
    time_limit : float, optional
        Seconds per (problem, solver) pair; needs isolation (a run over it ends as ``timeout``).
        They count the worker's CPU time per BLAS thread (where the platform reports it; the
        wall clock otherwise), so that the cap does not depend on the machine's load.
        Default: the suite's own limit.
    isolate : bool, optional
        Run every pair in a subprocess. Default: the suite's setting (on for ``cutest``).
    resume : bool
        Keep the rows of an existing ``<suite>.csv`` and run only the missing pairs.

    Returns
    -------
    records : list of BenchRecord
        One per (problem, solver) pair that applies, each with ``status`` (``solved``,
        ``failed``, ``timeout``, ``error``) and ``reason``. ``ratio_vs_peer`` is this solver's
        time divided by the problem's peer's time (below 1: faster than the peer); it is NaN when
        either did not reach the problem's tolerance.
    """
    suite = get_registry()[name]
    suite.selection = dict(selection or {})
    isolate = suite.isolate if isolate is None else bool(isolate)
    time_limit = suite.time_limit if time_limit is None else float(time_limit)
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be positive seconds, got {time_limit!r}")
    if time_limit is not None and not isolate:
        raise ValueError("time_limit needs isolate=True (a solve is only stoppable in a "
                         "subprocess)")
    available = []
    for s in suite.solvers:
        ok, why = s.available()
        if ok and (not solvers or any(k in s.name for k in solvers)):
            available.append(s)
        elif not ok:
            suite.notes.append(f"skipped solver: {why}")
    versions = _versions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"{name}.csv"
    done = _read_csv(csv_path) if resume and csv_path.is_file() else {}
    if done:
        suite.notes.append(f"resumed: {len(done)} rows kept from {csv_path}")
    field_names = [f.name for f in fields(BenchRecord)]
    records: list[BenchRecord] = []
    pool: dict = {}  # the isolated solves' worker; a fresh one per problem
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=field_names)
        writer.writeheader()
        for row in done.values():
            writer.writerow(asdict(row))
        fh.flush()
        for problem in suite.problems():
            if problems and not any(k in problem.name for k in problems):
                continue
            rows = []
            for s in available:
                if not s.applies_to(problem):
                    continue
                if (problem.name, s.name) in done:
                    rows.append(done[(problem.name, s.name)])
                    continue
                if isolate:
                    row = _run_isolated(suite, problem, s, threads, versions, time_limit, pool)
                else:
                    row = _run_one(suite, problem, s, threads, versions)
                logger.info("%s / %s: %s %s", problem.name, s.name, row.status, row.reason)
                writer.writerow(asdict(row))
                fh.flush()
                rows.append(row)
            if "worker" in pool and suite.fresh_worker_per_problem:
                pool.pop("worker").close()
            peer_row = next((r for r in rows if r.solver == problem.peer), None)
            for r in rows:
                if (peer_row is not None and r.reached and peer_row.reached
                        and peer_row.time_s > 0):
                    r.ratio_vs_peer = r.time_s / peer_row.time_s
            records.extend(rows)
    if "worker" in pool:
        pool.pop("worker").close()
    write_csv(records, csv_path)  # once more, with the ratios
    if plot and records:
        from .profile import performance_profile

        performance_profile(records, out / f"{name}_profile.png", title=f"optsolve bench: {name}")
    return records


def write_csv(records: Sequence[BenchRecord], path: str | Path) -> None:
    """Write the records (one row each, every field a column)."""
    field_names = [f.name for f in fields(BenchRecord)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=field_names)
        w.writeheader()
        for r in records:
            w.writerow(asdict(r))


def format_table(records: Sequence[BenchRecord]) -> str:
    """Text table: problem, solver, status, time, accuracy reached, objective, ratio vs peer.

    Columns are as wide as their longest entry (no name is cut).
    """
    header = ("problem", "solver", "status", "time [s]", "metric", "reached", "tol",
              "objective", "iters", "vs peer")
    body = []
    for r in records:
        ratio = "peer" if r.solver == r.peer else (
            "n/a" if math.isnan(r.ratio_vs_peer) else f"{r.ratio_vs_peer:.2f}x"
        )
        t = "-" if math.isnan(r.time_s) else f"{r.time_s:.4f}"
        obj = "n/a" if math.isnan(r.objective) else f"{r.objective:.7g}"
        reached = "-" if math.isnan(r.metric_value) else f"{r.metric_value:.2e}"
        body.append((r.problem, r.solver, r.status or ("solved" if r.reached else "failed"), t,
                     r.metric, reached, f"{r.tol:.0e}", obj, str(r.n_iter), ratio))
    widths = [max(len(row[j]) for row in [header, *body]) for j in range(len(header))]
    left = {0, 1, 2, 4}

    def fmt(row):
        return "  ".join(c.ljust(w) if j in left else c.rjust(w)
                         for j, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    lines = [fmt(header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    for r, row in zip(records, body, strict=True):
        lines.append(fmt(row))
        if r.reason:
            lines.append(f"    {r.status}: {r.reason}")
    counts = {s: sum(r.status == s for r in records) for s in STATUSES}
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items() if v) or "no rows")
    lines.append(
        "time = median of the timed repeats (compilation excluded); 'vs peer' = time / peer's "
        "time (< 1 is faster); objective 'n/a' = the contender optimizes another objective."
    )
    return "\n".join(lines)
