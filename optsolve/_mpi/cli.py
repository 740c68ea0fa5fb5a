"""Command-line options shared by the MPI entry points started by hand: a partitioned problem
built by rank 0 from a data set name or a synthetic draw, and the result saved as ``.npz``."""

from __future__ import annotations

import numpy as np

__all__ = ["add_problem_arguments", "problem_from_arguments", "save_result"]


def add_problem_arguments(parser) -> None:
    """Command-line options describing a partitioned problem (shared by the MPI entry points)."""
    parser.add_argument("--data", default="synthetic",
                        help="'synthetic' or a LIBSVM data set name (a9a, w8a, ijcnn1...) "
                             "looked up in $OPTSOLVE_DATA")
    parser.add_argument("--samples", type=int, default=2000, help="synthetic: rows")
    parser.add_argument("--features", type=int, default=20, help="synthetic: columns")
    parser.add_argument("--loss", choices=("ridge", "logistic"), default="ridge")
    parser.add_argument("--reg", type=float, default=0.1,
                        help="regularization alpha of F = (1/N) sum loss + alpha/2 ||w||^2")
    parser.add_argument("--nodes", type=int, default=None,
                        help="graph nodes (default: one per MPI process)")
    parser.add_argument("--graph", default="cycle", help="optsolve.graphs.make_graph kind")
    parser.add_argument("--partition", choices=("iid", "sorted", "dirichlet"), default="iid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the result to this .npz file")


def problem_from_arguments(args, n_procs: int):
    """``(problem, graph)`` from :func:`add_problem_arguments`' options (rank 0 only)."""
    from ..graphs import make_graph
    from ..problems.partitioned import DecentralizedProblem, partition_data

    n_nodes = n_procs if args.nodes is None else args.nodes
    if args.data == "synthetic":
        rng = np.random.default_rng(args.seed)
        X = rng.standard_normal((args.samples, args.features))
        z = X @ rng.standard_normal(args.features)
        y = np.sign(z) if args.loss == "logistic" else z + 0.1 * rng.standard_normal(z.size)
    else:
        from ..datasets import load_libsvm

        X, y = load_libsvm(args.data)
    parts = partition_data(X, y, n_nodes, how=args.partition, random_state=args.seed)
    problem = (DecentralizedProblem.logistic if args.loss == "logistic"
               else DecentralizedProblem.ridge)(parts, args.reg)
    return problem, make_graph(args.graph, n_nodes, random_state=args.seed)


def save_result(path: str, result) -> None:
    """Write the arrays and numbers of an ``OptimizeResult`` to an ``.npz`` file."""
    fields = {k: np.asarray(v) for k, v in result.items()
              if isinstance(v, np.ndarray | int | float | str | bool | np.number)}
    for k, v in (result.get("history") or {}).items():
        fields[f"history_{k}"] = np.asarray(v)
    np.savez(path, **fields)
