"""Greedy BCD: the CPU path (numba) against the device engine (CuPy + csrc/bcd_greedy.cu) on the
same problems. Run by bench/gpu_check.sh on a GPU machine; ``--small`` for a smoke run.

Rows: the GS score + argmax over all coordinates and the top-k variable block (10⁷
coordinates), one greedy iteration (select, step, residual/gradient refresh) on a sparse design
with 10⁶ features and on a dense one, and a Lasso solved to a relative duality gap of 1e-4.
"""

from __future__ import annotations

import argparse
import time
import traceback

import numpy as np
import scipy.sparse as sp
from _gpu_timing import cpu_time, gpu_time, report

from optsolve.bcd import L1, LeastSquares, minimize_bcd
from optsolve.bcd import _gpu_ops as ops
from optsolve.bcd import rules as R


def _selection(cp, p: int) -> None:
    rng = np.random.default_rng(0)
    g, w = rng.standard_normal(p), rng.standard_normal(p)
    w[::2] = 0.0
    lips = rng.uniform(0.5, 2.0, p)
    pens, alphas, keys = np.ones(p, np.int64), np.full(p, 0.3), np.empty(p)

    def cpu_argmax():
        R.all_coordinate_keys(1, pens, alphas, g, w, lips, keys)
        return int(np.argmax(keys))

    dg, dw, dl = cp.asarray(g), cp.asarray(w), cp.asarray(lips)
    ws = ops.ArgmaxWorkspace(cp, np.float64, p)
    best, _ = ops.best_coordinate(cp, 1, 1, 0.3, dg, dw, dl, ws)
    assert int(best.get()[0]) == cpu_argmax(), "GPU and CPU chose different coordinates"
    report("bcd", "GSL score+argmax (all coords)", f"p={p:.0e}", cpu_time(cpu_argmax),
           gpu_time(lambda: ops.best_coordinate(cp, 1, 1, 0.3, dg, dw, dl, ws), reps=20),
           3 * 8 * p)

    def cpu_topk():
        R.all_coordinate_keys(1, pens, alphas, g, w, lips, keys)
        return np.argpartition(-keys, 63)[:64]

    def gpu_topk():
        return ops.top_k(cp, ops.coordinate_scores(cp, 1, 1, 0.3, dg, dw, dl), 64)

    report("bcd", "GSL top-64 variable block", f"p={p:.0e}", cpu_time(cpu_topk),
           gpu_time(gpu_topk, reps=10), 5 * 8 * p)


def _sparse_problem(cp, n: int, p: int, nnz: int, seed: int = 0):
    """Random sparse design built on the GPU (a COO draw, duplicates summed), and its host copy."""
    import cupyx.scipy.sparse as cpsp

    rs = cp.random.RandomState(seed)
    rows = rs.randint(0, n, nnz, dtype=cp.int32)
    cols = rs.randint(0, p, nnz, dtype=cp.int32)
    vals = rs.standard_normal(nnz)
    dX = cpsp.coo_matrix((vals, (rows, cols)), shape=(n, p)).tocsr()
    dX.sum_duplicates()
    w_true = cp.zeros(p)
    w_true[rs.randint(0, p, 200)] = rs.standard_normal(200)
    dy = dX @ w_true + 0.01 * rs.standard_normal(n)
    return dX, dy, dX.get(), dy.get()


def _per_iteration(run, n1: int, n2: int, timer) -> float:
    """Seconds per block update: the difference of two budgets cancels the set-up."""
    return (timer(lambda: run(n2)) - timer(lambda: run(n1))) / (n2 - n1)


def _iterations(cp, X, y, dX, dy, label: str, n1: int, n2: int) -> None:
    alpha = 0.1 * float(np.max(np.abs(X.T @ y))) / X.shape[0]

    def run(n, XX, yy):
        return minimize_bcd(LeastSquares(), L1(alpha), X=XX, y=yy, selection="gsl",
                            update="gradient", tol=0.0, max_iter=n)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_cpu = _per_iteration(lambda n: run(n, X, y), n1, n2,
                               lambda f: cpu_time(f, reps=1, warmup=1))
        t_gpu = _per_iteration(lambda n: run(n, dX, dy), n1, n2,
                               lambda f: gpu_time(f, reps=3, warmup=1))
    nnz = X.nnz if sp.issparse(X) else X.size
    per_row = nnz / X.shape[0]
    per_col = nnz / X.shape[1]
    # one GS iteration reads grad, w, lips once (24 B / coordinate) and, for a sparse X, one
    # column and the rows it touches (12 B / non-zero, atomics on the gradient); dense: X twice
    touched = per_col * per_row * 12 + per_col * 12 if sp.issparse(X) else 2 * 8 * nnz
    report("bcd", f"greedy iteration, {label}", f"{X.shape[0]}x{X.shape[1]}", t_cpu, t_gpu,
           24 * X.shape[1] + touched)


def _lasso(cp, X, y, dX, dy) -> None:
    alpha = 0.1 * float(np.max(np.abs(X.T @ y))) / X.shape[0]
    kw = {"tol": 1e-4, "fit_intercept": False}
    t0 = time.perf_counter()
    res_cpu = minimize_bcd(LeastSquares(), L1(alpha), X=X, y=y, **kw)
    t_cpu = time.perf_counter() - t0
    res_gpu = None

    def solve():
        nonlocal res_gpu
        res_gpu = minimize_bcd(LeastSquares(), L1(alpha), X=dX, y=dy, **kw)

    t_gpu = gpu_time(solve, reps=1, warmup=1)
    diff = float(np.max(np.abs(res_gpu.x.get() - res_cpu.x)))
    print(f"   lasso alpha_max/10: CPU 'auto' (working-set prox-Newton) nit={res_cpu.nit} "
          f"gap={res_cpu.optimality:.1e}; GPU greedy coordinate engine nit={res_gpu.nit} "
          f"gap={res_gpu.optimality:.1e}; max|x_gpu - x_cpu| = {diff:.1e}; "
          f"support {int(np.count_nonzero(res_cpu.x))}")
    report("bcd", "Lasso to rel. gap 1e-4 (CPU: auto)", f"{X.shape[0]}x{X.shape[1]}", t_cpu,
           t_gpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="tiny sizes (smoke run)")
    args = parser.parse_args()
    import cupy as cp

    small = args.small
    p_sel = 10_000 if small else 10_000_000
    n, p, nnz = (2_000, 10_000, 100_000) if small else (100_000, 1_000_000, 10_000_000)
    nd, pd = (500, 2_000) if small else (2_000, 10_000)
    print(f"   sizes: selection p={p_sel}; sparse {n}x{p} with {nnz} non-zeros; dense {nd}x{pd}")
    steps = [
        ("selection", lambda: _selection(cp, p_sel)),
    ]
    sparse = {}

    def make_sparse():
        sparse["data"] = _sparse_problem(cp, n, p, nnz)

    steps += [
        ("sparse problem", make_sparse),
        ("sparse iterations", lambda: _iterations(cp, sparse["data"][2], sparse["data"][3],
                                                  sparse["data"][0], sparse["data"][1],
                                                  "sparse CSR", 1000, 5000)),
        ("sparse lasso", lambda: _lasso(cp, sparse["data"][2], sparse["data"][3],
                                        sparse["data"][0], sparse["data"][1])),
    ]

    def dense_iterations():
        rs = np.random.default_rng(1)
        X = rs.standard_normal((nd, pd))
        y = X[:, :20] @ rs.standard_normal(20) + 0.01 * rs.standard_normal(nd)
        _iterations(cp, X, y, cp.asarray(X), cp.asarray(y), "dense", 50, 250)

    steps.append(("dense iterations", dense_iterations))
    for name, step in steps:
        t0 = time.perf_counter()
        try:
            step()
        except Exception:
            print(f"   [{name}] FAILED")
            traceback.print_exc()
        print(f"   [{name}] {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
