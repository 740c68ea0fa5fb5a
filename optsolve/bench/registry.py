"""Suites, problems and solvers of the benchmark runner, and their discovery."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("optsolve.bench")

__all__ = ["BenchProblem", "Registry", "SolveOutcome", "SolverSpec", "Suite", "get_registry"]


@dataclass
class BenchProblem:
    """One benchmark instance.

    Parameters
    ----------
    name : str
        Row label, e.g. ``"lasso/a9a/alpha_max/10"``.
    kind : str
        Problem class that solvers match on (``"lasso"``, ``"l1_logistic"``, ``"nlp_eq"``...).
    data : object
        Whatever the solvers of this kind need (arrays, a problem object...).
    metric : str
        Name of the accuracy measure all solvers are judged by (``"rel_gap"``, ``"kkt"``...).
    tol : float
        Accuracy every contender must reach for its time to count.
    peer : str or None
        Name of the solver the ratio column is computed against.
    """

    name: str
    kind: str
    data: Any
    metric: str
    tol: float
    peer: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SolveOutcome:
    """What one solve reached: the accuracy measure, objective and iteration count."""

    metric_value: float
    objective: float = float("nan")
    n_iter: int = -1
    success: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SolverSpec:
    """A contender.

    ``prepare(problem)`` does untimed set-up (conversions, compilation warm-up) and returns a
    zero-argument callable; the harness times calls of that callable, which return a
    :class:`SolveOutcome`.
    """

    name: str
    kinds: tuple[str, ...]
    prepare: Callable[[BenchProblem], Callable[[], SolveOutcome]]
    is_peer: bool = False
    requires: tuple[str, ...] = ()
    version: Callable[[], str] | None = None

    def available(self) -> tuple[bool, str]:
        """Whether every module in ``requires`` imports (without importing it)."""
        for mod in self.requires:
            if importlib.util.find_spec(mod) is None:
                return False, f"{self.name} needs {mod!r} (pip install 'optsolve[bench]')"
        return True, ""

    def applies_to(self, problem: BenchProblem) -> bool:
        return problem.kind in self.kinds


@dataclass
class Suite:
    """A named set of problem sets and solvers, run together by ``optsolve bench --suite``."""

    name: str
    description: str
    problem_sets: list[Callable[[], Iterable[BenchProblem]]] = field(default_factory=list)
    solvers: list[SolverSpec] = field(default_factory=list)
    repeats: int = 3
    notes: list[str] = field(default_factory=list)
    #: untimed calls before the timed ones (0 for suites whose solves run in a subprocess)
    warmup: int = 1
    #: a small problem solved once, untimed, before each timed solve (JIT/kernel loading)
    warmup_problem: BenchProblem | None = None
    #: run every (problem, solver) pair in its own subprocess
    isolate: bool = False
    #: seconds per pair when isolated (None: no limit)
    time_limit: float | None = None
    #: isolated solves: a new worker process for every problem (else one for the whole run,
    #: replaced only after a timeout or a crash)
    fresh_worker_per_problem: bool = True
    #: solvers that already solved ``warmup_problem`` in this process
    warmed: set[str] = field(default_factory=set)
    #: problem selection of the current run (``run_suite(selection=...)``), read by problem
    #: sets that take one argument
    selection: dict[str, Any] = field(default_factory=dict)

    def problems(self) -> list[BenchProblem]:
        import inspect

        out: list[BenchProblem] = []
        for make in self.problem_sets:
            out.extend(make(self.selection) if inspect.signature(make).parameters else make())
        return out


class Registry:
    """Holds the suites. Families add to suites through :meth:`suite`."""

    def __init__(self):
        self._suites: dict[str, Suite] = {}

    def suite(self, name: str, description: str = "", repeats: int | None = None) -> Suite:
        """Return the suite ``name``, creating it on first use."""
        if name not in self._suites:
            self._suites[name] = Suite(name=name, description=description)
        s = self._suites[name]
        if description and not s.description:
            s.description = description
        if repeats is not None:
            s.repeats = repeats
        return s

    def __getitem__(self, name: str) -> Suite:
        if name not in self._suites:
            raise ValueError(f"unknown suite {name!r}; available suites: {sorted(self._suites)}")
        return self._suites[name]

    def names(self) -> list[str]:
        return sorted(self._suites)


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """Build (once) the registry: built-in suites plus every family's ``_bench.register``.

    Examples
    --------
    >>> from optsolve.bench import get_registry
    >>> "quick" in get_registry().names()
    True
    """
    global _REGISTRY
    if _REGISTRY is not None:
        return _REGISTRY
    reg = Registry()
    from . import builtin

    builtin.register(reg)
    import optsolve

    for info in pkgutil.iter_modules(optsolve.__path__):
        if not info.ispkg or info.name in {"bench", "utils"}:
            continue
        modname = f"optsolve.{info.name}._bench"
        if importlib.util.find_spec(f"optsolve.{info.name}") is None:
            continue
        try:
            spec = importlib.util.find_spec(modname)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            continue
        mod = importlib.import_module(modname)
        mod.register(reg)
        logger.debug("registered benchmark rows from %s", modname)
    _REGISTRY = reg
    return reg
