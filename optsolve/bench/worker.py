"""One isolated benchmark solve: ``python -m optsolve.bench.worker`` (used by the runner).

Reads a pickled request ``{suite, solver, problem, threads, selection}`` on stdin, prepares and
times the solver on the problem as the runner would in-process, and prints one line
``OPTSOLVE-BENCH-RESULT <hex of the pickled result>`` (``{time_s, outcome}`` or ``{error}``).
"""

from __future__ import annotations

import pickle
import sys
import traceback


def main() -> int:
    from .registry import get_registry
    from .runner import _solve_here, worker_prefix

    request = pickle.loads(sys.stdin.buffer.read())
    try:
        suite = get_registry()[request["suite"]]
        suite.selection = request.get("selection", {})
        solver = next(s for s in suite.solvers if s.name == request["solver"])
        t, outcome = _solve_here(suite, request["problem"], solver, request["threads"])
        result = {"time_s": t, "outcome": outcome}
    except Exception as exc:  # reported as the row's error, with the place it happened
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result = {"error": f"{type(exc).__name__}: {exc} (at {where.filename.split('/')[-1]}:"
                           f"{where.lineno})"}
    sys.stdout.write(worker_prefix() + pickle.dumps(result).hex() + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the benchmark runner
    sys.exit(main())
