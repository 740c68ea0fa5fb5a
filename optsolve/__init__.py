"""optsolve: numerical optimization solvers from recent research.

Each solver family lives in its own subpackage (``optsolve.bcd``, ``optsolve.constrained``,
``optsolve.completion``, ``optsolve.pruning``, ...). Subpackages are imported lazily on first
attribute access so that ``import optsolve`` stays cheap: it never imports cupy, ray, torch or
matplotlib, and compiles no numba function.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "bcd",
    "bench",
    "completion",
    "constrained",
    "datasets",
    "decentralized",
    "graphs",
    "problems",
    "pruning",
    "randomwalk",
    "utils",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'optsolve' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
