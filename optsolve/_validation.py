"""Shared input checks. Every message names the argument and says what was wrong."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "check_array_finite",
    "check_consistent_rows",
    "check_in_choices",
    "check_positive_int",
    "check_scalar_in_range",
    "check_vector",
]


def check_array_finite(a: Any, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``a`` (dense or sparse) holds NaN or inf."""
    data = a.data if sp.issparse(a) else np.asarray(a)
    # a finite sum proves every entry finite without a boolean temporary (an overflowing
    # sum of finite entries falls through to the exact test)
    if data.dtype.kind not in "fc":
        return
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(data)
    if not np.isfinite(total) and not np.all(np.isfinite(data)):
        n_nan = int(np.isnan(data).sum())
        n_inf = int(np.isinf(data).sum())
        raise ValueError(f"{name} contains non-finite values ({n_nan} NaN, {n_inf} inf)")


def check_vector(a: Any, name: str, *, size: int | None = None, dtype=np.float64) -> np.ndarray:
    """Return ``a`` as a finite 1-D array of the requested size, or raise naming ``name``."""
    arr = np.asarray(a, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {arr.shape[0]}")
    check_array_finite(arr, name)
    return arr


def check_consistent_rows(**arrays: Any) -> int:
    """Check that all given arrays have the same number of rows; return it."""
    sizes = {k: (v.shape[0] if hasattr(v, "shape") else len(v)) for k, v in arrays.items()}
    if len(set(sizes.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in sizes.items())
        raise ValueError(f"inconsistent numbers of rows: {desc}")
    return next(iter(sizes.values()))


def check_scalar_in_range(
    x: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    include_low: bool = True,
    include_high: bool = True,
) -> float:
    """Return ``x`` as a finite float inside the given interval, or raise naming ``name``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    bad_low = low is not None and (x < low if include_low else x <= low)
    bad_high = high is not None and (x > high if include_high else x >= high)
    if bad_low or bad_high:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        brackets = ("[" if include_low else "(", "]" if include_high else ")")
        raise ValueError(f"{name} must be in {brackets[0]}{lo}, {hi}{brackets[1]}, got {x}")
    return x


def check_positive_int(x: Any, name: str, *, allow_zero: bool = False) -> int:
    """Return ``x`` as an int > 0 (or >= 0), or raise naming ``name``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}")
    if x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {x}")
    return int(x)


def check_in_choices(x: Any, name: str, choices) -> Any:
    """Raise ``ValueError`` naming ``name`` and the valid choices when ``x`` is not one of them."""
    if x not in choices:
        raise ValueError(f"{name} must be one of {sorted(map(str, choices))}, got {x!r}")
    return x
