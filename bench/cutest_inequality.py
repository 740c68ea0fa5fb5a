"""General NLPs from CUTEst: S2MPJ problems with inequalities and/or bounds, n <= 1000.

Contenders: ``optsolve.constrained.minimize`` (``eal-sketch``), IPOPT (cyipopt, the peer),
scipy ``trust-constr`` and scipy ``SLSQP``, all from the problem's ``x0`` with exact
derivatives (Hessians for IPOPT, trust-constr and optsolve). Each solve runs in a worker
subprocess with a time limit (the ``optsolve bench --suite cutest_nlp`` machinery,
:mod:`optsolve.constrained._bench_general`). Every contender is judged by the same measure at
the point it returns: the KKT residual with sign-constrained least-squares multipliers
(stationarity, primal violation, complementarity, multiplier signs), solved when <= 1e-6. Every
unsolved run gets a failure category; the time of the measure is not counted.

The full set is sorted by ``n + m`` and cut into chunks of 25 (``chunk000`` the smallest);
every chunk is run solver after solver, rows appended as they finish, so an interrupted run
resumes where it stopped (pairs already in a chunk's CSV are skipped). ``--start``/``--stop``
select a range of the sorted set, ``--shard i/k`` every k-th chunk from the i-th (for parallel
runs into the same folder). The process lowers its priority (``--nice``, default 10); the
solves inherit it.

Results go to ``bench/results/cutest_inequality/``: one CSV per solver and chunk
(``<solver>/<chunk>/cutest_nlp.csv``, resumable), the merged ``cutest_inequality.csv``, the
performance profiles on the problems every solver attempted (``profile.png``) and
``summary.md``.

Usage::

    python bench/cutest_inequality.py --quick                 # 12 HS problems, a minute or two
    python bench/cutest_inequality.py --subset                # stratified subset (~60 problems)
    python bench/cutest_inequality.py --time-limit 60         # all 644 problems, in chunks
    python bench/cutest_inequality.py --shard 0/2 --solvers ipopt SLSQP trust  # half the chunks
    python bench/cutest_inequality.py --start 0 --stop 300    # the 300 smallest (by n + m)
    python bench/cutest_inequality.py --problems HS84 QC      # these problems only
    python bench/cutest_inequality.py --summary-only          # merge and summarize what ran
    python bench/cutest_inequality.py --same-run-timing 30    # CPU times, solvers interleaved
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from optsolve.bench import run_suite
from optsolve.bench.runner import BenchRecord, _read_csv
from optsolve.constrained._bench_general import CATEGORIES, CONTENDERS, GROUPS, KKT_TOL, classify
from optsolve.problems import list_s2mpj_problems, s2mpj_status
from optsolve.problems.s2mpj import _kind, _resolve, _table

LABELS = {
    "optsolve.minimize[eal-sketch]": "optsolve minimize (eal-sketch)",
    "cyipopt": "IPOPT (cyipopt)",
    "scipy.trust-constr": "scipy trust-constr",
    "scipy.SLSQP": "scipy SLSQP",
}
QUICK = ("HS21", "HS35", "HS44", "HS71", "HS76", "HS118", "HS4", "HS38", "HS41", "HS65",
         "HS13", "HS110")
CHUNK = 25


def _facts(name: str) -> dict:
    row = _table()[_resolve(name)]
    return {"n": row["n"], "m": row["m"], "kind": _kind(row)}


def stratified_subset(names: list[str], per_stratum: int = 5, seed: int = 0) -> list[str]:
    """``per_stratum`` problems per (constraint kind, size class) stratum, drawn with a seed."""
    rng = np.random.default_rng(seed)
    strata = defaultdict(list)
    for name in names:
        f = _facts(name)
        size = "n<=10" if f["n"] <= 10 else "n<=100" if f["n"] <= 100 else "n<=1000"
        strata[(f["kind"], size)].append(name)
    out = []
    for key in sorted(strata):
        group = strata[key]
        out += [group[i] for i in sorted(rng.choice(len(group), min(per_stratum, len(group)),
                                                    replace=False))]
    return out


def load_records(out: Path) -> list[BenchRecord]:
    """Every row under ``out`` (later chunks replace earlier rows of the same pair)."""
    rows = {}
    for path in sorted(out.glob("*/*/cutest_nlp.csv")):
        rows.update(_read_csv(path))
    return list(rows.values())


def _extra(r: BenchRecord) -> dict:
    return json.loads(r.extra) if r.extra else {}


def _time(r: BenchRecord) -> float:
    t = _extra(r).get("solve_s", math.nan)
    return float(t) if t == t else r.time_s


def summarize(records: list[BenchRecord], total: int, out: Path, plot: bool = True,
              time_limit: float = math.nan) -> str:
    by_solver = defaultdict(dict)
    for r in records:
        by_solver[r.solver][r.problem] = r
    solvers = [s for s in LABELS if s in by_solver]
    common = set.intersection(*(set(by_solver[s]) for s in solvers)) if solvers else set()
    lines = [
        f"S2MPJ (CUTEst) problems with inequalities and/or bounds, n <= 1000: {total} in the set; "
        f"{len(common)} attempted by every solver below (the table and profiles count those). "
        f"Solved: KKT residual <= {KKT_TOL:g} at the returned point, the same measure for "
        "every solver (optsolve.constrained.kkt_residuals: IPOPT-scaled stationarity, primal "
        "violation, complementarity, multiplier signs; multipliers estimated by "
        "sign-constrained least squares on the active set, or the solver's own when they give "
        "a smaller residual). Times: the solve alone (wall clock), one subprocess per solve, "
        f"each capped at {time_limit:g} s of CPU time (the runner's limit; CSVs of runs before "
        "it counted CPU time were capped on the wall clock, on a machine whose 2 cores are "
        "shared), so the cap does not depend on the load; the times themselves vary with "
        "it, and --same-run-timing gives CPU times measured side by side.",
        "",
        "| solver | solved | vs IPOPT | median iterations (solved) | median time [s] (solved) "
        "| failures |",
        "|---|---|---|---|---|---|",
    ]
    ipopt = sum(by_solver["cyipopt"][p].reached for p in common) if "cyipopt" in by_solver \
        else 0
    for s in solvers:
        rows = [by_solver[s][p] for p in sorted(common)]
        solved = [r for r in rows if r.reached]
        fails = Counter(classify(r.status, r.reason, s, _extra(r)) for r in rows
                        if not r.reached)
        its = np.median([r.n_iter for r in solved]) if solved else math.nan
        t = np.median([_time(r) for r in solved]) if solved else math.nan
        ratio = f"{100 * len(solved) / ipopt:.0f} %" if ipopt else "n/a"
        fail_text = "; ".join(f"{k}: {fails[k]}" for k in CATEGORIES if fails[k])
        lines.append(f"| {LABELS[s]} | {len(solved)}/{len(rows)} | {ratio} | {its:g} | "
                     f"{t:.3g} | {fail_text or '-'} |")
    groups = ["time limit", "iteration limit", "stalled", "infeasible reported", "wrong answer",
              "crash"]
    lines += ["", "Failures grouped (time limit / iteration limit / stalled: line search, "
              "infeasible or non-stationary stop, degenerate / infeasible reported / wrong "
              "answer: success claimed with KKT above tol / crash: exception or non-finite):",
              "", "| solver | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    for s in solvers:
        grouped = Counter(GROUPS[classify(r.status, r.reason, s, _extra(r))]
                          for r in (by_solver[s][p] for p in sorted(common)) if not r.reached)
        lines.append(f"| {LABELS[s]} | " + " | ".join(str(grouped[g]) for g in groups) + " |")
    peer, mine = "cyipopt", "optsolve.minimize[eal-sketch]"
    if peer in by_solver and mine in by_solver:
        both = [p for p in sorted(common) if by_solver[peer][p].reached
                and by_solver[mine][p].reached]
        if both:
            ratio = [_time(by_solver[mine][p]) / max(_time(by_solver[peer][p]), 1e-9)
                     for p in both]
            lines += ["", f"On the {len(both)} problems both optsolve and IPOPT solve: median "
                      f"iterations {np.median([by_solver[mine][p].n_iter for p in both]):g} vs "
                      f"{np.median([by_solver[peer][p].n_iter for p in both]):g}, median time "
                      f"{np.median([_time(by_solver[mine][p]) for p in both]):.3g} s vs "
                      f"{np.median([_time(by_solver[peer][p]) for p in both]):.3g} s, median "
                      f"time ratio optsolve / IPOPT {np.median(ratio):.3g}."]
    sizes = defaultdict(list)
    for p in sorted(common):
        f = _facts(p.split("/", 1)[1])
        size = f["n"] + f["m"]
        sizes["n+m <= 10" if size <= 10 else "n+m <= 100" if size <= 100
              else "n+m > 100"].append(p)
    lines += ["", "Per size (solved / attempted):", "",
              "| size | " + " | ".join(LABELS[s] for s in solvers) + " |",
              "|---|" + "---|" * len(solvers)]
    for size in ("n+m <= 10", "n+m <= 100", "n+m > 100"):
        if sizes[size]:
            lines.append(f"| {size} ({len(sizes[size])}) | " + " | ".join(
                str(sum(by_solver[s][p].reached for p in sizes[size])) for s in solvers) + " |")
    lines += ["", "Per kind (solved / attempted):", "",
              "| kind | " + " | ".join(LABELS[s] for s in solvers) + " |",
              "|---|" + "---|" * len(solvers)]
    kinds = defaultdict(list)
    for p in sorted(common):
        kinds[_facts(p.split("/", 1)[1])["kind"]].append(p)
    for kind, probs in sorted(kinds.items()):
        lines.append(f"| {kind} ({len(probs)}) | " + " | ".join(
            str(sum(by_solver[s][p].reached for p in probs)) for s in solvers) + " |")
    lines += ["", "Unsolved problems per solver (category):", ""]
    for s in solvers:
        bad = [by_solver[s][p] for p in sorted(common) if not by_solver[s][p].reached]
        if bad:
            lines.append(f"* {LABELS[s]}: " + ", ".join(
                f"{r.problem.split('/', 1)[1]} ({classify(r.status, r.reason, s, _extra(r))})"
                for r in bad))
    text = "\n".join(lines)
    kept = [r for r in records if r.problem in common and r.solver in solvers]
    _write_merged(kept, out / "cutest_inequality.csv")
    if plot and kept:
        from optsolve.bench.profile import performance_profile

        for r in kept:  # profile the solver's own time, not the shared measure's
            r.time_s = _time(r)
        performance_profile(kept, out / "profile.png",
                            title=f"CUTEst (S2MPJ) with inequalities/bounds, {len(common)} "
                                  f"problems, KKT <= {KKT_TOL:g}")
    return text


def _write_merged(records: list[BenchRecord], path: Path) -> None:
    from optsolve.bench.runner import write_csv

    write_csv(records, path)
    with open(path, newline="", encoding="utf-8") as fh:  # add the failure category
        rows = list(csv.DictReader(fh))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*rows[0], "category"] if rows else ["category"])
        writer.writeheader()
        for row, r in zip(rows, records, strict=True):
            row["category"] = "" if r.reached else classify(r.status, r.reason, r.solver,
                                                            _extra(r))
            writer.writerow(row)


def same_run_timing(records: list[BenchRecord], k: int, out: Path,
                    solvers: tuple[str, ...] = ("optsolve.minimize[eal-sketch]", "cyipopt")):
    """CPU and wall times of ``solvers`` on ``k`` problems they all solved, spread over the
    sizes, solved one after the other in this process (same load, BLAS pinned to 1 thread):
    the subprocess rows are timed under whatever load the shared machine had when each ran."""
    import time

    from optsolve.bench.timing import blas_threads
    from optsolve.problems import S2MPJProblem

    solved = defaultdict(set)
    for r in records:
        if r.reached:
            solved[r.solver].add(r.problem.split("/", 1)[1])
    both = sorted(set.intersection(*(solved[s] for s in solvers)),
                  key=lambda name: (_facts(name)["n"] + _facts(name)["m"], name))
    picks = [both[i] for i in np.unique(np.linspace(0, len(both) - 1, k).astype(int))] \
        if both else []
    rows = []
    with blas_threads(1):
        CONTENDERS[solvers[0]](S2MPJProblem("HS21"))  # compile outside the timing
        for name in picks:
            row = {"problem": name, "n": _facts(name)["n"], "m": _facts(name)["m"]}
            for s in solvers:
                p = S2MPJProblem(name)
                cpu, wall = time.process_time(), time.perf_counter()
                res = CONTENDERS[s](p)
                row[f"{s} cpu_s"] = time.process_time() - cpu
                row[f"{s} wall_s"] = time.perf_counter() - wall
                row[f"{s} nit"] = res["nit"]
            rows.append(row)
            logging.info("timing %s: %s", name, row)
    if rows:
        with open(out / "same_run_timing.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    ratio = [r[f"{solvers[0]} cpu_s"] / max(r[f"{solvers[1]} cpu_s"], 1e-9) for r in rows]
    return (f"Same-run CPU times ({len(rows)} problems both solve, spread over the sizes, "
            f"solved one after the other in one process): median CPU time ratio "
            f"{LABELS[solvers[0]]} / {LABELS[solvers[1]]} = {np.median(ratio):.3g} "
            f"(quartiles {np.percentile(ratio, 25):.3g} .. {np.percentile(ratio, 75):.3g}).") \
        if rows else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="12 Hock-Schittkowski problems")
    group.add_argument("--subset", action="store_true",
                       help="a stratified subset: 5 problems per (kind, size class)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--max-n", type=int, default=1000)
    parser.add_argument("--solvers", nargs="*", default=list(CONTENDERS),
                        help="substrings of solver names (default: all four)")
    parser.add_argument("--same-run-timing", type=int, default=0, metavar="K",
                        help="after the summary, time optsolve and IPOPT on K problems both "
                             "solved, interleaved in this process (CPU time)")
    parser.add_argument("--summary-only", action="store_true",
                        help="merge and summarize the CSVs of previous runs without solving")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--out", default="bench/results/cutest_inequality")
    parser.add_argument("--start", type=int, default=0,
                        help="first problem (index in the set sorted by n + m)")
    parser.add_argument("--stop", type=int, default=None, help="one past the last problem")
    parser.add_argument("--problems", nargs="*", default=None, metavar="NAME",
                        help="only these problems (S2MPJ names), in their chunks")
    parser.add_argument("--shard", default="0/1",
                        help="i/k: run only the chunks whose number is i modulo k")
    parser.add_argument("--nice", type=int, default=10,
                        help="niceness added to this process and its solves (0: none)")
    args = parser.parse_args(argv)
    shard, n_shards = (int(v) for v in args.shard.split("/"))
    if not 0 <= shard < n_shards:
        parser.error(f"--shard must be i/k with 0 <= i < k, got {args.shard!r}")
    if args.nice:
        os.nice(args.nice)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ok, why = s2mpj_status()
    if not ok:
        raise SystemExit(why)
    names = list_s2mpj_problems(constraints="general", max_n=args.max_n)
    total = len(names)
    names.sort(key=lambda name: (_facts(name)["n"] + _facts(name)["m"], name))
    if args.quick:
        names, chunks = [n for n in QUICK if n in names], {"quick": None}
    elif args.subset:
        names, chunks = stratified_subset(names), {"subset": None}
    else:
        chunks = {f"chunk{k // CHUNK:03d}": None for k in range(0, len(names), CHUNK)}
    out = Path(args.out)
    wanted = set(names[args.start:args.stop])
    if args.problems is not None:
        unknown = sorted(set(args.problems) - set(names))
        if unknown:
            parser.error(f"--problems: not in the set: {', '.join(unknown)}")
        wanted &= set(args.problems)
    if not args.summary_only:
        solvers = [s for s in CONTENDERS if any(k in s for k in args.solvers)]
        for k, chunk in enumerate(chunks):
            if k % n_shards != shard:
                continue
            part = names if len(chunks) == 1 else names[k * CHUNK:(k + 1) * CHUNK]
            part = [name for name in part if name in wanted]
            if not part:
                continue
            for s in solvers:
                run_suite("cutest_nlp", out_dir=out / s / chunk, solvers=[s],
                          selection={"names": part}, time_limit=args.time_limit, resume=True,
                          plot=False)
    records = load_records(out)
    text = summarize(records, total, out, plot=not args.no_plot, time_limit=args.time_limit)
    if args.same_run_timing:
        text += "\n\n" + same_run_timing(records, args.same_run_timing, out)
    Path(out, "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
