"""ADOM+ (Kovalev, Gasanov, Gasnikov & Richtárik, NeurIPS 2021) with multi-consensus.

The optimal primal method for smooth strongly convex decentralized optimization over
(time-varying) networks: accelerated primal-dual updates with error feedback ``m`` (Alg. 1),
lines 2 and 6 solved jointly in closed form (they are implicit in ``x^{k+1}, y^{k+1}``)::

    x_g = τ₁x + (1−τ₁)x_f;  y_g = σ₁y + (1−σ₁)y_f;  z_g = σ₁z + (1−σ₁)z_f
    x⁺  = x + ηα(x_g − x⁺) − η[∇F(x_g) − νx_g − y⁺]
    y⁺  = y + θβ(∇F(x_g) − νx_g − y⁺) − θ[(y_g + z_g)/ν + x⁺]
    x_f⁺ = x_g + τ₂(x⁺ − x);  y_f⁺ = y_g + σ₂(y⁺ − y)
    z⁺  = z + γδ(z_g − z) − W[γ(y_g + z_g)/ν + m];  m⁺ = γ(y_g + z_g)/ν + m − W[γ(y_g + z_g)/ν + m]
    z_f⁺ = z_g − ζ W(y_g + z_g)

with the constants of Kovalev et al. Thm. 2 from ``L, μ`` and the gossip condition number χ.
The gossip matrix is ``W = Λ/λ_max(Λ)`` (Λ the Laplacian, so χ = λ_max/λ⁺_min). Multi-consensus
(their Sec. 4.2, as run by Nabli & Oyallon): ``W_T = I − (I − W)^T`` with ``T = ⌈χ ln 2⌉``
products, which satisfies their gossip assumption with χ = 2.

Counts per iteration: ``n_nodes`` gradients (at ``x_g``) and ``2 T n_edges`` communications (two
stacked vectors, ``γ(y_g+z_g)/ν + m`` and ``y_g + z_g``, each through T gossip products); clock
+1 and events ``1 + T`` per iteration. Needs μ > 0.

References
----------
D. Kovalev, E. Gasanov, A. Gasnikov, P. Richtárik. Lower bounds and optimal algorithms for smooth
and strongly convex decentralized optimization over time-varying networks. NeurIPS 2021.

Examples
--------
>>> import numpy as np
>>> from optsolve.decentralized import DecentralizedProblem, partition_data, solve
>>> from optsolve.graphs import star_graph
>>> rng = np.random.default_rng(0)
>>> X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
>>> prob = DecentralizedProblem.ridge(partition_data(X, y, 6, random_state=0), alpha=0.5)
>>> res = solve(prob, star_graph(6), solver="adom+")
>>> bool(res.success), res.n_communications == 2 * res.n_consensus * 5 * res.time
(True, True)
"""

from __future__ import annotations

import math

import numpy as np

from ._gossip import (
    all_gossips,
    polynomial_cost_is_dense,
    segment_gossip,
    spectral_polynomial,
)
from ._options import boolean, choice, positive_int_or_none
from ._rounds import local_gradients, run_rounds, theory_rounds


def adom_plus_parameters(L: float, mu: float, chi: float) -> dict:
    """Kovalev et al. (2021), Thm. 2: the step sizes and momenta of ADOM+."""
    tau2 = math.sqrt(mu / L)
    sigma2 = math.sqrt(mu / L) / (16.0 * chi)
    nu = mu / 2.0
    return {
        "tau1": 1.0 / (1.0 / tau2 + 0.5), "tau2": tau2, "eta": 1.0 / (L * tau2),
        "alpha": mu / 2.0, "nu": nu, "beta": 1.0 / (2.0 * L),
        "sigma1": 1.0 / (1.0 / sigma2 + 0.5), "sigma2": sigma2,
        "gamma": nu / (14.0 * sigma2 * chi**2), "delta": 1.0 / (17.0 * L),
        "theta": nu / (4.0 * sigma2), "zeta": 0.5,
    }


OPTIONS = {
    "multi_consensus": (True, boolean),
    "n_consensus": (None, positive_int_or_none),
    "batch_size": (None, positive_int_or_none),
    "gossip": ("auto", choice("auto", "sparse", "spectral")),
}


def _consensus(info, options) -> tuple[int, float]:
    """``(T, χ_eff)``: gossip products per iteration and the χ their product satisfies."""
    chi = max(g.chi for g in all_gossips(info))
    T = options["n_consensus"]
    if T is None:
        T = max(1, math.ceil(chi * math.log(2.0))) if options["multi_consensus"] else 1
    # ‖W_T x − x‖ ≤ (1 − 1/χ)^T ‖x‖ on the consensus complement, so W_T meets Kovalev et al.'s
    # Assumption 3 with χ_eff = 1/(1 − (1 − 1/χ)^{2T}); T = ⌈χ ln 2⌉ gives χ_eff ≤ 4/3 (they
    # quote the looser χ_eff = 2 of Sec. 4.2)
    contraction = (1.0 - 1.0 / chi) ** T
    return T, min(chi, max(1.0, 1.0 / (1.0 - contraction**2)))


def default_max_events(problem, info, tol, options) -> int:
    T, chi_eff = _consensus(info, options)
    p = adom_plus_parameters(problem.L, problem.mu, chi_eff)
    # Kovalev et al. Thm. 2: the rate is min of τ₂/2-type terms, driven by σ₂ = τ₂/(16χ)
    return int((1 + T) * theory_rounds(p["sigma2"], tol, safety=4.0))


def run_adom_plus(problem, info, *, rng, monitor, options):
    """ADOM+ engine (contract in :mod:`optsolve.decentralized.monitor`). Options:
    ``multi_consensus`` (default True), ``n_consensus`` (T, default ⌈χ ln 2⌉), ``batch_size``
    (None: full local gradients; else mini-batches drawn from ``rng``), ``gossip`` ('auto' |
    'sparse' | 'spectral': how ``W_T`` is applied; the same linear map, see
    :func:`._gossip.spectral_polynomial`, so counts and iterates do not depend on it). On a
    :class:`~optsolve.decentralized.TimeVaryingGraph`, χ is the worst over the graphs and each
    gossip product uses the graph active at the iteration's time."""
    T, chi_eff = _consensus(info, options)
    p = adom_plus_parameters(problem.L, problem.mu, chi_eff)
    batch = options["batch_size"]

    mode = options["gossip"]
    dense_cache: dict = {}

    def W_T(V, g, index):
        """``(I − (I − Λ/λ_max)^T) V``: T sparse products, or the same polynomial applied as
        one dense matrix (``gossip='spectral'``, or ``'auto'`` when that is cheaper)."""
        if mode == "spectral" or (mode == "auto" and polynomial_cost_is_dense(g, T)):
            M = spectral_polynomial(g, lambda lam: 1.0 - (1.0 - lam / g.lap_max) ** T,
                                    dense_cache, index)
            return M @ V
        R = V
        for _ in range(T):
            R = R - g.laplacian @ R / g.lap_max
        return V - R

    X = monitor.x0
    d = X.shape[1]
    zeros = np.zeros_like(X)
    s = {"x": X, "xf": X.copy(), "y": zeros.copy(), "yf": zeros.copy(), "z": zeros.copy(),
         "zf": zeros.copy(), "m": zeros.copy()}
    c = p["eta"] / (1.0 + p["eta"] * p["alpha"])

    def step(k: int, time: float):
        index = info.index_at(time)
        g = segment_gossip(info, index)
        x, y, z = s["x"], s["y"], s["z"]
        xg = p["tau1"] * x + (1.0 - p["tau1"]) * s["xf"]
        yg = p["sigma1"] * y + (1.0 - p["sigma1"]) * s["yf"]
        zg = p["sigma1"] * z + (1.0 - p["sigma1"]) * s["zf"]
        r = local_gradients(problem, xg, batch, rng) - p["nu"] * xg
        # lines 2 and 6 are implicit in (x⁺, y⁺): x⁺ = a + c y⁺, then y⁺ solves a scalar equation
        a = (x + p["eta"] * p["alpha"] * xg - p["eta"] * r) / (1.0 + p["eta"] * p["alpha"])
        y_new = (y + p["theta"] * p["beta"] * r - (p["theta"] / p["nu"]) * (yg + zg)
                 - p["theta"] * a) / (1.0 + p["theta"] * p["beta"] + p["theta"] * c)
        x_new = a + c * y_new
        s["xf"] = xg + p["tau2"] * (x_new - x)
        s["yf"] = yg + p["sigma2"] * (y_new - y)
        u = (p["gamma"] / p["nu"]) * (yg + zg) + s["m"]
        # both gossiped vectors go through the same T products side by side
        Wboth = W_T(np.hstack([u, yg + zg]), g, index)
        Wu, Wyz = Wboth[:, :d], Wboth[:, d:]
        s["z"] = z + p["gamma"] * p["delta"] * (zg - z) - Wu
        s["m"] = u - Wu
        s["zf"] = zg - p["zeta"] * Wyz
        s["x"], s["y"] = x_new, y_new
        return 2 * T * g.n_edges, T

    return run_rounds(monitor, step, lambda: s["x"], grads_per_round=problem.n_nodes,
                      extra=lambda: {"n_consensus": T, "chi": chi_eff})
