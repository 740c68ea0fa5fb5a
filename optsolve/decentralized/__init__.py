"""Decentralized optimization: DADAO (Nabli & Oyallon, ICML 2023) and its baselines.

n nodes of a communication graph each hold a local smooth strongly convex ``f_i`` and minimize
``F = Σ_i f_i`` with no central server. :func:`solve` simulates a method exactly (Poisson clocks
for the asynchronous ones) and counts local gradients and pairwise communications;
:func:`run_mpi` runs DADAO for real, one MPI process per block of nodes.

Public names are imported on first use, so that an MPI worker importing one module does not pay
for the estimators (scikit-learn) or the solvers it does not run.
"""

from .._lazy import attach

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

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
