"""Real MPI runs against the simulator's prediction: wall-clock and message counts on 2–8 local
processes, for DADAO (``optsolve.decentralized.mpi.run_mpi``) and token SGD
(``optsolve.randomwalk.mpi.run_mpi``).

DADAO. The simulator (``optsolve.decentralized.solve``, same problem, graph, rates and tol)
predicts the simulated time ``T`` to reach ``tol``, the gradients and the communications. On
MPI the clocks run at ``time_scale`` simulated units per second, so the prediction is a wall
time of ``T / time_scale`` and ``2 × n_comm × (share of the edge rate on edges between two
processes)`` point-to-point messages (an exchange within a process sends none). The measured
run also reports the simulated time it needed (message delays make it longer than ``T``) and
its largest event lag.

Token SGD. The simulator's walk (same seed, same stream) gives the exact path of the token, so
the number of passes between processes is predicted exactly; the MPI run must match it and
its iterates must equal the simulator's bit for bit. Wall time per step and per pass are
reported.

Run:  python bench/decentralized_mpi.py [--quick]
Writes bench/results/decentralized_mpi/: dadao.csv, token.csv, summary.md.
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from pathlib import Path

import numpy as np

from optsolve import _mpi
from optsolve.decentralized import DecentralizedProblem, partition_data, solve
from optsolve.decentralized.mpi import run_mpi as dadao_mpi
from optsolve.graphs import make_graph
from optsolve.randomwalk import token_sgd
from optsolve.randomwalk.chains import base_chain
from optsolve.randomwalk.mpi import run_mpi as token_mpi
from optsolve.randomwalk.walks import run_walk

OUT = Path("bench/results/decentralized_mpi")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="2 and 4 processes, shorter runs")
    p.add_argument("--procs", type=int, nargs="+", default=None)
    p.add_argument("--nodes", type=int, default=8, help="graph nodes (agents)")
    p.add_argument("--graph", default="cycle")
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--steps", type=int, default=20_000, help="token SGD steps")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_problem(n_nodes, seed=0, n_samples=2000, d=20):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n_samples)
    return DecentralizedProblem.ridge(partition_data(X, y, n_nodes, random_state=seed), 0.2)


def cross_share(owners, rows, cols, rates):
    cross = owners[rows] != owners[cols]
    return float(rates[cross].sum() / rates.sum())


def bench_dadao(prob, graph, procs, tol, seed):
    from optsolve.graphs import edge_list

    sim = solve(prob, graph, tol=tol, random_state=seed)
    rows, cols = edge_list(graph)
    out = []
    for P in procs:
        owners = _mpi.node_owners(prob.n_nodes, P)
        share = cross_share(owners, rows, cols, np.asarray(sim.rates))
        t0 = time.perf_counter()
        res = dadao_mpi(prob, graph, n_procs=P, tol=tol, max_time=120.0, random_state=seed)
        launch = time.perf_counter() - t0
        pred_wall = sim.time / res.time_scale
        pred_msgs = 2.0 * sim.n_communications * share
        out.append(dict(
            n_procs=P, nodes_per_proc=prob.n_nodes / P, status=res.status,
            error=float(np.abs(res.x - prob.solution()).max()), grad_rel=res.grad_rel,
            time_scale=res.time_scale, sim_T=sim.time, mpi_T=res.sim_time,
            T_ratio=res.sim_time / sim.time, pred_wall_s=pred_wall, wall_s=res.time,
            wall_ratio=res.time / pred_wall, launch_s=launch,
            sim_grads=sim.n_gradients, mpi_grads=res.n_gradients,
            sim_comms=sim.n_communications, mpi_comms=res.n_communications,
            cross_share=share, pred_msgs=pred_msgs, msgs=res.n_messages,
            msgs_ratio=res.n_messages / pred_msgs if pred_msgs else float("nan"),
            msgs_per_T=res.n_messages / res.sim_time,
            pred_msgs_per_T=pred_msgs / sim.time, max_lag=res.max_lag,
            deferred=res.n_deferred, dropped=res.n_dropped,
        ))
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in out[-1].items()})
    return out


def bench_token(prob, graph, procs, n_steps, seed, alpha=10.0):
    sim = token_sgd(prob, graph, alpha=alpha, n_steps=n_steps, random_state=seed)
    chain = base_chain(graph, "mh")
    _, path, _, _ = run_walk(chain, "srrw", n_steps, np.random.default_rng(seed), alpha=alpha,
                             a=sim.exponents[0])
    out = []
    for P in procs:
        owners = _mpi.node_owners(prob.n_nodes, P)
        pred_hops = int(np.count_nonzero(owners[path[1:]] != owners[path[:-1]]))
        t0 = time.perf_counter()
        res = token_mpi(prob, graph, alpha=alpha, n_steps=n_steps, n_procs=P,
                        random_state=seed)
        launch = time.perf_counter() - t0
        out.append(dict(
            n_procs=P, steps=n_steps, identical=bool(np.array_equal(res.x, sim.x)),
            pred_hops=pred_hops, hops=res.n_messages, wall_s=res.wall_time,
            us_per_step=1e6 * res.wall_time / n_steps,
            us_per_hop=1e6 * res.wall_time / max(res.n_messages, 1), launch_s=launch,
        ))
        print(out[-1])
    return out


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)


def fmt(v, nd=3):
    if isinstance(v, float):
        return f"{v:.{nd}g}"
    return str(v)


def markdown(rows, cols):
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    ok, why = _mpi.mpi_available()
    if not ok:
        raise SystemExit(f"MPI not available: {why}")
    procs = args.procs or ([2, 4] if args.quick else [2, 4, 8])
    steps = 5000 if args.quick else args.steps
    OUT.mkdir(parents=True, exist_ok=True)
    prob = make_problem(args.nodes, args.seed)
    graph = make_graph(args.graph, args.nodes)
    d_rows = bench_dadao(prob, graph, procs, args.tol, args.seed)
    t_rows = bench_token(prob, graph, procs, steps, args.seed)
    write_csv(OUT / "dadao.csv", d_rows)
    write_csv(OUT / "token.csv", t_rows)
    import os

    head = (f"{args.nodes} nodes on a {args.graph}, ridge (N=2000, d=20, kappa="
            f"{prob.L / prob.mu:.3g}), {os.cpu_count()} cores, {platform.processor() or ''} "
            f"load {os.getloadavg()[0]:.1f}")
    md = [f"# MPI runs vs the simulator's prediction\n\n{head}\n",
          f"## DADAO to tol={args.tol:g}\n",
          markdown(d_rows, ["n_procs", "status", "error", "sim_T", "mpi_T", "T_ratio",
                            "pred_wall_s", "wall_s", "wall_ratio", "sim_comms", "mpi_comms",
                            "pred_msgs", "msgs", "msgs_ratio", "deferred", "dropped", "max_lag",
                            "launch_s"]),
          f"\n## Token SGD (SRRW alpha=10, {steps} steps)\n",
          markdown(t_rows, ["n_procs", "identical", "pred_hops", "hops", "wall_s",
                            "us_per_step", "us_per_hop", "launch_s"])]
    (OUT / "summary.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
