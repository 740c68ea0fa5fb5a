"""Built-in equality-constrained test problems with published definitions and known solutions.

``PROBLEMS`` maps each name to its class; :func:`get_problem` builds one (scalable problems take
their size as keyword arguments); :func:`list_problems` lists the names.

=====================  ========================================================================
family                 problems
=====================  ========================================================================
Hock & Schittkowski    HS6 HS7 HS8 HS9 HS26 HS27 HS28 HS39 HS40 HS42 HS46-HS52 HS56 HS61 HS77
                       HS78 HS79 HS100LNP HS111LNP
Boggs & Tolle          BT1-BT12
others                 MARATOS MWRIGHT HIMMELBA HIMMELBC HIMMELBE ORTHREGB
equations (f = 0)      BOOTH CUBENE DENSCHNCNE DENSCHNFNE GOTTFR HELIXNE PRICE4NE RSNBRNE
                       SINVALNE WAYSEA1NE WAYSEA2NE ZANGWIL3 BA-L1
scalable               GENHS28 (n), ELEC (n_points), MOREBVNE (n), INTEQNE (N),
                       TRIGON1NE (N), POISSON_CONTROL (N, beta, target)
=====================  ========================================================================

Examples
--------
>>> from optsolve.problems.library import get_problem, list_problems
>>> p = get_problem("HS28")
>>> p.n, p.m, p.f_opt
(3, 1, 0.0)
>>> get_problem("GENHS28", n=20).m
18
>>> len(list_problems()) >= 40
True
"""

from __future__ import annotations

import difflib
from typing import Any

from . import boggs_tolle, bundle, equations, hock_schittkowski, misc, pde
from ._base import LibraryProblem

__all__ = ["PROBLEMS", "LibraryProblem", "get_problem", "list_problems"]

# keyed by CUTEst name (BA-L1's class is BA_L1)
PROBLEMS: dict[str, type[LibraryProblem]] = {
    getattr(module, name).name: getattr(module, name)
    for module in (hock_schittkowski, boggs_tolle, misc, equations, pde, bundle)
    for name in module.__all__
    if isinstance(getattr(module, name), type)
}


def list_problems(*, scalable: bool | None = None) -> list[str]:
    """Names of the library problems, in registry order.

    Parameters
    ----------
    scalable : bool or None, default=None
        Only the scalable ones (``True``), only the fixed-size ones (``False``), or all.

    Examples
    --------
    >>> list_problems(scalable=True)
    ['ELEC', 'GENHS28', 'INTEQNE', 'MOREBVNE', 'TRIGON1NE', 'POISSON_CONTROL']
    """
    return [name for name, cls in PROBLEMS.items()
            if scalable is None or bool(getattr(cls, "scalable", False)) == scalable]


def get_problem(name: str, **params: Any) -> LibraryProblem:
    """A fresh instance of library problem ``name`` (case-insensitive).

    Parameters
    ----------
    name : str
        A key of :data:`PROBLEMS`.
    **params
        Size and data parameters of scalable problems (``n`` for GENHS28 and MOREBVNE,
        ``n_points`` for ELEC, ``N`` for INTEQNE and TRIGON1NE, ``N``, ``beta``, ``target`` for
        POISSON_CONTROL).

    Examples
    --------
    >>> get_problem("poisson_control", N=4).n
    32
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    cls = PROBLEMS.get(name.upper())
    if cls is None:
        close = difflib.get_close_matches(name.upper(), PROBLEMS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown problem name {name!r}{hint} (see list_problems())")
    if params and not getattr(cls, "scalable", False):
        raise TypeError(f"problem {cls.name} takes no parameters, got {sorted(params)}")
    return cls(**params)
