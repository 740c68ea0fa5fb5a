"""Layer-adaptive weight pruning by joint rate–distortion optimization (Xu et al., ICCV 2023).

Given a trained network and a global sparsity (or FLOPs) budget, choose how much to prune in each
layer so that the output distortion is least: measure each layer's rate–distortion curve, rely
on the additivity of per-layer output distortions, and solve the allocation exactly by dynamic
programming. Public names are imported lazily so that ``import optsolve.pruning`` compiles no
numba kernel and never imports torch.
"""

from .._lazy import attach

_LAZY = {
    "LayerAdaptivePruner": ".estimators",
    "allocate_dp": ".allocation",
    "allocate_lagrangian": ".allocation",
    "RateDistortionCurves": ".curves",
    "compute_curves": ".curves",
    "allocate_uniform": ".baselines",
    "allocate_uniform_plus": ".baselines",
    "allocate_global_magnitude": ".baselines",
    "allocate_erk": ".baselines",
    "allocate_lamp": ".baselines",
    "lamp_scores": ".baselines",
    "ModelAdapter": ".adapters",
    "get_adapter": ".adapters",
    "register_adapter": ".adapters",
    "check_additivity": ".additivity",
    "iterative_pruning": ".schedule",
    "geometric_sparsity_schedule": ".schedule",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
