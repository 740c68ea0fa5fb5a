"""One KKT measure for general nonlinear programs, whatever solver produced the point.

The problem is read in the CUTEst form (the names of pycutest, S2MPJ and
:class:`optsolve.constrained.NonlinearProblem`)::

    min f(x)   s.t.   cl <= c(x) <= cu,   bl <= x <= bu

and the multipliers in the sign convention of scipy's ``trust-constr`` (its ``v``)::

    ∇f(x) + J(x)ᵀ v − z_lower + z_upper = 0,      z_lower, z_upper >= 0,
    v_i >= 0 where c_i is at its upper bound, v_i <= 0 where it is at its lower bound.

Measures (each an ∞-norm; IPOPT's scaling, Wächter & Biegler 2006, eq. (5), ``s_max = 100``):

=================  ===========================================================================
stationarity       ``‖∇f + Jᵀv − z_l + z_u‖∞ / s_d``,
                   ``s_d = max(s_max, ‖(v, z_l, z_u)‖₁ / n_mult) / s_max``
feasibility        ``max(cl − c, c − cu, bl − x, x − bu, 0)`` (unscaled, as IPOPT's
                   ``constr_viol``)
complementarity    ``max_i |v_i⁺ (cu_i − c_i)|, |v_i⁻ (c_i − cl_i)|, |z_l (x − bl)|,
                   |z_u (bu − x)|`` over finite bounds, divided by
                   ``s_c = max(s_max, ‖(v_ineq, z_l, z_u)‖₁ / n_ineq) / s_max``
sign               the largest multiplier of the wrong sign (``z < 0``; ``v_i > 0`` with
                   ``cu_i = inf``; ``v_i < 0`` with ``cl_i = -inf``; equality rows: any sign)
kkt                the largest of the four
=================  ===========================================================================

Conversions from other solvers' multipliers: scipy ``trust-constr``: ``v`` is this convention
(concatenate its list); SLSQP (``res.multipliers``, ``L = f − λᵀc`` for its ``'eq'`` and
``'ineq'`` (``fun >= 0``) dicts): ``v = −λ``; IPOPT (cyipopt ``info['mult_g']``, ``mult_x_L``,
``mult_x_U``): ``v = mult_g``, ``z_lower = mult_x_L``, ``z_upper = mult_x_U``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = ["KKTResiduals", "RowStructure", "kkt_residuals"]

#: IPOPT's s_max (Wächter & Biegler 2006, eq. (5)): multipliers up to this size do not scale
IPOPT_S_MAX = 100.0
#: a constraint within this distance of a bound counts as active when multipliers are estimated
ACTIVE_TOL = 1e-6


class KKTResiduals(NamedTuple):
    """The four parts of the KKT residual and their maximum ``kkt`` (see module docstring).

    Examples
    --------
    >>> r = KKTResiduals(kkt=0.5, stationarity=0.5, feasibility=0.0, complementarity=0.1,
    ...                  sign=0.0)
    >>> r.kkt == max(r[1:]), r._asdict()["complementarity"]
    (True, 0.1)
    """

    kkt: float
    stationarity: float
    feasibility: float
    complementarity: float
    sign: float


class RowStructure:
    """Which rows of ``cl <= c(x) <= cu`` and which bounds are equalities / inequalities.

    The inequalities are written ``g(x) <= 0`` (the form of Na, Anitescu & Kolar 2023):
    ``c_i − cu_i`` (``upper``), ``cl_i − c_i`` (``lower``), ``x_j − bu_j`` (``bupper``),
    ``bl_j − x_j`` (``blower``); equalities ``c_i − cl_i = 0`` (``eq``) and ``x_j − bl_j = 0``
    for fixed variables (``bfix``).
    """

    def __init__(self, cl: np.ndarray, cu: np.ndarray, bl: np.ndarray, bu: np.ndarray):
        self.cl, self.cu, self.bl, self.bu = cl, cu, bl, bu
        eq = (cl == cu) & np.isfinite(cl)
        self.eq = np.flatnonzero(eq)
        self.upper = np.flatnonzero(~eq & np.isfinite(cu))
        self.lower = np.flatnonzero(~eq & np.isfinite(cl))
        fix = (bl == bu) & np.isfinite(bl)
        self.bfix = np.flatnonzero(fix)
        self.bupper = np.flatnonzero(~fix & np.isfinite(bu))
        self.blower = np.flatnonzero(~fix & np.isfinite(bl))
        self.m, self.n = cl.size, bl.size
        self.n_eq = self.eq.size + self.bfix.size
        self.n_ineq = self.upper.size + self.lower.size + self.bupper.size + self.blower.size

    def equalities(self, c: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.concatenate([c[self.eq] - self.cl[self.eq], x[self.bfix] - self.bl[self.bfix]])

    def inequalities(self, c: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.concatenate([c[self.upper] - self.cu[self.upper],
                               self.cl[self.lower] - c[self.lower],
                               x[self.bupper] - self.bu[self.bupper],
                               self.bl[self.blower] - x[self.blower]])

    def _selector(self, idx: np.ndarray, sign: float) -> sp.csr_matrix:
        k = idx.size
        return sp.csr_matrix((np.full(k, sign), (np.arange(k), idx)), shape=(k, self.n))

    def jacobians(self, J: Any) -> tuple[Any, Any]:
        """``(G_E, G_I)``: Jacobians of :meth:`equalities` and :meth:`inequalities` (dense
        when ``J`` is dense and small, CSR otherwise)."""
        dense = not sp.issparse(J) and self.n <= 2000
        if dense:
            Jd = np.asarray(J, dtype=np.float64).reshape(self.m, self.n)
            eye = np.eye(self.n)
            GE = np.vstack([Jd[self.eq], eye[self.bfix]])
            GI = np.vstack([Jd[self.upper], -Jd[self.lower], eye[self.bupper], -eye[self.blower]])
            return GE, GI
        Js = sp.csr_matrix(J)
        GE = sp.vstack([Js[self.eq], self._selector(self.bfix, 1.0)], format="csr")
        GI = sp.vstack([Js[self.upper], -Js[self.lower], self._selector(self.bupper, 1.0),
                        self._selector(self.blower, -1.0)], format="csr")
        return GE, GI

    def to_user(self, lam: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
        """``(v, z_lower, z_upper)`` in the convention of the module docstring from the
        multipliers ``λ`` of :meth:`equalities` and ``y >= 0`` of :meth:`inequalities`."""
        v = np.zeros(self.m)
        zl, zu = np.zeros(self.n), np.zeros(self.n)
        ne = self.eq.size
        v[self.eq] = lam[:ne]
        fix = lam[ne:]
        zu[self.bfix] = np.maximum(fix, 0.0)
        zl[self.bfix] = np.maximum(-fix, 0.0)
        a = self.upper.size
        b = a + self.lower.size
        c = b + self.bupper.size
        np.add.at(v, self.upper, y[:a])
        np.add.at(v, self.lower, -y[a:b])
        zu[self.bupper] += y[b:c]
        zl[self.blower] += y[c:]
        return v, zl, zu


def _bounds_of(problem: Any, n: int, m: int) -> tuple[np.ndarray, ...]:
    def get(name, size, fill):
        a = getattr(problem, name, None)
        if a is None:
            return np.full(size, fill, dtype=np.float64)
        a = np.array(a, dtype=np.float64).reshape(size)
        a[a >= 1e20] = np.inf
        a[a <= -1e20] = -np.inf
        return a

    return get("cl", m, 0.0), get("cu", m, 0.0), get("bl", n, -np.inf), get("bu", n, np.inf)


def _parse_multipliers(multipliers: Any, n: int, m: int):
    if multipliers is None:
        return None
    if hasattr(multipliers, "bounds_multipliers") and hasattr(multipliers, "multipliers"):
        zl, zu = multipliers.bounds_multipliers
        v = multipliers.multipliers
    elif isinstance(multipliers, dict):
        unknown = set(multipliers) - {"constraints", "lower", "upper"}
        if unknown:
            raise ValueError(f"multipliers: unknown key(s) {sorted(unknown)}; use "
                             "'constraints', 'lower', 'upper'")
        v = multipliers.get("constraints", np.zeros(m))
        zl = multipliers.get("lower", np.zeros(n))
        zu = multipliers.get("upper", np.zeros(n))
    elif isinstance(multipliers, (tuple, list)) and len(multipliers) == 3:
        v, zl, zu = multipliers
    else:
        raise TypeError("multipliers must be None, (v, z_lower, z_upper), a dict with keys "
                        "'constraints', 'lower', 'upper', or a result of "
                        "optsolve.constrained.minimize")
    if isinstance(v, (list, tuple)):
        v = np.concatenate([np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in v]) \
            if len(v) else np.zeros(0)
    out = []
    for label, a, size in (("constraints", v, m), ("lower", zl, n), ("upper", zu, n)):
        a = np.zeros(size) if a is None else np.asarray(a, dtype=np.float64).ravel()
        if a.shape != (size,):
            raise ValueError(f"multipliers[{label!r}] must have {size} entries, got {a.size}")
        out.append(a)
    return tuple(out)


def estimate_multipliers(g: np.ndarray, J: Any, c: np.ndarray, x: np.ndarray,
                         bounds: tuple, active_tol: float = ACTIVE_TOL):
    """Sign-constrained least-squares multipliers of the constraints active within
    ``active_tol`` (others zero): the smallest stationarity residual a multiplier with the
    right signs and complementarity can give at ``x``."""
    from scipy.optimize import lsq_linear

    cl, cu, bl, bu = bounds
    n, m = x.size, c.size
    cols, lo, hi, kinds = [], [], [], []
    eq = (cl == cu) & np.isfinite(cl)
    tol_c = active_tol * np.maximum(1.0, np.abs(np.where(np.isfinite(cu), cu, 0.0)))
    tol_l = active_tol * np.maximum(1.0, np.abs(np.where(np.isfinite(cl), cl, 0.0)))
    up = ~eq & np.isfinite(cu) & (c >= cu - tol_c)
    low = ~eq & np.isfinite(cl) & (c <= cl + tol_l)
    rows = np.flatnonzero(eq | up | low)
    rl = np.where(eq[rows] | low[rows], -np.inf, 0.0)
    rh = np.where(eq[rows] | up[rows], np.inf, 0.0)
    fix = (bl == bu) & np.isfinite(bl)
    fbu, fbl = np.where(np.isfinite(bu), bu, 0.0), np.where(np.isfinite(bl), bl, 0.0)
    bu_act = np.flatnonzero(np.isfinite(bu) & (x >= fbu - active_tol * np.maximum(1, abs(fbu))))
    bl_act = np.flatnonzero(np.isfinite(bl) & (x <= fbl + active_tol * np.maximum(1, abs(fbl))))
    if m:
        Jr = J[rows] if sp.issparse(J) else np.asarray(J).reshape(m, n)[rows]
        cols.append(sp.csr_matrix(Jr).T)
        lo.append(rl)
        hi.append(rh)
        kinds.append(("v", rows))
    cols.append(-sp.csr_matrix((np.ones(bl_act.size), (bl_act, np.arange(bl_act.size))),
                               shape=(n, bl_act.size)))
    lo.append(np.where(fix[bl_act], -np.inf, 0.0))
    hi.append(np.full(bl_act.size, np.inf))
    kinds.append(("zl", bl_act))
    cols.append(sp.csr_matrix((np.ones(bu_act.size), (bu_act, np.arange(bu_act.size))),
                              shape=(n, bu_act.size)))
    lo.append(np.zeros(bu_act.size))
    hi.append(np.full(bu_act.size, np.inf))
    kinds.append(("zu", bu_act))
    A = sp.hstack(cols, format="csr")
    v, zl, zu = np.zeros(m), np.zeros(n), np.zeros(n)
    if A.shape[1]:
        lb, ub = np.concatenate(lo), np.concatenate(hi)
        if A.shape[1] <= 2000 and n <= 5000:
            sol = lsq_linear(A.toarray(), -g, bounds=(lb, ub), method="bvls").x
        else:
            sol = lsq_linear(A, -g, bounds=(lb, ub), lsmr_tol="auto", max_iter=2000).x
        start = 0
        for kind, idx in kinds:
            part = sol[start:start + idx.size]
            start += idx.size
            {"v": v, "zl": zl, "zu": zu}[kind][idx] = part
        # a fixed variable's multiplier went to z_lower with free sign: split it
        neg = zl < 0
        zu[neg] += -zl[neg]
        zl[neg] = 0.0
    return v, zl, zu


def kkt_residuals(problem: Any, x: Any, multipliers: Any = None, *,
                  active_tol: float = ACTIVE_TOL) -> KKTResiduals:
    """KKT residuals of ``problem`` at ``x`` with given (or estimated) multipliers.

    Parameters
    ----------
    problem : problem object
        Anything with pycutest's method names ``grad(x)``, ``cons(x)``, ``jac(x)`` and the
        attributes ``n``, ``m`` and, when present, ``cl``, ``cu`` (bounds on ``cons(x)``; an
        absent pair means ``c(x) = 0``), ``bl``, ``bu`` (variable bounds; ``±1e20`` reads as
        infinite): an :class:`optsolve.problems.S2MPJProblem`, a library problem, or a
        :class:`optsolve.constrained.NonlinearProblem` built from scipy.optimize's arguments.
    x : array-like of shape (n,)
    multipliers : tuple, dict, OptimizeResult or None
        ``(v, z_lower, z_upper)`` with ``v`` of shape ``(m,)`` (or a list of arrays, one per
        constraint, concatenated in order) and ``z_lower``, ``z_upper`` of shape ``(n,)``, in
        the convention ``∇f + Jᵀv − z_lower + z_upper = 0`` (the module docstring says how to
        convert IPOPT's, trust-constr's and SLSQP's); or a dict with keys ``'constraints'``,
        ``'lower'``, ``'upper'``; or the result of :func:`optsolve.constrained.minimize`.
        None: the sign-constrained least-squares multipliers of the constraints active within
        ``active_tol`` (for solvers that do not return multipliers).
    active_tol : float
        Activity threshold used only when ``multipliers`` is None.

    Returns
    -------
    KKTResiduals
        ``kkt`` (the largest), ``stationarity``, ``feasibility``, ``complementarity``,
        ``sign``.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.constrained import NonlinearProblem
    >>> p = NonlinearProblem(lambda x: x @ x, [3.0, 3.0], jac=lambda x: 2 * x,
    ...                      constraints=[{"type": "ineq", "fun": lambda x: x[0] + x[1] - 2,
    ...                                    "jac": lambda x: np.ones((1, 2))}])
    >>> r = kkt_residuals(p, [1.0, 1.0], ([-2.0], np.zeros(2), np.zeros(2)))
    >>> r.kkt
    0.0
    >>> kkt_residuals(p, [1.0, 1.0]).stationarity < 1e-12   # multipliers estimated
    True
    >>> kkt_residuals(p, [1.0, 1.0], ([2.0], np.zeros(2), np.zeros(2))).sign  # wrong sign
    2.0
    """
    n, m = int(problem.n), int(getattr(problem, "m", 0) or 0)
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.shape != (n,):
        raise ValueError(f"x must have shape ({n},), got {x.shape}")
    cl, cu, bl, bu = _bounds_of(problem, n, m)
    g = np.asarray(problem.grad(x), dtype=np.float64).ravel()
    if m:
        c = np.asarray(problem.cons(x), dtype=np.float64).ravel()
        J = problem.jac(x)
        if not sp.issparse(J):
            J = np.asarray(J, dtype=np.float64).reshape(m, n)
    else:
        c, J = np.zeros(0), np.zeros((0, n))
    parsed = _parse_multipliers(multipliers, n, m)
    if parsed is None:
        parsed = estimate_multipliers(g, J, c, x, (cl, cu, bl, bu), active_tol)
    v, zl, zu = parsed
    return _residuals(g, J, c, x, v, zl, zu, cl, cu, bl, bu)


def _residuals(g, J, c, x, v, zl, zu, cl, cu, bl, bu) -> KKTResiduals:
    n, m = x.size, c.size
    r = g - zl + zu
    if m:
        r = r + np.asarray(J.T @ v).ravel()
    eq = (cl == cu) & np.isfinite(cl)
    with np.errstate(invalid="ignore"):
        viol = [np.maximum(cl - c, 0.0), np.maximum(c - cu, 0.0),
                np.maximum(bl - x, 0.0), np.maximum(x - bu, 0.0)]
    feas = max((float(np.max(a)) if a.size else 0.0) for a in viol)
    vp, vm = np.maximum(v, 0.0), np.maximum(-v, 0.0)
    fin_u, fin_l = np.isfinite(cu) & ~eq, np.isfinite(cl) & ~eq
    comp_parts = [np.abs(vp[fin_u] * (cu[fin_u] - c[fin_u])),
                  np.abs(vm[fin_l] * (c[fin_l] - cl[fin_l])),
                  np.abs(zl[np.isfinite(bl)] * (x - bl)[np.isfinite(bl)]),
                  np.abs(zu[np.isfinite(bu)] * (bu - x)[np.isfinite(bu)])]
    comp = max((float(np.max(a)) if a.size else 0.0) for a in comp_parts)
    sign_parts = [np.maximum(-zl, 0.0), np.maximum(-zu, 0.0),
                  vp[~eq & ~np.isfinite(cu)], vm[~eq & ~np.isfinite(cl)],
                  zl[~np.isfinite(bl)], zu[~np.isfinite(bu)]]
    sign = max((float(np.max(np.abs(a))) if a.size else 0.0) for a in sign_parts)
    n_mult = max(1, m + int(np.isfinite(bl).sum() + np.isfinite(bu).sum()))
    n_ineq = max(1, int(fin_u.sum() + fin_l.sum() + np.isfinite(bl).sum()
                        + np.isfinite(bu).sum()))
    l1_all = float(np.abs(v).sum() + np.abs(zl).sum() + np.abs(zu).sum())
    l1_ineq = float(np.abs(v[~eq]).sum() + np.abs(zl).sum() + np.abs(zu).sum())
    s_d = max(IPOPT_S_MAX, l1_all / n_mult) / IPOPT_S_MAX
    s_c = max(IPOPT_S_MAX, l1_ineq / n_ineq) / IPOPT_S_MAX
    stat = float(np.max(np.abs(r))) / s_d if n else 0.0
    comp /= s_c
    return KKTResiduals(max(stat, feas, comp, sign), stat, feas, comp, sign)
