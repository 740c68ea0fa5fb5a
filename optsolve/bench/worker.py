"""Isolated benchmark solves: ``python -m optsolve.bench.worker`` (used by the runner).

The worker reads requests ``{suite, module, solver, problem, threads, selection}`` (pickled,
hex-encoded, one per line) on stdin, prepares and times the solver on the problem as the runner
would in-process, and answers each with one line ``OPTSOLVE-BENCH-RESULT <hex pickle>``
(``{time_s, outcome}`` or ``{error}``), after a line ``OPTSOLVE-BENCH-READY`` once set-up and
warm-up are done (the runner's time limit starts there). Only the module that registered the
solver is imported, so a worker starts in the time of one solver family's imports. The runner
kills a worker whose solve overruns its time limit and starts a fresh one.
"""

from __future__ import annotations

import importlib
import pickle
import sys
import traceback

PREFIX = "OPTSOLVE-BENCH-RESULT "
READY = "OPTSOLVE-BENCH-READY"


def _suite(name: str, module: str, cache: dict):
    from .registry import Registry

    key = (name, module)
    if key not in cache:
        reg = Registry()
        from . import builtin

        builtin.register(reg)
        if module and module != builtin.__name__:
            importlib.import_module(module).register(reg)
        cache[key] = reg[name]
    return cache[key]


def _ready() -> None:
    sys.stdout.write("\n" + READY + "\n")
    sys.stdout.flush()


def handle(request: dict, cache: dict) -> dict:
    """Solve one request; ``READY`` is printed once set-up is done (or failed)."""
    from .runner import _solve_here

    ready = []

    def on_ready():
        ready.append(True)
        _ready()

    try:
        suite = _suite(request["suite"], request.get("module", ""), cache)
        suite.selection = request.get("selection", {})
        solver = next(s for s in suite.solvers if s.name == request["solver"])
        t, outcome = _solve_here(suite, request["problem"], solver, request["threads"],
                                 on_ready=on_ready)
        return {"time_s": t, "outcome": outcome}
    except Exception as exc:  # reported as the row's error, with the place it happened
        if not ready:
            _ready()
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return {"error": f"{type(exc).__name__}: {exc} (at {where.filename.split('/')[-1]}:"
                         f"{where.lineno})"}


def main() -> int:
    cache: dict = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        result = handle(pickle.loads(bytes.fromhex(line)), cache)
        sys.stdout.write("\n" + PREFIX + pickle.dumps(result).hex() + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the benchmark runner
    sys.exit(main())
