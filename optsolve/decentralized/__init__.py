"""Decentralized optimization: DADAO (Nabli & Oyallon, ICML 2023) and its baselines.

n nodes of a communication graph each hold a local smooth strongly convex ``f_i`` and minimize
``F = Σ_i f_i`` with no central server. :func:`solve` simulates a method exactly (Poisson clocks
for the asynchronous ones) and counts local gradients and pairwise communications;
:func:`run_mpi` runs DADAO for real, one MPI process per block of nodes.

Public names are imported on first use, so that an MPI worker importing one module does not pay
for the estimators (scikit-learn) or the solvers it does not run.
"""

import importlib

_LAZY = {
    "DecentralizedProblem": "..problems.partitioned",
    "partition_data": "..problems.partitioned",
    "DecentralizedLogisticRegression": ".estimators",
    "DecentralizedRidge": ".estimators",
    "METHODS": ".solver",
    "solve": ".solver",
    "TimeVaryingGraph": ".topology",
    "run_mpi": ".mpi",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optsolve.decentralized' has no attribute {name!r}")


def __dir__():
    return __all__
