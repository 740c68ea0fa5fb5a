"""Greedy block coordinate descent (Nutini, Laradji & Schmidt, JMLR 2022).

Public names are imported lazily from their modules so that ``import optsolve.bcd`` compiles
no numba kernel.
"""

import importlib

_LAZY = {
    # solver core: datafits, penalties, rules, partitions, updates
    "minimize_bcd": ".solver",
    "GreedyBCDRegressor": ".estimators",
    "GreedyBCDClassifier": ".estimators",
    "LeastSquares": ".datafits",
    "Logistic": ".datafits",
    "Multinomial": ".datafits",
    "Quadratic": ".datafits",
    "L1": ".datafits",
    "L2": ".datafits",
    "NonNegative": ".datafits",
    "duality_gap": ".datafits",
    "make_partition": ".partitions",
    # forest-structured blocks solved by message passing
    "minimize_forest_bcd": ".forest",
    "BCDLabelPropagation": ".forest",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optsolve.bcd' has no attribute {name!r}")


def __dir__():
    return __all__
