"""Optimization problems in pycutest's method names, built-in test problems, CUTEst adapter."""

from .cutest_env import cutest_status

__all__ = ["cutest_status"]
