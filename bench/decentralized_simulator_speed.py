"""Speed and memory of DADAO's event simulator, against a dense reference simulator.

For each (n nodes, d features): ridge regression with 10 local rows per node on a sparse
random graph of mean degree ~14 (:func:`sparse_random_graph`), full local gradients, DADAO
with uniform rates. Reported:
events per second of the event loop in process CPU time (the machine is shared: wall
clock would measure the neighbours; setup — χ₁, χ₂, alias tables — timed apart), the split of
events into gradients and communications, and the peak memory of ``solve`` (tracemalloc: every
numpy allocation) against the O(n·d + edges) state it must hold.

The peer is a reference simulator written the way the authors' public code runs the method: a
dense n×n gossip matrix per communication and a 6×6 ``expm`` per node advance (numpy/scipy,
same process, same problem, same BLAS threads). Its events/s on the small sizes gives the ratio.

Run: ``python bench/decentralized_simulator_speed.py [--quick]``; writes
``bench/results/decentralized_simulator_speed.{csv,md}``.
"""

from __future__ import annotations

import argparse
import csv
import math
import resource
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.linalg import expm
from sklearn.exceptions import ConvergenceWarning

from optsolve.bench.timing import blas_threads
from optsolve.decentralized import DecentralizedProblem, partition_data, solve
from optsolve.decentralized.dadao import dadao_constants, ode_matrix
from optsolve.graphs import chi1, edge_list

ROWS_PER_NODE = 10
MEAN_DEGREE = 14
FULL = [(100, 10), (1000, 10), (10_000, 10), (100, 100), (1000, 100), (10_000, 100)]
QUICK = [(100, 10), (100, 100), (1000, 10)]


def build(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n * ROWS_PER_NODE, d)) / math.sqrt(d)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n * ROWS_PER_NODE)
    prob = DecentralizedProblem.ridge(partition_data(X, y, n, random_state=seed), alpha=1.0)
    return prob, sparse_random_graph(n, MEAN_DEGREE, seed)


def sparse_random_graph(n, mean_degree, seed=0):
    """A connected random graph built in O(edges) memory: a cycle through a random permutation
    plus uniformly random pairs, ~``mean_degree`` neighbours per node (Erdős–Rényi-like;
    ``make_graph('erdos_renyi')`` draws a dense n×n mask, 1.2 GB at n = 10⁴)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    extra = max(0, n * mean_degree // 2 - n)
    u = np.r_[perm, rng.integers(0, n, extra)]
    v = np.r_[np.roll(perm, 1), rng.integers(0, n, extra)]
    keep = u != v
    A = sp.coo_matrix((np.ones(keep.sum()), (u[keep], v[keep])), shape=(n, n)).tocsr()
    A = ((A + A.T) > 0).astype(np.float64)
    return sp.csr_matrix(A)


def run_events(prob, G, n_events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return solve(prob, G, tol=0.0, max_events=n_events, monitor_every=n_events,
                     monitor_interval=None, random_state=0, record_history=False)


def measure(n, d, n_events):
    prob, G = build(n, d)
    run_events(prob, G, 10)  # numba compilation (cached after the first run)
    tracemalloc.start()
    t0 = time.process_time()
    run_events(prob, G, 1)
    setup = time.process_time() - t0
    setup_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t0 = time.process_time()
    res = run_events(prob, G, n_events)
    cpu = time.process_time() - t0
    loop = max(cpu - setup, 1e-9)
    # the loop's own allocations: the same run under tracemalloc (slower, not timed)
    tracemalloc.start()
    run_events(prob, G, max(n_events // 10, 1))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    n_edges = edge_list(G)[0].size
    state = n * 6 * d * 8  # the six vectors of every node
    return dict(
        n=n, d=d, edges=n_edges, events=res.nit, gradients=res.n_gradients,
        communications=res.n_communications, setup_s=round(setup, 3), loop_s=round(loop, 3),
        events_per_s=res.nit / loop, peak_MiB=peak / 2**20, setup_peak_MiB=setup_peak / 2**20,
        state_MiB=state / 2**20,
        data_MiB=prob.packed.X.nbytes / 2**20,
    )


def reference_events_per_s(n, d, n_events, seed=0):
    """The authors' design: n×n gossip matrix per communication, expm per advance."""
    prob, G = build(n, d, seed)
    rows, cols = edge_list(G)
    lam_total = math.sqrt(2.0) * rows.size  # any admissible total: cost does not depend on it
    c = dadao_constants(prob.L, prob.mu, chi1(G) / (lam_total / rows.size))
    A = ode_matrix(c)
    rng = np.random.default_rng(seed)
    S = np.zeros((6, n, d))
    t_last = np.zeros(n)
    t = 0.0
    t0 = time.process_time()
    for _ in range(n_events):
        t += rng.exponential(1.0 / (n + lam_total))
        if rng.random() < n / (n + lam_total):
            i = int(rng.integers(n))
            S[:, i] = expm(A * (t - t_last[i])) @ S[:, i]
            t_last[i] = t
            g = prob.local_grad(i, S[0, i]) - c.NU * S[0, i] - S[3, i]
            S[0, i] -= c.GAMMA * g
            S[1, i] -= c.GAMMA_T * g
            S[3, i] += (c.DELTA + c.DELTA_T) * g
        else:
            e = int(rng.integers(rows.size))
            i, j = rows[e], cols[e]
            for k in (i, j):
                S[:, k] = expm(A * (t - t_last[k])) @ S[:, k]
                t_last[k] = t
            pi = np.zeros((n, n))
            pi[i, i] = pi[j, j] = 1.0
            pi[i, j] = pi[j, i] = -1.0
            proj = pi @ (S[2] + S[4])
            S[4] -= c.BETA * proj
            S[5] -= c.BETA_T * proj
    return n_events / (time.process_time() - t0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    configs = QUICK if args.quick else FULL
    rows = []
    with blas_threads(1):
        for n, d in configs:
            n_events = (2_000_000 if d <= 10 else 500_000) // (4 if args.quick else 1)
            row = measure(n, d, n_events)
            if n <= 1000:
                ref = reference_events_per_s(n, d, 300 if args.quick else 1000)
                row["reference_events_per_s"] = ref
                row["speedup"] = row["events_per_s"] / ref
            rows.append(row)
            print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()},
                  flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    keys = ["n", "d", "edges", "events", "gradients", "communications", "setup_s", "loop_s",
            "events_per_s", "reference_events_per_s", "speedup", "peak_MiB", "setup_peak_MiB",
            "state_MiB", "data_MiB"]
    with open(out / "decentralized_simulator_speed.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    lines = ["| n | d | edges | events/s | dense reference events/s | speedup | setup (s) | "
             "peak memory of solve (MiB) | of its setup (MiB) | node states (MiB) | data (MiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ref = r.get("reference_events_per_s")
        ref_txt = "" if ref is None else f"{ref:.3g}"
        ratio_txt = "" if ref is None else f"{r['speedup']:.0f}×"
        lines.append(
            f"| {r['n']} | {r['d']} | {r['edges']} | {r['events_per_s']:.3g} | "
            f"{ref_txt} | {ratio_txt} | {r['setup_s']:.2f} | "
            f"{r['peak_MiB']:.1f} | {r['setup_peak_MiB']:.1f} | {r['state_MiB']:.1f} | "
            f"{r['data_MiB']:.1f} |")
    lines.append(f"\nprocess max RSS: {rss:.0f} MiB; one core (CPU time of the process), BLAS "
                 "threads pinned to 1; setup = rates (χ₁, χ₂), alias tables, constants")
    (out / "decentralized_simulator_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
