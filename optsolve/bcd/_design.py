"""The design matrix seen by the solvers: column (CSC) and row (CSR) access, dense or sparse.

Dense matrices are kept dense for BLAS products and also exposed through CSC/CSR index arrays
(built lazily) so the same numba kernels serve both.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _kernels as K

#: store a sparse X densely when at least this fraction of its entries is non-zero...
#: (a Gram matrix costs n p²/2 BLAS multiply-adds dense against Σ_i r_i² ≈ n (p·density)²
#: scattered ones sparse, about 40x slower each here: break-even near density 0.16; measured,
#: mushrooms (0.19) runs 30-37 % faster dense, a9a (0.11) up to 3x slower)
DENSE_FRACTION = 0.15
#: ...and it has at most this many entries (8 bytes each)
DENSE_MAX_ENTRIES = 20_000_000
#: a block Gram matrix is formed from the row-major copy of the whole X (made once) when the
#: block holds at least this share of the non-zeros: a pass over the other columns costs less
#: than copying the block out by counting sort (two scattered passes)
WIDE_BLOCK_SHARE = 0.5
#: a float32 Gram matrix is only formed when n·max|x|² stays this far below float32's range
SINGLE_MAX = 1e30


class Design:
    """``X`` with optional implicit column centring (``offset``: column means to subtract).

    The implicit centring keeps a sparse ``X`` sparse while solving least squares with an
    intercept: every product is corrected by the rank-one term ``1 μᵀ``.
    """

    def __init__(self, X, offset: np.ndarray | None = None):
        self.n, self.p = X.shape
        # a sparse matrix that is mostly full and small is faster dense: BLAS products and
        # Gram matrices instead of index chasing
        #: the canonical sparse matrix a dense X was made from: its column norms and largest
        #: entry cost a pass over the non-zeros only
        self._source = None
        if sp.issparse(X) and X.nnz >= DENSE_FRACTION * self.n * self.p and (
                self.n * self.p <= DENSE_MAX_ENTRIES):
            full = _full_view(X)
            if full is None and X.format in ("csc", "csr") and X.has_canonical_format:
                self._source = X
            X = X.toarray() if full is None else full
        self.sparse = sp.issparse(X)
        #: stored entries (all n·p of a dense X)
        self.nnz = int(X.nnz) if self.sparse else self.n * self.p
        self.offset = offset
        self._max_row_nnz = None
        self._row_overlap = None
        self._rows_key = None
        self._rows = None
        self._dense32 = None
        if self.sparse:
            self.csc = sp.csc_matrix(X, dtype=np.float64)
            if not self.csc.has_canonical_format:
                # unsorted or duplicate indices (the column norms would be wrong): fixed on a
                # copy, as the arrays may be the caller's (and read-only)
                self.csc = self.csc.copy()
                self.csc.sum_duplicates()
            self._csr = None
            self.dense = None
        else:
            self.dense = np.asarray(X, dtype=np.float64)
            self.csc = None
            self._csr = None

    # -- index arrays for the numba kernels
    def csc_arrays(self):
        if self.csc is None:
            self.csc = sp.csc_matrix(self.dense)
        return self.csc.indptr, self.csc.indices, self.csc.data

    def csr_arrays(self):
        if self._csr is None:
            self._csr = self.csc.tocsr() if self.csc is not None else sp.csr_matrix(self.dense)
            if not self._csr.has_sorted_indices:
                self._csr = self._csr.copy()
                self._csr.sort_indices()
        return self._csr.indptr, self._csr.indices, self._csr.data

    def max_row_nnz(self) -> int:
        if self._max_row_nnz is None:
            indptr = self.csr_arrays()[0]
            self._max_row_nnz = int(np.max(np.diff(indptr), initial=0))
        return self._max_row_nnz

    def row_overlap(self) -> float:
        """``Σ_i r_i² / (2 nnz)`` for the row counts ``r_i`` of a sparse ``X``: the
        multiply-adds per non-zero of a Gram matrix built row by row (cached)."""
        if self._row_overlap is None:
            sq_sum = K.row_count_sq_sum(self.csc.indices, self.n)
            self._row_overlap = sq_sum / max(2.0 * self.csc.nnz, 1.0)
        return self._row_overlap

    # -- products
    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        """``(X - 1μᵀ)ᵀ v`` for ``v`` of shape (n,) or (n, K)."""
        if self.sparse and v.ndim == 1:
            # scipy's CSR product of the transposed view (no copy): the same sums in the same
            # order as the kernel below, without numba's negative-index wraparound per entry
            out = self.csc.T @ v
        elif self.sparse:
            k = v.shape[1]
            out = np.empty(self.p * k)
            K.csc_transpose_matvec(self.csc.indptr, self.csc.indices, self.csc.data,
                                   np.ascontiguousarray(v).ravel(), k, 1.0, out)
            out = out.reshape(self.p, k)
        else:
            out = self.dense.T @ v
        if self.offset is not None:
            out = out - np.multiply.outer(self.offset, v.sum(axis=0))
        return out

    def matvec(self, w: np.ndarray) -> np.ndarray:
        """``(X - 1μᵀ) w``."""
        if self.sparse and w.ndim == 1:
            out = np.empty(self.n)
            K.csc_matvec(self.csc.indptr, self.csc.indices, self.csc.data, w, out)
        else:
            out = np.asarray(self.csc @ w) if self.sparse else self.dense @ w
        if self.offset is not None:
            out = out - self.offset @ w
        return out

    def cols_matvec(self, cols: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``(X - 1μᵀ)[:, cols] d``."""
        if self.sparse:
            out = np.zeros(self.n)
            indptr, indices, data = self.csc_arrays()
            K.csc_matvec_add(indptr, indices, data, cols, d, 1, out)
        else:
            # a block step often moves a few of the block's coordinates: copy only those
            moved = d != 0
            if not moved.all():
                cols, d = cols[moved], d[moved]
            if 4 * cols.shape[0] >= self.p:
                # a wide block: one product with the whole matrix beats copying the columns
                full = np.zeros(self.p)
                full[cols] = d
                out = self.dense @ full
            else:
                out = self.dense[:, cols] @ d
        if self.offset is not None:
            out -= self.offset[cols] @ d
        return out

    def col_sq_norms(self) -> np.ndarray:
        src = self._source
        if self.sparse:
            sq = np.empty(self.p)
            K.csc_col_sq_norms(self.csc.indptr, self.csc.data, sq)
        elif src is not None and src.format == "csc":
            sq = np.empty(self.p)
            K.csc_col_sq_norms(src.indptr, np.asarray(src.data, dtype=np.float64), sq)
        elif src is not None:
            data = np.asarray(src.data, dtype=np.float64)
            sq = np.bincount(src.indices, weights=data * data, minlength=self.p)
        else:
            sq = np.einsum("ij,ij->j", self.dense, self.dense)
        if self.offset is not None:
            sq = sq - self.n * self.offset**2
        return np.maximum(sq, 0.0)

    def gram(self, cols: np.ndarray, weights: np.ndarray | None = None,
             single: bool = False) -> np.ndarray:
        """``X_Wᵀ diag(weights) X_W`` (weights default to ones; centring applied if set).

        ``single=True`` allows a dense product with non-negative weights to run in float32
        (about twice as fast; a float64 result with float32 rounding, for inexact Newton
        models). A float32 copy of ``X`` is kept once made.
        """
        k = cols.shape[0]
        if self.sparse:
            wts = np.ones(self.n) if weights is None else weights
            out = np.empty((k, k))
            if self._wide_block(cols):
                # most of X: one pass over its row-major copy (made once) skipping the other
                # columns, instead of a block copy by counting sort for every new block
                indptr, indices, data = self.csr_arrays()
                col_pos = np.full(self.p, -1, dtype=np.int64)
                col_pos[cols] = np.arange(k)
                m = self.max_row_nnz()
                K.weighted_gram_csr(indptr, indices, data, wts, col_pos, k,
                                    np.empty(m, dtype=np.int64), np.empty(m), out)
            else:
                r_ptr, r_pos, r_val = self._block_rows(cols)
                K.weighted_gram_rows(r_ptr, r_pos, r_val, wts, k, out)
        else:
            if weights is None:
                XW = self.dense[:, cols] if k < self.p else self.dense
                out = XW.T @ XW
            elif weights.min(initial=0.0) >= 0.0:
                # BᵀB with B = D^½ X_W is one symmetric rank-k update (numpy calls syrk for
                # ``B.T @ B``): half the flops of a general product, 2-5x faster measured
                src = self._single_copy() if single else None
                if src is None:
                    src = self.dense
                sw = np.sqrt(weights).astype(src.dtype)[:, None]
                if k < self.p:
                    B = src[:, cols]  # fancy indexing: a copy, scaled in place
                    B *= sw
                else:
                    B = sw * src
                out = (B.T @ B).astype(np.float64, copy=False)
            else:
                XW = self.dense[:, cols] if k < self.p else self.dense
                out = XW.T @ (weights[:, None] * XW)
        if self.offset is not None:
            mu = self.offset[cols]
            if weights is None:
                out -= self.n * np.outer(mu, mu)
            else:  # (X - 1μᵀ)ᵀ D (X - 1μᵀ)
                xd = self.rmatvec_raw_cols(cols, weights)
                sw = weights.sum()
                out += -np.outer(xd, mu) - np.outer(mu, xd) + sw * np.outer(mu, mu)
        return out

    def _single_copy(self):
        """float32 copy of a dense X (made once), None when its entries would overflow a
        float32 Gram matrix."""
        if self._dense32 is None:
            values = self.dense if self._source is None else self._source.data
            big = max(float(values.max(initial=0.0)), -float(values.min(initial=0.0))) ** 2 * self.n
            self._dense32 = self.dense.astype(np.float32) if big < SINGLE_MAX else False
        return self._dense32 if self._dense32 is not False else None

    def _wide_block(self, cols) -> bool:
        """Whether the block ``cols``, not the cached one, holds at least
        ``WIDE_BLOCK_SHARE`` of the non-zeros."""
        if self._rows_key is not None and np.array_equal(self._rows_key, cols):
            return False
        indptr = self.csc.indptr
        nnz = float(np.sum(indptr[cols + 1] - indptr[cols]))
        return nnz >= WIDE_BLOCK_SHARE * self.csc.nnz

    def _block_rows(self, cols):
        """Row-major copy of ``X[:, cols]`` (cached for the last block: Newton iterations on
        an unchanged working set reuse it)."""
        if self._rows_key is not None and np.array_equal(self._rows_key, cols):
            return self._rows
        indptr, indices, data = self.csc_arrays()
        nnz = int(np.sum(indptr[cols + 1] - indptr[cols]))
        r_ptr = np.empty(self.n + 1, dtype=np.int64)
        r_pos = np.empty(nnz, dtype=np.int64)
        r_val = np.empty(nnz)
        K.csc_cols_to_csr(indptr, indices, data, cols, self.n, r_ptr, r_pos, r_val)
        self._rows_key, self._rows = cols.copy(), (r_ptr, r_pos, r_val)
        return self._rows

    def rmatvec_raw_cols(self, cols, v):
        """``X[:, cols]ᵀ v`` without centring."""
        if self.sparse:
            return np.asarray(self.csc[:, cols].T @ v)
        return self.dense[:, cols].T @ v


def _full_view(X):
    """The dense ``X`` as a view of the data array of a CSC or CSR matrix that stores every
    entry once, in order (an F- or C-ordered array: no copy); None for any other matrix."""
    n, p = X.shape
    if X.format not in ("csc", "csr") or X.nnz != n * p or X.dtype != np.float64:
        return None
    # nnz = n·p and canonical (sorted, no duplicates): every column (row) holds all its entries
    if not X.has_canonical_format:
        return None
    if X.format == "csc":
        return X.data.reshape(p, n).T
    return X.data.reshape(n, p)
