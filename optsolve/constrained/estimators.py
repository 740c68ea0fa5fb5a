"""scikit-learn estimator fitted by :func:`~optsolve.constrained.minimize_eq` or, for bounds and
wide sparse inputs, by the matrix-free :func:`.newton_cg.minimize_bound_al`."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from .._optimize import make_result
from .._status import Status, termination_message, warn_status
from .._validation import check_allocation, check_dense_size
from ..base import (
    COMMON_SOLVER_CONSTRAINTS,
    Interval,
    SolverEstimatorMixin,
    StrOptions,
    _fit_context,
    validate_data,
)
from ..problems import EqualityConstrainedProblem
from .kkt import DENSE_KKT_MAX
from .newton_cg import NEWTON_CG_OPTIONS, minimize_bound_al
from .sketches import SKETCHES
from .solver import METHODS, minimize_eq

#: ``method='auto'`` picks the matrix-free ``'newton-cg'`` when there are bounds, or when ``X``
#: is sparse and the KKT system would have more than this many rows (``n_features +
#: fit_intercept + n_constraints``; above it the assembled ``XᵀDX`` is sparse and fills in)
MATRIX_FREE_MIN_KKT = DENSE_KKT_MAX
ESTIMATOR_METHODS = ("auto", *METHODS, "newton-cg")

__all__ = ["ConstrainedLogisticRegression"]


def _check_assembled_hessian(X, n, method):
    """The assembled methods form ``XᵀDX``: dense ``n x n`` for a dense ``X``; for a sparse one
    up to ``Σᵢ nnz(xᵢ)²`` entries (value and index, 12 bytes each). Refused before the first
    Newton step beyond ``OPTSOLVE_DENSE_LIMIT_BYTES``."""
    hint = f"the Hessian XᵀDX that method={method!r} assembles (method='newton-cg' is O(nnz))"
    if sp.issparse(X):
        rows = np.diff(X.indptr).astype(np.float64)
        fill = min(float(rows @ rows) + X.shape[0] + 2 * n, float(n) * n)
        check_allocation(int(12 * fill), "X", hint,
                         detail=f"about {fill:.3g} non-zeros in a sparse {n} x {n} matrix")
    else:
        check_dense_size((n, n), "X", hint)


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


class _LogisticLoss:
    """``Σ sᵢ log(1 + exp(-yᵢ(xᵢᵀcoef + b))) + (α/2)‖coef‖²`` with Hessian-vector products
    ``v ↦ Xᵀ(D(Xv)) + αv`` (``D = diag(sᵢ pᵢ(1 - pᵢ))``): two passes over ``X``, no matrix of
    the Hessian's size. The intercept ``b`` (last entry of ``w`` when fitted) is handled
    without a column of ones, so ``X`` is never copied."""

    def __init__(self, X, ys, weights, alpha, fit_intercept):
        self.X, self.ys, self.weights = X, ys, weights
        self.alpha, self.fit_intercept = alpha, fit_intercept
        self.d = X.shape[1]
        self._Xsq = None

    def _split(self, w):
        return w[:self.d], (w[self.d] if self.fit_intercept else 0.0)

    def _z(self, w):
        coef, b = self._split(w)
        return np.asarray(self.X @ coef).ravel() + b

    def fun(self, w):
        z = self.ys * self._z(w)
        coef, _ = self._split(w)
        loss = float(self.weights @ np.logaddexp(0.0, -z)) + 0.5 * self.alpha * float(
            coef @ coef)
        r = -self.ys * expit(-z) * self.weights
        g = np.asarray(self.X.T @ r).ravel() + self.alpha * coef
        if self.fit_intercept:
            g = np.append(g, r.sum())
        return loss, g

    def _squared(self):
        """``X ∘ X`` for the Hessian diagonal (sparse: new data, shared index arrays)."""
        if self._Xsq is None:
            X = self.X
            self._Xsq = (sp.csr_matrix((X.data**2, X.indices, X.indptr), shape=X.shape)
                         if sp.issparse(X) else X * X)
        return self._Xsq

    def hess(self, w):
        """``(hessp, diag)`` of the loss at ``w``."""
        p = expit(self._z(w))
        dd = p * (1.0 - p) * self.weights
        X, d, alpha, fi = self.X, self.d, self.alpha, self.fit_intercept

        def hessp(v):
            u = np.asarray(X @ v[:d]).ravel()
            if fi:
                u += v[d]
            u *= dd
            out = np.asarray(X.T @ u).ravel() + alpha * v[:d]
            return np.append(out, u.sum()) if fi else out

        diag = np.asarray(self._squared().T @ dd).ravel() + alpha
        if fi:
            diag = np.append(diag, dd.sum())
        return hessp, diag


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


def _linear_feasible(A, b, lower, upper) -> bool:
    """Whether ``A w = b`` has a solution within the bounds (HiGHS on a zero objective)."""
    from scipy.optimize import linprog

    res = linprog(np.zeros(A.shape[1]), A_eq=A, b_eq=b,
                  bounds=np.column_stack([np.where(np.isfinite(lower), lower, None),
                                          np.where(np.isfinite(upper), upper, None)]),
                  method="highs")
    return res.status != 2  # 2: infeasible; any other outcome lets the solver decide


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
    positive : bool, default=False
        Constrain the coefficients to be non-negative (as scikit-learn's ``Lasso`` and
        ``LinearRegression``); combined with ``bounds`` the lower bound becomes
        ``max(lower, 0)``.
    bounds : tuple (lower, upper) or None, default=None
        Box constraints ``lower <= coef <= upper``; each side a number, an array of shape
        ``(n_features,)`` or None (unbounded; ``±inf`` entries are unbounded too). The
        intercept is never bounded.
    fit_intercept : bool, default=True
    method : {'auto', 'eal-sketch', 'eal-direct', 'newton-cg'}, default='auto'
        ``'eal-sketch'`` and ``'eal-direct'`` are the Newton methods of
        :func:`~optsolve.constrained.minimize_eq` (KKT matrix assembled, solved by sketching or
        LU). ``'newton-cg'`` is matrix-free (:func:`~optsolve.constrained.newton_cg.
        minimize_bound_al`: Hessian-vector products ``Xᵀ(D(Xv)) + αv``, projected Newton–CG on
        a bound-constrained augmented Lagrangian); it is the only method that handles
        ``positive``/``bounds``, and its memory is ``O(nnz(X) + n_features n_constraints)``.
        ``'auto'`` picks ``'newton-cg'`` when there are bounds, or when ``X`` is sparse and
        ``n_features + fit_intercept + n_constraints > 1000`` (where the assembled ``XᵀDX``
        would be sparse and fill in), and ``'eal-sketch'`` otherwise.
    sketch : {'kaczmarz', 'gaussian', 'block', 'count'}, default='kaczmarz'
        Sketch of ``'eal-sketch'`` (ignored by the other methods).
    tol : float, default=1e-6
        KKT tolerance ``max(‖∇ₓL‖∞, ‖c‖∞)`` (with bounds, ``‖coef - P[coef - ∇ₓL]‖∞`` in
        place of ``‖∇ₓL‖∞``, ``P`` the projection onto the box).
    max_iter : int, default=100
        Maximum number of outer (Newton) iterations.
    options : dict or None, default=None
        Further options of :func:`~optsolve.constrained.minimize_eq`, or of
        :func:`~optsolve.constrained.newton_cg.minimize_bound_al` for ``'newton-cg'``.
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
    method_ : str
        The method used (``'auto'`` resolved).
    kkt_ : float
        Final KKT residual.
    n_iter_ : int
        Outer iterations.
    n_inner_ : int
        Inner sketch iterations in total (``'newton-cg'``: Hessian-vector products).
    result_ : OptimizeResult
        The full result of the solver (``'newton-cg'`` adds ``lower_multipliers`` and
        ``upper_multipliers`` of the bounds).
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
    >>> nonneg = ConstrainedLogisticRegression(positive=True, alpha=0.01).fit(X, y)
    >>> bool(nonneg.coef_.min() >= 0.0), nonneg.method_
    (True, 'newton-cg')
    """

    _parameter_constraints: ClassVar[dict] = {
        **COMMON_SOLVER_CONSTRAINTS,
        "A_eq": ["array-like", None],
        "b_eq": ["array-like", None],
        "norm_constraint": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "positive": ["boolean"],
        "bounds": ["array-like", None],
        "fit_intercept": ["boolean"],
        "method": [StrOptions(set(ESTIMATOR_METHODS))],
        "sketch": [StrOptions(set(SKETCHES))],
        "options": [dict, None],
    }

    def __init__(self, A_eq=None, b_eq=None, norm_constraint=None, *, alpha=0.0,
                 positive=False, bounds=None, fit_intercept=True, method="auto",
                 sketch="kaczmarz", tol=1e-6, max_iter=100, options=None, random_state=None,
                 record_history=False, verbose=0):
        self.A_eq = A_eq
        self.b_eq = b_eq
        self.norm_constraint = norm_constraint
        self.alpha = alpha
        self.positive = positive
        self.bounds = bounds
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
        lower, upper = self._bounds(d)
        bounded = bool(np.any(np.isfinite(lower)) or np.any(np.isfinite(upper)))
        method = self._resolve_method(X, d, A.shape[0], bounded)
        self.method_ = method
        if method == "newton-cg":
            res = self._fit_newton_cg(X, ys, sw / sw.sum(), A, b, lower, upper)
        else:
            res = self._fit_eal(X, ys, sw / sw.sum(), A, b, d, method)
        w = res.x
        self.coef_ = w[:d].reshape(1, d)
        self.intercept_ = np.array([w[d]]) if self.fit_intercept else np.zeros(1)
        self.multipliers_ = res.multipliers
        self.kkt_ = float(res.kkt)
        self.n_inner_ = int(res.n_inner)
        self.result_ = res
        self._store_result(res)
        return self

    def _resolve_method(self, X, d, n_linear, bounded):
        m = n_linear + (self.norm_constraint is not None)
        if self.method == "auto":
            wide = sp.issparse(X) and d + bool(self.fit_intercept) + m > MATRIX_FREE_MIN_KKT
            return "newton-cg" if bounded or wide else "eal-sketch"
        if bounded and self.method != "newton-cg":
            raise ValueError(f"positive/bounds need method='newton-cg' or 'auto' (the "
                             f"{self.method!r} method handles equality constraints only)")
        return self.method

    def _fit_eal(self, X, ys, weights, A, b, d, method):
        _check_assembled_hessian(X, d + bool(self.fit_intercept), method)
        if self.fit_intercept:
            ones = np.ones((X.shape[0], 1))
            Xa = sp.hstack([X, sp.csr_matrix(ones)], format="csr") if sp.issparse(X) else \
                np.hstack([X, ones])
            A = np.hstack([A, np.zeros((A.shape[0], 1))])
        else:
            Xa = X
        problem = _LogisticProblem(Xa, ys, A, b, self.norm_constraint, float(self.alpha), d,
                                   weights)
        return minimize_eq(problem, method=method, sketch=self.sketch, tol=self.tol,
                           max_iter=self.max_iter, random_state=self._seed(),
                           options={**(self.options or {}), "record_history":
                                    self.record_history, "verbose": self.verbose})

    def _fit_newton_cg(self, X, ys, weights, A, b, lower, upper):
        """The matrix-free path: memory ``O(nnz(X) + n_features n_constraints)``."""
        opts = NEWTON_CG_OPTIONS.resolve({**(self.options or {}), "record_history":
                                          self.record_history, "verbose": int(self.verbose)})
        d = X.shape[1]
        fi = bool(self.fit_intercept)
        n = d + fi
        loss = _LogisticLoss(X, ys, weights, float(self.alpha), fi)
        norm = self.norm_constraint
        m_lin = A.shape[0]
        m = m_lin + (norm is not None)
        if fi:  # the intercept is neither bounded nor constrained
            lower, upper = np.append(lower, -np.inf), np.append(upper, np.inf)
            A = np.hstack([A, np.zeros((m_lin, 1))])
        x0 = np.zeros(n)
        if norm is not None:  # on the sphere, away from the direction of a common sum row
            v = 1.0 / np.arange(1, d + 1)
            if np.any(np.isfinite(lower[:d]) | np.isfinite(upper[:d])):
                v = np.clip(v, lower[:d], upper[:d])
                v = v if np.any(v) else np.ones(d)
            x0[:d] = np.sqrt(norm) * v / np.linalg.norm(v)
        if m_lin and (np.any(np.isfinite(lower)) or np.any(np.isfinite(upper))) and \
                not _linear_feasible(A, b, lower, upper):
            x0 = np.clip(x0, lower, upper)
            f0 = loss.fun(x0)[0]
            detail = "A_eq w = b_eq has no solution within the bounds (linear program)"
            res = make_result(
                x0, f0, success=False, status=Status.INFEASIBLE,
                message=termination_message(Status.INFEASIBLE, detail), nit=0,
                multipliers=np.zeros(m), kkt=np.inf,
                constr_violation=float(np.max(np.abs(A @ x0 - b))), n_inner=0)
            warn_status("ConstrainedLogisticRegression", Status.INFEASIBLE, detail)
            return res

        def cons(w):
            c = A @ w - b
            if norm is not None:
                c = np.append(c, w[:d] @ w[:d] - norm)
            return c

        def jac(w):
            if norm is None:
                return A
            row = np.zeros(n)
            row[:d] = 2.0 * w[:d]
            return np.vstack([A, row])

        def hess(w, y):
            hp, diag = loss.hess(w)
            if norm is None or y[-1] == 0.0:
                return hp, diag
            t = 2.0 * y[-1]
            mask = np.zeros(n)
            mask[:d] = t

            def hessp(v):
                return hp(v) + mask * v

            return hessp, diag + mask

        res = minimize_bound_al(loss.fun, hess, x0, cons=cons if m else None,
                                jac=jac if m else None, n_constraints=m, lower=lower,
                                upper=upper, tol=self.tol, max_iter=self.max_iter,
                                options=opts)
        res["n_inner"] = res.n_cg
        return res

    def _bounds(self, d):
        """``(lower, upper)`` of shape ``(d,)`` from ``bounds`` and ``positive``."""
        lower, upper = np.full(d, -np.inf), np.full(d, np.inf)
        if self.bounds is not None:
            pair = self.bounds
            if isinstance(pair, np.ndarray) and pair.ndim >= 1 and pair.shape[0] == 2:
                pair = list(pair)
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError("bounds must be a pair (lower, upper) or None, got "
                                 f"{type(self.bounds).__name__}")
            out = []
            for side, value, default in (("lower", pair[0], -np.inf),
                                         ("upper", pair[1], np.inf)):
                if value is None:
                    out.append(np.full(d, default))
                    continue
                try:
                    arr = np.asarray(value, dtype=np.float64)
                except (TypeError, ValueError):
                    raise TypeError(f"bounds ({side}) must be a number, an array of "
                                    f"{d} numbers or None") from None
                if arr.ndim == 0:
                    arr = np.full(d, float(arr))
                if arr.shape != (d,):
                    raise ValueError(f"bounds ({side}) must be a number or have shape ({d},) "
                                     f"to match X's {d} features, got {arr.shape}")
                if np.any(np.isnan(arr)):
                    raise ValueError(f"bounds ({side}) contains NaN")
                out.append(arr.copy())
            lower, upper = out
            if np.any(lower == np.inf) or np.any(upper == -np.inf):
                raise ValueError("bounds: a lower bound of +inf or an upper bound of -inf "
                                 "leaves no feasible coefficient")
        if self.positive:
            lower = np.maximum(lower, 0.0)
        bad = np.flatnonzero(lower > upper)
        if bad.size:
            what = "positive=True and bounds" if self.positive else "bounds"
            raise ValueError(f"{what}: lower > upper for feature(s) {bad[:10].tolist()}"
                             f"{'...' if bad.size > 10 else ''}")
        return lower, upper

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


