"""Low-rank matrix completion by robust alternating minimization (Gu, Song, Yin & Zhang, 2024).

Public names are imported lazily from their modules; importing compiles no numba kernel.
``altmin`` is bound eagerly because its module has the same name: a lazy binding would be
replaced by the submodule as soon as another module imports ``.altmin``.
"""

from .._lazy import attach
from .altmin import altmin as altmin

_LAZY = {
    "AltMinCompletion": ".estimators",
    "row_least_squares": ".sketched_ls",
    "spectral_init": ".init",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, eager=("altmin",))
