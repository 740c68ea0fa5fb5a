"""Decentralized optimization: DADAO (Nabli & Oyallon, ICML 2023) and its baselines.

n nodes of a communication graph each hold a local smooth strongly convex ``f_i`` and minimize
``F = Σ_i f_i`` with no central server. :func:`solve` simulates a method exactly (Poisson clocks
for the asynchronous ones) and counts local gradients and pairwise communications.
"""

from ..problems.partitioned import DecentralizedProblem, partition_data
from .estimators import DecentralizedLogisticRegression, DecentralizedRidge
from .solver import METHODS, solve
from .topology import TimeVaryingGraph

__all__ = [
    "METHODS",
    "DecentralizedLogisticRegression",
    "DecentralizedProblem",
    "DecentralizedRidge",
    "TimeVaryingGraph",
    "partition_data",
    "solve",
]
