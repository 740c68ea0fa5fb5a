"""A CUTEst problem (through pycutest) behind the problem protocol (:mod:`.base`)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np
import scipy.sparse as sp

from .base import EqualityConstrainedProblem
from .cutest_env import cutest_status

__all__ = ["PAPER_CUTEST_PROBLEMS", "CUTEstProblem", "CUTEstUnavailableError"]

# The 47 CUTEst problems of Hong, Na, Mahoney & Kolar (ICML 2023), in the paper's order. Those
# whose name is also in optsolve.problems.library.PROBLEMS have a built-in transcription.
PAPER_CUTEST_PROBLEMS = (
    "HS6", "BT5", "BT9", "HS28", "BT10", "HIMMELBA", "BT12", "HS40", "BT3", "BT6", "BT11", "HS7",
    "GENHS28", "HS51", "SINVALNE", "BOOTH", "HS52", "HS47", "WAYSEA1NE", "HS48", "HS50",
    "RSNBRNE", "CUBENE", "HS77", "MWRIGHT", "ZANGWIL3", "TRIGON1NE", "BA-L1SP", "HS78", "HS56",
    "HELIXNE", "HS42", "HS79", "ORTHREGB", "HS100LNP", "GOTTFR", "HIMMELBE", "MOREBVNE",
    "WAYSEA2NE", "DENSCHNCNE", "DENSCHNFNE", "HIMMELBC", "PRICE4NE", "INTEQNE", "BA-L1",
    "MANCINONE", "BT2",
)

# CUTEst's stand-in for an infinite bound (pycutest passes it through unchanged)
CUTEST_INFINITY = 1e20


class CUTEstUnavailableError(ImportError):
    """pycutest is not installed or CUTEst is not configured; the message says what to set up."""


def _pycutest_module():
    # a module that already imported needs no further checks (its import validates the set-up)
    module = sys.modules.get("pycutest")
    if module is not None:
        return module
    ok, reason = cutest_status()
    if not ok:
        raise CUTEstUnavailableError(reason)
    return importlib.import_module("pycutest")


def _with_infinities(a: Any, size: int, fill: float) -> np.ndarray:
    if a is None:
        return np.full(size, fill)
    a = np.array(a, dtype=np.float64).reshape(size)
    a[a >= CUTEST_INFINITY] = np.inf
    a[a <= -CUTEST_INFINITY] = -np.inf
    return a


def _names(problem: Any, attribute: str, size: int) -> list | None:
    # pycutest's varnames()/connames() are methods; variable names include dropped fixed
    # variables, so they are only used when they line up with the indices
    names = getattr(problem, attribute, None)
    try:
        names = names() if callable(names) else names
    except Exception:  # names are a nicety in an error message, never a reason to fail
        return None
    return list(names) if names is not None and len(names) == size else None


def _describe(indices: np.ndarray, names: Any, kind: str, limit: int = 10) -> str:
    labels = []
    for i in indices[:limit]:
        label = f"{kind}[{i}]"
        if names is not None:
            label += f" ({str(names[i]).strip()})"
        labels.append(label)
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return ", ".join(labels) + more


class CUTEstProblem(EqualityConstrainedProblem):
    """A CUTEst problem through pycutest: equalities, inequalities and bounds.

    Infinite bounds (``±1e20`` in CUTEst) become ``±inf``. Equality rows are shifted to
    ``c(x) - cl`` so that they read ``c(x) = 0``; inequality rows keep ``cl <= c(x) <= cu`` and
    the variable bounds are ``bl``, ``bu`` (the problem protocol), so
    :func:`optsolve.constrained.minimize` takes every CUTEst problem, while
    :func:`optsolve.constrained.minimize_eq` refuses those with inequalities or finite bounds
    (:meth:`unsupported` names them). ``jac`` is added (pycutest's ``cons(x, gradient=True)``),
    and the CUTEst evaluation counters stay available through :meth:`report` beside this
    object's own ``counts``.

    Parameters
    ----------
    name : str
        SIF problem name, e.g. ``"HS28"``.
    sif_params : dict, optional
        SIF parameters, e.g. ``{"N": 100}``, passed to ``pycutest.import_problem(sifParams=...)``.
    sparse : bool, default=False
        Return scipy.sparse ``jac`` and ``hess`` (pycutest's ``scons``/``sphess``).

    Raises
    ------
    CUTEstUnavailableError
        When pycutest is not installed or CUTEst's environment variables are not set; the message
        lists the missing set-up steps.

    Examples
    --------
    >>> from optsolve.problems import cutest_status
    >>> ok, why = cutest_status()
    >>> if ok:  # doctest: +SKIP
    ...     p = CUTEstProblem("HS28")
    ...     p.n, p.m
    (3, 1)
    """

    def __init__(self, name: str, sif_params: dict | None = None, *, sparse: bool = False):
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if sif_params is not None and not isinstance(sif_params, dict):
            raise TypeError(f"sif_params must be a dict or None, got {type(sif_params).__name__}")
        try:
            pycutest = _pycutest_module()
        except CUTEstUnavailableError as exc:
            raise CUTEstUnavailableError(f"CUTEstProblem({name!r}) cannot be built: {exc}") from exc
        self._problem = pycutest.import_problem(name, sifParams=sif_params)
        self.name = str(getattr(self._problem, "name", name)).strip()
        self.sif_params = dict(sif_params or {})
        self.sparse = bool(sparse)
        self.n = int(self._problem.n)
        self.m = int(getattr(self._problem, "m", 0) or 0)
        self.x0 = np.array(self._problem.x0, dtype=np.float64).reshape(self.n)
        self.bl = _with_infinities(getattr(self._problem, "bl", None), self.n, -np.inf)
        self.bu = _with_infinities(getattr(self._problem, "bu", None), self.n, np.inf)
        cl = _with_infinities(getattr(self._problem, "cl", None), self.m, 0.0)
        cu = _with_infinities(getattr(self._problem, "cu", None), self.m, 0.0)
        is_eq = getattr(self._problem, "is_eq_cons", None)
        self.is_eq_cons = (cl == cu) if is_eq is None else np.asarray(is_eq, dtype=bool).copy()
        # equality rows read c(x) = 0; inequality rows keep their bounds
        self._shift = np.where(self.is_eq_cons, cl, 0.0)
        self.cl, self.cu = cl - self._shift, cu - self._shift
        self.source = f"CUTEst SIF {self.name}" + (f" {self.sif_params}" if sif_params else "")

    def unsupported(self) -> str:
        """What keeps ``minimize_eq`` from solving this problem ('' when nothing does)."""
        reasons = []
        inequalities = np.flatnonzero(~self.is_eq_cons)
        if inequalities.size:
            names = _names(self._problem, "connames", self.m)
            reasons.append(f"{inequalities.size} inequality constraint(s): "
                           f"{_describe(inequalities, names, 'c')}")
        bounded = np.flatnonzero(np.isfinite(self.bl) | np.isfinite(self.bu))
        if bounded.size:
            names = _names(self._problem, "varnames", self.n)
            reasons.append(f"finite bounds on {bounded.size} variable(s): "
                           f"{_describe(bounded, names, 'x')}")
        return "; ".join(reasons)

    # -- evaluations ----------------------------------------------------------------------------
    def _obj(self, x):
        return float(self._problem.obj(x))

    def _grad(self, x):
        _, g = self._problem.obj(x, gradient=True)
        return np.asarray(g, dtype=np.float64).reshape(self.n)

    def _cons(self, x):
        if not self.m:
            return np.zeros(0)
        return np.asarray(self._problem.cons(x), dtype=np.float64).reshape(self.m) - self._shift

    def _jac(self, x):
        if not self.m:
            return sp.csr_matrix((0, self.n)) if self.sparse else np.zeros((0, self.n))
        if self.sparse:
            _, J = self._problem.scons(x, gradient=True)
            return sp.csr_matrix(J)
        _, J = self._problem.cons(x, gradient=True)
        return np.asarray(J, dtype=np.float64).reshape(self.m, self.n)

    def _hess(self, x, v):
        # pycutest's hess(x, v) is the Hessian of f + vᵀc, the same sign convention as ours
        if self.sparse:
            H = self._problem.sphess(x, v) if self.m else self._problem.sphess(x)
            return sp.csr_matrix(H)
        H = self._problem.hess(x, v) if self.m else self._problem.hess(x)
        return np.asarray(H, dtype=np.float64)

    def _hprod(self, p, x, v):
        out = self._problem.hprod(p, x=x, v=v) if self.m else self._problem.hprod(p, x=x)
        return np.asarray(out, dtype=np.float64).ravel()

    def _jprod(self, p, x, transpose):
        return np.asarray(self._problem.jprod(p, transpose=transpose, x=x)).ravel()

    def report(self) -> dict:
        """CUTEst's own evaluation counters and timings (pycutest's ``report()``)."""
        return dict(self._problem.report())
