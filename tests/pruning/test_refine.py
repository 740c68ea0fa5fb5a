"""Conditional curves and the refinement of the allocation (``n_refine``)."""

import numpy as np
import pytest

from optsolve.pruning import LayerAdaptivePruner, compute_curves, get_adapter


def _softmax(Z):
    Z = np.exp(Z - Z.max(axis=1, keepdims=True))
    return Z / Z.sum(axis=1, keepdims=True)


def _proba(coefs, intercepts, X):
    """Independent numpy forward pass of a ReLU MLP classifier, softmax output."""
    h = X
    for i, (w, b) in enumerate(zip(coefs, intercepts, strict=True)):
        h = h @ w + b
        if i < len(coefs) - 1:
            h = np.maximum(h, 0)
    return _softmax(h)


def _joint(net, masks, X):
    P = _proba(net.coefs_, net.intercepts_, X)
    Q = _proba([w * m for w, m in zip(net.coefs_, masks, strict=True)], net.intercepts_, X)
    return float(((P - Q) ** 2).sum(axis=1).mean())


def _prune_smallest(w, n_pruned):
    out = w.copy()
    order = np.argsort(np.abs(w).ravel(), kind="stable")
    out.reshape(-1)[order[:n_pruned]] = 0.0
    return out


def test_conditional_curves_match_direct_joint_pruning(digits_mlp, digits):
    X = digits[0][:80]
    net = digits_mlp
    fixed = [_prune_smallest(w, int(0.7 * w.size)) != 0 for w in net.coefs_]
    masked = get_adapter(net).with_masks(fixed)
    curves = compute_curves(get_adapter(masked), X, n_levels=5, proba=True,
                            weights=net.coefs_, reference=get_adapter(net).output(X))
    P = _proba(net.coefs_, net.intercepts_, X)
    for l, w in enumerate(net.coefs_):
        for j in range(5):
            coefs = [c * m for c, m in zip(net.coefs_, fixed, strict=True)]
            coefs[l] = _prune_smallest(w, w.size - int(curves.kept[l, j]))
            Q = _proba(coefs, net.intercepts_, X)
            assert curves.distortion[l, j] == pytest.approx(((P - Q) ** 2).sum(axis=1).mean())
    # level 0 keeps layer l dense while the others stay pruned: not zero
    assert np.all(curves.distortion[:, 0] > 0)


def test_conditional_curves_check_weights(digits_mlp, digits):
    with pytest.raises(ValueError, match="weights"):
        compute_curves(get_adapter(digits_mlp), digits[0][:20], weights=digits_mlp.coefs_[:1])


@pytest.mark.parametrize("allocator", ["dp", "lagrangian"])
@pytest.mark.parametrize("sparsity", [0.8, 0.95, 0.97])
def test_refinement_lowers_the_joint_distortion(digits_mlp, digits, allocator, sparsity):
    X = digits[0][:150]
    kw = dict(sparsity=sparsity, allocator=allocator, n_levels=21)
    plain = LayerAdaptivePruner(n_refine=0, **kw).fit(digits_mlp, X)
    refined = LayerAdaptivePruner(n_refine=4, **kw).fit(digits_mlp, X)
    assert plain.joint_distortion_ is None and plain.n_refine_iter_ == 0
    assert 0 <= refined.n_refine_iter_ <= 4
    # the reported joint distortion is the refined masks' real one, never above the start's
    assert refined.joint_distortion_ == pytest.approx(_joint(digits_mlp, refined.masks_, X))
    assert refined.joint_distortion_ <= _joint(digits_mlp, plain.masks_, X) * (1 + 1e-12)
    if refined.n_refine_iter_:
        assert refined.joint_distortion_ < _joint(digits_mlp, plain.masks_, X)
    # a kept step beats the best constant output (the mean probabilities: a dead network)
    P = _proba(digits_mlp.coefs_, digits_mlp.intercepts_, X)
    dead = ((P - P.mean(axis=0)) ** 2).sum(axis=1).mean()
    assert refined.n_refine_iter_ == 0 or refined.joint_distortion_ < dead
    # same budget, met exactly; the collapse floor still holds
    assert refined.n_kept_.sum() == plain.n_kept_.sum()
    assert np.all(refined.n_kept_ >= [w.shape[1] for w in digits_mlp.coefs_])
    # curves_ stay the unconditional ones (reusable)
    np.testing.assert_array_equal(refined.curves_.distortion, plain.curves_.distortion)


def test_refinement_flops_budget_and_earlier_masks(digits_mlp, digits):
    X = digits[0][:100]
    first = LayerAdaptivePruner(sparsity=0.5, n_levels=11).fit(digits_mlp, X)
    p = LayerAdaptivePruner(sparsity=0.9, n_levels=11, n_refine=3)
    p.fit(digits_mlp, X, masks=first.masks_)
    for new, old in zip(p.masks_, first.masks_, strict=True):
        assert not np.any(new & ~old)  # a layer only gets sparser
    f = LayerAdaptivePruner(sparsity=0.85, budget="flops", n_levels=11, n_refine=3)
    f.fit(digits_mlp, X)
    assert f.flops_fraction_ <= 0.15 + 1e-12


def test_refinement_reuses_curves_with_calibration_data(digits_mlp, digits):
    X = digits[0][:100]
    ref = LayerAdaptivePruner(n_levels=11, n_refine=0).fit(digits_mlp, X)
    a = LayerAdaptivePruner(sparsity=0.9, n_levels=11, n_refine=2).fit(digits_mlp, X)
    b = LayerAdaptivePruner(sparsity=0.9, n_levels=11, n_refine=2).fit(
        digits_mlp, X, curves=ref.curves_)
    np.testing.assert_array_equal(a.n_kept_, b.n_kept_)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_n_refine_validated(digits_mlp, digits, bad):
    with pytest.raises(ValueError, match="n_refine"):
        LayerAdaptivePruner(n_refine=bad).fit(digits_mlp, digits[0][:20])


def test_baselines_ignore_n_refine(digits_mlp, digits):
    X = digits[0][:60]
    a = LayerAdaptivePruner(sparsity=0.9, allocator="lamp", n_refine=0).fit(digits_mlp, X)
    b = LayerAdaptivePruner(sparsity=0.9, allocator="lamp", n_refine=5).fit(digits_mlp, X)
    np.testing.assert_array_equal(a.n_kept_, b.n_kept_)
    assert b.joint_distortion_ is None


def test_conditional_curves_torch_skip_connection():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
            self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
            self.fc = nn.Linear(4 * 8 * 8, 3)

        def forward(self, x):
            h = torch.relu(self.conv1(x))
            h = h + torch.relu(self.conv2(h))  # skip connection around conv2
            return self.fc(torch.flatten(h, 1))

    torch.manual_seed(0)
    net = Net().eval()
    X = torch.randn(16, 1, 8, 8)
    names = ["conv1", "conv2", "fc"]
    weights = [net.get_submodule(n).weight.detach().double().numpy() for n in names]
    fixed = [_prune_smallest(w, int(0.6 * w.size)) != 0 for w in weights]
    masked = get_adapter(net).with_masks(fixed)
    curves = compute_curves(get_adapter(masked), X, n_levels=4, proba=True, weights=weights,
                            reference=get_adapter(net).output(X))
    with torch.no_grad():
        P = torch.softmax(net(X), 1).double().numpy()
    for l in range(3):
        for j in range(4):
            direct = Net().eval()
            direct.load_state_dict(net.state_dict())
            with torch.no_grad():
                for k, n in enumerate(names):
                    w = weights[k] * fixed[k] if k != l else _prune_smallest(
                        weights[k], weights[k].size - int(curves.kept[l, j]))
                    direct.get_submodule(n).weight.copy_(torch.as_tensor(w))
                Q = torch.softmax(direct(X), 1).double().numpy()
            assert curves.distortion[l, j] == pytest.approx(((P - Q) ** 2).sum(1).mean(),
                                                            rel=1e-4, abs=1e-7)


def test_refinement_rejects_steps_to_a_dead_network(digits_mlp, digits):
    # at 95 % this small network is already dead one-shot (joint distortion above that of the
    # mean output); the first refinement step lowers the joint distortion (0.885 -> 0.857) but
    # stays above the constant predictor's (0.849), so it is rejected: the plain DP is kept
    X = digits[0][:150]
    kw = dict(sparsity=0.95, n_levels=21)
    plain = LayerAdaptivePruner(n_refine=0, **kw).fit(digits_mlp, X)
    refined = LayerAdaptivePruner(n_refine=4, **kw).fit(digits_mlp, X)
    P = _proba(digits_mlp.coefs_, digits_mlp.intercepts_, X)
    dead = ((P - P.mean(axis=0)) ** 2).sum(axis=1).mean()
    assert _joint(digits_mlp, plain.masks_, X) > dead
    assert refined.n_refine_iter_ == 0
    np.testing.assert_array_equal(refined.n_kept_, plain.n_kept_)
