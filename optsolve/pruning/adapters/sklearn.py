"""Adapter for scikit-learn's ``MLPClassifier`` and ``MLPRegressor`` (pure numpy)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ._base import ModelAdapter

__all__ = ["SklearnMLPAdapter"]


def _activation(name: str):
    if name == "identity":
        return lambda z: z
    if name == "relu":
        return lambda z: np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh
    if name == "logistic":
        return lambda z: 1.0 / (1.0 + np.exp(-z))
    raise ValueError(f"unsupported MLP activation {name!r}")


class SklearnMLPAdapter(ModelAdapter):
    """Exposes the ``coefs_`` matrices of a fitted scikit-learn MLP as prunable layers.

    The output whose distortion is measured is the last layer's pre-activation (the logits of a
    classifier, the prediction of a regressor). Biases (``intercepts_``) are never pruned.

    Parameters
    ----------
    model : MLPClassifier or MLPRegressor
        A fitted network; it is never modified.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPClassifier
    >>> from optsolve.pruning.adapters import SklearnMLPAdapter
    >>> X = np.random.default_rng(0).standard_normal((20, 3)); y = (X[:, 0] > 0).astype(int)
    >>> net = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20).fit(X, y)
    >>> SklearnMLPAdapter(net).output(X).shape
    (20, 1)
    """

    def __init__(self, model):
        check_is_fitted(model, "coefs_")
        self.model = model
        self._act = _activation(model.activation)
        self._inputs: list | None = None

    def layer_names(self) -> list[str]:
        return [f"coefs_[{i}]" for i in range(len(self.model.coefs_))]

    def get_weights(self) -> list[np.ndarray]:
        return [np.array(w, dtype=np.float64) for w in self.model.coefs_]

    def check_input(self, X):
        X = check_array(X, accept_sparse="csr", dtype=np.float64, input_name="X_calib")
        n_in = self.model.coefs_[0].shape[0]
        if X.shape[1] != n_in:
            raise ValueError(
                f"X_calib has {X.shape[1]} features but the model expects {n_in} "
                f"(X_calib shape {X.shape})"
            )
        return X

    def noise_input(self, n_samples, rng, like=None):
        return rng.standard_normal((n_samples, self.model.coefs_[0].shape[0]))

    def _forward(self, h, start, weights):
        coefs, intercepts = self.model.coefs_, self.model.intercepts_
        last = len(coefs) - 1
        for i in range(start, last + 1):
            w = weights.get(i, coefs[i])
            h = h @ w + intercepts[i]
            if i < last:
                h = self._act(h)
        return np.asarray(h)

    def output(self, X, weights: Mapping[int, np.ndarray] | None = None) -> np.ndarray:
        return self._forward(X, 0, dict(weights or {}))

    def prepare(self, X) -> np.ndarray:
        coefs, intercepts = self.model.coefs_, self.model.intercepts_
        inputs, h = [X], X
        for i in range(len(coefs) - 1):
            h = self._act(h @ coefs[i] + intercepts[i])
            inputs.append(h)
        self._inputs = inputs
        last = len(coefs) - 1
        return np.asarray(h @ coefs[last] + intercepts[last])

    def output_from_layer(self, layer: int, weight: np.ndarray) -> np.ndarray:
        if self._inputs is None:
            raise RuntimeError("call prepare(X) before output_from_layer")
        return self._forward(self._inputs[layer], layer, {layer: weight})

    def forward_fraction(self, layer: int) -> float:
        sizes = np.array([w.size for w in self.model.coefs_], dtype=np.float64)
        return float(sizes[layer:].sum() / sizes.sum())

    def flops_per_weight(self) -> np.ndarray:
        return np.ones(len(self.model.coefs_), dtype=np.int64)

    def to_proba(self, Y: np.ndarray) -> np.ndarray:
        # the output activation predict_proba applies (softmax, logistic or identity)
        if self.model.out_activation_ == "identity":
            return np.asarray(Y, dtype=np.float64)
        return super().to_proba(Y)

    def output_units(self) -> np.ndarray:
        # coefs_[i] has shape (fan_in, fan_out)
        return np.array([w.shape[1] for w in self.model.coefs_], dtype=np.int64)

    def with_masks(self, masks: Sequence[np.ndarray]):
        new = copy.deepcopy(self.model)
        new.coefs_ = [
            (w * np.asarray(m, dtype=bool)).astype(w.dtype, copy=False)
            for w, m in zip(self.model.coefs_, masks, strict=True)
        ]
        return new

    def release(self) -> None:
        self._inputs = None


