"""Greedy block coordinate descent (Nutini, Laradji & Schmidt, JMLR 2022).

Public names are imported lazily from their modules so that ``import optsolve.bcd`` compiles
no numba kernel.
"""

from .._lazy import attach

_LAZY = {
    # solver core: datafits, penalties, rules, partitions, updates
    "minimize_bcd": ".solver",
    "GreedyBCDRegressor": ".estimators",
    "GreedyBCDClassifier": ".estimators",
    "LeastSquares": ".datafits",
    "Logistic": ".datafits",
    "Multinomial": ".datafits",
    "Quadratic": ".datafits",
    "L1": ".penalties",
    "L2": ".penalties",
    "NonNegative": ".penalties",
    "duality_gap": ".datafits",
    "make_partition": ".partitions",
    # regularization paths with warm starts
    "bcd_path": ".path",
    # forest-structured blocks solved by message passing
    "minimize_forest_bcd": ".forest",
    "BCDLabelPropagation": ".forest",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
