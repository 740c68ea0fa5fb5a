"""Sketched exact-augmented-Lagrangian Newton for constrained NLP (``minimize_eq`` for equality
constraints, ``minimize`` for general ones: bounds, inequalities, scipy.optimize's interface).

Hong, Na, Mahoney & Kolar, "Constrained Optimization via Exact Augmented Lagrangian and
Randomized Iterative Sketching", ICML 2023. Public names are imported lazily so that
``import optsolve.constrained`` compiles no numba kernel.
"""

from .._lazy import attach

_LAZY = {
    "minimize": ".nlp",
    "MINIMIZE_METHODS": ".nlp",
    "NonlinearProblem": ".problem",
    "kkt_residuals": ".optimality",
    "KKTResiduals": ".optimality",
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

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
