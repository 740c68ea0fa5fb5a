"""Layer collapse guard, probability distortion and multi-round DP of ``LayerAdaptivePruner``."""

import numpy as np
import pytest
from sklearn.base import clone

from optsolve.pruning import LayerAdaptivePruner


def _softmax(Z):
    Z = np.exp(Z - Z.max(axis=1, keepdims=True))
    return Z / Z.sum(axis=1, keepdims=True)


def _logits(net, X):
    h = X
    for i, (w, b) in enumerate(zip(net.coefs_, net.intercepts_, strict=True)):
        h = h @ w + b
        if i < len(net.coefs_) - 1:
            h = np.maximum(h, 0)
    return h


@pytest.mark.parametrize("allocator", ["dp", "lagrangian"])
def test_floor_keeps_a_weight_per_output_unit(digits_mlp, digits, allocator):
    X, _ = digits
    n_out = np.array([w.shape[1] for w in digits_mlp.coefs_])
    p = LayerAdaptivePruner(sparsity=0.97, allocator=allocator, n_levels=21)
    p.fit(digits_mlp, X[:100])
    assert np.all(p.n_kept_ >= n_out)
    # the grid spans [all weights, one per output unit]: last level at the floor exactly
    assert p.curves_.min_kept.tolist() == n_out.tolist()
    assert p.curves_.kept[:, -1].tolist() == n_out.tolist()
    assert p.sparsity_ == pytest.approx(0.97, abs=1.0 / sum(w.size for w in digits_mlp.coefs_))
    # the paper's plain grid (down to empty layers) is still available
    plain = clone(p).set_params(min_kept_per_unit=0).fit(digits_mlp, X[:100])
    assert plain.curves_.kept[:, -1].tolist() == [0, 0, 0]


def test_floor_above_budget_is_a_clear_error(digits_mlp, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="min_kept_per_unit"):
        LayerAdaptivePruner(sparsity=0.99, min_kept_per_unit=20, n_levels=11).fit(
            digits_mlp, X[:50])


def test_distortion_on_probabilities(digits_mlp, digits):
    X, _ = digits
    X = X[:60]
    kw = dict(n_levels=5, min_kept_per_unit=0)
    auto = LayerAdaptivePruner(**kw).fit(digits_mlp, X).curves_
    proba = LayerAdaptivePruner(output="proba", **kw).fit(digits_mlp, X).curves_
    raw = LayerAdaptivePruner(output="raw", **kw).fit(digits_mlp, X).curves_
    np.testing.assert_array_equal(auto.distortion, proba.distortion)  # a classifier: proba
    # independent check of one point: layer 0 emptied, distortion of softmax outputs / logits
    emptied = [np.zeros_like(digits_mlp.coefs_[0]), *digits_mlp.coefs_[1:]]
    net = clone(digits_mlp)
    net.coefs_, net.intercepts_ = emptied, digits_mlp.intercepts_
    Y, Y_hat = _logits(digits_mlp, X), _logits(net, X)
    assert proba.distortion[0, -1] == pytest.approx(
        ((_softmax(Y) - _softmax(Y_hat)) ** 2).sum(axis=1).mean())
    assert raw.distortion[0, -1] == pytest.approx(((Y - Y_hat) ** 2).sum(axis=1).mean())
    # curves of one output kind are refused for the other
    with pytest.raises(ValueError, match="curves do not belong"):
        LayerAdaptivePruner(output="raw", **kw).fit(digits_mlp, X, curves=proba)


def test_rounds_reach_target_and_only_prune_further(digits_mlp, digits):
    X, _ = digits
    kw = dict(sparsity=0.9, n_levels=21, n_refine=0)
    one = LayerAdaptivePruner(**kw).fit(digits_mlp, X[:100])
    three = LayerAdaptivePruner(n_rounds=3, **kw).fit(digits_mlp, X[:100])
    n_total = sum(w.size for w in digits_mlp.coefs_)
    assert int(three.n_kept_.sum()) == round(0.1 * n_total)
    assert three.curve_forward_passes_ > 2 * one.curve_forward_passes_
    # the last round's curves were measured on the model pruned by the earlier rounds
    assert three.curves_.n_remaining.sum() < n_total
    kept = three.curves_.n_remaining
    assert np.all(three.n_kept_ <= kept)
    with pytest.raises(ValueError, match="n_rounds"):
        LayerAdaptivePruner(n_rounds=2).fit(digits_mlp, X[:100], curves=one.curves_)
    with pytest.raises(ValueError, match="n_rounds"):
        LayerAdaptivePruner(n_rounds=0).fit(digits_mlp, X[:100])


@pytest.mark.parametrize(("params", "exc"), [
    ({"min_kept_per_unit": -1}, ValueError), ({"min_kept_per_unit": 1.5}, ValueError),
    ({"output": "logits"}, ValueError)])
def test_bad_new_parameters(digits_mlp, digits, params, exc):
    name = next(iter(params))
    with pytest.raises(exc, match=name):
        LayerAdaptivePruner(**params).fit(digits_mlp, digits[0][:20])


def test_baseline_below_the_floor_counts_the_floor_distortion(digits_mlp, digits):
    X, _ = digits
    dp = LayerAdaptivePruner(sparsity=0.97, n_levels=11).fit(digits_mlp, X[:60])
    glob = LayerAdaptivePruner(sparsity=0.97, allocator="global", n_levels=11).fit(
        digits_mlp, X[:60], curves=dp.curves_)
    c = dp.curves_
    expected = 0.0
    for l, k in enumerate(glob.n_kept_):
        levels = np.flatnonzero(c.kept[l] <= k)
        expected += c.distortion[l, levels[0] if levels.size else -1]
    assert glob.predicted_distortion_ == pytest.approx(expected)
    assert np.isfinite(glob.predicted_distortion_) and glob.predicted_distortion_ > 0
