"""Observed entries: turning what the user passed into one canonical sparse pattern.

Accepted forms: a scipy.sparse matrix (every stored entry is observed, explicit zeros
included), a dense array with NaN marking the missing entries, or triplets
``(rows, cols, values)`` with a ``shape``. Nothing is densified here.

Duplicate ``(row, col)`` pairs are refused (a rating observed twice is ambiguous: summing, as
scipy's COO conversion silently does, is never right for ratings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Observations", "from_matrix", "from_triplets"]


@dataclass
class Observations:
    """Observed entries of an ``shape`` matrix, sorted by (row, col), held as CSR and CSC."""

    rows: np.ndarray  # int64, entry row index (sorted by row, then column)
    cols: np.ndarray  # int64
    values: np.ndarray  # float64
    shape: tuple[int, int]

    #: the user's canonical CSR matrix when that was the input (shared, never written to)
    source_csr: sp.csr_matrix | None = None

    @property
    def nnz(self) -> int:
        return int(self.values.shape[0])

    def csr(self) -> sp.csr_matrix:
        """The observations as CSR (the input matrix itself when it was canonical CSR)."""
        if self.source_csr is not None:
            return self.source_csr
        m = sp.csr_matrix((self.values, (self.rows, self.cols)), shape=self.shape)
        m.has_sorted_indices = True
        return m

    def csc_as_csr_of_transpose(self) -> sp.csr_matrix:
        """The transpose as CSR (columns as rows), for the V half-step."""
        m = self.csr().T.tocsr()
        m.sort_indices()
        return m

    def subset(self, mask: np.ndarray) -> Observations:
        """The observations where ``mask`` holds (a fresh pattern, not the source matrix)."""
        return Observations(self.rows[mask], self.cols[mask], self.values[mask], self.shape)


def _canonical(rows, cols, values, shape, name: str) -> Observations:
    if values.size and not np.all(np.isfinite(values)):
        n_nan = int(np.isnan(values).sum())
        n_inf = int(np.isinf(values).sum())
        raise ValueError(
            f"{name} has non-finite observed values ({n_nan} NaN, {n_inf} inf); an observed "
            "entry must be a number (leave missing entries out of the sparse pattern)"
        )
    m, n = shape
    key = rows * n + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    dup = np.flatnonzero(key[1:] == key[:-1])
    if dup.size:
        i, j = divmod(int(key[dup[0]]), n)
        raise ValueError(
            f"{name} has {dup.size} duplicate (row, col) entries, e.g. ({i}, {j}); each entry "
            "may be observed once (average or deduplicate them before fitting)"
        )
    return Observations(
        np.ascontiguousarray(rows[order], dtype=np.int64),
        np.ascontiguousarray(cols[order], dtype=np.int64),
        np.ascontiguousarray(values[order], dtype=np.float64),
        (int(m), int(n)),
    )


def from_matrix(X, name: str = "X") -> Observations:
    """Observations of a sparse matrix (stored entries) or a dense array (non-NaN entries).

    ``X`` must already be validated as 2-D; dense infinities are refused, NaN means missing.
    """
    if sp.issparse(X):
        if X.format == "csr" and X.has_canonical_format:  # sorted, no duplicates: no sort
            values = np.asarray(X.data, dtype=np.float64)
            if values.size and not np.all(np.isfinite(values)):
                return _canonical(np.zeros(0, np.int64), np.zeros(0, np.int64), values, X.shape,
                                  name)  # raises the non-finite error
            rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
            cols = np.asarray(X.indices, dtype=np.int64)
            return Observations(
                rows, cols, values, (int(X.shape[0]), int(X.shape[1])),
                source_csr=X if X.dtype == np.float64 else None,
            )
        coo = sp.coo_matrix(X)
        rows = coo.row.astype(np.int64)
        cols = coo.col.astype(np.int64)
        values = np.asarray(coo.data, dtype=np.float64)
        return _canonical(rows, cols, values, coo.shape, name)
    arr = np.asarray(X, dtype=np.float64)
    if np.isinf(arr).any():
        raise ValueError(
            f"{name} contains infinite values; NaN marks a missing entry, inf is invalid"
        )
    rows, cols = np.nonzero(~np.isnan(arr))
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    return _canonical(rows, cols, arr[rows, cols], arr.shape, name)


def _index_array(a, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def check_indices(rows, cols, shape) -> tuple[np.ndarray, np.ndarray]:
    """Integer index arrays of equal length inside ``shape``, or a ValueError naming them."""
    rows = _index_array(rows, "rows")
    cols = _index_array(cols, "cols")
    if rows.shape != cols.shape:
        raise ValueError(
            f"rows and cols must have the same length, got {rows.size} and {cols.size}"
        )
    for arr, name, size in ((rows, "rows", shape[0]), (cols, "cols", shape[1])):
        if arr.size and (arr.min() < 0 or arr.max() >= size):
            bad = int(arr[(arr < 0) | (arr >= size)][0])
            raise ValueError(f"{name} index {bad} is out of range for a dimension of size {size}")
    return rows, cols


def from_triplets(rows, cols, values, shape) -> Observations:
    """Observations from ``(rows, cols, values)`` triplets of a matrix of the given shape."""
    if shape is None:
        raise ValueError("shape is required with the (rows, cols, values) form")
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be a pair of positive integers, got {shape}")
    rows, cols = check_indices(rows, cols, shape)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != rows.shape:
        raise ValueError(
            f"values must have one entry per (row, col) pair: got {values.size} values for "
            f"{rows.size} pairs"
        )
    return _canonical(rows, cols, values, shape, "values")
