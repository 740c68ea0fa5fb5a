"""Per-row weighted least squares of one AltMin half-step: sketched or exact.

Each row ``i`` of the observed pattern is a small ridge regression on the rows ``F[Omega_i]``
of the fixed factor. ``method="exact"`` forms the ``k x k`` normal equations
(O(d_i k^2 + k^3)); ``method="sketched"`` is the sketch-and-precondition solver of Gu, Song,
Yin & Zhang (2024): sparse sign sketch of the ``d_i x k`` design to ``s = SKETCH_FACTOR k`` rows
(O(d_i k)), R factor of the sketch (O(s k^2)), preconditioned CG (O(d_i k) per iteration, a
constant number of iterations because the preconditioned system has condition number
O(1)). Per row: O(d_i k + k^3) against O(d_i k^2 + k^3): the sketch pays off on rows with many
observations (d_i >> s) and large k.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from .._validation import (
    CheckedOptions,
    as_float_array,
    check_array_finite,
    check_scalar_in_range,
    option,
)
from . import _kernels

__all__ = ["ROW_SOLVER_OPTIONS", "row_least_squares", "solve_rows"]

#: sketch rows per unknown, s = SKETCH_FACTOR * k (Gu et al. 2024, Lemma on sketch-and-
#: precondition: s = O(k log k) rows give a constant-distortion subspace embedding)
SKETCH_FACTOR = 4
#: nonzeros per column of the sparse sign embedding (1 = CountSketch; a few give an embedding
#: with O(k) rows instead of O(k^2), Cohen 2016). Measured on rows of 5000 observations
#: (k = 40): 1, 2 and 4 nonzeros all need ~6.5 PCG steps for a 1e-2 reduction, and the sketch
#: itself costs about nnz * d * k, so 2 keeps a margin of robustness at little cost
SKETCH_NNZ = 2
#: rows with at most MIN_ROWS_FACTOR * s observations are solved exactly: a sketch cannot
#: shrink them, so sketching would only add work
MIN_ROWS_FACTOR = 2
#: each row solve reduces its warm-started residual by this factor (the inexactness the robust
#: analysis tolerates, Gu et al. 2024 Thm. 1.2: errors a constant fraction of the current
#: distance keep the linear rate)
ROW_REDUCTION = 1e-2
#: relative accuracy at which a row solve stops regardless (machine-precision floor)
ROW_ABS_TOL = 1e-13
ROW_MAX_CG = 100
#: below this many unknowns per row, every row is solved exactly: the sketched path costs about
#: (2 sketch_nnz + 4 n_cg) d k + 2 s k^2 flops in memory-bound loops against d k^2 in one BLAS
#: gemm. bench/completion_sweep_vs_rank.py (one thread, rows of d_i = 10^4 observations)
#: measured exact/sketched time ratios 0.36, 0.48, 0.89, 1.02, 1.41, 2.08, 2.09 at
#: k = 5, 10, 20, 40, 60, 80, 100: the crossover is k ~ 40. Set it to 0 to force the sketch.
SKETCH_MIN_RANK = 40

#: checked like keyword arguments: an unknown key, a wrong type or a value out of range raises
ROW_SOLVER_OPTIONS = CheckedOptions(
    "altmin row solver",
    {
        "sketch_factor": SKETCH_FACTOR,
        "sketch_nnz": SKETCH_NNZ,
        "min_rows_factor": MIN_ROWS_FACTOR,
        "row_reduction": ROW_REDUCTION,
        "row_abs_tol": ROW_ABS_TOL,
        "row_max_cg": ROW_MAX_CG,
        "min_rank": SKETCH_MIN_RANK,
    },
    {
        "sketch_factor": option("real", low=0.0, include_low=False),
        "sketch_nnz": option("int", low=1),
        "min_rows_factor": option("real", low=0.0),
        "row_reduction": option("real", low=0.0, high=1.0, include_low=False,
                                include_high=False),
        "row_abs_tol": option("real", low=0.0),
        "row_max_cg": option("int", low=1),
        "min_rank": option("int", low=0),
    },
)


def _sketch_size(k: int, opts: dict) -> int:
    nnz = max(1, int(opts["sketch_nnz"]))
    s = max(int(np.ceil(opts["sketch_factor"] * k)), nnz)
    return nnz * int(np.ceil(s / nnz))


def solve_rows(
    X: sp.csr_matrix,
    F: np.ndarray,
    out: np.ndarray,
    *,
    alpha: float,
    method: str,
    opts: dict,
    seed: int = 0,
    col_offset: np.ndarray | None = None,
    shift: float = 0.0,
    keep_empty: bool = False,
) -> int:
    """Solve every row's ridge least squares into ``out`` (in place; warm start for CG).

    Returns the total number of CG iterations (0 for ``method="exact"``).
    """
    if col_offset is None:
        col_offset = np.zeros(F.shape[0])
    F = np.ascontiguousarray(F, dtype=np.float64)
    indptr, indices = X.indptr, X.indices  # int32 or int64: numba specializes, no copy
    data = X.data.astype(np.float64, copy=False)
    serial = X.nnz < _kernels.PARALLEL_MIN_ENTRIES
    if method == "exact":
        kernel = _kernels.row_solve_exact_serial if serial else _kernels.row_solve_exact
        kernel(
            indptr, indices, data, F, col_offset, float(shift), float(alpha), keep_empty, out
        )
        return 0
    k = F.shape[1]
    s = _sketch_size(k, opts)
    min_rows = int(opts["min_rows_factor"] * s)
    if k < opts["min_rank"]:
        min_rows = np.iinfo(np.int64).max  # the sketch cannot pay off at this rank
    cg_iters = np.zeros(X.shape[0], dtype=np.int64)
    kernel = _kernels.row_solve_sketched_serial if serial else _kernels.row_solve_sketched
    kernel(
        indptr, indices, data, F, col_offset, float(shift), float(alpha), keep_empty,
        s, int(opts["sketch_nnz"]), min_rows,
        float(opts["row_reduction"]), float(opts["row_abs_tol"]), int(opts["row_max_cg"]),
        int(seed) & 0x7FFFFFFF, out, cg_iters,
    )
    return int(cg_iters.sum())


def canonical_observations(X, name: str = "X") -> sp.csr_matrix:
    """A float64 CSR matrix of the stored entries of ``X`` with sorted indices (a copy when
    sorting is needed: the caller's arrays are never touched); refuses non-finite values and
    an entry stored twice (two observations of one entry are ambiguous, not a sum)."""
    if X.format == "dia":  # DIA stores padding zeros that are not observations
        X = X.tocoo()
    Y = sp.csr_matrix(X, dtype=np.float64)
    if not Y.has_sorted_indices:
        Y = Y.copy()
        Y.sort_indices()
    if not Y.has_canonical_format:
        raise ValueError(f"{name} stores some (row, col) entry twice; each entry may be "
                         "observed once (average or deduplicate them first)")
    check_array_finite(Y, name)
    return Y


def row_least_squares(
    X,
    F: np.ndarray,
    *,
    alpha: float = 0.0,
    method: str = "sketched",
    x0: np.ndarray | None = None,
    tol: float = 1e-10,
    options: dict | None = None,
    random_state: int | None = 0,
) -> tuple[np.ndarray, int]:
    """Solve ``min_x sum_{j in Omega_i} (X_ij - F_j @ x)^2 + alpha ||x||^2`` for every row i.

    The building block of one AltMin half-step, exposed for testing and reuse.

    Parameters
    ----------
    X : sparse matrix of shape (m, n)
        Observed entries; row ``i``'s stored entries are its observations.
    F : ndarray of shape (n, k)
        The fixed factor.
    alpha : float >= 0
        Ridge weight.
    method : {"sketched", "exact"}
        Sketch-and-precondition CG, or the k x k normal equations.
    x0 : ndarray of shape (m, k), optional
        Warm start of the sketched solver (zeros by default).
    tol : float
        Relative accuracy of the sketched solver: stops when the preconditioned normal-equation
        residual is ``tol`` times the initial one.
    options : dict, optional
        Sketch options: ``sketch_factor``, ``sketch_nnz``, ``min_rows_factor``,
        ``row_max_cg``, ``min_rank`` (unknown keys warn). Rows with at most
        ``min_rows_factor * sketch_factor * k`` observations, and all rows when
        ``k < min_rank`` (default 40), are solved exactly: the sketch does not pay off there.
    random_state : int or None
        Seed of the sketches.

    Returns
    -------
    solutions : ndarray of shape (m, k)
    cg_iterations : int
        Total preconditioned CG iterations over all rows.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from optsolve.completion import row_least_squares
    >>> X = sp.random(30, 200, density=0.5, format="csr", random_state=0)
    >>> F = np.random.default_rng(0).standard_normal((200, 3))
    >>> x, _ = row_least_squares(X, F, method="sketched", tol=1e-12, options={"min_rank": 0})
    >>> xe, _ = row_least_squares(X, F, method="exact")
    >>> bool(np.allclose(x, xe, atol=1e-8))
    True
    """
    if method not in ("sketched", "exact"):
        raise ValueError(f"method must be 'sketched' or 'exact', got {method!r}")
    if not sp.issparse(X):
        raise TypeError(f"X must be a scipy.sparse matrix, got {type(X).__name__}")
    X = canonical_observations(X, "X")
    F = as_float_array(F, "F")
    if F.ndim != 2 or F.shape[0] != X.shape[1]:
        raise ValueError(f"F must have shape ({X.shape[1]}, k), got {F.shape}")
    check_array_finite(F, "F")
    if not isinstance(alpha, numbers.Real) or alpha < 0:
        raise ValueError(f"alpha must be a real number >= 0, got {alpha!r}")
    tol = check_scalar_in_range(tol, "tol", low=0.0)
    opts = ROW_SOLVER_OPTIONS.resolve(options)
    opts["row_reduction"] = tol
    opts["row_abs_tol"] = min(tol, ROW_ABS_TOL)
    if x0 is None:
        out = np.zeros((X.shape[0], F.shape[1]))
    else:
        out = np.array(as_float_array(x0, "x0"), dtype=np.float64)  # a copy, solved in place
        if out.shape != (X.shape[0], F.shape[1]):
            raise ValueError(f"x0 must have shape {(X.shape[0], F.shape[1])}, got {out.shape}")
        check_array_finite(out, "x0")
    seed = 0 if random_state is None else int(random_state)
    iters = solve_rows(X, F, out, alpha=float(alpha), method=method, opts=opts, seed=seed)
    return out, iters
