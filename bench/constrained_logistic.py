"""Constrained logistic regression (Hong et al., ICML 2023, Sec. 5.2) on a9a, w8a, mushrooms
and phishing: min (1/n) Σ log(1 + exp(-yᵢ xᵢᵀw)) s.t. A w = b, ‖w‖² = 1, with A a 5 × d
standard Gaussian matrix (seed 0) and b = A w̄ for w̄ = 1/√d (so the constraints are
feasible). optsolve's sketched EAL Newton (Kaczmarz and Gaussian sketches, and the direct
variant) and the estimator's matrix-free ``method='newton-cg'`` (Hessian-vector products,
projected Newton-CG on an augmented Lagrangian) vs scipy trust-constr with the same exact
Hessian, same process, BLAS on 1 thread. The paper reports 7-9 outer iterations.

    OPTSOLVE_DATA=../shared/data python bench/constrained_logistic.py   # shared LIBSVM files
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from optsolve.bench.timing import blas_threads, time_callable
from optsolve.constrained import ConstrainedLogisticRegression
from optsolve.constrained._bench import (
    KKT_TOL,
    kkt_least_squares,
    run_optsolve,
    run_trust_constr,
)
from optsolve.constrained.estimators import _LogisticProblem
from optsolve.datasets import load_libsvm

# the shared data folder beside the checkout, as tests/conftest.py does
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("OPTSOLVE_DATA") and _SHARED.is_dir():
    os.environ["OPTSOLVE_DATA"] = str(_SHARED)

DATASETS = ("a9a", "w8a", "mushrooms", "phishing")
N_LINEAR = 5


def make_problem(name):
    X, y = load_libsvm(name)
    classes = np.unique(y)
    ys = np.where(y == classes[-1], 1.0, -1.0)
    d = X.shape[1]
    A = np.random.default_rng(0).standard_normal((N_LINEAR, d))
    b = A @ np.full(d, 1 / np.sqrt(d))
    return _LogisticProblem(X.tocsr(), ys, A, b, 1.0, 0.0, d, np.full(X.shape[0], 1 / X.shape[0]))


def run_newton_cg(p):
    """The estimator's matrix-free path on the same problem (no intercept, alpha 0)."""
    clf = ConstrainedLogisticRegression(p.A, p.b, norm_constraint=p.norm, alpha=p.alpha,
                                        fit_intercept=False, method="newton-cg", tol=KKT_TOL,
                                        max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(p.X, p.ys)
    return {"x": clf.coef_.ravel(), "fun": clf.result_.fun, "nit": clf.n_iter_,
            "n_inner": clf.n_inner_}


def main():
    rows = []
    contenders = {
        "eal[kaczmarz]": lambda p: run_optsolve(p, sketch="kaczmarz"),
        "eal[gaussian]": lambda p: run_optsolve(p, sketch="gaussian"),
        "eal[direct]": lambda p: run_optsolve(p, method="eal-direct"),
        "newton-cg": run_newton_cg,
        "trust-constr": run_trust_constr,
    }
    with blas_threads(1):
        for ds in DATASETS:
            p = make_problem(ds)
            for name, fn in contenders.items():
                t, _, out = time_callable(lambda p=p, fn=fn: fn(p), repeats=1, warmup=1)
                kkt = kkt_least_squares(p, out["x"])
                row = {"dataset": ds, "n": int(p.n_samples), "d": int(p.n), "solver": name,
                       "time_s": t, "outer": int(out["nit"]), "inner": int(out["n_inner"]),
                       "kkt": kkt, "fun": float(out["fun"])}
                rows.append(row)
                print(f"{ds:10s} d={p.n:4d} {name:14s} {t:8.3f} s outer={row['outer']:4d} "
                      f"inner={row['inner']:8d} kkt={kkt:.1e} f={row['fun']:.6f}", flush=True)
    by = {(r["dataset"], r["solver"]): r for r in rows}
    for ds in DATASETS:
        tc = by[(ds, "trust-constr")]["time_s"]
        print(ds, {s: round(tc / by[(ds, s)]["time_s"], 2) for s in contenders
                   if s != "trust-constr"}, "(speed-up vs trust-constr)")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "constrained_logistic.json").write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
