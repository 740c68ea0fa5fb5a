"""AltMin matrix completion, CPU (numba, all cores) vs GPU (csrc/completion_rows.cu), same problem.

Rows of the table (``report`` from bench/_gpu_timing.py, speed-up = CPU time / GPU time):

* one AltMin sweep (V half-step over the columns, U half-step over the rows, residuals) at
  |Omega| = 1e8 (1e6 x 1e5, ~100 observations per row, ~1000 per column), k = 10 (every row
  exact: below the sketch's rank crossover) and k = 64 (rows exact, columns sketched + PCG);
  the CPU is timed on a tenth of the rows / columns and scaled to the full pattern (said so);
* the spectral initialization: the library's CPU init (randomized SVD) and scipy ``svds``
  against cupyx ``svds`` on the device CSR, at |Omega| = 2e6;
* ``AltMinCompletion.fit`` end to end (validation, init, 8 sweeps) at |Omega| = 1e7, k = 10.

Data are generated on the GPU (cupy.random: planted low-rank + noise) and copied to the host.
``bytes_moved`` of a sweep counts the CSR once per half-step plus one fixed-factor row gathered
per observed entry (the design rows each row solve must read), and the residual pass; the
GB/s column is therefore an effective gather bandwidth.

    python bench/gpu_completion.py [--small]
"""

from __future__ import annotations

import argparse
import time
import traceback
import warnings

import numpy as np
from _gpu_timing import cpu_time, gpu_time, report
from threadpoolctl import threadpool_limits

FAMILY = "completion"


def make_problem(cp, m, n, nnz, rank, seed=0):
    """Planted rank-``rank`` matrix, ~``nnz`` distinct uniformly drawn entries, CSR on the GPU."""
    import cupyx.scipy.sparse as cpsp

    rs = cp.random.RandomState(seed)
    rows = rs.randint(0, m, size=int(nnz * 1.001), dtype=np.int64)
    cols = rs.randint(0, n, size=rows.size, dtype=np.int64)
    keys = cp.unique(rows * n + cols)[:nnz]
    rows, cols = keys // n, keys % n
    U = rs.standard_normal((m, rank)) / np.sqrt(rank)
    V = rs.standard_normal((n, rank))
    vals = cp.empty(keys.size)
    step = 1 << 24
    for lo in range(0, keys.size, step):
        r, c = rows[lo : lo + step], cols[lo : lo + step]
        vals[lo : lo + step] = (U[r] * V[c]).sum(axis=1)
    vals += 0.01 * rs.standard_normal(vals.size)
    indptr = cp.searchsorted(rows, cp.arange(m + 1, dtype=np.int64)).astype(cp.int32)
    X = cpsp.csr_matrix((vals, cols.astype(cp.int32), indptr), shape=(m, n))
    del rows, cols, keys
    return X, U, V


def _sweep(kern, full, full_t, U, V, k, solver, opts):
    """One engine sweep body (no biases, no ridge): V half-step, U half-step, residuals."""
    from optsolve.completion._gpu import _half_step

    xp = kern.xp
    zero_m, zero_n, mean = xp.zeros(full.shape[0]), xp.zeros(full.shape[1]), xp.zeros(1)
    step = dict(solver=solver, alpha=0.0, biases=False, opts=opts, keep_empty=False)
    V, _, _ = _half_step(kern, full_t, U, zero_m, V, zero_n, mean, 11, **step)
    U, _, _ = _half_step(kern, full, V, zero_n, U, zero_m, mean, 12, **step)
    return kern.residuals(full, U, V, zero_m, zero_n, mean)


def _warm_numba(solver, opts, k):
    """Compile the parallel CPU kernels (|Omega| above PARALLEL_MIN_ENTRIES) before timing."""
    import scipy.sparse as sp

    from optsolve.completion._gpu import HostKernels

    X = sp.random(3000, 1000, density=0.1, format="csr", random_state=0, dtype=np.float64)
    kern = HostKernels()
    full = kern.pattern(X)
    rng = np.random.default_rng(0)
    _sweep(kern, full, kern.transpose(full), rng.standard_normal((3000, k)),
           rng.standard_normal((1000, k)), k, solver, opts)


def bench_sweep(cp, m, n, nnz, k, *, subset):
    from optsolve.completion._gpu import DeviceKernels, HostKernels
    from optsolve.completion.sketched_ls import ROW_SOLVER_OPTIONS

    opts = ROW_SOLVER_OPTIONS.resolve(None)
    X, _, _ = make_problem(cp, m, n, nnz, 10)
    nnz = X.nnz
    dk = DeviceKernels(cp)
    full = dk.pattern(X)
    full_t = dk.transpose(full)
    rs = cp.random.RandomState(1)
    U0, V0 = rs.standard_normal((m, k)), rs.standard_normal((n, k))
    n_sketched = int((cp.diff(full_t.indptr) > 8 * k).sum()) if k >= opts["min_rank"] else 0
    label = "rows exact" if n_sketched == 0 else f"{n_sketched} cols sketched"
    def gpu_sweep():
        return _sweep(dk, full, full_t, U0.copy(), V0.copy(), k, "sketched", opts)

    t_gpu = gpu_time(gpu_sweep, reps=3)
    # CPU: the same kernels' numba versions on a leading fraction of rows and columns
    hk = HostKernels()
    Xh = X.get()
    Xth = full_t.csr.get()
    Uh, Vh = cp.asnumpy(U0), cp.asnumpy(V0)
    X = full = full_t = None  # free the device CSRs before the CPU part
    cp.get_default_memory_pool().free_all_blocks()
    m_sub, n_sub = max(1, int(m * subset)), max(1, int(n * subset))
    rows_sub, cols_sub = Xh[:m_sub], Xth[:n_sub]
    with threadpool_limits(1, "blas"):
        _warm_numba("sketched", opts, k)
        pu, pv = hk.pattern(rows_sub), hk.pattern(cols_sub)
        step = dict(alpha=0.0, method="sketched", opts=opts, col_offset=np.zeros(m),
                    shift=np.zeros(1), keep_empty=False)

        def v_half():
            hk.solve_rows(pv, Uh, Vh[:n_sub].copy(), seed=11, **step)

        def u_half():
            hk.solve_rows(pu, Vh, Uh[:m_sub].copy(), seed=12, **{**step,
                                                                 "col_offset": np.zeros(n)})

        def resid():
            hk.residuals(pu, Uh[:m_sub], Vh, np.zeros(m_sub), np.zeros(n), np.zeros(1))

        t_v = cpu_time(v_half, reps=1, warmup=0)
        t_u = cpu_time(u_half, reps=1, warmup=0)
        t_r = cpu_time(resid, reps=1, warmup=0)
    t_cpu = (t_v * nnz / max(cols_sub.nnz, 1) + t_u * nnz / max(rows_sub.nnz, 1)
             + t_r * nnz / max(rows_sub.nnz, 1))
    # CSR (int32 index + float64 value) per half-step and residual pass, one k-row gather per
    # entry per half-step, two per residual entry, factor writes
    bytes_moved = 3 * 12 * nnz + 2 * 8 * k * nnz + 2 * 8 * k * nnz + 8 * k * (m + n)
    print(f"  sweep k={k}: |Omega|={nnz:.3g}, {m}x{n}, {label}; CPU timed on "
          f"{subset:.0%} of rows/cols (V {t_v:.2f}s, U {t_u:.2f}s, res {t_r:.2f}s) and scaled",
          flush=True)
    del Xh, Xth
    report(FAMILY, f"altmin sweep k={k} ({label})", f"|Omega|={nnz:.2g}", t_cpu, t_gpu,
           bytes_moved)


def bench_init(cp, m, n, nnz, k):
    from scipy.sparse.linalg import svds as svds_cpu

    from optsolve.completion import spectral_init
    from optsolve.completion._gpu import DeviceKernels

    X, _, _ = make_problem(cp, m, n, nnz, k, seed=3)
    dk = DeviceKernels(cp)
    pattern = dk.pattern(X)
    t_gpu = gpu_time(lambda: dk.spectral_init(pattern, k, cp.zeros(1), None), reps=3)
    Xh = X.get()
    t_rand = cpu_time(lambda: spectral_init(Xh, k, random_state=0), reps=1, warmup=0)
    t_svds = cpu_time(lambda: svds_cpu(Xh, k=k, random_state=0), reps=1, warmup=0)
    # Lanczos: each step reads the CSR twice (A and A^T products); count 2(k + 20) steps
    bytes_moved = 2 * (k + 20) * 2 * 12 * X.nnz
    size = f"|Omega|={X.nnz:.2g} k={k}"
    report(FAMILY, "spectral init: randomized (CPU)/svds", size, t_rand, t_gpu, bytes_moved)
    report(FAMILY, "spectral init: scipy svds/cupyx svds", size, t_svds, t_gpu, bytes_moved)


def bench_fit(cp, m, n, nnz, k, max_iter):
    from optsolve.completion import AltMinCompletion

    X, U, V = make_problem(cp, m, n, nnz, k, seed=5)
    Xh = X.get()
    kw = dict(rank=k, max_iter=max_iter, tol=1e-12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(1, "blas"):
            AltMinCompletion(**{**kw, "max_iter": 1}).fit(Xh[: m // 20])  # numba warm-up
            t0 = time.perf_counter()
            est_cpu = AltMinCompletion(**kw).fit(Xh)
            t_cpu = time.perf_counter() - t0
        est_gpu = AltMinCompletion(**kw).fit(X)  # compile + warm-up
        t_gpu = gpu_time(lambda: AltMinCompletion(**kw).fit(X), reps=1, warmup=0)
    rows, cols = cp.arange(0, m, 7), cp.arange(0, m, 7) % n
    truth = (U[rows] * V[cols]).sum(axis=1)

    def rmse(pred):
        return float(cp.sqrt(cp.mean((cp.asarray(pred) - truth) ** 2)))

    rmse_cpu = rmse(est_cpu.predict(cp.asnumpy(rows), cp.asnumpy(cols)))
    rmse_gpu = rmse(est_gpu.predict(rows, cols))
    print(f"  fit k={k}, {max_iter} sweeps: RMSE vs planted: CPU {rmse_cpu:.3e}, GPU "
          f"{rmse_gpu:.3e} (noise 1e-2); n_iter CPU {est_cpu.n_iter_}, GPU {est_gpu.n_iter_}",
          flush=True)
    report(FAMILY, f"AltMinCompletion.fit k={k} ({max_iter} sw)", f"|Omega|={X.nnz:.2g}", t_cpu,
           t_gpu, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes (smoke run)")
    args = parser.parse_args()
    import cupy as cp

    if args.small:
        sweep = dict(m=20_000, n=2_000, nnz=1_000_000, subset=1.0)
        init = dict(m=5_000, n=1_000, nnz=100_000, k=10)
        fit = dict(m=5_000, n=1_000, nnz=200_000, k=10, max_iter=4)
    else:
        sweep = dict(m=1_000_000, n=100_000, nnz=100_000_000, subset=0.1)
        init = dict(m=100_000, n=20_000, nnz=2_000_000, k=10)
        fit = dict(m=100_000, n=20_000, nnz=10_000_000, k=10, max_iter=8)
    print(f"completion GPU bench ({'small' if args.small else 'full'}): sweep {sweep}, "
          f"init {init}, fit {fit}", flush=True)
    jobs = [
        ("sweep k=10", lambda: bench_sweep(cp, k=10, **sweep)),
        ("sweep k=64", lambda: bench_sweep(cp, k=64, **sweep)),
        ("spectral init", lambda: bench_init(cp, **init)),
        ("fit", lambda: bench_fit(cp, **fit)),
    ]
    for name, job in jobs:
        t0 = time.perf_counter()
        try:
            job()
        except Exception:  # one failing operation must not hide the others
            print(f"  [{name}] FAILED:", flush=True)
            traceback.print_exc()
        finally:
            cp.get_default_memory_pool().free_all_blocks()
        print(f"  [{name}] {time.perf_counter() - t0:.1f} s wall", flush=True)


if __name__ == "__main__":
    main()
