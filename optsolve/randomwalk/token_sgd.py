"""Token SGD: one model travels over the agents of a graph on a random walk (SA-SRRW).

Random stream (the contract the simulator and the MPI run share): everything random comes
from ONE ``numpy.random.Generator`` built from ``random_state``. When ``start`` is None its
first double ``u`` picks ``X_0 = floor(u N)``. Then step ``n -> n + 1`` consumes exactly
``1 + B`` doubles in this order (``B = batch_size``, 0 for full local gradients): ``u[0]``
moves the token (inverse CDF over the current node's row, or ``floor(u N)`` for ``"iid"``),
``u[1:]`` pick the mini-batch rows ``offsets[X_{n+1}] + floor(u m_{X_{n+1}})``. The simulator
draws them in chunks ``rng.random((chunk, 1 + B))``, which is the same stream as drawing
``rng.random(1 + B)`` step by step. Steps run in the numba function ``_kernels.token_run``
(walk move, empirical-measure update, iterate update, running average, for each row of
uniforms), through :func:`run_steps`: the simulator calls it on chunks of rows, an MPI agent
on the one row of each step it hosts, so the same seed gives bit-identical iterates. The state
that travels with the token is :class:`TokenState` (current and previous node, step count,
``log s``, the empirical measure ``lq`` and visit counts, the iterate and its average); the
fixed inputs are :class:`TokenSetup` (:func:`prepare_token`), and the generator's state
(``rng.bit_generator.state``) travels with the token too, or every agent advances an
identical generator by ``1 + B`` doubles per step.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._optimize import call_callback, make_result
from .._status import Status, termination_message, warn_status
from . import _kernels
from .chains import WALKS, BaseChain
from .schedules import DEFAULT_REGIME, check_regime
from .walks import as_chain, as_generator, check_alpha, check_start, check_steps

__all__ = ["TokenSetup", "TokenState", "prepare_token", "run_steps", "token_sgd"]

logger = logging.getLogger("optsolve")

#: steps whose uniforms are drawn at once by the simulator
CHUNK_STEPS = 1 << 14
#: default number of log-spaced history points
N_CHECKPOINTS = 100


@dataclass(frozen=True)
class TokenSetup:
    """Everything fixed during a run: the walk, its chain, importance weights, step sizes and
    the packed data of the problem."""

    walk: str
    walk_code: int
    chain: BaseChain
    inv_mu: np.ndarray  # importance weights 1 / mu_i of the walk's stationary law
    alpha: float
    a: float  # gamma_n = (n+1)^-a
    b: float  # beta_n = step_size (n+1)^-b
    step_size: float
    batch_size: int  # 0: full local gradients
    packed: Any  # problem.packed
    avg_start: int = 0  # theta_avg averages the iterates after this step

    @property
    def n_uniforms(self) -> int:
        """Doubles consumed per step."""
        return 1 + self.batch_size


@dataclass
class TokenState:
    """What travels with the token (mutated in place by :func:`run_steps`)."""

    cur: int  # X_n
    prev: int  # X_{n-1}, -1 at the start
    n: int  # steps done
    log_s: float  # log prod (1 - gamma_k): scale of the empirical measure
    lq: np.ndarray  # log(x_n / mu) - log s_n
    visits: np.ndarray  # visit counts
    theta: np.ndarray
    theta_avg: np.ndarray

    def measure(self, mu: np.ndarray) -> np.ndarray:
        """The empirical measure ``x_n`` (SRRW; stays ``mu`` for the other walks)."""
        return mu * np.exp(self.lq + self.log_s)


#: ``beta_1 max_i L_i / mu_i`` of ``step_size="auto"``: a gradient step of length ``t`` on a
#: convex ``L``-smooth function is nonexpansive for ``t L <= 2``, so with ``beta_1 L_i / mu_i
#: <= 2`` on every agent every step map is nonexpansive and no walk can make the iterates diverge
AUTO_FIRST_STEP = 2.0


def auto_step_size(problem, inv_mu, b: float) -> float:
    """``step_size="auto"``: the scale ``s`` of ``beta_n = s (n+1)^-b`` whose first step
    ``beta_1 = s 2^-b`` makes every agent's step nonexpansive, ``beta_1 max_i L_i / mu_i = 2``
    (``L_i`` the smoothness of ``f_i``, ``1 / mu_i`` its importance weight)."""
    return float(AUTO_FIRST_STEP * 2.0**b / np.max(problem.L_local * inv_mu))


def _check_step_size(step_size, problem, inv_mu, b: float) -> float:
    if isinstance(step_size, str):
        if step_size != "auto":
            raise ValueError(f"step_size must be a number > 0 or 'auto', got {step_size!r}")
        return auto_step_size(problem, inv_mu, b)
    if isinstance(step_size, bool) or not isinstance(step_size, numbers.Real) \
            or not np.isfinite(step_size) or step_size <= 0:
        raise ValueError(f"step_size must be a finite number > 0 or 'auto', got {step_size!r}")
    return float(step_size)


def prepare_token(problem, graph, walk: str = "srrw", alpha: float = 10.0, *, base: str = "mh",
                  step_size="auto", regime=DEFAULT_REGIME, batch_size=None,
                  avg_start: int = 0) -> TokenSetup:
    """Validate the inputs of :func:`token_sgd` and build its :class:`TokenSetup`
    (``avg_start``: ``theta_avg`` averages the iterates after that step)."""
    if walk not in WALKS:
        raise ValueError(f"walk must be one of {list(WALKS)}, got {walk!r}")
    alpha = check_alpha(alpha)
    if not hasattr(problem, "packed") or not hasattr(problem, "local_grad"):
        raise TypeError(
            "problem must be a DecentralizedProblem (optsolve.randomwalk.DecentralizedProblem"
            f".ridge / .logistic), got {type(problem).__name__}"
        )
    if walk == "srrw":
        chain = as_chain(graph, base)
    else:
        chain = as_chain(graph, "mh" if walk == "mh" else "srw")
    n = chain.n_nodes
    if problem.n_nodes != n:
        raise ValueError(
            f"problem has {problem.n_nodes} agents but graph has {n} nodes: one agent per node"
        )
    if np.any(problem.n_samples < 1):
        raise ValueError("every agent needs at least one sample")
    mu = chain.mu if walk == "srrw" else stationary_law_of(chain, walk)
    inv_mu = 1.0 / mu
    a, b, _ = check_regime(regime)
    if batch_size is None:
        batch_size = 0
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be None or an int >= 1, got {batch_size!r}")
    return TokenSetup(walk, WALKS[walk], chain, inv_mu, alpha, a, b,
                      _check_step_size(step_size, problem, inv_mu, b), int(batch_size),
                      problem.packed, int(avg_start))


def stationary_law_of(chain: BaseChain, walk: str) -> np.ndarray:
    """Stationary node law of a baseline walk on the chain's graph."""
    if walk in ("mh", "iid"):
        return np.full(chain.n_nodes, 1.0 / chain.n_nodes)
    return chain.degree / chain.degree.sum()


def initial_state(setup: TokenSetup, theta0, start: int) -> TokenState:
    """The token before step 1: ``X_0 = start``, ``x_0 = mu``, ``theta_0``."""
    n = setup.chain.n_nodes
    return TokenState(start, -1, 0, 0.0, np.zeros(n), np.zeros(n, dtype=np.int64),
                      theta0.copy(), theta0.copy())


def run_steps(setup: TokenSetup, state: TokenState, U: np.ndarray, *, scratch=None) -> None:
    """Advance the token by ``U.shape[0]`` steps (row ``U[t]`` holds the ``1 + B`` doubles of a
    step), in place. ``scratch`` = ``(rows, grad, buf)`` work arrays, allocated when None."""
    ch, pk = setup.chain, setup.packed
    if scratch is None:
        scratch = make_scratch(setup, state.theta.size)
    rows, grad, buf = scratch
    state.cur, state.prev, state.log_s = _kernels.token_run(
        setup.walk_code, state.cur, state.prev, state.n, U, ch.indptr, ch.indices, ch.p, ch.cum,
        state.lq, ch.log_mu, setup.alpha, setup.a, state.log_s, state.visits,
        setup.inv_mu, setup.step_size, setup.b, state.theta, state.theta_avg, setup.avg_start,
        pk.loss_code, pk.is_sparse, pk.X, pk.indptr, pk.indices, pk.data, pk.y, pk.offsets,
        pk.inv_n_total, pk.reg, rows, grad, buf, pk.center)
    state.cur, state.prev = int(state.cur), int(state.prev)
    state.n += U.shape[0]


def make_scratch(setup: TokenSetup, d: int):
    return (np.empty(max(setup.batch_size, 1), dtype=np.int64), np.empty(d),
            np.empty(int(np.diff(setup.chain.indptr).max())))


def _checkpoints(n_steps: int, history_every) -> np.ndarray:
    if history_every is None:
        pts = np.unique(np.geomspace(1, n_steps, N_CHECKPOINTS).astype(np.int64))
    else:
        if isinstance(history_every, bool) or not isinstance(history_every, numbers.Integral) \
                or history_every < 1:
            raise ValueError(f"history_every must be None or an int >= 1, got {history_every!r}")
        pts = np.arange(history_every, n_steps + 1, history_every, dtype=np.int64)
    return np.union1d(pts, [n_steps])


def token_sgd(problem, graph, walk: str = "srrw", alpha: float = 10.0, n_steps: int = 100_000,
              step_size="auto", regime=DEFAULT_REGIME, batch_size: int | None = None,
              averaging: bool = False, random_state=None, callback=None, *, base: str = "mh",
              x0=None, start: int | None = None, tol: float | None = None,
              history_every: int | None = None, record_history: bool = True):
    """Minimize ``F = sum_i f_i`` by token SGD driven by a (self-repellent) random walk.

    One iterate ``theta`` travels over the agents (nodes) of ``graph``; at each step it moves
    to a neighbour and takes a stochastic-approximation step with the local data there
    (SA-SRRW, Hu, Doshi & Eun 2024, Algorithm 1):

    * ``X_{n+1} ~ K[x_n](X_n, .)`` (SRRW, see :func:`srrw_walk`), or the baseline walk;
    * ``x_{n+1} = x_n + gamma_{n+1} (delta_{X_{n+1}} - x_n)``, ``gamma_n = (n+1)^-a``;
    * ``theta_{n+1} = theta_n + beta_{n+1} H(theta_n, X_{n+1})``, ``beta_n = step_size
      (n+1)^-b``, with ``H(theta, i) = -grad f_i(theta) / mu_i``: the local (mini-batch)
      gradient weighted by the inverse of the walk's stationary law ``mu`` (``N`` for
      ``"mh"``, ``"iid"`` and SRRW on MH; ``2|E| / d_i`` for ``"srw"``, ``"nbrw"`` and SRRW on
      SRW), so that the stationary mean of ``H`` is ``-grad F``.

    The self-repellent walk shrinks the iterates' asymptotic covariance like ``1/alpha^2`` in
    the default regime (``beta_n = o(gamma_n)``, see :func:`theta_asymptotic_covariance`).

    Random stream: one ``numpy.random.Generator``; ``X_0`` from its first double when
    ``start`` is None, then exactly ``1 + batch_size`` doubles per step (``u[0]`` moves the
    token, ``u[1:]`` pick the mini-batch), drawn in chunks. The steps run in the numba function
    ``_kernels.token_run``, shared with the MPI run, so a seed gives the same iterates (bit
    for bit) whether simulated here or run over processes.

    Parameters
    ----------
    problem : DecentralizedProblem
        ``DecentralizedProblem.ridge`` / ``.logistic`` over :func:`partition_data` parts, one
        part per node of ``graph``.
    graph : sparse matrix, ndarray, networkx.Graph or BaseChain
        Connected undirected graph of the agents (edge weights are ignored).
    walk : {"srrw", "srw", "mh", "nbrw", "iid"}, default="srrw"
        The token's walk: the self-repellent walk on ``base``, the simple random walk, the
        Metropolis–Hastings walk to the uniform law, the non-backtracking walk, or i.i.d.
        uniform agent sampling.
    alpha : float >= 0, default=10.0
        SRRW strength (used by ``walk="srrw"`` only).
    n_steps : int, default=100000
        Number of steps (token moves).
    step_size : float > 0 or "auto", default="auto"
        Scale ``s`` of ``beta_n = s (n+1)^-b``; ``"auto"`` is ``2^(b+1) / max_i (L_i /
        mu_i)`` (``L_i`` the smoothness of agent ``i``'s loss, ``1 / mu_i`` its importance
        weight): the largest scale whose first step ``beta_1 = s 2^-b`` keeps every local
        step nonexpansive (``beta_1 L_i / mu_i <= 2``), so that no walk can make the
        iterates diverge.
    regime : {"fast_walk", "same", "slow_walk"} or (a, b), default="fast_walk"
        Exponents of ``gamma_n`` and ``beta_n``, the paper's three cases: ``"fast_walk"``
        ``(0.6, 0.9)``, ``beta = o(gamma)``, the ``1/alpha^2`` case (Theorem 3.3 (i));
        ``"same"`` ``(0.9, 0.9)``; ``"slow_walk"`` ``(1, 0.9)``, ``gamma = o(beta)``. A pair
        needs ``a, b`` in (1/2, 1]. ``a = 0.6`` leaves a gap ``gamma_n / beta_n = n^0.3``
        between the timescales, wide enough for the ``1/alpha^2`` shrinkage to show within
        ``1e5``-``1e6`` steps; with a smaller gap theta's covariance exceeds the limit by about
        a factor ``1 + alpha s h n^(a-b)`` (``s h``: step scale times curvature), so that
        ``(0.7, 0.9)`` and the paper's ``(0.8, 0.9)`` (``schedules.PAPER_FAST_WALK``) fall
        closer to ``1/alpha`` within ``1e6`` steps. The walk's measure ``x_n`` is biased by
        ``O(gamma_n)`` (the kernel is nonlinear in ``x``), and so is ``theta_n``: with many
        agents holding very different data this bias, not the covariance, dominates the error
        of the last iterate (ijcnn1 over 100 label-sorted agents: at ``1e5`` steps the default
        trails the non-backtracking walk, ``(0.7, 0.9)`` and ``(0.8, 0.9)`` beat it); pass a
        larger ``a`` there.
    batch_size : int or None, default=None
        Local mini-batch size (rows drawn with replacement); None for the full local gradient.
    averaging : bool, default=False
        Return the Polyak–Ruppert average of the last half of the iterates,
        ``theta_{n/2+1} .. theta_n`` (suffix averaging: the early transient stays out of the
        mean), instead of ``theta_n``.
    random_state : int, Generator or None
        Seed of the one random stream.
    callback : callable or None
        ``callback(intermediate_result)`` at each history point, with ``x``, ``fun``, ``nit``,
        ``error``; raise ``StopIteration`` to stop.
    base : {"mh", "srw"}, default="mh"
        Base chain of the SRRW.
    x0 : array-like of shape (n_features,) or None
        Initial iterate (zeros when None).
    start : int or None
        Starting agent ``X_0``; drawn from the stream when None.
    tol : float or None
        Stop at the first history point where ``||grad F(theta)|| <= tol`` (status 0); without
        it the whole budget runs (status 0 as well). A budget exhausted before ``tol`` is
        status 1 with a ``ConvergenceWarning``.
    history_every : int or None
        Record the history every so many steps; None for ~100 log-spaced points.
    record_history : bool, default=True
        Record ``history`` (needs ``problem.solution()``).

    Returns
    -------
    OptimizeResult
        ``x`` (the iterate, or its average), ``fun`` = F(x), ``success``, ``status``,
        ``message``, ``nit`` (steps run), ``history`` (``step`` and ``error`` = ``||x -
        theta*||`` at the history points, plus ``error_last`` for the last iterate when
        averaging), ``visits`` (visit counts per agent), ``measure`` (the SRRW's empirical
        measure ``x_n``), ``x_last`` (the last iterate), ``walk``, ``alpha``, ``step_size``,
        ``exponents`` ``(a, b)``.

    References
    ----------
    J. Hu, V. Doshi, D. Y. Eun. Accelerating Distributed Stochastic Optimization via
    Self-Repellent Random Walks. ICLR 2024 (arXiv:2401.09665).

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.graphs import make_graph
    >>> from optsolve.randomwalk import DecentralizedProblem, partition_data, token_sgd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(200)
    >>> prob = DecentralizedProblem.ridge(partition_data(X, y, 10, random_state=0), 0.01)
    >>> res = token_sgd(prob, make_graph("cycle", 10), alpha=10.0, n_steps=20000,
    ...                 random_state=0)
    >>> bool(np.linalg.norm(res.x - prob.solution()) < 0.05)
    True
    """
    setup = prepare_token(problem, graph, walk, alpha, base=base, step_size=step_size,
                          regime=regime, batch_size=batch_size)
    n_steps = check_steps(n_steps)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if not isinstance(averaging, bool | np.bool_):
        raise TypeError(f"averaging must be a bool, got {type(averaging).__name__}")
    if averaging:
        setup = replace(setup, avg_start=n_steps // 2)
    d = problem.n_features
    theta0 = np.zeros(d) if x0 is None else np.array(x0, dtype=np.float64).ravel()
    if theta0.shape != (d,):
        raise ValueError(f"x0 must have shape ({d},), got {np.shape(x0)}")
    if not np.all(np.isfinite(theta0)):
        raise ValueError("x0 contains non-finite values")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real)
                            or not tol >= 0):
        raise ValueError(f"tol must be None or a number >= 0, got {tol!r}")
    rng = as_generator(random_state)
    state = initial_state(setup, theta0, check_start(start, setup.chain.n_nodes, rng))
    w_star = problem.solution() if record_history else None
    checkpoints = _checkpoints(n_steps, history_every)
    steps, errors, errors_last = [], [], []
    scratch = make_scratch(setup, d)
    U_all = np.empty((min(CHUNK_STEPS, n_steps), setup.n_uniforms))
    status, detail = Status.SUCCESS, f"ran the full budget of {n_steps} steps"

    def current():
        return state.theta_avg if averaging else state.theta

    for target in checkpoints:
        while state.n < target:
            m = int(min(CHUNK_STEPS, target - state.n))
            run_steps(setup, state, rng.random(out=U_all[:m]), scratch=scratch)
        x = current()
        if not np.all(np.isfinite(x)):
            status, detail = Status.NON_FINITE, f"at step {state.n}; reduce step_size"
            break
        if record_history:
            steps.append(state.n)
            errors.append(float(np.linalg.norm(x - w_star)))
            if averaging:
                errors_last.append(float(np.linalg.norm(state.theta - w_star)))
        if callback is not None and call_callback(
                callback, x=x.copy(), fun=float(problem.value(x)), nit=state.n,
                error=errors[-1] if record_history else None):
            status, detail = Status.CALLBACK_STOP, None
            break
        if tol is not None:
            gnorm = float(np.linalg.norm(problem.grad(x)))
            if gnorm <= tol:
                detail = f"||grad F|| = {gnorm:.3e} <= tol = {tol:.3e} at step {state.n}"
                break
            if state.n == n_steps:
                status = Status.MAX_ITER
                detail = f"||grad F|| = {gnorm:.3e} > tol = {tol:.3e} after {n_steps} steps"
    x = current().copy()
    message = termination_message(status, detail)
    if status == Status.SUCCESS and tol is None:
        # a fixed budget is not a convergence test; say so rather than "converged"
        message = f"completed: {detail} (tol=None, no convergence test)"
    if status not in (Status.SUCCESS, Status.CALLBACK_STOP):
        warn_status("token_sgd", status, detail)
    history = None
    if record_history:
        history = {"step": np.asarray(steps, dtype=np.int64), "error": np.asarray(errors)}
        if averaging:
            history["error_last"] = np.asarray(errors_last)
    fun = float(problem.value(x)) if np.all(np.isfinite(x)) else float("nan")
    return make_result(
        x, fun, success=status in (Status.SUCCESS, Status.CALLBACK_STOP) and np.isfinite(fun),
        status=status, message=message, nit=state.n,
        history=history, visits=state.visits.copy(),
        measure=state.measure(setup.chain.mu) if walk == "srrw" else None,
        x_last=state.theta.copy(), walk=walk, alpha=setup.alpha, step_size=setup.step_size,
        exponents=(setup.a, setup.b),
    )
