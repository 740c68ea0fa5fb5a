"""Public names of a package imported on first use (PEP 562), so that ``import optsolve.<family>``
compiles no numba kernel and pulls in none of the family's heavy modules until a name is used."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["attach"]


def attach(package: str, lazy: Mapping[str, str], eager: Iterable[str] = ()
           ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``: each name of ``lazy`` is read from
    the module it maps to (relative to ``package``) on first access and then cached on the
    package; ``eager`` names are already bound by the package itself.

    Examples
    --------
    >>> getattr_, dir_, all_ = attach("optsolve.graphs", {"chi1": ".resistance"})
    >>> getattr_("chi1").__name__, all_
    ('chi1', ['chi1'])
    """
    names = sorted({*lazy, *eager})

    def __getattr__(name: str):
        if name in lazy:
            value = getattr(importlib.import_module(lazy[name], package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
