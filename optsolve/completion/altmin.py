"""Alternating minimization for low-rank matrix completion, functional form.

Robust alternating minimization of Gu, Song, Yin & Zhang (ICLR 2024): spectral initialization,
then alternating U / V half-steps whose per-row least-squares problems are solved only
approximately, by sketch-and-precondition (``solver="sketched"``), so that a sweep costs
O~(|Omega| k) instead of the O(|Omega| k^2) of exact AltMin (Jain, Netrapalli & Sanghavi 2013,
``solver="exact"``). With ``biases=True`` and a ridge ``alpha`` the same sweep fits the
recommender model ``M_ij ~ mu + b_i + c_j + u_i . v_j``.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._backend import is_cupy_array
from .._optimize import (
    STATUS_CALLBACK_STOP,
    History,
    OptimizeResult,
    ProgressReporter,
    call_callback,
    make_result,
)
from .._status import Status, termination_message, warn_status
from .._validation import as_float_array, check_positive_int, check_scalar_in_range
from . import _kernels
from ._observations import Observations, from_matrix
from .init import spectral_init
from .sketched_ls import ROW_SOLVER_OPTIONS, solve_rows

__all__ = ["altmin", "observed_residuals"]

logger = logging.getLogger("optsolve.completion")

# why a sweep loop stopped (host and device engines); altmin_result maps each reason to the
# shared status of optsolve._status (both convergence tests are Status.SUCCESS)
STATUS_CONVERGED_RESIDUAL = 0  # training residual below tol: the observations are fitted
STATUS_CONVERGED_STALLED = -1  # objective stopped decreasing (noise floor / ridge optimum)
STATUS_MAX_ITER = int(Status.MAX_ITER)


def observed_residuals(obs_csr, U, V, row_bias, col_bias, mean) -> np.ndarray:
    """Residuals ``M_ij - mean - b_i - c_j - u_i . v_j`` on the CSR pattern (entry order)."""
    out = np.empty(obs_csr.nnz)
    serial = obs_csr.nnz < _kernels.PARALLEL_MIN_ENTRIES
    kernel = _kernels.observed_residuals_serial if serial else _kernels.observed_residuals
    kernel(
        obs_csr.indptr, obs_csr.indices, obs_csr.data, np.ascontiguousarray(U),
        np.ascontiguousarray(V), row_bias, col_bias, float(mean), out,
    )
    return out


def _check_alpha_rank(alpha, rank, shape, nnz) -> float:
    """Validate ``rank`` and ``alpha`` against the pattern; return ``alpha`` as a float."""
    m, n = shape
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank!r}")
    if rank >= min(m, n):
        raise ValueError(
            f"rank={rank} must be smaller than min(m, n) = {min(m, n)} (X has {m} sample(s) "
            f"and {n} feature(s))"
        )
    if nnz == 0:
        raise ValueError("X has no observed entries")
    if not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite real number >= 0, got {alpha!r}")
    return float(alpha)


def _objective(r, alpha, U, V, b, c) -> float:
    f = float(r @ r)
    if alpha:
        f += alpha * float(np.sum(U * U) + np.sum(V * V) + b @ b + c @ c)
    return f


def _orthonormalize(Q_side: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q R = Q_side; return (Q, other R^T): same product, orthonormal fixed factor (JNS Alg. 2)."""
    Q, R = np.linalg.qr(Q_side)
    return Q, other @ R.T


class _HalfStep:
    """Solve one side (rows of ``pattern``) against the fixed other side, biases included."""

    def __init__(self, pattern, solver, alpha, biases, opts, keep_empty):
        self.pattern = pattern
        self.solver = solver
        self.alpha = alpha
        self.biases = biases
        self.opts = opts
        self.keep_empty = keep_empty

    def __call__(self, fixed, fixed_bias, solved, solved_bias, mean, seed) -> tuple:
        if self.biases:
            F = np.hstack([fixed, np.ones((fixed.shape[0], 1))])
            out = np.hstack([solved, solved_bias[:, None]])
        else:
            F, out = fixed, np.ascontiguousarray(solved)
        iters = solve_rows(
            self.pattern, F, out, alpha=self.alpha, method=self.solver, opts=self.opts,
            seed=seed, col_offset=fixed_bias, shift=mean, keep_empty=self.keep_empty,
        )
        if self.biases:
            return np.ascontiguousarray(out[:, :-1]), np.ascontiguousarray(out[:, -1]), iters
        return out, solved_bias, iters


def altmin(
    X,
    rank: int,
    *,
    solver: str = "sketched",
    alpha: float = 0.0,
    biases: bool = False,
    max_iter: int = 100,
    tol: float = 1e-6,
    sample_splitting: bool = False,
    random_state=None,
    callback: Callable | None = None,
    options: dict | None = None,
    record_history: bool = False,
    verbose: bool | int = False,
) -> OptimizeResult:
    """Complete a partially observed matrix by (robust) alternating minimization.

    Minimizes ``sum_{(i,j) in Omega} (M_ij - mu - b_i - c_j - u_i . v_j)^2
    + alpha (||U||_F^2 + ||V||_F^2 + ||b||^2 + ||c||^2)`` over ``U`` (m x rank), ``V``
    (n x rank) and, when ``biases``, the offsets ``b``, ``c`` and the global mean ``mu``
    (unpenalized); without biases ``mu = b = c = 0``.

    Parameters
    ----------
    X : scipy.sparse matrix or ndarray of shape (m, n)
        Observed entries: the stored entries of a sparse matrix (explicit zeros are
        observations), or the non-NaN entries of a dense array. Never densified. A
        ``cupyx.scipy.sparse`` matrix or CuPy array runs the sweep on the GPU (one thread
        block per row, ``csrc/completion_rows.cu``; spectral initialization by cupyx
        ``svds``) and returns CuPy factors; ``sample_splitting`` is host-only.
    rank : int
        Target rank, ``1 <= rank < min(m, n)``.
    solver : {"sketched", "exact"}
        ``"sketched"``: per-row sketch-and-precondition solves, ``O~(|Omega| rank)`` per sweep
        (Gu et al. 2024). ``"exact"``: k x k normal equations per row, ``O(|Omega| rank^2)``
        (Jain et al. 2013).
    alpha : float >= 0
        Ridge weight. With ``alpha == 0`` and no biases the fixed factor is re-orthonormalized
        before each half-step (JNS's QR step), which leaves ``U V^T`` unchanged.
    biases : bool
        Fit the global mean and row/column offsets.
    max_iter : int
        Maximum number of sweeps (one V half-step then one U half-step).
    tol : float
        Stops when the relative training residual ``||P_Omega(M - fit)|| / ||P_Omega(M)||``
        or the relative decrease of the objective over one sweep falls below ``tol``.
    sample_splitting : bool
        Use a fresh, disjoint part of the observations for the initialization and for each
        half-step (the analysis' independence device: ``2 max_iter + 1`` parts). Needs many
        more samples; off by default, as in practice.
    random_state : int, RandomState or None
        Seeds the randomized SVD, the sketches and the splitting.
    callback : callable, optional
        ``callback(intermediate_result)`` after each sweep; ``intermediate_result`` holds
        ``x`` (``U`` and ``V`` flattened), ``fun``, ``nit``, ``U``, ``V``, ``row_bias``,
        ``col_bias``, ``mean``, ``rel_residual``.
        Raising ``StopIteration`` stops (status 99).
    options : dict, optional
        Row-solver options (see ``ROW_SOLVER_OPTIONS``): ``sketch_factor``, ``sketch_nnz``,
        ``min_rows_factor``, ``row_reduction``, ``row_abs_tol``, ``row_max_cg``, ``min_rank``
        (below rank ``min_rank``, default 40, every row is solved exactly: see
        ``SKETCH_MIN_RANK``).
    record_history : bool
        Store per-sweep objective, relative residual and time in ``result.history``.
    verbose : bool or int
        Progress report.

    Returns
    -------
    result : OptimizeResult
        ``U``, ``V``, ``row_bias``, ``col_bias``, ``mean``, ``fun`` (objective), ``nit``,
        ``rel_residual``, ``cg_iterations`` (total over all row solves), ``success``,
        ``status`` (the shared codes of ``optsolve._status``: 0 converged — residual or
        relative objective decrease below tol, see ``message`` —, 1 max_iter, 5 non-finite,
        99 callback),
        ``message``, ``x`` (``U`` and ``V`` flattened) and ``history`` when recorded.

    References
    ----------
    .. [1] Y. Gu, Z. Song, J. Yin, L. Zhang. "Low Rank Matrix Completion via Robust
       Alternating Minimization in Nearly Linear Time". ICLR 2024.
    .. [2] P. Jain, P. Netrapalli, S. Sanghavi. "Low-rank matrix completion using alternating
       minimization". STOC 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.datasets import make_incoherent_low_rank
    >>> from optsolve.completion import altmin
    >>> X, U, V = make_incoherent_low_rank(200, 150, 3, 0.3, random_state=0)
    >>> res = altmin(X, 3, tol=1e-10, random_state=0)
    >>> M = U @ V.T
    >>> bool(np.linalg.norm(res.U @ res.V.T - M) / np.linalg.norm(M) < 1e-6)
    True
    """
    if solver not in ("sketched", "exact"):
        raise ValueError(f"solver must be 'sketched' or 'exact', got {solver!r}")
    if is_cupy_array(X):  # device input: the same sweep with CUDA row kernels, cupy out
        from ._gpu import altmin_device

        return altmin_device(
            X, rank, solver=solver, alpha=alpha, biases=biases, max_iter=max_iter, tol=tol,
            sample_splitting=sample_splitting, random_state=random_state, callback=callback,
            options=options, record_history=record_history, verbose=verbose,
        )
    check_scalar_in_range(tol, "tol", low=0.0)
    check_positive_int(max_iter, "max_iter")
    if isinstance(X, Observations):
        obs = X
    else:
        if not sp.issparse(X):
            X = as_float_array(X, "X")
            if X.ndim != 2:
                raise ValueError(f"X must be 2-D, got an array of shape {X.shape}")
        obs = from_matrix(X)
    m, n = obs.shape
    alpha = _check_alpha_rank(alpha, rank, obs.shape, obs.nnz)
    opts = ROW_SOLVER_OPTIONS.resolve(options)
    rng = check_random_state(random_state)
    seed_base = int(rng.randint(np.iinfo(np.int32).max))
    orthonormalize = alpha == 0.0 and not biases

    n_parts = 2 * max_iter + 1 if sample_splitting else 1
    part = rng.randint(n_parts, size=obs.nnz) if sample_splitting else None

    def pattern(idx):
        sub = obs if part is None else obs.subset(part == idx)
        return sub, sub.csr(), sub.csc_as_csr_of_transpose()

    full_csr = obs.csr()
    mean = float(obs.values.mean()) if biases else 0.0
    b, c = np.zeros(m), np.zeros(n)
    _, init_csr, _ = pattern(0)
    centred = init_csr.copy()
    centred.data = centred.data - mean
    U0, sigma, W = spectral_init(centred, rank, random_state=rng)
    if orthonormalize:
        U, V = U0, W * sigma
    else:
        U, V = U0 * np.sqrt(sigma), W * np.sqrt(sigma)

    history = History(measure="rel_residual") if record_history else None
    y_norm = float(np.linalg.norm(obs.values)) or 1.0
    f_prev = np.inf
    status, nit, cg_total = STATUS_MAX_ITER, 0, 0
    rel_res = np.inf
    f = np.inf
    if part is None:
        u_step = _HalfStep(full_csr, solver, alpha, biases, opts, keep_empty=False)
        v_step = _HalfStep(obs.csc_as_csr_of_transpose(), solver, alpha, biases, opts, False)
    with ProgressReporter(max_iter, "altmin", verbose, measure="rel_res") as progress:
        for it in range(1, max_iter + 1):
            if part is not None:
                _, u_csr, _ = pattern(2 * it)
                _, _, v_csr_t = pattern(2 * it - 1)
                u_step = _HalfStep(u_csr, solver, alpha, biases, opts, keep_empty=True)
                v_step = _HalfStep(v_csr_t, solver, alpha, biases, opts, keep_empty=True)
            if biases:  # mu is unpenalized: its exact minimizer given the rest
                mean += float(observed_residuals(full_csr, U, V, b, c, mean).mean())
            if orthonormalize:
                U, V = _orthonormalize(U, V)
            V, c, iters_v = v_step(U, b, V, c, mean, seed_base + 2 * it)
            if orthonormalize:
                V, U = _orthonormalize(V, U)
            U, b, iters_u = u_step(V, c, U, b, mean, seed_base + 2 * it + 1)
            cg_total += iters_u + iters_v
            nit = it
            r = observed_residuals(full_csr, U, V, b, c, mean)
            f = _objective(r, alpha, U, V, b, c)
            rel_res = float(np.sqrt(r @ r)) / y_norm
            if history is not None:
                history.record(it, f, rel_res)
            progress.update(it, f, rel_res)
            x = np.concatenate([U.ravel(), V.ravel()])
            if call_callback(callback, x=x, fun=f, nit=it, U=U, V=V, row_bias=b, col_bias=c,
                             mean=mean, rel_residual=rel_res):
                status = STATUS_CALLBACK_STOP
                break
            if rel_res <= tol:
                status = STATUS_CONVERGED_RESIDUAL
                break
            if np.isfinite(f_prev) and abs(f_prev - f) <= tol * f_prev:
                status = STATUS_CONVERGED_STALLED
                break
            f_prev = f
    return altmin_result(np.concatenate([U.ravel(), V.ravel()]), f, status, nit, tol, U=U,
                         V=V, row_bias=b, col_bias=c, mean=mean, rel_residual=rel_res,
                         cg_iterations=cg_total, history=history)


#: stopping reason -> (shared status, detail)
_REASONS = {
    STATUS_CONVERGED_RESIDUAL: (Status.SUCCESS, "relative training residual below tol"),
    STATUS_CONVERGED_STALLED: (Status.SUCCESS, "relative objective decrease below tol"),
    STATUS_MAX_ITER: (Status.MAX_ITER, None),
    STATUS_CALLBACK_STOP: (Status.CALLBACK_STOP, None),
}


def altmin_result(x, fun, status: int, nit: int, tol: float, *, history, label: str = "altmin",
                  **fields) -> OptimizeResult:
    """The ``OptimizeResult`` of a sweep loop (host or device): the shared status and message
    (a non-finite objective is never a success), a ``ConvergenceWarning`` for every
    unsuccessful run, a debug log line. ``status`` is the loop's stopping reason."""
    code, detail = _REASONS[int(status)]
    rel_res = fields["rel_residual"]
    if not np.isfinite(float(fun)) and code != Status.CALLBACK_STOP:
        code, detail = Status.NON_FINITE, "objective"
    elif code == Status.MAX_ITER:
        detail = f"after {nit} sweeps, relative residual {rel_res:.3e} > tol = {tol:.3e}"
    message = termination_message(code, detail)
    warn_status(label, code, detail, stacklevel=4)
    logger.debug("%s: %s after %d sweeps (rel_res %.3e)", label, message, nit, rel_res)
    return make_result(x, fun, success=code == Status.SUCCESS, status=int(code),
                       message=message, nit=nit,
                       history=history.as_dict() if history is not None else None, **fields)
