"""Benchmark rows of the completion family for ``optsolve bench``.

Suite ``completion``: synthetic recovery to relative error 1e-6 (AltMin sketched / exact
against fancyimpute's SoftImpute, the peer) and MovieLens-100k u1 test RMSE (against Surprise's
SVD, the peer, when the data and the package are present). ``quick`` gets one small synthetic
recovery row.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..bench.registry import BenchProblem, SolveOutcome, SolverSpec

RECOVERY_TOL = 1e-6
MOVIELENS_RMSE_TARGET = 0.93


def _recovery_problem(n: int, k: int, c_samples: float = 4.0) -> BenchProblem:
    from ..datasets import make_incoherent_low_rank

    p = min(1.0, c_samples * k * np.log(n) / n)
    X, U, V = make_incoherent_low_rank(n, n, k, p, random_state=1)
    return BenchProblem(
        name=f"completion/incoherent_{n}x{n}/rank{k}",
        kind="matrix_completion",
        data=(X, U, V, k),
        metric="rel_frobenius_error",
        tol=RECOVERY_TOL,
        peer="fancyimpute.SoftImpute",
        meta={"nnz": X.nnz, "p": p},
    )


def quick_problems():
    yield _recovery_problem(200, 2)


def completion_problems():
    # SoftImpute needs one dense SVD per iteration: n = 1000 keeps the suite to minutes on two
    # cores; bench/completion_recovery.py runs the larger sizes
    yield _recovery_problem(1000, 5)
    yield _recovery_problem(1000, 10)
    try:
        from ..datasets import load_movielens

        train, test = load_movielens("100k", split="u1", download_if_missing=False)
    except (FileNotFoundError, OSError):
        return
    yield BenchProblem(
        name="completion/movielens-100k/u1",
        kind="ratings",
        data=(train, test),
        metric="test_rmse",
        tol=MOVIELENS_RMSE_TARGET,
        peer="surprise.SVD",
        meta={"nnz": train.nnz},
    )


def _rel_error(U, V, Ut, Vt) -> float:
    """||U V^T - Ut Vt^T||_F / ||Ut Vt^T||_F from k x k Gram matrices (M is never formed)."""
    tt = (Ut.T @ Ut) * (Vt.T @ Vt)
    num = np.sum((U.T @ U) * (V.T @ V)) - 2 * np.sum((Ut.T @ U) * (Vt.T @ V)) + np.sum(tt)
    return float(np.sqrt(max(num, 0.0) / np.sum(tt)))


def _altmin(solver: str):
    def prepare(problem):
        from . import AltMinCompletion, altmin

        if problem.kind == "ratings":
            train, test = problem.data
            tc = test.tocoo()

            def solve_ratings():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # 32 items unseen in u1.base
                    est = AltMinCompletion(rank=10, biases=True, solver=solver, random_state=0)
                    est.fit(train)
                pred = est.predict(tc.row, tc.col)
                rmse = float(np.sqrt(np.mean((pred - tc.data) ** 2)))
                return SolveOutcome(rmse, float("nan"), est.n_iter_)

            return solve_ratings

        X, Ut, Vt, k = problem.data

        def solve():
            def stop(intermediate_result):
                if _rel_error(intermediate_result.U, intermediate_result.V, Ut, Vt) <= problem.tol:
                    raise StopIteration

            res = altmin(X, k, solver=solver, tol=0.0, max_iter=200, callback=stop,
                         random_state=0)
            err = _rel_error(res.U, res.V, Ut, Vt)
            return SolveOutcome(err, float(res.fun), int(res.nit))

        solve()  # compile the kernels outside the timed runs
        return solve

    return prepare


def softimpute_class():
    """fancyimpute's SoftImpute, with a shim for scikit-learn >= 1.8.

    fancyimpute 0.7 (its latest release) calls ``check_array(X, force_all_finite=False)``, a
    keyword scikit-learn renamed ``ensure_all_finite`` and removed in 1.8; the shim renames
    it and changes nothing else.
    """
    import fancyimpute.soft_impute
    import fancyimpute.solver
    from fancyimpute import SoftImpute
    from sklearn.utils import check_array

    def check_array_compat(X, *args, force_all_finite=True, **kwargs):
        return check_array(X, *args, ensure_all_finite=force_all_finite, **kwargs)

    fancyimpute.solver.check_array = check_array_compat
    fancyimpute.soft_impute.check_array = check_array_compat
    return SoftImpute


def _softimpute(problem):
    SoftImpute = softimpute_class()

    X, Ut, Vt, _ = problem.data
    D = np.full(X.shape, np.nan)
    coo = X.tocoo()
    D[coo.row, coo.col] = coo.data
    M = Ut @ Vt.T

    def solve():
        out = SoftImpute(verbose=False).fit_transform(D)
        return SolveOutcome(float(np.linalg.norm(out - M) / np.linalg.norm(M)), float("nan"))

    return solve


def _surprise_svd(problem):
    import pandas as pd
    from surprise import SVD, Dataset, Reader

    train, test = problem.data
    tr, tc = train.tocoo(), test.tocoo()
    df = pd.DataFrame({"u": tr.row, "i": tr.col, "r": tr.data})
    trainset = Dataset.load_from_df(df, Reader(rating_scale=(1, 5))).build_full_trainset()

    def solve():
        algo = SVD(random_state=0).fit(trainset)
        pred = np.array([algo.predict(u, i).est for u, i in zip(tc.row, tc.col, strict=True)])
        return SolveOutcome(float(np.sqrt(np.mean((pred - tc.data) ** 2))), float("nan"), 20)

    return solve


def _version(module: str):
    def get() -> str:
        import importlib.metadata

        try:
            return importlib.metadata.version(module)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    return get


def _solvers(kinds=("matrix_completion", "ratings")):
    return [
        SolverSpec("altmin[sketched]", kinds, _altmin("sketched")),
        SolverSpec("altmin[exact]", kinds, _altmin("exact")),
        SolverSpec("fancyimpute.SoftImpute", ("matrix_completion",), _softimpute, is_peer=True,
                   requires=("fancyimpute",), version=_version("fancyimpute")),
        SolverSpec("surprise.SVD", ("ratings",), _surprise_svd, is_peer=True,
                   requires=("surprise", "pandas"), version=_version("scikit-surprise")),
    ]


def register(registry) -> None:
    suite = registry.suite(
        "completion",
        "matrix completion: synthetic recovery to 1e-6 vs SoftImpute, MovieLens-100k u1 RMSE "
        "vs Surprise SVD",
        repeats=1,
    )
    suite.problem_sets.append(completion_problems)
    suite.solvers += _solvers()
    quick = registry.suite("quick")
    quick.problem_sets.append(quick_problems)
    quick.solvers += _solvers(("matrix_completion",))
