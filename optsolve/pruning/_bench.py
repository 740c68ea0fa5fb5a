"""Benchmark rows of the pruning family for ``optsolve bench``.

Suite ``pruning``:

* ``rd_allocation`` — the DP solve alone on random monotone curves (L layers × 101 levels × T
  bins): optsolve's numba ``allocate_dp`` against a plain numpy DP (vectorized over the budget,
  the peer) and the Lagrangian allocator. Metric: relative excess of the summed distortion over
  the DP optimum (the Lagrangian stays on the convex hull, so it may not reach 1e-9).
* ``layer_allocation`` — a scikit-learn MLP trained on digits, curves computed once: every
  allocator of :class:`~optsolve.pruning.LayerAdaptivePruner` at 80 % and 90 % sparsity. Metric:
  test error of the pruned network (no fine-tuning); every row counts as reached (tol 1), the
  comparison is in the metric column; LAMP is the peer.

``quick`` gets one small DP row (50 layers, 10⁴ bins).
"""

from __future__ import annotations

import numpy as np

from ..bench.registry import BenchProblem, SolveOutcome, SolverSpec

N_LEVELS = 101


def random_curves(n_layers: int, n_levels: int = N_LEVELS, seed: int = 0):
    """Costs (kept weights) and convex-ish decreasing distortion curves of random layers."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1_000, 50_000, size=n_layers)
    frac = np.linspace(0.0, 1.0, n_levels)
    costs = np.rint(np.outer(sizes, 1.0 - frac)).astype(np.int64)
    scale = rng.uniform(0.1, 10.0, size=(n_layers, 1))
    power = rng.uniform(1.5, 6.0, size=(n_layers, 1))
    bumps = rng.uniform(0, 0.05, size=(n_layers, n_levels)).cumsum(axis=1)  # non-convex wiggles
    return costs, scale * frac[None, :] ** power + bumps


def numpy_dp(costs, distortions, budget, n_bins):
    """Plain numpy DP (same discretization as ``allocate_dp``): the timing peer."""
    scale = 1.0 if budget <= n_bins else n_bins / budget
    T = int(np.floor(budget * scale + 1e-9))
    bc = np.ceil(costs * scale - 1e-9).astype(np.int64)
    T = min(T, int(bc.max(axis=1).sum()))
    prev = np.zeros(T + 1)
    table = np.empty((costs.shape[0], T + 1), dtype=np.int8)
    for l in range(costs.shape[0]):
        cur = np.full(T + 1, np.inf)
        arg = np.full(T + 1, -1, dtype=np.int8)
        for j in range(costs.shape[1]):
            c = bc[l, j]
            if c > T:
                continue
            cand = prev[: T + 1 - c] + distortions[l, j]
            better = cand < cur[c:]
            cur[c:][better] = cand[better]
            arg[c:][better] = j
        prev = cur
        table[l] = arg
    levels = np.empty(costs.shape[0], dtype=np.int64)
    t = T
    for l in range(costs.shape[0] - 1, -1, -1):
        levels[l] = table[l, t]
        t -= bc[l, levels[l]]
    return levels


def allocation_problems(sizes):
    def make():
        for n_layers, n_bins in sizes:
            costs, dist = random_curves(n_layers)
            budget = 0.1 * costs[:, 0].sum()  # 90 % sparsity
            yield BenchProblem(
                name=f"rd_allocation/L{n_layers}_K{N_LEVELS}_T{n_bins:.0e}",
                kind="rd_allocation",
                data=dict(costs=costs, distortions=dist, budget=budget, n_bins=n_bins),
                metric="rel_excess",
                tol=1e-9,
                peer="numpy.dp",
                meta=dict(n_layers=n_layers, n_bins=n_bins),
            )

    return make


def _alloc_solver(kind):
    def prepare(problem):
        d = problem.data
        from .allocation import allocate_dp, allocate_lagrangian

        best = float(np.take_along_axis(
            d["distortions"],
            allocate_dp(d["costs"], d["distortions"], d["budget"], d["n_bins"])[:, None], 1,
        ).sum())

        def solve():
            if kind == "dp":
                levels = allocate_dp(d["costs"], d["distortions"], d["budget"], d["n_bins"])
            elif kind == "numpy":
                levels = numpy_dp(d["costs"], d["distortions"], d["budget"], d["n_bins"])
            else:
                levels = allocate_lagrangian(d["costs"], d["distortions"], d["budget"])
            total = float(np.take_along_axis(d["distortions"], levels[:, None], 1).sum())
            used = float(np.take_along_axis(d["costs"], levels[:, None], 1).sum())
            return SolveOutcome((total - best) / max(best, 1e-300), objective=total,
                                n_iter=1, success=used <= d["budget"])

        return solve

    return prepare


def digits_allocation_problems():
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from .estimators import LayerAdaptivePruner

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, random_state=0,
                                          stratify=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = MLPClassifier(hidden_layer_sizes=(128, 128), max_iter=200, random_state=0)
        net.fit(Xtr, ytr)
    calib = Xtr[:256]
    curves = LayerAdaptivePruner(sparsity=0.5, n_refine=0).fit(net, calib).curves_
    for s in (0.8, 0.9):
        yield BenchProblem(
            name=f"layer_allocation/digits_mlp/s{s:.2f}",
            kind="layer_allocation",
            data=dict(model=net, calib=calib, curves=curves, X=Xte, y=yte, sparsity=s),
            metric="test_err",
            tol=1.0,
            peer="lamp",
        )


def _pruner_solver(allocator):
    def prepare(problem):
        from .estimators import LayerAdaptivePruner

        d = problem.data

        def solve():
            p = LayerAdaptivePruner(sparsity=d["sparsity"], allocator=allocator)
            p.fit(d["model"], d["calib"], curves=d["curves"])
            err = 1.0 - float(p.transform(d["model"]).score(d["X"], d["y"]))
            return SolveOutcome(err, objective=p.predicted_distortion_, n_iter=1)

        return solve

    return prepare


def register(registry) -> None:
    suite = registry.suite(
        "pruning",
        "layer-adaptive pruning (Xu et al. 2023): DP solve time vs numpy, allocators' accuracy",
    )
    suite.problem_sets += [
        allocation_problems(((50, 10_000), (100, 100_000))),
        digits_allocation_problems,
    ]
    alloc_kinds = ("rd_allocation",)
    suite.solvers += [
        SolverSpec("optsolve.allocate_dp", alloc_kinds, _alloc_solver("dp")),
        SolverSpec("optsolve.allocate_lagrangian", alloc_kinds, _alloc_solver("lagrangian")),
        SolverSpec("numpy.dp", alloc_kinds, _alloc_solver("numpy"), is_peer=True),
    ]
    for name in ("dp", "lagrangian", "uniform", "uniform_plus", "global", "erk", "lamp"):
        is_peer = name not in ("dp", "lagrangian")
        label = name if is_peer else f"optsolve.{name}"
        suite.solvers.append(
            SolverSpec(label, ("layer_allocation",), _pruner_solver(name), is_peer=is_peer)
        )
    quick = registry.suite("quick")
    quick.problem_sets.append(allocation_problems(((50, 10_000),)))
    quick.solvers += [
        SolverSpec("optsolve.allocate_dp", alloc_kinds, _alloc_solver("dp")),
        SolverSpec("numpy.dp", alloc_kinds, _alloc_solver("numpy"), is_peer=True),
    ]
