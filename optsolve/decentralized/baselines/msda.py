"""MSDA: multi-step dual accelerated method (Scaman, Bach, Bubeck, Lee & Massoulié, ICML 2017).

Nesterov's accelerated gradient on the dual of ``min Σ f_i(θ_i) s.t. θ consensual``, with the
consensus constraint encoded by a Chebyshev polynomial ``P_K(W)`` of the graph Laplacian ``W``
(Alg. 2)::

    θ_t     = ∇f*(x_t)                             (one conjugate gradient per node)
    y_{t+1} = x_t − η P_K(W) θ_t                    (K gossip products, AcceleratedGossip)
    x_{t+1} = (1 + m) y_{t+1} − m y_t

with ``γ = λ⁺_min(W)/λ_max(W)``, ``c₁ = (1 − √γ)/(1 + √γ)``, ``K = ⌊1/√γ⌋``,
``η = μ(1 + c₁^{2K})/(1 + c₁^K)²`` and ``m = ((1 + c₁^K)√κ − 1 + c₁^K)/((1 + c₁^K)√κ + 1 − c₁^K)``,
``κ = L/μ`` (Scaman et al., Alg. 2 and Thm. 4). The primal iterate is ``θ_t``.

Counts per iteration: ``n_nodes`` gradients of the local conjugates (see :mod:`._conjugate`:
closed form for ridge, a warm-started inner Newton solve for logistic) and ``K · n_edges``
communications; clock +1 and events ``1 + K`` per iteration. Needs μ > 0 and a fixed graph.

References
----------
K. Scaman, F. Bach, S. Bubeck, Y. T. Lee, L. Massoulié. Optimal algorithms for smooth and
strongly convex distributed optimization in networks. ICML 2017.

Examples
--------
>>> import numpy as np
>>> from optsolve.decentralized import DecentralizedProblem, partition_data, solve
>>> from optsolve.graphs import cycle_graph
>>> rng = np.random.default_rng(0)
>>> X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
>>> prob = DecentralizedProblem.ridge(partition_data(X, y, 6, random_state=0), alpha=0.5)
>>> res = solve(prob, cycle_graph(6), solver="msda")
>>> bool(res.success), res.n_communications == res.degree * 6 * res.time
(True, True)
"""

from __future__ import annotations

import math

import numpy as np

from ._conjugate import ConjugateOracle
from ._gossip import (
    chebyshev_gossip,
    chebyshev_values,
    polynomial_cost_is_dense,
    segment_gossip,
    spectral_polynomial,
)
from ._options import (
    choice,
    fixed_graph,
    positive_float_or_none,
    positive_int_or_none,
    unit_interval_or_none,
)
from ._rounds import run_rounds, theory_rounds

OPTIONS = {
    "degree": (None, positive_int_or_none),
    "step_size": (None, positive_float_or_none),
    "momentum": (None, unit_interval_or_none),
    "gossip": ("auto", choice("auto", "sparse", "spectral")),
}


def msda_parameters(gossip, L: float, mu: float, degree: int | None = None) -> dict:
    """Scaman et al. (2017), Alg. 2: Chebyshev degree ``K``, dual step ``η``, momentum ``m``."""
    gamma = gossip.lap_min_pos / gossip.lap_max
    c1 = (1.0 - math.sqrt(gamma)) / (1.0 + math.sqrt(gamma))
    K = max(1, math.floor(1.0 / math.sqrt(gamma))) if degree is None else degree
    cK = c1**K
    kappa = L / mu
    eta = mu * (1.0 + cK * cK) / (1.0 + cK) ** 2
    m = ((1.0 + cK) * math.sqrt(kappa) - 1.0 + cK) / ((1.0 + cK) * math.sqrt(kappa) + 1.0 - cK)
    return {"degree": K, "step_size": eta, "momentum": m, "gamma": gamma}


def default_max_events(problem, info, tol, options) -> int:
    par = msda_parameters(segment_gossip(info, 0), problem.L, problem.mu, options["degree"])
    # Scaman et al. Thm. 4: O(√κ ln(1/ε)) iterations of 1 + K events
    return int((1 + par["degree"]) * theory_rounds(1.0 / math.sqrt(problem.L / problem.mu), tol))


def run_msda(problem, info, *, rng, monitor, options):
    """MSDA engine (contract in :mod:`optsolve.decentralized.monitor`). Options: ``degree`` (K),
    ``step_size`` (η), ``momentum`` (m); None takes Scaman et al.'s values; ``gossip`` ('auto' |
    'sparse' | 'spectral': ``P_K(W)`` as K sparse products or as one dense matrix, the same
    linear map, see :func:`._gossip.spectral_polynomial`).

    A dual method: it starts from the dual point 0 (primal ``θ_i = argmin f_i``), so ``x0`` only
    sets the reference ``‖∇F(x⁰)‖`` of the stopping rule."""
    fixed_graph("msda", info)
    gossip = segment_gossip(info, 0)
    par = msda_parameters(gossip, problem.L, problem.mu, options["degree"])
    eta = options["step_size"] or par["step_size"]
    m = par["momentum"] if options["momentum"] is None else options["momentum"]
    K = par["degree"]
    oracle = ConjugateOracle(problem)
    n, d = problem.n_nodes, problem.n_features
    s = {"x": np.zeros((n, d)), "y": np.zeros((n, d)), "theta": None}
    mode = options["gossip"]
    if mode == "spectral" or (mode == "auto" and polynomial_cost_is_dense(gossip, K)):
        PK = spectral_polynomial(
            gossip, lambda lam: chebyshev_values(lam, gossip.lap_max, gossip.lap_min_pos, K),
            {}, "msda")

        def accelerated_gossip(V):
            return PK @ V
    else:
        def accelerated_gossip(V):
            return chebyshev_gossip(V, gossip.laplacian, gossip.lap_max, gossip.lap_min_pos, K)

    def primal():
        if s["theta"] is None:
            s["theta"] = oracle(s["x"])
        return s["theta"]

    def step(k: int, time: float):
        theta = primal()
        y_new = s["x"] - eta * accelerated_gossip(theta)
        s["x"] = (1.0 + m) * y_new - m * s["y"]
        s["y"] = y_new
        s["theta"] = None
        return K * gossip.n_edges, K

    return run_rounds(
        monitor, step, primal, grads_per_round=n,
        extra=lambda: {"degree": K, "step_size": eta, "momentum": m,
                       "n_inner_steps": oracle.n_inner_steps,
                       "n_inner_factorizations": oracle.n_factorizations},
    )
