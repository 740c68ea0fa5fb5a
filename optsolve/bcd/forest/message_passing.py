"""Exact solves of forest-structured linear systems by message passing (leaves -> root).

For a symmetric positive-definite ``A`` whose sparsity graph is a forest, Gaussian elimination
that removes leaves first creates no fill-in, so ``A x = b`` is solved in ``O(n)`` operations:
eliminate every node into its parent (leaves to roots), solve the roots, back-substitute (roots
to leaves). This is the block update of Section 5 of Nutini, Laradji & Schmidt (2022).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..._validation import as_float_array
from . import _kernels

__all__ = ["as_symmetric_csr", "solve_forest"]


def as_symmetric_csr(A, name: str = "A") -> sp.csr_matrix:
    """Return ``A`` as a canonical float64 CSR copy (summed duplicates, no stored zeros).

    Raises ``ValueError`` naming ``name`` when ``A`` is not square, holds non-finite values,
    is not symmetric, or has a non-positive diagonal entry (so it cannot be positive definite).
    """
    if sp.issparse(A):
        M = sp.csr_matrix(A, dtype=np.float64, copy=True)
    else:
        arr = as_float_array(A, name)
        if arr.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {arr.shape}")
        M = sp.csr_matrix(arr)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be square, got shape {M.shape}")
    M.sum_duplicates()
    M.eliminate_zeros()
    M.sort_indices()
    if not np.all(np.isfinite(M.data)):
        raise ValueError(f"{name} contains non-finite values")
    asym = abs(M - M.T)
    scale = float(abs(M).max()) if M.nnz else 0.0
    if asym.nnz and float(asym.max()) > 1e-10 * max(scale, 1e-300):
        raise ValueError(f"{name} must be symmetric; max |A - A.T| = {float(asym.max()):.3e}")
    diag = M.diagonal()
    if M.shape[0] and not np.all(diag > 0):
        i = int(np.flatnonzero(~(diag > 0))[0])
        raise ValueError(
            f"{name} must be positive definite; its diagonal entry {i} is {diag[i]!r}"
        )
    M.indptr = M.indptr.astype(np.int64)
    M.indices = M.indices.astype(np.int64)
    return M


def solve_forest(A, b, nodes=None) -> np.ndarray:
    """Solve ``A[nodes, nodes] x = b`` exactly when the graph of that block is a forest.

    Message passing: Gaussian elimination from the leaves to the roots, then back-substitution,
    in ``O(|nodes| k)`` operations for ``k`` right-hand sides.

    Parameters
    ----------
    A : sparse matrix or ndarray of shape (n, n)
        Symmetric positive-definite matrix.
    b : ndarray of shape (m,) or (m, k)
        Right-hand side(s), ``m = len(nodes)`` (``n`` when ``nodes`` is None).
    nodes : array-like of int, default=None
        The block; all nodes when None.

    Returns
    -------
    x : ndarray of the shape of ``b``

    Raises
    ------
    ValueError
        When the block's graph has a cycle, ``A`` is not symmetric positive definite, or the
        shapes disagree.

    References
    ----------
    Nutini, Laradji & Schmidt, "Let's Make Block Coordinate Descent Converge Faster", JMLR 2022,
    Section 5 (message passing for forest-structured blocks).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from optsolve.bcd.forest import solve_forest
    >>> A = sp.diags([-np.ones(3), 3 * np.ones(4), -np.ones(3)], [-1, 0, 1])  # a path
    >>> x = solve_forest(A, np.ones(4))
    >>> bool(np.allclose(A @ x, 1.0))
    True
    """
    M = as_symmetric_csr(A)
    n = M.shape[0]
    if nodes is None:
        block = np.arange(n, dtype=np.int64)
    else:
        block = np.asarray(nodes, dtype=np.int64).ravel()
        if block.size and (block.min() < 0 or block.max() >= n):
            raise ValueError(f"nodes must be indices in [0, {n}), got values outside")
        if np.unique(block).size != block.size:
            raise ValueError("nodes must not repeat an index")
    rhs = np.array(b, dtype=np.float64, copy=True)
    one_d = rhs.ndim == 1
    if one_d:
        rhs = rhs[:, None]
    if rhs.ndim != 2 or rhs.shape[0] != block.size:
        raise ValueError(
            f"b must have shape ({block.size},) or ({block.size}, k), got {np.shape(b)}"
        )
    if not np.all(np.isfinite(rhs)):
        raise ValueError("b contains non-finite values")
    m = block.size
    out = np.zeros_like(rhs)
    status = _kernels.forest_solve(
        M.indptr, M.indices, M.data, M.diagonal(), block, m, np.full(n, -1, np.int64), rhs, out,
        np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m), np.empty(m),
    )
    _raise_on_status(status, "the graph of A restricted to nodes")
    return out[:, 0] if one_d else out


def _raise_on_status(status: int, what: str) -> None:
    if status == _kernels.SOLVE_CYCLE:
        raise ValueError(f"{what} is not a forest: it has a cycle")
    if status == _kernels.SOLVE_NOT_PD:
        raise ValueError("A must be positive definite: a non-positive pivot appeared")
