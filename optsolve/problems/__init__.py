"""Optimization problems in pycutest's method names, built-in test problems, CUTEst adapter.

* :class:`EqualityConstrainedProblem` — the protocol (``obj``, ``grad``, ``cons``, ``jac``,
  ``hess``, ``hprod``, ``jprod``) with evaluation counters;
* :class:`FunctionProblem` — a problem from user callables, finite differences for the rest;
* :class:`CUTEstProblem` — a pycutest problem behind the same protocol;
* :mod:`optsolve.problems.library` — 40+ classic problems with known solutions
  (:func:`get_problem`, :func:`list_problems`);
* :func:`kkt_residual`, :func:`to_scipy` — the stopping measure, and scipy.optimize arguments;
* :class:`DecentralizedProblem`, :func:`partition_data` — sums of local functions over the
  nodes of a network, shared by the decentralized families (imported on first use).
"""

from . import library
from .base import EqualityConstrainedProblem
from .cutest import PAPER_CUTEST_PROBLEMS, CUTEstProblem, CUTEstUnavailableError
from .cutest_env import cutest_status
from .function import FiniteDifferenceWarning, FunctionProblem
from .library import PROBLEMS, get_problem, list_problems
from .tools import kkt_residual, least_squares_multipliers, to_scipy

_LAZY = {"DecentralizedProblem", "PackedData", "partition_data", "partitioned"}

__all__ = [
    "PAPER_CUTEST_PROBLEMS",
    "PROBLEMS",
    "CUTEstProblem",
    "CUTEstUnavailableError",
    "DecentralizedProblem",
    "EqualityConstrainedProblem",
    "FiniteDifferenceWarning",
    "FunctionProblem",
    "cutest_status",
    "get_problem",
    "kkt_residual",
    "least_squares_multipliers",
    "library",
    "list_problems",
    "partition_data",
    "to_scipy",
]


def __getattr__(name: str):
    # the partitioned problems pull in numba; import them only when asked for
    if name in _LAZY:
        import importlib

        partitioned = importlib.import_module(".partitioned", __name__)
        return partitioned if name == "partitioned" else getattr(partitioned, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
