"""Optimization problems in pycutest's method names, built-in test problems, CUTEst adapter."""

from .base import EqualityConstrainedProblem
from .cutest_env import cutest_status

__all__ = ["EqualityConstrainedProblem", "cutest_status"]
