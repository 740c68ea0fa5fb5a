"""Sampling error of self-repellent random walks against α, simulated and in closed form.

Doshi et al. (ICML 2023) prove that the SRRW's empirical measure x_n = visits / n obeys a CLT,
√n (x_n − μ) → N(0, V_X(α)), with V_X(α) = Σ_{i≥2} 1/(2α(1+λ_i)+1) · (1+λ_i)/(1−λ_i) · u_i u_iᵀ
from the base chain's spectrum, so that trace V_X(α) falls like 1/α. This script measures,
for α ∈ {0, 1, 5, 10, 20, 50} and both base chains ('mh': Metropolis–Hastings walk to the
uniform law; 'srw': simple random walk, target ∝ degree):

* n · trace Cov(x_n) over seeds, against trace V_X(α)
  (``optsolve.randomwalk.asymptotic_covariance``);
* n · E‖x_n − μ‖² (bias included) and the total variation ½‖x_n − μ‖₁ (mean, 10–90 % band);
* the total variation of the running empirical measure along the walk (the papers' figure),

on generated 1000-node power-law (Barabási–Albert, m = 3) and community (stochastic block
model, 4 blocks, p_in = 0.04, p_out = 0.001) graphs and on the social graphs networkx ships
(karate club, Florentine families, Davis southern women, Les Misérables; unweighted).

Outputs in ``--out`` (default ``bench/results/randomwalk``): ``sampling.csv``,
``sampling.md`` (table), ``sampling_cov.png`` (covariance against α, simulated and closed
form), ``sampling_tvd.png`` (TVD along the walk).

Sizes: full run 20 seeds, 200 000 steps on the 1000-node graphs and 50 000 on the small ones
(≈ 30 M walk steps in all); ``--quick``: 4 seeds, a tenth of the steps, the two generated graphs
and the karate club.

    python bench/randomwalk_sampling.py            # full
    python bench/randomwalk_sampling.py --quick
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from optsolve.bench.timing import blas_threads
from optsolve.randomwalk import asymptotic_covariance
from optsolve.randomwalk._bench import bench_graph, real_graphs, sampling_errors

ALPHAS = (0.0, 1.0, 5.0, 10.0, 20.0, 50.0)
BASES = ("mh", "srw")


def graphs(quick: bool) -> dict:
    out = {
        "power_law_1000": bench_graph("power_law", 1000, random_state=0),
        "community_1000": bench_graph("community", 1000, random_state=0),
    }
    real = real_graphs()
    if quick:
        real = {"karate_club": real["karate_club"]}
    out.update(real)
    return out


def run(quick: bool, out_dir: Path, seeds: int | None = None) -> list[dict]:
    n_seeds = seeds or (4 if quick else 20)
    rows = []
    curves = {}
    for gname, A in graphs(quick).items():
        n_nodes = A.shape[0]
        n_steps = (200_000 if n_nodes >= 500 else 50_000) // (10 if quick else 1)
        checkpoints = np.unique(np.geomspace(n_nodes, n_steps, 30).astype(np.int64))
        for base in BASES:
            for alpha in ALPHAS:
                t0 = time.perf_counter()
                V = asymptotic_covariance(A, alpha, base=base)
                t_theory = time.perf_counter() - t0
                r = sampling_errors(A, alpha, base, n_steps, range(n_seeds),
                                    checkpoints=checkpoints)
                c = r.pop("tvd_curves")
                curves[(gname, base, alpha)] = (checkpoints, c)
                row = {
                    "graph": gname,
                    "n_nodes": n_nodes,
                    "n_edges": A.nnz // 2,
                    "base": base,
                    "alpha": alpha,
                    "n_steps": n_steps,
                    "seeds": n_seeds,
                    "trace_V_theory": float(np.trace(V)),
                    **r,
                    "sim_over_theory": r["n_trace_cov"] / float(np.trace(V)),
                    "steps_per_s": n_steps * n_seeds / r["seconds"],
                    "theory_seconds": t_theory,
                }
                rows.append(row)
                print(
                    f"{gname:<22} {base:<3} alpha={alpha:>4g}  n·trCov={r['n_trace_cov']:9.4g}"
                    f"  trV={row['trace_V_theory']:9.4g}  ratio={row['sim_over_theory']:5.2f}"
                    f"  n·MSE={r['n_mse']:9.4g}  TVD={r['tvd']:.4f}"
                    f"  {row['steps_per_s'] / 1e6:5.1f} M steps/s",
                    flush=True,
                )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out_dir / "sampling.csv")
    (out_dir / "sampling.md").write_text(markdown(rows), encoding="utf-8")
    plot(rows, curves, out_dir)
    return rows


def write_csv(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def markdown(rows) -> str:
    lines = [
        "n · trace Cov(visits/n) over seeds (simulated) against trace V_X(α) (closed form); "
        "TVD = mean ½‖visits/n − μ‖₁ at the last step; 'vs α=0' = simulated trace / the base "
        "chain's.",
        "",
        "| graph | base | α | steps | n·tr Cov (sim) | tr V_X(α) | sim / theory | vs α=0 "
        "| n·MSE | TVD |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base_of = {(r["graph"], r["base"]): r["n_trace_cov"] for r in rows if r["alpha"] == 0}
    for r in rows:
        rel = r["n_trace_cov"] / base_of[(r["graph"], r["base"])]
        lines.append(
            f"| {r['graph']} | {r['base']} | {r['alpha']:g} | {r['n_steps']} "
            f"| {r['n_trace_cov']:.4g} | {r['trace_V_theory']:.4g} | {r['sim_over_theory']:.2f} "
            f"| {rel:.3f} | {r['n_mse']:.4g} | {r['tvd']:.4f} |"
        )
    lines += ["", *verdict(rows)]
    return "\n".join(lines) + "\n"


def verdict(rows) -> list[str]:
    """One line per (graph, base): simulated/closed-form range and the log-log slope of the
    simulated trace over α ∈ {5, 10, 20, 50} (−1 is the paper's 1/α)."""
    out = []
    for g, base in dict.fromkeys((r["graph"], r["base"]) for r in rows):
        sel = {r["alpha"]: r for r in rows if r["graph"] == g and r["base"] == base}
        tail = [a for a in (5.0, 10.0, 20.0, 50.0) if a in sel]
        ratios = [r["sim_over_theory"] for r in sel.values()]
        slope = float("nan")
        if len(tail) > 1:
            slope = np.polyfit(np.log(tail), np.log([sel[a]["n_trace_cov"] for a in tail]), 1)[0]
        out.append(f"- {g}, {base}: simulated / closed form in [{min(ratios):.2f}, "
                   f"{max(ratios):.2f}]; slope of log n·tr Cov against log α (α ≥ 5) "
                   f"{slope:.2f}")
    return out


def plot(rows, curves, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["graph"] for r in rows))
    colors = dict(zip(names, plt.cm.tab10.colors, strict=False))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    alphas = np.array(ALPHAS)
    for ax, base in zip(axes, BASES, strict=True):
        for g in names:
            sel = sorted((r for r in rows if r["graph"] == g and r["base"] == base),
                         key=lambda r: r["alpha"])
            t0 = sel[0]["trace_V_theory"]
            ax.plot(alphas, [r["trace_V_theory"] / t0 for r in sel], "-", color=colors[g],
                    label=f"{g} (closed form)")
            ax.plot(alphas, [r["n_trace_cov"] / t0 for r in sel], "o", color=colors[g],
                    mfc="none", label=f"{g} (simulated)")
        a = np.geomspace(1, 50, 50)
        ax.plot(a, 1 / (2 * a + 1), "k:", label="1/(2α+1)")
        ax.set_xscale("symlog", linthresh=1)
        ax.set_yscale("log")
        ax.set_xlabel("α")
        ax.set_title(f"base = {base}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("n · trace Cov(x_n) / trace V_X(0)")
    axes[1].legend(fontsize=7, ncol=2, loc="lower left")
    fig.suptitle("SRRW sampler: asymptotic covariance against α (markers: simulated over seeds)")
    fig.tight_layout()
    fig.savefig(out_dir / "sampling_cov.png", dpi=130)
    plt.close(fig)

    panels = [g for g in ("power_law_1000", "community_1000") if g in names]
    fig, axes = plt.subplots(len(BASES), len(panels), figsize=(6 * len(panels), 8),
                             squeeze=False)
    cmap = plt.cm.viridis(np.linspace(0, 0.9, len(ALPHAS)))
    for i, base in enumerate(BASES):
        for j, g in enumerate(panels):
            ax = axes[i, j]
            for alpha, col in zip(ALPHAS, cmap, strict=True):
                cps, c = curves[(g, base, alpha)]
                ax.plot(cps, c.mean(axis=0), color=col, label=f"α = {alpha:g}")
                ax.fill_between(cps, np.quantile(c, 0.1, axis=0), np.quantile(c, 0.9, axis=0),
                                color=col, alpha=0.2)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("steps n")
            ax.set_ylabel("TVD ½‖x_n − μ‖₁")
            ax.set_title(f"{g}, base = {base}")
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Total variation of the empirical measure (mean, 10–90 % band over seeds)")
    fig.tight_layout()
    fig.savefig(out_dir / "sampling_tvd.png", dpi=130)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="4 seeds, short walks, 3 graphs")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (20; quick 4)")
    p.add_argument("--out", type=Path, default=Path("bench/results/randomwalk"))
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    with blas_threads(1):
        run(args.quick, args.out, args.seeds)
    print(f"done in {time.perf_counter() - t0:.0f} s; results in {args.out}")


if __name__ == "__main__":
    main()
