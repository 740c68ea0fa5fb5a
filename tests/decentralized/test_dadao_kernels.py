"""DADAO's numba kernels against plain numpy / scipy references: the exact lazy ODE integration
(against scipy's expm and a tight-tolerance ODE solver), the block transition, positions, the
alias tables and every single event of the event kernel."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from optsolve.decentralized import DecentralizedProblem, partition_data
from optsolve.decentralized._kernels import (
    apply_transition,
    dadao_events,
    gossip_half_jump,
    gossip_jump,
    gossip_message,
    gradient_jump,
    ode_transition,
    positions_at,
)
from optsolve.decentralized.dadao import dadao_constants, ode_matrix, ode_modes
from optsolve.decentralized.events import alias_probabilities, alias_table, edge_schedule
from optsolve.decentralized.topology import as_graph_info
from optsolve.graphs import make_graph

CASES = [(1.0, 1.0, 0.5), (0.4, 0.125, 2.0), (10.0, 1e-2, 0.1), (1e3, 1e-4, 30.0)]


@pytest.mark.parametrize("L, mu, chi1", CASES)
def test_transition_matches_expm(L, mu, chi1):
    A = ode_matrix(dadao_constants(L, mu, chi1))
    m = ode_modes(A)
    E = np.empty((6, 6))
    rng = np.random.default_rng(0)
    for tau in np.r_[0.0, 10.0 ** rng.uniform(-6, 4, 20)]:
        ode_transition(tau, m.a, m.b, m.R, m.I, E)
        ref = expm(A * tau)
        np.testing.assert_allclose(E, ref, rtol=0, atol=1e-10 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("L, mu, chi1", CASES)
def test_lazy_integration_matches_fine_ode_solver(L, mu, chi1):
    # the state advanced by exp(Aτ) in one step equals a tight-tolerance integration of the
    # node ODE over the same random interval, for every coordinate
    A = ode_matrix(dadao_constants(L, mu, chi1))
    m = ode_modes(A)
    rng = np.random.default_rng(1)
    E = np.empty((6, 6))
    d = 3
    for _ in range(4):
        tau = rng.uniform(0.01, 20.0)
        S = rng.standard_normal((6, d)) * np.array([1, 1, L, L, L, L])[:, None]
        sol = solve_ivp(lambda t, s: (A @ s.reshape(6, d)).ravel(), (0.0, tau), S.ravel(),
                        method="DOP853", rtol=1e-12, atol=1e-12 * np.abs(S).max())
        ref = sol.y[:, -1].reshape(6, d)
        ode_transition(tau, m.a, m.b, m.R, m.I, E)
        got = S.copy()
        apply_transition(got, E)
        np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-9 * np.abs(S).max())


def test_apply_transition_equals_dense_product():
    rng = np.random.default_rng(2)
    A = ode_matrix(dadao_constants(2.0, 0.3, 1.0))
    E = expm(A * 0.7)
    S = rng.standard_normal((6, 11))
    got = S.copy()
    apply_transition(got, E)
    np.testing.assert_allclose(got, E @ S, rtol=1e-13, atol=1e-13)


def test_positions_at_reference():
    rng = np.random.default_rng(3)
    A = ode_matrix(dadao_constants(2.0, 0.3, 1.0))
    m = ode_modes(A)
    S = rng.standard_normal((5, 6, 4))
    t_last = rng.uniform(0, 3, 5)
    out = np.empty((5, 4))
    S0 = S.copy()
    positions_at(S, t_last, 3.5, m.a, m.b, m.R, m.I, out)
    ref = np.stack([(expm(A * (3.5 - t_last[i])) @ S[i])[0] for i in range(5)])
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(S, S0)  # the states are not modified


@pytest.mark.parametrize("d", [1, 7])
def test_jumps_match_numpy_reference(d):
    # Eq. (5) and Eq. (6) written out in numpy, and the two halves of the gossip jump (as the
    # MPI ranks apply them) equal to the whole jump
    rng = np.random.default_rng(5)
    nu, gamma, gamma_t, dsum, beta, beta_t = 0.3, 0.1, 0.7, 1.2, 0.5, 3.0
    S = rng.standard_normal((6, d))
    g = rng.standard_normal(d)
    ref = S.copy()
    gh = g - nu * ref[0] - ref[3]
    ref[0] -= gamma * gh
    ref[1] -= gamma_t * gh
    ref[3] += dsum * gh
    gradient_jump(S, g, nu, gamma, gamma_t, dsum)
    np.testing.assert_allclose(S, ref, rtol=1e-14, atol=1e-14)

    Si, Sj = rng.standard_normal((2, 6, d))
    m = Si[2] + Si[4] - Sj[2] - Sj[4]
    ri, rj = Si.copy(), Sj.copy()
    ri[4] -= beta * m
    rj[4] += beta * m
    ri[5] -= beta_t * m
    rj[5] += beta_t * m
    hi, hj = Si.copy(), Sj.copy()
    gossip_jump(Si, Sj, beta, beta_t)
    np.testing.assert_allclose(Si, ri, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(Sj, rj, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(Si[4] + Sj[4], hi[4] + hj[4], rtol=1e-13, atol=1e-13)
    mi, mj = np.empty(d), np.empty(d)
    gossip_message(hi, mi)
    gossip_message(hj, mj)
    np.testing.assert_array_equal(mi, hi[2] + hi[4])
    gossip_half_jump(hj, mi - mj, +1.0, beta, beta_t)
    gossip_half_jump(hi, mi - mj, -1.0, beta, beta_t)
    np.testing.assert_array_equal(hi, Si)
    np.testing.assert_array_equal(hj, Sj)


@pytest.mark.parametrize("weights", [[1.0], [1.0, 1.0, 2.0], np.arange(1, 40.0) ** 2,
                                     [0.0, 3.0, 1.0, 0.0]])
def test_alias_table_samples_the_distribution(weights):
    w = np.asarray(weights, dtype=float)
    prob, alias = alias_table(w)
    np.testing.assert_allclose(alias_probabilities(prob, alias), w / w.sum(), atol=1e-14)


def test_every_event_matches_numpy_reference():
    """One event per kernel call: the kernel's state after each event equals a numpy replay
    (advance the node(s) with scipy's expm, then the jump of Eq. (5) or (6))."""
    rng = np.random.default_rng(4)
    n, d = 5, 3
    X, y = rng.standard_normal((40, d)), rng.standard_normal(40)
    prob = DecentralizedProblem.ridge(partition_data(X, y, n, random_state=0), alpha=0.5)
    info = as_graph_info(make_graph("cycle", n), n)
    rates = np.linspace(0.5, 2.0, info.n_edges)
    sched = edge_schedule(info, [rates])
    c = dadao_constants(prob.L, prob.mu, 0.7)
    A = ode_matrix(c)
    m = ode_modes(A)
    p = prob.packed
    S = rng.standard_normal((n, 6, d))
    t_last = np.zeros(n)
    clock = np.zeros(1)
    gc = np.zeros(n, dtype=np.int64)
    cc = np.zeros(info.n_edges, dtype=np.int64)
    ref = S.copy()
    ref_last = np.zeros(n)
    seen = set()
    for step in range(300):
        gc_before, cc_before = gc.copy(), cc.copy()
        ev, ng, nc = dadao_events(
            S, t_last, clock, step, sched.seg_times, sched.period, sched.seg_ptr, sched.edge_uv,
            sched.alias_pack, sched.comm_rate, m.a, m.b, m.R, m.I,
            c.NU, c.GAMMA, c.GAMMA_T, c.DELTA + c.DELTA_T, c.BETA, c.BETA_T, *p.kernel_args(),
            p.offsets, p.inv_n_total, p.reg, 0, np.zeros(1, np.int64), np.inf, 1, gc, cc,
            np.zeros(d))
        assert ev == 1 and ng + nc == 1
        t = clock[0]
        if ng:
            (i,) = np.flatnonzero(gc != gc_before)
            ref[i] = expm(A * (t - ref_last[i])) @ ref[i]
            ref_last[i] = t
            x, yt = ref[i, 0].copy(), ref[i, 3].copy()
            g = prob.local_grad(i, x) - c.NU * x - yt
            ref[i, 0] -= c.GAMMA * g
            ref[i, 1] -= c.GAMMA_T * g
            ref[i, 3] += (c.DELTA + c.DELTA_T) * g
            seen.add("grad")
        else:
            (e,) = np.flatnonzero(cc != cc_before)
            i, j = info.rows[e], info.cols[e]
            for k in (i, j):
                ref[k] = expm(A * (t - ref_last[k])) @ ref[k]
                ref_last[k] = t
            msg = ref[i, 2] + ref[i, 4] - ref[j, 2] - ref[j, 4]
            ref[i, 4] -= c.BETA * msg
            ref[j, 4] += c.BETA * msg
            ref[i, 5] -= c.BETA_T * msg
            ref[j, 5] += c.BETA_T * msg
            seen.add("comm")
        np.testing.assert_allclose(S, ref, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(t_last, ref_last)
    assert seen == {"grad", "comm"}


@pytest.mark.parametrize("kind", ["barbell", "cycle", "erdos_renyi"])
def test_large_graph_constants(monkeypatch, kind):
    # above DENSE_MAX_NODES, χ₁ comes from Lanczos (matrix-vector products only) and χ₂ from
    # the bound max_e 1/(2 λ_e): χ₁ must stay exact and the condition χ₁χ₂ ≤ 1/2 guaranteed
    from optsolve.decentralized import rates as rates_mod
    from optsolve.graphs import chi1, chi2

    G = make_graph(kind, 40, random_state=0) if kind == "erdos_renyi" else make_graph(kind, 40)
    info = as_graph_info(G)
    monkeypatch.setattr(rates_mod, "DENSE_MAX_NODES", 10)
    (lam,), c1, c2 = rates_mod.dadao_rates(info, "uniform")
    assert c1 == pytest.approx(chi1(G, lam), rel=1e-8)
    assert c2 >= chi2(G, lam) * (1 - 1e-12)
    assert chi1(G, lam) * chi2(G, lam) <= 0.5 * (1 + 1e-9)
