"""Wall-clock to a relative duality gap <= 1e-6: optsolve.bcd vs scikit-learn, skglm and celer.

Lasso and L1-logistic regression, no intercept, on the shared LIBSVM files and on synthetic
wide sparse sets of several shapes and densities (:data:`EXTRA_SETS` below and
``optsolve.bcd._bench.SYNTHETIC_SETS``), at alpha = alpha_max / 10, / 100 and / 1000 (the
low-regularization regime, where thousands of features are active).
Every contender runs in this process with BLAS pinned to one thread; each peer's own ``tol`` is
calibrated (untimed) down a decade ladder until its solution's relative gap — computed by
``optsolve.bcd.duality_gap`` for everyone — is <= 1e-6. Times are medians after a warm-up.

    python bench/bcd_vs_peers.py                       # everything (long: run once)
    python bench/bcd_vs_peers.py --sets a9a w8a --divisors 10 100
    python bench/bcd_vs_peers.py --sets synthetic_1000x10000 --kinds lasso
    python bench/bcd_vs_peers.py --path --sets synthetic_2000x20000_d1  # bcd_path vs lasso_path
    python bench/bcd_vs_peers.py --quick                  # two small synthetic sets, /1000 only

Prints one row per (problem, contender) and the ratio peer_time / optsolve_time (> 1: optsolve
faster), then one summary row per problem: the fastest peer, fastest_peer / optsolve, the best
scikit-learn solver / optsolve, and whether the target of issue 20 is met (no slower than the
fastest peer, and at least 2x scikit-learn wherever scikit-learn needs more than 0.1 s).
Writes ``bcd_vs_peers_<clock>.csv`` and ``bcd_vs_peers_<clock>.md`` into ``--out`` (default
./bench/results/bcd/).

``--path``: :func:`optsolve.bcd.bcd_path` against :func:`sklearn.linear_model.lasso_path`
and ``celer.celer_path`` on the same grid (``--n-alphas`` alphas from alpha_max down to
alpha_max / 1000), every solve to a relative duality gap <= 1e-6 (the peers' ``tol``
calibrated so that the worst alpha of the grid reaches it).

``--clock cpu`` times with ``time.process_time`` instead of wall-clock: every contender is
single-threaded here (BLAS pinned to one thread), so on a shared, oversubscribed machine the
process CPU time measures the solver's own work without the other tenants' load.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import time
import warnings
from pathlib import Path

import numpy as np

from optsolve.bcd._bench import (
    CALIBRATION_BUDGET_S,
    CONTENDERS,
    LIBSVM_FILES,
    SYNTHETIC_SETS,
    TARGET_GAP,
    alpha_max,
    as_csc32,
    calibrate,
    load_set,
    make_problem,
    relative_gap,
)
from optsolve.bench.timing import blas_threads, time_callable

#: wide sparse synthetic sets of the low-regularization comparison: (n, p, density)
EXTRA_SETS = {"synthetic_1000x10000_d5": (1000, 10000, 0.05),
              "synthetic_2000x20000_d1": (2000, 20000, 0.01),
              "synthetic_5000x50000_d02": (5000, 50000, 0.002),
              "synthetic_500x20000_d2": (500, 20000, 0.02)}
QUICK_SETS = ["synthetic_1000x10000_d5", "synthetic_2000x20000_d1"]
#: scikit-learn must need more than this for the 2x target to apply (issue 20)
SKLEARN_MIN_S = 0.1


def load(name, kind):
    """``(X, y)`` of :data:`EXTRA_SETS` (as ``optsolve.bcd._bench.load_set`` builds its
    synthetic sets), else of ``load_set``."""
    if name not in EXTRA_SETS:
        return load_set(name, kind)
    from optsolve.datasets import make_sparse_classification, make_sparse_regression

    n, p, density = EXTRA_SETS[name]
    if kind == "lasso":
        X, y, _ = make_sparse_regression(n, p, density=density, column_scale=0.0,
                                         random_state=0)
    else:
        X, y, _ = make_sparse_classification(n, p, density=density, flip_y=0.1,
                                             random_state=0)
    return X, y


def cpu_time_callable(fn, *, repeats, warmup, max_seconds, min_seconds=0.25):
    """Like :func:`optsolve.bench.timing.time_callable`, with process CPU time; returns the
    minimum (the least disturbed run).

    At least ``repeats`` runs, and for sub-millisecond solves as many as fill ``min_seconds``:
    this machine has slow spells of tens of milliseconds (page faults in the VM), and a
    minimum over 31 runs of 0.5 ms can fall entirely inside one.
    """
    for _ in range(warmup):
        fn()
    times, out = [], None
    while True:
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
        total = sum(times)
        if total > max_seconds or (len(times) >= max(1, repeats) and total >= min_seconds):
            break
    return min(times), times, out


def run(sets, kinds, divisors, out_dir, repeats, max_seconds, skip, clock="wall"):
    timer = cpu_time_callable if clock == "cpu" else time_callable
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    summary = []
    header = (f"{'problem':<44} {'contender':<18} {'time [s]':>9} {'rel gap':>9} "
              f"{'tol used':>9} {'peer/ours':>9}")
    print(header)
    print("-" * len(header))
    for name in sets:
        for kind in kinds:
            try:
                X, y = load(name, kind)
            except Exception as exc:
                print(f"{name}: skipped ({exc})")
                continue
            for divisor in divisors:
                problem = make_problem(name, kind, X, y, divisor, None)
                Xp, yp, alpha = problem.data
                ours_time = None
                times = {}
                for cname, ckinds, fit, tol0, is_peer, requires in CONTENDERS:
                    if kind not in ckinds or cname in skip:
                        continue
                    if any(importlib.util.find_spec(m) is None for m in requires):
                        continue
                    with blas_threads(1):
                        tol = tol0
                        if is_peer:
                            tol, _ = calibrate(fit, kind, Xp, yp, alpha, tol0)
                        if tol is None:
                            rows.append((problem.name, cname, np.nan, np.nan, np.nan, np.nan))
                            print(f"{problem.name:<44} {cname:<18} {'did not reach 1e-6':>30}")
                            continue

                        def solve(fit=fit, tol=tol, kind=kind, Xp=Xp, yp=yp, alpha=alpha):
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                return fit(kind, Xp, yp, alpha, tol)[0]

                        t, _, coef = timer(solve, repeats=repeats, warmup=1,
                                           max_seconds=max_seconds)
                    gap = relative_gap(kind, Xp, yp, alpha, coef)
                    if cname == "optsolve.bcd":
                        ours_time = t
                    if gap <= TARGET_GAP * 1.01:
                        times[cname] = t
                    ratio = t / ours_time if (ours_time and is_peer) else np.nan
                    rows.append((problem.name, cname, t, gap, tol, ratio))
                    flag = "" if gap <= TARGET_GAP else " !"
                    print(f"{problem.name:<44} {cname:<18} {t:>9.4f} {gap:>9.1e} {tol:>9.0e} "
                          f"{ratio:>9.2f}{flag}", flush=True)
                summary.append(summarize(problem, times))
    path = out_dir / f"bcd_vs_peers_{clock}.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["problem", "contender", "time_s", "rel_gap", "tol", "peer_over_ours"])
        writer.writerows(rows)
    print(f"wrote {path}")
    write_summary(summary, out_dir / f"bcd_vs_peers_{clock}.md")
    return rows, summary


def summarize(problem, times):
    """One row: times, ratios to the fastest peer and to the best scikit-learn solver, and
    whether the target is met."""
    ours = times.get("optsolve.bcd", np.nan)
    peers = {k: v for k, v in times.items() if k != "optsolve.bcd"}
    fastest = min(peers, key=peers.get) if peers else None
    sk = [v for k, v in peers.items() if k.startswith("sklearn")]
    sk_time = min(sk) if sk else np.nan
    r_fast = peers[fastest] / ours if fastest else np.nan
    r_sk = sk_time / ours
    met = bool(r_fast >= 1.0 and (sk_time <= SKLEARN_MIN_S or r_sk >= 2.0))
    meta = problem.meta
    return {"problem": problem.name, "shape": f"{meta['n_samples']}x{meta['n_features']}",
            "nnz": meta["nnz"], "optsolve": ours, "sklearn": sk_time,
            "skglm": times.get("skglm", np.nan), "celer": times.get("celer", np.nan),
            "fastest_peer": fastest or "-", "fastest_over_ours": r_fast,
            "sklearn_over_ours": r_sk, "met": met}


def write_summary(summary, path):
    cols = ["problem", "shape", "nnz", "optsolve", "sklearn", "skglm", "celer",
            "fastest_peer", "fastest_over_ours", "sklearn_over_ours", "met"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in summary:
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append("-" if not np.isfinite(v) else (
                    f"{v:.2f}" if c.endswith("ours") else f"{v:.4f}"))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    n_met = sum(r["met"] for r in summary)
    print(f"target met on {n_met} of {len(summary)} problems; wrote {path}")


# ---------------------------------------------------------------------------- paths


def _path_gaps(kind, X, y, alphas, coefs):
    return np.array([relative_gap(kind, X, y, a, coefs[:, k]) for k, a in enumerate(alphas)])


def _bcd_path(X, y, alphas, tol):
    from optsolve.bcd import bcd_path

    return bcd_path(X, y, alphas=alphas, tol=tol)[1]


def _sk_path(X, y, alphas, tol):
    from sklearn.linear_model import lasso_path

    return lasso_path(X, y, alphas=alphas, tol=tol, max_iter=100_000)[1]


def _celer_path(X, y, alphas, tol):
    from celer import celer_path

    return celer_path(X, y, "lasso", alphas=alphas, tol=tol, max_iter=200)[1]


PATH_CONTENDERS = [("optsolve.bcd_path", _bcd_path, TARGET_GAP, False, ()),
                   ("sklearn.lasso_path", _sk_path, 0.5 * TARGET_GAP, True, ()),
                   ("celer.celer_path", _celer_path, TARGET_GAP, True, ("celer",))]


def _calibrate_path(fit, X, y, alphas, tol0, steps=6):
    """Loosest ``tol0 · 10^-k`` whose worst relative gap over the grid is <= TARGET_GAP."""
    tol, spent = tol0, 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coefs = fit(X, y, alphas, tol)
        spent += time.perf_counter() - t0
        if np.max(_path_gaps("lasso", X, y, alphas, coefs)) <= TARGET_GAP:
            return tol
        if spent > 4 * CALIBRATION_BUDGET_S:
            break
        tol *= 0.1
    return None


def run_paths(sets, n_alphas, out_dir, repeats, max_seconds, skip, clock="wall"):
    timer = cpu_time_callable if clock == "cpu" else time_callable
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'path (lasso, ' + str(n_alphas) + ' alphas to amax/1000)':<44} {'contender':<20} "
          f"{'time [s]':>9} {'worst gap':>9} {'tol used':>9} {'peer/ours':>9}")
    for name in sets:
        try:
            X, y = load(name, "lasso")
        except Exception as exc:
            print(f"{name}: skipped ({exc})")
            continue
        X = as_csc32(X)
        y = np.asarray(y, dtype=np.float64)
        amax = alpha_max("lasso", X, y)
        alphas = np.geomspace(amax, amax / 1000, n_alphas)
        ours = None
        for cname, fit, tol0, is_peer, requires in PATH_CONTENDERS:
            if cname in skip or any(importlib.util.find_spec(m) is None for m in requires):
                continue
            with blas_threads(1):
                tol = _calibrate_path(fit, X, y, alphas, tol0) if is_peer else tol0
                if tol is None:
                    print(f"{name:<44} {cname:<20} {'did not reach 1e-6':>30}")
                    rows.append((name, cname, np.nan, np.nan, np.nan, np.nan))
                    continue

                def solve(fit=fit, tol=tol, X=X, y=y, alphas=alphas):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        return fit(X, y, alphas, tol)

                t, _, coefs = timer(solve, repeats=repeats, warmup=1, max_seconds=max_seconds)
            worst = float(np.max(_path_gaps("lasso", X, y, alphas, coefs)))
            if not is_peer:
                ours = t
            ratio = t / ours if (ours and is_peer) else np.nan
            rows.append((name, cname, t, worst, tol, ratio))
            print(f"{name:<44} {cname:<20} {t:>9.3f} {worst:>9.1e} {tol:>9.0e} {ratio:>9.2f}",
                  flush=True)
    path = out_dir / f"bcd_path_vs_peers_{clock}.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["problem", "contender", "time_s", "worst_rel_gap", "tol",
                         "peer_over_ours"])
        writer.writerows(rows)
    print(f"wrote {path}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+",
                        default=[*LIBSVM_FILES, *SYNTHETIC_SETS, *EXTRA_SETS])
    parser.add_argument("--kinds", nargs="+", default=["lasso", "l1_logistic"])
    parser.add_argument("--divisors", nargs="+", type=int, default=[10, 100, 1000])
    parser.add_argument("--out", type=Path, default=Path("bench/results/bcd"))
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--max-seconds", type=float, default=3.0)
    parser.add_argument("--skip", nargs="*", default=[], help="contenders to leave out")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--path", action="store_true",
                        help="time regularization paths (bcd_path vs lasso_path, celer_path)")
    parser.add_argument("--n-alphas", type=int, default=100)
    parser.add_argument("--quick", action="store_true",
                        help="two small synthetic sets at alpha_max / 1000 (paths: 20 alphas)")
    args = parser.parse_args()
    if args.quick:
        # saga needs minutes to reach a 1e-6 gap at alpha_max / 1000: liblinear is the
        # scikit-learn reference there
        args.sets, args.divisors, args.repeats = QUICK_SETS, [1000], 3
        args.skip = [*args.skip, "sklearn.saga"]
        args.n_alphas = min(args.n_alphas, 20)
    t0 = time.perf_counter()
    if args.path:
        run_paths(args.sets, args.n_alphas, args.out, args.repeats, args.max_seconds,
                  set(args.skip), args.clock)
    else:
        run(args.sets, args.kinds, args.divisors, args.out, args.repeats, args.max_seconds,
            set(args.skip), args.clock)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
