"""Checking the additivity of per-layer output distortions (Xu et al., 2023, Sec. 3.1).

The allocation minimizes the *sum* of single-layer distortions; this is the right objective
when pruning several layers together distorts the output by about that sum. This module
measures both on random joint prunings.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state

from .._validation import check_positive_int, check_scalar_in_range
from .adapters._base import get_adapter
from .curves import _distortion, magnitude_order

__all__ = ["check_additivity"]


def _prune(weight, fraction):
    order = magnitude_order(weight)
    out = weight.copy()
    out.reshape(-1)[order[: round(fraction * order.size)]] = 0.0
    return out


def check_additivity(
    model,
    X_calib,
    *,
    layer_sparsity=None,
    n_trials: int = 20,
    max_sparsity: float = 0.5,
    worst_case: bool = False,
    random_state=None,
) -> Bunch:
    """Compare joint pruning distortion with the sum of single-layer distortions.

    For each trial, every prunable layer ``l`` is pruned by magnitude to sparsity ``s_l``; the
    distortion ``E‖Y − Ŷ‖²`` of pruning all layers together is compared with
    ``Σ_l E‖Y − Ŷ_l‖²`` where ``Ŷ_l`` prunes layer ``l`` alone.

    Parameters
    ----------
    model : object
        A model with an adapter (scikit-learn MLP, ``torch.nn.Module``, ...). Never modified.
    X_calib : array-like
        Calibration inputs.
    layer_sparsity : array-like of shape (n_trials, n_layers), optional
        Per-layer sparsities of each trial; drawn uniformly in ``[0, max_sparsity]`` if omitted.
    n_trials : int, default=20
        Number of random trials (when ``layer_sparsity`` is omitted).
    max_sparsity : float, default=0.5
        Upper end of the random per-layer sparsities.
    worst_case : bool, default=False
        Max over samples instead of the mean.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    result : Bunch
        ``joint`` and ``summed`` (arrays of length n_trials), ``layer_sparsity``, ``correlation``
        (Pearson, of joint vs summed) and ``relative_error`` (median of
        ``|joint − summed| / joint``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from optsolve.pruning import check_additivity
    >>> X = np.random.default_rng(0).standard_normal((100, 5))
    >>> net = MLPRegressor(hidden_layer_sizes=(20, 20), max_iter=300, random_state=0)
    >>> net = net.fit(X, X @ np.ones(5))
    >>> res = check_additivity(net, X, n_trials=10, max_sparsity=0.3, random_state=0)
    >>> bool(res.correlation > 0.9)
    True
    """
    adapter = get_adapter(model)
    weights = adapter.get_weights()
    if not weights:
        raise ValueError("model has no prunable layer")
    X = adapter.check_input(X_calib)
    if layer_sparsity is None:
        n_trials = check_positive_int(n_trials, "n_trials")
        max_sparsity = check_scalar_in_range(max_sparsity, "max_sparsity", low=0.0, high=1.0)
        rng = check_random_state(random_state)
        layer_sparsity = rng.uniform(0.0, max_sparsity, size=(n_trials, len(weights)))
    layer_sparsity = np.asarray(layer_sparsity, dtype=np.float64)
    if layer_sparsity.ndim != 2 or layer_sparsity.shape[1] != len(weights):
        raise ValueError(f"layer_sparsity must have shape (n_trials, {len(weights)}), "
                         f"got {layer_sparsity.shape}")
    if np.any((layer_sparsity < 0) | (layer_sparsity > 1)):
        raise ValueError("layer_sparsity must lie in [0, 1]")
    Y = adapter.prepare(X)
    joint = np.empty(len(layer_sparsity))
    summed = np.empty(len(layer_sparsity))
    try:
        for t, row in enumerate(layer_sparsity):
            pruned = {l: _prune(w, s) for l, (w, s) in enumerate(zip(weights, row, strict=True))}
            joint[t] = _distortion(Y, adapter.output(X, pruned), worst_case)
            summed[t] = sum(
                _distortion(Y, adapter.output_from_layer(l, w), worst_case)
                for l, w in pruned.items()
            )
    finally:
        adapter.release()
    corr = float(np.corrcoef(joint, summed)[0, 1]) if len(joint) > 1 else float("nan")
    rel = float(np.median(np.abs(joint - summed) / np.maximum(joint, 1e-300)))
    return Bunch(joint=joint, summed=summed, layer_sparsity=layer_sparsity,
                 correlation=corr, relative_error=rel)
