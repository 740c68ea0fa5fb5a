"""scikit-learn estimators fitted by decentralized optimization (DADAO and its baselines).

The data are split across ``n_nodes`` simulated (or MPI) nodes of a communication graph; each
node holds only its part and the nodes reach the centralized ridge / logistic solution through
:func:`optsolve.decentralized.solve` (event simulator) or
:func:`optsolve.decentralized.run_mpi` (one process per node).
"""

from __future__ import annotations

import logging
import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..base import (
    Interval,
    SolverEstimatorMixin,
    StrOptions,
    _fit_context,
    validate_data,
)
from ..graphs import GRAPH_KINDS

__all__ = ["DecentralizedLogisticRegression", "DecentralizedRidge"]

logger = logging.getLogger("optsolve.decentralized")

#: solvers of :func:`optsolve.decentralized.solve` (the paper's method and its comparison set)
SOLVERS = ("dadao", "dgd", "extra", "msda", "adom+", "continuized")
PARTITIONS = ("iid", "sorted", "dirichlet")

_CONSTRAINTS = {
    "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
    "n_nodes": [Interval(numbers.Integral, 1, None, closed="left")],
    # a kind name (make_graph), an adjacency or a networkx graph: checked by _graph in fit
    "graph": "no_validation",
    "solver": [StrOptions(set(SOLVERS))],
    "solver_options": [dict, None],
    "partition": [StrOptions(set(PARTITIONS))],
    "backend": [StrOptions({"simulate", "mpi"})],
    "tol": [Interval(numbers.Real, 0, None, closed="left")],
    "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
    "max_events": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "fit_intercept": ["boolean"],
    "random_state": ["random_state"],
    "record_history": ["boolean"],
    "verbose": ["verbose"],
}


def _verbose_callback(verbose, label):
    """A ``callback(intermediate_result)`` logging progress, or ``None`` when quiet."""
    if not verbose:
        return None

    def log(res):
        logger.info(
            "%s t=%-10.4g grads=%-10d comms=%-10d rel_grad=%.3e", label,
            float(res.get("time", np.nan)), int(res.get("n_gradients", -1)),
            int(res.get("n_communications", -1)), float(res.get("grad_rel", np.nan)))

    return log


class _DecentralizedLinearModel(SolverEstimatorMixin, BaseEstimator):
    """Fit plumbing shared by the decentralized ridge and logistic estimators."""

    _parameter_constraints: ClassVar[dict] = dict(_CONSTRAINTS)
    # a small well-conditioned run keeps the ~50 common checks' fits to a fraction of a second;
    # some checks fit features centred at 100 (~10⁶ events on 4 nodes), where checking every
    # unit of simulated time would spend 90 % of the fit in the monitor
    _common_test_params: ClassVar[dict] = {"n_nodes": 4, "graph": "complete", "alpha": 1e-2,
                                           "tol": 1e-4,
                                           "solver_options": {"monitor_interval": 20.0}}

    def _graph(self, seed):
        from ..graphs import check_graph, make_graph

        if isinstance(self.graph, str):
            if self.graph not in GRAPH_KINDS:
                raise ValueError(f"graph must be one of {sorted(GRAPH_KINDS)}, an adjacency "
                                 f"matrix or a networkx.Graph; got {self.graph!r}")
            A = make_graph(self.graph, self.n_nodes, random_state=seed)
        else:
            A = check_graph(self.graph, "graph")
        if A.shape[0] != self.n_nodes:
            raise ValueError(
                f"graph has {A.shape[0]} nodes but n_nodes={self.n_nodes}; pass a graph with "
                "one node per data part")
        return A

    def _check_n_samples(self, n_samples):
        if n_samples < self.n_nodes:
            raise ValueError(
                f"X has {n_samples} sample(s), fewer than n_nodes={self.n_nodes}: every node "
                "needs at least one sample")

    def _solve(self, X, y, loss, A, seeds, label, center=None):
        """Partition ``(X, y)``, build the decentralized problem (rows read as ``x − center``
        when given), run it; the raw result."""
        from . import DecentralizedProblem, partition_data

        parts = partition_data(X, y, self.n_nodes, how=self.partition, random_state=seeds[1])
        make = DecentralizedProblem.ridge if loss == "ridge" else DecentralizedProblem.logistic
        problem = make(parts, self.alpha, center=center)
        options = dict(self.solver_options or {})
        self._check_solver_options(options)
        if self.backend == "mpi":
            try:
                from .mpi import run_mpi
            except ImportError as exc:  # pragma: no cover - depends on the [distributed] extra
                raise ImportError(
                    "backend='mpi' needs optsolve.decentralized.run_mpi and mpi4py "
                    "(pip install 'optsolve[distributed]')") from exc
            # n_procs=None: min(n_nodes, CPUs), several nodes per process beyond that
            return run_mpi(problem, A, solver=self.solver, n_procs=None,
                           tol=self.tol, max_time=self.max_time, max_events=self.max_events,
                           random_state=seeds[2], **options)
        from . import solve

        return solve(problem, A, solver=self.solver, tol=self.tol,
                     max_time=self.max_time, max_events=self.max_events,
                     random_state=seeds[2], callback=_verbose_callback(self.verbose, label),
                     **options)

    def _check_solver_options(self, options):
        """Unknown keys of ``solver_options`` are refused here, naming the parameter (their
        values are checked by the solver)."""
        from .solver import COMMON_OPTIONS, METHODS

        valid = set(METHODS[self.solver].options) | set(COMMON_OPTIONS)
        unknown = set(options) - valid
        if unknown:
            raise ValueError(
                f"solver_options has unknown key(s) {sorted(unknown)} for solver "
                f"{self.solver!r}; valid: {sorted(valid)}")

    def _seeds(self):
        """Three integer seeds (graph, partition, solver) drawn once from ``random_state``."""
        return [int(s) for s in self._rng().randint(np.iinfo(np.int32).max, size=3)]

    def _store_counts(self, results):
        self.n_iter_ = int(sum(int(r.nit) for r in results))
        self.n_gradients_ = int(sum(int(r.n_gradients) for r in results))
        self.n_communications_ = int(sum(int(r.n_communications) for r in results))
        self.consensus_error_ = float(max(float(r.consensus_error) for r in results))
        self.success_ = bool(all(bool(r.success) for r in results))
        if self.record_history:
            hist = [dict(r.get("history") or {}) for r in results]
            self.history_ = hist[0] if len(hist) == 1 else hist
        elif hasattr(self, "history_"):
            del self.history_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags


class DecentralizedRidge(RegressorMixin, _DecentralizedLinearModel):
    """Ridge regression solved by ``n_nodes`` nodes of a graph without a central server.

    The samples are split across the nodes (``partition``); node ``i`` holds
    ``f_i(w) = (1/N) Σ_{s ∈ part i} ½(x_sᵀw − y_s)² + α/(2n) ‖w‖²`` (``N`` samples in all,
    ``n`` nodes), so the nodes jointly minimize the centralized objective

    ``F(w) = (1/(2N)) ‖y − Xw − b‖² + (α/2) ‖w‖²``,

    the same minimizer as :class:`sklearn.linear_model.Ridge` with ``alpha = α N`` (sklearn's
    penalty is on the unnormalized sum of squares). The nodes run DADAO (Nabli & Oyallon,
    2023) or one of its baselines (``solver``), simulated exactly by the event simulator
    (``backend='simulate'``) or with one MPI process per node (``backend='mpi'``).

    With ``fit_intercept=True`` the intercept is not penalized: features and targets are
    centred by their global means (in a real deployment, one averaging round), and
    ``b = ȳ − x̄ᵀw``. A sparse ``X`` is centred implicitly — the nodes read ``x_s − x̄``
    through a rank-one correction of each product (``DecentralizedProblem(center=x̄)``), so
    the data stay O(nnz) in memory with every solver. The conjugate-oracle solvers ``'msda'``
    and ``'continuized'`` hold one dense ``d x d`` matrix per node (refused beyond
    ``OPTSOLVE_DENSE_LIMIT_BYTES``, 2 GiB by default).

    Parameters
    ----------
    alpha : float, default=1e-3
        L2 penalty strength α > 0 of the per-sample-normalized objective above (strong
        convexity μ = α of F; the decentralized methods need it).
    n_nodes : int, default=8
        Number of nodes the samples are split across.
    graph : str, array-like, sparse matrix or networkx.Graph, default='cycle'
        Communication graph: a :func:`optsolve.graphs.make_graph` kind built with
        ``n_nodes`` nodes (``'grid'`` needs a perfect square), or an ``(n_nodes, n_nodes)``
        symmetric adjacency / undirected ``networkx.Graph``. Must be connected.
    solver : {'dadao', 'dgd', 'extra', 'msda', 'adom+', 'continuized'}, default='dadao'
        Decentralized method (see :func:`optsolve.decentralized.solve`).
    solver_options : dict or None, default=None
        Extra keyword arguments of the solver, e.g. ``{'rates': 'sdp'}`` for DADAO.
    partition : {'iid', 'sorted', 'dirichlet'}, default='iid'
        How the samples are split (:func:`optsolve.decentralized.partition_data`).
    backend : {'simulate', 'mpi'}, default='simulate'
        ``'simulate'``: exact event simulation in this process. ``'mpi'``: one ``mpiexec``
        process per node (needs the ``[distributed]`` extra).
    tol : float, default=1e-6
        Stop when ``max_i ‖∇F(w_i)‖ / ‖∇F(w⁰)‖ <= tol`` over the nodes' iterates.
    max_time : float or None, default=None
        Bound on the simulated time (wall-clock seconds with ``backend='mpi'``).
    max_events : int or None, default=None
        Bound on the number of simulated events (gradients + communications); ``None``
        leaves the solver's default bound.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (by centring, see above).
    random_state : int, RandomState instance or None, default=None
        Seeds the graph (random kinds), the partition and the Poisson clocks.
    record_history : bool, default=False
        Keep the solver's per-event-batch history in ``history_``.
    verbose : bool or int, default=False
        Log progress (``logging`` at INFO on logger ``optsolve.decentralized``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Average of the nodes' final iterates.
    intercept_ : float
    node_coefs_ : ndarray of shape (n_nodes, n_features)
        Each node's final iterate (they agree up to ``consensus_error_``).
    n_iter_ : int
        Events (gradient steps and communications) the solver ran.
    n_gradients_ : int
        Local gradient computations, all nodes together.
    n_communications_ : int
        Pairwise communications (edge activations / messages).
    consensus_error_ : float
        Consensus error of the final iterates as reported by the solver.
    success_ : bool
        Whether the run reached ``tol`` within its bounds (else a ``ConvergenceWarning``).
    history_ : dict
        Only with ``record_history=True``.
    n_features_in_ : int

    See Also
    --------
    optsolve.decentralized.solve : the functional solver.
    sklearn.linear_model.Ridge : the centralized estimator (``alpha = α N``).

    References
    ----------
    A. Nabli and E. Oyallon, "DADAO: Decoupled Accelerated Decentralized Asynchronous
    Optimization", ICML 2023, arXiv:2208.00779.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.decentralized import DecentralizedRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5)); y = X @ np.arange(5.0) + 1.0
    >>> reg = DecentralizedRidge(alpha=1e-3, n_nodes=4, graph="cycle", random_state=0)
    >>> reg = reg.fit(X, y)
    >>> bool(np.allclose(reg.coef_, np.arange(5.0), atol=0.05)), reg.node_coefs_.shape
    (True, (4, 5))
    """

    def __init__(self, alpha=1e-3, n_nodes=8, graph="cycle", solver="dadao",
                 solver_options=None, partition="iid", backend="simulate", tol=1e-6,
                 max_time=None, max_events=None, fit_intercept=True, random_state=None,
                 record_history=False, verbose=False):
        self.alpha = alpha
        self.n_nodes = n_nodes
        self.graph = graph
        self.solver = solver
        self.solver_options = solver_options
        self.partition = partition
        self.backend = backend
        self.tol = tol
        self.max_time = max_time
        self.max_events = max_events
        self.fit_intercept = fit_intercept
        self.random_state = random_state
        self.record_history = record_history
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model by decentralized optimization; returns ``self``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        """
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64,
                             y_numeric=True)
        self._check_n_samples(X.shape[0])
        seeds = self._seeds()
        A = self._graph(seeds[0])
        from .solver import CONJUGATE_SOLVERS, check_conjugate_memory

        if self.solver in CONJUGATE_SOLVERS:  # before allocating the d x d matrices
            check_conjugate_memory(self.solver, "ridge", self.n_nodes, X.shape[1], "X")
        center = None
        if self.fit_intercept:
            x_mean, y_mean = np.asarray(X.mean(axis=0)).ravel(), float(y.mean())
            y = y - y_mean
            if not sp.issparse(X):
                X = X - x_mean
            else:  # sparse stays sparse: every solver reads x − x̄ implicitly (O(nnz) memory)
                center = x_mean
        res = self._solve(X, y, "ridge", A, seeds, "ridge", center=center)
        W = np.asarray(res.x, dtype=np.float64).reshape(self.n_nodes, -1)
        self.node_coefs_ = W
        self.coef_ = W.mean(axis=0)
        self.intercept_ = float(y_mean - x_mean @ self.coef_) if self.fit_intercept else 0.0
        self._store_counts([res])
        return self

    def predict(self, X):
        """Predict ``X @ coef_ + intercept_``."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_


class DecentralizedLogisticRegression(ClassifierMixin, _DecentralizedLinearModel):
    """L2-regularized logistic regression solved by ``n_nodes`` nodes of a graph.

    The samples are split across the nodes (``partition``); node ``i`` holds
    ``f_i(w) = (1/N) Σ_{s ∈ part i} log(1 + exp(−y_s x_sᵀw)) + α/(2n) ‖w‖²`` (labels ±1,
    ``N`` samples, ``n`` nodes), so the nodes jointly minimize

    ``F(w) = (1/N) Σ_s log(1 + exp(−y_s x_sᵀw)) + (α/2) ‖w‖²``,

    the same minimizer as :class:`sklearn.linear_model.LogisticRegression` with
    ``C = 1/(α N)``. With ``fit_intercept=True`` a constant feature ``intercept_scaling`` is
    appended and its weight is penalized like the others — the same model as scikit-learn's
    ``solver='liblinear'`` with the same ``intercept_scaling`` (an unpenalized intercept has
    no strong convexity, which the decentralized methods need). More than two classes are fitted
    one-vs-rest, one decentralized run per class.

    Parameters
    ----------
    alpha : float, default=1e-3
        L2 penalty strength α > 0 of the per-sample-normalized objective above.
    n_nodes : int, default=8
        Number of nodes the samples are split across.
    graph : str, array-like, sparse matrix or networkx.Graph, default='cycle'
        Communication graph: a :func:`optsolve.graphs.make_graph` kind built with
        ``n_nodes`` nodes, or an ``(n_nodes, n_nodes)`` adjacency / undirected
        ``networkx.Graph``. Must be connected.
    solver : {'dadao', 'dgd', 'extra', 'msda', 'adom+', 'continuized'}, default='dadao'
        Decentralized method (see :func:`optsolve.decentralized.solve`).
    solver_options : dict or None, default=None
        Extra keyword arguments of the solver, e.g. ``{'rates': 'sdp'}`` for DADAO.
    partition : {'iid', 'sorted', 'dirichlet'}, default='iid'
        How the samples are split (``'sorted'`` / ``'dirichlet'``: heterogeneous labels).
    backend : {'simulate', 'mpi'}, default='simulate'
        Exact event simulation, or one ``mpiexec`` process per node.
    tol : float, default=1e-6
        Stop when ``max_i ‖∇F(w_i)‖ / ‖∇F(w⁰)‖ <= tol``.
    max_time : float or None, default=None
        Bound on the simulated time (wall-clock seconds with ``backend='mpi'``).
    max_events : int or None, default=None
        Bound on the number of events per run; ``None`` leaves the solver's default bound.
    fit_intercept : bool, default=True
        Append the constant feature ``intercept_scaling`` (penalized, as liblinear).
    intercept_scaling : float, default=1.0
        Value of the constant feature; larger values weaken the intercept's penalty.
    random_state : int, RandomState instance or None, default=None
        Seeds the graph (random kinds), the partition and the Poisson clocks.
    record_history : bool, default=False
        Keep the solver's history in ``history_`` (a list, one per class, one-vs-rest).
    verbose : bool or int, default=False
        Log progress (``logging`` at INFO on logger ``optsolve.decentralized``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Average of the nodes' final iterates.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    node_coefs_ : ndarray of shape (n_nodes, n_features) or (n_classes, n_nodes, n_features)
        Each node's final iterate (without the intercept's weight).
    n_iter_ : int
        Events run, summed over the one-vs-rest problems.
    n_gradients_ : int
        Local gradient computations, all nodes and classes together.
    n_communications_ : int
        Pairwise communications, all classes together.
    consensus_error_ : float
        Largest final consensus error over the one-vs-rest problems.
    success_ : bool
        Whether every run reached ``tol`` within its bounds.
    history_ : dict or list of dict
        Only with ``record_history=True``.
    n_features_in_ : int

    See Also
    --------
    optsolve.decentralized.solve : the functional solver.
    sklearn.linear_model.LogisticRegression : centralized (``C = 1/(α N)``).

    References
    ----------
    A. Nabli and E. Oyallon, "DADAO: Decoupled Accelerated Decentralized Asynchronous
    Optimization", ICML 2023, arXiv:2208.00779.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.decentralized import DecentralizedLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 4)); y = np.where(X[:, 0] + X[:, 1] > 0, "a", "b")
    >>> clf = DecentralizedLogisticRegression(alpha=1e-2, n_nodes=4, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> clf.classes_.tolist(), bool(clf.score(X, y) > 0.9)
    (['a', 'b'], True)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_CONSTRAINTS, "intercept_scaling": [Interval(numbers.Real, 0, None, closed="neither")]}
    def __init__(self, alpha=1e-3, n_nodes=8, graph="cycle", solver="dadao",
                 solver_options=None, partition="iid", backend="simulate", tol=1e-6,
                 max_time=None, max_events=None, fit_intercept=True, intercept_scaling=1.0,
                 random_state=None, record_history=False, verbose=False):
        self.alpha = alpha
        self.n_nodes = n_nodes
        self.graph = graph
        self.solver = solver
        self.solver_options = solver_options
        self.partition = partition
        self.backend = backend
        self.tol = tol
        self.max_time = max_time
        self.max_events = max_events
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state
        self.record_history = record_history
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model by decentralized optimization; returns ``self``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (two or more classes; one-vs-rest above two).
        """
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise ValueError(
                "the classifier needs samples of at least 2 classes in y; got 1 class: "
                f"{self.classes_[0]!r}")
        self._check_n_samples(X.shape[0])
        seeds = self._seeds()
        A = self._graph(seeds[0])
        d = X.shape[1]
        from .solver import CONJUGATE_SOLVERS, check_conjugate_memory

        if self.solver in CONJUGATE_SOLVERS:
            check_conjugate_memory(self.solver, "logistic", self.n_nodes,
                                   d + int(self.fit_intercept), "X")
        if self.fit_intercept:
            col = np.full((X.shape[0], 1), float(self.intercept_scaling))
            X = sp.hstack([X, col], format="csr") if sp.issparse(X) else np.hstack([X, col])
        targets = [1] if n_classes == 2 else range(n_classes)
        results, node_w = [], []
        for k in targets:
            yk = np.where(codes == k, 1.0, -1.0)
            res = self._solve(X, yk, "logistic", A, seeds, f"class {self.classes_[k]!r}")
            results.append(res)
            node_w.append(np.asarray(res.x, dtype=np.float64).reshape(self.n_nodes, -1))
        W = np.stack(node_w)  # (n_problems, n_nodes, d [+ 1])
        mean = W.mean(axis=1)
        self.coef_ = mean[:, :d].copy()
        self.intercept_ = (mean[:, d] * float(self.intercept_scaling) if self.fit_intercept
                           else np.zeros(len(targets)))
        self.node_coefs_ = W[0, :, :d].copy() if n_classes == 2 else W[:, :, :d].copy()
        self._store_counts(results)
        return self

    def decision_function(self, X):
        """Signed distance ``X @ coef_.T + intercept_``; shape (n,) for two classes."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False)
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities (one-vs-rest probabilities normalized above two classes)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        prob = expit(scores)
        return prob / prob.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels."""
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[idx]
