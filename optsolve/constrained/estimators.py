"""scikit-learn estimator fitted by :func:`~optsolve.constrained.minimize_eq`."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from ..base import (
    COMMON_SOLVER_CONSTRAINTS,
    Interval,
    SolverEstimatorMixin,
    StrOptions,
    _fit_context,
    validate_data,
)
from ..problems import EqualityConstrainedProblem
from .sketches import SKETCHES
from .solver import METHODS, minimize_eq

__all__ = ["ConstrainedLogisticRegression"]


class _LogisticProblem(EqualityConstrainedProblem):
    """``(1/n) Σ log(1 + exp(-yᵢ xᵢᵀw)) + (α/2)‖coef‖²`` s.t. ``A coef = b``, ``‖coef‖² = r``.

    ``w = (coef, intercept)`` when an intercept is fitted (``X`` then has a column of ones).
    """

    name = "constrained_logistic"
    source = "Hong, Na, Mahoney & Kolar (ICML 2023), Sec. 5.2"

    def __init__(self, X, y_signed, A, b, norm, alpha, n_coef, weights):
        self.X, self.ys, self.A, self.b = X, y_signed, A, b
        self.weights = weights  # sum to one
        self.norm, self.alpha, self.n_coef = norm, alpha, n_coef
        self.n = X.shape[1]
        self.m = A.shape[0] + (norm is not None)
        self.n_samples = X.shape[0]
        self._mask = np.zeros(self.n)
        self._mask[:n_coef] = 1.0  # the penalty and the norm constraint act on coef only
        x0 = np.zeros(self.n)
        if norm is not None:
            # ‖w‖ = 0 would make the norm constraint's gradient vanish, and a constant vector
            # is parallel to the common constraint "coefficients sum to b": start on the
            # sphere along the decaying direction (1, 1/2, 1/3, ...) instead
            v = 1.0 / np.arange(1, n_coef + 1)
            x0[:n_coef] = np.sqrt(norm) * v / np.linalg.norm(v)
        self.x0 = x0

    def _margins(self, w):
        return self.ys * np.asarray(self.X @ w).ravel()

    def _obj(self, w):
        z = self._margins(w)
        loss = self.weights @ np.logaddexp(0.0, -z)
        return float(loss + 0.5 * self.alpha * np.sum((w * self._mask) ** 2))

    def _grad(self, w):
        z = self._margins(w)
        r = -self.ys * expit(-z) * self.weights
        return np.asarray(self.X.T @ r).ravel() + self.alpha * self._mask * w

    def _cons(self, w):
        c = self.A @ w - self.b
        if self.norm is not None:
            c = np.append(c, np.sum((w * self._mask) ** 2) - self.norm)
        return c

    def _jac(self, w):
        if self.norm is None:
            return self.A
        return np.vstack([self.A, 2.0 * self._mask * w])

    def _hess(self, w, v):
        z = self._margins(w)
        s = expit(z)
        d = s * (1.0 - s) * self.weights
        X = self.X
        diag = self.alpha * self._mask
        if self.norm is not None:
            diag = diag + 2.0 * v[-1] * self._mask
        if sp.issparse(X):
            # stays sparse: the solver assembles a sparse KKT matrix above its dense threshold
            # (a dense n_features² Hessian of a wide sparse X does not fit in memory)
            return sp.csr_matrix(X.T @ sp.diags(d) @ X + sp.diags(diag))
        H = (X * d[:, None]).T @ X
        H[np.diag_indices_from(H)] += diag
        return H


def _sample_weight(sample_weight, n_samples):
    """Validated non-negative weights of positive sum (ones when None)."""
    if sample_weight is None:
        return np.ones(n_samples)
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("sample_weight must be None, a number or an array of numbers") from None
    if sw.ndim == 0:  # a scalar weighs every sample alike: checked like an array
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(f"sample_weight must have shape ({n_samples},), got {sw.shape}")
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    if sw.sum() <= 0:
        raise ValueError("sample_weight has only zero weights; at least one must be positive")
    return sw


class ConstrainedLogisticRegression(SolverEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Binary logistic regression with linear equality constraints and an optional norm
    constraint, fitted by the sketched exact-augmented-Lagrangian Newton method.

    Solves ``min_w (1/n) Σ log(1 + exp(-yᵢ xᵢᵀw)) + (alpha/2)‖w‖²`` subject to
    ``A_eq w = b_eq`` and, when ``norm_constraint`` is given, ``‖w‖² = norm_constraint``
    (the experiment of Hong et al., Sec. 5.2, uses ``‖w‖² = 1``). The intercept is neither
    penalized nor constrained.

    Parameters
    ----------
    A_eq : array-like of shape (n_constraints, n_features) or None, default=None
        Linear equality constraints on the coefficients; None means none.
    b_eq : array-like of shape (n_constraints,) or None, default=None
        Right-hand side; None means zeros.
    norm_constraint : float > 0 or None, default=None
        Value of ``‖coef‖²`` imposed as an equality constraint.
    alpha : float >= 0, default=0.0
        Ridge penalty (0 is the paper's loss).
    fit_intercept : bool, default=True
    method : {'eal-sketch', 'eal-direct'}, default='eal-sketch'
    sketch : {'kaczmarz', 'gaussian', 'block', 'count'}, default='kaczmarz'
    tol : float, default=1e-6
        KKT tolerance ``max(‖∇ₓL‖∞, ‖c‖∞)``.
    max_iter : int, default=100
        Maximum number of outer (Newton) iterations.
    options : dict or None, default=None
        Further options of :func:`~optsolve.constrained.minimize_eq`.
    random_state : int, RandomState instance or None, default=None
        Seed of the sketches.
    record_history : bool, default=False
        Store per-iteration objective and KKT residual in ``history_``.
    verbose : bool or int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    multipliers_ : ndarray of shape (n_constraints + (norm_constraint is not None),)
        Lagrange multipliers of the constraints (``L = f + λᵀc``).
    kkt_ : float
        Final KKT residual.
    n_iter_ : int
        Outer iterations.
    n_inner_ : int
        Inner sketch iterations in total.
    result_ : OptimizeResult
        The full result of ``minimize_eq``.
    history_ : dict
        Only when ``record_history=True``.
    n_features_in_ : int

    References
    ----------
    .. [1] I. Hong, S. Na, M. W. Mahoney, M. Kolar. Constrained Optimization via Exact
       Augmented Lagrangian and Randomized Iterative Sketching. ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.constrained import ConstrainedLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 4))
    >>> y = (X @ [1.0, -1.0, 0.5, 0.0] > 0).astype(int)
    >>> clf = ConstrainedLogisticRegression(A_eq=[[1.0, 1.0, 0.0, 0.0]], b_eq=[0.0],
    ...                                     norm_constraint=1.0, random_state=0).fit(X, y)
    >>> w = clf.coef_.ravel()
    >>> bool(abs(w[0] + w[1]) < 1e-6 and abs(w @ w - 1.0) < 1e-6)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **COMMON_SOLVER_CONSTRAINTS,
        "A_eq": ["array-like", None],
        "b_eq": ["array-like", None],
        "norm_constraint": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "method": [StrOptions(set(METHODS))],
        "sketch": [StrOptions(set(SKETCHES))],
        "options": [dict, None],
    }

    def __init__(self, A_eq=None, b_eq=None, norm_constraint=None, *, alpha=0.0,
                 fit_intercept=True, method="eal-sketch", sketch="kaczmarz", tol=1e-6,
                 max_iter=100, options=None, random_state=None, record_history=False,
                 verbose=0):
        self.A_eq = A_eq
        self.b_eq = b_eq
        self.norm_constraint = norm_constraint
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.method = method
        self.sketch = sketch
        self.tol = tol
        self.max_iter = max_iter
        self.options = options
        self.random_state = random_state
        self.record_history = record_history
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the constrained model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Binary labels.
        sample_weight : array-like of shape (n_samples,), default=None
            The loss becomes ``Σ sᵢ ℓᵢ / Σ sᵢ``.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        sw = _sample_weight(sample_weight, X.shape[0])
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}."
            )
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"y has only one class ({self.classes_[0]!r}); "
                             "ConstrainedLogisticRegression needs samples of 2 classes")
        d = X.shape[1]
        A, b = self._constraints(d)
        if self.norm_constraint is not None and d == 0:
            raise ValueError("norm_constraint needs at least one feature")
        ys = np.where(y == self.classes_[1], 1.0, -1.0)
        if self.fit_intercept:
            ones = np.ones((X.shape[0], 1))
            Xa = sp.hstack([X, sp.csr_matrix(ones)], format="csr") if sp.issparse(X) else \
                np.hstack([X, ones])
            A = np.hstack([A, np.zeros((A.shape[0], 1))])
        else:
            Xa = X
        problem = _LogisticProblem(Xa, ys, A, b, self.norm_constraint, float(self.alpha), d,
                                   sw / sw.sum())
        res = minimize_eq(problem, method=self.method, sketch=self.sketch, tol=self.tol,
                          max_iter=self.max_iter, random_state=self._seed(),
                          options={**(self.options or {}), "record_history":
                                   self.record_history, "verbose": self.verbose})
        w = res.x
        self.coef_ = w[:d].reshape(1, d)
        self.intercept_ = np.array([w[d]]) if self.fit_intercept else np.zeros(1)
        self.multipliers_ = res.multipliers
        self.kkt_ = float(res.kkt)
        self.n_inner_ = int(res.n_inner)
        self.result_ = res
        self._store_result(res)
        return self

    def _constraints(self, d):
        if self.A_eq is None:
            if self.b_eq is not None and np.asarray(self.b_eq).size:
                raise ValueError("b_eq was given without A_eq")
            return np.zeros((0, d)), np.zeros(0)
        A = np.atleast_2d(np.asarray(self.A_eq, dtype=np.float64))
        if A.ndim != 2 or A.shape[1] != d:
            raise ValueError(f"A_eq must have shape (n_constraints, {d}) to match X's "
                             f"{d} features, got {A.shape}")
        b = np.zeros(A.shape[0]) if self.b_eq is None else np.asarray(self.b_eq, dtype=float)
        b = b.ravel()
        if b.shape != (A.shape[0],):
            raise ValueError(f"b_eq must have length {A.shape[0]} (rows of A_eq), got "
                             f"{b.shape[0]}")
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
            raise ValueError("A_eq and b_eq must be finite")
        return A, b

    def decision_function(self, X):
        """Signed distance ``X @ coef + intercept`` (positive for ``classes_[1]``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_.ravel()).ravel() + self.intercept_[0]

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        check_is_fitted(self)
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        z = self.decision_function(X)
        return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])


