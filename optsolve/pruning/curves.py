"""Per-layer rate–distortion curves (Xu et al., 2023, Sec. 3.2).

For each prunable layer and each pruning level on a grid, the layer alone is pruned by magnitude
and the output distortion ``E‖Y − Ŷ‖²`` on a calibration set is measured. Activations are
reused: one forward pass caches what every layer needs, and each evaluation only runs the
network from the pruned layer to the output.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .adapters._base import ModelAdapter

logger = logging.getLogger("optsolve.pruning")

__all__ = ["RateDistortionCurves", "compute_curves", "level_prune_counts", "magnitude_order"]


@dataclass
class RateDistortionCurves:
    """Rate–distortion curves of every prunable layer of one model.

    Attributes
    ----------
    layer_names : list of str
    shapes : list of tuple
        Shape of each weight tensor.
    n_weights : ndarray (L,)
        Weights in each layer (pruned or not).
    n_remaining : ndarray (L,)
        Weights still unpruned before this round (the grid is over these).
    kept : ndarray (L, K), int64
        Weights kept by each layer at each level (level 0 keeps all remaining weights).
    distortion : ndarray (L, K)
        Output distortion of pruning each layer alone to each level.
    flops_per_weight : ndarray (L,), int64
        Multiply-adds per sample of one weight of each layer.
    forward_passes : float
        Cost of computing the curves, in equivalent full forward passes on the calibration set.
    n_evaluations : int
        Number of (layer, level) evaluations actually run (repeated levels are reused).
    min_kept : ndarray (L,), int64
        Floor of each layer's grid: the last level keeps this many weights (0: the layer may be
        emptied).
    """

    layer_names: list[str]
    shapes: list[tuple]
    n_weights: np.ndarray
    n_remaining: np.ndarray
    kept: np.ndarray
    distortion: np.ndarray
    flops_per_weight: np.ndarray
    forward_passes: float = 0.0
    n_evaluations: int = 0
    worst_case: bool = False
    meta: dict = field(default_factory=dict)
    min_kept: np.ndarray | None = None

    def __post_init__(self):
        if self.min_kept is None:
            self.min_kept = np.zeros(len(self.layer_names), dtype=np.int64)

    @property
    def n_levels(self) -> int:
        return self.kept.shape[1]

    def costs(self, budget: str = "weights") -> np.ndarray:
        """Cost matrix for the allocators: kept weights, or kept FLOPs per sample."""
        if budget == "flops":
            return self.kept * self.flops_per_weight[:, None]
        return self.kept.copy()


def magnitude_order(weight: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Flat indices of the unpruned weights, by increasing magnitude (stable for ties)."""
    flat = np.abs(np.asarray(weight, dtype=np.float64)).ravel()
    idx = np.arange(flat.size) if mask is None else np.flatnonzero(np.asarray(mask).ravel())
    return idx[np.argsort(flat[idx], kind="stable")]


def level_prune_counts(n_remaining: int, n_levels: int, min_kept: int = 0) -> np.ndarray:
    """Weights pruned at each level: ``round(j / (K - 1) * (n_remaining - min_kept))``.

    ``j = 0..K-1``; the grid spans the prunable range, so the last level keeps ``min_kept``
    weights (all of the layer's remaining ones if it has fewer).
    """
    if n_levels == 1:
        return np.zeros(1, dtype=np.int64)
    frac = np.arange(n_levels) / (n_levels - 1)
    return np.rint(frac * max(n_remaining - min_kept, 0)).astype(np.int64)


def _distortion(Y, Y_hat, worst_case: bool) -> float:
    err = ((Y - Y_hat) ** 2).sum(axis=1)
    return float(err.max() if worst_case else err.mean())


def compute_curves(
    adapter: ModelAdapter,
    X,
    *,
    n_levels: int = 101,
    worst_case: bool = False,
    masks: Sequence[np.ndarray] | None = None,
    min_kept: Sequence[int] | None = None,
    proba: bool = False,
    weights: Sequence[np.ndarray] | None = None,
    reference: np.ndarray | None = None,
) -> RateDistortionCurves:
    """Measure the rate–distortion curve of every prunable layer.

    Parameters
    ----------
    adapter : ModelAdapter
        The model (with any earlier masks already applied).
    X : array-like
        Calibration inputs, already checked by ``adapter.check_input``.
    n_levels : int, default=101
        Levels ``0..K-1`` prune ``j / (K - 1)`` of each layer's remaining weights.
    worst_case : bool, default=False
        Max over samples of ``‖Y − Ŷ‖²`` instead of the mean.
    masks : sequence of bool arrays, optional
        Weights already pruned (``False``); the grid runs over the others only.
    min_kept : sequence of int, optional
        Per-layer floor of kept weights: the grid of layer ``l`` runs from all its remaining
        weights down to ``min_kept[l]`` of them (default 0: down to an empty layer).
    proba : bool, default=False
        Measure the distortion on the class probabilities (``adapter.to_proba`` of the output)
        instead of the raw output (logits).
    weights : sequence of arrays, optional
        The weights whose magnitude grid is measured, one per layer (default: the adapter's
        own). With the adapter wrapping a pruned model, each curve is then *conditional*: layer
        ``l`` runs over its grid of ``weights[l]`` while every other layer stays as pruned in
        the adapter's model (the refinement of ``LayerAdaptivePruner(n_refine=...)``).
    reference : ndarray, optional
        Raw output the distortion is measured against (default: the adapter's model's output
        on ``X``); e.g. the unpruned model's output for conditional curves.

    Returns
    -------
    RateDistortionCurves

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from optsolve.pruning import compute_curves, get_adapter
    >>> X = np.random.default_rng(0).standard_normal((30, 4))
    >>> net = MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    >>> net = net.fit(X, X[:, 0])
    >>> curves = compute_curves(get_adapter(net), X, n_levels=5)
    >>> curves.distortion.shape, float(curves.distortion[0, 0])
    ((2, 5), 0.0)
    """
    conditional = weights is not None or reference is not None
    weights = adapter.get_weights() if weights is None else [
        np.asarray(w, dtype=np.float64) for w in weights]
    n_layers = len(weights)
    if n_layers != len(adapter.layer_names()):
        raise ValueError(f"weights must hold {len(adapter.layer_names())} arrays, got {n_layers}")
    floors = np.zeros(n_layers, dtype=np.int64) if min_kept is None else np.asarray(
        min_kept, dtype=np.int64)
    if floors.shape != (n_layers,) or np.any(floors < 0):
        raise ValueError(f"min_kept must hold {n_layers} non-negative integers, got {min_kept!r}")
    Y = adapter.prepare(X)
    if reference is not None:
        Y = np.asarray(reference, dtype=np.float64)
    transform = adapter.to_proba if proba else np.asarray
    Y = transform(Y)
    try:
        kept = np.empty((n_layers, n_levels), dtype=np.int64)
        distortion = np.zeros((n_layers, n_levels))
        n_remaining = np.empty(n_layers, dtype=np.int64)
        forward_passes, n_evaluations = 1.0, 0
        for l, w in enumerate(weights):
            mask = None if masks is None else np.asarray(masks[l], dtype=bool)
            order = magnitude_order(w, mask)
            n_remaining[l] = order.size
            floors[l] = min(floors[l], order.size)
            pruned = level_prune_counts(order.size, n_levels, int(floors[l]))
            kept[l] = order.size - pruned
            work = w.copy() if mask is None else w * mask
            flat = work.reshape(-1)
            fraction = adapter.forward_fraction(l)
            if conditional:  # level 0 is not the reference itself: the other layers are pruned
                distortion[l, 0] = _distortion(Y, transform(adapter.output_from_layer(l, work)),
                                               worst_case)
                forward_passes += fraction
                n_evaluations += 1
            for j in range(1, n_levels):
                if pruned[j] == pruned[j - 1]:  # same weights pruned: same distortion
                    distortion[l, j] = distortion[l, j - 1]
                    continue
                flat[order[pruned[j - 1] : pruned[j]]] = 0.0  # incremental: prune the next ones
                Y_hat = transform(adapter.output_from_layer(l, work))
                distortion[l, j] = _distortion(Y, Y_hat, worst_case)
                forward_passes += fraction
                n_evaluations += 1
        flops = np.asarray(adapter.flops_per_weight(), dtype=np.int64)
    finally:
        adapter.release()
    logger.info("rate-distortion curves: %d layers x %d levels, %d evaluations, %.1f forward "
                "passes", n_layers, n_levels, n_evaluations, forward_passes)
    return RateDistortionCurves(
        layer_names=adapter.layer_names(),
        shapes=[w.shape for w in weights],
        n_weights=np.array([w.size for w in weights], dtype=np.int64),
        n_remaining=n_remaining,
        kept=kept,
        distortion=distortion,
        flops_per_weight=flops,
        forward_passes=forward_passes,
        n_evaluations=n_evaluations,
        worst_case=worst_case,
        min_kept=floors,
        meta={"proba": bool(proba)},
    )
