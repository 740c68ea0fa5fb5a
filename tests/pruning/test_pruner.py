import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor

from optsolve.pruning import (
    LayerAdaptivePruner,
    check_additivity,
    geometric_sparsity_schedule,
    iterative_pruning,
)

ALLOCATORS = ["dp", "lagrangian", "uniform", "uniform_plus", "global", "erk", "lamp"]


@pytest.fixture(scope="module")
def curves(digits_mlp, digits):
    X, _ = digits
    return LayerAdaptivePruner(n_levels=41).fit(digits_mlp, X[1000:1200]).curves_


def _masked_forward(net, X):
    """Forward pass of a scikit-learn MLP written out by hand (logits)."""
    h = X
    for i, (w, b) in enumerate(zip(net.coefs_, net.intercepts_, strict=True)):
        h = h @ w + b
        if i < len(net.coefs_) - 1:
            h = np.maximum(h, 0)
    return h


@pytest.mark.parametrize("allocator", ALLOCATORS)
@pytest.mark.parametrize("sparsity", [0.2, 0.7])
def test_masks_hit_global_sparsity_exactly(digits_mlp, digits, curves, allocator, sparsity):
    X, _ = digits
    p = LayerAdaptivePruner(sparsity=sparsity, allocator=allocator, n_levels=41)
    p.fit(digits_mlp, X[1000:1200], curves=curves)
    n_total = sum(w.size for w in digits_mlp.coefs_)
    n_kept = sum(int(m.sum()) for m in p.masks_)
    assert n_kept == round((1 - sparsity) * n_total)  # exact to the weight
    assert p.n_kept_.tolist() == [int(m.sum()) for m in p.masks_]
    sizes = [w.size for w in digits_mlp.coefs_]
    np.testing.assert_allclose(p.layer_sparsity_, 1 - p.n_kept_ / sizes)
    pruned = p.transform(digits_mlp)
    # the pruned model computes the outputs of its masked weights; the kept ones are the largest
    for w, pw, m in zip(digits_mlp.coefs_, pruned.coefs_, p.masks_, strict=True):
        np.testing.assert_array_equal(pw, w * m)
        if m.any() and (~m).any():
            assert np.abs(w[m]).min() >= np.abs(w[~m]).max()
    np.testing.assert_allclose(pruned.predict_proba(X[:50]).argmax(1),
                               _masked_forward(pruned, X[:50]).argmax(1))


def test_dp_beats_baselines_on_predicted_distortion(digits_mlp, digits, curves):
    X, _ = digits
    pred = {
        a: LayerAdaptivePruner(sparsity=0.8, allocator=a, n_levels=41, n_refine=0)
        .fit(digits_mlp, X[1000:1200], curves=curves).predicted_distortion_
        for a in ["dp", "lagrangian", "uniform", "uniform_plus", "global", "erk", "lamp"]
    }
    # the DP's objective over the grid: no other allocation of the same budget does better
    assert all(pred["dp"] <= v * (1 + 1e-12) for v in pred.values())


def test_model_never_modified_and_copy_returned(digits_mlp, digits):
    X, _ = digits
    before = [w.copy() for w in digits_mlp.coefs_]
    p = LayerAdaptivePruner(sparsity=0.6, n_levels=11).fit(digits_mlp, X[:100])
    pruned = p.transform(digits_mlp)
    assert pruned is not digits_mlp
    for w, b in zip(digits_mlp.coefs_, before, strict=True):
        np.testing.assert_array_equal(w, b)


def test_flops_budget_and_regressor(digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = MLPRegressor(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
        net.fit(X[:300], X[:300, :3])
    for allocator in ("dp", "erk"):
        p = LayerAdaptivePruner(sparsity=0.5, budget="flops", allocator=allocator, n_levels=21)
        p.fit(net, X[:100])
        # dense layers: one multiply-add per weight per sample, so FLOPs = weights
        assert p.flops_fraction_ <= 0.5 + 1e-12
        assert p.flops_fraction_ == pytest.approx(1 - p.sparsity_)
    assert p.flops_fraction_ > 0.49


def test_iterative_layers_only_get_sparser(digits_mlp, digits):
    X, _ = digits
    first = LayerAdaptivePruner(sparsity=0.5, n_levels=21).fit(digits_mlp, X[:100])
    pruned = first.transform(digits_mlp)
    second = LayerAdaptivePruner(sparsity=0.7, n_levels=21).fit(pruned, X[:100])
    for m1, m2 in zip(first.masks_, second.masks_, strict=True):
        assert not np.any(m2 & ~m1)  # nothing restored
    assert second.sparsity_ == pytest.approx(0.7, abs=1e-3)
    # explicit masks give the same as the zeros of the pruned model
    third = LayerAdaptivePruner(sparsity=0.7, n_levels=21).fit(pruned, X[:100], masks=first.masks_)
    assert third.n_kept_.tolist() == second.n_kept_.tolist()
    with pytest.raises(ValueError, match=r"sparsity=0\.3 cannot be met"):
        LayerAdaptivePruner(sparsity=0.3).fit(pruned, X[:100])


def test_schedule_and_iterative_pruning(digits_mlp, digits):
    X, _ = digits
    sched = geometric_sparsity_schedule(0.6)
    assert sched[:2] == pytest.approx([0.2, 0.36]) and sched[-1] == 0.6
    calls = []

    def fine_tune(model, masks):
        calls.append(len(masks))
        model.coefs_ = [w + 0.01 for w in model.coefs_]  # breaks the zeros on purpose
        return model

    model, hist = iterative_pruning(LayerAdaptivePruner(n_levels=11), digits_mlp, X[:100], 0.6,
                                    fine_tune=fine_tune)
    assert len(calls) == len(sched) == len(hist)
    assert np.mean(np.concatenate([(w == 0).ravel() for w in model.coefs_])) == pytest.approx(
        0.6, abs=1e-3)
    assert [h["sparsity"] for h in hist] == pytest.approx(sched, abs=1e-3)


def test_noise_calibration_and_worst_case(digits_mlp, digits):
    X, _ = digits
    a = LayerAdaptivePruner(sparsity=0.5, calibration="noise", random_state=0, n_levels=11)
    a.fit(digits_mlp)
    b = clone(a).fit(digits_mlp, 256)
    np.testing.assert_array_equal(a.curves_.distortion, b.curves_.distortion)
    assert a.sparsity_ == pytest.approx(0.5, abs=1e-3)
    mean = LayerAdaptivePruner(n_levels=11).fit(digits_mlp, X[:100]).curves_.distortion
    worst = LayerAdaptivePruner(n_levels=11, worst_case=True).fit(digits_mlp, X[:100])
    assert np.all(worst.curves_.distortion >= mean - 1e-12)
    assert np.any(worst.curves_.distortion > mean)


def test_curves_count_forward_passes(digits_mlp, digits):
    X, _ = digits
    p = LayerAdaptivePruner(n_levels=11, n_refine=0).fit(digits_mlp, X[:100])
    sizes = np.array([w.size for w in digits_mlp.coefs_], dtype=float)
    fractions = [sizes[l:].sum() / sizes.sum() for l in range(len(sizes))]
    # one caching pass + 10 partial passes per layer (from the layer on)
    assert p.curve_forward_passes_ == pytest.approx(1 + 10 * sum(fractions))
    assert p.curves_.n_evaluations == 30
    assert np.all(p.curves_.distortion[:, 0] == 0)


def test_additivity_on_trained_mlp(digits_mlp, digits):
    X, _ = digits
    res = check_additivity(digits_mlp, X[:200], n_trials=15, max_sparsity=0.5, random_state=0)
    assert res.correlation > 0.95, res.correlation
    assert res.joint.shape == res.summed.shape == (15,)


def test_params_clone_repr():
    p = LayerAdaptivePruner(sparsity=0.5, allocator="lamp")
    assert p.get_params()["allocator"] == "lamp"
    q = clone(p)
    assert q.get_params() == p.get_params() and q is not p
    assert repr(p) == "LayerAdaptivePruner(sparsity=0.5, allocator='lamp')"
    assert p.set_params(n_levels=11) is p and p.n_levels == 11
    with pytest.raises(ValueError, match="invalid parameter"):
        p.set_params(foo=1)


@pytest.mark.parametrize(
    ("params", "exc", "match"),
    [
        ({"sparsity": 1.0}, ValueError, "sparsity"),
        ({"sparsity": -0.1}, ValueError, "sparsity"),
        ({"sparsity": "x"}, TypeError, "sparsity"),
        ({"budget": "bytes"}, ValueError, "budget"),
        ({"allocator": "random"}, ValueError, "allocator"),
        ({"n_levels": 1}, ValueError, "n_levels"),
        ({"n_bins": 0}, ValueError, "n_bins"),
        ({"worst_case": "yes"}, TypeError, "worst_case"),
        ({"calibration": "zeros"}, ValueError, "calibration"),
    ],
)
def test_bad_parameters(digits_mlp, digits, params, exc, match):
    with pytest.raises(exc, match=match):
        LayerAdaptivePruner(**params).fit(digits_mlp, digits[0][:20])


def test_bad_inputs(digits_mlp, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="X_calib has 10 features"):
        LayerAdaptivePruner().fit(digits_mlp, X[:20, :10])
    with pytest.raises(ValueError, match="X_calib is required"):
        LayerAdaptivePruner().fit(digits_mlp)
    with pytest.raises(TypeError, match="not supported"):
        LayerAdaptivePruner().fit(object(), X[:20])
    with pytest.raises(NotFittedError):
        LayerAdaptivePruner().fit(MLPClassifier(), X[:20])
    with pytest.raises(NotFittedError):
        LayerAdaptivePruner().transform(digits_mlp)
    with pytest.raises(ValueError, match="masks"):
        LayerAdaptivePruner().fit(digits_mlp, X[:20], masks=[np.ones(3, bool)])
    p = LayerAdaptivePruner(n_levels=11).fit(digits_mlp, X[:20])
    with pytest.raises(ValueError, match="curves do not belong"):
        LayerAdaptivePruner(n_levels=21).fit(digits_mlp, X[:20], curves=p.curves_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5).fit(X[:50], digits[1][:50])
    with pytest.raises(ValueError, match="prunable layers"):
        p.transform(other)
    # a budget below uniform+'s floor (the last layer keeps at least 20 %) cannot be met
    with pytest.raises(ValueError, match="cannot be met"):
        LayerAdaptivePruner(sparsity=0.99, allocator="uniform_plus", n_levels=11).fit(
            digits_mlp, X[:20], curves=p.curves_)


def test_import_does_not_import_torch():
    code = ("import sys, optsolve, optsolve.pruning; optsolve.pruning.LayerAdaptivePruner; "
            "optsolve.pruning.allocate_dp; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_additivity_and_schedule_bad_input(digits_mlp, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="layer_sparsity must have shape"):
        check_additivity(digits_mlp, X[:20], layer_sparsity=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="layer_sparsity must lie"):
        check_additivity(digits_mlp, X[:20], layer_sparsity=np.full((2, 3), 1.5))
    with pytest.raises(ValueError, match="X_calib"):
        check_additivity(digits_mlp, X[:20, :5])
    with pytest.raises(ValueError, match="final_sparsity"):
        geometric_sparsity_schedule(1.0)
    with pytest.raises(ValueError, match="rate"):
        geometric_sparsity_schedule(0.5, rate=0.0)
    # explicit per-layer sparsities: zero sparsity means zero distortion, jointly and summed
    res = check_additivity(digits_mlp, X[:20], layer_sparsity=np.zeros((1, 3)))
    assert res.joint[0] == 0 and res.summed[0] == 0
