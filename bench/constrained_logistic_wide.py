"""ConstrainedLogisticRegression on a wide sparse X (issue #19: 20000 x 200000, density 2.5e-4,
about 10⁶ non-zeros): the matrix-free ``method='newton-cg'`` (chosen by ``method='auto'``)
against what the assembled path would need, and (without constraints) against scikit-learn's
LogisticRegression (``newton-cg``, the same matrix-free Newton idea, and ``lbfgs``) on the
same loss (``C = 1 / (alpha n)``). Reports fit time, the tracemalloc peak of the fit
(Python allocations, numpy and scipy buffers included) as a multiple of X's storage, and the
projected KKT residual. The assembled ``XᵀDX`` is not formed; its size is counted from the row
non-zeros (``Σᵢ nnz(xᵢ)²`` upper bound, and the exact count of ``XᵀX`` on the quick size).

    python bench/constrained_logistic_wide.py            # the issue's size (~1 min)
    python bench/constrained_logistic_wide.py --quick    # 2000 x 20000
"""

from __future__ import annotations

import os

# one BLAS thread from the start: a runtime limit leaves OpenBLAS's idle threads spinning,
# which on a loaded machine costs milliseconds per small matrix-vector product
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from optsolve.bench.timing import blas_threads  # noqa: E402
from optsolve.constrained import ConstrainedLogisticRegression  # noqa: E402
from optsolve.datasets import make_sparse_regression  # noqa: E402

#: scikit-learn's tolerance: its objective is ours divided by alpha, and its stopping tests are
#: looser than ``‖∇f‖∞``; 1e-8 brings its ‖∇f‖∞ (reported) near our tol 1e-10
PEER_TOL = 1e-8


def _grad_inf(X, y, coef, intercept, alpha):
    """``‖∇f‖∞`` of the mean logistic loss plus ``(alpha/2)‖coef‖²`` (the estimator's measure
    without constraints), to hold every contender to the same accuracy."""
    from scipy.special import expit

    ys = np.where(y == 1, 1.0, -1.0)
    z = ys * (np.asarray(X @ coef).ravel() + intercept)
    r = -ys * expit(-z) / len(ys)
    g = np.asarray(X.T @ r).ravel() + alpha * coef
    return float(max(np.max(np.abs(g)), abs(r.sum())))


def _timed_fit(est, X, y):
    """Wall seconds and tracemalloc peak bytes of ``est.fit(X, y)`` (warnings silenced)."""
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        return time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(n, d, density, constraints, seed=0):
    X, y_reg, _ = make_sparse_regression(n, d, density=density, n_informative=min(d, 200),
                                      random_state=seed)
    y = (y_reg > np.median(y_reg)).astype(int)
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    row_nnz = np.diff(X.indptr).astype(np.float64)
    rng = np.random.default_rng(seed)
    # sklearn's objective C Σ loss + ½‖w‖² is ours (a mean loss) divided by alpha: our tol
    # 1e-10 is its tol 1e-6
    params = {"alpha": 1e-4, "max_iter": 200, "tol": 1e-10}
    if constraints == "eq+norm":
        A = rng.standard_normal((5, d))
        w_bar = np.full(d, 1 / np.sqrt(d))
        params.update(A_eq=A, b_eq=A @ w_bar, norm_constraint=1.0)
    elif constraints == "positive":
        params.update(positive=True)
    clf = ConstrainedLogisticRegression(**params)
    t, peak = _timed_fit(clf, X, y)
    row = {"n": n, "d": d, "nnz": int(X.nnz), "constraints": constraints,
           "method": clf.method_, "time_s": round(t, 2), "peak_MB": round(peak / 2**20, 1),
           "X_MB": round(x_bytes / 2**20, 1), "peak_over_X": round(peak / x_bytes, 2),
           "XtDX_nnz_bound": int(np.sum(row_nnz**2)), "nit": int(clf.n_iter_),
           "hvp": int(clf.n_inner_), "kkt": float(clf.kkt_),
           "success": bool(clf.result_.success)}
    print(json.dumps(row), flush=True)
    rows = [row]
    if constraints == "none":
        from sklearn.linear_model import LogisticRegression

        for solver in ("newton-cg", "lbfgs"):
            ref = LogisticRegression(C=1.0 / (params["alpha"] * n), solver=solver, tol=PEER_TOL,
                                     max_iter=1000)
            tr, peak_r = _timed_fit(ref, X, y)
            peer = {"n": n, "d": d, "nnz": int(X.nnz), "constraints": constraints,
                    "method": f"sklearn-{solver}", "time_s": round(tr, 2),
                    "peak_MB": round(peak_r / 2**20, 1), "X_MB": row["X_MB"],
                    "peak_over_X": round(peak_r / x_bytes, 2),
                    "nit": int(np.max(ref.n_iter_)),
                    "kkt": _grad_inf(X, y, ref.coef_.ravel(), ref.intercept_[0],
                                     params["alpha"]),
                    "max_coef_diff": float(np.max(np.abs(ref.coef_ - clf.coef_))),
                    "speedup_vs_peer": round(tr / t, 2)}
            print(json.dumps(peer), flush=True)
            rows.append(peer)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n, d = (2000, 20000) if args.quick else (20000, 200000)
    density = 2.5e-3 if args.quick else 2.5e-4
    rows = []
    with blas_threads(1):
        for constraints in ("none", "eq+norm", "positive"):
            rows += run(n, d, density, constraints)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"constrained_logistic_wide{'_quick' if args.quick else ''}.json").write_text(
        json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
