"""Benchmark rows of the constrained family for ``optsolve bench``.

Suites: ``nlp`` (the built-in problem library vs scipy trust-constr, SLSQP and IPOPT when
cyipopt imports), ``cutest`` (the paper's 47 CUTEst problems through pycutest, each solve in
its own subprocess; a note with the set-up steps when CUTEst is absent) and rows in ``quick``.

Every contender is judged by the same measure: the KKT residual at the returned ``x`` with
least-squares multipliers, ``max(‖∇f + Gᵀλ_LS‖∞, ‖c‖∞)`` (so a peer's own stopping rule does
not decide whether it "solved" a problem).

Also runnable as ``python -m optsolve.constrained._bench NAME SOLVER`` (the subprocess of the
``cutest`` suite): prints one JSON line with the outcome.
"""

from __future__ import annotations

import json
import subprocess
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
        r = minimize_eq(problem, method=method, sketch=sketch, tol=KKT_TOL, max_iter=500,
                        random_state=seed)
    return {"x": r.x, "fun": r.fun, "nit": r.nit, "n_inner": r.n_inner, "evals": _evals(problem),
            "flops": r.flops, "success": r.success}


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
            "evals": _evals(problem), "flops": float("nan"), "success": r.success}


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
            "flops": float("nan"), "success": r.success}


def run_ipopt(problem: Any) -> dict:
    from cyipopt import minimize_ipopt

    problem.reset_counts()
    zeros = np.zeros(problem.m)
    cons = [{"type": "eq", "fun": problem.cons, "jac": problem.jac,
             "hess": lambda x, v: problem.hess(x, v) - problem.hess(x, zeros)}] \
        if problem.m else []
    r = minimize_ipopt(problem.obj, problem.x0, jac=problem.grad,
                       hess=lambda x: problem.hess(x, zeros), constraints=cons,
                       options={"tol": KKT_TOL / 10, "print_level": 0, "max_iter": 3000})
    return {"x": r.x, "fun": r.fun, "nit": int(r.get("nit", -1)), "n_inner": 0,
            "evals": _evals(problem), "flops": float("nan"), "success": r.success}


CONTENDERS = {
    "optsolve.eal[kaczmarz]": lambda p: run_optsolve(p, sketch="kaczmarz"),
    "optsolve.eal[gaussian]": lambda p: run_optsolve(p, sketch="gaussian"),
    "optsolve.eal[direct]": lambda p: run_optsolve(p, method="eal-direct"),
    PEER: run_trust_constr,
    "scipy.SLSQP": run_slsqp,
    "cyipopt": run_ipopt,
}


def outcome_of(problem: Any, out: dict) -> SolveOutcome:
    kkt = kkt_least_squares(problem, np.asarray(out["x"], dtype=float))
    return SolveOutcome(metric_value=kkt, objective=float(out["fun"]), n_iter=int(out["nit"]),
                        success=bool(np.isfinite(kkt)),
                        extra={"n_inner": out["n_inner"], "evals": out["evals"]})


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


def cutest_problems():
    from ..problems import cutest_status

    if not cutest_status()[0]:
        return
    for name in PAPER_CUTEST:
        yield BenchProblem(name=f"cutest/{name}", kind="cutest_eq", data=name, metric="kkt",
                           tol=KKT_TOL, peer=PEER)


def _cutest_prepare(contender: str):
    def prepare(problem: BenchProblem):
        def solve():
            proc = subprocess.run(
                [sys.executable, "-m", "optsolve.constrained._bench", problem.data, contender],
                capture_output=True, text=True, timeout=600, check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"{problem.data}: subprocess failed: {proc.stderr[-500:]}")
            d = json.loads(lines[-1])
            return SolveOutcome(metric_value=d["kkt"], objective=d["fun"], n_iter=d["nit"],
                                success=np.isfinite(d["kkt"]),
                                extra={"n_inner": d["n_inner"], "evals": d["evals"]})

        return solve

    return prepare


def _cutest_main(name: str, contender: str) -> None:
    from ..problems import CUTEstProblem

    p = CUTEstProblem(name)
    out = CONTENDERS[contender](p)
    kkt = kkt_least_squares(p, np.asarray(out["x"], dtype=float))
    print(json.dumps({"kkt": kkt, "fun": float(out["fun"]), "nit": int(out["nit"]),
                      "n_inner": int(out["n_inner"]), "evals": int(out["evals"])}))


def _specs(kind: str, prepare_factory) -> list[SolverSpec]:
    specs = []
    for name in CONTENDERS:
        peer = not name.startswith("optsolve")
        requires = ("cyipopt",) if name == "cyipopt" else ()
        specs.append(SolverSpec(name, (kind,), prepare_factory(name), is_peer=peer,
                                requires=requires))
    return specs


def register(registry) -> None:
    nlp = registry.suite("nlp", "equality-constrained NLP library: sketched EAL Newton vs "
                         "trust-constr / SLSQP / IPOPT", repeats=1)
    nlp.problem_sets.append(library_problems)
    nlp.solvers += _specs("nlp_eq", _library_prepare)

    cutest = registry.suite("cutest", "the 47 CUTEst problems of Hong et al. (ICML 2023) "
                            "through pycutest, one subprocess per solve", repeats=1)
    from ..problems import cutest_status

    ok, why = cutest_status()
    if not ok:
        cutest.notes.append("cutest suite ran nothing: " + why)
    cutest.problem_sets.append(cutest_problems)
    cutest.solvers += _specs("cutest_eq", _cutest_prepare)

    quick = registry.suite("quick")
    quick.problem_sets.append(quick_problems)
    quick.solvers += [s for s in _specs("nlp_eq", _library_prepare)
                      if s.name in ("optsolve.eal[kaczmarz]", "optsolve.eal[direct]", PEER)
                      and s.kinds == ("nlp_eq",)]


if __name__ == "__main__":  # pragma: no cover - the cutest suite's subprocess
    _cutest_main(sys.argv[1], sys.argv[2])
