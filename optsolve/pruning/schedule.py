"""Iterative prune → fine-tune: sparsity raised in rounds, the fine-tuning supplied by the user."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from .._validation import check_scalar_in_range
from .adapters._base import get_adapter

logger = logging.getLogger("optsolve.pruning")

__all__ = ["geometric_sparsity_schedule", "iterative_pruning"]

#: fraction of the remaining weights pruned per round (Xu et al., 2023, Sec. 4, after Frankle &
#: Carbin's iterative magnitude pruning)
ROUND_PRUNE_FRACTION = 0.2


def geometric_sparsity_schedule(final_sparsity: float, rate: float = ROUND_PRUNE_FRACTION):
    """Sparsities ``1 − (1 − rate)^k`` up to ``final_sparsity`` (the last round hits it exactly).

    Examples
    --------
    >>> from optsolve.pruning import geometric_sparsity_schedule
    >>> [round(s, 3) for s in geometric_sparsity_schedule(0.5)]
    [0.2, 0.36, 0.488, 0.5]
    """
    final_sparsity = check_scalar_in_range(final_sparsity, "final_sparsity", low=0.0, high=1.0,
                                           include_high=False)
    rate = check_scalar_in_range(rate, "rate", low=0.0, high=1.0, include_low=False,
                                 include_high=False)
    out, s = [], 0.0
    while True:
        s = 1.0 - (1.0 - s) * (1.0 - rate)
        if s >= final_sparsity - 1e-12:
            out.append(final_sparsity)
            return out
        out.append(s)


def iterative_pruning(
    pruner,
    model,
    X_calib,
    final_sparsity: float,
    fine_tune: Callable | None = None,
    *,
    rate: float = ROUND_PRUNE_FRACTION,
):
    """Prune in rounds of ``rate`` of the remaining weights, fine-tuning after each round.

    Each round re-measures the rate–distortion curves on the current (pruned, fine-tuned) model,
    so a layer can only get sparser. ``fine_tune(model, masks)`` gets the pruned copy and the
    keep-masks and returns the fine-tuned model; it must keep masked weights at zero (the masks
    are re-applied after it anyway).

    Parameters
    ----------
    pruner : LayerAdaptivePruner
        Its parameters (allocator, budget, ...) are used for every round; ``sparsity`` is set
        per round on a copy.
    model : object
        The trained model; never modified.
    X_calib : array-like
        Calibration inputs.
    final_sparsity : float in [0, 1)
    fine_tune : callable or None
        ``fine_tune(model, masks) -> model``; ``None`` prunes iteratively without training.
    rate : float, default=0.2

    Returns
    -------
    model : object
        The final pruned (and fine-tuned) copy.
    history : list of dict
        Per round: ``sparsity``, ``layer_sparsity``, ``predicted_distortion``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from optsolve.pruning import LayerAdaptivePruner, iterative_pruning
    >>> X = np.random.default_rng(0).standard_normal((60, 4))
    >>> net = MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0)
    >>> net = net.fit(X, X[:, 0])
    >>> pruned, hist = iterative_pruning(LayerAdaptivePruner(n_levels=11), net, X, 0.5)
    >>> len(hist), round(hist[-1]["sparsity"], 2)
    (4, 0.5)
    """
    params = pruner.get_params()
    masks = None
    current = model
    history = []
    for s in geometric_sparsity_schedule(final_sparsity, rate):
        round_pruner = type(pruner)(**{**params, "sparsity": s})
        round_pruner.fit(current, X_calib, masks=masks)
        masks = round_pruner.masks_
        current = round_pruner.transform(current)
        if fine_tune is not None:
            current = fine_tune(current, [m.copy() for m in masks])
            current = get_adapter(current).with_masks(masks)
        history.append({
            "sparsity": round_pruner.sparsity_,
            "layer_sparsity": np.array(round_pruner.layer_sparsity_),
            "predicted_distortion": round_pruner.predicted_distortion_,
        })
        logger.info("iterative pruning: round at sparsity %.4f", round_pruner.sparsity_)
    return current, history
