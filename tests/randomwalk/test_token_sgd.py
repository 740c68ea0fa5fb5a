"""token_sgd: convergence to the centralized optimum (problem.solution() and scikit-learn),
the random-stream contract shared with the MPI run, the iterates' covariance against the
closed form, statuses and bad input."""

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from optsolve.graphs import make_graph
from optsolve.randomwalk import (
    DecentralizedProblem,
    base_chain,
    partition_data,
    theta_asymptotic_covariance,
    token_sgd,
)
from optsolve.randomwalk.token_sgd import initial_state, prepare_token, run_steps

WALKS = ["srrw", "srw", "mh", "nbrw", "iid"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.5 * rng.standard_normal(300)
    return X, y


@pytest.fixture(scope="module")
def graph():
    return make_graph("power_law", 12, random_state=0)


@pytest.mark.parametrize("walk", WALKS)
def test_ridge_converges_to_centralized_optimum(data, graph, walk):
    X, y = data
    alpha = 0.05
    prob = DecentralizedProblem.ridge(partition_data(X, y, 12, random_state=0), alpha)
    res = token_sgd(prob, graph, walk=walk, alpha=10.0, n_steps=60_000, random_state=0)
    ref = Ridge(alpha=alpha * X.shape[0], fit_intercept=False).fit(X, y).coef_
    np.testing.assert_allclose(prob.solution(), ref, atol=1e-10)
    # SRW and NBRW weight the leaves heavily (1/mu_i = 2|E|/d_i): smaller safe steps
    assert np.linalg.norm(res.x - ref) < (2e-2 if walk in ("srrw", "mh", "iid") else 5e-2) \
        * np.linalg.norm(ref)
    assert res.success and res.status == 0 and res.nit == 60_000
    assert res.visits.sum() == 60_000 and np.all(res.visits > 0)
    h = res.history
    assert h["step"][-1] == 60_000 and np.all(np.diff(h["step"]) > 0)
    assert h["error"][-1] == pytest.approx(np.linalg.norm(res.x - prob.solution()))
    assert h["error"][-1] < 0.05 * h["error"][0]
    assert res.fun == pytest.approx(prob.value(res.x))


@pytest.mark.parametrize("base", ["mh", "srw"])
def test_logistic_minibatch_averaged_matches_sklearn(data, graph, base):
    X, y = data
    labels = (y > 0).astype(int)
    alpha = 0.02
    prob = DecentralizedProblem.logistic(partition_data(X, labels, 12, how="sorted",
                                                        random_state=0), alpha)
    res = token_sgd(prob, graph, alpha=10.0, base=base, n_steps=60_000, batch_size=4,
                    averaging=True, regime=(0.6, 0.7), random_state=0)
    ref = LogisticRegression(C=1 / (alpha * X.shape[0]), fit_intercept=False, tol=1e-12,
                             max_iter=1000).fit(X, labels).coef_.ravel()
    np.testing.assert_allclose(prob.solution(), ref, rtol=1e-5)
    assert np.linalg.norm(res.x - ref) < 0.05 * np.linalg.norm(ref)
    assert "error_last" in res.history
    np.testing.assert_array_equal(res.x_last != res.x, True)


def test_sparse_data_gives_the_dense_iterates(data, graph):
    X, y = data
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    dense = DecentralizedProblem.ridge(partition_data(Xs.toarray(), y, 12, random_state=0), 0.1)
    sparse = DecentralizedProblem.ridge(partition_data(Xs, y, 12, random_state=0), 0.1)
    kw = dict(n_steps=3000, batch_size=3, random_state=4, record_history=False)
    np.testing.assert_allclose(token_sgd(sparse, graph, **kw).x, token_sgd(dense, graph, **kw).x,
                               rtol=1e-12)


@pytest.mark.parametrize("walk", WALKS)
@pytest.mark.parametrize("batch_size", [None, 2])
def test_step_by_step_stream_is_bit_identical(data, graph, walk, batch_size):
    """The MPI contract: one Generator, X_0 from its first double, then 1 + B doubles per
    step; hosting the steps one at a time (rng.random(1 + B) per step) gives the simulator's
    iterates bit for bit."""
    X, y = data
    prob = DecentralizedProblem.ridge(partition_data(X, y, 12, random_state=0), 0.1)
    n = 1500
    res = token_sgd(prob, graph, walk=walk, alpha=5.0, n_steps=n, batch_size=batch_size,
                    random_state=11, record_history=False)
    setup = prepare_token(prob, graph, walk, 5.0, batch_size=batch_size, avg_start=n // 2)
    rng = np.random.default_rng(11)
    state = initial_state(setup, np.zeros(4), min(int(rng.random() * 12), 11))
    for _ in range(n):
        run_steps(setup, state, rng.random(setup.n_uniforms)[None, :])
    np.testing.assert_array_equal(state.theta, res.x_last)
    np.testing.assert_array_equal(state.theta_avg, token_sgd(
        prob, graph, walk=walk, alpha=5.0, n_steps=n, batch_size=batch_size, averaging=True,
        random_state=11, record_history=False).x)
    np.testing.assert_array_equal(state.visits, res.visits)


def test_same_seed_same_result_and_history_every(data, graph):
    X, y = data
    prob = DecentralizedProblem.ridge(partition_data(X, y, 12, random_state=0), 0.1)
    a = token_sgd(prob, graph, n_steps=5000, random_state=3, history_every=1000)
    b = token_sgd(prob, graph, n_steps=5000, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.history["step"], [1000, 2000, 3000, 4000, 5000])
    assert a.measure is not None and a.measure.sum() == pytest.approx(1.0)


# Monte-Carlo check of Cov(theta_n) / beta_n -> V_theta(alpha) (Hu et al. 2024, case (i)),
# with a wide timescale separation (gamma_n = n^-0.55, beta_n = 1/n) so that n = 2e4 steps are
# asymptotic. S seeds: a variance has relative standard error sqrt(2 / (S - 1)) ~ 0.12.
THETA_SEEDS = 150


@pytest.fixture(scope="module")
def cov_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = X @ np.array([1.0, -1.0]) + rng.standard_normal(60)
    # sorted split: heterogeneous local gradients, the walk's noise dominates
    return DecentralizedProblem.ridge(partition_data(X, y, 6, how="sorted", random_state=0), 0.5)


@pytest.mark.parametrize("alpha", [0.0, 10.0])
def test_iterate_covariance_matches_closed_form(cov_problem, alpha):
    g = base_chain(make_graph("cycle", 6), "mh")
    regime, n = (0.55, 1.0), 20_000
    V = theta_asymptotic_covariance(cov_problem, g, alpha, step_size=1.0, regime=regime)
    th = np.array([token_sgd(cov_problem, g, alpha=alpha, n_steps=n, step_size=1.0,
                             regime=regime, random_state=s, record_history=False).x
                   for s in range(THETA_SEEDS)])
    C = np.cov((th - cov_problem.solution()).T) * (n + 1.0)
    assert abs(np.trace(C) / np.trace(V) - 1) < 0.4
    if alpha > 0:
        # the 1/alpha^2 shrinkage: 200 times below the base walk's covariance here
        assert np.trace(V) < np.trace(theta_asymptotic_covariance(
            cov_problem, g, 0.0, step_size=1.0, regime=regime)) / 100


def test_theta_covariance_shrinks_like_one_over_alpha_squared(cov_problem):
    g = make_graph("cycle", 6)
    tr = [np.trace(theta_asymptotic_covariance(cov_problem, g, a)) for a in (20.0, 40.0, 80.0)]
    assert 3.5 < tr[0] / tr[1] < 4.1 and 3.5 < tr[1] / tr[2] < 4.1
    with pytest.raises(ValueError, match="closed form"):
        theta_asymptotic_covariance(cov_problem, g, 1.0, regime="same")


def _mh_matrix(A: np.ndarray) -> np.ndarray:
    """Metropolis-Hastings walk to the uniform law, built from its definition."""
    deg = A.sum(axis=1)
    P = np.where(A > 0, np.minimum(1 / deg[:, None], 1 / deg[None, :]), 0.0)
    np.fill_diagonal(P, 1 - P.sum(axis=1))
    return P


def _theta_variance_reference(problem, P, alpha):
    """V_theta(alpha) of a one-feature problem (Hu et al. 2024, Theorem 3.3 (i)) by brute
    force: eigenvectors of the non-symmetric P^T, scalar Lyapunov equation 2 h V = Gamma."""
    n = P.shape[0]
    mu = np.full(n, 1.0 / n)
    lam, vecs = np.linalg.eig(P.T)
    lam, vecs = lam.real, vecs.real
    keep = np.argsort(lam)[:-1]  # drop lambda_1 = 1
    w = problem.solution()
    Hj = np.array([-problem.local_grad(j, w)[0] / mu[j] for j in range(n)])
    h = (problem.grad(w + 1.0) - problem.grad(w))[0]  # F'' of a quadratic
    gamma = 0.0
    for i in keep:
        u = vecs[:, i] / np.sqrt(vecs[:, i] @ (vecs[:, i] / mu))
        gamma += (1 + lam[i]) / (1 - lam[i]) / (alpha * (1 + lam[i]) + 1) ** 2 * (Hj @ u) ** 2
    return gamma / (2 * h)


def test_default_regime_is_the_one_over_alpha_squared_case():
    """The default (a, b) is case (i), beta = o(gamma), the one with a closed form that falls
    like 1/alpha^2: token_sgd, run_mpi and the MPI command line all use it, and the closed form
    at the default regime equals a brute-force evaluation and has alpha^2 V(alpha) -> const."""
    import inspect

    from optsolve.randomwalk import run_mpi
    from optsolve.randomwalk.schedules import DEFAULT_REGIME, REGIMES, check_regime

    a, b, case = check_regime(DEFAULT_REGIME)
    assert case == "fast_walk" and b > a and (a, b) == REGIMES[DEFAULT_REGIME]
    assert inspect.signature(token_sgd).parameters["regime"].default == DEFAULT_REGIME
    assert inspect.signature(run_mpi).parameters["regime"].default == DEFAULT_REGIME

    A = make_graph("power_law", 8, random_state=2).toarray()
    rng = np.random.default_rng(5)
    X = rng.standard_normal((80, 1))
    y = 2 * X[:, 0] + rng.standard_normal(80)
    prob = DecentralizedProblem.ridge(partition_data(X, y, 8, how="sorted", random_state=0),
                                      0.1)
    assert token_sgd(prob, A, n_steps=10, record_history=False).exponents == (a, b)
    P = _mh_matrix(A)
    V = {al: theta_asymptotic_covariance(prob, A, al)[0, 0] for al in (0.0, 3.0, 1e3, 2e3, 4e3)}
    for al, v in V.items():
        assert v == pytest.approx(_theta_variance_reference(prob, P, al), rel=1e-6)
    # 1/alpha^2: doubling a large alpha divides V by 4, and alpha^2 V(alpha) settles
    assert V[1e3] / V[2e3] == pytest.approx(4.0, rel=2e-3)
    assert V[2e3] / V[4e3] == pytest.approx(4.0, rel=1e-3)
    assert 4e6 * V[2e3] == pytest.approx(16e6 * V[4e3], rel=1e-3)
    # the other two cases have no closed form for alpha > 0
    for other in ("same", "slow_walk"):
        with pytest.raises(ValueError, match="closed form"):
            theta_asymptotic_covariance(prob, A, 1.0, regime=other)


@pytest.mark.parametrize("walk", ["srrw", "srw"])
def test_auto_step_size_is_the_largest_nonexpansive_first_step(data, graph, walk):
    """step_size='auto': beta_1 = s 2^-b makes every agent's importance-weighted gradient step
    nonexpansive, I - beta_1 H_i / mu_i with eigenvalues in [-1, 1], and is the largest such
    first step (-1 reached on the worst agent)."""
    X, y = data
    prob = DecentralizedProblem.ridge(partition_data(X, y, 12, how="sorted", random_state=0),
                                      0.1)
    res = token_sgd(prob, graph, walk=walk, n_steps=10, record_history=False)
    beta1 = res.step_size * 2.0 ** -res.exponents[1]
    deg = np.asarray(sp.csr_matrix(graph).sum(axis=1)).ravel()
    mu = np.full(12, 1 / 12) if walk == "srrw" else deg / deg.sum()
    lowest = []
    for i in range(12):
        # local Hessian of the quadratic f_i from its exact gradient
        Hi = np.array([prob.local_grad(i, e) - prob.local_grad(i, 0 * e) for e in np.eye(4)])
        lowest.append(np.linalg.eigvalsh(np.eye(4) - beta1 * Hi / mu[i]).min())
    # H_i is positive semi-definite, so the eigenvalues are <= 1; the lowest is -1 exactly
    assert min(lowest) >= -1.0 - 1e-9 and min(lowest) == pytest.approx(-1.0, abs=1e-8)


def test_statuses(data, graph):
    X, y = data
    prob = DecentralizedProblem.ridge(partition_data(X, y, 12, random_state=0), 0.1)
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.nit)
        if intermediate_result.nit >= 100:
            raise StopIteration

    res = token_sgd(prob, graph, n_steps=10_000, callback=cb, random_state=0)
    assert res.status == 99 and res.nit == seen[-1] and res.nit < 10_000
    res = token_sgd(prob, graph, n_steps=20_000, tol=1e-1, random_state=0)
    assert res.success and res.status == 0 and res.nit < 20_000
    assert np.linalg.norm(prob.grad(res.x)) <= 1e-1
    with pytest.warns(ConvergenceWarning, match="maximum number"):
        res = token_sgd(prob, graph, n_steps=50, tol=1e-12, random_state=0)
    assert not res.success and res.status == 1
    with pytest.warns(ConvergenceWarning, match="non-finite"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = token_sgd(prob, graph, n_steps=2000, step_size=1e3, random_state=0)
    assert not res.success and res.status == 5


def test_bad_input(data, graph):
    X, y = data
    prob = DecentralizedProblem.ridge(partition_data(X, y, 12, random_state=0), 0.1)
    with pytest.raises(ValueError, match="alpha"):
        token_sgd(prob, graph, alpha=-1.0, n_steps=10)
    with pytest.raises(ValueError, match="disconnected"):
        token_sgd(prob, sp.block_diag([make_graph("cycle", 6)] * 2), n_steps=10)
    with pytest.raises(ValueError, match="directed"):
        token_sgd(prob, nx.cycle_graph(12, create_using=nx.DiGraph), n_steps=10)
    with pytest.raises(ValueError, match="12 agents but graph has 10"):
        token_sgd(prob, make_graph("cycle", 10), n_steps=10)
    with pytest.raises(ValueError, match="walk"):
        token_sgd(prob, graph, walk="levy", n_steps=10)
    with pytest.raises(ValueError, match="step_size"):
        token_sgd(prob, graph, step_size=-1.0, n_steps=10)
    with pytest.raises(ValueError, match="batch_size"):
        token_sgd(prob, graph, batch_size=0, n_steps=10)
    with pytest.raises(ValueError, match="regime"):
        token_sgd(prob, graph, regime="fastest", n_steps=10)
    with pytest.raises(ValueError, match="exponent"):
        token_sgd(prob, graph, regime=(0.4, 0.9), n_steps=10)
    with pytest.raises(ValueError, match="x0"):
        token_sgd(prob, graph, x0=np.zeros(3), n_steps=10)
    with pytest.raises(TypeError, match="DecentralizedProblem"):
        token_sgd((X, y), graph, n_steps=10)
    # an agent with no data, NaN data: refused when the problem is built
    parts = partition_data(X, y, 12, random_state=0)
    with pytest.raises(ValueError, match="no samples"):
        DecentralizedProblem.ridge([*parts[:-1], (X[:0], y[:0])], 0.1)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite|NaN"):
        DecentralizedProblem.ridge(partition_data(Xn, y, 12, random_state=0), 0.1)
