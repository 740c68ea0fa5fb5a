"""Shared input checks. Every message names the argument and says what was wrong."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CheckedOptions",
    "as_float_array",
    "check_allocation",
    "check_array_finite",
    "check_consistent_rows",
    "check_dense_size",
    "check_in_choices",
    "check_positive_int",
    "check_scalar_in_range",
    "check_vector",
    "option",
    "validate_options",
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


#: bytes a method may allocate for a dense copy of (or a dense matrix derived from) a sparse
#: input before :func:`check_dense_size` refuses; environment variable
#: ``OPTSOLVE_DENSE_LIMIT_BYTES`` overrides it
DENSE_LIMIT_BYTES = 2 * 1024**3


def dense_limit_bytes() -> int:
    """The limit of :func:`check_dense_size`: ``OPTSOLVE_DENSE_LIMIT_BYTES`` or
    ``DENSE_LIMIT_BYTES`` (2 GiB)."""
    env = os.environ.get("OPTSOLVE_DENSE_LIMIT_BYTES")
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise ValueError(
                f"OPTSOLVE_DENSE_LIMIT_BYTES must be a number of bytes, got {env!r}") from None
    return DENSE_LIMIT_BYTES


def check_dense_size(shape: tuple, name: str, what: str, *, itemsize: int = 8) -> None:
    """Refuse, before allocating, a dense array of ``shape`` built from the input ``name``
    when it would exceed :func:`dense_limit_bytes`.

    ``what`` says what the method builds densely and why (the message names the argument, the
    bytes needed and how to raise the limit). Raises ``ValueError``.

    Examples
    --------
    >>> check_dense_size((10, 10), "X", "a dense copy")
    >>> check_dense_size((10**6, 10**6), "X", "a dense copy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: X: a dense copy would need 7.28 TiB ...
    """
    need = int(itemsize)
    for s in shape:
        need *= int(s)
    check_allocation(need, name, what,
                     detail=f"a dense array of shape {tuple(int(s) for s in shape)}")


def check_allocation(nbytes: int, name: str, what: str, *, detail: str = "") -> None:
    """Refuse, before allocating, ``nbytes`` derived from the input ``name`` beyond
    :func:`dense_limit_bytes` (a ``ValueError`` naming ``name``, ``what`` and the bytes; e.g.
    the fill-in of a sparse Gram matrix). :func:`check_dense_size` for a dense shape."""
    limit = dense_limit_bytes()
    if nbytes > limit:
        extra = f"{detail}; " if detail else ""
        raise ValueError(
            f"{name}: {what} would need {_human(int(nbytes))} ({extra}limit {_human(limit)}, "
            "set OPTSOLVE_DENSE_LIMIT_BYTES to raise it)")


def _human(n: int) -> str:
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def as_float_array(a: Any, name: str, *, sparse_ok: bool = False) -> Any:
    """``a`` as a float64 ndarray, or raise naming ``name`` (strings, ragged lists, objects
    that are not numbers; sparse input unless ``sparse_ok``, which returns it unchanged)."""
    if sp.issparse(a):
        if sparse_ok:
            return a
        raise TypeError(f"{name} must be a dense array, got a sparse {a.format} matrix")
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold real numbers ({exc})") from None


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


def option(kind: str, *, low: float | None = None, high: float | None = None,
           include_low: bool = True, include_high: bool = True, choices=(),
           allow_none: bool = False) -> Callable[[Any, str], Any]:
    """A checker ``check(value, name) -> value`` for one solver option.

    ``kind`` is ``'real'`` (finite, in ``[low, high]`` with the given closedness), ``'int'``
    (integral, ``>= low``), ``'bool'``, ``'choice'`` (one of ``choices``) or ``'any'``;
    ``allow_none`` lets ``None`` through (a "computed default").

    Examples
    --------
    >>> option("real", low=0.0, include_low=False)(0.5, "options['eta']")
    0.5
    """

    def check(value: Any, name: str) -> Any:
        if value is None and allow_none:
            return None
        if kind == "real":
            return check_scalar_in_range(value, name, low=low, high=high,
                                         include_low=include_low, include_high=include_high)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
            if low is not None and value < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")
            return int(value)
        if kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
            return bool(value)
        if kind == "choice":
            if not isinstance(value, str) or value not in choices:
                raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
            return value
        return value

    return check


def validate_options(options: Any, defaults: Mapping[str, Any],
                     checks: Mapping[str, Callable[[Any, str], Any]], solver: str,
                     name: str = "options") -> dict:
    """``defaults`` updated by the user's ``options``, each checked like a keyword argument.

    Unknown keys, wrong types and out-of-range values raise (``ValueError`` / ``TypeError``
    naming ``options['key']``) before any work starts.

    Examples
    --------
    >>> checks = {"eta": option("real", low=0.0, high=1.0)}
    >>> validate_options({"eta": 0.1}, {"eta": 0.5}, checks, "demo")
    {'eta': 0.1}
    """
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise TypeError(f"{name} must be a dict or None, got {type(options).__name__}")
    unknown = sorted(map(str, set(options) - set(defaults)))
    if unknown:
        raise ValueError(f"{name}: unknown option(s) {unknown} for {solver}; known options: "
                         f"{sorted(defaults)}")
    out = dict(defaults)
    for key, value in options.items():
        check = checks.get(key)
        out[key] = check(value, f"{name}[{key!r}]") if check is not None else value
    return out


class CheckedOptions:
    """A solver's option registry: defaults plus one checker per option (see :func:`option`).

    ``resolve(options)`` returns the defaults updated by ``options`` after
    :func:`validate_options` (unknown keys, wrong types, out-of-range values raise).

    Examples
    --------
    >>> opts = CheckedOptions("demo", {"eta": 0.5}, {"eta": option("real", low=0.0)})
    >>> opts.resolve({"eta": 0.1})["eta"]
    0.1
    """

    def __init__(self, solver: str, defaults: Mapping[str, Any],
                 checks: Mapping[str, Callable[[Any, str], Any]]):
        self.solver = solver
        self.defaults = dict(defaults)
        self.checks = dict(checks)

    def resolve(self, options: Any, name: str = "options") -> dict:
        return validate_options(options, self.defaults, self.checks, self.solver, name)


def as_generator(random_state: Any, name: str = "random_state") -> np.random.Generator:
    """A ``numpy.random.Generator`` from None, an int, a SeedSequence, a Generator (used as is)
    or a legacy ``RandomState`` (which seeds a new Generator); anything else is a ``TypeError``
    naming ``name``."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int64).max, dtype=np.int64))
    if isinstance(random_state, bool):
        raise TypeError(f"{name} must be None, an int >= 0, a SeedSequence or a numpy "
                        f"Generator, got {random_state!r}")
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be None, an int >= 0, a SeedSequence or a numpy "
                        f"Generator, got {random_state!r}") from exc
