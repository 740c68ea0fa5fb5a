"""Timing helpers: time a solve and its peer in the same process, report the ratio.

Rules (see STYLE.md, "benchmarks"): warm-up excluded, several repeats, median reported, both
contenders checked against the same accuracy, BLAS threads pinned to the same count for both.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["TimedComparison", "blas_threads", "compare_solvers", "time_callable"]


@contextmanager
def blas_threads(n: int | None):
    """Pin BLAS/OpenMP threads to ``n`` (no-op when ``n`` is None or threadpoolctl is absent)."""
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        yield
        return
    with threadpool_limits(limits=n):
        yield


def time_callable(
    fn: Callable[[], Any], *, repeats: int = 3, warmup: int = 1, max_seconds: float | None = None
) -> tuple[float, list[float], Any]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Returns ``(median_seconds, all_times, last_return_value)``. When ``max_seconds`` is given,
    stops repeating once the timed calls together exceed it (at least one timed call is made).

    Examples
    --------
    >>> from optsolve.bench import time_callable
    >>> median, times, value = time_callable(lambda: sum(range(1000)), repeats=3)
    >>> len(times), value
    (3, 499500)
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    out = None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if max_seconds is not None and sum(times) > max_seconds:
            break
    return statistics.median(times), times, out


@dataclass
class TimedComparison:
    """Result of :func:`compare_solvers`: times, accuracies and the ratio."""

    name: str
    peer_name: str
    time: float
    peer_time: float
    accuracy: float
    peer_accuracy: float
    tol: float

    @property
    def ratio(self) -> float:
        """``peer_time / time``: above 1 means optsolve is faster."""
        return self.peer_time / self.time if self.time > 0 else float("inf")

    @property
    def both_reached(self) -> bool:
        return self.accuracy <= self.tol and self.peer_accuracy <= self.tol

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.time * 1e3:.2f} ms (acc {self.accuracy:.1e}) vs {self.peer_name}: "
            f"{self.peer_time * 1e3:.2f} ms (acc {self.peer_accuracy:.1e}) -> speed-up "
            f"{self.ratio:.2f}x{'' if self.both_reached else '  [accuracy NOT reached]'}"
        )


def compare_solvers(
    solve: Callable[[], Any],
    peer: Callable[[], Any],
    accuracy: Callable[[Any], float],
    *,
    tol: float,
    name: str = "optsolve",
    peer_name: str = "peer",
    repeats: int = 5,
    warmup: int = 1,
    threads: int | None = 1,
    require_accuracy: bool = True,
) -> TimedComparison:
    """Time ``solve`` and ``peer`` on the same problem in this process and compare.

    Parameters
    ----------
    solve, peer : callable
        Zero-argument callables doing one full solve each; their return values go to
        ``accuracy``.
    accuracy : callable
        Maps a return value to the accuracy measure (duality gap, KKT residual...).
    tol : float
        Both must reach ``accuracy <= tol``; otherwise ``AssertionError`` when
        ``require_accuracy`` (a timing of an unconverged solve is meaningless).
    threads : int or None
        BLAS threads for both contenders (``None`` leaves them as they are).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.random.default_rng(0).standard_normal((50, 5)); b = A @ np.ones(5)
    >>> res = compare_solvers(lambda: np.linalg.solve(A.T @ A, A.T @ b),
    ...                       lambda: np.linalg.lstsq(A, b, rcond=None)[0],
    ...                       lambda x: float(np.abs(x - 1).max()), tol=1e-8, repeats=2)
    >>> res.both_reached
    True
    """
    with blas_threads(threads):
        t, _, out = time_callable(solve, repeats=repeats, warmup=warmup)
        tp, _, out_p = time_callable(peer, repeats=repeats, warmup=warmup)
    cmp = TimedComparison(name, peer_name, t, tp, float(accuracy(out)), float(accuracy(out_p)), tol)
    if require_accuracy and not cmp.both_reached:
        raise AssertionError(f"accuracy not reached, timing is not comparable: {cmp}")
    return cmp
