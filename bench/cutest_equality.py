"""minimize_eq on every S2MPJ problem with only equality constraints, no bounds, n <= 1000.

Contenders: optsolve's ``minimize_eq`` (default: sketched EAL Newton with Kaczmarz; and
``eal-direct``), scipy ``trust-constr`` (the peer), scipy ``SLSQP`` and IPOPT (cyipopt). Each
solve runs in its own subprocess with a time limit (``optsolve bench --suite cutest`` machinery);
every contender is judged by the same KKT measure ``max(‖∇f + Gᵀλ_LS‖∞, ‖c‖∞) <= 1e-6`` at the
point it returns. Failures are classified from that point: time limit, iteration limit,
rank-deficient Jacobian (no multipliers: LICQ fails), infeasible stop, stalled.

Writes ``bench/results/cutest_equality/{cutest.csv, cutest_profile.png, summary.md}``; rerunning
resumes from the CSV (``--fresh`` starts over).

Usage::

    python bench/cutest_equality.py --quick          # 8 problems, a minute
    python bench/cutest_equality.py --time-limit 60  # all ~200 problems, hours on 2 cores
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from optsolve.bench import get_registry, run_suite
from optsolve.problems import list_s2mpj_problems, s2mpj_info, s2mpj_status

SOLVERS = {  # substring filter of the runner -> row label
    "optsolve.eal[kaczmarz]": "minimize_eq (default)",
    "optsolve.eal[direct]": "minimize_eq (eal-direct)",
    "scipy.trust-constr": "scipy trust-constr",
    "scipy.SLSQP": "scipy SLSQP",
    "cyipopt": "IPOPT (cyipopt)",
}
TOL = 1e-6


def classify(row) -> str:
    """One failure category per unsolved row, from the final point's diagnostics."""
    if row.status == "timeout":
        return "time limit"
    if row.status == "error":
        if "more equality constraints than" in row.reason or "expected square" in row.reason:
            return "overdetermined (m > n): refused by the solver"
        return "error: " + row.reason.split(":")[0]
    extra = json.loads(row.extra) if row.extra else {}
    message = row.reason.lower()
    if extra.get("finite") is False:
        return "non-finite values at the final point"
    cviol = extra.get("cviol", math.inf)
    m, n = extra.get("m", 0), row.n_vars
    if m > n > 0 and cviol > TOL:
        return "overdetermined (m > n), no feasible point reached"
    if m > n > 0:
        return "overdetermined (m > n), feasible but not stationary"
    if extra.get("jac_rank", 0) < m:
        where = "at a feasible point" if cviol <= TOL else "at an infeasible point"
        return f"rank-deficient Jacobian {where} (LICQ fails)"
    if "iteration" in message and any(w in message for w in ("max", "limit", "exceeded")):
        return "iteration limit"
    if cviol > TOL:
        return "infeasible stop" + (" (line search failed)" if "line search" in message else "")
    return "feasible, not stationary (stalled)"


def summarize(records, total: int) -> str:
    by_solver = defaultdict(list)
    for r in records:
        by_solver[r.solver].append(r)
    best_f = {}
    for r in records:
        if r.reached and np.isfinite(r.objective):
            best_f[r.problem] = min(best_f.get(r.problem, np.inf), r.objective)
    lines = [
        f"S2MPJ problems with only equality constraints, no bounds, n <= 1000: {total}; "
        f"KKT tolerance {TOL:g} (least-squares multipliers, same measure for every solver).",
        "",
        "| solver | solved | median outer iterations (solved) | median time [s] (solved) | "
        "solved at a higher KKT point | failures |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in SOLVERS.items():
        rows = by_solver.get(key, [])
        if not rows:
            lines.append(f"| {label} | not run | | | | |")
            continue
        solved = [r for r in rows if r.reached]
        higher = sum(r.objective > best_f[r.problem] + 1e-6 * max(1.0, abs(best_f[r.problem]))
                     for r in solved)
        fails = Counter(classify(r) for r in rows if not r.reached)
        its = np.median([r.n_iter for r in solved]) if solved else math.nan
        t = np.median([r.time_s for r in solved]) if solved else math.nan
        fail_text = "; ".join(f"{k}: {v}" for k, v in fails.most_common())
        lines.append(f"| {label} | {len(solved)}/{len(rows)} | {its:g} | {t:.3f} | {higher} | "
                     f"{fail_text} |")
    lines += ["", "Unsolved problems per solver (category):", ""]
    for key, label in SOLVERS.items():
        rows = [r for r in by_solver.get(key, []) if not r.reached]
        if rows:
            lines.append(f"* {label}: " + ", ".join(
                f"{r.problem.split('/', 1)[1]} ({classify(r)})" for r in rows))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 small problems only")
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per solve")
    parser.add_argument("--max-n", type=int, default=1000)
    parser.add_argument("--fresh", action="store_true", help="ignore the rows of a previous run")
    parser.add_argument("--retry-timeouts", action="store_true",
                        help="run again the solves a previous run ended as timeout")
    parser.add_argument("--summary-only", action="store_true",
                        help="summarize the CSV of a previous run without solving")
    parser.add_argument("--out", default="bench/results/cutest_equality")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ok, why = s2mpj_status()
    if not ok:
        raise SystemExit(why)
    names = list_s2mpj_problems(constraints="equality", max_n=args.max_n)
    # the square and underdetermined systems first, then the ~70 overdetermined ones (m > n,
    # mostly data-fitting residuals, feasible only when the data are consistent)
    info = {name: s2mpj_info(name) for name in names}
    names.sort(key=lambda name: (info[name]["m"] > info[name]["n"], info[name]["n"], name))
    if args.quick:
        names = [n for n in names if n in ("HS28", "BT2", "HS6", "HS7", "MWRIGHT", "BOOTH",
                                          "HELIXNE", "ORTHREGB")]
    path = Path(args.out, "cutest.csv")
    if args.summary_only:
        from optsolve.bench.runner import _read_csv

        text = summarize(list(_read_csv(path).values()), len(names))
        Path(args.out, "summary.md").write_text(text + "\n", encoding="utf-8")
        print(text)
        return 0
    if args.retry_timeouts and path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["status"])
            writer.writeheader()
            writer.writerows(r for r in rows if r["status"] != "timeout")
    # one worker process for the whole run, replaced after a timeout or a crash: the runner
    # stays isolated from hung solvers without 200 interpreter start-ups
    get_registry()["cutest"].fresh_worker_per_problem = False
    records = run_suite("cutest", out_dir=args.out, solvers=list(SOLVERS),
                        selection={"source": "s2mpj", "names": names},
                        time_limit=args.time_limit, resume=not args.fresh)
    text = summarize(records, len(names))
    Path(args.out, "summary.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
