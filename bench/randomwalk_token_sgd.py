"""Token SGD driven by self-repellent random walks against Markovian and i.i.d. tokens.

Reproduces the optimization experiment of Hu, Doshi & Eun (ICLR 2024): one model θ travels
over a graph of agents; at each visit the agent takes a stochastic-approximation step with its
own data (``optsolve.randomwalk.token_sgd``). Two parts:

1. **Error against steps.** ℓ2-logistic regression on ijcnn1 (49 990 samples, 22 features,
   ``optsolve.datasets.load_libsvm``) over 100 agents, each holding a contiguous block of the
   label-sorted samples (``partition_data(how='sorted')``: the agents' data differ, as in a
   federated network), on a 100-node Barabási–Albert graph (m = 3, seed 0;
   ``optsolve.graphs.make_graph('power_law')``); ℓ2 weight 1e-2; every walk uses the same
   steps β_n = s (n+1)^-0.9, s the ``step_size="auto"`` scale of the SRRW on the MH base
   (20.1; the SRW and NBRW tokens' own "auto" would be smaller, as their importance weights
   2|E|/d_i are larger on the leaves), and the full local gradient at each visit.
   ‖θ_n − θ*‖ / ‖θ*‖ (θ* the centralized optimum) against n for SRRW (α = 10, 20, base
   Metropolis–Hastings) in the default regime (a, b) = (0.6, 0.9) and with the larger walk
   exponents a = 0.7 and the paper's case (i) pair (0.8, 0.9), and the Metropolis–Hastings
   walk, the non-backtracking and simple random walks (importance-reweighted to the uniform
   target) and i.i.d. uniform agents: mean and 10–90 % band over ``--seeds`` (20), table at a
   few step counts, and the last iterate's error split over the seeds into the error of the
   mean (bias) and the spread. ``--steps`` sets the horizon (10^5; 10^6 takes ~20 s a run).
2. **Covariance of θ against α.** On a small ridge problem (karate-club graph, 34 agents,
   5 features) the SA-SRRW's iterate obeys a CLT, (θ_n − θ*)/√β_n → N(0, V_θ(α)); the script
   estimates trace V_θ(α) by trace Cov(θ_n)/β_n over 40 seeds (the covariance over seeds, the
   bias ‖E θ_n − θ*‖ reported apart) at n = 10^5 steps for α ∈ {0, 1, 5, 10, 20, 50} in the
   default regime (case (i), β_n = o(γ_n)) and in the paper's pair (0.8, 0.9), against the
   closed form trace V_θ(α) (``theta_asymptotic_covariance``), and fits the log–log slope
   against α (−2 is 1/α²); the full run repeats the default regime, (0.7, 0.9) and (0.8, 0.9)
   at n = 10^6 (20 seeds) to show the slope's trend with n.

Outputs in ``--out`` (default ``bench/results/randomwalk``): ``token_sgd.csv`` (every recorded
point of every run), ``token_sgd.md`` (tables), ``token_sgd.png`` (error curves),
``token_sgd_cov.csv``, ``token_sgd_cov.png``.

    python bench/randomwalk_token_sgd.py           # full: 20 seeds x 9 tokens x 100 000 steps
    python bench/randomwalk_token_sgd.py --no-cov --steps 1000000   # the 10^6-step table
    python bench/randomwalk_token_sgd.py --quick   # 4 seeds, 5 000 steps
    python bench/randomwalk_token_sgd.py --no-sgd  # the covariance part only
    # the README's long horizon: default SRRW and the Markovian tokens, 4e6 steps, 2 processes
    python bench/randomwalk_token_sgd.py --no-cov --walks 0,1,5,6,7 --steps 4000000 --jobs 2

Each run is saved under ``--out``/runs/<data> and read back by a later call with the same
data, walk, seed and ``--steps``, so a long run that was stopped resumes where it was (delete
that folder after changing the code).
"""

from __future__ import annotations

import argparse
import csv
import functools
import time
from pathlib import Path

import numpy as np

from optsolve.bench.timing import blas_threads
from optsolve.randomwalk import (
    DecentralizedProblem,
    partition_data,
    theta_asymptotic_covariance,
    token_sgd,
)
from optsolve.randomwalk._bench import bench_graph, ijcnn1_problem, real_graphs
from optsolve.randomwalk.schedules import (
    DEFAULT_REGIME,
    PAPER_FAST_WALK,
    REGIMES,
    check_regime,
)

#: (label, walk, alpha, regime); the baselines do not use the walk's step exponent a
WALKS = (
    ("SRRW α=10", "srrw", 10.0, DEFAULT_REGIME),
    ("SRRW α=20", "srrw", 20.0, DEFAULT_REGIME),
    ("SRRW α=10, (0.7, 0.9)", "srrw", 10.0, (0.7, 0.9)),
    ("SRRW α=10, (0.8, 0.9)", "srrw", 10.0, PAPER_FAST_WALK),
    ("SRRW α=20, (0.8, 0.9)", "srrw", 20.0, PAPER_FAST_WALK),
    ("NBRW", "nbrw", 0.0, DEFAULT_REGIME),
    ("SRW", "srw", 0.0, DEFAULT_REGIME),
    ("MH", "mh", 0.0, DEFAULT_REGIME),
    ("i.i.d.", "iid", 0.0, DEFAULT_REGIME),
)
TABLE_STEPS = (1_000, 5_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
               2_000_000, 4_000_000, 10_000_000)
COV_ALPHAS = (0.0, 1.0, 5.0, 10.0, 20.0, 50.0)
#: the default regime and the paper's case (i) pair: with (a, b) = (0.8, 0.9) the ratio
#: β_n/γ_n = n^-0.1 is still 0.3 at n = 10^5, too close to case (ii) for the 1/α² limit to
#: show; with the default (0.6, 0.9) it is n^-0.3 = 0.03
COV_REGIMES = (DEFAULT_REGIME, PAPER_FAST_WALK)
#: regimes also run at 10^6 steps in the full run: the timescale leak α s h n^(a-b) behind the
#: flatter slopes of the larger a shrinks like n^(a-b), n^-0.2 for (0.7, 0.9)
COV_LONG_REGIMES = (DEFAULT_REGIME, (0.7, 0.9), PAPER_FAST_WALK)


def _regime_label(regime) -> str:
    a, b = REGIMES[regime] if isinstance(regime, str) else regime
    return f"{regime} ({a:g}, {b:g})" if isinstance(regime, str) else f"({a:g}, {b:g})"


def _history(res):
    """(steps, errors) from the result's history: an (m, 2) array or a dict of arrays."""
    h = res.history
    if isinstance(h, dict):
        return np.asarray(h["step"]), np.asarray(h["error"])
    h = np.asarray(h)
    return h[:, 0].astype(np.int64), h[:, 1]


@functools.cache
def _setup():
    """The ijcnn1 problem, graph, θ*, ‖θ*‖ and the shared step scale, built once per process."""
    problem, data_name = ijcnn1_problem(100)
    A = bench_graph("power_law", problem.n_nodes, random_state=0)
    theta_star = problem.solution()
    # one β_n for every walk, as in the paper: the "auto" scale of the SRRW on the MH base
    # (the SRW and NBRW tokens' own "auto" is smaller, their leaves weigh 2|E|/d_i)
    step_size = token_sgd(problem, A, n_steps=1, record_history=False).step_size
    return {"problem": problem, "data_name": data_name, "A": A, "theta_star": theta_star,
            "scale": float(np.linalg.norm(theta_star)), "step_size": step_size}


def _one_run(job):
    """One (walk, seed) run: ``(k, seed, steps, relative errors, (θ_n − θ*)/‖θ*‖, exponents,
    seconds)``, saved in the folder ``cache`` and read back from there when present."""
    k, seed, n_steps, cache = job
    label, walk, alpha, regime = WALKS[k]
    path = cache / f"{label.replace(' ', '_')}_n{n_steps}_seed{seed}.npz"
    if path.exists():
        z = np.load(path)
        return (k, seed, z["steps"], z["rel_error"], z["rel_final"], str(z["exponents"]),
                float(z["seconds"]))
    w = _setup()
    t0 = time.perf_counter()
    res = token_sgd(w["problem"], w["A"], walk=walk, alpha=alpha, n_steps=n_steps,
                    step_size=w["step_size"], regime=regime, random_state=seed)
    dt = time.perf_counter() - t0
    steps, e = _history(res)
    out = (k, seed, steps, e / w["scale"], (res.x - w["theta_star"]) / w["scale"],
           str(res.exponents), dt)
    np.savez(path, steps=out[2], rel_error=out[3], rel_final=out[4], exponents=out[5],
             seconds=dt)
    return out


def error_curves(n_steps: int, n_seeds: int, out_dir: Path, walks=None, jobs: int = 1):
    """Every (walk, seed) run of ``WALKS`` (those whose index is in ``walks``, all by
    default), on ``jobs`` processes; writes ``token_sgd.csv``."""
    w = _setup()
    keep = range(len(WALKS)) if walks is None else walks
    cache = out_dir / "runs" / w["data_name"]  # the synthetic stand-in never reads ijcnn1's
    cache.mkdir(parents=True, exist_ok=True)
    # seed-major order: every walk has about as many seeds done at any time
    todo = [(k, seed, n_steps, cache) for seed in range(n_seeds) for k in keep]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, initializer=_pinned) as pool:
            done = list(_report(pool.map(_one_run, todo), n_steps))
    else:
        done = list(_report(map(_one_run, todo), n_steps))
    rows, curves, finals = [], {}, {}
    for k in keep:
        label, _, alpha, _ = WALKS[k]
        runs = sorted((r for r in done if r[0] == k), key=lambda r: r[1])
        errs = np.array([r[3] for r in runs])
        for _, seed, steps, e, _, exps, _ in runs:
            rows += [{"walk": label, "alpha": alpha, "exponents": exps, "seed": seed,
                      "step": int(s_), "rel_error": float(e_)}
                     for s_, e_ in zip(steps, e, strict=True)]
        curves[label] = (runs[0][2], errs)
        finals[label] = bias_spread(np.array([r[4] for r in runs]))
        t_total = sum(r[6] for r in runs)
        print(f"{label:<22} final rel. error {errs[:, -1].mean():.3e} "
              f"(10-90 %: {np.quantile(errs[:, -1], 0.1):.2e}-"
              f"{np.quantile(errs[:, -1], 0.9):.2e}), "
              f"{n_steps * n_seeds / t_total / 1e3:.0f} k steps/s", flush=True)
    info = {"data": w["data_name"], "n_agents": w["problem"].n_nodes,
            "n_edges": w["A"].nnz // 2, "n_steps": n_steps, "seeds": n_seeds,
            "theta_star_norm": w["scale"], "step_size": w["step_size"], "bias_spread": finals}
    with open(out_dir / "token_sgd.csv", "w", newline="", encoding="utf-8") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    return curves, info


def _pinned():
    """Pool initializer: one BLAS thread per worker process."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _report(results, n_steps):
    """Pass the runs through, printing each as it ends (a long run's progress log)."""
    for r in results:
        print(f"  {WALKS[r[0]][0]:<22} seed {r[1]:>2}: rel. error at n = {n_steps:,} "
              f"{r[3][-1]:.3e} ({r[6]:.0f} s)", flush=True)
        yield r


def bias_spread(D):
    """``(‖mean − θ*‖, spread, rms)`` of the rows of ``D`` (θ_n − θ*, one row per seed): the
    error of the seed mean, sqrt(trace Cov) over seeds, and the root-mean-square error
    sqrt(mean ‖θ_n − θ*‖²) (the squares of the first two add up to the last's, up to the
    (S − 1)/S of the sample covariance)."""
    m = D.mean(axis=0)
    return (float(np.linalg.norm(m)), float(np.sqrt(((D - m) ** 2).sum() / (len(D) - 1))),
            float(np.sqrt((D ** 2).sum(axis=1).mean())))


def cov_problem():
    """Ridge on the karate club (34 agents, 20 samples each, 5 features), split by sorted
    target so that the agents' data differ and the walk's sampling noise reaches θ."""
    rng = np.random.default_rng(0)
    A = real_graphs()["karate_club"]
    n_agents = A.shape[0]
    X = rng.standard_normal((20 * n_agents, 5))
    y = X @ rng.standard_normal(5) + rng.standard_normal(20 * n_agents)
    problem = DecentralizedProblem.ridge(
        partition_data(X, y, n_agents, how="sorted", random_state=0), 1.0)
    return problem, A


def theta_covariance(runs):
    """trace Cov(θ_n)/β_n over seeds against α for each ``(regime, n_steps, n_seeds)`` of
    ``runs``, with the closed form trace V_θ(α) (case (i) and α = 0)."""
    problem, A = cov_problem()
    theta_star = problem.solution()
    out = []
    for regime, n_steps, n_seeds in runs:
        case_i = check_regime(regime)[2] == "fast_walk"
        t0 = time.perf_counter()
        for alpha in COV_ALPHAS:
            finals = []
            for seed in range(n_seeds):
                res = token_sgd(problem, A, walk="srrw", alpha=alpha, n_steps=n_steps,
                                regime=regime, random_state=seed, record_history=False)
                finals.append(res.x - theta_star)
            b = res.exponents[1]
            beta_n = res.step_size * (n_steps + 1.0) ** -b
            F = np.array(finals)
            cov_tr = float(((F - F.mean(axis=0)) ** 2).sum() / (len(F) - 1))
            theory = float("nan")
            if case_i or alpha == 0:
                theory = float(np.trace(theta_asymptotic_covariance(
                    problem, A, alpha, step_size=res.step_size, regime=regime)))
            out.append({"regime": _regime_label(regime),
                        "exponents_a_b": f"{res.exponents[0]:g},{b:g}", "alpha": alpha,
                        "n_steps": n_steps, "seeds": n_seeds, "step_size": res.step_size,
                        "trace_cov": cov_tr, "n_trace_cov": n_steps * cov_tr,
                        "beta_n": beta_n, "trace_cov_over_beta": cov_tr / beta_n,
                        "trace_V_theta": theory,
                        "bias_sq_over_beta": float(F.mean(axis=0) @ F.mean(axis=0)) / beta_n})
            print(f"regime={_regime_label(regime):<22} n={n_steps:>7} alpha={alpha:>4g}  "
                  f"tr Cov/β_n = {cov_tr / beta_n:.4g}  closed form {theory:.4g}  "
                  f"|bias|²/β_n = {out[-1]['bias_sq_over_beta']:.3g}", flush=True)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    return out


def slopes(cov_rows, key: str, alphas) -> dict:
    """Least-squares slope of log ``key`` against log α over ``alphas``, per run."""
    out = {}
    for run in dict.fromkeys((r["regime"], r["n_steps"]) for r in cov_rows):
        sel = [r for r in cov_rows if (r["regime"], r["n_steps"]) == run and r["alpha"] in alphas]
        v = np.array([r[key] for r in sel])
        out[run] = (float("nan") if np.isnan(v).any() or len(sel) < 2 else
                    float(np.polyfit(np.log([r["alpha"] for r in sel]), np.log(v), 1)[0]))
    return out


SLOPE_SETS = {"α ∈ {1, 5, 10, 20, 50}": (1.0, 5.0, 10.0, 20.0, 50.0),
              "α ∈ {5, 10, 20}": (5.0, 10.0, 20.0)}


def write_markdown(curves, info, cov_rows, out_dir: Path) -> str:
    """The tables as markdown: the error table into ``token_sgd.md``, the covariance tables
    into ``token_sgd_cov.md`` (each part can be run alone)."""
    lines = []
    if curves:
        # the history points are log-spaced: each column is the first one at or after its
        # TABLE_STEPS entry, and is headed with its own n
        at = next(iter(curves.values()))[0]
        shown = sorted({int(at[min(int(np.searchsorted(at, s)), len(at) - 1)])
                        for s in TABLE_STEPS if s <= info["n_steps"]})
        lines += [
            f"Token SGD, ℓ2-logistic on {info['data']} over {info['n_agents']} agents "
            f"(Barabási–Albert graph, {info['n_edges']} edges), β_n = {info['step_size']:.3g} "
            f"(n+1)^-0.9 for every walk (the SRRW's step_size='auto'): relative error "
            f"‖θ_n − θ*‖/‖θ*‖, mean [10 %, 90 %] "
            f"over {info['seeds']} seeds. SRRW rows without exponents: default regime "
            f"{_regime_label(DEFAULT_REGIME)}.",
            "",
            "| walk | " + " | ".join(f"n = {s:,}" for s in shown) + " |",
            "|---|" + "---:|" * len(shown),
        ]
        for label, (steps, E) in curves.items():
            cells = []
            for s in shown:
                e = E[:, min(int(np.searchsorted(steps, s)), len(steps) - 1)]
                cells.append(f"{e.mean():.3g} [{np.quantile(e, 0.1):.2g}, "
                             f"{np.quantile(e, 0.9):.2g}]")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += ["", f"At n = {info['n_steps']:,}, the relative error split over the seeds "
                  "into the error of the mean θ_n, ‖E θ_n − θ*‖/‖θ*‖ (bias; the seed mean carries "
                  "a Monte-Carlo error of about spread/√seeds), and the spread "
                  "sqrt(trace Cov θ_n)/‖θ*‖, and the root-mean-square error "
                  "sqrt(E‖θ_n − θ*‖²)/‖θ*‖:", "", "| walk | bias | spread | rms |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {label} | {bb:.3g} | {sp:.3g} | {rms:.3g} |"
                  for label, (bb, sp, rms) in info["bias_spread"].items()]
        lines.append("")
        markov = [k for k in curves if not k.startswith(("SRRW", "i.i.d."))]
        groups = {}
        for k in curves:
            if k.startswith("SRRW"):
                pair = k.partition(", ")[2] or "default regime"
                groups.setdefault(pair, []).append(k)
        for s in shown:
            at = {label: E[:, min(int(np.searchsorted(steps, s)), len(steps) - 1)]
                  for label, (steps, E) in curves.items()}
            means = {label: e.mean() for label, e in at.items()}
            best = min(markov, key=means.get)
            # the Monte-Carlo standard error of the baseline's seed mean
            sem = at[best].std(ddof=1) / np.sqrt(len(at[best])) if len(at[best]) > 1 else np.nan
            verdicts = []
            for name, srrw in groups.items():
                if srrw:
                    below = all(means[k] < means[best] for k in srrw)
                    verdicts.append(f"{name}: {'yes' if below else 'NO'} ("
                                    + ", ".join(f"{k} {means[k]:.3g}" for k in srrw) + ")")
            lines.append(f"- n = {s:,}: every SRRW mean below the best Markovian baseline "
                         f"({best}, {means[best]:.3g} ± {sem:.2g}): " + "; ".join(verdicts))
    if curves:
        (out_dir / "token_sgd.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cov_lines = []
    if cov_rows:
        cov_lines += ["Covariance of θ_n (ridge, karate club, 34 agents, step_size='auto'): "
                  "trace Cov(θ_n)/β_n over seeds, β_n = s (n+1)^-b (n · trace Cov(θ_n) in the "
                  "next column), closed form trace V_θ(α) (Hu et al. 2024, Theorem 3.3 (i)); "
                  "'vs α=0' = ratio to the base chain; ‖E θ_n − θ*‖²/β_n is the squared bias "
                  "on the same scale (not part of the covariance).", "",
                  "| regime (a, b) | n | seeds | α | tr Cov(θ_n)/β_n (sim) | n · tr Cov(θ_n) "
                  "| tr V_θ(α) (closed form) | sim / closed form | vs α=0 (sim) "
                  "| ‖E θ_n − θ*‖²/β_n |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in cov_rows:
            r0 = next(q for q in cov_rows if (q["regime"], q["n_steps"])
                      == (r["regime"], r["n_steps"]) and q["alpha"] == 0)
            th = r["trace_V_theta"]
            ratio = "—" if np.isnan(th) else f"{r['trace_cov_over_beta'] / th:.2f}"
            cov_lines.append(
                f"| {r['regime']} | {r['n_steps']:,} | {r['seeds']} | {r['alpha']:g} "
                f"| {r['trace_cov_over_beta']:.4g} | {r['n_trace_cov']:.4g} "
                f"| {'—' if np.isnan(th) else f'{th:.4g}'} "
                f"| {ratio} "
                f"| {r['trace_cov_over_beta'] / r0['trace_cov_over_beta']:.4f} "
                f"| {r['bias_sq_over_beta']:.3g} |")
        cov_lines += ["", "Log–log slope of trace Cov(θ_n)/β_n against α (−2 is 1/α², −1 is 1/α):",
                  "", "| regime (a, b) | n | " + " | ".join(
                      f"{k}: sim (closed form)" for k in SLOPE_SETS) + " |",
                  "|---|---:|" + "---:|" * len(SLOPE_SETS)]
        sim = {k: slopes(cov_rows, "trace_cov_over_beta", v) for k, v in SLOPE_SETS.items()}
        th = {k: slopes(cov_rows, "trace_V_theta", v) for k, v in SLOPE_SETS.items()}
        for run in sim[next(iter(SLOPE_SETS))]:
            cov_lines.append(f"| {run[0]} | {run[1]:,} | " + " | ".join(
                f"{sim[k][run]:.2f} ({th[k][run]:.2f})" for k in SLOPE_SETS) + " |")
    if cov_rows:
        (out_dir / "token_sgd_cov.md").write_text("\n".join(cov_lines) + "\n",
                                                  encoding="utf-8")
    return "\n".join([*lines, "", *cov_lines]) + "\n"


def plot(curves, info, cov_rows, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if curves:
        fig, ax = plt.subplots(figsize=(7.5, 5))
        for (label, (steps, E)), col in zip(curves.items(), plt.cm.tab10.colors, strict=False):
            ax.plot(steps, E.mean(axis=0), color=col, label=label,
                    lw=2.2 if label.startswith("SRRW") else 1.4,
                    ls="--" if "(" in label else "-")
            ax.fill_between(steps, np.quantile(E, 0.1, axis=0), np.quantile(E, 0.9, axis=0),
                            color=col, alpha=0.12)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("steps n (agent visits)")
        ax.set_ylabel("‖θ_n − θ*‖ / ‖θ*‖")
        ax.set_title(f"Token SGD, ℓ2-logistic on {info['data']}, {info['n_agents']} agents "
                     f"(mean, 10–90 % over {info['seeds']} seeds)", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "token_sgd.png", dpi=130)
        plt.close(fig)

    if not cov_rows:
        return
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    drawn = set()
    for run in dict.fromkeys((r["regime"], r["n_steps"]) for r in cov_rows):
        sel = [r for r in cov_rows if (r["regime"], r["n_steps"]) == run]
        ax.plot([r["alpha"] for r in sel], [r["trace_cov_over_beta"] for r in sel], "o",
                label=f"{run[0]}, n = {run[1]:.0e} (simulated)")
        th = [(r["alpha"], r["trace_V_theta"]) for r in sel if not np.isnan(r["trace_V_theta"])]
        b = sel[0]["exponents_a_b"].split(",")[1]
        if len(th) > 1 and b not in drawn:  # V_θ(α) of case (i) depends on b only
            drawn.add(b)
            ax.plot(*zip(*th, strict=True), "-", color="0.3",
                    label=f"closed form V_θ(α), case (i), b = {b}")
    a = np.geomspace(1, 50, 30)
    ref = next(r["trace_V_theta"] for r in cov_rows if r["alpha"] == 1.0)
    ax.plot(a, ref / a**2, "k:", label="∝ 1/α²")
    ax.plot(a, ref / a, "k--", lw=0.8, label="∝ 1/α")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yscale("log")
    ax.set_xlabel("α")
    ax.set_ylabel("trace Cov(θ_n) / β_n")
    ax.set_title("SA-SRRW iterate covariance against α (ridge, karate club)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "token_sgd_cov.png", dpi=130)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="4 seeds, 5 000 steps")
    p.add_argument("--seeds", type=int, default=None, help="seeds per walk (20; quick 4)")
    p.add_argument("--steps", type=int, default=None,
                   help="ijcnn1 steps per run (100 000; quick 5 000; 1 000 000 takes ~20 s a "
                        "run on one core)")
    p.add_argument("--no-cov", action="store_true", help="skip the covariance-vs-α part")
    p.add_argument("--no-sgd", action="store_true", help="skip the ijcnn1 error part")
    p.add_argument("--walks", default=None,
                   help="comma-separated indices into WALKS to run (all by default): "
                        + "; ".join(f"{k}: {w[0]}" for k, w in enumerate(WALKS)))
    p.add_argument("--jobs", type=int, default=1,
                   help="processes for the ijcnn1 runs (one BLAS thread each)")
    p.add_argument("--out", type=Path, default=Path("bench/results/randomwalk"))
    args = p.parse_args(argv)
    walks = None
    if args.walks is not None:
        try:
            walks = list(dict.fromkeys(int(k) for k in args.walks.split(",")))
        except ValueError:
            walks = []
        if not walks or any(not 0 <= k < len(WALKS) for k in walks):
            p.error(f"--walks: indices in 0..{len(WALKS) - 1}, got {args.walks!r}")
    if args.jobs < 1:
        p.error(f"--jobs must be >= 1, got {args.jobs}")
    n_seeds = args.seeds or (4 if args.quick else 20)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.quick:
        runs = [(r, 20_000, 10) for r in COV_REGIMES]
    else:
        runs = [(r, 100_000, 40) for r in COV_REGIMES] + [
            (r, 1_000_000, 20) for r in COV_LONG_REGIMES]
    curves, info, cov_rows = {}, {}, []
    with blas_threads(1):
        if not args.no_sgd:
            n_steps = args.steps or (5_000 if args.quick else 100_000)
            curves, info = error_curves(n_steps, n_seeds, args.out, walks, args.jobs)
        if not args.no_cov:
            cov_rows = theta_covariance(runs)
    if cov_rows:
        with open(args.out / "token_sgd_cov.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(cov_rows[0]))
            w.writeheader()
            w.writerows(cov_rows)
    print(write_markdown(curves, info, cov_rows, args.out))
    plot(curves, info, cov_rows, args.out)
    print(f"done in {time.perf_counter() - t0:.0f} s; results in {args.out}")


if __name__ == "__main__":
    main()
