"""Cost of the Poisson-control problem's evaluations and exact KKT solve as the grid grows.

For N = 16, 32, 64, 128 (n = 2N² unknowns, m = N² constraints) prints the median time of
``cons``, ``jac``, ``hess``, ``hprod``, ``jprod(transpose=True)`` and of the sparse direct KKT
solve behind ``x_opt``, the nonzeros of the Jacobian, and the peak memory of the solve
(tracemalloc), each also per unknown: evaluations should cost O(n), the 2-D nested-dissection
LU about O(n^1.5). BLAS pinned to one thread. Run once:

    python bench/problems_pde_scaling.py
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from optsolve.bench.timing import blas_threads, time_callable
from optsolve.problems import get_problem

GRIDS = (16, 32, 64, 128)


def main() -> None:
    print(f"{'N':>4s} {'n':>7s} {'nnz(J)':>8s} | {'cons':>9s} {'jac':>9s} {'hess':>9s} "
          f"{'hprod':>9s} {'jprodT':>9s} | {'KKT solve':>10s} {'peak MB':>8s} | "
          f"{'jac ns/unk':>10s} {'solve us/unk':>12s}")
    with blas_threads(1):
        for N in GRIDS:
            measure(N)


def evaluation_times(p, x, v) -> dict[str, float]:
    return {
        "cons": time_callable(lambda: p.cons(x), repeats=5)[0],
        "jac": time_callable(lambda: p.jac(x), repeats=5)[0],
        "hess": time_callable(lambda: p.hess(x, v), repeats=5)[0],
        "hprod": time_callable(lambda: p.hprod(x, x, v), repeats=5)[0],
        "jprodT": time_callable(lambda: p.jprod(v, x, transpose=True), repeats=5)[0],
    }


def measure(N: int) -> None:
    p = get_problem("POISSON_CONTROL", N=N)
    x = np.random.default_rng(0).standard_normal(p.n)
    t = evaluation_times(p, x, np.ones(p.m))
    tracemalloc.start()
    fresh = get_problem("POISSON_CONTROL", N=N)
    solve, _, _ = time_callable(fresh.solve_exact, repeats=1, warmup=0)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    err = np.abs(fresh.x_opt - fresh.closed_form_solution()).max()
    assert err < 1e-8, f"KKT solve inaccurate at N={N}: {err:.1e}"
    print(f"{N:4d} {p.n:7d} {p.jac(x).nnz:8d} | "
          + " ".join(f"{t[k] * 1e3:7.3f}ms" for k in t)
          + f" | {solve:9.3f}s {peak:8.1f} | {t['jac'] / p.n * 1e9:10.1f} "
          f"{solve / p.n * 1e6:12.2f}")

if __name__ == "__main__":
    main()
