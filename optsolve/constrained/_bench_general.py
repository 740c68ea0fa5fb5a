"""Benchmark rows for general nonlinear programs (bounds and inequalities): ``cutest_nlp`` suite.

``min f(x) s.t. cl <= c(x) <= cu, bl <= x <= bu`` on the S2MPJ translations of CUTEst, each
solve in its own worker process with a time limit. Contenders: optsolve's
``optsolve.constrained.minimize`` (``eal-sketch``), IPOPT (cyipopt, exact Hessians, dense
derivatives), scipy ``trust-constr`` (exact Hessians) and scipy ``SLSQP``, all started from the
problem's ``x0`` with the arguments of :func:`optsolve.problems.to_scipy`.

The common accuracy measure (:func:`kkt_general`) is the family's solver-independent
:func:`optsolve.constrained.kkt_residuals` at the returned ``x`` with multipliers estimated the
same way for every solver (never the solver's own): sign-constrained least squares over the
constraints and bounds active within 1e-6 (relative to the bound's size), then the largest of
the IPOPT-scaled stationarity, the primal violation, the scaled complementarity and the
wrong-sign multiplier size. A point is *solved* when this is ``<= KKT_TOL``. Unsolved runs
are classified by :func:`classify`.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..bench.registry import BenchProblem, SolveOutcome, SolverSpec

KKT_TOL = 1e-6
PEER = "cyipopt"
#: default seconds per (problem, solver) pair
TIME_LIMIT = 60.0
MAX_ITER = 3000
#: Ipopt's own test is on its scaled problem, with loose absolute tolerances (dual 1, primal and
#: complementarity 1e-4) beside it: the absolute ones are set to the common measure's level and
#: ``tol`` to 1e-10 (at 1e-8 it stops at KKT ~4e-6 on OBSTCLBU; one more iteration fixes it);
#: ``bound_relax_factor = 0``: by default Ipopt relaxes every bound by 1e-8 relative and measures
#: complementarity against the relaxed bounds, which leaves KKT ~1e-6..1e-5 against the real ones
#: on HS2, HS15, HS16, HS19, HS36 (all solved to 1e-10 without the relaxation)
IPOPT_OPTIONS = {"tol": KKT_TOL / 1e4, "bound_relax_factor": 0.0, "dual_inf_tol": KKT_TOL / 10,
                 "constr_viol_tol": KKT_TOL / 10, "compl_inf_tol": KKT_TOL / 10,
                 "max_iter": MAX_ITER, "print_level": 0, "sb": "yes"}
#: trust-constr stops when its barrier subproblem is solved to ``gtol``, whatever the barrier
#: parameter (so complementarity ~ the barrier parameter): ``gtol = 1e-14`` drives the barrier
#: parameter below 1e-6 on the problems where the default 1e-8 leaves it at 1e-4
TRUST_CONSTR_OPTIONS = {"gtol": 1e-14, "xtol": 1e-14, "barrier_tol": 1e-14, "maxiter": MAX_ITER}

__all__ = ["CATEGORIES", "CONTENDERS", "GROUPS", "KKT_TOL", "classify", "kkt_general", "register"]


def _dense(a: Any) -> np.ndarray:
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)


# ---- the common measure ------------------------------------------------------------------------
def kkt_general(problem: Any, x: np.ndarray, multipliers: Any = None) -> dict:
    """The common measure at ``x`` (module docstring) with diagnostics for the failure
    categories.

    ``multipliers``: the solver's own ``(v, z_lower, z_upper)`` (or an optsolve result), when it
    reports them: the measure is then the smaller of the two certificates (``own`` says which).

    Returns a dict: ``kkt`` (:func:`optsolve.constrained.kkt_residuals` with estimated
    multipliers, or the solver's own when they certify a smaller residual), its parts
    ``stationarity``, ``violation``, ``complementarity``, ``sign``,
    ``n_active`` (constraints and bounds within its activity tolerance, equalities included)
    and ``active_rank`` (rank of their gradients; -1 when not computed) and ``finite``.
    """
    from .optimality import ACTIVE_TOL, kkt_residuals

    x = np.asarray(x, dtype=np.float64)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            g = np.asarray(problem._grad(x), dtype=np.float64)
            c = np.asarray(problem._cons(x), dtype=np.float64) if problem.m else np.zeros(0)
            J = _dense(problem._jac(x)) if problem.m else np.zeros((0, problem.n))
            finite = bool(np.all(np.isfinite(g)) and np.all(np.isfinite(c))
                          and np.all(np.isfinite(J)) and np.all(np.isfinite(x)))
            r = kkt_residuals(problem, x) if finite else None
        except (ArithmeticError, ValueError, np.linalg.LinAlgError):
            finite, r = False, None
        own = None
        if finite and multipliers is not None:
            try:
                own = kkt_residuals(problem, x, multipliers)
            except (ArithmeticError, ValueError, TypeError, np.linalg.LinAlgError):
                own = None
    if r is None or not np.isfinite(r.kkt):
        return {"kkt": math.inf, "finite": False}
    used_own = own is not None and np.isfinite(own.kkt) and own.kkt < r.kkt
    estimated_kkt = float(r.kkt)
    if used_own:
        r = own
    tol_c = ACTIVE_TOL * np.maximum(1.0, np.abs(np.where(np.isfinite(problem.cu), problem.cu,
                                                         0.0)))
    rows = np.flatnonzero(np.asarray(problem.is_eq_cons, dtype=bool)
                          | (np.abs(c - problem.cl) <= tol_c) | (np.abs(problem.cu - c) <= tol_c))
    tol_b = ACTIVE_TOL * np.maximum(1.0, np.abs(np.where(np.isfinite(problem.bu), problem.bu,
                                                         0.0)))
    bounds = np.flatnonzero((np.abs(x - problem.bl) <= tol_b) | (np.abs(problem.bu - x) <= tol_b))
    n_active = rows.size + bounds.size
    rank = -1
    if 0 < n_active <= 2000:
        A = np.vstack([J[rows], np.eye(problem.n)[bounds]])
        rank = int(np.linalg.matrix_rank(A))
    return {"kkt": float(r.kkt), "stationarity": float(r.stationarity),
            "violation": float(r.feasibility), "complementarity": float(r.complementarity),
            "sign": float(r.sign), "n_active": int(n_active), "active_rank": rank,
            "finite": True, "own": bool(used_own), "kkt_estimated": estimated_kkt}


def _evals(problem: Any) -> int:
    c = problem.counts
    return int(c["nfev"] + c["ngev"] + c["ncev"] + c["njev"] + c["nhev"])


# ---- contenders: problem -> dict(x, fun, nit, evals, success, message, status) ----------------
def run_optsolve(problem: Any, *, method: str = "eal-sketch") -> dict:
    from optsolve.constrained import minimize

    from ..problems import to_scipy

    problem.reset_counts()
    kwargs = to_scipy(problem, "trust-constr")
    kwargs["method"] = method
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(**kwargs, tol=KKT_TOL, options={"maxiter": MAX_ITER, "random_state": 0})
    own = None
    if "multipliers" in r and "bounds_multipliers" in r:
        own = (np.asarray(r.multipliers, dtype=np.float64), *r.bounds_multipliers)
    return {"x": r.x, "fun": r.fun, "nit": int(r.get("nit", -1)), "evals": _evals(problem),
            "success": bool(r.success), "message": str(r.message),
            "solver_status": int(r.status), "multipliers": own}


def run_trust_constr(problem: Any) -> dict:
    from scipy.optimize import minimize

    from ..problems import to_scipy

    problem.reset_counts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = to_scipy(problem, "trust-constr")
        r = minimize(**kwargs, options=TRUST_CONSTR_OPTIONS)
    # r.v: one array per constraint, then the bounds' (∇f + Jᵀv + v_b = 0, v_b = z_u - z_l)
    v = np.asarray(r.v[0], dtype=np.float64) if problem.m else np.zeros(0)
    v_b = np.asarray(r.v[-1], dtype=np.float64) if "bounds" in kwargs else np.zeros(problem.n)
    return {"x": r.x, "fun": r.fun, "nit": int(r.nit), "evals": _evals(problem),
            "success": bool(r.success), "message": str(r.message),
            "solver_status": int(r.status),
            "multipliers": (v, np.maximum(-v_b, 0.0), np.maximum(v_b, 0.0))}


def run_slsqp(problem: Any) -> dict:
    from scipy.optimize import minimize

    from ..problems import to_scipy

    problem.reset_counts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(**to_scipy(problem, "SLSQP"), options={"ftol": 1e-14, "maxiter": MAX_ITER})
    return {"x": r.x, "fun": r.fun, "nit": int(r.nit), "evals": _evals(problem),
            "success": bool(r.success), "message": str(r.message),
            "solver_status": int(r.status)}


class _IpoptNLP:
    """cyipopt's problem interface over the protocol: dense derivatives, exact Hessians,
    CUTEst's ``cl <= c(x) <= cu`` passed as they are (no splitting into one-sided rows)."""

    def __init__(self, problem: Any):
        self.p = problem
        self.zeros = np.zeros(problem.m)
        self.rows_j, self.cols_j = np.indices((problem.m, problem.n)).reshape(2, -1)
        self.rows_h, self.cols_h = np.tril_indices(problem.n)
        self.iterations = 0

    def objective(self, x):
        return self.p.obj(x)

    def gradient(self, x):
        return self.p.grad(x)

    def constraints(self, x):
        return self.p.cons(x)

    def jacobian(self, x):
        return _dense(self.p.jac(x)).ravel()

    def jacobianstructure(self):
        return self.rows_j, self.cols_j

    def hessianstructure(self):
        return self.rows_h, self.cols_h

    def hessian(self, x, lagrange, obj_factor):
        # Ipopt's Lagrangian σ f + λᵀc: σ ∇²f + (∇²L(x, λ) - ∇²f)
        H0 = _dense(self.p.hess(x, self.zeros))
        H = obj_factor * H0
        if self.p.m:
            H = H + _dense(self.p.hess(x, np.asarray(lagrange))) - H0
        return H[self.rows_h, self.cols_h]

    def intermediate(self, alg_mod, iter_count, *args):
        self.iterations = int(iter_count)
        return True


def _ipopt_bound(a: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(a, dtype=np.float64), -1e20, 1e20)  # Ipopt's ±inf is ±1e19


def run_ipopt(problem: Any) -> dict:
    import cyipopt

    problem.reset_counts()
    nlp = _IpoptNLP(problem)
    solver = cyipopt.Problem(n=problem.n, m=problem.m, problem_obj=nlp,
                             lb=_ipopt_bound(problem.bl), ub=_ipopt_bound(problem.bu),
                             cl=_ipopt_bound(problem.cl), cu=_ipopt_bound(problem.cu))
    for key, value in IPOPT_OPTIONS.items():
        solver.add_option(key, value)
    x, info = solver.solve(problem.x0.copy())
    status = int(info["status"])
    return {"x": x, "fun": float(info["obj_val"]), "nit": nlp.iterations,
            "evals": _evals(problem), "success": status in (0, 1),
            "message": info["status_msg"].decode() if isinstance(info["status_msg"], bytes)
            else str(info["status_msg"]), "solver_status": status,
            "multipliers": (np.asarray(info["mult_g"], dtype=np.float64),
                            np.asarray(info["mult_x_L"], dtype=np.float64),
                            np.asarray(info["mult_x_U"], dtype=np.float64))}


CONTENDERS = {
    "optsolve.minimize[eal-sketch]": run_optsolve,
    "cyipopt": run_ipopt,
    "scipy.trust-constr": run_trust_constr,
    "scipy.SLSQP": run_slsqp,
}


# ---- outcome and failure categories ------------------------------------------------------------
def outcome_of(problem: Any, out: dict) -> SolveOutcome:
    diag = kkt_general(problem, np.asarray(out["x"], dtype=np.float64), out.get("multipliers"))
    extra = {k: v for k, v in diag.items() if k != "kkt"}
    extra.update(evals=out["evals"], message=str(out.get("message", ""))[:200],
                 solver_success=bool(out["success"]),
                 solver_status=int(out.get("solver_status", 0)),
                 solve_s=float(out.get("solve_s", math.nan)))
    try:
        fun = float(out["fun"])
    except (TypeError, ValueError):
        fun = math.nan
    return SolveOutcome(metric_value=diag["kkt"], objective=fun, n_iter=int(out["nit"]),
                        success=bool(np.isfinite(diag["kkt"])), extra=extra)


#: failure categories, in the order the summary lists them
CATEGORIES = (
    "time limit", "exception", "non-finite values", "infeasibility detected",
    "success claimed, KKT above tol", "iteration limit", "line search / step failure",
    "infeasible stop",
    "degenerate (active gradients rank-deficient)", "stopped feasible, not stationary",
)


#: the categories grouped as the issue lists failures
GROUPS = {
    "time limit": "time limit", "exception": "crash", "non-finite values": "crash",
    "infeasibility detected": "infeasible reported",
    "success claimed, KKT above tol": "wrong answer", "iteration limit": "iteration limit",
    "line search / step failure": "stalled", "infeasible stop": "stalled",
    "degenerate (active gradients rank-deficient)": "stalled",
    "stopped feasible, not stationary": "stalled",
}


def classify(status: str, reason: str, solver: str, extra: dict) -> str:
    """One failure category (see :data:`CATEGORIES`) for an unsolved run.

    ``status``/``reason``: the runner's row status (``failed``, ``timeout``, ``error``) and
    reason; ``extra``: the outcome's diagnostics (:func:`outcome_of`).
    """
    if status == "timeout":
        return "time limit"
    if status == "error":
        return "exception"
    if extra.get("finite") is False:
        return "non-finite values"
    # the runner keeps the solver's message in ``reason`` ("kkt ... > tol (message)")
    message = (str(extra.get("message", "")) + " " + str(reason)).lower()
    code = extra.get("solver_status", 0)
    violation = extra.get("violation", math.inf)
    if (solver == "cyipopt" and code == 2) or ("infeasib" in message and (
            "detected" in message or "locally infeasible" in message or "infeasible problem"
            in message)) or (solver.startswith("optsolve") and code == 4):
        return "infeasibility detected"
    if extra.get("solver_success") is True:
        return "success claimed, KKT above tol"
    if ("iteration" in message and any(w in message for w in ("max", "limit", "exceeded"))) \
            or (solver == "cyipopt" and code == -1):
        return "iteration limit"
    if ("line search" in message or "linesearch" in message or "restoration" in message
            or "step computation" in message or "search direction" in message
            or "incompatible" in message or "singular" in message
            or (solver == "cyipopt" and code in (-2, -3))):
        return "line search / step failure"
    if violation > KKT_TOL:
        return "infeasible stop"
    if 0 <= extra.get("active_rank", 0) < extra.get("n_active", 0):
        return "degenerate (active gradients rank-deficient)"
    return "stopped feasible, not stationary"


# ---- problem set and suite ---------------------------------------------------------------------
def general_problems(selection: dict | None = None):
    """S2MPJ problems with an inequality or a bound (``selection``: ``names``, ``max_n``)."""
    from ..problems.s2mpj import list_s2mpj_problems, s2mpj_info

    selection = dict(selection or {})
    names = selection.get("names") or list_s2mpj_problems(
        constraints="general", max_n=selection.get("max_n", 1000))
    for name in names:
        yield BenchProblem(name=f"cutest/{name}", kind="cutest_nlp", data=name, metric="kkt",
                           tol=KKT_TOL, peer=PEER, meta={"n": s2mpj_info(name)["n"]})


def _prepare(contender: str):
    def prepare(problem: BenchProblem):
        from ..problems import S2MPJProblem

        p = S2MPJProblem(problem.data)  # untimed: S2MPJ builds its tables here
        fn = CONTENDERS[contender]

        def solve():
            start = time.perf_counter()
            out = fn(p)
            out["solve_s"] = time.perf_counter() - start  # the measure's own cost left out
            return outcome_of(p, out)

        return solve

    return prepare


def register(registry) -> None:
    suite = registry.suite(
        "cutest_nlp", "CUTEst (S2MPJ) problems with inequalities and bounds: minimize vs "
        "IPOPT / trust-constr / SLSQP, one subprocess per solve", repeats=1)
    suite.isolate, suite.time_limit, suite.warmup = True, TIME_LIMIT, 0
    suite.fresh_worker_per_problem = False
    # solved untimed once per worker: numba compilation and S2MPJ's loader stay out of the times
    suite.warmup_problem = BenchProblem(name="cutest/HS21", kind="cutest_nlp", data="HS21",
                                        metric="kkt", tol=KKT_TOL)
    suite.problem_sets.append(general_problems)
    if suite.solvers:
        return
    for name in CONTENDERS:
        suite.solvers.append(SolverSpec(
            name, ("cutest_nlp",), _prepare(name), is_peer=not name.startswith("optsolve"),
            requires=("cyipopt",) if name == "cyipopt" else ()))
