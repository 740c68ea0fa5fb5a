"""Plain numpy references of the completion kernels, served as fixtures (test files cannot
import each other or this file under --import-mode=importlib)."""

import numpy as np
import pytest
import scipy.sparse as sp


def _ridge_rows_reference(X, F, alpha, col_offset=None, shift=0.0):
    """Row-by-row ``lstsq`` of the ridge problems solved by the row kernels."""
    X = sp.csr_matrix(X)
    k = F.shape[1]
    col_offset = np.zeros(F.shape[0]) if col_offset is None else col_offset
    out = np.zeros((X.shape[0], k))
    for i in range(X.shape[0]):
        idx = X.indices[X.indptr[i] : X.indptr[i + 1]]
        if idx.size == 0:
            continue
        y = X.data[X.indptr[i] : X.indptr[i + 1]] - shift - col_offset[idx]
        A = np.vstack([F[idx], np.sqrt(alpha) * np.eye(k)])
        out[i] = np.linalg.lstsq(A, np.concatenate([y, np.zeros(k)]), rcond=None)[0]
    return out


def _residuals_reference(X, U, V, row_bias, col_bias, mean):
    coo = sp.coo_matrix(X)
    fit = mean + row_bias[coo.row] + col_bias[coo.col] + np.sum(U[coo.row] * V[coo.col], axis=1)
    return coo.data - fit


def _rel_error(U, V, U_true, V_true):
    M = U_true @ V_true.T
    return np.linalg.norm(U @ V.T - M) / np.linalg.norm(M)


@pytest.fixture(scope="session")
def recovery_problem():
    """Incoherent rank-4 300 x 250 matrix, p = 4 k log(n) / n (about 0.36)."""
    from optsolve.datasets import make_incoherent_low_rank

    m, n, k = 300, 250, 4
    p = 4 * k * np.log(n) / n
    X, U, V = make_incoherent_low_rank(m, n, k, p, random_state=0)
    return X, U, V, k


@pytest.fixture(scope="session")
def ridge_rows_reference():
    return _ridge_rows_reference


@pytest.fixture(scope="session")
def residuals_reference():
    return _residuals_reference


@pytest.fixture(scope="session")
def rel_error():
    return _rel_error
