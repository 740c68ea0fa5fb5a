"""Datafits composed skglm-style with the penalties of :mod:`.penalties`, and the duality gap
used for stopping.

A problem is ``P(w) = (1/n) Σ_i loss(x_iᵀ W, y_i) + Σ_j pen(w_j)``; for the multinomial datafit
``W`` is a ``(n_features, n_classes)`` matrix. Each datafit carries its kernel ``code`` and the
``curvature_bound`` (the supremum of the loss's second derivative) every engine reads its
coordinate Lipschitz constants from. ``L1``, ``L2`` and ``NonNegative`` are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import (
    as_float_array,
    check_array_finite,
    check_positive_int,
)
from . import _kernels as K
from .penalties import L1, L2, NonNegative

__all__ = [
    "L1",
    "L2",
    "LeastSquares",
    "Logistic",
    "Multinomial",
    "NonNegative",
    "Quadratic",
    "duality_gap",
]


@dataclass(frozen=True)
class LeastSquares:
    """``(1/n) Σ ½ (x_iᵀw - y_i)²`` — scikit-learn's Lasso/ElasticNet datafit.

    Examples
    --------
    >>> LeastSquares().curvature_bound
    1.0
    """

    code = K.LOSS_LS
    curvature_bound = 1.0  # sup of the loss's second derivative

    def n_outputs(self, y) -> int:
        return 1

    def encode(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)


@dataclass(frozen=True)
class Logistic:
    """``(1/n) Σ log(1 + exp(-y_i x_iᵀw))`` with labels ``y_i ∈ {-1, +1}``.

    Examples
    --------
    >>> Logistic().curvature_bound
    0.25
    """

    code = K.LOSS_LOGISTIC
    curvature_bound = 0.25

    def n_outputs(self, y) -> int:
        return 1

    def encode(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("y must hold labels -1 and +1 for the logistic datafit")
        return y


@dataclass(frozen=True)
class Multinomial:
    """``(1/n) Σ [logsumexp(x_iᵀW) - x_iᵀW_{:, y_i}]`` with integer labels ``0..K-1``.

    The parameter is a ``(n_features, n_classes)`` matrix; ``n_classes`` defaults to
    ``max(y) + 1``.

    Examples
    --------
    >>> Multinomial(n_classes=3).curvature_bound
    0.5
    """

    n_classes: int | None = None
    code = K.LOSS_MULTINOMIAL
    curvature_bound = 0.5  # diag(π) - ππᵀ ≼ ½ I

    def __post_init__(self):
        if self.n_classes is not None:
            check_positive_int(self.n_classes, "n_classes")

    def n_outputs(self, y) -> int:
        if self.n_classes:
            return int(self.n_classes)
        return int(np.max(y, initial=0)) + 1

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Labels as float64 after checking they are integers in ``0..n_classes-1``.

        The multinomial kernels index the prediction row by the label (``z[i*K + y_i]`` in
        ``_kernels.row_loss`` and ``row_derivative``, hence ``loss_sum``,
        ``loss_derivatives``, ``apply_block_change``, ``block_matrix``, ``loss_change_rows``,
        and ``_conjugate_sum`` here) without bounds checks: this is the guard every entry point
        (``minimize_bcd``, ``duality_gap``, ``GreedyBCDClassifier``) goes through.
        """
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
            raise ValueError("y must hold integer class labels 0..n_classes-1 for multinomial")
        if self.n_classes is not None and y.size and float(np.max(y)) >= self.n_classes:
            raise ValueError(
                f"y holds the label {int(np.max(y))} but the multinomial datafit has "
                f"n_classes={self.n_classes}: labels must be in 0..{self.n_classes - 1}")
        return y


@dataclass(frozen=True)
class Quadratic:
    """``½ xᵀAx - bᵀx`` for a symmetric positive definite ``A`` (pass ``X=A, y=b``).

    Solved by greedy coordinate descent on ``A`` directly, or by message passing on forest
    blocks (``selection`` one of the tree rules).

    Examples
    --------
    >>> Quadratic().code
    -1
    """

    code = -1
    curvature_bound = 1.0

    def n_outputs(self, y) -> int:
        return 1

    def encode(self, y):
        return np.asarray(y, dtype=np.float64)


def curvature_bound(code: int) -> float:
    """The ``curvature_bound`` of the datafit whose kernel code is ``code``."""
    for cls in (LeastSquares, Logistic, Multinomial, Quadratic):
        if cls.code == code:
            return cls.curvature_bound
    raise ValueError(f"no datafit has the code {code!r}")


def loss_value(code: int, z: np.ndarray, y: np.ndarray, n_outputs: int) -> float:
    """``(1/n) Σ_i loss_i(z_i)`` for predictions ``z`` of shape (n,) or (n, K)."""
    z = np.ascontiguousarray(z, dtype=np.float64).ravel()
    return K.loss_sum(code, z, y, n_outputs) / y.shape[0]


def loss_derivative(code: int, z: np.ndarray, y: np.ndarray, n_outputs: int) -> np.ndarray:
    """Per-sample derivatives ``loss_i'(z_i)`` (same shape as ``z``)."""
    zf = np.ascontiguousarray(z, dtype=np.float64).ravel()
    out = np.empty_like(zf)
    K.loss_derivatives(code, zf, y, n_outputs, out)
    return out.reshape(np.shape(z))


def _conjugate_sum(code: int, rho: np.ndarray, y: np.ndarray) -> float:
    """``Σ_i loss_i*(ρ_i)`` for the dual points ``ρ = s · loss'(z)``, s ∈ [0, 1]."""
    if code == K.LOSS_LS:
        return float(0.5 * rho @ rho + rho @ y)
    if code == K.LOSS_LOGISTIC:
        return float(K.logistic_conjugate_sum(np.ascontiguousarray(rho, dtype=np.float64), y))
    # multinomial: ρ = s(π - e_y), conjugate is the negative entropy of ρ + e_y
    q = rho.copy()
    q[np.arange(q.shape[0]), y.astype(np.int64)] += 1.0
    return float(np.sum(_xlogx(np.clip(q, 0.0, 1.0))))


def _xlogx(t):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0)


def gap_from_predictions(
    code: int, z: np.ndarray, y: np.ndarray, w: np.ndarray, xt_deriv: np.ndarray,
    alpha: float, positive: bool, deriv: np.ndarray | None = None,
) -> tuple[float, float]:
    """Primal value and duality gap of ``loss + α‖w‖₁ (+ w ≥ 0)`` at ``w``.

    ``z`` are the predictions ``Xw (+ intercept)``; ``xt_deriv`` is ``Xᵀ loss'(z) / n`` (the
    datafit gradient). The dual point is ``-loss'(z)/n`` rescaled into the dual feasible set
    ``{θ : ‖Xᵀθ‖∞ ≤ α}`` (``Xᵀθ ≤ α`` when ``positive``). ``deriv`` (``loss'(z)``) is
    recomputed when not given.
    """
    n = y.shape[0]
    if deriv is None:
        deriv = loss_derivative(code, z, y, z.shape[1] if z.ndim == 2 else 1)
    primal = loss_value(code, z, y, z.shape[1] if z.ndim == 2 else 1)
    primal += alpha * float(np.abs(w).sum())
    dual_norm = float(np.max(-xt_deriv, initial=0.0)) if positive else float(
        np.max(np.abs(xt_deriv), initial=0.0))
    scale = 1.0 if dual_norm <= alpha else alpha / dual_norm
    dual = -_conjugate_sum(code, scale * deriv, y) / n
    return primal, max(primal - dual, 0.0)


def duality_gap(datafit, penalty, X, y, coef, intercept=0.0) -> tuple[float, float]:
    """Duality gap of an L1-penalized problem at ``coef`` (any solver's solution).

    Parameters
    ----------
    datafit : LeastSquares, Logistic or Multinomial
    penalty : L1
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Targets (least squares), ±1 labels (logistic) or integer labels (multinomial).
    coef : ndarray of shape (n_features,) or (n_features, n_classes)
    intercept : float or ndarray of shape (n_classes,)
        Unpenalized offset added to the predictions. For least squares the gap is exact when
        the intercept is optimal for ``coef`` (``mean(y - X coef)``).

    Returns
    -------
    primal : float
        Objective value at ``coef``.
    gap : float
        Primal minus the dual objective at the rescaled dual point; zero at the optimum.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3); y = np.array([1.0, -2.0, 0.1])
    >>> p, gap = duality_gap(LeastSquares(), L1(0.1), X, y, np.zeros(3))
    >>> round(p, 4), gap > 0
    (0.835, True)
    """
    from .solver import _check_data, _resolve_datafit

    datafit = _resolve_datafit(datafit)
    if not isinstance(penalty, L1):
        raise TypeError("penalty must be L1 for a duality gap")
    X, yv = _check_data(X, y, datafit)
    coef = as_float_array(coef, "coef")
    n_out = datafit.n_outputs(yv)
    shape = (X.shape[1], n_out) if n_out > 1 else (X.shape[1],)
    if coef.shape != shape:
        raise ValueError(f"coef must have shape {shape} to match X and y, got {coef.shape}")
    check_array_finite(coef, "coef")
    intercept = as_float_array(intercept, "intercept")
    check_array_finite(intercept, "intercept")
    z = np.asarray(X @ coef, dtype=np.float64) + intercept
    deriv = loss_derivative(datafit.code, z, yv, z.shape[1] if z.ndim == 2 else 1)
    xt = np.asarray(X.T @ deriv) / yv.shape[0]
    return gap_from_predictions(datafit.code, z, yv, coef, xt, penalty.alpha, penalty.positive)
