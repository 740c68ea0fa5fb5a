"""DADAO with the optimal edge rates (``rates='sdp'``) against uniform rates.

For each graph: the total communication rate ``Σ_e λ_e`` of the uniform rates and of the SDP's
(both scaled to DADAO's condition χ₁χ₂ = 1/2), the time to solve the SDP, and one DADAO run
with each to ``max_i ‖∇F(x_i)‖ / ‖∇F(0)‖ <= 1e-6`` (the same seed, data and budget),
reporting communications and local gradients. DADAO's constants depend on χ₁ only and its
gradient clock is the same with both, so the communications should drop by about the ratio of
the total rates while the gradients stay put.

Data: a9a (``$OPTSOLVE_DATA``; a random ``--n-samples`` subset) split i.i.d., ridge or
logistic, α chosen so that κ = L/μ = ``--kappa``.

Run:  python bench/decentralized_sdp_rates.py [--quick]
Writes bench/results/decentralized/sdp_rates.{csv,md}.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
import warnings
from pathlib import Path

import numpy as np

from optsolve.bench.timing import blas_threads
from optsolve.decentralized._bench import build_problem, load_bench_data, run_solver
from optsolve.graphs import chi1, chi2, edge_list, make_graph

OUT = Path("bench/results/decentralized")
GRAPHS = ("star", "path", "cycle", "grid", "barbell")
FIELDS = ("dataset", "loss", "graph", "n", "edges", "chi1", "chi2", "total_uniform",
          "total_sdp", "rate_ratio", "sdp_seconds", "comms_uniform", "comms_sdp", "comm_ratio",
          "grads_uniform", "grads_sdp", "reached_uniform", "reached_sdp")


def _graph(kind: str, n: int):
    if kind == "grid":
        rows = max(r for r in range(1, math.isqrt(n) + 1) if n % r == 0)
        return make_graph("grid", n, rows=rows, cols=n // rows)
    return make_graph(kind, n)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="n = 8 and small budgets")
    p.add_argument("--dataset", default="a9a")
    p.add_argument("--loss", default="ridge")
    p.add_argument("--graphs", default=",".join(GRAPHS))
    p.add_argument("--sizes", default="16")
    p.add_argument("--n-samples", type=int, default=2000)
    p.add_argument("--kappa", type=float, default=1e3)
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--max-wall", type=float, default=300.0)
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.n_samples, args.max_wall = "8", 800, 30.0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = load_bench_data(args.dataset, args.n_samples)
    rows = []
    csv_path = out / ("sdp_rates_quick.csv" if args.quick else "sdp_rates.csv")
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for n in (int(s) for s in args.sizes.split(",")):
            problem = build_problem(X, y, args.loss, n, args.kappa)
            for kind in args.graphs.split(","):
                G = _graph(kind, n)
                runs = {}
                for rates in ("uniform", "sdp"):
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        rec, res = run_solver(problem, G, "dadao", tol=args.tol,
                                              max_events=None, max_wall=args.max_wall,
                                              random_state=0, rates=rates,
                                              monitor_interval=5.0, exact_monitor=False)
                    runs[rates] = (rec, res, time.perf_counter() - start)
                (ru, resu, _), (rs, ress, _) = runs["uniform"], runs["sdp"]
                # the SDP's own time: a run asked for 0 events builds the rates only
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run_solver(problem, G, "dadao", max_events=1, rates="sdp")
                sdp_seconds = time.perf_counter() - start
                row = dict(
                    dataset=args.dataset, loss=args.loss, graph=kind, n=n,
                    edges=int(edge_list(G)[0].size), chi1=float(chi1(G)), chi2=float(chi2(G)),
                    total_uniform=float(np.sum(resu.rates)),
                    total_sdp=float(np.sum(ress.rates)),
                    sdp_seconds=sdp_seconds,
                    comms_uniform=ru["n_communications"], comms_sdp=rs["n_communications"],
                    grads_uniform=ru["n_gradients"], grads_sdp=rs["n_gradients"],
                    reached_uniform=ru["reached"], reached_sdp=rs["reached"],
                )
                row["rate_ratio"] = row["total_uniform"] / row["total_sdp"]
                row["comm_ratio"] = row["comms_uniform"] / max(row["comms_sdp"], 1)
                rows.append(row)
                writer.writerow(row)
                fh.flush()
                print(f"{kind:8s} n={n:<3d} rates uniform/SDP = {row['rate_ratio']:.3f}, "
                      f"comms {row['comms_uniform']:.3g} -> {row['comms_sdp']:.3g} "
                      f"({row['comm_ratio']:.2f}x), grads {row['grads_uniform']:.3g} / "
                      f"{row['grads_sdp']:.3g}, SDP {sdp_seconds:.1f}s", flush=True)
    md = out / ("sdp_rates_quick.md" if args.quick else "sdp_rates.md")
    lines = [f"# DADAO, SDP rates vs uniform rates ({args.dataset} {args.loss}, κ = "
             f"{args.kappa:g}, to {args.tol:g})", "",
             "| graph | n | edges | Σλ uniform | Σλ SDP | rate ratio | communications uniform "
             "→ SDP | comm. ratio | gradients uniform / SDP | SDP solve |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        flag = ("" if r["reached_uniform"] else " ✗") , ("" if r["reached_sdp"] else " ✗")
        lines.append(
            f"| {r['graph']} | {r['n']} | {r['edges']} | {r['total_uniform']:.3g} | "
            f"{r['total_sdp']:.3g} | {r['rate_ratio']:.2f}× | {r['comms_uniform']:.3g}{flag[0]} "
            f"→ {r['comms_sdp']:.3g}{flag[1]} | {r['comm_ratio']:.2f}× | "
            f"{r['grads_uniform']:.3g} / {r['grads_sdp']:.3g} | {r['sdp_seconds']:.1f} s |")
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    with blas_threads(1):
        raise SystemExit(main())
