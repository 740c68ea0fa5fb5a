"""scikit-learn estimators over :func:`optsolve.randomwalk.token_sgd`."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..base import Interval, SolverEstimatorMixin, StrOptions, _fit_context, validate_data
from ..graphs import GRAPH_KINDS, make_graph
from ..problems.partitioned import DecentralizedProblem, partition_data
from .chains import BASE_CHAINS, WALKS, graph_adjacency
from .schedules import REGIMES
from .token_sgd import token_sgd

__all__ = ["TokenSGDClassifier", "TokenSGDRegressor"]

#: default (a, b) of the estimators: case (i) of Hu et al. (2024), beta = o(gamma), like
#: token_sgd's default, but with b = 0.6 instead of 0.9 because the estimators average the
#: iterates. The Polyak-Ruppert average's asymptotic covariance does not depend on b (Polyak &
#: Juditsky 1992), so b only sets how fast the run leaves its initial transient: on a
#: 400-sample logistic regression (10 agents) (0.6, 0.9) is 9x further from the optimum than
#: (0.55, 0.6) after the default n_steps = 20000, and still 2x after 200000. The average sums
#: the walk's visits over half the run, a window far longer than the memory 1/gamma_n of x_n,
#: so its covariance still falls like 1/alpha^2 (ridge on the karate club, 34 agents,
#: n = 20000: n trace Cov of the average 48x below the base chain's at alpha = 5, 435x at
#: alpha = 20)
ESTIMATOR_REGIME = (0.55, 0.6)

_CONSTRAINTS = {
    "n_agents": [Interval(numbers.Integral, 2, None, closed="left")],
    "graph": [StrOptions(set(GRAPH_KINDS)), "array-like", "sparse matrix", object],
    "walk": [StrOptions(set(WALKS))],
    "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    "base": [StrOptions(set(BASE_CHAINS))],
    "n_steps": [Interval(numbers.Integral, 1, None, closed="left")],
    "step_size": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})],
    "regime": [StrOptions(set(REGIMES)), tuple, list],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "averaging": ["boolean"],
    "l2_reg": [Interval(numbers.Real, 0, None, closed="left")],
    "fit_intercept": ["boolean"],
    "partition": [StrOptions({"iid", "sorted", "dirichlet"})],
    "random_state": ["random_state"],
    "record_history": ["boolean"],
}

_PARAMS_DOC = """
    n_agents : int >= 2, default=10
        Number of agents the training rows are split across (:func:`partition_data`).
    graph : str, sparse matrix, ndarray or networkx.Graph, default="erdos_renyi"
        The agents' graph: a kind of :func:`optsolve.graphs.make_graph` built on
        ``n_agents`` nodes from ``random_state``, or a connected graph of ``n_agents`` nodes.
    walk : {"srrw", "srw", "mh", "nbrw", "iid"}, default="srrw"
        The token's walk (see :func:`token_sgd`).
    alpha : float >= 0, default=10.0
        Strength of the self-repellent walk (not the ridge penalty, see ``l2_reg``).
    base : {"mh", "srw"}, default="mh"
        Base chain of the SRRW.
    n_steps : int, default=20000
        Token moves (each one local gradient step).
    step_size : float > 0 or "auto", default="auto"
        Scale of the step sizes ``beta_n = step_size (n+1)^-b``.
    regime : {"fast_walk", "same", "slow_walk"} or (a, b), default=(0.55, 0.6)
        Step-size exponents ``gamma_n = (n+1)^-a``, ``beta_n = step_size (n+1)^-b``. The
        default is case (i) (``b > a``, the ``1/alpha^2`` case) like :func:`token_sgd`'s
        ``"fast_walk"`` = ``(0.6, 0.9)``, with slower-decaying steps because the estimators
        average the iterates (``averaging=True``): the average's asymptotic covariance does
        not depend on ``b`` (Polyak & Juditsky 1992) and still falls like ``1/alpha^2`` (the
        average spans half the run, far longer than the memory ``1/gamma_n`` of the walk's
        measure), while with ``b = 0.9`` a logistic fit is still 2x less accurate after 10x
        more steps.
    batch_size : int or None, default=None
        Local mini-batch size; None for full local gradients.
    averaging : bool, default=True
        Predict with the Polyak–Ruppert average of the iterates (less noisy than the last).
    l2_reg : float >= 0, default=1e-4
        Ridge penalty ``(l2_reg / 2) ||w||^2`` added to the mean loss (it also penalizes the
        intercept, carried as a constant feature).
    fit_intercept : bool, default=True
        Fit an intercept (as the weight of a constant feature).
    partition : {"iid", "sorted", "dirichlet"}, default="iid"
        How the rows are split across the agents.
    random_state : int, RandomState or None
        Seeds the split, a random graph and the walk.
    record_history : bool, default=False
        Store the ``history_`` of ``||theta - theta*||`` (computes the centralized solution).
"""


class _TokenSGDBase(SolverEstimatorMixin, BaseEstimator):
    _parameter_constraints: ClassVar[dict] = _CONSTRAINTS
    _common_test_params: ClassVar[dict] = {"random_state": 0, "n_agents": 3, "n_steps": 5000}

    def __init__(self, n_agents: int = 10, *, graph="erdos_renyi", walk: str = "srrw",
                 alpha: float = 10.0, base: str = "mh", n_steps: int = 20_000,
                 step_size="auto", regime=ESTIMATOR_REGIME, batch_size: int | None = None,
                 averaging: bool = True, l2_reg: float = 1e-4, fit_intercept: bool = True,
                 partition: str = "iid", random_state=None, record_history: bool = False):
        self.n_agents = n_agents
        self.graph = graph
        self.walk = walk
        self.alpha = alpha
        self.base = base
        self.n_steps = n_steps
        self.step_size = step_size
        self.regime = regime
        self.batch_size = batch_size
        self.averaging = averaging
        self.l2_reg = l2_reg
        self.fit_intercept = fit_intercept
        self.partition = partition
        self.random_state = random_state
        self.record_history = record_history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _design(self, X):
        """X with a constant column appended when fitting an intercept."""
        if not self.fit_intercept:
            return X
        ones = np.ones((X.shape[0], 1))
        return sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([X, ones])

    def _graph(self, rng):
        if isinstance(self.graph, str):
            if self.graph not in GRAPH_KINDS:
                raise ValueError(f"graph must be one of {sorted(GRAPH_KINDS)}, an adjacency "
                                 f"matrix or a networkx graph, got {self.graph!r}")
            return make_graph(self.graph, self.n_agents, random_state=rng.randint(2**31 - 1))
        A = graph_adjacency(self.graph, "graph")
        if A.shape[0] != self.n_agents:
            raise ValueError(
                f"graph has {A.shape[0]} nodes but n_agents={self.n_agents}: one agent per node"
            )
        return A

    def _solve(self, X, y, loss: str, rng, A, part_seed: int):
        """One token-SGD run (rows split by ``part_seed``); returns (coef, intercept,
        result)."""
        if X.shape[0] < self.n_agents:
            raise ValueError(
                f"X has {X.shape[0]} sample(s), fewer than n_agents = {self.n_agents}: every "
                "agent needs at least one sample"
            )
        parts = partition_data(self._design(X), y, self.n_agents, how=self.partition,
                               random_state=part_seed)
        make = DecentralizedProblem.ridge if loss == "ridge" else DecentralizedProblem.logistic
        problem = make(parts, alpha=self.l2_reg)
        res = token_sgd(
            problem, A, walk=self.walk, alpha=self.alpha, n_steps=self.n_steps,
            step_size=self.step_size, regime=tuple(self.regime) if isinstance(
                self.regime, list) else self.regime,
            batch_size=self.batch_size, averaging=self.averaging,
            random_state=rng.randint(2**31 - 1), base=self.base,
            record_history=self.record_history)
        w = res.x
        return (w[:-1], float(w[-1]), res) if self.fit_intercept else (w, 0.0, res)

    def _store(self, results, A):
        self.graph_ = A
        self.n_iter_ = int(max(r.nit for r in results))
        self.visits_ = results[0].visits
        if self.record_history:
            self.history_ = results[0].history if len(results) == 1 else [
                r.history for r in results]
        elif hasattr(self, "history_"):
            del self.history_

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return X @ self.coef_.T + self.intercept_


class TokenSGDRegressor(RegressorMixin, _TokenSGDBase):
    __doc__ = """Ridge regression fitted by token SGD over a graph of agents (SA-SRRW).

    The training rows are split across ``n_agents`` agents; one model travels over the graph
    on a self-repellent random walk (or a baseline walk) and takes a local gradient step at
    each agent it visits (Hu, Doshi & Eun 2024). Minimizes ``(1/(2N)) ||X w + b - y||^2 +
    (l2_reg/2) (||w||^2 + b^2)``.

    Parameters
    ----------""" + _PARAMS_DOC + """
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    graph_ : scipy.sparse.csr_matrix
        The agents' graph used.
    visits_ : ndarray of shape (n_agents,)
        Visits of the token per agent.
    n_iter_ : int
        Token steps run.
    n_features_in_ : int
    history_ : dict
        ``step`` and ``error`` (``record_history=True``).

    See Also
    --------
    token_sgd : the functional solver.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.randomwalk import TokenSGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 1.0
    >>> reg = TokenSGDRegressor(n_agents=10, random_state=0).fit(X, y)
    >>> np.round(reg.coef_, 1), round(reg.intercept_, 1)
    (array([ 1. , -2. ,  0.5]), 1.0)
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on ``X`` (dense or sparse) and targets ``y``; returns ``self``."""
        X, y = validate_data(self, X, y, accept_sparse="csr", y_numeric=True,
                             dtype=np.float64)
        rng = self._rng()
        A = self._graph(rng)
        coef, intercept, res = self._solve(X, y.astype(np.float64), "ridge", rng, A,
                                           rng.randint(2**31 - 1))
        self.coef_, self.intercept_ = coef, intercept
        self._store([res], A)
        return self

    def predict(self, X):
        """``X @ coef_ + intercept_``."""
        return np.asarray(self._decision(X)).ravel()


class TokenSGDClassifier(ClassifierMixin, _TokenSGDBase):
    __doc__ = """Logistic regression fitted by token SGD over a graph of agents (SA-SRRW).

    Binary problems are one token-SGD run on the ℓ2-regularized logistic loss; with more
    classes, one run per class (one-vs-rest). The rows are split across ``n_agents`` agents and
    one model travels over the graph on a self-repellent random walk (Hu, Doshi & Eun 2024).

    Parameters
    ----------""" + _PARAMS_DOC + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    graph_ : scipy.sparse.csr_matrix
    visits_ : ndarray of shape (n_agents,)
        Visits of the token per agent (first run).
    n_iter_ : int
    n_features_in_ : int
    history_ : dict or list of dict
        Per run ``step`` and ``error`` (``record_history=True``).

    See Also
    --------
    token_sgd : the functional solver.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.randomwalk import TokenSGDClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> clf = TokenSGDClassifier(n_agents=10, random_state=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on ``X`` (dense or sparse) and labels ``y``; returns ``self``."""
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(
                f"TokenSGDClassifier needs samples of at least 2 classes in y, got 1 class: "
                f"{self.classes_[0]!r}"
            )
        rng = self._rng()
        A = self._graph(rng)
        targets = [y == self.classes_[1]] if self.classes_.size == 2 else [
            y == c for c in self.classes_]
        # every one-vs-rest run sees the same split: an agent keeps its rows
        part_seed = rng.randint(2**31 - 1)
        runs = [self._solve(X, t.astype(np.float64) * 2 - 1, "logistic", rng, A, part_seed)
                for t in targets]
        self.coef_ = np.stack([r[0] for r in runs])
        self.intercept_ = np.array([r[1] for r in runs])
        self._store([r[2] for r in runs], A)
        return self

    def decision_function(self, X):
        """Signed scores: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        scores = np.asarray(self._decision(X))
        return scores.ravel() if self.classes_.size == 2 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[idx]

    def predict_proba(self, X):
        """Logistic probabilities (one-vs-rest scores normalized to sum to 1)."""
        scores = self.decision_function(X)
        p = 1.0 / (1.0 + np.exp(-np.clip(scores, -500, 500)))
        if p.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))
