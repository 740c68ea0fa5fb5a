"""Dolan–Moré performance profiles.

For solver s on problem p with time t_{p,s} (infinite when s failed to reach the tolerance),
the ratio is r_{p,s} = t_{p,s} / min_s t_{p,s}; the profile rho_s(tau) is the fraction of
problems with r_{p,s} <= tau. (E. D. Dolan and J. J. Moré, "Benchmarking optimization software
with performance profiles", Math. Program. 91, 2002.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["performance_profile", "profile_ratios"]


def profile_ratios(records: Sequence) -> tuple[list[str], np.ndarray]:
    """Return solver names and the (n_problems, n_solvers) matrix of performance ratios."""
    solvers = sorted({r.solver for r in records})
    by_problem: dict[str, dict[str, float]] = defaultdict(dict)
    for r in records:
        ok = r.reached and not math.isnan(r.time_s)
        by_problem[r.problem][r.solver] = r.time_s if ok else math.inf
    times = np.array(
        [[by_problem[p].get(s, math.inf) for s in solvers] for p in sorted(by_problem)], dtype=float
    )
    best = times.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(np.isfinite(best), times / best, math.inf)
    return solvers, ratios


def performance_profile(records: Sequence, path: str | Path, title: str = "") -> Path:
    """Plot the profile of ``records`` (BenchRecord rows) to a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    solvers, ratios = profile_ratios(records)
    finite = ratios[np.isfinite(ratios)]
    tau_max = max(2.0, float(finite.max()) * 1.5) if finite.size else 10.0
    taus = np.logspace(0, np.log10(tau_max), 200)
    # more than a few solvers: the legend goes right of the axes so it never hides the curves
    outside = len(solvers) > 6
    fig, ax = plt.subplots(figsize=(9.6, 4.8) if outside else (6.4, 4.2))
    for j, s in enumerate(solvers):
        rho = [(ratios[:, j] <= t).mean() for t in taus]
        ax.step(taus, rho, where="post", label=s)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(r"$\tau$ (time / best time)")
    ax.set_ylabel(r"fraction of problems with ratio $\leq \tau$")
    ax.set_title(title or "performance profile")
    ax.grid(True, which="both", alpha=0.3)
    if outside:
        ncol = 1 + len(solvers) // 16
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), ncol=ncol)
    else:
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
