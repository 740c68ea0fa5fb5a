"""The continuized accelerated decentralized method of Even et al. (NeurIPS 2021).

Continuized Nesterov acceleration applied to the dual of ``min Σ f_i(θ_i)`` s.t. consensus,
with randomized gossip: each node holds dual vectors ``y_i, z_i`` (``Σ_i y_i = Σ_i z_i = 0``);
between events they mix by ``dy = η(z − y)dt, dz = η(y − z)dt`` (integrated exactly and lazily);
at the Poisson event of an edge e = (i, j), sampled with probability ``p_e``, both endpoints
compute one gradient of their local conjugate, exchange it, and update::

    G   = ∇f_i*(y_i) − ∇f_j*(y_j)
    y_i −= γ R_e G,   y_j += γ R_e G          (dual coordinate step, γ R_e ≤ μ/2)
    z_i −= γ' G,      z_j += γ' G             (accelerated step)

With ``Λ_p = Σ_e p_e (e_i − e_j)(e_i − e_j)ᵀ``, ``λ⁺`` its smallest positive eigenvalue,
``R_e = (e_i − e_j)ᵀ Λ_p⁺ (e_i − e_j)`` and ``R = max_e R_e``, the dual is ``μ_M = λ⁺/L``
strongly convex and ``L_M = 2R/μ`` smooth (per edge step) in the ``Λ_p⁺`` metric, and the
continuized constants are (Even et al., Thm. 3 and App. H, as corrected by Nabli & Oyallon's
code — the factor 2 of their Eq. (63) belongs to the numerator)::

    γ = 1/L_M = μ/(2R),   γ' = 1/√(μ_M L_M) = √(Lμ / (2λ⁺R)),   η = √(μ_M / L_M) = √(λ⁺μ / (2RL))

(so that ``ηγ' = γ`` and ``γ'/η = 1/μ_M``, the continuized relations; Nabli & Oyallon's code
takes η a factor √2 larger). The rate is ``e^{−ητ}`` in the events' own clock τ (one event per
unit), i.e. ``O(√(R/λ⁺) √(L/μ))`` events, ``O(|E| √(χ₁χ₂) √(L/μ))`` on uniform edges.

Counts: every edge event is 2 local gradients (of the conjugates: closed form for ridge, see
:mod:`._conjugate`) and 1 communication, and 3 events of ``nit``. Clock: events arrive at total
rate ``n_nodes / 2``, so that on average each node computes one gradient per unit of time as in
DADAO. Edges are sampled uniformly by default, or proportionally to the adjacency weights
(``edge_weights='adjacency'``). Logistic problems have no closed-form conjugate: each event then
runs two warm-started Newton solves (``n_inner_steps`` in the result; Nabli & Oyallon ran this
method on least squares only). Needs μ > 0 and a fixed graph; a dual method, it starts from the
dual point 0, so ``x0`` only sets the reference of the stopping rule. The primal iterate is
``θ_i = ∇f_i*(y_i)``.

References
----------
M. Even, R. Berthier, F. Bach, N. Flammarion, P. Gaillard, H. Hendrikx, L. Massoulié, A. Taylor.
Continuized accelerations of deterministic and stochastic gradient descents, and of gossip
algorithms. NeurIPS 2021.

Examples
--------
>>> import numpy as np
>>> from optsolve.decentralized import DecentralizedProblem, partition_data, solve
>>> from optsolve.graphs import cycle_graph
>>> rng = np.random.default_rng(0)
>>> X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
>>> prob = DecentralizedProblem.ridge(partition_data(X, y, 6, random_state=0), alpha=0.5)
>>> res = solve(prob, cycle_graph(6), solver="continuized", random_state=0)
>>> bool(res.success), res.n_gradients == 2 * res.n_communications
(True, True)
"""

from __future__ import annotations

import math

import numpy as np

from ...graphs import effective_resistances, weighted_laplacian
from ..monitor import EngineOutput
from . import _kernels as K
from ._conjugate import ConjugateOracle
from ._options import choice, fixed_graph, positive_int_or_none
from ._rounds import theory_rounds

#: events drawn per block (pre-drawn, so the kernel needs no random generator)
EVENT_BLOCK = 8192
#: events of ``nit`` per edge activation: two local (conjugate) gradients and one exchange
EVENTS_PER_ACTIVATION = 3

OPTIONS = {
    "edge_weights": ("uniform", choice("uniform", "adjacency")),
    "event_block": (None, positive_int_or_none),
}


def continuized_parameters(info, L: float, mu: float, edge_weights: str = "uniform") -> dict:
    """Edge probabilities ``p``, resistances ``R_e`` of ``Λ_p``, ``λ⁺(Λ_p)`` and the constants
    ``η, γ, γ'`` of the continuized method (module docstring)."""
    seg = info.segments[0]
    m = seg.n_edges
    if edge_weights == "uniform":
        p = np.full(m, 1.0 / m)
    else:
        w = np.asarray(seg.adjacency[seg.rows, seg.cols]).ravel()
        p = w / w.sum()
    R = effective_resistances(seg.adjacency, p)
    Lam = weighted_laplacian(seg.adjacency, p)
    ev = np.linalg.eigvalsh(Lam.toarray()) if Lam.shape[0] <= 2000 else None
    if ev is not None:
        lam_pos = float(ev[1])
    else:
        from ...graphs import chi1

        lam_pos = 1.0 / chi1(seg.adjacency, p)
    R_max = float(R.max())
    gamma = mu / (2.0 * R_max)
    gamma_z = math.sqrt(L * mu / (2.0 * lam_pos * R_max))
    eta = math.sqrt(lam_pos * mu / (2.0 * R_max * L))
    return {"p": p, "R": R, "lam_pos": lam_pos, "R_max": R_max, "gamma": gamma,
            "gamma_z": gamma_z, "eta": eta}


def default_max_events(problem, info, tol, options) -> int:
    par = continuized_parameters(info, problem.L, problem.mu, options["edge_weights"])
    return int(EVENTS_PER_ACTIVATION * theory_rounds(par["eta"], tol, safety=4.0))


def run_continuized(problem, info, *, rng, monitor, options):
    """Continuized engine (contract in :mod:`optsolve.decentralized.monitor`). Options:
    ``edge_weights`` ('uniform' | 'adjacency'), ``event_block`` (events pre-drawn per block)."""
    fixed_graph("continuized", info)
    par = continuized_parameters(info, problem.L, problem.mu, options["edge_weights"])
    block = options["event_block"] or EVENT_BLOCK
    n, d = problem.n_nodes, problem.n_features
    rate = 0.5 * n  # total event rate: each node ~1 gradient per unit time
    oracle = ConjugateOracle(problem)
    seg = info.segments[0]
    rows, cols = seg.rows, seg.cols
    step_y = par["gamma"] * par["R"]
    eta_t = par["eta"] * rate  # the ODE rate in the clock where events arrive at ``rate``
    Y, Z = np.zeros((n, d)), np.zeros((n, d))
    t_last = np.zeros(n)
    gi, gj = np.empty(d), np.empty(d)
    inner = np.zeros(2, dtype=np.int64)  # inner steps, factorizations
    data = oracle.data_args()
    cum_p = np.cumsum(par["p"])
    time, nit, n_act, last_t = 0.0, 0, 0, 0.0
    ev_edge, ev_time, pos = np.zeros(0, np.int64), np.zeros(0), 0

    def draw(t0):
        gaps = rng.exponential(1.0 / rate, size=block)
        edges = np.searchsorted(cum_p, rng.random(block) * cum_p[-1], side="right")
        return np.minimum(edges, rows.size - 1).astype(np.int64), t0 + np.cumsum(gaps)

    while True:
        t_stop, nit_stop = monitor.next_checkpoint(time, nit)
        while True:
            if pos >= ev_edge.size:
                ev_edge, ev_time = draw(ev_time[-1] if ev_time.size else 0.0)
                pos = 0
            budget = max(1, math.ceil((nit_stop - nit) / EVENTS_PER_ACTIVATION)) \
                if math.isfinite(nit_stop) else ev_edge.size
            new = K.continuized_events(
                Y, Z, t_last, rows, cols, step_y, ev_edge, ev_time, pos, t_stop, budget, eta_t,
                par["gamma_z"], oracle.is_ridge, oracle.H_inv, oracle.shift, *data,
                oracle.theta, *oracle.work, gi, gj, inner)
            played = new - pos
            if played:
                last_t = float(ev_time[new - 1])
            n_act += played
            nit += EVENTS_PER_ACTIVATION * played
            pos = new
            if pos < ev_edge.size or nit >= nit_stop:
                break
        # stopped by the events budget: the clock is the last event's; else the checkpoint's
        time = last_t if nit >= nit_stop else float(t_stop)
        K.advance_all(Y, Z, t_last, time, eta_t)
        theta = oracle(Y)
        if monitor.check(theta, time=time, nit=nit, n_gradients=2 * n_act,
                         n_communications=n_act):
            return EngineOutput(theta, time, nit, 2 * n_act, n_act, {
                "eta": par["eta"], "gamma": par["gamma"], "gamma_z": par["gamma_z"],
                "event_rate": rate, "n_inner_steps": int(inner[0]) + oracle.n_inner_steps,
                "n_inner_factorizations": int(inner[1]) + oracle.n_factorizations})
