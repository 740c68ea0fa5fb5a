"""numba kernels of the sketch-and-project inner solver (arrays and scalars only).

Each kernel has a plain numpy reference in ``tests/constrained/test_kernels.py``.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def kaczmarz_sweep(indptr, indices, data, row_norms_sq, rhs, rows, z):  # pragma: no cover
    """Randomized Kaczmarz steps on the CSR matrix ``K``; updates ``z`` in place.

    For each ``i`` in ``rows`` (pre-drawn, so the kernel holds no random state):
    ``z <- z + (rhs[i] - K[i] @ z) / ||K[i]||^2 * K[i]``, the sketch-and-project step with
    the sketch ``S = e_i`` (Gower & Richtárik 2015, Sec. 3.3). Rows with zero norm are skipped.
    Returns the number of stored entries touched (for the flop count).
    """
    touched = 0
    for t in range(rows.shape[0]):
        i = rows[t]
        nrm = row_norms_sq[i]
        if nrm == 0.0:
            continue
        start = indptr[i]
        stop = indptr[i + 1]
        s = 0.0
        for p in range(start, stop):
            s += data[p] * z[indices[p]]
        alpha = (rhs[i] - s) / nrm
        for p in range(start, stop):
            z[indices[p]] += alpha * data[p]
        touched += stop - start
    return touched
