"""Layer-wise sparsity baselines, each as published, returning kept weights per layer.

Every function takes the weight tensors (with optional masks of weights already pruned) and the
total number of weights to keep, and returns how many weights each layer keeps (summing to
``n_keep`` exactly, largest-remainder rounding). Within a layer the pruner then keeps the
largest-magnitude weights.

References
----------
.. [1] T. Gale, E. Elsen, S. Hooker, "The State of Sparsity in Deep Neural Networks", 2019
   (uniform; uniform+ keeps the first convolution dense and the last layer at most 80 %
   sparse).
.. [2] U. Evci, T. Gale, J. Menick, P. S. Castro, E. Elsen, "Rigging the Lottery: Making All
   Tickets Winners", ICML 2020 (Erdős–Rényi-Kernel, ERK).
.. [3] J. Lee, S. Park, S. Mo, S. Ahn, J. Shin, "Layer-adaptive Sparsity for the
   Magnitude-based Pruning", ICLR 2021 (LAMP).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import as_float_array, check_array_finite, check_positive_int

__all__ = [
    "BASELINES",
    "allocate_erk",
    "allocate_global_magnitude",
    "allocate_lamp",
    "allocate_uniform",
    "allocate_uniform_plus",
    "lamp_scores",
]

#: uniform+: the last layer keeps at least this fraction of its weights (Gale et al., 2019, Sec. 4)
UNIFORM_PLUS_LAST_LAYER_MIN_DENSITY = 0.2
#: bisection steps for the common density scale of uniform, uniform+ and ERK
DENSITY_BISECTIONS = 200


def _prepare(weights, masks):
    weights = [as_float_array(w, f"weights[{i}]") for i, w in enumerate(weights)]
    if not weights:
        raise ValueError("weights must hold at least one layer")
    for i, w in enumerate(weights):
        check_array_finite(w, f"weights[{i}]")
    if masks is None:
        masks = [np.ones(w.shape, dtype=bool) for w in weights]
    else:
        masks = [np.asarray(m, dtype=bool) for m in masks]
        if len(masks) != len(weights) or any(
            m.shape != w.shape for m, w in zip(masks, weights, strict=False)
        ):
            raise ValueError("masks must have one array per layer, of the weight's shape")
    remaining = np.array([int(m.sum()) for m in masks], dtype=np.int64)
    return weights, masks, remaining


def _check_n_keep(n_keep, remaining, floors=None) -> int:
    n_keep = check_positive_int(n_keep, "n_keep", allow_zero=True)
    lowest = 0 if floors is None else int(np.sum(floors))
    if n_keep < lowest or n_keep > remaining.sum():
        raise ValueError(
            f"n_keep={n_keep} cannot be met: it must lie in [{lowest}, {int(remaining.sum())}] "
            "(the allocation's fixed layers and the weights not yet pruned)"
        )
    return n_keep


def _round_to_total(real: np.ndarray, floors: np.ndarray, caps: np.ndarray, total: int):
    """Integers within [floors, caps], summing to ``total``, closest to ``real``."""
    real = np.clip(real, floors, caps)
    out = np.clip(np.floor(real + 1e-9).astype(np.int64), floors, caps)
    frac = real - out
    short = total - int(out.sum())
    # one more weight to the largest remainders first, then (round-off only) wherever room is
    for i in np.argsort(-frac, kind="stable"):
        if short > 0 and out[i] < caps[i]:
            out[i] += 1
            short -= 1
    for i in range(out.size):
        step = max(0, min(short, int(caps[i] - out[i])))
        out[i] += step
        short -= step
    while short < 0:  # only from float round-off in the bisection
        i = int(np.argmax(np.where(out > floors, out - real, -np.inf)))
        out[i] -= 1
        short += 1
    return out


def _waterfill(base, floors, caps, total):
    """Solve ``Σ clip(α·base, floors, caps) = total`` for the common scale α, then round."""
    base, floors, caps = (np.asarray(a, dtype=np.float64) for a in (base, floors, caps))

    def kept(alpha):
        return np.clip(alpha * base, floors, caps)

    lo, hi = 0.0, 1.0
    while kept(hi).sum() < total and hi < 1e300:
        hi *= 2.0
    for _ in range(DENSITY_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if kept(mid).sum() < total:
            lo = mid
        else:
            hi = mid
    return _round_to_total(kept(hi), floors.astype(np.int64), caps.astype(np.int64), total)


def allocate_uniform(weights: Sequence, n_keep: int, masks: Sequence | None = None) -> np.ndarray:
    """Uniform: every layer keeps the same fraction of its weights.

    Parameters
    ----------
    weights : sequence of arrays
        Weight tensors of the prunable layers.
    n_keep : int
        Total number of weights to keep.
    masks : sequence of bool arrays, optional
        Weights already pruned (``False``); a layer never keeps more than it has left.

    Returns
    -------
    kept : ndarray of int64, one entry per layer

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import allocate_uniform
    >>> allocate_uniform([np.ones(100), np.ones(300)], n_keep=40).tolist()
    [10, 30]
    """
    weights, _, remaining = _prepare(weights, masks)
    n_keep = _check_n_keep(n_keep, remaining)
    sizes = np.array([w.size for w in weights])
    return _waterfill(sizes, np.zeros(len(sizes)), remaining, n_keep)


def allocate_uniform_plus(
    weights: Sequence, n_keep: int, masks: Sequence | None = None
) -> np.ndarray:
    """Uniform+ (Gale et al., 2019): first conv layer dense, last layer keeps ≥ 20 %.

    The other layers (and the last one, once above its floor) share one density. As in Gale et
    al. and in the reference implementations of LAMP (Lee et al., 2021) and of Xu et al. (2023),
    the first layer is kept dense only when it is convolutional (a weight tensor with more than
    two dimensions); a dense first layer of an MLP is pruned like the others.

    Parameters
    ----------
    weights, n_keep, masks
        As in :func:`allocate_uniform`.

    Returns
    -------
    kept : ndarray of int64

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import allocate_uniform_plus
    >>> conv, fc1, fc2 = np.ones((10, 1, 3, 3)), np.ones((1000,)), np.ones((100,))
    >>> allocate_uniform_plus([conv, fc1, fc2], n_keep=140).tolist()
    [90, 30, 20]
    """
    weights, _, remaining = _prepare(weights, masks)
    sizes = np.array([w.size for w in weights], dtype=np.float64)
    floors = np.zeros(len(weights))
    base = sizes.copy()
    if weights[0].ndim > 2:  # first convolution stays (as) dense (as it is)
        floors[0], base[0] = remaining[0], 0.0
    if len(weights) > 1:
        floors[-1] = min(remaining[-1], np.ceil(UNIFORM_PLUS_LAST_LAYER_MIN_DENSITY * sizes[-1]))
    n_keep = _check_n_keep(n_keep, remaining, floors)
    return _waterfill(base, floors, remaining, n_keep)


def allocate_erk(weights: Sequence, n_keep: int, masks: Sequence | None = None) -> np.ndarray:
    """Erdős–Rényi-Kernel (Evci et al., 2020): density ∝ Σ dims / Π dims of the tensor.

    A layer of shape ``(n_out, n_in, k_h, k_w)`` gets density
    ``ε (n_in + n_out + k_h + k_w) / (n_in n_out k_h k_w)``; layers whose density would exceed 1
    are kept dense and ε is re-solved for the others.

    Parameters
    ----------
    weights, n_keep, masks
        As in :func:`allocate_uniform`.

    Returns
    -------
    kept : ndarray of int64

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import allocate_erk
    >>> allocate_erk([np.ones((10, 10)), np.ones((30, 10))], n_keep=60).tolist()
    [20, 40]
    """
    weights, _, remaining = _prepare(weights, masks)
    n_keep = _check_n_keep(n_keep, remaining)
    # density * size = ε Σ dims: the kept count is proportional to the sum of the dimensions
    base = np.array([float(sum(w.shape)) for w in weights])
    return _waterfill(base, np.zeros(len(weights)), remaining, n_keep)


def _top_counts(scores: list[np.ndarray], n_keep: int) -> np.ndarray:
    """Per-layer counts of the ``n_keep`` largest scores over all layers."""
    flat = np.concatenate(scores)
    owner = np.concatenate([np.full(s.size, i) for i, s in enumerate(scores)])
    if n_keep == 0:
        return np.zeros(len(scores), dtype=np.int64)
    top = np.argsort(-flat, kind="stable")[:n_keep]
    return np.bincount(owner[top], minlength=len(scores)).astype(np.int64)


def allocate_global_magnitude(
    weights: Sequence, n_keep: int, masks: Sequence | None = None
) -> np.ndarray:
    """Global magnitude pruning: one threshold on ``|w|`` over all layers.

    Parameters
    ----------
    weights, n_keep, masks
        As in :func:`allocate_uniform`.

    Returns
    -------
    kept : ndarray of int64

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import allocate_global_magnitude
    >>> allocate_global_magnitude([np.array([1.0, 5.0]), np.array([2.0, 3.0, 4.0])], 3).tolist()
    [1, 2]
    """
    weights, masks, remaining = _prepare(weights, masks)
    n_keep = _check_n_keep(n_keep, remaining)
    return _top_counts([np.abs(w[m]) for w, m in zip(weights, masks, strict=True)], n_keep)


def lamp_scores(weight: np.ndarray) -> np.ndarray:
    """LAMP scores of a layer (Lee et al., 2021, Eq. 2), in the order of ``weight.ravel()``.

    With the weights sorted by increasing magnitude, ``score(u) = w_u² / Σ_{v ≥ u} w_v²``.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import lamp_scores
    >>> lamp_scores(np.array([[3.0, -1.0], [2.0, 0.5]])).round(3)
    array([1.   , 0.071, 0.308, 0.018])
    """
    w = as_float_array(weight, "weight")
    check_array_finite(w, "weight")
    w2 = w.ravel() ** 2
    order = np.argsort(w2, kind="stable")
    sorted_w2 = w2[order]
    tail = np.cumsum(sorted_w2[::-1])[::-1]
    scores = np.zeros_like(w2)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores[order] = np.where(tail > 0, sorted_w2 / np.where(tail > 0, tail, 1.0), 0.0)
    return scores


def allocate_lamp(weights: Sequence, n_keep: int, masks: Sequence | None = None) -> np.ndarray:
    """LAMP (Lee et al., 2021): one global threshold on layer-adaptive magnitude scores.

    Parameters
    ----------
    weights, n_keep, masks
        As in :func:`allocate_uniform`.

    Returns
    -------
    kept : ndarray of int64

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.pruning import allocate_lamp
    >>> allocate_lamp([np.array([1.0, 2.0]), np.array([1.0, 1.0, 1.0, 10.0])], 3).tolist()
    [2, 1]
    """
    weights, masks, remaining = _prepare(weights, masks)
    n_keep = _check_n_keep(n_keep, remaining)
    return _top_counts([lamp_scores(w[m]) for w, m in zip(weights, masks, strict=True)], n_keep)


#: the baselines by the ``allocator`` name of :class:`~optsolve.pruning.LayerAdaptivePruner`
BASELINES = {
    "uniform": allocate_uniform,
    "uniform_plus": allocate_uniform_plus,
    "global": allocate_global_magnitude,
    "erk": allocate_erk,
    "lamp": allocate_lamp,
}
