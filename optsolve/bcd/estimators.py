"""scikit-learn estimators over :func:`minimize_bcd`: a Lasso-style regressor and a classifier."""

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._backend import get_namespace, is_cupy_array, to_device
from ..base import (
    COMMON_SOLVER_CONSTRAINTS,
    Interval,
    SolverEstimatorMixin,
    StrOptions,
    _fit_context,
    validate_data,
)
from .datafits import L1, L2, LeastSquares, Logistic, Multinomial, duality_gap
from .partitions import PARTITIONS
from .solver import SELECTIONS, UPDATES, _minimize_checked, minimize_bcd

__all__ = ["GreedyBCDClassifier", "GreedyBCDRegressor"]

_COMMON = {
    **COMMON_SOLVER_CONSTRAINTS,
    "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    "penalty": [StrOptions({"l1", "l2"}), None],
    "selection": [StrOptions(set(SELECTIONS))],
    "update": [StrOptions(set(UPDATES) - {"message-passing"})],
    "partition": [StrOptions(set(PARTITIONS))],
    "block_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "fit_intercept": ["boolean"],
    "warm_start": ["boolean"],
}


def _penalty(name, alpha):
    if name == "l1":
        return L1(alpha)
    if name == "l2":
        return L2(alpha)
    return None


def _device_data(est, X, y=None, reset=True):
    """Validate CuPy inputs in place of ``validate_data`` (which would copy them to the host)."""
    from ._gpu import check_device_data

    xp = get_namespace(X, y)
    if y is None:
        X, _ = check_device_data(xp, X, xp.zeros(X.shape[0]))
    else:
        X, y = check_device_data(xp, X, y)
    if reset:
        est.n_features_in_ = X.shape[1]
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input")
    return xp, X, y


def _same_device(a, X):
    """``a`` (a learned array) moved to the namespace of ``X``."""
    return to_device(a, get_namespace(X)) if is_cupy_array(a) or is_cupy_array(X) else a


def _zero_targets(X):
    """Placeholder targets for validating a design alone."""
    return get_namespace(X).zeros(X.shape[0])


def _check_discrete_targets(y, classes):
    """:func:`sklearn.utils.multiclass.check_classification_targets` on a validated 1-D ``y``
    and its sorted ``classes``: numeric labels are discrete when every class is an integer
    (continuous targets raise its ``ValueError``; more classes than half of the samples, its
    warning). Other labels (strings, objects) go to scikit-learn's check, which is slower
    (a fifth of a small fit) for what a few comparisons decide on numeric labels."""
    if y.dtype.kind not in "biuf":
        check_classification_targets(y)
        return
    # integral floats, as type_of_target tests them: a round trip through int64
    if y.dtype.kind == "f" and not (np.all(np.abs(classes) < 2.0**63)
                                    and np.array_equal(classes, np.floor(classes))):
        raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a "
                         "classifier, which expects discrete classes on a regression target "
                         "with continuous values.")
    n = y.shape[0]
    if classes.shape[0] > 2 and n > 20 and classes.shape[0] > round(0.5 * n):
        warnings.warn("The number of unique classes is greater than 50% of the number of "
                      "samples. `y` could represent a regression problem, not a "
                      "classification problem.", UserWarning, stacklevel=3)


def _check_block_size(block_size, n_coef):
    if block_size > n_coef:
        raise ValueError(f"block_size must be at most n_features ({n_coef}), got {block_size}")


class GreedyBCDRegressor(SolverEstimatorMixin, RegressorMixin, BaseEstimator):
    """Linear regression with L1 / L2 / no penalty fitted by greedy block coordinate descent.

    With ``penalty='l1'`` the objective is exactly scikit-learn's
    :class:`~sklearn.linear_model.Lasso`:
    ``(1/(2n)) ‖y - Xw - b‖² + α‖w‖₁``; with ``'l2'`` it is ``… + ½α‖w‖²`` (ElasticNet with
    ``l1_ratio=0``). L1 fits stop on the relative duality gap, others on the relative gradient.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength.
    penalty : {'l1', 'l2'} or None, default='l1'
    selection : str, default='gsl'
        Block selection rule (see :func:`optsolve.bcd.minimize_bcd`).
    update : str, default='auto'
        Block update; ``'auto'`` is the greedy working-set proximal-Newton solver.
    partition : {'order', 'sort', 'avg', 'variable'}, default='order'
    block_size : int, default=1
    tol : float, default=1e-6
        Relative duality gap (l1) or relative gradient norm (l2 / None) to reach.
    max_iter : int, default=1000
    fit_intercept : bool, default=True
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    random_state : int, RandomState or None, default=None
    record_history : bool, default=False
    verbose : bool or int, default=False

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
        Duality gap at the solution (l1 only; ``nan`` otherwise).
    n_iter_ : int
    support_identified_at_ : int
        Iteration after which the support did not change any more.
    history_ : dict
        Per-iteration objective / optimality / time when ``record_history=True``.
    n_features_in_ : int

    References
    ----------
    J. Nutini, I. Laradji and M. Schmidt. JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd import GreedyBCDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 10)); y = 3 * X[:, 2] + 1
    >>> reg = GreedyBCDRegressor(alpha=0.1).fit(X, y)
    >>> np.flatnonzero(reg.coef_).tolist(), round(reg.intercept_, 1)
    ([2], 1.0)
    """

    _parameter_constraints: ClassVar[dict] = dict(_COMMON)

    def __init__(self, alpha=1.0, penalty="l1", selection="gsl", update="auto",
                 partition="order", block_size=1, tol=1e-6, max_iter=1000, fit_intercept=True,
                 warm_start=False, random_state=None, record_history=False, verbose=False):
        self.alpha = alpha
        self.penalty = penalty
        self.selection = selection
        self.update = update
        self.partition = partition
        self.block_size = block_size
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.random_state = random_state
        self.record_history = record_history
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model; returns ``self``.

        CuPy arrays (dense or ``cupyx.scipy.sparse``) are fitted on their GPU and the learned
        ``coef_`` stays there (see :func:`~optsolve.bcd.minimize_bcd`, Notes).
        """
        on_device = is_cupy_array(X) or is_cupy_array(y)
        if on_device:
            _, X, y = _device_data(self, X, y)
        else:
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64,
                                 y_numeric=True)
        _check_block_size(self.block_size, X.shape[1])
        x0 = None
        if self.warm_start and getattr(self, "coef_", None) is not None and (
                self.coef_.shape == (X.shape[1],)):
            x0 = _same_device(self.coef_, X)
        pen = _penalty(self.penalty, self.alpha)
        solve = minimize_bcd
        if not on_device:  # validate_data has checked X and y: skip the second check
            solve = _minimize_checked
            y = np.asarray(y, dtype=np.float64)
        res = solve(
            LeastSquares(), pen, X=X, y=y, selection=self.selection, partition=self.partition,
            update=self.update, block_size=self.block_size, tol=self.tol,
            max_iter=self.max_iter, random_state=self._rng(), record_history=self.record_history,
            x0=x0, fit_intercept=self.fit_intercept, verbose=self.verbose)
        self.coef_ = res.x if is_cupy_array(res.x) else np.asarray(res.x, dtype=np.float64)
        self.intercept_ = float(res.intercept) if self.fit_intercept else 0.0
        self.dual_gap_ = float(res.dual_gap)
        self.support_identified_at_ = int(res.support_identified_at)
        self._store_result(res)
        return self

    def predict(self, X):
        """Linear predictions ``X @ coef_ + intercept_``."""
        check_is_fitted(self)
        if is_cupy_array(X):
            _, X, _ = _device_data(self, X, reset=False)
            return (X @ _same_device(self.coef_, X)).ravel() + self.intercept_
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False)
        return np.asarray(X @ _same_device(self.coef_, X)).ravel() + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class GreedyBCDClassifier(SolverEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Logistic / multinomial regression with L1 or L2 penalty by greedy block coordinate descent.

    Objective ``(1/n) Σ_i loss_i + α‖w‖₁`` (``penalty='l1'``) or ``+ ½α‖w‖²`` (``'l2'``).
    ``loss='logistic'`` fits one binary model (one-vs-rest for more than two classes);
    ``loss='multinomial'`` fits the softmax model with a ``(n_features, n_classes)`` parameter.

    Parameters
    ----------
    alpha : float, default=0.01
    penalty : {'l1', 'l2'} or None, default='l1'
    loss : {'logistic', 'multinomial'}, default='logistic'
    selection : str, default='gsl'
    update : str, default='auto'
    partition : {'order', 'sort', 'avg', 'variable'}, default='order'
    block_size : int, default=1
    tol : float, default=1e-6
    max_iter : int, default=1000
    fit_intercept : bool, default=True
    warm_start : bool, default=False
    random_state : int, RandomState or None, default=None
    record_history : bool, default=False
    verbose : bool or int, default=False

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    dual_gap_ : float
        Largest duality gap over the fitted problems (l1 only; ``nan`` otherwise).
    n_iter_ : int
    history_ : dict
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd import GreedyBCDClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5)); y = np.where(X[:, 0] > 0, "yes", "no")
    >>> clf = GreedyBCDClassifier(alpha=0.01).fit(X, y)
    >>> clf.classes_.tolist(), clf.score(X, y) > 0.9
    (['no', 'yes'], True)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_COMMON, "loss": [StrOptions({"logistic", "multinomial"})]}

    def __init__(self, alpha=0.01, penalty="l1", loss="logistic", selection="gsl",
                 update="auto", partition="order", block_size=1, tol=1e-6, max_iter=1000,
                 fit_intercept=True, warm_start=False, random_state=None, record_history=False,
                 verbose=False):
        self.alpha = alpha
        self.penalty = penalty
        self.loss = loss
        self.selection = selection
        self.update = update
        self.partition = partition
        self.block_size = block_size
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.random_state = random_state
        self.record_history = record_history
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model; returns ``self``.

        CuPy arrays are fitted on their GPU (``loss='logistic'``), and ``coef_``,
        ``intercept_`` and ``classes_`` stay there.
        """
        if is_cupy_array(X) or is_cupy_array(y):
            return self._fit_device(X, y)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64)
        # LabelEncoder's result, without its array-API plumbing and its sort of y (numpy
        # finds the few classes by hashing; a millisecond or two per fit on 50k samples)
        self.classes_ = np.unique(y)
        _check_discrete_targets(y, self.classes_)
        if self.classes_.shape[0] <= 32:
            codes = np.zeros(y.shape[0], dtype=np.intp)
            for k in range(1, self.classes_.shape[0]):
                codes[y == self.classes_[k]] = k
        else:
            codes = np.searchsorted(self.classes_, y)
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise ValueError(f"the classifier needs samples of at least 2 classes in y; got "
                             f"1 class: {self.classes_[0]!r}")
        p = X.shape[1]
        pen = _penalty(self.penalty, self.alpha)
        kwargs = {"selection": self.selection, "partition": self.partition,
                  "update": self.update, "block_size": self.block_size, "tol": self.tol,
                  "max_iter": self.max_iter, "random_state": self._rng(),
                  "record_history": self.record_history, "fit_intercept": self.fit_intercept,
                  "verbose": self.verbose}
        warm = self.warm_start and getattr(self, "coef_", None) is not None
        gaps = []
        if self.loss == "multinomial":
            _check_block_size(self.block_size, p * n_classes)
            x0 = None
            if warm and self.coef_.shape == (n_classes, p):
                x0 = self.coef_.T.copy()
            res = minimize_bcd(Multinomial(n_classes), pen, X=X, y=codes, x0=x0, **kwargs)
            W = np.asarray(res.x).reshape(p, n_classes).T
            b = np.asarray(res.intercept, dtype=np.float64) * np.ones(n_classes)
            if isinstance(pen, L1):
                gaps.append(duality_gap(Multinomial(n_classes), pen, X, codes, W.T, b)[1])
            self.coef_, self.intercept_ = W, b
            results = [res]
        else:
            _check_block_size(self.block_size, p)
            targets = [codes == 1] if n_classes == 2 else [codes == k for k in range(n_classes)]
            coefs, intercepts, results = [], [], []
            for k, positive in enumerate(targets):
                yk = np.where(positive, 1.0, -1.0)
                x0 = None
                if warm and self.coef_.shape == (len(targets), p):
                    x0 = self.coef_[k]
                # X validated by validate_data, yk built as ±1 here: no second check
                res = _minimize_checked(Logistic(), pen, X=X, y=yk, x0=x0, **kwargs)
                coefs.append(np.asarray(res.x))
                intercepts.append(float(res.intercept))
                results.append(res)
                if isinstance(pen, L1):
                    gaps.append(float(res.dual_gap))
            self.coef_ = np.vstack(coefs)
            self.intercept_ = np.asarray(intercepts)
        if self.loss == "multinomial" and n_classes == 2:
            # the binary softmax model is the logistic model of the difference
            self.coef_ = (self.coef_[1] - self.coef_[0])[None, :]
            self.intercept_ = np.asarray([self.intercept_[1] - self.intercept_[0]])
        self.dual_gap_ = max(gaps) if gaps else np.nan
        self._store_result(max(results, key=lambda r: r.nit))
        return self

    def _fit_device(self, X, y):
        """One-vs-rest logistic fits on the GPU (``fit`` on CuPy input)."""
        get_namespace(X, y)  # host and device arrays mixed: a TypeError naming the argument
        xp, X, _ = _device_data(self, X, _zero_targets(X))
        y = xp.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D with {X.shape[0]} entries, got shape {y.shape}")
        if self.loss != "logistic":
            raise ValueError("on CuPy arrays only loss='logistic' is available, got "
                             f"loss={self.loss!r}")
        classes = xp.unique(y)
        if classes.shape[0] < 2:
            raise ValueError("the classifier needs samples of at least 2 classes in y; got 1")
        _check_block_size(self.block_size, X.shape[1])
        pen = _penalty(self.penalty, self.alpha)
        targets = classes[1:] if classes.shape[0] == 2 else classes
        warm = (self.warm_start and getattr(self, "coef_", None) is not None
                and self.coef_.shape == (targets.shape[0], X.shape[1]))
        coefs, intercepts, results = [], [], []
        for k in range(targets.shape[0]):
            yk = xp.where(y == targets[k], 1.0, -1.0).astype(X.dtype)
            res = minimize_bcd(
                Logistic(), pen, X=X, y=yk, selection=self.selection, partition=self.partition,
                update=self.update, block_size=self.block_size, tol=self.tol,
                max_iter=self.max_iter, record_history=self.record_history,
                fit_intercept=self.fit_intercept, verbose=self.verbose,
                x0=_same_device(self.coef_[k], X) if warm else None)
            coefs.append(res.x)
            intercepts.append(float(res.intercept))
            results.append(res)
        self.classes_ = classes
        self.coef_ = xp.stack(coefs)
        self.intercept_ = xp.asarray(intercepts, dtype=X.dtype)
        gaps = [float(r.dual_gap) for r in results]
        self.dual_gap_ = max(gaps) if isinstance(pen, L1) else np.nan
        self._store_result(max(results, key=lambda r: r.nit))
        return self

    def decision_function(self, X):
        """Linear scores: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        check_is_fitted(self)
        if is_cupy_array(X):
            _, X, _ = _device_data(self, X, reset=False)
            scores = X @ _same_device(self.coef_, X).T + _same_device(self.intercept_, X)
        else:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64,
                              reset=False)
            scores = np.asarray(X @ _same_device(self.coef_, X).T) + _same_device(
                self.intercept_, X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities (softmax for multinomial, normalized sigmoids for one-vs-rest)."""
        scores = self.decision_function(X)
        xp = get_namespace(scores)
        if scores.ndim == 1:
            p1 = 1.0 / (1.0 + xp.exp(-scores))
            return xp.stack([1.0 - p1, p1], axis=1)
        if self.loss == "multinomial":
            e = xp.exp(scores - scores.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        prob = 1.0 / (1.0 + xp.exp(-scores))
        return prob / prob.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        return get_namespace(X).log(self.predict_proba(X))

    def predict(self, X):
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return _same_device(self.classes_, scores)[idx]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
