"""Model adapters: how the pruner reads and masks the weights of each framework.

``SklearnMLPAdapter`` (scikit-learn MLPs, pure numpy) is always available; ``TorchAdapter`` is
imported on first access and needs PyTorch.
"""

import importlib

from ._base import ModelAdapter, get_adapter, register_adapter
from .sklearn import SklearnMLPAdapter

__all__ = ["ModelAdapter", "SklearnMLPAdapter", "TorchAdapter", "get_adapter", "register_adapter"]


def __getattr__(name):
    if name == "TorchAdapter":
        return importlib.import_module(".torch", __name__).TorchAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
