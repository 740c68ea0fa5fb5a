"""Performance profiles (Dolan–Moré) and data profiles (Moré–Wild), per group of solvers.

Performance profile: for solver s on problem p with cost t_{p,s} (time; infinite when s did not
reach the tolerance), r_{p,s} = t_{p,s} / min_s t_{p,s} and rho_s(tau) is the fraction of
problems with r_{p,s} <= tau (E. D. Dolan and J. J. Moré, Math. Program. 91, 2002).

Data profile: with e_{p,s} the evaluations s used to reach the tolerance on p (n_p variables),
d_s(kappa) is the fraction of problems with e_{p,s} / (n_p + 1) <= kappa, the cost counted in
"simplex gradients" (J. J. Moré and S. M. Wild, SIAM J. Optim. 20, 2009).

Profiles only compare solvers on the same problems: :func:`solver_groups` splits the records
into groups of solvers that attempted the same problem set, and each group gets its own panel.
Curves are drawn as OptiProfiler draws them: step functions, log2 abscissae, a distinct colour
and line style per solver, the legend outside the axes, the problem count in the title.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["data_profile_costs", "performance_profile", "profile_ratios", "solver_groups"]

LINESTYLES = ("-", "--", "-.", ":")


def _solved(r) -> bool:
    return bool(r.reached) and not math.isnan(r.time_s)


def _attempted(r) -> bool:
    return getattr(r, "status", "") != "skipped"


def profile_ratios(records: Sequence) -> tuple[list[str], np.ndarray]:
    """Return solver names and the (n_problems, n_solvers) matrix of performance ratios."""
    solvers = sorted({r.solver for r in records})
    by_problem: dict[str, dict[str, float]] = defaultdict(dict)
    for r in records:
        by_problem[r.problem][r.solver] = r.time_s if _solved(r) else math.inf
    times = np.array(
        [[by_problem[p].get(s, math.inf) for s in solvers] for p in sorted(by_problem)], dtype=float
    )
    best = times.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(np.isfinite(best), times / best, math.inf)
    return solvers, ratios


def data_profile_costs(records: Sequence) -> tuple[list[str], np.ndarray] | None:
    """Solver names and the (n_problems, n_solvers) costs ``evals / (n + 1)`` (inf: unsolved).

    None when a record lacks its evaluation count or problem dimension.
    """
    solvers = sorted({r.solver for r in records})
    by_problem: dict[str, dict[str, float]] = defaultdict(dict)
    for r in records:
        evals, n = getattr(r, "evals", -1), getattr(r, "n_vars", -1)
        if _solved(r) and (evals is None or evals < 0 or n is None or n < 1):
            return None
        by_problem[r.problem][r.solver] = evals / (n + 1) if _solved(r) else math.inf
    costs = np.array(
        [[by_problem[p].get(s, math.inf) for s in solvers] for p in sorted(by_problem)], dtype=float
    )
    return solvers, costs


def _kind(r) -> str:
    return getattr(r, "kind", "") or r.problem.split("/")[0]


def solver_groups(records: Sequence) -> list[tuple[str, list]]:
    """Split records into suite sections whose solvers all attempt the same problems.

    A section is a problem kind (``lasso``, ``nlp_eq``...) with the solvers that apply to it;
    kinds attempted by the same set of solvers share one group. A solver applying to several
    kinds (say Lasso and L1-logistic) appears in each of their groups, beside the peers of
    that kind only. Returns ``[(label, records_of_the_group), ...]``, largest group first.
    """
    solvers_of: dict[str, set] = defaultdict(set)
    for r in records:
        if _attempted(r):
            solvers_of[_kind(r)].add(r.solver)
    kinds_of: dict[frozenset, list[str]] = defaultdict(list)
    for kind, solvers in solvers_of.items():
        kinds_of[frozenset(solvers)].append(kind)
    out = []
    for solvers, kinds in kinds_of.items():
        rows = [r for r in records if r.solver in solvers and _kind(r) in kinds]
        out.append((", ".join(sorted(kinds)), rows))
    out.sort(key=lambda g: (-len({r.problem for r in g[1]}), g[0]))
    return out


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _style(j: int) -> dict:
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("tab10").colors
    # (colour, line style) pairs are distinct for the first 40 solvers of a group
    return {"color": colors[j % 10], "linestyle": LINESTYLES[(j // 10 + j) % 4]}


def _step_profile(ax, solvers, values, xlabel, tau_max=None):
    finite = values[np.isfinite(values)]
    hi = tau_max or (max(2.0, float(finite.max()) * 1.1) if finite.size else 2.0)
    taus = np.logspace(0 if xlabel.startswith("perf") else np.log2(max(finite.min(), 1e-3))
                       if finite.size else 0, np.log2(hi), 400, base=2.0)
    for j, s in enumerate(solvers):
        rho = [(values[:, j] <= t).mean() for t in taus]
        ax.step(taus, rho, where="post", label=s, linewidth=1.6, **_style(j))
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, which="both", alpha=0.3)


def performance_profile(records: Sequence, path: str | Path, title: str = "") -> Path:
    """Plot one row per solver group: performance profile (time) and, when every solved row
    has its evaluation count and problem size, the data profile. Writes a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    groups = solver_groups(records)
    has_data = [data_profile_costs(rows) is not None for _, rows in groups]
    ncols = 2 if any(has_data) else 1
    fig, axes = plt.subplots(len(groups), ncols, figsize=(6.2 * ncols + 2.6, 3.6 * len(groups)),
                             squeeze=False)
    for i, (label, rows) in enumerate(groups):
        solvers, ratios = profile_ratios(rows)
        n_problems = ratios.shape[0]
        tol = sorted({r.tol for r in rows})
        tol_text = f"tol {tol[0]:.0e}" if len(tol) == 1 else "per-problem tol"
        ax = axes[i, 0]
        _step_profile(ax, solvers, ratios, "performance")
        ax.set_xlabel(r"performance ratio $\tau$ (time / best time), log$_2$ scale")
        ax.set_ylabel("fraction of problems solved")
        ax.set_title(f"{label}: performance profile\n{n_problems} problem{_s(n_problems)}, "
                     f"{len(solvers)} solvers, {tol_text}", fontsize=9)
        if ncols == 2:
            ax2 = axes[i, 1]
            costs = data_profile_costs(rows)
            if costs is None:
                ax2.axis("off")
                ax2.text(0.5, 0.5, "no evaluation counts: no data profile", ha="center",
                         va="center", transform=ax2.transAxes, fontsize=9)
            else:
                _step_profile(ax2, costs[0], costs[1], "data")
                ax2.set_xlabel(r"evaluations / ($n_p$ + 1), log$_2$ scale")
                ax2.set_title(f"{label}: data profile\n{n_problems} problem{_s(n_problems)}, "
                              f"{len(solvers)} solvers, {tol_text}", fontsize=9)
        axes[i, ncols - 1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                                  borderaxespad=0.0, frameon=False)
    if title:
        # a quarter inch above the top row, which bbox_inches="tight" keeps in the image
        fig.suptitle(title, fontsize=11, y=1.0 + 0.25 / fig.get_figheight())
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
