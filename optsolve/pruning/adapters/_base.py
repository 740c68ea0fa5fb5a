"""The adapter protocol: what the pruner needs to know about a model of any framework."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["ModelAdapter", "get_adapter", "register_adapter"]


class ModelAdapter(ABC):
    """Wraps one model and exposes its prunable weight tensors to the pruner.

    A new framework is supported by subclassing this class and registering it with
    :func:`register_adapter`. Layers are indexed ``0..L-1`` in forward order. Weights cross the
    boundary as float64 numpy arrays of the tensor's own shape; the adapter never modifies the
    model it wraps.

    Activation reuse: :meth:`prepare` runs one forward pass on the calibration inputs and caches
    whatever is needed to restart the forward pass at any prunable layer;
    :meth:`output_from_layer` then only runs the network from that layer to the output.
    """

    #: the wrapped model (never modified)
    model: Any

    @abstractmethod
    def layer_names(self) -> list[str]:
        """Names of the prunable weight tensors, in forward order."""

    @abstractmethod
    def get_weights(self) -> list[np.ndarray]:
        """Copies of the prunable weight tensors (float64)."""

    @abstractmethod
    def check_input(self, X) -> Any:
        """Return ``X`` in the form the model takes, or raise ``ValueError`` naming ``X_calib``."""

    @abstractmethod
    def noise_input(self, n_samples: int, rng: np.random.Generator, like=None) -> Any:
        """Standard Gaussian inputs of the model's input shape (zero-data calibration)."""

    @abstractmethod
    def output(self, X, weights: Mapping[int, np.ndarray] | None = None) -> np.ndarray:
        """Network output, shape ``(n_samples, n_outputs)``, with some weights replaced."""

    @abstractmethod
    def prepare(self, X) -> np.ndarray:
        """Cache the activations of one forward pass on ``X``; return the output."""

    @abstractmethod
    def output_from_layer(self, layer: int, weight: np.ndarray) -> np.ndarray:
        """Output on the prepared inputs with layer ``layer``'s weight replaced by ``weight``."""

    @abstractmethod
    def forward_fraction(self, layer: int) -> float:
        """Cost of :meth:`output_from_layer` as a fraction of one full forward pass."""

    @abstractmethod
    def flops_per_weight(self) -> np.ndarray:
        """Multiply-adds per sample of each weight of each layer (known after :meth:`prepare`)."""

    @abstractmethod
    def with_masks(self, masks: Sequence[np.ndarray]) -> Any:
        """A pruned copy of the model: weight tensor ``l`` multiplied by ``masks[l]``."""

    def release(self) -> None:  # noqa: B027 - optional hook
        """Drop the cached activations."""

    def to_proba(self, Y: np.ndarray) -> np.ndarray:
        """Class probabilities from the network output: softmax over the last axis (a
        logistic sigmoid for a single output column)."""
        Y = np.asarray(Y, dtype=np.float64)
        if Y.shape[-1] == 1:
            return 1.0 / (1.0 + np.exp(-Y))
        Z = np.exp(Y - Y.max(axis=-1, keepdims=True))
        return Z / Z.sum(axis=-1, keepdims=True)

    def output_units(self) -> np.ndarray:
        """Output units (neurons, channels) of each prunable layer.

        Used as each layer's floor of kept weights, so an allocation cannot disconnect a layer
        entirely (layer collapse). The default, one per layer, only forbids emptying a layer;
        adapters that know the weight layout return the true counts.
        """
        return np.ones(len(self.layer_names()), dtype=np.int64)


_ADAPTERS: list[tuple[Callable[[Any], bool], Callable[[Any], ModelAdapter]]] = []


def register_adapter(
    matches: Callable[[Any], bool], factory: Callable[[Any], ModelAdapter]
) -> None:
    """Register an adapter: ``factory(model)`` is used for models where ``matches(model)``.

    Later registrations take precedence over earlier ones.

    Examples
    --------
    >>> from optsolve.pruning import register_adapter, get_adapter
    >>> class MyModel: ...
    >>> register_adapter(lambda m, cls=MyModel: isinstance(m, cls), lambda m: m)
    >>> isinstance(get_adapter(MyModel()), MyModel)
    True
    """
    _ADAPTERS.insert(0, (matches, factory))


def _is_sklearn_mlp(model) -> bool:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return isinstance(model, MLPClassifier | MLPRegressor)


def _is_torch_module(model) -> bool:
    import sys

    torch = sys.modules.get("torch")  # a torch model implies torch is imported already
    return torch is not None and isinstance(model, torch.nn.Module)


def get_adapter(model) -> ModelAdapter:
    """Return the adapter for ``model`` (an adapter instance is returned unchanged).

    Parameters
    ----------
    model : object
        A fitted scikit-learn ``MLPClassifier``/``MLPRegressor``, a PyTorch ``nn.Module``, a
        model of a registered framework, or a :class:`ModelAdapter`.

    Returns
    -------
    adapter : ModelAdapter

    Raises
    ------
    TypeError
        If no adapter handles ``model``.

    Examples
    --------
    >>> from sklearn.neural_network import MLPRegressor
    >>> from optsolve.pruning import get_adapter
    >>> net = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5).fit([[0.0], [1.0]], [0.0, 1.0])
    >>> get_adapter(net).layer_names()
    ['coefs_[0]', 'coefs_[1]']
    """
    if isinstance(model, ModelAdapter):
        return model
    for matches, factory in _ADAPTERS:
        if matches(model):
            return factory(model)
    if _is_sklearn_mlp(model):
        from .sklearn import SklearnMLPAdapter

        return SklearnMLPAdapter(model)
    if _is_torch_module(model):
        from .torch import TorchAdapter

        return TorchAdapter(model)
    raise TypeError(
        f"model of type {type(model).__name__} is not supported: pass a fitted scikit-learn "
        "MLPClassifier/MLPRegressor, a torch.nn.Module, or register an adapter with "
        "optsolve.pruning.register_adapter"
    )
