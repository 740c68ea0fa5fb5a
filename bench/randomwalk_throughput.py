"""Walk throughput on one core: base chains and the SRRW on a graph of 10^5 nodes, average
degree 10 (the issue's target: >= 1e7 steps/s for the base chains, >= 1e6 for the SRRW).

The graph is G(n, m) with m = 5 n - n random edges plus a Hamiltonian cycle (connected,
average degree ~10, neighbours scattered in memory like a real graph's). Only the walk is
timed: the chain is built once (``base_chain``), the kernels are compiled by a warm-up walk,
paths are not stored; the uniforms are drawn inside the timed call (they are part of a step).
Rates are steps per second of this process's CPU time (``time.process_time``): on a shared
machine the wall clock counts the time other processes hold the core; the wall-clock rate
and the load average are recorded beside it.
The peer is the same SRRW / MH step written in plain numpy over the current row (what a
research script does), timed over fewer steps; rows report the ratio.

A base-chain step cannot start before the row of the node it moved to has arrived, and on a graph
larger than the per-core cache that row is one dependent memory access away. So the rate of one
walk is bounded by ``1 / latency``: the bench measures that latency in the same run (a pointer
chase over as many bytes as the chain's rows, one cache line per load, in random order) and
reports each base chain's rate as a fraction of the bound.

    python bench/randomwalk_throughput.py [--quick] [--steps N]

Writes bench/results/randomwalk_throughput.{csv,md}.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numba import njit
from threadpoolctl import threadpool_limits

from optsolve.randomwalk import base_chain, random_walk, srrw_walk

RESULTS = Path(__file__).parent / "results"


def graph(n: int, avg_degree: int, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    m = n * avg_degree // 2 - n
    r, c = rng.integers(0, n, m), rng.integers(0, n, m)
    i = np.arange(n)
    perm = rng.permutation(n)
    r = np.concatenate([r, perm])
    c = np.concatenate([c, np.roll(perm, 1)])
    keep = r != c
    A = sp.coo_matrix((np.ones(keep.sum()), (r[keep], c[keep])), shape=(n, n)).tocsr()
    A = ((A + A.T) > 0).astype(np.float64).tocsr()
    del i
    return A


def numpy_srrw(chain, alpha: float, n_steps: int, seed: int) -> np.ndarray:
    """Plain numpy SRRW (alpha = 0: the base chain): weights over the current row."""
    rng = np.random.default_rng(seed)
    counts = chain.mu.copy()  # x_0 = mu, x_n ∝ counts
    cur = 0
    for _ in range(n_steps):
        sl = slice(chain.indptr[cur], chain.indptr[cur + 1])
        nb = chain.indices[sl]
        logw = np.log(chain.p[sl] + 1e-300) - alpha * np.log(counts[nb] / chain.mu[nb])
        w = np.exp(logw - logw.max())
        cur = nb[np.searchsorted(np.cumsum(w), rng.random() * w.sum(), side="right")]
        counts[cur] += 1
    return counts


@njit(cache=True)
def _chase(nxt, m):
    j = 0
    for _ in range(m):
        j = nxt[j]
    return j


def load_latency(nbytes: int, loads: int, seed: int = 0) -> float:
    """CPU seconds per dependent load over ``nbytes`` of memory, one cache line per load in a
    random cyclic order (best of three)."""
    n_lines = max(int(nbytes) // 64, 2)
    order = np.random.default_rng(seed).permutation(n_lines)
    nxt = np.zeros(n_lines * 8, dtype=np.int64)
    nxt[order * 8] = np.roll(order, -1) * 8
    _chase(nxt, 1000)
    return min(timed(lambda: _chase(nxt, loads))[0] for _ in range(3)) / loads


def timed(fn) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of ``fn()``."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e5 steps, 1e4-node graph")
    ap.add_argument("--steps", type=int, default=None, help="steps per base-chain walk")
    args = ap.parse_args()
    n = 10_000 if args.quick else 100_000
    steps = args.steps or (100_000 if args.quick else 20_000_000)
    srrw_steps = max(steps // 5, 1)
    peer_steps = 2_000 if args.quick else 20_000
    A = graph(n, 10)
    chains = {b: base_chain(A, b) for b in ("mh", "srw")}
    rows = []
    with threadpool_limits(1):
        for walk in ("mh", "srw", "nbrw", "iid"):
            ch = chains["mh" if walk == "mh" else "srw"]
            random_walk(ch, 1000, walk, random_state=0)  # compile
            dt, wall = min(timed(lambda ch=ch, walk=walk: random_walk(
                ch, steps, walk, random_state=1, return_path=False)) for _ in range(2))
            rows.append((walk, 0.0, steps, steps / dt, steps / wall))
        for base in ("mh", "srw"):
            for alpha in (1.0, 10.0):
                ch = chains[base]
                srrw_walk(ch, alpha, 1000, base, random_state=0)
                dt, wall = min(timed(lambda ch=ch, alpha=alpha, base=base: srrw_walk(
                    ch, alpha, srrw_steps, base, random_state=1, return_path=False))
                    for _ in range(2))
                rows.append((f"srrw[{base}]", alpha, srrw_steps, srrw_steps / dt,
                             srrw_steps / wall))
        latency = load_latency(chains["mh"].hops.nbytes, max(steps // 4, 10_000))
        peer = {}
        for alpha in (0.0, 10.0):
            dt, _ = timed(lambda alpha=alpha: numpy_srrw(chains["mh"], alpha, peer_steps, 1))
            peer[alpha] = peer_steps / dt
    RESULTS.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    bound = 1.0 / latency
    header = ("walk,alpha,n_nodes,avg_degree,steps,steps_per_cpu_s,steps_per_wall_s,target,"
              "ratio_vs_numpy_loop,latency_bound_steps_per_s,fraction_of_bound,load_average")
    lines = [header]
    md = [f"Walk throughput, one core, n = {n} nodes, average degree "
          f"{A.nnz / n:.2f} ({platform.processor() or platform.machine()}, load average "
          f"{load:.1f} when run)", "",
          "| walk | alpha | steps/s (CPU) | steps/s (wall) | target | vs numpy loop "
          "| of the latency bound |",
          "|---|---|---|---|---|---|---|"]
    for walk, alpha, k, rate, wall_rate in rows:
        target = 1e6 if walk.startswith("srrw") else 1e7
        ratio = rate / peer[10.0 if walk.startswith("srrw") else 0.0]
        # the bound holds for walks whose next row depends on the current one
        frac = rate / bound if walk in ("mh", "srw", "nbrw") else float("nan")
        lines.append(f"{walk},{alpha},{n},{A.nnz / n:.3f},{k},{rate:.4g},{wall_rate:.4g},"
                     f"{target:.0e},{ratio:.1f},{bound:.4g},{frac:.3f},{load:.1f}")
        ok = "met" if rate >= target else "NOT met"
        md.append(f"| {walk} | {alpha:g} | {rate:.3g} | {wall_rate:.3g} | {target:.0e} ({ok}) "
                  f"| {ratio:.0f}x | {'' if np.isnan(frac) else f'{frac:.0%}'} |")
    md.append("")
    md.append(f"Dependent-load latency over the chain's {chains['mh'].hops.nbytes / 2**20:.0f} MB "
              f"of rows: {latency * 1e9:.0f} ns, so one walk's bound is {bound:.3g} steps/s.")
    md.append(f"numpy loop (peer): {peer[0.0]:.3g} steps/s at alpha = 0, {peer[10.0]:.3g} at "
              "alpha = 10.")
    (RESULTS / "randomwalk_throughput.csv").write_text("\n".join(lines) + "\n")
    (RESULTS / "randomwalk_throughput.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
