"""The round loop shared by the synchronous baselines, on the engine contract of
:mod:`optsolve.decentralized.monitor`.

A synchronous method advances in rounds. In one round every node evaluates one local gradient
(``n_nodes`` gradients) and takes part in the gossip products of that round; ``step`` returns
the communications it used (one pairwise exchange of one d-vector over one edge = 1, see
:mod:`._gossip`) and the number of synchronous gossip rounds. Clock and events follow the
monitor's convention for synchronous engines: the simulated clock advances by 1 per gradient
round, and ``nit`` counts one event per gradient round plus one per gossip round (a round of
MSDA with K Chebyshev products is 1 + K events).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..monitor import EngineOutput


def run_rounds(
    monitor,
    step: Callable[[int, float], tuple[int, int]],
    primal: Callable[[], np.ndarray],
    *,
    grads_per_round: int,
    initial_gradients: int = 0,
    extra: Callable[[], dict] | None = None,
) -> EngineOutput:
    """Run ``step(k, time) -> (communications, gossip_rounds)`` until the monitor stops the run.

    ``primal()`` returns the current ``(n_nodes, d)`` primal iterate (the one checked and
    returned); ``initial_gradients`` counts the gradients a method spends before its first round
    (EXTRA and gradient tracking evaluate ``∇f(x⁰)``).
    """
    time, nit, k = 0.0, 0, 0
    n_grad, n_comm = int(initial_gradients), 0
    while True:
        t_stop, nit_stop = monitor.next_checkpoint(time, nit)
        while True:
            comms, gossip_rounds = step(k, time)
            n_comm += int(comms)
            n_grad += grads_per_round
            nit += 1 + int(gossip_rounds)
            time += 1.0
            k += 1
            if time >= t_stop or nit >= nit_stop:
                break
        X = primal()
        if monitor.check(X, time=time, nit=nit, n_gradients=n_grad, n_communications=n_comm):
            return EngineOutput(np.array(X), time, nit, n_grad, n_comm,
                                {} if extra is None else extra())


def local_gradients(problem, X: np.ndarray, batch_size: int | None, rng) -> np.ndarray:
    """``∇f_i(X[i])`` for every node, or with ``batch_size`` the unbiased mini-batch estimates
    from ``batch_size`` local samples drawn uniformly with replacement (as DADAO's stochastic
    gradients; one mini-batch counts as one gradient)."""
    if batch_size is None:
        return problem.local_grads(X)
    out = np.empty_like(X)
    for i in range(problem.n_nodes):
        idx = rng.integers(0, problem.n_samples[i], size=batch_size)
        problem.local_grad_batch(i, X[i], idx, out=out[i])
    return out


def theory_rounds(rate: float, tol: float, safety: float = 10.0) -> float:
    """Rounds for a linear rate ``(1 − rate)^k`` to gain ``tol``, times ``safety`` (caps)."""
    rate = min(max(rate, 1e-12), 1.0)
    return safety * np.log(1.0 / max(tol, 1e-16)) / rate + 100.0
