"""The ``optsolve bench`` runner: problem sets x solvers -> table, CSV, profiles.

Every (problem, solver) pair ends with a status (``solved``, ``failed`` with the reason,
``timeout``, ``error``); suites may run each solve in a worker subprocess with a time limit
(``Suite.isolate``); the CSV is written row by row and ``resume=True`` picks it up; the PNG has a
Dolan–Moré performance profile and a Moré–Wild data profile per group of solvers that attempt
the same problems.

Plug-in structure
-----------------
A *suite* (:class:`Suite`) pairs problem sets (callables yielding :class:`BenchProblem`) with
solvers (:class:`SolverSpec`, optsolve's own and peers'). Solver families register their rows
from a private module ``optsolve/<family>/_bench.py`` that defines ``register(registry)``; the
runner discovers those modules, so adding a family never edits the runner.
"""

from .registry import (
    BenchProblem,
    Registry,
    SolveOutcome,
    SolverSpec,
    Suite,
    get_registry,
)
from .runner import run_suite
from .timing import TimedComparison, compare_solvers, time_callable

__all__ = [
    "BenchProblem",
    "Registry",
    "SolveOutcome",
    "SolverSpec",
    "Suite",
    "TimedComparison",
    "compare_solvers",
    "get_registry",
    "run_suite",
    "time_callable",
]
