"""Baselines on the library: what scipy's trust-constr and SLSQP reach from each standard x0.

Prints one row per library problem (n, m, f_opt, and per solver: solved?, iterations, function
evaluations, KKT residual, median time) and writes it as CSV. "Solved" means
``kkt_residual ≤ 1e-6`` and ``|f - f_opt| ≤ 1e-6 max(1, |f_opt|)``. This is the set of problems a
new solver must at least match (issue 4's floor: "solve every problem that trust-constr
solves"). BLAS is pinned to one thread. Run once:

    python bench/problems_library_baselines.py [--out problems_baselines.csv]
"""

from __future__ import annotations

import argparse
import csv
import warnings

import numpy as np
from scipy.optimize import minimize

from optsolve.bench.timing import blas_threads, time_callable
from optsolve.problems import get_problem, kkt_residual, list_problems, to_scipy

SIZES = {"POISSON_CONTROL": {"N": 16}}
TOL = 1e-6


def run(method: str, problem) -> tuple[float, object]:
    def solve():
        problem.reset_counts()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return minimize(**to_scipy(problem, method), tol=1e-10,
                            options={"maxiter": 1000})

    seconds, _, result = time_callable(solve, repeats=3, warmup=1, max_seconds=5.0)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="problems_baselines.csv")
    args = parser.parse_args()
    rows = []
    header = (f"{'problem':16s} {'n':>5s} {'m':>5s} {'f_opt':>14s} | "
              f"{'trust-constr: ok nit nfev kkt time':>40s} | {'SLSQP: ok nit nfev kkt time':>38s}")
    print(header)
    with blas_threads(1):
        for name in list_problems():
            problem = get_problem(name, **SIZES.get(name, {}))
            row = {"problem": name, "n": problem.n, "m": problem.m, "f_opt": problem.f_opt}
            cells = []
            for method in ("trust-constr", "SLSQP"):
                seconds, result = run(method, problem)
                kkt = kkt_residual(problem, result.x)
                solved = kkt <= TOL and abs(result.fun - problem.f_opt) <= TOL * max(
                    1.0, abs(problem.f_opt))
                row.update({f"{method}_solved": solved, f"{method}_nit": result.nit,
                            f"{method}_nfev": problem.counts["nfev"], f"{method}_kkt": kkt,
                            f"{method}_seconds": seconds})
                cells.append(f"{'yes' if solved else 'NO ':3s} {result.nit:5d} "
                             f"{problem.counts['nfev']:5d} {kkt:8.1e} {seconds:8.4f}s")
            rows.append(row)
            print(f"{name:16s} {problem.n:5d} {problem.m:5d} {problem.f_opt:14.7g} | "
                  f"{cells[0]:>40s} | {cells[1]:>38s}")
    for method in ("trust-constr", "SLSQP"):
        solved = [r for r in rows if r[f"{method}_solved"]]
        nits = [r[f"{method}_nit"] for r in rows]
        print(f"{method}: solved {len(solved)}/{len(rows)}, median iterations "
              f"{np.median(nits):.0f}")
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
