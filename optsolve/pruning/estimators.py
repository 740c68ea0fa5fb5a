"""``LayerAdaptivePruner``: rate–distortion curves + a layer-wise allocation, as one object."""

from __future__ import annotations

import inspect
import logging
import numbers

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils import check_random_state

from .._validation import check_in_choices, check_positive_int, check_scalar_in_range
from .adapters._base import get_adapter
from .allocation import allocate_dp, allocate_lagrangian
from .baselines import BASELINES
from .curves import RateDistortionCurves, _distortion, compute_curves, magnitude_order

logger = logging.getLogger("optsolve.pruning")

__all__ = ["LayerAdaptivePruner"]

#: Gaussian calibration samples drawn when ``calibration='noise'`` and no ``X_calib`` is given
N_NOISE_SAMPLES = 256
ALLOCATORS = ("dp", "lagrangian", *BASELINES)
#: step halvings of one refinement iteration before it gives up (n_refine)
REFINE_HALVINGS = 3


class _ParamsMixin:
    """``get_params``/``set_params``/``repr`` in scikit-learn's style, without ``BaseEstimator``.

    The pruner is not a scikit-learn estimator (``fit`` takes a model, not ``(X, y)``), so it is
    kept out of the common estimator checks; it still clones with ``sklearn.base.clone``.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """Parameters of this pruner (``deep`` is accepted for scikit-learn compatibility)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set parameters by name; returns ``self``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters are {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name, p in sig.parameters.items()
            if name != "self" and getattr(self, name) is not p.default
            and not (isinstance(p.default, (int, float, str)) and getattr(self, name) == p.default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


class LayerAdaptivePruner(_ParamsMixin):
    """Layer-adaptive magnitude pruning by joint rate–distortion optimization (Xu et al., 2023).

    ``fit`` measures, for every dense/convolutional weight tensor and every pruning level, the
    output distortion of pruning that layer alone (its rate–distortion curve), then chooses one
    level per layer so that the summed distortion is least under a global budget of kept weights
    or FLOPs. Within a layer the smallest-magnitude weights go first. The summed distortion is a
    good proxy because output distortions of different layers are approximately additive
    (see :func:`~optsolve.pruning.check_additivity`). ``transform`` returns a pruned copy.

    Not a scikit-learn estimator: ``fit`` takes a model and calibration inputs rather than
    ``(X, y)``; it follows the rest of the contract (parameters stored verbatim, validated in
    ``fit``, learned attributes ending in ``_``, ``fit`` returns ``self``).

    Parameters
    ----------
    sparsity : float in [0, 1), default=0.9
        Fraction of all prunable weights (``budget='weights'``) or of the dense FLOPs of the
        prunable layers (``budget='flops'``) to remove.
    budget : {'weights', 'flops'}, default='weights'
        What the sparsity counts: weights, or multiply-adds per sample.
    allocator : {'dp', 'lagrangian', 'uniform', 'uniform_plus', 'global', 'erk', 'lamp'}, \
default='dp'
        ``'dp'``: the exact dynamic program (:func:`~optsolve.pruning.allocate_dp`);
        ``'lagrangian'``: slope matching with bisection on the multiplier; the others are the
        published baselines of :mod:`optsolve.pruning.baselines`.
    n_levels : int, default=101
        Levels of each curve: level ``j`` prunes ``j / (n_levels - 1)`` of the layer's remaining
        weights.
    n_bins : int, default=100_000
        Budget bins of the DP (exact when the budget, in weights or FLOPs, is at most this).
    worst_case : bool, default=False
        Distortion is the maximum over calibration samples of ``‖Y − Ŷ‖²`` instead of the mean.
    calibration : {'data', 'noise'}, default='data'
        ``'noise'``: zero-data variant, standard Gaussian inputs of the model's input shape
        (``X_calib`` may then be ``None``, a number of samples, or an array giving the shape).
    random_state : int, RandomState instance or None, default=None
        Seeds the Gaussian calibration inputs.
    min_kept_per_unit : int, default=1
        Floor of each layer's curve grid, in weights per output unit (neuron or channel, as the
        adapter reports them): ``'dp'`` and ``'lagrangian'`` never prune layer ``l`` below
        ``min_kept_per_unit * units_l`` weights. The additive model breaks down when a layer is
        emptied: the network's output becomes constant (layer collapse, Tanaka et al. 2020), so
        pruning other layers as well adds nothing, yet the summed single-layer distortions
        count it again; at high sparsity the DP then "saves" by emptying a layer and the
        network drops to chance accuracy, which no fine-tuning can recover. ``0`` gives the
        plain grid of the paper (down to an empty layer). The baselines follow their own rules.
    output : {'auto', 'raw', 'proba'}, default='auto'
        What the distortion ``E‖Y − Ŷ‖²`` is measured on: ``'raw'``, the network output as it
        comes (logits of a classifier); ``'proba'``, the class probabilities (softmax, or the
        output activation of a scikit-learn classifier); ``'auto'``: ``'proba'`` for a
        scikit-learn classifier (its output is ``predict_proba``), ``'raw'`` otherwise (a torch
        module's output is taken as is). On logits the distortion keeps growing with the
        shrinkage that magnitude pruning causes even where the predicted class no longer
        changes, and the summed single-layer distortions exceed that of a collapsed layer at
        high sparsity; probabilities are bounded and track the prediction.
    n_rounds : int, default=1
        For ``'dp'`` and ``'lagrangian'``: reach ``sparsity`` in this many rounds of a
        geometric schedule (each round removes the same fraction of the remaining budget), the
        curves re-measured on the model pruned so far each round, as in the paper's iterative
        variant. Corrects for the non-additivity of large simultaneous prunings; costs
        ``n_rounds`` times the curves. The baselines ignore it.
    n_refine : int, default=5
        For ``'dp'`` and ``'lagrangian'``: at most this many refinements of the allocation.
        Each re-measures every layer's curve with the other layers pruned as currently
        allocated (conditional curves: the additive model re-linearized at the current
        allocation instead of at the dense model), re-runs the allocator on them and takes the
        step towards the new allocation, halved up to 3 times, only if the real joint
        distortion on ``X_calib`` goes down, and below that of the best constant output (the
        mean output, i.e. a dead network); it stops at the first step that does not. At high
        sparsity, where single-layer distortions stop adding up (their sum overestimates the
        joint distortion several times), this lowers the joint distortion and the one-shot
        accuracy follows (see ``bench/pruning_accuracy.py``). Each refinement costs one curve
        computation (in practice 1 to 5 are taken). ``0``: the paper's one-shot allocation.

    Attributes
    ----------
    layer_names_ : list of str
        Prunable weight tensors, in forward order.
    curves_ : RateDistortionCurves
        The per-layer curves (reusable: ``fit(model, X, curves=pruner.curves_)``).
    n_kept_ : ndarray of int64
        Weights kept per layer.
    layer_sparsity_ : ndarray
        Fraction of each layer's weights pruned.
    masks_ : list of bool ndarray
        Keep-masks, one per layer, of the weight tensor's shape.
    sparsity_ : float
        Global fraction of prunable weights pruned.
    flops_fraction_ : float
        Kept fraction of the prunable layers' FLOPs.
    predicted_distortion_ : float
        Sum over layers of the single-layer distortion at the densest grid level keeping no more
        than the layer's kept weights: the objective the DP minimizes exactly over the grid, so
        for the same curves and budget no allocation that respects the curves' floor
        (``min_kept_per_unit``) gets a smaller value than ``'dp'`` with ``n_refine=0``; a layer
        that a baseline prunes below the floor counts the floor's distortion, a lower bound.
    joint_distortion_ : float or None
        Measured distortion of pruning all layers together as allocated, on ``X_calib``
        (``'dp'``/``'lagrangian'`` with ``n_refine > 0``; ``None`` otherwise).
    n_refine_iter_ : int
        Refinements that lowered the joint distortion (0 when none did or ``n_refine=0``).
    curve_forward_passes_ : float
        Cost of the curves in equivalent full forward passes over ``X_calib``.

    References
    ----------
    .. [1] K. Xu, Z. Wang, X. Geng, M. Wu, X. Li, W. Lin, "Efficient Joint Optimization of
       Layer-Adaptive Weight Pruning in Deep Neural Networks", ICCV 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import MLPClassifier
    >>> from optsolve.pruning import LayerAdaptivePruner
    >>> X, y = load_digits(return_X_y=True)
    >>> net = MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0)
    >>> net = net.fit(X / 16, y)
    >>> pruner = LayerAdaptivePruner(sparsity=0.8, n_levels=21).fit(net, X[:200] / 16)
    >>> round(pruner.sparsity_, 3)
    0.8
    >>> pruned = pruner.transform(net)
    >>> bool((pruned.coefs_[0] == 0).mean() > 0.5)
    True
    """

    def __init__(
        self,
        sparsity: float = 0.9,
        budget: str = "weights",
        allocator: str = "dp",
        n_levels: int = 101,
        n_bins: int = 100_000,
        worst_case: bool = False,
        calibration: str = "data",
        random_state=None,
        min_kept_per_unit: int = 1,
        output: str = "auto",
        n_rounds: int = 1,
        n_refine: int = 5,
    ):
        self.sparsity = sparsity
        self.budget = budget
        self.allocator = allocator
        self.n_levels = n_levels
        self.n_bins = n_bins
        self.worst_case = worst_case
        self.calibration = calibration
        self.random_state = random_state
        self.min_kept_per_unit = min_kept_per_unit
        self.output = output
        self.n_rounds = n_rounds
        self.n_refine = n_refine

    # -- validation ---------------------------------------------------------------------
    def _validate_params(self) -> None:
        check_scalar_in_range(self.sparsity, "sparsity", low=0.0, high=1.0, include_high=False)
        check_in_choices(self.budget, "budget", ("weights", "flops"))
        check_in_choices(self.allocator, "allocator", ALLOCATORS)
        if check_positive_int(self.n_levels, "n_levels") < 2:
            raise ValueError(f"n_levels must be >= 2, got {self.n_levels}")
        check_positive_int(self.n_bins, "n_bins")
        if not isinstance(self.worst_case, bool | np.bool_):
            raise TypeError(f"worst_case must be a bool, got {type(self.worst_case).__name__}")
        check_in_choices(self.calibration, "calibration", ("data", "noise"))
        check_random_state(self.random_state)
        if (not isinstance(self.min_kept_per_unit, numbers.Integral)
                or isinstance(self.min_kept_per_unit, bool) or self.min_kept_per_unit < 0):
            raise ValueError(
                f"min_kept_per_unit must be a non-negative int, got {self.min_kept_per_unit!r}")
        check_in_choices(self.output, "output", ("auto", "raw", "proba"))
        check_positive_int(self.n_rounds, "n_rounds")
        if (not isinstance(self.n_refine, numbers.Integral) or isinstance(self.n_refine, bool)
                or self.n_refine < 0):
            raise ValueError(f"n_refine must be a non-negative int, got {self.n_refine!r}")

    def _calibration_inputs(self, adapter, X_calib):
        if self.calibration == "data":
            if X_calib is None:
                raise ValueError("X_calib is required when calibration='data'")
            return adapter.check_input(X_calib)
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        if X_calib is None:
            return adapter.noise_input(N_NOISE_SAMPLES, rng)
        if isinstance(X_calib, numbers.Integral) and not isinstance(X_calib, bool):
            n = check_positive_int(X_calib, "X_calib")
            return adapter.noise_input(n, rng)
        like = adapter.check_input(X_calib)
        return adapter.noise_input(like.shape[0], rng, like=like)

    @staticmethod
    def _check_masks(masks, weights):
        if masks is None:
            return [w != 0 for w in weights]  # exact zeros count as already pruned
        masks = [np.asarray(m, dtype=bool) for m in masks]
        if len(masks) != len(weights) or any(
            m.shape != w.shape for m, w in zip(masks, weights, strict=False)
        ):
            raise ValueError(
                "masks must hold one boolean array per prunable layer, of the weight's shape "
                f"{[w.shape for w in weights]}"
            )
        return masks

    def _check_curves(self, curves, names, weights, masks, floors, proba):
        if not isinstance(curves, RateDistortionCurves):
            raise TypeError(f"curves must be a RateDistortionCurves, got {type(curves).__name__}")
        if (
            curves.layer_names != names
            or [tuple(s) for s in curves.shapes] != [w.shape for w in weights]
            or curves.n_levels != self.n_levels
            or bool(curves.worst_case) != bool(self.worst_case)
            or bool(curves.meta.get("proba", False)) != proba
            or not np.array_equal(curves.n_remaining, [int(m.sum()) for m in masks])
            or (floors is not None and not np.array_equal(
                curves.min_kept, np.minimum(floors, curves.n_remaining)))
        ):
            raise ValueError(
                "curves do not belong to this model, masks, n_levels, worst_case, output and "
                "min_kept_per_unit; "
                "fit without curves= to recompute them"
            )
        return curves

    # -- fit ----------------------------------------------------------------------------
    def fit(self, model, X_calib=None, *, masks=None, curves=None):
        """Compute the rate–distortion curves and the per-layer allocation.

        Parameters
        ----------
        model : object
            A fitted scikit-learn MLP, a ``torch.nn.Module`` or a model with a registered
            adapter. Never modified.
        X_calib : array-like, int or None
            Calibration inputs (``calibration='data'``); see ``calibration`` for ``'noise'``.
        masks : list of bool arrays, optional
            Weights already pruned in earlier rounds (``False``); they stay pruned and every
            layer can only get sparser. By default exact zeros count as pruned.
        curves : RateDistortionCurves, optional
            Curves of an earlier fit on the same model, to try other sparsities or allocators
            without recomputing them.

        Returns
        -------
        self : LayerAdaptivePruner
        """
        self._validate_params()
        adapter = get_adapter(model)
        weights = adapter.get_weights()
        names = adapter.layer_names()
        if not weights:
            raise ValueError(
                f"model of type {type(model).__name__} has no prunable layer (dense or "
                "convolutional weight tensor)"
            )
        masks = self._check_masks(masks, weights)
        floors = self.min_kept_per_unit * np.asarray(adapter.output_units(), dtype=np.int64)
        adaptive = self.allocator in ("dp", "lagrangian")
        proba = self.output == "proba" or (
            self.output == "auto" and isinstance(model, ClassifierMixin))
        n_rounds = self.n_rounds if adaptive else 1
        if curves is not None and n_rounds > 1:
            raise ValueError("curves= cannot be reused with n_rounds > 1: every round "
                             "re-measures the curves on the model pruned so far")
        refine = adaptive and self.n_refine > 0
        X = None if curves is not None and not refine else self._calibration_inputs(
            adapter, X_calib)
        forward_passes, schedule, r = 0.0, None, 0
        while schedule is None or r < len(schedule):
            if curves is None:
                masked = get_adapter(adapter.with_masks(masks))
                curves = compute_curves(masked, X, n_levels=self.n_levels,
                                        worst_case=self.worst_case, masks=masks,
                                        min_kept=floors if adaptive else None,
                                        proba=proba)
            else:
                curves = self._check_curves(curves, names, weights, masks,
                                            floors if adaptive else None, proba)
            forward_passes += curves.forward_passes
            if schedule is None:
                schedule = self._round_sparsities(curves, n_rounds)
            n_kept = self._allocate(curves, weights, masks, schedule[r])
            new_masks = _keep_masks(weights, masks, n_kept)
            r += 1
            if r < len(schedule):  # an intermediate round: re-measure on the result
                masks, curves = new_masks, None

        self.joint_distortion_ = None
        self.n_refine_iter_ = 0
        if refine:
            n_kept, new_masks, passes = self._refine(adapter, X, weights, masks, floors, proba,
                                                     n_kept, new_masks, schedule[-1])
            forward_passes += passes
        sizes = curves.n_weights
        fpw = curves.flops_per_weight
        self.layer_names_ = names
        self.curves_ = curves
        self.n_kept_ = np.asarray(n_kept, dtype=np.int64)
        self.layer_sparsity_ = 1.0 - self.n_kept_ / sizes
        self.masks_ = new_masks
        self.sparsity_ = float(1.0 - self.n_kept_.sum() / sizes.sum())
        self.flops_fraction_ = float((self.n_kept_ * fpw).sum() / (sizes * fpw).sum())
        self.predicted_distortion_ = _grid_distortion(curves, self.n_kept_)
        self.curve_forward_passes_ = float(forward_passes)
        return self

    def _refine(self, adapter, X, weights, masks, floors, proba, n_kept, new_masks, sparsity):
        """Re-linearize the additive model at the current allocation (``n_refine`` times).

        Each layer's curve is re-measured with every other layer pruned as allocated
        (conditional curves, one curve computation) and the allocator re-run on them. The step
        from the current allocation towards the new one is then halved until the measured joint
        distortion on ``X`` decreases (at most ``REFINE_HALVINGS`` times): a descent on the real
        objective, with the additive model as the local surrogate.

        A step is kept only if the result also beats the mean output, the best constant
        predictor: at or above that distortion the pruned network carries no information about
        its input (the distortion of a dead network), the conditional curves are flat, and
        descending further only finds the least distorted dead network (measured: such steps
        empty the last layer and no fine-tuning recovers it).
        """
        transform = adapter.to_proba if proba else np.asarray
        reference = np.asarray(adapter.output(X), dtype=np.float64)
        target = transform(reference)
        unit = np.ones(len(weights)) if self.budget == "weights" else None

        def joint(m):
            Y_hat = transform(get_adapter(adapter.with_masks(m)).output(X))
            return _distortion(target, Y_hat, self.worst_case)

        best = joint(new_masks)
        dead = _distortion(target, np.broadcast_to(target.mean(axis=0), target.shape),
                           self.worst_case)
        passes = 2.0
        for it in range(self.n_refine):
            masked = get_adapter(adapter.with_masks(new_masks))
            cond = compute_curves(masked, X, n_levels=self.n_levels, worst_case=self.worst_case,
                                  masks=masks, min_kept=floors, proba=proba, weights=weights,
                                  reference=reference)
            passes += cond.forward_passes
            if unit is None:
                unit = cond.flops_per_weight.astype(np.float64)
            budget = float((n_kept * unit).sum())
            proposal = self._allocate(cond, weights, masks, sparsity)
            improved = False
            for h in range(REFINE_HALVINGS + 1):
                step = 0.5 ** h
                kept = np.floor(n_kept + step * (proposal - n_kept) + 1e-9).astype(np.int64)
                kept = _fill_budget(cond, kept, unit, budget)
                if np.array_equal(kept, n_kept):
                    break
                trial = _keep_masks(weights, masks, kept)
                d = joint(trial)
                passes += 1.0
                logger.info("refinement %d, step %g: joint distortion %.6g -> %.6g (constant "
                            "output: %.6g)", it + 1, step, best, d, dead)
                if d < best and d < dead:
                    n_kept, new_masks, best, improved = kept, trial, d, True
                    break
            if not improved:
                break
            self.n_refine_iter_ = it + 1
        self.joint_distortion_ = float(best)
        return n_kept, new_masks, passes

    def _round_sparsities(self, curves, n_rounds) -> list[float]:
        """Geometric schedule from the current sparsity (of ``curves``) to ``self.sparsity``."""
        unit = np.ones_like(curves.flops_per_weight) if self.budget == "weights" else (
            curves.flops_per_weight)
        kept0 = float((curves.n_remaining * unit).sum() / (curves.n_weights * unit).sum())
        kept_target = 1.0 - self.sparsity
        if n_rounds == 1 or kept0 <= kept_target:
            return [self.sparsity]
        ratio = kept_target / kept0
        return [1.0 - kept0 * ratio ** (r / n_rounds) for r in range(1, n_rounds)] + [
            self.sparsity]

    def _allocate(self, curves, weights, masks, sparsity) -> np.ndarray:
        sizes, fpw, remaining = curves.n_weights, curves.flops_per_weight, curves.n_remaining
        unit = np.ones_like(fpw) if self.budget == "weights" else fpw
        dense_total = float((sizes * unit).sum())
        budget = (1.0 - sparsity) * dense_total
        if self.budget == "weights":
            budget = float(np.floor(budget + 0.5))
        available = float((remaining * unit).sum())
        if budget > available + 1e-9 * dense_total:
            raise ValueError(
                f"sparsity={sparsity} cannot be met: the model is already "
                f"{1 - available / dense_total:.4f} sparse ({self.budget}) and pruned weights "
                "are never restored"
            )
        budget = min(budget, available)
        costs = curves.costs(self.budget)
        if self.allocator in ("dp", "lagrangian"):
            floor_cost = float(costs[:, -1].sum())
            if floor_cost > budget:
                raise ValueError(
                    f"sparsity={sparsity} cannot be met with min_kept_per_unit="
                    f"{self.min_kept_per_unit}: keeping that many weights per output unit "
                    f"already costs {floor_cost:g} > budget {budget:g} ({self.budget}); "
                    "lower min_kept_per_unit (0 allows emptying layers)")
            if self.allocator == "dp":
                levels = allocate_dp(costs, curves.distortion, budget, n_bins=self.n_bins)
            else:
                levels = allocate_lagrangian(costs, curves.distortion, budget)
            kept = curves.kept[np.arange(len(levels)), levels].copy()
            return _fill_budget(curves, kept, unit, budget)
        baseline = BASELINES[self.allocator]
        if self.budget == "weights":
            return baseline(weights, int(budget), masks)
        # FLOPs budget: the baseline's rule, its total tuned to the largest that fits
        lo, hi = 0, int(remaining.sum())
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if (baseline(weights, mid, masks) * unit).sum() <= budget:
                lo = mid
            else:
                hi = mid - 1
        return baseline(weights, lo, masks)

    # -- transform ----------------------------------------------------------------------
    def transform(self, model):
        """Return a pruned copy of ``model`` (the fitted masks applied; ``model`` unchanged).

        Parameters
        ----------
        model : object
            The model passed to ``fit`` (or one with the same prunable layers, e.g. after
            fine-tuning).

        Returns
        -------
        pruned : object
            A copy of ``model`` of the same type.
        """
        if not hasattr(self, "masks_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; "
                                 "call fit(model, X_calib) first")
        adapter = get_adapter(model)
        shapes = [w.shape for w in adapter.get_weights()]
        if adapter.layer_names() != self.layer_names_ or shapes != [
            m.shape for m in self.masks_
        ]:
            raise ValueError("model does not have the prunable layers the pruner was fitted on")
        return adapter.with_masks(self.masks_)

    def fit_transform(self, model, X_calib=None, **fit_params):
        """``fit`` then ``transform`` the same model."""
        return self.fit(model, X_calib, **fit_params).transform(model)


def _keep_masks(weights, masks, n_kept) -> list[np.ndarray]:
    """Keep-masks keeping the ``n_kept[l]`` largest unpruned weights of each layer."""
    out = []
    for w, m, k in zip(weights, masks, n_kept, strict=True):
        order = magnitude_order(w, m)
        keep = np.zeros(w.size, dtype=bool)
        keep[order[order.size - int(k):]] = True
        out.append(keep.reshape(w.shape))
    return out


def _interp_distortion(curves, layer: int, n_kept: float) -> float:
    """Single-layer distortion at ``n_kept`` weights, linear between grid levels."""
    kept = curves.kept[layer, ::-1].astype(np.float64)  # increasing
    return float(np.interp(n_kept, kept, curves.distortion[layer, ::-1]))


def _grid_distortion(curves, n_kept) -> float:
    """Σ_l d_l at the first grid level whose kept count is at most ``n_kept[l]``.

    A layer pruned below its curve's floor (a baseline allocation on curves with
    ``min_kept > 0``) counts the floor's distortion, a lower bound of its own.
    """
    total = 0.0
    for l, k in enumerate(n_kept):
        below = curves.kept[l] <= k  # kept decreases with the level
        j = int(np.argmax(below)) if below.any() else curves.kept.shape[1] - 1
        total += float(curves.distortion[l, j])
    return total


def _fill_budget(curves, kept, unit, budget) -> np.ndarray:
    """Spend what the grid left of the budget: restore weights where the curve falls fastest.

    The DP is exact on the level grid; the grid can leave up to one level of a layer unused.
    Restoring the largest pruned weights of the layers with the steepest curve (distortion saved
    per unit of cost, linear between levels) uses the leftover, so the global sparsity is met to
    within one weight (one weight's FLOPs for a FLOPs budget).
    """
    kept = kept.astype(np.int64).copy()
    leftover = budget - float((kept * unit).sum())
    for _ in range(curves.kept.size + 1):
        best, best_gain, best_next = -1, -np.inf, 0
        for l in range(kept.size):
            if kept[l] >= curves.n_remaining[l] or unit[l] > leftover:
                continue
            denser = curves.kept[l][curves.kept[l] > kept[l]]
            nxt = int(denser.min())
            gain = (_interp_distortion(curves, l, kept[l]) - _interp_distortion(curves, l, nxt))
            gain /= (nxt - kept[l]) * unit[l]
            if gain > best_gain:
                best, best_gain, best_next = l, gain, nxt
        if best < 0:
            break
        add = min(best_next - kept[best], int(leftover // unit[best]))
        kept[best] += add
        leftover -= add * unit[best]
    return kept
