"""Supernodal multifrontal LDLᵀ with a nested-dissection ordering, for the quasi-definite
Newton matrices of large sparse problems.

QDLDL (the default backend of :mod:`._ldl`) factorizes column by column with an AMD ordering;
on the 2-D grids of discretized PDEs its work grows like ``n^1.7`` and runs at scalar speed.
This backend orders by nested dissection (METIS ``NodeND`` through ``pymetis``; George 1973:
``O(n^1.5)`` flops and ``O(n log n)`` fill on a 2-D grid, the optimum), groups the columns
into supernodes and eliminates each as a dense frontal matrix whose Schur complement update is
one BLAS matrix product (the multifrontal method, Duff & Reid 1983; kernels in
:mod:`._ldl_kernels`). It needs the optional ``pymetis`` (MIT and Apache-2.0:
``pip install optsolve[sparse]``); without it :mod:`._ldl` keeps QDLDL.

Like QDLDL it does not pivot: the factorization exists for every ordering of a quasi-definite
matrix (Vanderbei 1995) and its pivots give the inertia (Sylvester's law of inertia); a zero
or non-finite pivot makes the constructor raise ``ValueError``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _ldl_kernels as kern

__all__ = ["SupernodalLDL", "nested_dissection"]


def nested_dissection(A: sp.spmatrix) -> np.ndarray:
    """METIS' nested-dissection ordering of the symmetric pattern of ``A``: ``perm`` with
    ``A[perm][:, perm]`` the matrix to factorize."""
    import pymetis

    S = sp.csr_matrix(A, copy=True)
    S.data = np.ones_like(S.data)
    S = (S + S.T).tocsr()
    S.setdiag(0)
    S.eliminate_zeros()
    S.sort_indices()
    adjacency = pymetis.CSRAdjacency(S.indptr.astype(np.int64), S.indices.astype(np.int64))
    perm, _ = pymetis.nested_dissection(adjacency=adjacency)
    return np.asarray(perm, dtype=np.int64)


def _permuted_csc(A: sp.csc_matrix, perm: np.ndarray) -> sp.csc_matrix:
    P = A[perm][:, perm].tocsc()
    P.sort_indices()
    return P


class SupernodalLDL:
    """``P A Pᵀ = L D Lᵀ`` of a symmetric sparse ``A`` without pivoting.

    Parameters
    ----------
    A : sparse matrix
        Symmetric (both triangles stored).
    perm : ndarray, optional
        A fill-reducing ordering; nested dissection (:func:`nested_dissection`) if None.

    Attributes
    ----------
    d : ndarray
        The pivots ``D`` (in the permuted order); their signs are ``A``'s inertia.
    nnz_L, flops : float
        Entries stored for ``L`` (supernodal, explicit zeros of amalgamation included) and
        the factorization's multiply-adds ``Σ_j nnz(L[:, j])²``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_matrix(np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, -2.0]]))
    >>> F = SupernodalLDL(A, perm=np.arange(3))
    >>> bool(np.allclose(A @ F.solve(np.ones(3)), 1.0)), int(np.sum(F.d < 0))
    (True, 1)
    """

    def __init__(self, A, perm: np.ndarray | None = None):
        A = sp.csc_matrix(A)
        A.sum_duplicates()
        N = A.shape[0]
        if perm is None:
            perm = nested_dissection(A)
        C = _permuted_csc(A, perm)
        # a postorder of the elimination tree makes every supernode's columns consecutive
        post = kern.postorder(kern.etree(C.indptr, C.indices))
        if not np.array_equal(post, np.arange(N)):
            perm = perm[post]
            C = _permuted_csc(A, perm)
        Ap, Ai = C.indptr.astype(np.int64), C.indices.astype(np.int64)
        parent = kern.etree(Ap, Ai)
        count = kern.column_counts(Ap, Ai, parent)
        first, ncols, nrows = kern.supernodes(parent, count)
        rowptr, rowind, sparent, ok = kern.supernode_structure(Ap, Ai, parent, first, ncols,
                                                               nrows)
        if not ok:  # pragma: no cover - an inconsistency of the symbolic analysis
            raise RuntimeError("supernodal symbolic analysis failed")
        lptr = np.zeros(first.size + 1, np.int64)
        np.cumsum(ncols * nrows, out=lptr[1:])
        Lt, d, ok = kern.multifrontal_ldl(
            Ap, Ai, C.data.astype(np.float64), first, ncols, rowptr, rowind, sparent, lptr,
            int(kern.stack_peak(ncols, nrows, sparent)), int(nrows.max(initial=1)))
        if not ok:
            raise ValueError("zero pivot: the matrix has no LDLᵀ factorization in this order")
        self.perm, self.d = perm, d
        self._sym = (first, ncols, rowptr, rowind, lptr)
        self._Lt = Lt
        self.n_supernodes = int(first.size)
        self.nnz_L = float(np.sum(ncols * nrows - ncols * (ncols - 1) / 2.0))
        self.flops = float(np.sum(count.astype(float) ** 2))

    def solve(self, b: np.ndarray) -> np.ndarray:
        """``A⁻¹ b``."""
        x = np.array(b, dtype=np.float64)[self.perm]
        kern.supernodal_solve(*self._sym, self._Lt, self.d, x)
        out = np.empty_like(x)
        out[self.perm] = x
        return out
