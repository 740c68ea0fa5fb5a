"""Built-in suites that need no solver family: the harness's own honest comparison.

``quick`` starts with a linear least-squares problem solved by numpy's ``lstsq`` (the peer),
scipy's ``lstsq`` (LAPACK gelsy) and scipy's sparse ``lsqr``. Families add their own rows to
``quick`` and register their own suites.
"""

from __future__ import annotations

import numpy as np

from .registry import BenchProblem, Registry, SolveOutcome, SolverSpec

LSTSQ_TOL = 1e-8


def _normal_eq_residual(A, b, x) -> float:
    """Relative optimality of least squares: ||A^T (A x - b)|| / ||A^T b||."""
    g = A.T @ (A @ x - b)
    return float(np.linalg.norm(g) / max(np.linalg.norm(A.T @ b), 1e-300))


def least_squares_problems():
    rng = np.random.default_rng(0)
    for m, n in ((2000, 100), (5000, 400)):
        A = rng.standard_normal((m, n))
        b = A @ rng.standard_normal(n) + 0.1 * rng.standard_normal(m)
        yield BenchProblem(
            name=f"least_squares/dense_{m}x{n}",
            kind="least_squares",
            data=(A, b),
            metric="rel_grad",
            tol=LSTSQ_TOL,
            peer="numpy.lstsq",
        )


def _numpy_lstsq(problem):
    A, b = problem.data

    def solve():
        x = np.linalg.lstsq(A, b, rcond=None)[0]
        r = A @ x - b
        return SolveOutcome(_normal_eq_residual(A, b, x), 0.5 * float(r @ r), 1)

    return solve


def _scipy_lstsq(problem):
    import scipy.linalg

    A, b = problem.data

    def solve():
        x = scipy.linalg.lstsq(A, b, lapack_driver="gelsy", check_finite=False)[0]
        r = A @ x - b
        return SolveOutcome(_normal_eq_residual(A, b, x), 0.5 * float(r @ r), 1)

    return solve


def _scipy_lsqr(problem):
    from scipy.sparse.linalg import lsqr

    A, b = problem.data

    def solve():
        out = lsqr(A, b, atol=1e-14, btol=1e-14, iter_lim=10 * A.shape[1])
        x = out[0]
        r = A @ x - b
        return SolveOutcome(_normal_eq_residual(A, b, x), 0.5 * float(r @ r), int(out[2]))

    return solve


def register(reg: Registry) -> None:
    quick = reg.suite("quick", "small, fast rows of every family (minutes on 2 cores)")
    quick.problem_sets.append(least_squares_problems)
    quick.solvers += [
        SolverSpec("numpy.lstsq", ("least_squares",), _numpy_lstsq, is_peer=True),
        SolverSpec("scipy.lstsq[gelsy]", ("least_squares",), _scipy_lstsq, is_peer=True),
        SolverSpec("scipy.lsqr", ("least_squares",), _scipy_lsqr, is_peer=True),
    ]
