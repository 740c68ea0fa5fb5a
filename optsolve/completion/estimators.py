"""scikit-learn estimator over :func:`optsolve.completion.altmin`."""

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._backend import get_namespace, is_cupy_array
from ..base import (
    COMMON_SOLVER_CONSTRAINTS,
    Interval,
    SolverEstimatorMixin,
    StrOptions,
    _fit_context,
    validate_data,
)
from . import _kernels
from ._observations import Observations, check_indices, from_matrix, from_triplets
from .altmin import altmin
from .sketched_ls import ROW_SOLVER_OPTIONS, solve_rows

__all__ = ["ALPHA_RATINGS", "AltMinCompletion"]

#: default ridge weight with ``biases=True`` (``alpha="auto"``): the objective is an
#: unnormalized sum over ratings, so alpha is "pseudo-ratings" of shrinkage per factor row.
#: Chosen on MovieLens-100k's u1 *training* part (u1.base) by 5-fold CV at rank 10 over
#: {5, 8, 10, 12, 15, 20} (CV RMSE 0.964, 0.934, 0.925, 0.921, 0.923, 0.934); the u1 test part
#: played no role. Ratings on other scales or with other densities should tune it.
ALPHA_RATINGS = 12.0
#: transform() refuses to build a dense completed matrix with more entries than this default
MAX_DENSE_ENTRIES = 10**8


class AltMinCompletion(
    SolverEstimatorMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Low-rank matrix completion by robust alternating minimization.

    Fits ``M_ij ~ mu + b_i + c_j + u_i . v_j`` (offsets only when ``biases=True``) to the
    observed entries by minimizing ``sum_Omega (M_ij - mu - b_i - c_j - u_i . v_j)^2
    + alpha (||U||_F^2 + ||V||_F^2 + ||b||^2 + ||c||^2)``. Each alternating half-step solves
    one ridge regression per row; ``solver="sketched"`` solves them by sketch-and-precondition
    (Gu, Song, Yin & Zhang 2024, ``O~(|Omega| k)`` per sweep), ``solver="exact"`` by the k x k
    normal equations (Jain, Netrapalli & Sanghavi 2013, ``O(|Omega| k^2)``).

    Input forms: ``fit(X)`` with a scipy.sparse matrix (its stored entries are the
    observations, explicit zeros included) or a dense array with NaN for missing entries;
    ``fit(rows, cols, values, shape=(m, n))``. Sparse input is never densified. CuPy input
    (``cupyx.scipy.sparse`` matrix, CuPy array or CuPy triplets) fits on the GPU: the learned
    factors stay CuPy arrays, and ``predict`` / ``transform`` return CuPy arrays
    (``fold_in`` / ``partial_fit`` and ``sample_splitting`` are host-only). Duplicate
    ``(row, col)`` entries are refused (``ValueError``); rows or columns without any
    observation trigger a ``UserWarning`` and are predicted by the offsets alone
    (``mu + c_j`` for an empty row with biases, ``0`` without biases).

    Parameters
    ----------
    rank : int, default=10
        Rank ``k`` of the factorization, ``k < min(m, n)``.
    solver : {"sketched", "exact"}, default="sketched"
        Per-row least-squares solver (see above).
    alpha : float >= 0 or "auto", default="auto"
        Ridge weight. ``"auto"`` is ``0`` without biases (exact completion of a low-rank
        matrix) and ``ALPHA_RATINGS = 12`` with ``biases=True`` (ratings data; chosen by
        cross-validation on the MovieLens-100k u1 training part only).
    biases : bool, default=False
        Fit the global mean and row / column offsets.
    max_iter : int, default=100
        Maximum number of alternating sweeps.
    tol : float, default=1e-6
        Stop when the relative training residual, or the relative objective decrease over a
        sweep, is below ``tol``.
    sample_splitting : bool, default=False
        Disjoint observation subsets per half-step, as in the analysis (needs many samples).
    random_state : int, RandomState or None, default=None
        Seeds the spectral initialization, the sketches and the splitting.
    solver_options : dict or None, default=None
        Row-solver options (``sketch_factor``, ``sketch_nnz``, ``min_rows_factor``,
        ``row_reduction``, ``row_abs_tol``, ``row_max_cg``, ``min_rank``); unknown keys warn.
        Below rank ``min_rank`` (default 40) and on rows with few observations the sketched
        solver solves exactly, because the sketch does not pay off there (measured crossover:
        ``bench/completion_sweep_vs_rank.py``).
    max_dense_entries : int, default=10**8
        ``transform()`` / ``fit_transform`` refuse to return a dense matrix larger than this.
    record_history : bool, default=False
        Store per-sweep objective, relative residual and time in ``history_``.
    verbose : bool or int, default=False
        Progress report.

    Attributes
    ----------
    U_ : ndarray of shape (n_rows, rank)
        Row factors (grows with :meth:`fold_in` / :meth:`partial_fit`).
    V_ : ndarray of shape ``(n_features_in_, rank)``
        Column factors.
    row_bias_ : ndarray of shape (n_rows,)
        Row offsets ``b`` (zeros without biases).
    col_bias_ : ndarray of shape ``(n_features_in_,)``
        Column offsets ``c`` (zeros without biases).
    mean_ : float
        Global offset ``mu`` (0 without biases).
    alpha_ : float
        The ridge weight used.
    observed_ : scipy.sparse.csr_matrix of shape ``(n_rows, n_features_in_)``
        The observations fitted so far (kept for :meth:`partial_fit`).
    n_features_in_ : int
        Number of columns.
    n_iter_ : int
        Number of sweeps run.
    history_ : dict of ndarray
        Per-sweep ``objective``, ``rel_residual`` and ``time`` (``record_history=True``).

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
    >>> from optsolve.completion import AltMinCompletion
    >>> X, U, V = make_incoherent_low_rank(200, 150, 3, 0.3, random_state=0)
    >>> est = AltMinCompletion(rank=3, tol=1e-10, random_state=0).fit(X)
    >>> M = U @ V.T
    >>> bool(np.linalg.norm(est.transform() - M) / np.linalg.norm(M) < 1e-6)
    True
    >>> est.predict([0, 1], [2, 3]).shape
    (2,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "rank": [Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [StrOptions({"sketched", "exact"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left"), StrOptions({"auto"})],
        "biases": ["boolean"],
        "sample_splitting": ["boolean"],
        "solver_options": [dict, None],
        "max_dense_entries": [Interval(numbers.Integral, 1, None, closed="left")],
        **COMMON_SOLVER_CONSTRAINTS,
    }

    #: the common scikit-learn checks include 2-column data; rank must be below min(m, n)
    _common_test_params: ClassVar[dict] = {"rank": 1, "random_state": 0}

    def __init__(
        self,
        rank: int = 10,
        *,
        solver: str = "sketched",
        alpha: float | str = "auto",
        biases: bool = False,
        max_iter: int = 100,
        tol: float = 1e-6,
        sample_splitting: bool = False,
        random_state=None,
        solver_options: dict | None = None,
        max_dense_entries: int = MAX_DENSE_ENTRIES,
        record_history: bool = False,
        verbose: bool | int = False,
    ):
        self.rank = rank
        self.solver = solver
        self.alpha = alpha
        self.biases = biases
        self.max_iter = max_iter
        self.tol = tol
        self.sample_splitting = sample_splitting
        self.random_state = random_state
        self.solver_options = solver_options
        self.max_dense_entries = max_dense_entries
        self.record_history = record_history
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN marks a missing entry
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ input
    def _observations(self, X, y, values, shape, *, reset: bool) -> Observations:
        if values is not None:  # fit(rows, cols, values, shape=...)
            if y is None:
                raise ValueError("the (rows, cols, values) form needs cols as second argument")
            if not reset:
                shape = (shape[0] if shape is not None else 0, self.n_features_in_)
            obs = from_triplets(X, y, values, shape)
            if reset:
                self.n_features_in_ = obs.shape[1]
            return obs
        X = validate_data(
            self, X, accept_sparse=["csr", "csc", "coo"], dtype=np.float64,
            ensure_all_finite="allow-nan", reset=reset,
        )
        return from_matrix(X)

    def _resolved_alpha(self) -> float:
        if self.alpha == "auto":
            return ALPHA_RATINGS if self.biases else 0.0
        return float(self.alpha)

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, values=None, *, shape=None):
        """Fit the factors to the observed entries.

        Parameters
        ----------
        X : scipy.sparse matrix or array-like of shape (m, n), or row indices
            Observed entries (stored entries of a sparse matrix, non-NaN entries of a dense
            array); in the triplet form ``fit(rows, cols, values, shape=(m, n))``, the row
            indices.
        y : None, or column indices in the triplet form
            Ignored for matrix input (scikit-learn's ``y`` slot).
        values : array-like, optional
            Observed values of the triplet form.
        shape : (int, int), optional
            Matrix shape of the triplet form.

        Returns
        -------
        self : AltMinCompletion
        """
        if any(is_cupy_array(a) for a in (X, y, values)):
            return self._fit_device(X, y, values, shape)
        obs = self._observations(X, y, values, shape, reset=True)
        m, n = obs.shape
        if self.rank >= min(m, n):
            raise ValueError(
                f"rank={self.rank} must be smaller than min(m, n) = {min(m, n)}: X has "
                f"{m} sample(s) and {n} feature(s)"
            )
        if obs.nnz == 0:
            raise ValueError("X has no observed entries")
        self._warn_empty(obs)
        self.alpha_ = self._resolved_alpha()
        ROW_SOLVER_OPTIONS.resolve(self.solver_options, "solver_options")  # before any work
        result = altmin(
            obs, self.rank, solver=self.solver, alpha=self.alpha_, biases=self.biases,
            max_iter=self.max_iter, tol=self.tol, sample_splitting=self.sample_splitting,
            random_state=self.random_state, options=self.solver_options,
            record_history=self.record_history, verbose=self.verbose,
        )
        self.U_, self.V_ = result.U, result.V
        self.row_bias_, self.col_bias_, self.mean_ = result.row_bias, result.col_bias, result.mean
        self.observed_ = obs.csr().copy()  # never alias the caller's matrix
        self._store_result(result)
        return self

    def _fit_device(self, X, y, values, shape):
        """:meth:`fit` on CuPy input: validation on the device, GPU sweep, CuPy attributes."""
        from ._device_input import device_csr, device_triplets_csr, empty_lines

        if values is not None:
            if y is None:
                raise ValueError("the (rows, cols, values) form needs cols as second argument")
            csr = device_triplets_csr(X, y, values, shape)
        else:
            csr = device_csr(X)
        m, n = csr.shape
        self.n_features_in_ = n
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if self.rank >= min(m, n):
            raise ValueError(
                f"rank={self.rank} must be smaller than min(m, n) = {min(m, n)}: X has "
                f"{m} sample(s) and {n} feature(s)"
            )
        if csr.nnz == 0:
            raise ValueError("X has no observed entries")
        self._warn_counts(*empty_lines(csr))
        self.alpha_ = self._resolved_alpha()
        ROW_SOLVER_OPTIONS.resolve(self.solver_options, "solver_options")
        if self.sample_splitting:
            raise ValueError(
                "sample_splitting=True is not available for CuPy input; fit on host data"
            )
        result = altmin(
            csr, self.rank, solver=self.solver, alpha=self.alpha_, biases=self.biases,
            max_iter=self.max_iter, tol=self.tol, random_state=self.random_state,
            options=self.solver_options, record_history=self.record_history,
            verbose=self.verbose,
        )
        self.U_, self.V_ = result.U, result.V
        self.row_bias_, self.col_bias_, self.mean_ = result.row_bias, result.col_bias, result.mean
        self.observed_ = csr.copy()
        self._store_result(result)
        return self

    def _on_device(self) -> bool:
        return is_cupy_array(self.U_)

    def _require_host(self, what: str) -> None:
        if self._on_device():
            raise TypeError(
                f"{what} is host-only: this estimator was fitted on CuPy (GPU) data; move the "
                "factors to the host or refit on numpy / scipy.sparse data"
            )

    @staticmethod
    def _warn_empty(obs: Observations) -> None:
        m, n = obs.shape
        AltMinCompletion._warn_counts(m - np.unique(obs.rows).size, n - np.unique(obs.cols).size)

    @staticmethod
    def _warn_counts(empty_rows: int, empty_cols: int) -> None:
        # stacklevel 4: warn <- _warn_counts <- _warn_empty / _fit_device <- fit (the caller's line)
        if empty_rows or empty_cols:
            warnings.warn(
                f"X has {empty_rows} row(s) and {empty_cols} column(s) without any observed "
                "entry: they cannot be recovered and are predicted by the offsets alone "
                "(mean + bias with biases=True, 0 otherwise)",
                UserWarning,
                stacklevel=4,
            )

    # ------------------------------------------------------------- fold-in
    def _solve_new_rows(self, csr: sp.csr_matrix, warm: np.ndarray | None = None):
        """Ridge solve of the rows of ``csr`` against the fixed V (exact, deterministic)."""
        if self._on_device():
            return self._solve_new_rows_device(csr)
        k = self.V_.shape[1]
        if self.biases:
            F = np.hstack([self.V_, np.ones((self.V_.shape[0], 1))])
            out = np.zeros((csr.shape[0], k + 1))
        else:
            F, out = self.V_, np.zeros((csr.shape[0], k))
        solve_rows(
            csr, F, out, alpha=self.alpha_, method="exact", opts={},
            col_offset=self.col_bias_, shift=self.mean_,
        )
        if self.biases:
            return np.ascontiguousarray(out[:, :k]), np.ascontiguousarray(out[:, k])
        return out, np.zeros(csr.shape[0])

    def _solve_new_rows_device(self, csr):
        """:meth:`_solve_new_rows` with the GPU row kernel (exact)."""
        from ._gpu import DeviceKernels

        xp = get_namespace(self.V_)
        kern = DeviceKernels(xp)
        k = self.V_.shape[1]
        F = xp.hstack([self.V_, xp.ones((self.V_.shape[0], 1))]) if self.biases else self.V_
        out = xp.zeros((csr.shape[0], F.shape[1]))
        kern.solve_rows(kern.pattern(csr), F, out, alpha=self.alpha_, method="exact", opts={},
                        seed=0, col_offset=self.col_bias_, shift=xp.full(1, self.mean_),
                        keep_empty=False)
        if self.biases:
            return xp.ascontiguousarray(out[:, :k]), xp.ascontiguousarray(out[:, k])
        return out, xp.zeros(csr.shape[0])

    def _complete_rows(self, U, b) -> np.ndarray:
        return self.mean_ + b[:, None] + self.col_bias_[None, :] + U @ self.V_.T

    def _check_dense_size(self, n_rows: int) -> None:
        size = n_rows * self.V_.shape[0]
        if size > self.max_dense_entries:
            raise ValueError(
                f"the completed matrix would have {n_rows} x {self.V_.shape[0]} = {size} "
                f"entries, above max_dense_entries={self.max_dense_entries}; use "
                "predict(rows, cols) for the entries you need, or raise max_dense_entries"
            )

    def transform(self, X=None):
        """Completed matrix: of the training rows (``X=None``) or of new rows ``X``.

        Rows of ``X`` (sparse or dense with NaN, ``n_features_in_`` columns) are folded in —
        their factors solved against the fixed ``V_`` — without changing the estimator.

        Parameters
        ----------
        X : None, scipy.sparse matrix or array-like of shape ``(n_rows, n_features_in_)``

        Returns
        -------
        completed : ndarray of shape ``(n_rows, n_features_in_)``
        """
        check_is_fitted(self)
        if X is None:
            self._check_dense_size(self.U_.shape[0])
            return self._complete_rows(self.U_, self.row_bias_)
        if self._on_device():
            from ._device_input import device_csr

            csr = device_csr(X if is_cupy_array(X) else get_namespace(self.U_).asarray(X))
            if csr.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {csr.shape[1]} features, but AltMinCompletion is expecting "
                    f"{self.n_features_in_} features as input"
                )
            self._check_dense_size(csr.shape[0])
            return self._complete_rows(*self._solve_new_rows_device(csr))
        obs = self._observations(X, None, None, None, reset=False)
        self._check_dense_size(obs.shape[0])
        U, b = self._solve_new_rows(obs.csr())
        return self._complete_rows(U, b)

    def fit_transform(self, X, y=None, values=None, *, shape=None):
        """Fit, then return the completed training matrix (see :meth:`transform`).

        Returns
        -------
        completed : ndarray of shape (m, n)
        """
        return self.fit(X, y, values, shape=shape).transform()

    def predict(self, rows, cols=None):
        """Predicted entries ``M[rows, cols]``.

        ``predict(X)`` with a single dense array (NaN = missing) is ``transform(X)``, the
        scikit-learn convention for a model of whole rows; a single sparse matrix is refused
        as ambiguous (use ``transform(X)``, or ``predict(rows, cols)`` for its entries).

        Parameters
        ----------
        rows, cols : array-like of int of the same length
            Entry coordinates in the fitted matrix (rows may include folded-in rows).

        Returns
        -------
        values : ndarray of shape (len(rows),)
        """
        check_is_fitted(self)
        if cols is None:
            if sp.issparse(rows):
                raise TypeError(
                    "predict(X) with a single sparse matrix is ambiguous: use transform(X) for "
                    "the completed rows of X, or predict(rows, cols) for chosen entries"
                )
            return self.transform(rows)
        if self._on_device():
            from ._device_input import device_indices

            xp = get_namespace(self.U_)
            rows, cols = device_indices(xp, rows, cols, (self.U_.shape[0], self.V_.shape[0]))
            return (self.mean_ + self.row_bias_[rows] + self.col_bias_[cols]
                    + xp.sum(self.U_[rows] * self.V_[cols], axis=1))
        rows, cols = check_indices(rows, cols, (self.U_.shape[0], self.V_.shape[0]))
        out = np.empty(rows.shape[0])
        _kernels.predict_entries(
            rows, cols, self.U_, self.V_, self.row_bias_, self.col_bias_, float(self.mean_), out
        )
        return out

    def fold_in(self, X) -> np.ndarray:
        """Add new rows (users) given their observed entries, without refitting.

        Each new row's factor (and offset) solves its ridge regression against the fixed
        ``V_`` (and ``col_bias_``); ``U_``, ``row_bias_`` and ``observed_`` grow.

        Parameters
        ----------
        X : scipy.sparse matrix or array-like of shape (n_new, n_features_in_)
            Observed entries of the new rows (NaN = missing for dense input).

        Returns
        -------
        new_rows : ndarray of int
            Indices of the new rows in ``U_``.
        """
        check_is_fitted(self)
        self._require_host("fold_in")
        obs = self._observations(X, None, None, None, reset=False)
        U, b = self._solve_new_rows(obs.csr())
        start = self.U_.shape[0]
        self.U_ = np.vstack([self.U_, U])
        self.row_bias_ = np.concatenate([self.row_bias_, b])
        self.observed_ = sp.vstack([self.observed_, obs.csr()], format="csr")
        return np.arange(start, start + obs.shape[0])

    def partial_fit(self, X, y=None, values=None, *, shape=None):
        """Add ratings (and rows) and re-solve the touched rows against the fixed ``V_``.

        Unfitted, this is :meth:`fit`. Afterwards, new entries of existing rows are merged
        with the stored observations (a new value for an already observed entry replaces
        it), rows beyond the current ``U_`` are added, and every touched row is re-solved
        exactly; ``V_`` and the column offsets stay fixed (new columns need a refit).

        Parameters
        ----------
        X, y, values, shape
            As in :meth:`fit` (matrix form: row ``i`` of ``X`` is row ``i`` of the model).

        Returns
        -------
        self : AltMinCompletion
        """
        if not hasattr(self, "U_"):
            return self.fit(X, y, values, shape=shape)
        self._require_host("partial_fit")
        n = self.n_features_in_
        if values is not None:
            rows, cols = check_indices(X, y, (np.iinfo(np.int64).max, n))
            n_rows = max(self.U_.shape[0], int(rows.max()) + 1 if rows.size else 0)
            new = from_triplets(rows, cols, values, (n_rows, n))
        else:
            new = self._observations(X, None, None, None, reset=False)
        m_new = max(self.U_.shape[0], new.shape[0])
        old = self.observed_.tocoo()
        keep = np.ones(old.nnz, dtype=bool)
        new_keys = new.rows * n + new.cols
        keep &= ~np.isin(old.row.astype(np.int64) * n + old.col, new_keys)
        merged = from_triplets(
            np.concatenate([old.row[keep], new.rows]), np.concatenate([old.col[keep], new.cols]),
            np.concatenate([old.data[keep], new.values]), (m_new, n),
        )
        self.observed_ = merged.csr()
        touched = np.unique(new.rows)
        U_full = np.zeros((m_new, self.U_.shape[1]))
        U_full[: self.U_.shape[0]] = self.U_
        b_full = np.zeros(m_new)
        b_full[: self.row_bias_.shape[0]] = self.row_bias_
        U_t, b_t = self._solve_new_rows(self.observed_[touched])
        U_full[touched], b_full[touched] = U_t, b_t
        self.U_, self.row_bias_ = U_full, b_full
        return self
