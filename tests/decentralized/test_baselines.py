"""DADAO's comparison set (DGD, EXTRA / gradient tracking, MSDA, ADOM+, continuized) through
``solve``: centralized optimum (scikit-learn, closed forms), counts, refusals, kernels."""

import functools
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.linalg import expm
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from optsolve.decentralized import DecentralizedProblem, TimeVaryingGraph, partition_data, solve
from optsolve.graphs import (
    complete_graph,
    cycle_graph,
    edge_list,
    effective_resistances,
    laplacian,
    make_graph,
    metropolis_weights,
    star_graph,
)

N_NODES = 8
ALPHA = 0.1
# (solver name, options): gradient tracking is EXTRA's variant
METHODS = [
    ("extra", {}),
    ("extra", {"variant": "gradient_tracking"}),
    ("msda", {}),
    ("adom+", {}),
    ("continuized", {}),
]
GRAPHS = {"cycle": cycle_graph, "star": star_graph, "complete": complete_graph}
#: (n_gradients, n_communications) to 1e-6 on the small ridge problem, which may only go down;
#: regenerate with OPTSOLVE_REGEN_PINS=1 (and say why in the commit)
PINS = Path(__file__).parent / "data" / "baseline_counts.json"
#: slack for floating-point differences across platforms moving the stop by a checkpoint
PIN_SLACK = 1.01


def _ridge_data(n=96, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    return X, y


def _logistic_data(n=96, d=4, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def _ridge_problem(n_nodes=N_NODES, alpha=ALPHA, seed=0):
    X, y = _ridge_data(seed=seed)
    return DecentralizedProblem.ridge(partition_data(X, y, n_nodes, random_state=0), alpha), X, y


def _label(solver, opts):
    return opts.get("variant", solver)


@functools.cache
def _ridge_run(label, graph):
    solver, opts = next(m for m in METHODS if _label(*m) == label)
    prob, _, _ = _ridge_problem()
    return solve(prob, GRAPHS[graph](N_NODES), solver=solver, tol=1e-6, random_state=0, **opts)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize("solver,opts", METHODS, ids=[_label(*m) for m in METHODS])
def test_ridge_reaches_centralized_optimum(solver, opts, graph):
    prob, X, y = _ridge_problem()
    res = _ridge_run(_label(solver, opts), graph)
    assert res.success and res.status == 0, res.message
    assert res.grad_rel <= 1e-6
    # independent reference: scikit-learn's Ridge on the pooled data (alpha scaled by N)
    ref = Ridge(alpha=ALPHA * X.shape[0], fit_intercept=False, solver="cholesky").fit(X, y)
    w_star = ref.coef_
    scale = np.linalg.norm(w_star)
    assert_allclose(prob.solution(), w_star, rtol=1e-10, atol=1e-12)
    assert res.x.shape == (N_NODES, X.shape[1])
    # ‖∇F(x_i)‖ ≤ 1e-6 ‖∇F(0)‖ and F is μ_F = α strongly convex: ‖x_i − w*‖ ≤ 1e-6 ‖∇F(0)‖/α
    g0 = np.linalg.norm(prob.grad(np.zeros(X.shape[1])))
    assert np.abs(res.x - w_star).max() <= 1e-6 * g0 / ALPHA
    assert np.abs(res.x - w_star).max() <= 1e-4 * scale
    assert res.n_gradients > 0 and res.n_communications > 0


@pytest.mark.parametrize("solver,opts", METHODS, ids=[_label(*m) for m in METHODS])
def test_logistic_reaches_centralized_optimum(solver, opts):
    X, y = _logistic_data()
    prob = DecentralizedProblem.logistic(partition_data(X, y, N_NODES, random_state=0), ALPHA)
    res = solve(prob, cycle_graph(N_NODES), solver=solver, tol=1e-6, random_state=0, **opts)
    assert res.success, res.message
    # scikit-learn minimizes C Σ log(1 + e^{−y xᵀw}) + ½‖w‖²; ours is that divided by (α N)
    ref = LogisticRegression(C=1.0 / (ALPHA * X.shape[0]), fit_intercept=False, tol=1e-12,
                             max_iter=10_000).fit(X, y)
    assert_allclose(res.x, np.tile(ref.coef_.ravel(), (N_NODES, 1)), rtol=1e-4, atol=1e-5)
    if solver in ("msda", "continuized"):
        assert res.n_inner_steps > 0  # the logistic conjugate is an inner Newton solve


def test_ridge_counts_do_not_regress():
    counts = {f"{_label(*m)}/{g}": [int(_ridge_run(_label(*m), g).n_gradients),
                                     int(_ridge_run(_label(*m), g).n_communications)]
              for m in METHODS for g in sorted(GRAPHS)}
    pins = json.loads(PINS.read_text()) if PINS.exists() else {}
    if os.environ.get("OPTSOLVE_REGEN_PINS") == "1":
        PINS.parent.mkdir(exist_ok=True)
        PINS.write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n")
        pytest.skip("pins regenerated")
    missing = sorted(set(counts) - set(pins))
    assert not missing, f"no pins for {missing}; regenerate with OPTSOLVE_REGEN_PINS=1"
    worse = {k: (v, pins[k]) for k, v in counts.items()
             if v[0] > PIN_SLACK * pins[k][0] or v[1] > PIN_SLACK * pins[k][1]}
    assert not worse, f"gradients/communications to 1e-6 went up (now, pinned): {worse}"


# -- counts ------------------------------------------------------------------------------------
def _counts(solver, opts, rounds, graph):
    prob, _, _ = _ridge_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve(prob, graph, solver=solver, tol=0.0, max_time=rounds, **opts)
    return prob, res


@pytest.mark.parametrize("graph_name", ["cycle", "star"])
def test_synchronous_counts_follow_the_convention(graph_name):
    graph = GRAPHS[graph_name](N_NODES)
    m = edge_list(graph)[0].size
    n, k = N_NODES, 7
    _, res = _counts("dgd", {}, k, graph)
    assert (res.n_gradients, res.n_communications, res.time, res.nit) == (n * k, k * m, k, 2 * k)
    assert res.status == 6 and not res.success  # MAX_TIME
    _, res = _counts("extra", {}, k, graph)
    assert (res.n_gradients, res.n_communications) == (n * (k + 1), k * m)  # + ∇f(x⁰)
    _, res = _counts("extra", {"variant": "gradient_tracking"}, k, graph)
    assert (res.n_gradients, res.n_communications) == (n * (k + 1), 2 * k * m)
    _, res = _counts("msda", {"degree": 3}, k, graph)
    assert (res.n_gradients, res.n_communications, res.nit) == (n * k, 3 * k * m, 4 * k)
    _, res = _counts("adom+", {"n_consensus": 2}, k, graph)
    assert (res.n_gradients, res.n_communications, res.nit) == (n * k, 4 * k * m, 3 * k)


def test_msda_and_adom_theory_parameters():
    graph = cycle_graph(N_NODES)
    lam = np.linalg.eigvalsh(laplacian(graph).toarray())
    gamma = lam[1] / lam[-1]
    chi = 1.0 / gamma
    _, res = _counts("msda", {}, 2, graph)
    assert res.degree == int(np.floor(1.0 / np.sqrt(gamma)))
    _, res = _counts("adom+", {}, 2, graph)
    assert res.n_consensus == int(np.ceil(chi * np.log(2.0)))
    assert res.chi <= 2.0  # multi-consensus brings the gossip condition number down to ≤ 2
    _, res = _counts("adom+", {"multi_consensus": False}, 2, graph)
    assert res.n_consensus == 1


def test_continuized_counts_and_clock():
    prob, _, _ = _ridge_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve(prob, cycle_graph(N_NODES), solver="continuized", tol=0.0, max_time=200.0,
                    random_state=3)
    # each edge activation: two conjugate gradients, one exchange, three events
    assert res.n_gradients == 2 * res.n_communications
    assert res.nit == 3 * res.n_communications
    # activations arrive at total rate n/2: Poisson count over 200 time units
    mean = 0.5 * N_NODES * 200.0
    assert abs(res.n_communications - mean) <= 5 * np.sqrt(mean)
    assert res.time == pytest.approx(200.0)


def test_continuized_checkpoints_do_not_change_the_run():
    """Checks advance every node exactly to the checkpoint, so how often the monitor looks does
    not change the events nor (beyond rounding) the iterates."""
    prob, _, _ = _ridge_problem()
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for interval in (1.0, 40.0):
            runs.append(solve(prob, cycle_graph(N_NODES), solver="continuized", tol=0.0,
                              max_time=40.0, monitor_interval=interval, random_state=0))
        by_events = solve(prob, cycle_graph(N_NODES), solver="continuized", tol=0.0,
                          max_events=300, monitor_interval=None, monitor_every=30,
                          random_state=0)
    assert runs[0].n_communications == runs[1].n_communications
    assert_allclose(runs[0].x, runs[1].x, rtol=1e-9, atol=1e-12)
    assert 300 <= by_events.nit < 303 and by_events.status == 7
    assert by_events.time < 40.0


def test_continuized_same_seed_same_run():
    prob, _, _ = _ridge_problem()
    a = solve(prob, cycle_graph(N_NODES), solver="continuized", random_state=7)
    b = solve(prob, cycle_graph(N_NODES), solver="continuized", random_state=7)
    c = solve(prob, cycle_graph(N_NODES), solver="continuized", random_state=8)
    assert_allclose(a.x, b.x, rtol=0, atol=0)
    assert a.n_communications == b.n_communications
    assert a.n_communications != c.n_communications


# -- DGD -----------------------------------------------------------------------------------------
def test_dgd_converges_to_its_penalized_fixed_point():
    """Constant-step DGD solves ``min Σ f_i(x_i) + xᵀ(I − W)x/(2η)``: a linear system for ridge,
    solved here by scipy on the stacked variables."""
    prob, _, _ = _ridge_problem(alpha=1.0)
    graph = cycle_graph(N_NODES)
    eta = 0.5 / prob.L
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve(prob, graph, solver="dgd", step_size=eta, tol=0.0, max_time=1000,
                    monitor_interval=500)
    n, d, N = prob.n_nodes, prob.n_features, prob.n_samples_total
    blocks, rhs = [], []
    for Xi, yi in prob.parts:
        blocks.append(Xi.T @ Xi / N + (prob.alpha / n) * np.eye(d))
        rhs.append(Xi.T @ yi / N)
    W = metropolis_weights(graph)
    system = sp.block_diag(blocks) + sp.kron(sp.eye(n) - W, sp.eye(d)) / eta
    fixed = sp.linalg.spsolve(sp.csc_matrix(system), np.concatenate(rhs)).reshape(n, d)
    assert_allclose(res.x, fixed, rtol=1e-8, atol=1e-10)
    # the O(η) bias: the fixed point is not the optimum on heterogeneous data
    assert np.abs(fixed - prob.solution()).max() > 1e-3


def test_dgd_is_exact_when_local_minimizers_agree():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((12, 3))
    y = X @ rng.standard_normal(3)
    parts = [(X.copy(), y.copy()) for _ in range(N_NODES)]  # identical local functions
    prob = DecentralizedProblem.ridge(parts, ALPHA)
    res = solve(prob, star_graph(N_NODES), solver="dgd", tol=1e-6)
    assert res.success
    assert_allclose(res.x, np.tile(prob.solution(), (N_NODES, 1)), rtol=1e-5, atol=1e-7)


def test_dgd_diminishing_step_approaches_the_optimum():
    prob, _, _ = _ridge_problem()
    w = prob.solution()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        const = solve(prob, cycle_graph(N_NODES), solver="dgd", tol=0.0, max_time=3000,
                      monitor_interval=1000)
        dimin = solve(prob, cycle_graph(N_NODES), solver="dgd", schedule="diminishing",
                      step_size=4.0 / prob.L, tol=0.0, max_time=3000, monitor_interval=1000)
    assert np.abs(dimin.x - w).max() < 0.5 * np.abs(const.x - w).max()


# -- mini-batches ----------------------------------------------------------------------------------
def test_minibatch_gradients_match_numpy():
    from optsolve.decentralized.baselines._rounds import local_gradients

    prob, _, _ = _ridge_problem()
    W = np.random.default_rng(0).standard_normal((N_NODES, prob.n_features))
    G = local_gradients(prob, W, 5, np.random.default_rng(11))
    draws = np.random.default_rng(11)
    N, reg = prob.n_samples_total, prob.alpha / N_NODES
    for i, (Xi, yi) in enumerate(prob.parts):
        idx = draws.integers(0, Xi.shape[0], size=5)
        ref = Xi.shape[0] / 5 * Xi[idx].T @ (Xi[idx] @ W[i] - yi[idx]) / N + reg * W[i]
        assert_allclose(G[i], ref, rtol=1e-12)
    assert_allclose(local_gradients(prob, W, None, None), prob.local_grads(W))


@pytest.mark.parametrize("solver,opts", [("dgd", {}), ("adom+", {}),
                                         ("extra", {"variant": "gradient_tracking"})])
def test_minibatch_runs_count_one_gradient_per_node_and_round(solver, opts):
    prob, _, _ = _ridge_problem()
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in (0, 0, 1):
            runs.append(solve(prob, cycle_graph(N_NODES), solver=solver, batch_size=3, tol=0.0,
                              max_time=200, monitor_interval=50, random_state=seed, **opts))
    a, b, c = runs
    assert_allclose(a.x, b.x, rtol=0, atol=0)  # same seed, same draws
    assert not np.allclose(a.x, c.x)
    extra_grads = N_NODES if solver == "extra" else 0
    assert a.n_gradients == N_NODES * 200 + extra_grads
    assert a.grad_rel < 0.5  # progress down to the mini-batch noise floor


# -- refusals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["msda", "adom+", "continuized"])
def test_strongly_convex_methods_refuse_mu_zero(solver):
    X, y = _ridge_data()
    prob = DecentralizedProblem.ridge(partition_data(X, y, N_NODES, random_state=0), 0.0)
    with pytest.raises(ValueError, match="mu > 0"):
        solve(prob, cycle_graph(N_NODES), solver=solver)


@pytest.mark.parametrize("solver,opts", [("dgd", {}), ("extra", {}),
                                         ("extra", {"variant": "gradient_tracking"})])
def test_convex_methods_accept_mu_zero(solver, opts):
    X, y = _ridge_data()
    prob = DecentralizedProblem.ridge(partition_data(X, y, N_NODES, random_state=0), 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve(prob, cycle_graph(N_NODES), solver=solver, max_time=50, **opts)
    assert res.grad_rel < 1.0


@pytest.mark.parametrize("solver,opts", [("extra", {}), ("msda", {}), ("continuized", {})])
def test_fixed_graph_methods_refuse_time_varying(solver, opts):
    prob, _, _ = _ridge_problem()
    tv = TimeVaryingGraph([cycle_graph(N_NODES), star_graph(N_NODES)], [0.0, 5.0])
    with pytest.raises(ValueError, match="fixed communication graph"):
        solve(prob, tv, solver=solver, **opts)


@pytest.mark.parametrize("solver,opts", [("adom+", {}),
                                         ("extra", {"variant": "gradient_tracking"})])
def test_time_varying_methods_reach_the_optimum(solver, opts):
    prob, _, _ = _ridge_problem()
    tv = TimeVaryingGraph([cycle_graph(N_NODES), star_graph(N_NODES)], [0.0, 3.0], period=6.0)
    res = solve(prob, tv, solver=solver, tol=1e-6, **opts)
    assert res.success
    assert_allclose(res.x, np.tile(prob.solution(), (N_NODES, 1)), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("solver,bad", [("dgd", {"step_size": -1.0}),
                                        ("dgd", {"schedule": "cosine"}),
                                        ("extra", {"variant": "push_sum"}),
                                        ("msda", {"degree": 0}),
                                        ("msda", {"momentum": 1.5}),
                                        ("adom+", {"n_consensus": 2.5}),
                                        ("continuized", {"edge_weights": "random"})])
def test_bad_options_raise(solver, bad):
    prob, _, _ = _ridge_problem()
    with pytest.raises((ValueError, TypeError), match=next(iter(bad))):
        solve(prob, cycle_graph(N_NODES), solver=solver, **bad)


# -- kernels and gossip against numpy references -----------------------------------------------
def test_chebyshev_gossip_is_scaman_polynomial():
    from optsolve.decentralized.baselines._gossip import chebyshev_gossip

    graph = make_graph("grid", 9)
    Lap = laplacian(graph)
    lam, V = np.linalg.eigh(Lap.toarray())
    lmin, lmax = lam[1], lam[-1]
    gamma = lmin / lmax
    c2, c3 = (1 + gamma) / (1 - gamma), 2 / ((1 + gamma) * lmax)
    rng = np.random.default_rng(0)
    B = rng.standard_normal((9, 3))
    for K in (1, 2, 5):
        TK = np.polynomial.chebyshev.Chebyshev.basis(K)
        p = 1.0 - TK(c2 * (1.0 - c3 * lam)) / TK(c2)
        ref = V @ (p[:, None] * (V.T @ B))
        assert_allclose(chebyshev_gossip(B, Lap, lmax, lmin, K), ref, atol=1e-12)
        assert abs(p[0]) < 1e-12  # consensus stays in the kernel


def test_advance_node_matches_expm():
    from optsolve.decentralized.baselines._kernels import advance_node

    rng = np.random.default_rng(0)
    Y, Z = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    Y0, Z0 = Y.copy(), Z.copy()
    t_last = np.array([0.5, 0.0, 0.0])
    eta = 0.7
    advance_node(Y, Z, t_last, 0, 2.0, eta)
    E = expm(np.array([[-eta, eta], [eta, -eta]]) * 1.5)
    assert_allclose(Y[0], E[0, 0] * Y0[0] + E[0, 1] * Z0[0], atol=1e-14)
    assert_allclose(Z[0], E[1, 0] * Y0[0] + E[1, 1] * Z0[0], atol=1e-14)
    assert_allclose(Y[1:], Y0[1:]) and t_last[0] == 2.0


def test_continuized_kernel_matches_numpy_reference():
    from optsolve.decentralized.baselines._kernels import continuized_events

    rng = np.random.default_rng(1)
    n, d = 5, 3
    graph = cycle_graph(n)
    rows, cols = edge_list(graph)
    H_inv = np.stack([np.linalg.inv(A @ A.T + np.eye(d)) for A in rng.standard_normal((n, d, d))])
    shift = rng.standard_normal((n, d))
    step_y = rng.uniform(0.1, 0.3, rows.size)
    ev_edge = rng.integers(0, rows.size, 40).astype(np.int64)
    ev_time = np.cumsum(rng.exponential(0.3, 40))
    eta, gz = 0.4, 0.8
    Y, Z = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    Yr, Zr, tr = Y.copy(), Z.copy(), np.zeros(n)
    t_stop = ev_time[29] + 1e-9
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    inner = np.zeros(2, np.int64)
    end = continuized_events(Y, Z, np.zeros(n), rows, cols, step_y, ev_edge, ev_time, 0, t_stop,
                             100, eta, gz, True, H_inv, shift, False, np.zeros((0, 0)), empty_i,
                             empty_i, empty_f, empty_f, empty_i, 1.0, 1.0, empty_f,
                             np.zeros((n, d)), empty_f, np.full(n, -1, np.int64), empty_f,
                             np.full(n, -1, np.int64), empty_f, np.zeros(n, np.int64),
                             np.empty(d * d), *(np.empty(d) for _ in range(5)),
                             empty_f, empty_f, empty_f, np.empty(d), np.empty(d), inner)
    assert end == 30 and inner[0] == 0
    for k in range(30):  # the same events in plain numpy
        e, t = ev_edge[k], ev_time[k]
        for v in (rows[e], cols[e]):
            E = expm(np.array([[-eta, eta], [eta, -eta]]) * (t - tr[v]))
            Yr[v], Zr[v] = E[0, 0] * Yr[v] + E[0, 1] * Zr[v], E[1, 0] * Yr[v] + E[1, 1] * Zr[v]
            tr[v] = t
        i, j = rows[e], cols[e]
        G = H_inv[i] @ (Yr[i] + shift[i]) - H_inv[j] @ (Yr[j] + shift[j])
        Yr[i] -= step_y[e] * G
        Yr[j] += step_y[e] * G
        Zr[i] -= gz * G
        Zr[j] += gz * G
    assert_allclose(Y, Yr, atol=1e-12)
    assert_allclose(Z, Zr, atol=1e-12)
    # the dual sums stay zero-mean preserving: every update is antisymmetric over the edge
    assert_allclose(Y.sum(axis=0) + Z.sum(axis=0), Yr.sum(axis=0) + Zr.sum(axis=0))


def test_continuized_constants_use_effective_resistances():
    from optsolve.decentralized.baselines.continuized import continuized_parameters
    from optsolve.decentralized.topology import as_graph_info

    graph = star_graph(6)
    par = continuized_parameters(as_graph_info(graph), L=2.0, mu=0.5)
    m = edge_list(graph)[0].size
    # a tree: R_e = 1/p_e = m for uniform probabilities; λ⁺(Λ/m) = λ⁺(Λ)/m = 1/m
    assert_allclose(par["R"], effective_resistances(graph, np.full(m, 1.0 / m)))
    assert_allclose(par["R"], m)
    assert par["lam_pos"] == pytest.approx(1.0 / m)
    assert par["gamma"] * par["R"].max() == pytest.approx(0.25)  # μ/2 at the worst edge
    assert par["eta"] * par["gamma_z"] == pytest.approx(par["gamma"])


@pytest.mark.parametrize("loss", ["ridge", "logistic"])
@pytest.mark.parametrize("sparse,centred", [(False, False), (True, False), (True, True)])
def test_conjugate_oracle_inverts_local_gradients(loss, sparse, centred):
    from scipy.optimize import minimize

    from optsolve.decentralized.baselines._conjugate import ConjugateOracle

    X, y = _ridge_data() if loss == "ridge" else _logistic_data()
    if sparse:
        X[np.abs(X) < 0.7] = 0.0
        X = sp.csr_matrix(X)
    # centred: rows read as x − μ (implicit centring), μ far from the column means
    center = np.linspace(-1.0, 2.0, X.shape[1]) if centred else None
    prob = getattr(DecentralizedProblem, loss)(partition_data(X, y, 4, random_state=0), ALPHA,
                                               center=center)
    V = np.random.default_rng(2).standard_normal((4, X.shape[1])) * 0.05
    oracle = ConjugateOracle(prob)
    theta = oracle(V)
    assert_allclose(prob.local_grads(theta), V, atol=1e-10)
    # independent: scipy's L-BFGS on f_i(θ) − ⟨v, θ⟩ for node 1
    ref = minimize(lambda t: prob.local_value(1, t) - V[1] @ t, np.zeros(X.shape[1]),
                   jac=lambda t: prob.local_grad(1, t) - V[1], method="L-BFGS-B",
                   options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 1000})
    assert_allclose(theta[1], ref.x, rtol=1e-5, atol=1e-6)
    if loss == "logistic":
        steps = oracle.n_inner_steps
        assert_allclose(oracle(V), theta, atol=1e-14)  # warm start: already solved
        assert oracle.n_inner_steps == steps


def test_cholesky_solve_matches_numpy():
    from optsolve.decentralized.baselines._kernels import cholesky_solve

    rng = np.random.default_rng(5)
    A = rng.standard_normal((6, 6))
    H = A @ A.T + 0.1 * np.eye(6)
    b = rng.standard_normal(6)
    out = np.empty(6)
    cholesky_solve(H.copy(), b, out)
    assert_allclose(out, np.linalg.solve(H, b), rtol=1e-10)
