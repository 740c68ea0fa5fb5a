"""EXTRA (Shi, Ling, Wu & Yin, 2015) and gradient tracking (DIGing; Nedić, Olshevsky & Shi, 2017).

Both correct DGD's O(η) bias and converge linearly to ``x*`` with a constant step. With the
Metropolis matrix ``W`` and ``W̃ = (I + W)/2``:

``variant='extra'`` (Shi et al., eq. 2.13)::

    x¹      = W x⁰ − α ∇f(x⁰)
    x^{k+2} = (I + W) x^{k+1} − W̃ x^k − α [∇f(x^{k+1}) − ∇f(x^k)]

one gossip product per round (``W x^k`` is kept from the previous round): ``n_edges``
communications and ``n_nodes`` gradients per round. Needs a fixed graph.

``variant='gradient_tracking'`` (DIGing, Nedić et al., Alg. 1)::

    x^{k+1} = W x^k − α y^k
    y^{k+1} = W y^k + ∇f(x^{k+1}) − ∇f(x^k),        y⁰ = ∇f(x⁰)

two gossiped vectors per round: ``2 n_edges`` communications, ``n_nodes`` gradients; runs on a
:class:`~optsolve.decentralized.TimeVaryingGraph` (the graph active at the round's time).

Both spend ``n_nodes`` extra gradients for ``∇f(x⁰)``. Clock +1 and events +2 per round.
Convex problems (μ = 0) are accepted.

References
----------
W. Shi, Q. Ling, G. Wu, W. Yin. EXTRA: an exact first-order algorithm for decentralized consensus
optimization. SIAM J. Optim. 2015.
A. Nedić, A. Olshevsky, W. Shi. Achieving geometric convergence for distributed optimization over
time-varying graphs. SIAM J. Optim. 2017.

Examples
--------
>>> import numpy as np
>>> from optsolve.decentralized import DecentralizedProblem, partition_data, solve
>>> from optsolve.graphs import cycle_graph
>>> rng = np.random.default_rng(0)
>>> X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
>>> prob = DecentralizedProblem.ridge(partition_data(X, y, 6, random_state=0), alpha=0.5)
>>> res = solve(prob, cycle_graph(6), solver="extra", variant="gradient_tracking")
>>> bool(res.success), bool(np.allclose(res.x, prob.solution(), atol=1e-5))
(True, True)
"""

from __future__ import annotations

from ._gossip import all_gossips, segment_gossip
from ._options import choice, fixed_graph, positive_float_or_none, positive_int_or_none
from ._rounds import local_gradients, run_rounds, theory_rounds

#: EXTRA converges for α < 2 λ_min(W̃) / L (Shi et al. 2015, Thm. 3.3); default: half of it
EXTRA_STEP_FRACTION = 0.5
#: DIGing's proven step is tiny (Nedić et al. 2017, Thm. 3.14); the customary practical step is
#: a fraction of the same stability bound (1 + λ_min(W)) / L as EXTRA
TRACKING_STEP_FRACTION = 0.25
#: rounds allowed by default when μ = 0 (no linear rate)
CONVEX_DEFAULT_ROUNDS = 100_000

VARIANTS = ("extra", "gradient_tracking")

OPTIONS = {
    "variant": ("extra", choice(*VARIANTS)),
    "step_size": (None, positive_float_or_none),
    "batch_size": (None, positive_int_or_none),
}


def extra_step_size(info, L: float, variant: str = "extra") -> float:
    """Default step: ``(1 + λ_min(W)) / (2L)`` (half of EXTRA's bound ``2λ_min(W̃)/L``) for
    EXTRA and a quarter of ``(1 + λ_min(W))/L`` for gradient tracking."""
    bound = min(1.0 + g.mix_min for g in all_gossips(info)) / L  # 2 λ_min(W̃) / L
    frac = EXTRA_STEP_FRACTION if variant == "extra" else TRACKING_STEP_FRACTION
    return frac * bound


def default_max_events(problem, info, tol, options) -> int:
    if not problem.mu > 0:
        return 2 * CONVEX_DEFAULT_ROUNDS
    alpha = options.get("step_size") or extra_step_size(info, problem.L, options["variant"])
    gap = min(1.0 - g.mix_second for g in all_gossips(info))
    return int(2 * theory_rounds(min(alpha * problem.mu, gap), tol))


def run_extra(problem, info, *, rng, monitor, options):
    """EXTRA / gradient-tracking engine (contract in :mod:`optsolve.decentralized.monitor`).
    Options: ``variant`` ('extra' | 'gradient_tracking'), ``step_size`` (α, default
    :func:`extra_step_size`), ``batch_size`` (None: full local gradients; else mini-batches
    drawn from ``rng``, which leaves a noise floor)."""
    variant = options["variant"]
    if variant == "extra":
        fixed_graph("extra", info)
    alpha = options["step_size"] or extra_step_size(info, problem.L, variant)
    batch = options["batch_size"]
    X = monitor.x0
    G = local_gradients(problem, X, batch, rng)
    s = {"X": X, "G": G, "Y": G.copy(), "Xprev": None, "WXprev": None, "Gprev": None}

    def step_extra(k: int, time: float):
        g = segment_gossip(info, 0)
        WX = g.metropolis @ s["X"]
        if k == 0:
            Xn = WX - alpha * s["G"]
        else:
            # (I + W) x^{k+1} − W̃ x^k − α[∇f(x^{k+1}) − ∇f(x^k)]; W x^k is last round's product
            Xn = s["X"] + WX - 0.5 * (s["Xprev"] + s["WXprev"]) - alpha * (s["G"] - s["Gprev"])
        s["Xprev"], s["WXprev"], s["Gprev"] = s["X"], WX, s["G"]
        s["X"], s["G"] = Xn, local_gradients(problem, Xn, batch, rng)
        return g.n_edges, 1

    def step_tracking(k: int, time: float):
        g = segment_gossip(info, info.index_at(time))
        Xn = g.metropolis @ s["X"] - alpha * s["Y"]
        Gn = local_gradients(problem, Xn, batch, rng)
        s["Y"] = g.metropolis @ s["Y"] + Gn - s["G"]
        s["X"], s["G"] = Xn, Gn
        return 2 * g.n_edges, 1

    return run_rounds(
        monitor, step_extra if variant == "extra" else step_tracking, lambda: s["X"],
        grads_per_round=problem.n_nodes, initial_gradients=problem.n_nodes,
        extra=lambda: {"step_size": alpha, "variant": variant},
    )
