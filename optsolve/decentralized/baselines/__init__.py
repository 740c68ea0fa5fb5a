"""The comparison set of DADAO (Nabli & Oyallon, ICML 2023), on the same engine contract.

One module per method: :mod:`.dgd` (DGD), :mod:`.extra` (EXTRA and gradient tracking),
:mod:`.msda` (MSDA, Chebyshev-accelerated dual), :mod:`.adom_plus` (ADOM+ with
multi-consensus) and :mod:`.continuized` (the continuized accelerated dual gossip of Even et al.).

Counting conventions (shared with DADAO, :mod:`optsolve.decentralized.monitor`): one local
gradient (or one gradient of a local conjugate, for the dual methods) per node evaluation; one
communication = one pairwise exchange over one edge of one d-vector each way, so a synchronous
gossip product of one stacked vector costs ``n_edges`` communications. Synchronous methods
advance the simulated clock by 1 per gradient round and count one event per gradient round and
one per gossip round; the continuized method's edge activations arrive at total rate n/2 and
count three events (two gradients, one exchange).

==============  ===========================  ===========================  ==================
solver          per round / activation       options (default: theory)    needs
==============  ===========================  ===========================  ==================
'dgd'           n grads, |E| comms           step_size, schedule,         (convex)
                                             batch_size
'extra'         n grads, |E| comms           variant='extra', step_size,  fixed graph
                                             batch_size
'extra', GT     n grads, 2|E| comms          variant='gradient_tracking'  (convex)
'msda'          n conj. grads, K|E| comms    degree (K), step_size,       μ > 0, fixed graph
                                             momentum
'adom+'         n grads, 2T|E| comms         multi_consensus,             μ > 0
                                             n_consensus, batch_size
'continuized'   2 conj. grads, 1 comm        edge_weights, event_block    μ > 0, fixed graph
==============  ===========================  ===========================  ==================

Dual methods (MSDA, continuized) call ``∇f_i*``: closed form for ridge, a warm-started Newton
solve for logistic (their ``n_inner_steps``). A conjugate gradient is a far stronger oracle than a
gradient, so their gradient counts are not comparable one-for-one with the primal methods'.
"""

from __future__ import annotations

#: solver name → (module, engine function, needs μ > 0); each module defines ``OPTIONS``
#: and ``default_max_events``
BASELINES = {
    "dgd": ("dgd", "run_dgd", False),
    "extra": ("extra", "run_extra", False),
    "msda": ("msda", "run_msda", True),
    "adom+": ("adom_plus", "run_adom_plus", True),
    "continuized": ("continuized", "run_continuized", True),
}


def register(methods: dict, method_cls) -> None:
    """Add every baseline to ``methods`` (``solver.METHODS``) as ``method_cls`` entries."""
    import importlib

    for name, (module, engine, strong) in BASELINES.items():
        mod = importlib.import_module(f".{module}", __name__)
        methods[name] = method_cls(
            engine=f".baselines.{module}:{engine}",
            options=dict(mod.OPTIONS),
            default_max_events=f".baselines.{module}:default_max_events",
            requires_strong_convexity=strong,
            check_time=getattr(mod, "CHECK_TIME", 1.0),
        )
