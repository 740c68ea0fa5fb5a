"""Spectral initialization of alternating minimization (Jain, Netrapalli & Sanghavi 2013, §3).

Top-``rank`` SVD of the rescaled sampled matrix ``(1/p) P_Omega(M)`` computed on the sparse
pattern (randomized SVD: only products with the CSR matrix, never a dense m x n array), then
clipping of the rows whose norm exceeds the incoherence threshold, then QR.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

from .._validation import as_float_array, check_positive_int, check_scalar_in_range
from .sketched_ls import canonical_observations

__all__ = ["INIT_INCOHERENCE", "spectral_init"]

#: incoherence parameter mu of the clipping threshold 2 sqrt(mu k / m) (JNS 2013, Alg. 2
#: step 3; Gu et al. 2024, Alg. 1 "clip"); a random orthonormal basis has row norms near
#: sqrt(k / m), so this only acts on rows that concentrate mass
INIT_INCOHERENCE = 4.0


def spectral_init(
    X: sp.csr_matrix,
    rank: int,
    *,
    incoherence: float = INIT_INCOHERENCE,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clipped, orthonormalized top singular subspace of ``(1/p) P_Omega(M)``.

    Parameters
    ----------
    X : sparse matrix of shape (m, n)
        Observed entries (already centred when biases are fitted).
    rank : int
        Target rank ``k``.
    incoherence : float
        ``mu`` in the clipping threshold ``2 sqrt(mu k / m)``.
    random_state : int, RandomState or None
        Seed of the randomized SVD.

    Returns
    -------
    U0 : ndarray of shape (m, rank)
        Orthonormal columns, rows clipped to the incoherence threshold before the QR.
    sigma : ndarray of shape (rank,)
        Singular values of ``(1/p) P_Omega(M)``.
    W : ndarray of shape (n, rank)
        Right singular vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.datasets import make_incoherent_low_rank
    >>> from optsolve.completion import spectral_init
    >>> X, _, _ = make_incoherent_low_rank(60, 50, 2, 0.5, random_state=0)
    >>> U0, sigma, W = spectral_init(X, 2, random_state=0)
    >>> U0.shape, bool(np.allclose(U0.T @ U0, np.eye(2)))
    ((60, 2), True)
    """
    if sp.issparse(X):
        Y = canonical_observations(X, "X").copy()
    else:
        arr = as_float_array(X, "X")
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D, got an array of shape {arr.shape}")
        Y = canonical_observations(sp.csr_matrix(arr), "X").copy()
    m, n = Y.shape
    rank = check_positive_int(rank, "rank")
    if rank > min(m, n):
        raise ValueError(f"rank must be at most min(X.shape) = {min(m, n)}, got {rank}")
    check_scalar_in_range(incoherence, "incoherence", low=0.0, include_low=False)
    p = max(Y.nnz, 1) / (m * n)
    Y.data /= p
    U, sigma, Wt = randomized_svd(Y, rank, n_iter=7, random_state=random_state)
    threshold = 2.0 * np.sqrt(incoherence * rank / m)
    norms = np.linalg.norm(U, axis=1)
    scale = np.minimum(1.0, threshold / np.maximum(norms, 1e-300))
    U0, _ = np.linalg.qr(U * scale[:, None])
    return U0, sigma, Wt.T
