"""MovieLens-100k u1: test RMSE and fit time, AltMinCompletion vs Surprise SVD vs fancyimpute.

All contenders train on u1.base and are scored on u1.test (GroupLens' split), in this process,
single-threaded (BLAS and numba threads pinned to 1), with their default settings:

* ``AltMinCompletion(rank=10, biases=True)`` (default alpha, tol, solver="sketched"), and the
  same with ``solver="exact"``;
* Surprise ``SVD()`` (Funk SVD by SGD, 100 factors, 20 epochs), ``random_state=0``;
* fancyimpute ``SoftImpute()`` on the dense users x items matrix with NaN (its input form),
  predictions clipped to [1, 5] as fancyimpute does with min/max values.

Fit times are the median of 3 runs after a warm-up run. Needs the data
(``$OPTSOLVE_DATA/ratings/ml-100k/u.data``).

Run:  python bench/completion_movielens.py
"""

from __future__ import annotations

import statistics
import time
import warnings

import numba
import numpy as np

from optsolve.bench.timing import blas_threads
from optsolve.completion import AltMinCompletion
from optsolve.datasets import load_movielens


def timed(fn, repeats=3):
    fn()
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def rmse(pred, truth) -> float:
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


def main():
    numba.set_num_threads(1)
    train, test = load_movielens("100k", split="u1")
    tc = test.tocoo()
    results = []
    with blas_threads(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver in ("sketched", "exact"):
            t, est = timed(lambda s=solver: AltMinCompletion(
                rank=10, biases=True, solver=s, random_state=0).fit(train))
            results.append((f"AltMinCompletion[{solver}]", t, rmse(
                est.predict(tc.row, tc.col), tc.data), est.n_iter_))
        try:
            from surprise import SVD, Dataset, Reader
        except ImportError:
            print("scikit-surprise not installed: pip install 'optsolve[bench]'")
        else:
            tr = train.tocoo()
            import pandas as pd

            df = pd.DataFrame({"u": tr.row, "i": tr.col, "r": tr.data})
            trainset = Dataset.load_from_df(df, Reader(rating_scale=(1, 5))).build_full_trainset()
            t, algo = timed(lambda: SVD(random_state=0).fit(trainset))
            pred = np.array([algo.predict(u, i).est for u, i in zip(tc.row, tc.col, strict=True)])
            results.append(("surprise.SVD", t, rmse(pred, tc.data), 20))
        try:
            from optsolve.completion._bench import softimpute_class

            SoftImpute = softimpute_class()
        except ImportError:
            print("fancyimpute not installed")
        else:
            D = np.full(train.shape, np.nan)
            tr = train.tocoo()
            D[tr.row, tr.col] = tr.data
            t, filled = timed(lambda: SoftImpute(verbose=False, min_value=1, max_value=5)
                              .fit_transform(D), repeats=1)
            results.append(("fancyimpute.SoftImpute", t, rmse(filled[tc.row, tc.col], tc.data),
                            -1))
    base = results[0][1]
    print(f"{'model':28s} {'fit s':>8s} {'test RMSE':>10s} {'iters':>6s} {'time / ours':>12s}")
    for name, t, r, it in results:
        print(f"{name:28s} {t:8.2f} {r:10.4f} {it:6d} {t / base:12.2f}")


if __name__ == "__main__":
    main()
