"""DP solve time: L = 50…500 layers × 101 levels × 10⁴…10⁵ budget bins.

optsolve's numba ``allocate_dp`` against a plain numpy DP (same discretization, vectorized over
the budget) in the same process, BLAS threads pinned to 1; the Lagrangian allocator's time and
its distortion excess over the DP optimum are reported beside them.

Run: ``python bench/pruning_dp_timing.py [--layers 50,100,200,500] [--bins 10000,100000]``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from optsolve.bench.timing import compare_solvers, time_callable
from optsolve.pruning import allocate_dp, allocate_lagrangian
from optsolve.pruning._bench import N_LEVELS, numpy_dp, random_curves


def _total(a, levels):
    return float(np.take_along_axis(a, levels[:, None], 1).sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default="50,100,200,500")
    ap.add_argument("--bins", default="10000,100000")
    ap.add_argument("--sparsity", type=float, default=0.9)
    args = ap.parse_args(argv)
    allocate_dp(*random_curves(3, 5), budget=10, n_bins=10)  # compile once, untimed
    out = ["| layers | levels | bins | numba DP [s] | numpy DP [s] | speed-up | Lagrangian [s] "
           "| Lagrangian excess |", "|---|---|---|---|---|---|---|---|"]
    for n_layers in map(int, args.layers.split(",")):
        costs, dist = random_curves(n_layers)
        budget = (1 - args.sparsity) * costs[:, 0].sum()
        for n_bins in map(int, args.bins.split(",")):
            big = n_layers * n_bins > 2e7
            best = _total(dist, allocate_dp(costs, dist, budget, n_bins))
            cmp = compare_solvers(
                lambda c=costs, d=dist, n=n_bins, b=budget: allocate_dp(c, d, b, n),
                lambda c=costs, d=dist, n=n_bins, b=budget: numpy_dp(c, d, b, n),
                lambda lv, d=dist, ref=best: abs(_total(d, lv) - ref) / ref,
                tol=1e-12, name="allocate_dp", peer_name="numpy.dp",
                repeats=1 if big else 3, warmup=0, threads=1,
            )
            t_lag, _, lv = time_callable(
                lambda c=costs, d=dist, b=budget: allocate_lagrangian(c, d, b), repeats=3)
            excess = (_total(dist, lv) - best) / best
            out.append(f"| {n_layers} | {N_LEVELS} | {n_bins} | {cmp.time:.3f} | "
                       f"{cmp.peer_time:.3f} | {cmp.ratio:.1f}x | {t_lag:.3f} | {excess:.2e} |")
            sys.stdout.write(out[-1] + "\n")
            sys.stdout.flush()
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
