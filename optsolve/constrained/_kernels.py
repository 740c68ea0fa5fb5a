"""numba kernels of the sketch-and-project inner solver (arrays and scalars only).

Each kernel has a plain numpy reference in ``tests/constrained/test_kernels.py``.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def kaczmarz_run(indptr, indices, data, row_norms_sq, rhs, rows, z, r, check_every,
                 target_sq):  # pragma: no cover
    """Kaczmarz steps over ``rows`` with an in-kernel stopping test; ``z`` and ``r`` in place.

    Step ``t`` is the sketch-and-project step with ``S = e_i``, ``i = rows[t]`` (pre-drawn, so
    the kernel holds no random state): ``z <- z + (rhs[i] - K[i] @ z) / ||K[i]||^2 * K[i]``
    (Gower & Richtárik 2015, Sec. 3.3); rows of zero norm are skipped.
    Every ``check_every`` steps, and after the last one, the residual ``r = K z - rhs`` is
    recomputed; the run stops as soon as ``‖r‖² <= target_sq``. Returns
    ``(steps, touched, checks, ‖r‖²)``: steps done, stored entries touched by the steps, and
    the number of residual evaluations (each touches every entry of ``K``).
    """
    n_rows = indptr.shape[0] - 1
    touched = 0
    checks = 0
    res_sq = 0.0
    steps = 0
    total = rows.shape[0]
    while steps < total:
        stop = min(total, steps + check_every)
        for t in range(steps, stop):
            i = rows[t]
            nrm = row_norms_sq[i]
            if nrm == 0.0:
                continue
            start = indptr[i]
            end = indptr[i + 1]
            s = 0.0
            for p in range(start, end):
                s += data[p] * z[indices[p]]
            alpha = (rhs[i] - s) / nrm
            for p in range(start, end):
                z[indices[p]] += alpha * data[p]
            touched += end - start
        steps = stop
        res_sq = 0.0
        for i in range(n_rows):
            s = -rhs[i]
            for p in range(indptr[i], indptr[i + 1]):
                s += data[p] * z[indices[p]]
            r[i] = s
            res_sq += s * s
        checks += 1
        if res_sq <= target_sq:
            break
    return steps, touched, checks, res_sq
