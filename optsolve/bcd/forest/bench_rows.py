"""Benchmark rows of the forest / message-passing solver for the ``optsolve bench`` runner.

The runner discovers ``optsolve/<family>/_bench.py`` only; the bcd family's ``_bench.register``
calls :func:`register_bench` from here. Problems are label-propagation (harmonic) systems
``L_uu x = W_ul y_l``; every contender must reach ``||A x - b|| <= 1e-6 ||b||``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = ["register_bench"]

#: relative residual every contender must reach
REL_RESIDUAL_TOL = 1e-6
SELECTIONS = ("greedy-tree", "tree-partition", "red-black")


def _rel_residual(A, b, x) -> float:
    return float(np.linalg.norm(A @ x - b) / max(np.linalg.norm(b), 1e-300))


def _lattice_problem(side: int, n_labeled: int):
    from ...bench.registry import BenchProblem
    from .graphs import label_propagation_lattice

    A, b, _ = label_propagation_lattice((side, side), n_labeled=n_labeled, random_state=0)
    return BenchProblem(
        name=f"harmonic/lattice_{side}x{side}/{n_labeled}_labeled", kind="harmonic_quadratic",
        data=(A, b), metric="rel_residual", tol=REL_RESIDUAL_TOL, peer="scipy.spsolve",
    )


def _moons_problem(n: int = 2000, n_labeled: int = 20, n_neighbors: int = 5):
    from sklearn.datasets import make_moons

    from ...bench.registry import BenchProblem
    from .graphs import affinity_graph, harmonic_system

    X, y = make_moons(n, noise=0.15, random_state=0)  # noise 0.15: one connected component
    rng = np.random.default_rng(0)
    lab = np.zeros(n, dtype=bool)
    for c in (0, 1):
        lab[rng.choice(np.flatnonzero(y == c), n_labeled // 2, replace=False)] = True
    W = affinity_graph(X, "knn", n_neighbors=n_neighbors)
    A, B = harmonic_system(W, lab, np.eye(2)[y[lab]])
    return BenchProblem(
        name=f"harmonic/two_moons_{n}/{n_neighbors}nn/{n_labeled}_labeled",
        kind="harmonic_quadratic", data=(A, B[:, 0]), metric="rel_residual",
        tol=REL_RESIDUAL_TOL, peer="scipy.spsolve",
    )


def _forest_solver(selection: str):
    def prepare(problem):
        from ...bench.registry import SolveOutcome
        from .solver import minimize_forest_bcd

        A, b = problem.data
        with warnings.catch_warnings():  # compile the kernels outside the timing
            warnings.simplefilter("ignore", ConvergenceWarning)
            minimize_forest_bcd(A, b, selection=selection, max_iter=2, tol=0.0)

        def solve():
            res = minimize_forest_bcd(A, b, selection=selection, tol=REL_RESIDUAL_TOL,
                                      max_iter=1_000_000)
            return SolveOutcome(_rel_residual(A, b, res.x), res.fun, res.nit, res.success)

        return solve

    return prepare


def _spsolve(problem):
    from scipy.sparse.linalg import spsolve

    from ...bench.registry import SolveOutcome

    A, b = problem.data
    A_csc = A.tocsc()

    def solve():
        x = spsolve(A_csc, b)
        return SolveOutcome(_rel_residual(A, b, x), float(0.5 * x @ (A @ x) - b @ x), 1)

    return solve


def _cg(problem):
    from scipy.sparse.linalg import cg

    from ...bench.registry import SolveOutcome

    A, b = problem.data

    def solve():
        n_iter = [0]

        def count(_):
            n_iter[0] += 1

        x, _ = cg(A, b, rtol=REL_RESIDUAL_TOL, maxiter=100_000, callback=count)
        return SolveOutcome(_rel_residual(A, b, x), float(0.5 * x @ (A @ x) - b @ x), n_iter[0])

    return solve


def register_bench(registry) -> None:
    """Add the ``bcd_forest`` suite and one small row to ``quick``.

    Examples
    --------
    >>> from optsolve.bench.registry import Registry
    >>> from optsolve.bcd.forest.bench_rows import register_bench
    >>> reg = Registry(); register_bench(reg)
    >>> "bcd_forest" in reg.names()
    True
    """
    from ...bench.registry import SolverSpec

    solvers = [SolverSpec(f"optsolve.forest_bcd[{sel}]", ("harmonic_quadratic",),
                          _forest_solver(sel)) for sel in SELECTIONS]
    peers = [
        SolverSpec("scipy.spsolve", ("harmonic_quadratic",), _spsolve, is_peer=True),
        SolverSpec("scipy.cg", ("harmonic_quadratic",), _cg, is_peer=True),
    ]
    suite = registry.suite(
        "bcd_forest",
        "label propagation (harmonic systems) by message-passing BCD vs scipy direct / CG",
    )
    suite.problem_sets.append(lambda: [_lattice_problem(50, 50), _moons_problem()])
    suite.solvers += solvers + peers
    quick = registry.suite("quick")
    quick.problem_sets.append(lambda: [_lattice_problem(30, 30)])
    quick.solvers += [s for s in solvers if "tree-partition" in s.name] + peers[:1]
