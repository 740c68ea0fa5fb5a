"""Bound-constrained Poisson control (``POISSON_CONTROL(control_bounds=(0, 10))``): how
``optsolve.constrained.minimize`` scales in time and memory with the number of unknowns
``n = 2N²`` up to 10⁵, against IPOPT (cyipopt, sparse derivatives, MUMPS) in the same run.

Each (grid, solver) pair runs in a fresh subprocess (so that the peak resident memory,
``ru_maxrss``, is that solve's), BLAS pinned to one thread: wall time of the solve, peak RSS
(minus the process's RSS before the solve) and tracemalloc's peak of Python/numpy allocations
during a second, traced solve (small grids only; tracing slows the solve). The solution is
checked against the active-set reference of the problem (``x_opt``) and by the family's KKT
measure. A least-squares line through the log-log points of the largest grids gives the
exponent ``time ~ n^s`` (1 = linear). For ``eal-direct`` each row also has the number of
sparse factorizations of the Newton matrix and the size of the LDLᵀ factor of the Newton
matrix at the solution's active set (``nnz(L)`` and the factorization flops
``Σ_j nnz(L_{:,j})²``): with the Newton iterations and factorizations constant in ``n``, the
slope of those flops is the slope the solve cannot beat (a sparse factorization of a 2-D grid
costs at least ``n^1.5`` flops for any ordering, Hoffman, Martin & Rose 1973; QDLDL's AMD
gives about ``n^1.7`` here, the supernodal backend's nested dissection, used from
``SUPERNODAL_MIN_ROWS`` rows on when ``pymetis`` is installed, about ``n^1.5``; which backend
factorized is in ``ldl_backend``). ``eal-sketch`` runs up to ``SKETCH_MAX_N`` unknowns only.

Writes ``bench/results/constrained_pde_bounds_scaling.{json,png,md}``.

    python bench/constrained_pde_bounds_scaling.py --quick     # N = 8, 16, 32
    python bench/constrained_pde_bounds_scaling.py             # N = 16 ... 224 (n = 100352)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

GRIDS = (16, 32, 64, 128, 224)
QUICK = (8, 16, 32)
BOUNDS = (0.0, 10.0)
SOLVERS = ("optsolve (eal-direct)", "optsolve (eal-sketch)", "IPOPT (cyipopt, sparse)")
TRACE_MAX_N = 10_000  # tracemalloc only up to this many unknowns
#: eal-sketch only up to this many unknowns: on the Poisson KKT matrix (condition ~ h⁻⁴) the
#: Kaczmarz solves never reach their target, spend their budget and fall back to the LDLᵀ
SKETCH_MAX_N = 8_192
REFERENCE_MAX_N = 40_000  # the active-set reference (several sparse LUs) only up to this size


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _ipopt_sparse(p):
    """IPOPT on the problem with its fixed sparsity (linear constraints, diagonal Hessian)."""
    import cyipopt
    import scipy.sparse as sp

    J0 = sp.coo_matrix(p.jac(p.x0))
    H0 = sp.tril(sp.coo_matrix(p.hess(p.x0, np.zeros(p.m)))).tocoo()

    class NLP:
        iterations = 0

        def objective(self, x):
            return p.obj(x)

        def gradient(self, x):
            return p.grad(x)

        def constraints(self, x):
            return p.cons(x)

        def jacobianstructure(self):
            return J0.row, J0.col

        def jacobian(self, x):
            J = sp.csr_matrix(p.jac(x))
            return np.asarray(J[J0.row, J0.col]).ravel()

        def hessianstructure(self):
            return H0.row, H0.col

        def hessian(self, x, lagrange, obj_factor):
            # the constraints are linear: the Lagrangian's Hessian is the objective's
            H = sp.csr_matrix(p.hess(x, np.zeros(p.m)))
            return obj_factor * np.asarray(H[H0.row, H0.col]).ravel()

        def intermediate(self, alg_mod, iter_count, *args):
            NLP.iterations = int(iter_count)
            return True

    clip = lambda a: np.clip(a, -1e20, 1e20)  # noqa: E731
    nlp = cyipopt.Problem(n=p.n, m=p.m, problem_obj=NLP(), lb=clip(p.bl), ub=clip(p.bu),
                          cl=np.zeros(p.m), cu=np.zeros(p.m))
    for key, value in (("tol", 1e-10), ("print_level", 0), ("sb", "yes"),
                       ("hessian_constant", "yes"), ("jac_c_constant", "yes")):
        nlp.add_option(key, value)
    x, info = nlp.solve(np.clip(p.x0, p.bl, p.bu))
    own = (np.asarray(info["mult_g"]), np.asarray(info["mult_x_L"]),
           np.asarray(info["mult_x_U"]))
    return x, NLP.iterations, int(info["status"]) in (0, 1), own


def _final_fill(p, x) -> dict:
    """Size of the LDLᵀ factor of the Newton matrix at the solution's active set (the cost
    that no reuse removes): ``nnz(L)`` and the factorization flops ``Σ_j nnz(L_{:,j})²``."""
    import scipy.sparse as sp

    from optsolve.constrained._ldl import ldl_factor

    on = np.flatnonzero((x <= p.bl + 1e-8) | (x >= p.bu - 1e-8))
    E = sp.csr_matrix((np.ones(on.size), (np.arange(on.size), on)), shape=(on.size, p.n))
    G = sp.vstack([sp.csr_matrix(p.jac(x)), E], format="csr")
    K = sp.bmat([[sp.csr_matrix(p.hess(x, np.zeros(p.m))), G.T], [G, None]], format="csr")
    factor = ldl_factor(K, p.n)
    if factor is None:
        return {}
    nnz_L, flops = factor.factor_size()
    return {"kkt_rows": int(K.shape[0]), "kkt_nnz": int(K.nnz), "ldl_backend": factor.backend,
            "ldl_nnz_L": float(nnz_L), "ldl_flops": float(flops)}


def solve_once(N: int, solver: str) -> dict:
    """One solve in this process (the subprocess side)."""
    from threadpoolctl import threadpool_limits

    from optsolve.constrained import kkt_residuals, minimize
    from optsolve.problems import get_problem

    def run(p):
        run.n_factorizations = None
        if solver.startswith("IPOPT"):
            return _ipopt_sparse(p)
        method = "eal-direct" if "direct" in solver else "eal-sketch"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = minimize(p, method=method, tol=1e-8, options={"random_state": 0})
        run.n_factorizations = int(r.get("n_factorizations", 0))
        return r.x, int(r.nit), bool(r.success), r

    with threadpool_limits(1):
        p = get_problem("POISSON_CONTROL", N=N, control_bounds=BOUNDS, target="sine")
        rss0 = _rss_mb()
        t0 = time.perf_counter()
        x, nit, ok, own = run(p)
        seconds = time.perf_counter() - t0
        rss_peak = _rss_mb() - rss0
        traced = float("nan")
        if p.n <= TRACE_MAX_N:
            q = get_problem("POISSON_CONTROL", N=N, control_bounds=BOUNDS, target="sine")
            tracemalloc.start()
            run(q)
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        # the family's measure, with the solver's multipliers or estimated ones (the smaller)
        kkt = min(kkt_residuals(p, x).kkt, kkt_residuals(p, x, own).kkt)
        x_ref = p.solve_exact()[0] if p.n <= REFERENCE_MAX_N else None
    fill = _final_fill(p, x) if "direct" in solver else {}
    return {"N": N, "n": p.n, "m": p.m, "solver": solver, "time_s": seconds, "nit": nit,
            "n_factorizations": run.n_factorizations, **fill,
            "success": ok, "kkt": float(kkt),
            "err_vs_reference": (float(np.max(np.abs(x - x_ref)) / np.max(np.abs(x_ref)))
                                 if x_ref is not None else float("nan")),
            "rss_peak_increase_MB": rss_peak, "tracemalloc_peak_MB": traced,
            "n_active_bounds": int(np.sum((x[p.m:] <= BOUNDS[0] + 1e-8)
                                          | (x[p.m:] >= BOUNDS[1] - 1e-8)))}


def slope(rows: list[dict], key: str, last: int = 3) -> float:
    pts = [(r["n"], r[key]) for r in rows if r.get(key) and np.isfinite(r[key]) and r[key] > 0]
    pts = pts[-last:]
    if len(pts) < 2:
        return float("nan")
    n, y = np.log([a for a, _ in pts]), np.log([b for _, b in pts])
    return float(np.polyfit(n, y, 1)[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--grids", type=int, nargs="*")
    parser.add_argument("--solvers", nargs="*", default=list(SOLVERS))
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per solve")
    parser.add_argument("--one", nargs=2, metavar=("N", "SOLVER"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(solve_once(int(args.one[0]), args.one[1])), flush=True)
        return 0
    grids = args.grids or (QUICK if args.quick else GRIDS)
    solvers = [s for s in SOLVERS if any(k in s for k in args.solvers)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "constrained_pde_bounds_scaling.json"
    rows = []
    for N in grids:
        for solver in solvers:
            if "sketch" in solver and 2 * N * N > SKETCH_MAX_N:
                continue
            try:
                proc = subprocess.run([sys.executable, __file__, "--one", str(N), solver],
                                      capture_output=True, text=True, timeout=args.timeout)
                line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")),
                            None)
                row = json.loads(line[7:]) if line else {
                    "N": N, "n": 2 * N * N, "solver": solver, "error": proc.stderr[-300:]}
            except subprocess.TimeoutExpired:
                row = {"N": N, "n": 2 * N * N, "solver": solver,
                       "error": f"over {args.timeout:g} s"}
            rows.append(row)
            print(json.dumps(row), flush=True)
            path.write_text(json.dumps(rows, indent=1))
    lines = ["| solver | " + " | ".join(f"n = {2 * N * N}" for N in grids)
             + " | time slope | RSS slope |", "|---|" + "---|" * (len(grids) + 2)]
    for solver in solvers:
        mine = [r for r in rows if r["solver"] == solver and "error" not in r]
        cells = []
        for N in grids:
            r = next((r for r in rows if r["solver"] == solver and r["N"] == N), {})
            fact = (f", {r['n_factorizations']} fact." if r.get("n_factorizations") is not None
                    else "")
            cells.append(f"{r['time_s']:.2f} s, {r['rss_peak_increase_MB']:.0f} MB, "
                         f"{r['nit']} it{fact}, KKT {r['kkt']:.0e}" if "time_s" in r
                         else r.get("error", "-")[:40])
        lines.append(f"| {solver} | " + " | ".join(cells) + f" | "
                     f"{slope(mine, 'time_s'):.2f} | {slope(mine, 'rss_peak_increase_MB'):.2f} |")
    ratios = []
    for N in grids:
        mine = next((r for r in rows if "direct" in r["solver"] and r["N"] == N
                     and "time_s" in r), None)
        peer = next((r for r in rows if r["solver"].startswith("IPOPT") and r["N"] == N
                     and "time_s" in r), None)
        if mine and peer:
            mem = mine["rss_peak_increase_MB"] / max(peer["rss_peak_increase_MB"], 1e-9)
            ratios.append(f"n = {mine['n']}: time {mine['time_s'] / peer['time_s']:.2f}x, "
                          f"memory {mem:.2f}x")
    direct = [r for r in rows if "direct" in r["solver"] and "ldl_nnz_L" in r]
    fill = ""
    if direct:
        fill = ("\n\nLDLᵀ of the Newton matrix at the solution's active set: "
                + ", ".join(f"n = {r['n']} ({r.get('ldl_backend', '?')}): nnz(L) "
                            f"{r['ldl_nnz_L']:.3g}, flops "
                            f"{r['ldl_flops']:.3g}" for r in direct)
                + f"; slopes: nnz(L) {slope(direct, 'ldl_nnz_L'):.2f}, "
                  f"flops {slope(direct, 'ldl_flops'):.2f}.")
    text = ("Bound-constrained Poisson control, control bounds (0, 10), tol 1e-8; per cell: "
            "wall time, peak RSS increase, iterations (and sparse factorizations), KKT at the "
            "returned point. Slopes: least-squares exponent of n over the three largest "
            "grids.\n\n" + "\n".join(lines)
            + ("\n\neal-direct / IPOPT: " + "; ".join(ratios) if ratios else "") + fill)
    (out / "constrained_pde_bounds_scaling.md").write_text(text + "\n")
    print(text)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 0
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    for solver, style in zip(solvers, ("o-", "s--", "^-."), strict=False):
        mine = [r for r in rows if r["solver"] == solver and "error" not in r]
        if not mine:
            continue
        n = [r["n"] for r in mine]
        ax[0].loglog(n, [r["time_s"] for r in mine], style,
                     label=f"{solver} (slope {slope(mine, 'time_s'):.2f})")
        ax[1].loglog(n, [max(r["rss_peak_increase_MB"], 1e-1) for r in mine], style,
                     label=f"{solver} (slope {slope(mine, 'rss_peak_increase_MB'):.2f})")
    for a, label in ((ax[0], "seconds"), (ax[1], "peak RSS increase [MB]")):
        lo, hi = 2 * grids[0] ** 2, 2 * grids[-1] ** 2
        ref = [r for r in rows if "time_s" in r]
        if ref:
            y0 = min(r["time_s" if a is ax[0] else "rss_peak_increase_MB"] for r in ref
                     if r["n"] == lo) if any(r["n"] == lo for r in ref) else 1.0
            a.loglog([lo, hi], [max(y0, 1e-2), max(y0, 1e-2) * hi / lo], "k:", label="O(n)")
        a.set_xlabel("unknowns n = 2N²")
        a.set_ylabel(label)
        a.legend(fontsize=7)
    fig.suptitle("Poisson control with control bounds: minimize vs IPOPT")
    fig.tight_layout()
    fig.savefig(out / "constrained_pde_bounds_scaling.png", dpi=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
