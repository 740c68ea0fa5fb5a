"""Regularization paths of the L1 problems by the greedy working-set BCD, warm-started.

The solution at one ``alpha`` is the starting point at the next, smaller one. The working-set
engine forms its first variable block from the support of that starting point (plus the
best-scoring coordinates, twice its size), so the block carried along the path is the
previous support: a solve down the path starts next to its solution and inside the right
block, which is what makes the path cheaper than as many cold solves.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._status import Status, warn_status
from .._validation import (
    as_float_array,
    check_array_finite,
    check_positive_int,
    check_scalar_in_range,
)
from ._design import Design
from ._working_set import solve_working_set
from .datafits import LeastSquares, Logistic
from .penalties import PEN_L1, PEN_L1_POS
from .rules import RULE_GSL

__all__ = ["bcd_path"]

_DATAFITS = {"least_squares": LeastSquares, "logistic": Logistic}
#: the engine's default inner rule (GS-L scores: Nutini et al. 2022, eq. 4.4)
_RULE = RULE_GSL
#: the kernels' seeds are drawn from the caller's random state in [0, 2³¹ - 1)
_SEED_MAX = int(np.iinfo(np.int32).max) - 1_000_000


def _check_datafit(datafit):
    if isinstance(datafit, str):
        if datafit not in _DATAFITS:
            raise ValueError(f"datafit must be one of {sorted(_DATAFITS)} or a LeastSquares / "
                             f"Logistic instance, got {datafit!r}")
        return _DATAFITS[datafit]()
    if not isinstance(datafit, (LeastSquares, Logistic)):
        raise TypeError("datafit must be 'least_squares', 'logistic', LeastSquares() or "
                        f"Logistic(), got {type(datafit).__name__}")
    return datafit


def _check_X(X):
    if sp.issparse(X):
        X = sp.csc_matrix(X, dtype=np.float64)
    else:
        X = as_float_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got an array of shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one sample and one feature, got shape {X.shape}")
    check_array_finite(X, "X")
    return X


def _alpha_max(X, y, datafit: Any = "least_squares", positive: bool = False) -> float:
    """Smallest ``alpha`` at which ``w = 0`` solves the L1 problem: ``‖∇f(0)‖_∞``.

    ``∇f(0) = -Xᵀy / n`` for least squares and ``-Xᵀy / (2n)`` for logistic (labels ±1);
    with ``positive=True`` only the negative gradient entries count.
    """
    datafit = _check_datafit(datafit)
    corr = np.asarray(X.T @ y).ravel() / X.shape[0]
    if isinstance(datafit, Logistic):
        corr = corr / 2.0
    top = float(np.max(corr, initial=0.0)) if positive else float(
        np.max(np.abs(corr), initial=0.0))
    return top


def bcd_path(
    X: Any,
    y: Any,
    *,
    datafit: Any = "least_squares",
    eps: float = 1e-3,
    n_alphas: int = 100,
    alphas: Any = None,
    coef_init: Any = None,
    positive: bool = False,
    tol: float = 1e-6,
    max_iter: int = 1000,
    return_n_iter: bool = False,
    random_state: Any = None,
    verbose: bool = False,
):
    """Compute an L1 regularization path (Lasso or L1-logistic) with warm starts.

    Solves, for every ``alpha`` of the grid from the largest to the smallest,

        min_w  f(w) + alpha ‖w‖₁,    f = (1/2n) ‖y - Xw‖²  or  (1/n) Σ log(1 + exp(-y_i x_iᵀw)),

    by the greedy working-set BCD of the estimators (no intercept: centre ``X`` and ``y``
    first for a Lasso with one), starting each solve from the previous solution. The
    signature and the return mirror :func:`sklearn.linear_model.lasso_path`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Design; sparse input is used as CSC without densifying.
    y : array-like of shape (n_samples,)
        Targets (least squares) or labels in {-1, +1} (logistic).
    datafit : {'least_squares', 'logistic'} or LeastSquares / Logistic instance
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    n_alphas : int, default=100
        Number of alphas of the automatic grid (geometric from ``alpha_max`` down).
    alphas : array-like or int, default=None
        The alphas; sorted in decreasing order. ``None`` builds the grid of ``eps`` and
        ``n_alphas``; an int is the number of alphas of that grid.
    coef_init : array-like of shape (n_features,), default=None
        Starting point of the first solve (zeros by default).
    positive : bool, default=False
        Restrict the coefficients to be non-negative.
    tol : float, default=1e-6
        Each solve stops when its duality gap relative to the objective at ``w = 0`` is at
        most ``tol``.
    max_iter : int, default=1000
        Outer iterations (greedy blocks) per alpha.
    return_n_iter : bool, default=False
        Also return the outer iterations of every solve.
    random_state : int, RandomState instance or None
        Seed of the inner kernels (ties and random rules).
    verbose : bool, default=False
        Log one line per alpha (``logging``, logger ``optsolve.bcd``).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas along the path, decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
        The solution at every alpha.
    dual_gaps : ndarray of shape (n_alphas,)
        The duality gap at the end of every solve, in the objective's own scale.
    n_iters : ndarray of shape (n_alphas,)
        Outer iterations of every solve; only with ``return_n_iter=True``.

    Warns
    -----
    ConvergenceWarning
        When a solve ends above ``tol`` (one warning naming the alphas).

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd import bcd_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 200))
    >>> y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.standard_normal(50)
    >>> alphas, coefs, gaps = bcd_path(X, y, n_alphas=20)
    >>> coefs.shape
    (200, 20)
    >>> bool(np.all(coefs[:, 0] == 0))
    True
    """
    datafit = _check_datafit(datafit)
    X = _check_X(X)
    y = as_float_array(y, "y")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got an array of shape {y.shape}")
    check_array_finite(y, "y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    y = datafit.encode(y)
    p = X.shape[1]
    tol = check_scalar_in_range(tol, "tol", low=0.0, include_low=False)
    max_iter = check_positive_int(max_iter, "max_iter")
    if not isinstance(positive, (bool, np.bool_)):
        raise TypeError(f"positive must be a bool, got {type(positive).__name__}")
    if alphas is None or (isinstance(alphas, numbers.Integral)
                           and not isinstance(alphas, bool)):
        count = n_alphas if alphas is None else alphas
        count = check_positive_int(count, "alphas" if alphas is not None else "n_alphas")
        eps = check_scalar_in_range(eps, "eps", low=0.0, include_low=False)
        top = _alpha_max(X, y, datafit, positive)
        if top == 0.0:
            # y orthogonal to every column: w = 0 is optimal for every alpha
            grid = np.zeros(count)
        else:
            grid = np.geomspace(top, top * eps, num=count)
    else:
        grid = as_float_array(alphas, "alphas")
        if grid.ndim != 1 or grid.shape[0] == 0:
            raise ValueError(f"alphas must be a non-empty 1-D array, got shape {grid.shape}")
        check_array_finite(grid, "alphas")
        if np.any(grid < 0):
            raise ValueError("alphas must be non-negative")
        grid = np.sort(grid)[::-1].copy()
    if coef_init is None:
        w = np.zeros(p)
    else:
        w = as_float_array(coef_init, "coef_init").ravel().copy()
        if w.shape[0] != p:
            raise ValueError(f"coef_init must have {p} entries, got {w.shape[0]}")
        check_array_finite(w, "coef_init")

    design = Design(X)
    seed = int(check_random_state(random_state).randint(_SEED_MAX))
    pen_code = PEN_L1_POS if positive else PEN_L1
    pens = np.full(p, pen_code, dtype=np.int64)
    coefs = np.empty((p, grid.shape[0]))
    gaps = np.empty(grid.shape[0])
    n_iters = np.zeros(grid.shape[0], dtype=np.int64)
    failed = []
    cache = {}  # Gram matrix, column norms and Xᵀy, computed once for the whole path
    for k, alpha in enumerate(grid):
        alpha = float(alpha)
        if alpha == 0.0:
            # the unpenalized problem has no usable dual bound: stop on the gradient instead
            l1_gap = None
        else:
            l1_gap = (alpha, bool(positive))
        out = solve_working_set(
            design, y, datafit.code, pens, np.full(p, alpha), w, l1_gap=l1_gap,
            fit_intercept=False, intercept0=0.0, rule=_RULE, use_working_set=True, tol=tol,
            max_iter=max_iter, seed=seed + k, callback=None, history=None, verbose=verbose,
            cache=cache)
        w = out.w
        coefs[:, k] = w
        gaps[k] = out.gap
        n_iters[k] = out.nit
        if out.status != Status.SUCCESS or not np.isfinite(out.objective):
            failed.append(alpha)
    if failed:
        warn_status("bcd_path", Status.MAX_ITER,
                    f"{len(failed)} of {grid.shape[0]} alphas ended above tol = {tol:.1e} "
                    f"(largest: {max(failed):.3e}); increase max_iter or loosen tol")
    if return_n_iter:
        return grid, coefs, gaps, n_iters
    return grid, coefs, gaps
