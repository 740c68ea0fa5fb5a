"""Poisson control (library problem POISSON_CONTROL) at N = 16, 32, 64, 128: how the sketched
EAL Newton method scales with the number of unknowns n = 2N² (m = N²).

Rows per grid:
* ``eal-direct`` -- minimize_eq with sparse LU Newton solves: wall time and peak Python memory
  (tracemalloc) of the whole solve; K is assembled as scipy.sparse CSR (never dense above
  1000 unknowns);
* ``kaczmarz`` -- cost of the inner sketch solver on the first Newton system: time per sweep
  (N_K = n + m row steps) and the relative residual reached after a fixed budget of sweeps,
  which shows the trap of the issue: the work per sweep is linear, but the number of sweeps
  Kaczmarz needs grows with cond(K)² (the PDE's h^-4 conditioning), so the solver falls back
  to the direct solve on these grids;
* ``trust-constr`` on the smaller grids (scipy, same process) for reference.

Writes bench/results/constrained_pde_scaling.{json,png}.

    python bench/constrained_pde_scaling.py
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import numpy as np

from optsolve.bench.timing import blas_threads, time_callable
from optsolve.constrained import SketchSolver, minimize_eq
from optsolve.constrained._bench import run_trust_constr
from optsolve.problems import get_problem

GRIDS = (16, 32, 64, 128)
SWEEPS = 20


def kaczmarz_cost(p):
    """Time per sweep and residual after SWEEPS sweeps on the first Newton system."""
    import scipy.sparse as sp

    x, lam = p.x0, np.zeros(p.m)
    g = p.grad(x)
    c, G = p.cons(x, gradient=True)
    B = p.hess(x, lam)
    K = sp.bmat([[B, G.T], [G, None]], format="csr")
    b = -np.r_[g + G.T @ lam, c]
    solver = SketchSolver(K, "kaczmarz", np.random.default_rng(0))
    solver.run(b, 0.0, K.shape[0])  # warm-up (numba compilation)
    solver = SketchSolver(K, "kaczmarz", np.random.default_rng(0))
    t0 = time.perf_counter()
    _, res = solver.run(b, 0.0, SWEEPS * K.shape[0])
    dt = time.perf_counter() - t0
    return dt / SWEEPS, res / np.linalg.norm(b), solver.flops / SWEEPS


def main():
    rows = []
    with blas_threads(1):
        for N in GRIDS:
            p = get_problem("POISSON_CONTROL", N=N)
            t, _, res = time_callable(lambda p=p: minimize_eq(p, method="eal-direct"),
                                      repeats=3, max_seconds=30)
            tracemalloc.start()
            minimize_eq(get_problem("POISSON_CONTROL", N=N), method="eal-direct")
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            sweep_t, rel_res, sweep_flops = kaczmarz_cost(p)
            row = {"N": N, "n": p.n, "m": p.m, "direct_time_s": t, "direct_peak_MB": peak,
                   "direct_nit": int(res.nit), "direct_kkt": float(res.kkt),
                   "kaczmarz_sweep_s": sweep_t, "kaczmarz_sweep_flops": sweep_flops,
                   f"kaczmarz_relres_after_{SWEEPS}_sweeps": rel_res}
            if N <= 32:
                pt = get_problem("POISSON_CONTROL", N=N)
                row["trust_constr_time_s"] = time_callable(lambda pt=pt: run_trust_constr(pt),
                                                           repeats=1)[0]
            rows.append(row)
            print(row, flush=True)
    n = np.array([r["n"] for r in rows], float)
    for key in ("direct_time_s", "direct_peak_MB", "kaczmarz_sweep_s"):
        y = np.array([r[key] for r in rows])
        slope = np.polyfit(np.log(n), np.log(y), 1)[0]
        print(f"{key}: log-log slope vs n = {slope:.2f} (1 = linear)")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "constrained_pde_scaling.json").write_text(json.dumps(rows, indent=1))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return rows
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].loglog(n, [r["direct_time_s"] for r in rows], "o-", label="minimize_eq (direct)")
    ax[0].loglog(n, [r["kaczmarz_sweep_s"] for r in rows], "s-", label="one Kaczmarz sweep")
    ax[0].loglog(n, n * rows[0]["direct_time_s"] / n[0], "k:", label="O(n)")
    ax[0].set_xlabel("unknowns n = 2N²")
    ax[0].set_ylabel("seconds")
    ax[0].legend()
    ax[1].loglog(n, [r["direct_peak_MB"] for r in rows], "o-", label="peak memory (direct)")
    ax[1].loglog(n, n * rows[0]["direct_peak_MB"] / n[0], "k:", label="O(n)")
    ax[1].set_xlabel("unknowns n = 2N²")
    ax[1].set_ylabel("MB")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(out / "constrained_pde_scaling.png", dpi=100)
    return rows


if __name__ == "__main__":
    main()
