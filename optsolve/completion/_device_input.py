"""Observed entries given as CuPy arrays: one canonical float64 CSR matrix on the device.

The device counterpart of :mod:`._observations` (scikit-learn's validation would copy CuPy
input to the host): a ``cupyx.scipy.sparse`` matrix (stored entries observed), a dense CuPy
array with NaN for missing entries, or ``(rows, cols, values)`` triplets. Each check reads at
most one scalar back to the host; nothing here runs inside the sweep loop.
"""

from __future__ import annotations

import numpy as np

from .._backend import get_namespace, to_float

__all__ = ["device_csr", "device_triplets_csr", "empty_lines"]


def _csr_from_sorted(cp, rows, cols, values, shape):
    """CSR from entries already sorted by (row, col), duplicate-free."""
    import cupyx.scipy.sparse as cpsp

    indptr = cp.searchsorted(rows, cp.arange(shape[0] + 1, dtype=rows.dtype), side="left")
    return cpsp.csr_matrix(
        (values.astype(cp.float64), cols.astype(cp.int32 if shape[1] < 2**31 else cp.int64),
         indptr.astype(cp.int64 if rows.size >= 2**31 - 1 else cp.int32)),
        shape=shape,
    )


def _check_finite(cp, values, name: str) -> None:
    if values.size and not to_float(cp.isfinite(values).all()):
        raise ValueError(
            f"{name} has non-finite observed values; an observed entry must be a number "
            "(leave missing entries out of the sparse pattern)"
        )


def device_csr(X, name: str = "X"):
    """Canonical float64 ``cupyx.scipy.sparse.csr_matrix`` of the observations in ``X``.

    ``X`` is never modified: a conversion that would sort or retype it works on a copy.
    """
    import cupyx.scipy.sparse as cpsp

    cp = get_namespace(X)
    if cpsp.issparse(X):
        if X.ndim != 2:  # pragma: no cover - cupyx sparse matrices are 2-D
            raise ValueError(f"{name} must be 2-D")
        csr = X.tocsr()
        if csr is X and (csr.dtype != cp.float64 or not csr.has_canonical_format):
            csr = csr.copy()
        if csr.dtype != cp.float64:
            csr = csr.astype(cp.float64)
        if not csr.has_canonical_format:
            nnz = csr.nnz
            csr.sum_duplicates()
            if csr.nnz != nnz:
                raise ValueError(
                    f"{name} has {nnz - csr.nnz} duplicate (row, col) entries; each entry may "
                    "be observed once (average or deduplicate them before fitting)"
                )
        _check_finite(cp, csr.data, name)
        return csr
    X = cp.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {X.shape}")
    X = X.astype(cp.float64, copy=False)
    if X.size and to_float(cp.isinf(X).any()):
        raise ValueError(f"{name} contains infinite values; NaN marks a missing entry, inf is "
                         "invalid")
    rows, cols = cp.nonzero(~cp.isnan(X))  # row-major order: already sorted
    return _csr_from_sorted(cp, rows, cols, X[rows, cols], X.shape)


def device_triplets_csr(rows, cols, values, shape):
    """Canonical device CSR from ``(rows, cols, values)`` CuPy triplets of a ``shape`` matrix."""
    cp = get_namespace(rows, cols, values)
    if shape is None:
        raise ValueError("shape is required with the (rows, cols, values) form")
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be a pair of positive integers, got {shape}")
    rows, cols, values = cp.asarray(rows), cp.asarray(cols), cp.asarray(values)
    for arr, nm in ((rows, "rows"), (cols, "cols")):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise TypeError(f"{nm} must be a 1-D array of integer indices, got dtype "
                            f"{arr.dtype} and shape {arr.shape}")
    if rows.shape != cols.shape or values.shape != rows.shape:
        raise ValueError(
            f"rows, cols and values must have the same length, got {rows.size}, {cols.size} "
            f"and {values.size}"
        )
    rows, cols = rows.astype(cp.int64), cols.astype(cp.int64)
    if rows.size:
        bad = to_float(((rows < 0) | (rows >= shape[0]) | (cols < 0) | (cols >= shape[1])).sum())
        if bad:
            raise ValueError(f"{int(bad)} (rows, cols) index pair(s) are out of range for shape "
                             f"{shape}")
    _check_finite(cp, values, "values")
    key = rows * shape[1] + cols
    order = cp.argsort(key)
    key = key[order]
    if key.size > 1:
        n_dup = to_float((key[1:] == key[:-1]).sum())
        if n_dup:
            raise ValueError(
                f"values has {int(n_dup)} duplicate (row, col) entries; each entry may be "
                "observed once (average or deduplicate them before fitting)"
            )
    return _csr_from_sorted(cp, rows[order], cols[order], values[order], shape)


def empty_lines(csr) -> tuple[int, int]:
    """Numbers of rows and of columns without any observation (two host reads)."""
    cp = get_namespace(csr.data)
    n = csr.shape[1]
    empty_rows = int(to_float((cp.diff(csr.indptr) == 0).sum()))
    seen = cp.zeros(n, dtype=cp.int32)
    seen[csr.indices] = 1
    empty_cols = n - int(to_float(seen.sum()))
    return empty_rows, empty_cols


def device_indices(cp, rows, cols, shape) -> tuple:
    """Integer entry coordinates on the device, inside ``shape`` (one host read)."""
    rows = cp.asarray(rows)
    cols = cp.asarray(cols)
    for arr, nm in ((rows, "rows"), (cols, "cols")):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise TypeError(f"{nm} must be a 1-D array of integer indices, got dtype "
                            f"{arr.dtype} and shape {arr.shape}")
    if rows.shape != cols.shape:
        raise ValueError(
            f"rows and cols must have the same length, got {rows.size} and {cols.size}"
        )
    if rows.size and to_float(((rows < 0) | (rows >= shape[0]) | (cols < 0)
                               | (cols >= shape[1])).any()):
        raise ValueError(f"an entry index is out of range for a matrix of shape {shape}")
    return rows.astype(np.int64), cols.astype(np.int64)
