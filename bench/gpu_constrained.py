"""Sketched Newton inner solver, CPU vs GPU on the same large sparse KKT systems.

Rows of the table (``report`` from bench/_gpu_timing.py, speed-up = CPU time / GPU time):

* averaged block sketch-and-project (``optsolve.constrained.block_kaczmarz_solve``'s engine,
  q = 16 rows per block, p q ≈ N / 8 rows per iteration) for a fixed 2 sweeps (2 N row visits):
  the same iteration with numpy on the host (same seed, same rows: the iterates are compared)
  vs the CUDA kernels; and the library's CPU path, the numba Kaczmarz kernel
  (``SketchSolver(K, 'kaczmarz')``), for the same 2 N row visits (its row sampling,
  ``rng.choice`` with row-norm weights, is part of that path and of its time);
* time to halve the KKT residual ``‖K z - b‖`` from ``z = 0``: numba Kaczmarz vs the GPU engine
  (residual checked every N / 8 Kaczmarz rows, every 2 GPU iterations), setup excluded
  (printed: partition + block Gram inverses);
* ``S^T K`` sketch application (Gaussian q = 16: sparse x dense; count and sparse-sign q = 256:
  sparse x sparse), scipy on the host vs cuSPARSE through cupyx, the same drawn sketch;
* the first Newton system of POISSON_CONTROL (n + m = 3 N_grid² ≈ 1e6): 1 sweep, numba
  Kaczmarz vs GPU engine (the PDE's h⁻⁴ conditioning keeps both residuals near the start;
  this row is about cost per sweep).

The equality-constrained QP: n = 1e6 variables, m = 5e5 constraints,
``B = diag(1 + U[0,1]) + 0.1 (R + Rᵀ)`` (one random off-diagonal per row of R),
``G = [I_m | 0] + 3 random N(0, 1) entries per row``; ``K = [[B, Gᵀ], [G, 0]]`` (N = 1.5e6).

``bytes_moved``: sketch rows read K and the sketch once and write W; a block iteration reads
the selected rows twice (gather residual, atomic scatter: indices + values + the vector
entries), the selected Gram inverses, and makes 5 passes over length-N vectors (zero u, u·u,
z -= βu).

    python bench/gpu_constrained.py [--small]
"""

from __future__ import annotations

import argparse
import math
import time
import traceback
import warnings

import numpy as np
import scipy.sparse as sp

FAMILY = "constrained"
SWEEPS = 2
PDE_SWEEPS = 1


def make_qp_kkt(n: int, m: int, seed: int = 0):
    """Random sparse equality-constrained QP's KKT matrix and right-hand side (host)."""
    rng = np.random.default_rng(seed)
    R = sp.csr_matrix((rng.standard_normal(n), rng.integers(0, n, size=n), np.arange(n + 1)),
                      shape=(n, n))
    B = (sp.diags(1.0 + rng.random(n)) + 0.1 * (R + R.T)).tocsr()
    k = 3
    cols = rng.integers(0, n, size=(m, k))
    G = sp.csr_matrix((rng.standard_normal(m * k), cols.ravel(), np.arange(0, m * k + 1, k)),
                      shape=(m, n))
    G = (G + sp.csr_matrix((np.ones(m), np.arange(m), np.arange(m + 1)), shape=(m, n))).tocsr()
    K = sp.bmat([[B, G.T], [G, None]], format="csr")
    K.sum_duplicates()
    return K, rng.standard_normal(n + m)


def pde_kkt(grid: int):
    """First Newton system of POISSON_CONTROL at x0 (host)."""
    from optsolve.problems import get_problem

    p = get_problem("POISSON_CONTROL", N=grid)
    x, lam = p.x0, np.zeros(p.m)
    c, G = p.cons(x, gradient=True)
    K = sp.bmat([[p.hess(x, lam), G.T], [G, None]], format="csr")
    return K, -np.r_[p.grad(x) + G.T @ lam, c]


def block_iteration_bytes(eng, K_nnz: int) -> float:
    """Minimum DRAM traffic of one averaged block iteration of ``eng`` (see the docstring)."""
    rows = eng.p * eng.q
    nnz_sel = K_nnz * rows / (eng.n_blocks * eng.q)
    item = eng.dtype.itemsize
    return (nnz_sel * (4 + item + item) + nnz_sel * (4 + item + 2 * item)
            + eng.p * eng.q * eng.q * item + rows * (8 + 4 * item) + 5 * eng.N * item)


class _Host:
    """Stand-in for the device in ``--dry-run`` (numpy, wall-clock timing): checks the script."""

    def __init__(self):
        import scipy.sparse as sparse

        self.xp, self.sparse = np, sparse

    def time(self, fn, reps=3):
        fn()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        return (time.perf_counter() - t0) / reps

    def sync(self):
        pass


class _Device:
    def __init__(self):
        import cupy as cp
        import cupyx.scipy.sparse as cpsp

        self.xp, self.sparse = cp, cpsp

    def time(self, fn, reps=3):
        from _gpu_timing import gpu_time

        return gpu_time(fn, reps=reps)

    def sync(self):
        self.xp.cuda.Device().synchronize()


DRY_RUN = False


def _report(family, operation, size, t_cpu, t_gpu, moved):
    if DRY_RUN:  # no card to compare the bandwidth with, and no CSV row
        print(f"{family:<11} {operation:<34} {size:<22} {t_cpu * 1e3:>10.2f} {t_gpu * 1e3:>9.3f}"
              f" {t_cpu / t_gpu:>7.1f}x  {moved / t_gpu / 1e9:>6.1f} GB/s (dry run)")
        return
    from _gpu_timing import report

    report(family, operation, size, t_cpu, t_gpu, moved)


def bench_sketches(dev, K, Kd, size):
    from optsolve._backend import to_host
    from optsolve.constrained._gpu import apply_sketch, draw_sketch

    N = K.shape[0]
    for kind, q in (("gaussian", 16), ("count", 256), ("sparse_sign", 256)):
        try:
            S_h = draw_sketch(kind, N, q, seed=0)
            S_d = draw_sketch(kind, N, q, seed=0, xp=dev.xp)
            t0 = time.perf_counter()  # scipy: no warm-up needed, one call (seconds)
            W_h = apply_sketch(K, kind, q, symmetric=True, sketch=S_h)[0]
            t_cpu = time.perf_counter() - t0
            W_d = apply_sketch(Kd, kind, q, symmetric=True, sketch=S_d)[0]
            if kind == "gaussian":
                err = np.abs(to_host(W_d) - W_h).max() / np.abs(W_h).max()
                out_bytes, s_bytes = W_h.size * 8, S_h.size * 8
            else:
                err = abs(sp.linalg.norm(to_host(W_d) - W_h) / sp.linalg.norm(W_h))
                out_bytes, s_bytes = W_h.nnz * 12 + (q + 1) * 4, S_h.nnz * 12 + (q + 1) * 4
            t_gpu = dev.time(lambda S_d=S_d, kind=kind, q=q: apply_sketch(
                Kd, kind, q, symmetric=True, sketch=S_d), reps=5)
            moved = K.nnz * 12 + (N + 1) * 4 + s_bytes + out_bytes
            print(f"   S^T K {kind}: q = {q}, relative difference GPU vs CPU {err:.1e}")
            _report(FAMILY, f"S^T K {kind} q={q}", size, t_cpu, t_gpu, moved)
        except Exception:
            traceback.print_exc()


def _cpu_time(fn, reps=3, warmup=1):
    from _gpu_timing import cpu_time

    return cpu_time(fn, reps=reps, warmup=warmup)


def _run_fixed(eng, rhs, iters, first):
    eng.z[...] = 0
    for _ in range(iters):
        eng.step(rhs)
    if not first:
        first.append(eng.z.copy())


def bench_block_iterations(dev, K, Kd, b, size):
    """Returns the GPU engine (reused by the time-to-target row) or None."""
    from optsolve._backend import to_host
    from optsolve.constrained import SketchSolver
    from optsolve.constrained._gpu import BlockKaczmarz

    N = K.shape[0]
    try:
        t0 = time.perf_counter()
        eng_d = BlockKaczmarz(Kd, seed=0)
        dev.sync()
        setup_gpu = time.perf_counter() - t0
        t0 = time.perf_counter()
        eng_h = BlockKaczmarz(K, seed=0)
        setup_cpu = time.perf_counter() - t0
        iters = math.ceil(SWEEPS * N / (eng_d.p * eng_d.q))
        print(f"   block sketch-and-project: q = {eng_d.q}, p = {eng_d.p} blocks "
              f"({eng_d.p * eng_d.q} rows) per iteration, {iters} iterations = {SWEEPS} sweeps; "
              f"setup (partition + {eng_d.n_blocks} Gram inverses) CPU {setup_cpu:.2f} s, "
              f"GPU {setup_gpu:.3f} s")
        rhs_d, rhs_h = eng_d.permuted_rhs(dev.xp.asarray(b)), eng_h.permuted_rhs(b)
        first_d, first_h = [], []
        t_gpu = dev.time(lambda: _run_fixed(eng_d, rhs_d, iters, first_d), reps=3)
        t_cpu = _cpu_time(lambda: _run_fixed(eng_h, rhs_h, iters, first_h), reps=1, warmup=0)
        z_d, z_h = to_host(first_d[0]), first_h[0]
        bnorm = np.linalg.norm(b)
        print(f"   same rows: max |z_gpu - z_cpu| / max |z_cpu| = "
              f"{np.abs(z_d - z_h).max() / np.abs(z_h).max():.1e}; relative residual after "
              f"{SWEEPS} sweeps {np.linalg.norm(K @ z_h - b) / bnorm:.3f}")
        moved = iters * block_iteration_bytes(eng_d, K.nnz)
        _report(FAMILY, f"block SP {SWEEPS} sweeps vs numpy", size, t_cpu, t_gpu, moved)
        solver = SketchSolver(K, "kaczmarz", np.random.default_rng(0))
        solver.run(b, 0.0, 1000)  # numba compilation
        solver = SketchSolver(K, "kaczmarz", np.random.default_rng(0))
        t0 = time.perf_counter()
        _, res = solver.run(b, 0.0, SWEEPS * N)
        t_numba = time.perf_counter() - t0
        print(f"   numba Kaczmarz, {SWEEPS} N rows: relative residual {res / bnorm:.3f}")
        _report(FAMILY, f"block SP {SWEEPS} sweeps vs numba RK", size, t_numba, t_gpu, moved)
        return eng_d
    except Exception:
        traceback.print_exc()
        return None


def bench_time_to_half(dev, K, Kd, b, eng_d, size):
    from optsolve.constrained import SketchSolver

    N = K.shape[0]
    bnorm = float(np.linalg.norm(b))
    try:
        solver = SketchSolver(K, "kaczmarz", np.random.default_rng(1),
                              check_every=max(64, N // 8))
        t0 = time.perf_counter()
        _, res_cpu = solver.run(b, 0.5 * bnorm, 400 * N)
        t_cpu = time.perf_counter() - t0
        bd = dev.xp.asarray(b)
        stats = {}

        def gpu_solve():
            eng_d.z[...] = 0
            eng_d.check_every, eng_d.n_iter = 2, 0
            stats["res"] = eng_d.run(bd, 0.5 * bnorm, 100_000)[1]
            stats["it"] = eng_d.n_iter

        t_gpu = dev.time(gpu_solve, reps=3)
        print(f"   halve ‖Kz - b‖: numba Kaczmarz {solver.n_iter / N:.2f} sweeps (residual "
              f"{res_cpu / bnorm:.3f}), GPU {stats['it']} iterations = "
              f"{stats['it'] * eng_d.p * eng_d.q / N:.2f} sweeps (residual "
              f"{stats['res'] / bnorm:.3f})")
        _report(FAMILY, "time to halve residual vs numba RK", size, t_cpu, t_gpu,
                stats["it"] * block_iteration_bytes(eng_d, K.nnz))
    except Exception:
        traceback.print_exc()


def bench_pde(dev, grid):
    from optsolve.constrained import SketchSolver
    from optsolve.constrained._gpu import BlockKaczmarz

    try:
        K, b = pde_kkt(grid)
        N = K.shape[0]
        size = f"PDE N={N:.1e} nnz={K.nnz:.1e}"
        eng_d = BlockKaczmarz(dev.sparse.csr_matrix(K), seed=0)
        iters = math.ceil(PDE_SWEEPS * N / (eng_d.p * eng_d.q))
        rhs_d = eng_d.permuted_rhs(dev.xp.asarray(b))
        first = []
        t_gpu = dev.time(lambda: _run_fixed(eng_d, rhs_d, iters, first), reps=3)
        bnorm = np.linalg.norm(b)
        from optsolve._backend import to_host

        res_gpu = np.linalg.norm(K @ to_host(first[0]) - b) / bnorm
        solver = SketchSolver(K, "kaczmarz", np.random.default_rng(0))
        t0 = time.perf_counter()
        _, res = solver.run(b, 0.0, PDE_SWEEPS * N)
        t_cpu = time.perf_counter() - t0
        print(f"   POISSON_CONTROL grid {grid}: {PDE_SWEEPS} sweep(s), relative residual numba "
              f"Kaczmarz {res / bnorm:.3f}, GPU block {res_gpu:.3f}")
        _report(FAMILY, f"PDE block SP {PDE_SWEEPS} sweep vs numba RK", size, t_cpu, t_gpu,
                iters * block_iteration_bytes(eng_d, K.nnz))
    except Exception:
        traceback.print_exc()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--dry-run", action="store_true",
                        help="no GPU: run every row with numpy in place of CuPy (checks the "
                             "script, the timings mean nothing)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore")
    global DRY_RUN
    DRY_RUN = args.dry_run
    dev = _Host() if args.dry_run else _Device()
    n = 20_000 if args.small else 1_000_000
    grid = 40 if args.small else 577
    with threadpool_limits(1):
        t0 = time.perf_counter()
        K, b = make_qp_kkt(n, n // 2)
        N = K.shape[0]
        size = f"QP N={N:.1e} nnz={K.nnz:.1e}"
        print(f"constrained: random sparse QP KKT, n = {n}, m = {n // 2}, N = {N}, "
              f"nnz(K) = {K.nnz} (built in {time.perf_counter() - t0:.1f} s); CPU paths are "
              "scipy (sketches), numpy (same block iteration) and numba (Kaczmarz), 1 thread")
        Kd = dev.sparse.csr_matrix(K)
        eng_d = bench_block_iterations(dev, K, Kd, b, size)
        if eng_d is not None:
            bench_time_to_half(dev, K, Kd, b, eng_d, size)
        bench_sketches(dev, K, Kd, size)
        del Kd, eng_d
        bench_pde(dev, grid)


if __name__ == "__main__":
    main()
