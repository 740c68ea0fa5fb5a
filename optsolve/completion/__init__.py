"""Low-rank matrix completion by robust alternating minimization (Gu, Song, Yin & Zhang, 2024).

Public names are imported lazily from their modules; importing compiles no numba kernel.
``altmin`` is bound eagerly because its module has the same name: a lazy binding would be
replaced by the submodule as soon as another module imports ``.altmin``.
"""

import importlib

from .altmin import altmin as altmin

_LAZY = {
    "AltMinCompletion": ".estimators",
    "row_least_squares": ".sketched_ls",
    "spectral_init": ".init",
}

__all__ = sorted([*_LAZY, "altmin"])


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optsolve.completion' has no attribute {name!r}")


def __dir__():
    return __all__
