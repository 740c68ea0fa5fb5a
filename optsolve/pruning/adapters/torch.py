"""Adapter for PyTorch ``nn.Module`` models (``Linear`` and ``Conv1d/2d/3d`` weights).

Imported only when a torch model is passed: ``import optsolve.pruning`` never imports torch.
Activation reuse goes through ``torch.fx``: the traced graph is run once on the calibration
batch and every value still needed after a prunable layer (its input and any skip connection
around it) is kept, so evaluating a pruned layer re-runs only the graph from that layer on.
Models that cannot be traced fall back to a full forward pass per evaluation.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ._base import ModelAdapter

logger = logging.getLogger("optsolve.pruning")

__all__ = ["PRUNABLE_MODULES", "TorchAdapter"]

#: module types whose ``weight`` is pruned (biases and normalization parameters never are)
PRUNABLE_MODULES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


class TorchAdapter(ModelAdapter):
    """Exposes the ``Linear``/``Conv`` weights of a PyTorch module as prunable layers.

    Distortion is measured on the module's output (flattened per sample), in ``eval()`` mode and
    without gradients, on the device of the module's parameters.

    Parameters
    ----------
    model : torch.nn.Module
        The network; it is never modified (a private copy is used for the evaluations).

    Examples
    --------
    >>> import torch
    >>> from optsolve.pruning.adapters import TorchAdapter
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> TorchAdapter(net).layer_names()
    ['0', '2']
    """

    def __init__(self, model: nn.Module):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self._work = copy.deepcopy(model).eval()
        names = [n for n, m in self._work.named_modules() if isinstance(m, PRUNABLE_MODULES)]
        self._graph = None
        self._inplace = True
        self._node_index: dict[str, int] = {}
        try:
            self._trace(names)
        except Exception as exc:  # any tracing failure: keep the always-correct fallback
            logger.info("torch.fx tracing failed (%s); curves use full forward passes", exc)
            self._graph = None
        if self._graph is not None:
            names.sort(key=lambda n: self._node_index[n])
        self._names = names
        params = list(self._work.parameters())
        self._dtype = params[0].dtype if params else torch.float32
        self._device = params[0].device if params else torch.device("cpu")
        self._cache: dict | None = None
        self._flops: np.ndarray | None = None

    # -- tracing --------------------------------------------------------------------------
    def _trace(self, names):
        gm = torch.fx.symbolic_trace(self._work)
        nodes = list(gm.graph.nodes)
        if sum(n.op == "placeholder" for n in nodes) != 1:
            raise ValueError("only single-input modules are traced")
        position = {n: i for i, n in enumerate(nodes)}
        index: dict[str, int] = {}
        for name in names:
            calls = [n for n in nodes if n.op == "call_module" and n.target == name]
            if len(calls) != 1:
                raise ValueError(f"module {name!r} is called {len(calls)} times")
            index[name] = position[calls[0]]
        # a weight read outside its module call (e.g. F.linear(x, self.fc.weight)) is unsafe
        for n in nodes:
            if n.op == "get_attr" and any(str(n.target).startswith(nm + ".") for nm in names):
                raise ValueError(f"weight {n.target!r} is used outside its module")
        last_use = {n: max((position[u] for u in n.users), default=-1) for n in nodes}
        self._gm, self._nodes, self._node_index = gm, nodes, index
        self._last_use = last_use
        self._inplace = any(_is_inplace(gm, n) for n in nodes)
        self._graph = gm.graph

    # -- protocol -------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        return list(self._names)

    def _module(self, layer: int) -> nn.Module:
        root = self._gm if self._graph is not None else self._work
        return root.get_submodule(self._names[layer])

    def get_weights(self) -> list[np.ndarray]:
        return [
            self._module(i).weight.detach().cpu().numpy().astype(np.float64)
            for i in range(len(self._names))
        ]

    def _to_tensor(self, X):
        if isinstance(X, torch.Tensor):
            return X.detach().to(device=self._device, dtype=self._dtype)
        return torch.as_tensor(np.asarray(X), dtype=self._dtype, device=self._device)

    def check_input(self, X):
        try:
            X = self._to_tensor(X)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(f"X_calib cannot be converted to a tensor: {exc}") from exc
        if X.ndim < 1 or X.shape[0] == 0:
            raise ValueError(f"X_calib must hold at least one sample, got shape {tuple(X.shape)}")
        try:
            with torch.no_grad():
                self._work(X[:1])
        except Exception as exc:
            raise ValueError(
                f"X_calib of shape {tuple(X.shape)} does not fit the model: {exc}"
            ) from exc
        return X

    def noise_input(self, n_samples, rng, like=None):
        if like is None:
            raise ValueError(
                "calibration='noise' with a torch model needs X_calib: an array whose shape "
                "(n_samples, *input_shape) gives the shape of the Gaussian inputs"
            )
        shape = (n_samples, *tuple(like.shape[1:]))
        return self._to_tensor(rng.standard_normal(shape))

    @staticmethod
    def _numpy(y) -> np.ndarray:
        y = y.detach().cpu().numpy().astype(np.float64)
        return y.reshape(y.shape[0], -1)

    def output(self, X, weights: Mapping[int, np.ndarray] | None = None) -> np.ndarray:
        X = self._to_tensor(X)
        with self._swapped(dict(weights or {})), torch.no_grad():
            return self._numpy(self._work(X))

    class _Swap:
        def __init__(self, adapter, weights):
            self.adapter, self.weights, self.saved = adapter, weights, {}

        def __enter__(self):
            for layer, w in self.weights.items():
                p = self.adapter._module(layer).weight
                self.saved[layer] = p.detach().clone()
                with torch.no_grad():
                    p.copy_(torch.as_tensor(w, dtype=p.dtype, device=p.device).reshape(p.shape))

        def __exit__(self, *exc):
            for layer, saved in self.saved.items():
                with torch.no_grad():
                    self.adapter._module(layer).weight.copy_(saved)

    def _swapped(self, weights):
        return self._Swap(self, weights)

    def prepare(self, X) -> np.ndarray:
        X = self._to_tensor(X)
        flops = np.zeros(len(self._names), dtype=np.int64)
        hooks = []
        for i in range(len(self._names)):
            module = self._module(i)

            def hook(mod, inp, out, i=i):
                channels = out.shape[-1] if isinstance(mod, nn.Linear) else out.shape[1]
                flops[i] = max(1, out.numel() // (out.shape[0] * channels))

            hooks.append(module.register_forward_hook(hook))
        try:
            with torch.no_grad():
                if self._graph is None:
                    self._cache = {"X": X}
                    y = self._work(X)
                else:
                    y = self._prepare_graph(X)
        finally:
            for h in hooks:
                h.remove()
        self._flops = flops
        return self._numpy(y)

    def _prepare_graph(self, X):
        """One pass over the graph; before each prunable layer, keep the live values."""
        starts = {idx: name for name, idx in self._node_index.items()}
        interp = torch.fx.Interpreter(self._gm)
        env: dict = {}
        interp.env = env
        cache: dict = {}
        y = None
        for pos, node in enumerate(self._nodes):
            if pos in starts:
                # values produced before this layer and read by it or after it (skip paths too)
                live = [n for n in self._nodes[:pos] if self._last_use[n] >= pos]
                cache[pos] = {n: self._snapshot(env[n]) for n in live}
            env[node] = X if node.op == "placeholder" else interp.run_node(node)
            if node.op == "output":
                y = env[node]
        self._cache = cache
        return y

    def _snapshot(self, value):
        # an in-place op later in the graph would otherwise change the cached value
        if self._inplace and isinstance(value, torch.Tensor):
            return value.clone()
        return value

    def output_from_layer(self, layer: int, weight: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("call prepare(X) before output_from_layer")
        with self._swapped({layer: weight}), torch.no_grad():
            if self._graph is None:
                return self._numpy(self._work(self._cache["X"]))
            start = self._node_index[self._names[layer]]
            env = {n: self._snapshot(v) for n, v in self._cache[start].items()}
            interp = torch.fx.Interpreter(self._gm)
            interp.env = env
            out = None
            for node in self._nodes[start:]:
                env[node] = interp.run_node(node)
                if node.op == "output":
                    out = env[node]
            return self._numpy(out)

    def forward_fraction(self, layer: int) -> float:
        if self._graph is None or self._flops is None:
            return 1.0
        sizes = np.array([self._module(i).weight.numel() for i in range(len(self._names))])
        cost = sizes * self._flops
        start = self._node_index[self._names[layer]]
        after = np.array([self._node_index[n] >= start for n in self._names])
        return float(cost[after].sum() / cost.sum())

    def flops_per_weight(self) -> np.ndarray:
        if self._flops is None:
            raise RuntimeError("call prepare(X) before flops_per_weight")
        return self._flops.copy()

    def output_units(self) -> np.ndarray:
        # Linear (out, in) and Conv (out, in / groups, *kernel): output units on axis 0
        return np.array([self._module(i).weight.shape[0] for i in range(len(self._names))],
                        dtype=np.int64)

    def with_masks(self, masks: Sequence[np.ndarray]):
        if len(masks) != len(self._names):
            raise ValueError(f"masks must hold {len(self._names)} arrays, got {len(masks)}")
        new = copy.deepcopy(self.model)
        with torch.no_grad():
            for name, mask in zip(self._names, masks, strict=True):
                p = new.get_submodule(name).weight
                p.mul_(torch.as_tensor(np.asarray(mask), dtype=p.dtype, device=p.device))
        return new

    def release(self) -> None:
        self._cache = None


_INPLACE_OPERATORS = frozenset(
    "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor ilshift irshift imatmul".split()
)


def _is_inplace(gm, node) -> bool:
    """Whether a graph node may modify one of its inputs in place."""
    if node.op == "call_function":
        name = getattr(node.target, "__name__", "")
        return name in _INPLACE_OPERATORS or bool(node.kwargs.get("inplace", False))
    if node.op == "call_method":
        return str(node.target).endswith("_")
    if node.op == "call_module":
        return bool(getattr(gm.get_submodule(node.target), "inplace", False))
    return False
