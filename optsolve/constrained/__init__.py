"""Sketched exact-augmented-Lagrangian Newton for equality-constrained NLP.

Hong, Na, Mahoney & Kolar, "Constrained Optimization via Exact Augmented Lagrangian and
Randomized Iterative Sketching", ICML 2023. Public names are imported lazily so that
``import optsolve.constrained`` compiles no numba kernel.
"""

import importlib

_LAZY = {
    "minimize_eq": ".solver",
    "METHODS": ".solver",
    "SketchSolver": ".sketches",
    "block_kaczmarz_solve": "._gpu",
    "apply_sketch": "._gpu",
    "merit_value": ".merit",
    "merit_gradient": ".merit",
    "kkt_residual": ".kkt",
    "ConstrainedLogisticRegression": ".estimators",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optsolve.constrained' has no attribute {name!r}")


def __dir__():
    return __all__
