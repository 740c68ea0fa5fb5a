"""Time per AltMin sweep vs rank k at fixed |Omega|: sketched vs exact row solvers.

Both solvers run inside the real algorithm (spectral init, warm starts, orthonormalization),
in this process, single-threaded (BLAS and numba threads pinned to 1), and the time per sweep is
the median of the per-sweep times recorded in ``history`` after the first sweep. Two
geometries at the same |Omega|:

* ``square``: m = n, every row and column has d ~ |Omega| / n observations;
* ``long_rows``: one U half-step (``row_least_squares``) on m << n rows of
  d_i = |Omega| / m observations (the regime d_i >> k^2 of the analysis), warm-started 1 %
  away from the solution as inside AltMin, solved to the default reduction 1e-2.

In the square geometry rows with d <= 2 s = 8 k observations are solved exactly by both
solvers (a sketch cannot shrink them), so at k >= d / 8 the two curves run the same code.

Run:  python bench/completion_sweep_vs_rank.py [--quick]
Writes optsolve-results/completion/sweep_vs_rank.{csv,png}.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
import warnings
from pathlib import Path

import numba
import numpy as np

from optsolve.bench.timing import blas_threads
from optsolve.completion import altmin, row_least_squares
from optsolve.datasets import make_incoherent_low_rank

OUT = Path("optsolve-results/completion")


#: the sketched solver skips the sketch below rank 40 by default; here the sketch is forced on
#: every row long enough for it, so that the curve is the sketch-and-precondition method itself
FORCE_SKETCH = {"min_rank": 0}


def sweep_time(X, k, solver, n_sweeps=3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = altmin(X, k, solver=solver, max_iter=n_sweeps, tol=0.0, random_state=0,
                     record_history=True, options=FORCE_SKETCH)
    t = np.diff(res.history["time"])
    return float(np.median(t)), res.cg_iterations


def long_row_half_step(X, k, method):
    """One U half-step on rows with d_i >> k: warm start 1 % away from the solution."""
    rng = np.random.default_rng(k)
    F = rng.standard_normal((X.shape[1], k)) / np.sqrt(X.shape[1])
    exact, _ = row_least_squares(X, F, method="exact")
    x0 = exact * (1 + 1e-2 * rng.standard_normal(exact.shape))
    t0 = time.perf_counter()
    got, iters = row_least_squares(X, F, method=method, x0=x0, tol=1e-2, options=FORCE_SKETCH)
    dt = time.perf_counter() - t0
    err = np.linalg.norm(got - exact) / np.linalg.norm(exact)
    return dt, iters, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    numba.set_num_threads(1)
    ranks = [5, 10, 20, 40] if args.quick else [5, 10, 20, 40, 60, 80, 100]
    n_sq, p_sq = (800, 0.5) if args.quick else (1500, 0.5)
    m_lr, n_lr = (100, 10000) if args.quick else (200, 20000)
    p_lr = 0.5
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with blas_threads(1):
        # warm-up: compile every kernel once
        Xw, _, _ = make_incoherent_low_rank(200, 200, 3, 0.3, random_state=0)
        for s in ("exact", "sketched"):
            altmin(Xw, 3, solver=s, max_iter=2, tol=0.0)
        X_sq, _, _ = make_incoherent_low_rank(n_sq, n_sq, 5, p_sq, random_state=0)
        X_lr, _, _ = make_incoherent_low_rank(m_lr, n_lr, 5, p_lr, random_state=0)
        for k in ranks:
            te, _ = sweep_time(X_sq, k, "exact")
            ts, _ = sweep_time(X_sq, k, "sketched")
            le, _, _ = long_row_half_step(X_lr, k, "exact")
            ls, it, err = long_row_half_step(X_lr, k, "sketched")
            row = dict(k=k, square_nnz=X_sq.nnz, square_exact_s=te, square_sketched_s=ts,
                       square_ratio=te / ts, long_nnz=X_lr.nnz, long_exact_s=le,
                       long_sketched_s=ls, long_ratio=le / ls,
                       long_cg_per_row=it / m_lr, long_rel_err=err)
            rows.append(row)
            print(f"k={k:4d}  square sweep: exact {te:7.3f}s sketched {ts:7.3f}s "
                  f"(exact/sketched {te / ts:5.2f})   long-row half-step: exact {le:7.3f}s "
                  f"sketched {ls:7.3f}s (ratio {le / ls:5.2f}, {it / m_lr:.1f} CG it/row, "
                  f"err {err:.1e})", flush=True)
    with open(OUT / "sweep_vs_rank.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    ks = [r["k"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in ((axes[0], "square", f"square {n_sq}x{n_sq}, |Ω|={X_sq.nnz:.1e}"),
                           (axes[1], "long", f"long rows {m_lr}x{n_lr}, d_i={X_lr.nnz // m_lr}")):
        ax.loglog(ks, [r[f"{key}_exact_s"] for r in rows], "o-", label="exact (normal eq.)")
        ax.loglog(ks, [r[f"{key}_sketched_s"] for r in rows], "s-", label="sketched (PCG)")
        ax.set_xlabel("rank k")
        ax.set_ylabel("seconds per sweep" if key == "square" else "seconds per U half-step")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "sweep_vs_rank.png", dpi=100)
    print("wrote", OUT / "sweep_vs_rank.csv", "threads:", os.environ.get("OMP_NUM_THREADS", "1"))


if __name__ == "__main__":
    main()
