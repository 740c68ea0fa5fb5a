"""Decentralized gradient descent (DGD; Nedić & Ozdaglar, 2009).

Every round each node mixes its neighbours' iterates with the Metropolis weights ``W`` and takes
a local gradient step::

    x_i^{k+1} = Σ_j W_ij x_j^k − η_k ∇f_i(x_i^k)

Counts per round: ``n_nodes`` local gradients and ``n_edges`` communications (one exchange of
one d-vector per edge, see :mod:`._gossip`); clock +1, events +2 per round (one gradient round,
one gossip round). On a :class:`~optsolve.decentralized.TimeVaryingGraph` the round at time t
mixes with the graph active at t.

With a constant step DGD converges linearly, but only to the fixed point of
``(I − W) x + η ∇f(x) = 0``, the minimizer of ``Σ f_i(x_i) + xᵀ(I − W)x / (2η)``, at distance
``O(η)`` from ``x*`` (Yuan, Ling & Yin, 2016): it reaches a small ``tol`` only when the local
minimizers agree. ``schedule='diminishing'`` (``η_k = η₀/√(k+1)``, Nedić & Ozdaglar) converges
to ``x*`` exactly but sublinearly. Convex problems (μ = 0) are accepted.

References
----------
A. Nedić, A. Ozdaglar. Distributed subgradient methods for multi-agent optimization. IEEE TAC 2009.
K. Yuan, Q. Ling, W. Yin. On the convergence of decentralized gradient descent. SIAM J. Optim. 2016.

Examples
--------
>>> import numpy as np
>>> from optsolve.decentralized import DecentralizedProblem, partition_data, solve
>>> from optsolve.graphs import complete_graph
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((20, 3))
>>> same = [(X, X @ np.ones(3))] * 4  # identical nodes: DGD's fixed point is the optimum
>>> res = solve(DecentralizedProblem.ridge(same, 0.1), complete_graph(4), solver="dgd")
>>> bool(res.success), res.n_gradients == 4 * res.time
(True, True)
"""

from __future__ import annotations

import numpy as np

from ._gossip import all_gossips, segment_gossip
from ._options import choice, positive_float_or_none, positive_int_or_none
from ._rounds import local_gradients, run_rounds

#: fraction of the stability bound η < (1 + λ_min(W)) / L (Yuan, Ling & Yin 2016, Thm. 1)
DGD_STEP_FRACTION = 0.5
#: rounds allowed by default (DGD has no linear rate to ``tol``)
DGD_DEFAULT_ROUNDS = 20_000

OPTIONS = {
    "step_size": (None, positive_float_or_none),
    "schedule": ("constant", choice("constant", "diminishing")),
    "batch_size": (None, positive_int_or_none),
}


def dgd_step_size(info, L: float) -> float:
    """Default step ``η = ½ min_graphs (1 + λ_min(W)) / L``."""
    return DGD_STEP_FRACTION * min(1.0 + g.mix_min for g in all_gossips(info)) / L


def default_max_events(problem, info, tol, options) -> int:
    return 2 * DGD_DEFAULT_ROUNDS


def run_dgd(problem, info, *, rng, monitor, options):
    """DGD engine (contract in :mod:`optsolve.decentralized.monitor`). Options: ``step_size``
    (η₀, default :func:`dgd_step_size`), ``schedule`` ('constant' | 'diminishing'),
    ``batch_size`` (None: full local gradients; else mini-batches drawn from ``rng``)."""
    eta0 = options["step_size"] or dgd_step_size(info, problem.L)
    diminishing = options["schedule"] == "diminishing"
    batch = options["batch_size"]
    s = {"X": monitor.x0}

    def step(k: int, time: float):
        g = segment_gossip(info, info.index_at(time))
        eta = eta0 / np.sqrt(k + 1.0) if diminishing else eta0
        X = s["X"]
        s["X"] = g.metropolis @ X - eta * local_gradients(problem, X, batch, rng)
        return g.n_edges, 1

    return run_rounds(monitor, step, lambda: s["X"], grads_per_round=problem.n_nodes,
                      extra=lambda: {"step_size": eta0, "schedule": options["schedule"]})
