"""The DADAO paper's comparison: local gradients and communications to reach 1e-6.

Nabli & Oyallon (ICML 2023, Sec. 6) compare DADAO with ADOM+ (multi-consensus), MSDA
(accelerated dual with Chebyshev gossip) and the continuized accelerated method on graphs of
different connectivity, counting local gradient computations and pairwise communications. This
script runs that grid, plus DGD and EXTRA, on real data:

* data: a9a and w8a (LIBSVM, ``$OPTSOLVE_DATA``), labels ±1, split i.i.d. over the n nodes;
  ridge (``½(xᵀw − y)²``) and logistic losses (``DecentralizedProblem.ridge`` / ``.logistic``);
* graphs: star, cycle, grid (most square rows × cols), complete and barbell, n in ``--sizes``
  (16, 64 and 300 by default; 16 with ``--quick``);
* conditioning: α is chosen per (data, loss, n) so that κ = L/μ = ``--kappa`` (10³ by default;
  L = max_i L_i, μ = min_i μ_i = α/n), so rows are comparable with the theory;
* stopping: ``max_i ‖∇F(x_i)‖ / ‖∇F(0)‖ <= 1e-6`` (the issue's definition, monitored centrally
  by the simulator, not counted as communication), recomputed here from the final iterates;
* every run is bounded by the same simulated-time budget ``--max-time`` (one unit ≈ one local
  gradient per node for DADAO, one gradient round for the synchronous methods; default
  20 √κ ln(1/ε), 20x DADAO's gradient bound without constants), plus ``--max-events`` and a
  ``--max-wall`` safety stop;
  a run that stops before 1e-6 is reported as **not reached**, with the counts it spent;
* theory: DADAO's bounds without constants, ``n √κ ln(1/ε)`` gradients and
  ``n √(χ₁*χ₂*) √κ ln(1/ε)`` communications, χ* of the Laplacian normalized to n exchanges
  per unit time, i.e. ``|E| √(χ₁χ₂) √κ ln(1/ε)`` with the unit-weight χ₁ = 1/λ₂⁺ and
  χ₂ = ½ max effective resistance (see ``theory_counts``); the table gives measured / theory,
  which should stay of the same order across graphs if the bound is tight;
* DADAO with the SDP-optimal edge rates (``rates='sdp'``, needs cvxpy) against uniform rates on
  the graphs with at most ``--sdp-max-edges`` edges (above n + |E| = 600 the SDP is solved over
  one rate per edge class, ``rates.sdp_rates(symmetry='auto')``: the 289-node barbell's 20 737
  edges have 5 classes and take seconds).

Run:  python bench/decentralized_comparison.py [--quick]
Writes bench/results/decentralized/: comparison.csv, comparison.md (tables),
convergence_<data>_<loss>_n<n>.png (relative gradient vs gradients and vs communications).
"""

from __future__ import annotations

import os

# One BLAS/OpenMP thread for every pool, set before numpy loads: threadpoolctl (``blas_threads``
# below) only limits the libraries already loaded when it is entered, and scipy's OpenBLAS or a
# solver's (cvxpy/SCS for the SDP rates) may load later. The user's setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402, F401  (its OpenBLAS loaded before blas_threads is entered)

from optsolve.bench.timing import blas_threads  # noqa: E402
from optsolve.decentralized._bench import (  # noqa: E402
    bench_graph,
    build_problem,
    load_bench_data,
    run_solver,
    theory_counts,
)
from optsolve.graphs import chi1, chi2, edge_list  # noqa: E402

OUT = Path("bench/results/decentralized")
ALL_SOLVERS = ("dadao", "adom+", "msda", "continuized", "extra", "dgd")
ALL_GRAPHS = ("star", "cycle", "grid", "complete", "barbell")
FIELDS = ("dataset", "loss", "graph", "n", "edges", "kappa", "alpha", "chi1", "chi2", "solver",
          "reached", "status", "rel_grad", "n_gradients", "n_communications", "sim_time",
          "wall_s", "theory_grads", "theory_comms", "grads_over_theory", "comms_over_theory",
          "message")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="n = 16, a9a subset, small budgets")
    p.add_argument("--datasets", default="a9a,w8a")
    p.add_argument("--losses", default="ridge,logistic")
    p.add_argument("--graphs", default=",".join(ALL_GRAPHS))
    p.add_argument("--sizes", default="16,64,300")
    p.add_argument("--solvers", default=",".join(ALL_SOLVERS))
    p.add_argument("--kappa", type=float, default=1e3)
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--n-samples", type=int, default=None,
                   help="random subset of the rows (default: the whole data set)")
    p.add_argument("--max-events", type=int, default=20_000_000)
    p.add_argument("--max-time", type=float, default=None,
                   help="simulated-time budget per run, the same for every method (~ local "
                        "gradients per node); default 20 sqrt(kappa) ln(1/tol)")
    p.add_argument("--max-wall", type=float, default=600.0,
                   help="safety stop in seconds per run (reported as not reached)")
    p.add_argument("--sdp-max-edges", type=int, default=400,
                   help="run DADAO with rates='sdp' too on graphs with at most this many edges")
    p.add_argument("--monitor-interval", type=float, default=5.0,
                   help="simulated time between the central checks, the same for every method "
                        "(DADAO: ~1 gradient per node per unit; synchronous methods: 1 round)")
    p.add_argument("--plot-n", type=int, default=None,
                   help="size whose convergence curves are plotted (default: the middle one)")
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--name", default=None, help="file stem of the CSV and markdown")
    p.add_argument("--from-csv", nargs="+", default=None,
                   help="only rewrite <out>/<name>.md from these CSVs of earlier runs (merged)")
    args = p.parse_args(argv)
    if args.max_time is None:
        args.max_time = 20.0 * math.sqrt(args.kappa) * math.log(1.0 / args.tol)
    if args.quick:
        args.sizes, args.datasets = "16", "a9a"
        args.n_samples = args.n_samples or 4000
        args.max_events, args.max_wall = min(args.max_events, 2_000_000), min(args.max_wall, 20)
        args.sdp_max_edges = min(args.sdp_max_edges, 60)
    return args


def _fmt_count(row) -> str:
    if row is None:
        return "–"
    if row.get("error"):
        return "error"
    txt = f"{row['n_communications']:.3g} / {row['n_gradients']:.3g}"
    return txt if row["reached"] else f"✗ ({row['rel_grad']:.0e}) {txt}"


def _ratios(cell) -> tuple[str, str]:
    """DADAO's communications over the fewest of the baselines that reached the tolerance
    (named), and over ADOM+'s; '–' where DADAO or the baseline did not reach it."""
    d = cell.get("dadao")
    if d is None or not d["reached"]:
        return "–", "–"
    reached = {s: r for s, r in cell.items()
               if not s.startswith("dadao") and r["reached"] and not r.get("error")}
    best = "–"
    if reached:
        name, r = min(reached.items(), key=lambda kv: kv[1]["n_communications"])
        best = f"{d['n_communications'] / r['n_communications']:.2g} ({name})"
    a = reached.get("adom+")
    return best, ("–" if a is None else f"{d['n_communications'] / a['n_communications']:.2g}")


def write_markdown(rows, path: Path, solvers, tol):
    lines = [
        f"# Decentralized comparison: communications / gradients to relative gradient {tol:g}",
        "",
        "Cell: `communications / local gradients` spent to reach the tolerance; "
        "`✗ (r) ...` = not reached within the run's bounds (r = relative gradient reached, "
        "then the counts spent). DADAO theory columns: measured / "
        "(n √κ ln(1/ε)) for gradients and measured / (|E| √(χ₁χ₂) √κ ln(1/ε)) for "
        "communications (unit-weight χ's; = n √(χ₁*χ₂*) √κ ln(1/ε) with the paper's χ* "
        "normalized to n exchanges per unit time).",
        "",
    ]
    keys = sorted({(r["dataset"], r["loss"]) for r in rows})
    for dataset, loss in keys:
        sub = [r for r in rows if r["dataset"] == dataset and r["loss"] == loss]
        kappa = sub[0]["kappa"]
        lines += [f"## {dataset}, {loss} (κ = L/μ = {kappa:.3g})", ""]
        cols = [s for s in solvers if any(r["solver"] == s for r in sub)]
        head = ["graph", "n", "χ₁", "χ₂", *cols, "DADAO comms / best baseline",
                "DADAO comms / ADOM+", "DADAO grads/theory", "DADAO comms/theory"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        configs = sorted({(r["graph"], r["n"]) for r in sub},
                         key=lambda c: (c[1], ALL_GRAPHS.index(c[0]) if c[0] in ALL_GRAPHS else 9))
        for graph, n in configs:
            cell = {r["solver"]: r for r in sub if r["graph"] == graph and r["n"] == n}
            any_row = next(iter(cell.values()))
            d = cell.get("dadao")
            gt = f"{d['grads_over_theory']:.2f}" if d and d["reached"] else "–"
            ct = f"{d['comms_over_theory']:.2f}" if d and d["reached"] else "–"
            lines.append("| " + " | ".join(
                [graph, str(n), f"{any_row['chi1']:.3g}", f"{any_row['chi2']:.3g}",
                 *(_fmt_count(cell.get(s)) for s in cols), *_ratios(cell), gt, ct]) + " |")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def plot_curves(histories, path: Path, title: str, tol: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # one colour per method whatever subset a panel has
    colors = dict(zip(("dadao", "dadao[sdp]", *ALL_SOLVERS[1:]),
                      plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    graphs = [g for g in ALL_GRAPHS if g in histories]
    if not graphs:
        return
    fig, axes = plt.subplots(2, len(graphs), figsize=(3.6 * len(graphs), 6.4), squeeze=False)
    for j, graph in enumerate(graphs):
        for solver, hist in histories[graph].items():
            rel = np.asarray(hist["grad_rel_mean"] if "grad_rel" not in hist
                             else hist["grad_rel"], dtype=float)
            for i, key in enumerate(("n_gradients", "n_communications")):
                x = np.asarray(hist[key], dtype=float)
                axes[i, j].loglog(np.maximum(x, 1), rel, label=solver, lw=1.3,
                                  color=colors.get(solver))
        for i, key in enumerate(("local gradients", "communications")):
            ax = axes[i, j]
            ax.axhline(tol, color="k", lw=0.6, ls=":")
            ax.set_xlabel(key)
            ax.set_title(graph if i == 0 else "")
            ax.grid(True, which="major", alpha=0.3)
        axes[0, j].set_ylim(tol / 10, 2)
        axes[1, j].set_ylim(tol / 10, 2)
    axes[0, 0].set_ylabel("max_i ‖∇F(x_i)‖ / ‖∇F(0)‖")
    axes[1, 0].set_ylabel("max_i ‖∇F(x_i)‖ / ‖∇F(0)‖")
    handles = {}
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    axes[0, -1].legend(handles.values(), handles.keys(), fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_summary(rows, path: Path, tol: float):
    """Communications (top) and local gradients (bottom) spent per solver and graph, one
    column per (data set, loss, n); hollow bars did not reach ``tol`` within the bounds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blocks = sorted({(r["dataset"], r["loss"], r["n"]) for r in rows},
                    key=lambda b: (b[2], b[0], b[1]))
    if not blocks:
        return
    solvers = [s for s in ("dadao", "dadao[sdp]", *ALL_SOLVERS[1:])
               if any(r["solver"] == s for r in rows)]
    colors = dict(zip(("dadao", "dadao[sdp]", *ALL_SOLVERS[1:]),
                      plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    fig, axes = plt.subplots(2, len(blocks), figsize=(4.2 * len(blocks), 6.4), squeeze=False)
    width = 0.8 / len(solvers)
    for j, (dataset, loss, n) in enumerate(blocks):
        sub = [r for r in rows if (r["dataset"], r["loss"], r["n"]) == (dataset, loss, n)]
        graphs = [g for g in ALL_GRAPHS if any(r["graph"] == g for r in sub)]
        for i, key in enumerate(("n_communications", "n_gradients")):
            ax = axes[i, j]
            for k, solver in enumerate(solvers):
                for x, graph in enumerate(graphs):
                    r = next((r for r in sub if r["graph"] == graph and r["solver"] == solver),
                             None)
                    if r is None or r.get("error") or r[key] <= 0:
                        continue
                    ax.bar(x + (k - len(solvers) / 2 + 0.5) * width, r[key], width,
                           color=colors[solver] if r["reached"] else "none",
                           edgecolor=colors[solver], hatch=None if r["reached"] else "//")
            ax.set_yscale("log")
            ax.set_xticks(range(len(graphs)), graphs, fontsize=8)
            ax.grid(True, axis="y", which="major", alpha=0.3)
            if i == 0:
                ax.set_title(f"{dataset}, {loss}, n = {n}", fontsize=9)
        axes[0, j].set_ylabel("communications to " + f"{tol:g}" if j == 0 else "")
        axes[1, j].set_ylabel("local gradients" if j == 0 else "")
    from matplotlib.patches import Patch

    axes[0, -1].legend([Patch(color=colors[s]) for s in solvers], solvers, fontsize=7)
    fig.suptitle("hollow hatched bars: tolerance not reached within the run's bounds "
                 "(counts spent)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def read_rows(paths):
    """Rows of earlier runs' CSVs, typed like the live ones."""
    rows = []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                for k in ("n", "edges", "status", "n_gradients", "n_communications"):
                    r[k] = int(r[k])
                for k in ("kappa", "alpha", "chi1", "chi2", "rel_grad", "sim_time", "wall_s",
                          "theory_grads", "theory_comms", "grads_over_theory",
                          "comms_over_theory"):
                    r[k] = float(r[k])
                r["reached"] = r["reached"] == "True"
                r["error"] = r["status"] == -1
                rows.append(r)
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.from_csv:
        md = out / f"{args.name or 'comparison'}.md"
        names = ["dadao", "dadao[sdp]", *ALL_SOLVERS[1:]]
        # a configuration run again in a later CSV (e.g. with a longer wall cap) replaces it
        latest = {(r["dataset"], r["loss"], r["graph"], r["n"], r["solver"]): r
                  for r in read_rows(args.from_csv)}
        merged = list(latest.values())
        write_markdown(merged, md, names, args.tol)
        plot_summary(merged, out / f"{args.name or 'comparison'}_summary.png", args.tol)
        print(md.read_text(encoding="utf-8"))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    plot_n = args.plot_n or sizes[len(sizes) // 2]
    solvers = args.solvers.split(",")
    rows = []
    stem = args.name or ("comparison_quick" if args.quick else "comparison")
    csv_path = out / f"{stem}.csv"
    md = out / f"{stem}.md"
    names = [s for s in ("dadao", "dadao[sdp]", *ALL_SOLVERS[1:]) if s.split("[")[0] in solvers]
    fh = open(csv_path, "w", newline="", encoding="utf-8")
    writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
    writer.writeheader()
    start = time.perf_counter()
    for dataset in args.datasets.split(","):
        try:
            X, y = load_bench_data(dataset, args.n_samples)
        except (FileNotFoundError, OSError) as exc:
            print(f"skipping {dataset}: {exc}")
            continue
        for loss in args.losses.split(","):
            for n in sizes:
                problem = build_problem(X, y, loss, n, args.kappa)
                histories = {}
                for graph in args.graphs.split(","):
                    A = bench_graph(graph, n)
                    c1, c2 = float(chi1(A)), float(chi2(A))
                    n_edges = len(edge_list(A)[0])
                    tg, tc = theory_counts(n, args.kappa, c1, c2, args.tol, n_edges)
                    runs = [(s, {}) for s in solvers]
                    if "dadao" in solvers and n_edges <= args.sdp_max_edges:
                        runs.insert(1, ("dadao", {"rates": "sdp"}))
                    for solver, opts in runs:
                        base = dict(dataset=dataset, loss=loss, graph=graph, n=n,
                                    edges=n_edges, kappa=args.kappa,
                                    alpha=float(problem.alpha), chi1=c1, chi2=c2,
                                    theory_grads=tg, theory_comms=tc)
                        try:
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")  # unconverged runs: in the table
                                rec, res = run_solver(problem, A, solver, tol=args.tol,
                                                      max_events=args.max_events,
                                                      max_time=args.max_time,
                                                      max_wall=args.max_wall, random_state=0,
                                                      monitor_interval=args.monitor_interval,
                                                      exact_monitor=False, **opts)
                        except Exception as exc:  # a failing method is a row, not a crash
                            rec = dict(solver=solver, reached=False, status=-1,
                                       rel_grad=math.nan, n_gradients=0, n_communications=0,
                                       sim_time=math.nan, wall_s=math.nan,
                                       message=f"{type(exc).__name__}: {exc}", error=True)
                            res = None
                        row = {**base, **rec}
                        row["grads_over_theory"] = row["n_gradients"] / tg
                        row["comms_over_theory"] = row["n_communications"] / tc
                        rows.append(row)
                        writer.writerow(row)
                        fh.flush()
                        flag = "ok " if row["reached"] else "NOT"
                        print(f"[{time.perf_counter() - start:7.0f}s] {dataset:4s} {loss:8s} "
                              f"{graph:8s} n={n:<4d} {row['solver']:12s} {flag} "
                              f"rel={row['rel_grad']:.1e} grads={row['n_gradients']:.3g} "
                              f"comms={row['n_communications']:.3g} "
                              f"wall={row['wall_s']:.1f}s {row['message'][:60]}", flush=True)
                        if n == plot_n and res is not None and res.get("history"):
                            histories.setdefault(graph, {})[row["solver"]] = res.history
                if histories:
                    plot_curves(histories, out / f"convergence_{dataset}_{loss}_n{n}.png",
                                f"{dataset}, {loss}, n = {n}, κ = {args.kappa:g}", args.tol)
                write_markdown(rows, md, names, args.tol)  # after every block: partial runs
    fh.close()
    write_markdown(rows, md, names, args.tol)
    print(md.read_text(encoding="utf-8"))
    print(f"wrote {csv_path}, {md} and the convergence plots in {out}")
    return 0


if __name__ == "__main__":
    with blas_threads(1):
        raise SystemExit(main())
