"""Scaling in |Omega|: time per AltMin sweep and peak memory, 1e5 ... 1e8 observed entries.

Synthetic rank-10 matrices with m = n growing with |Omega| (about 100 observations per row,
n = |Omega| / 100, up to n = 1e6 at |Omega| = 1e8). Each size runs in a fresh subprocess so
that its peak resident memory (``ru_maxrss``) is its own; threads pinned to 1. The observations
are drawn here in chunks (uniform entries, duplicates dropped) because the generator of
``optsolve.datasets`` builds |Omega| x k temporaries, which at 1e8 entries would not fit.

Run:  python bench/completion_scaling.py [--max-nnz 1e7]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, warnings
import numba, numpy as np, scipy.sparse as sp
from threadpoolctl import threadpool_limits
numba.set_num_threads(1)
threadpool_limits(1)
from optsolve.completion import altmin
nnz, k, solver = int(float(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
n = max(1000, nnz // 100)
rng = np.random.default_rng(0)
U = rng.standard_normal((n, k)) / np.sqrt(k); V = rng.standard_normal((n, k)) / np.sqrt(k)
keys = np.unique(rng.integers(0, n * n, size=int(nnz * 1.001)))[:nnz]
rows, cols = np.divmod(keys, n); del keys
vals = np.empty(rows.shape[0])
for s in range(0, rows.shape[0], 1 << 22):
    e = s + (1 << 22)
    vals[s:e] = np.einsum("ij,ij->i", U[rows[s:e]], V[cols[s:e]])
X = sp.csr_matrix((vals, (rows, cols)), shape=(n, n)); del rows, cols, vals
altmin(X[:300, :300], 3, solver=solver, max_iter=1, tol=0.0, options={"min_rank": 0})
warnings.simplefilter("ignore")
t0 = time.perf_counter()
res = altmin(X, k, solver=solver, max_iter=3, tol=0.0, record_history=True, random_state=0,
             options={"min_rank": 0})  # force the sketch (default: exact below rank 40)
total = time.perf_counter() - t0
sweep = float(np.median(np.diff(res.history["time"])))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(dict(nnz=X.nnz, n=n, k=k, solver=solver, sweep_s=sweep, total_s=total,
                      peak_rss_bytes=rss, rel_residual=res.rel_residual)))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-nnz", type=float, default=1e7)
    ap.add_argument("--rank", type=int, default=10)
    args = ap.parse_args()
    sizes = [s for s in (1e5, 1e6, 1e7, 3e7, 1e8) if s <= args.max_nnz]
    rows = []
    for nnz in sizes:
        for solver in ("sketched", "exact"):
            out = subprocess.run([sys.executable, "-c", CHILD, str(nnz), str(args.rank), solver],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"|Omega|={nnz:.0e} {solver}: failed\n{out.stderr[-2000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(f"|Omega|={r['nnz']:.2e} n=m={r['n']:8d} {solver:8s} sweep {r['sweep_s']:8.3f}s "
                  f"({r['sweep_s'] / r['nnz'] * 1e9:6.1f} ns/entry)  peak RSS "
                  f"{r['peak_rss_bytes'] / 2**30:6.2f} GiB "
                  f"({r['peak_rss_bytes'] / r['nnz']:.0f} B/entry)  total {r['total_s']:.1f}s",
                  flush=True)


if __name__ == "__main__":
    main()
