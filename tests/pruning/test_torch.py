import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from optsolve.pruning import LayerAdaptivePruner, check_additivity  # noqa: E402
from optsolve.pruning.adapters import TorchAdapter  # noqa: E402


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x  # skip connection, in place
        return self.relu(out)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.block = Block(4)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = nn.functional.max_pool2d(self.block(x), 2)
        return self.fc(torch.flatten(x, 1))


class Untraceable(TinyResNet):
    def forward(self, x):
        if x.sum() > 0:  # data-dependent control flow: torch.fx cannot trace this
            x = x * 1.0
        return super().forward(x)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # tiny convolutions on a shared 2-core machine: extra threads only add contention
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data():
    torch.manual_seed(0)
    return torch.randn(40, 1, 8, 8)


def _model(cls=TinyResNet):
    torch.manual_seed(0)
    m = cls()
    with torch.no_grad():  # non-trivial batch-norm statistics
        m.block.bn1.running_mean.uniform_(-0.1, 0.1)
        m.block.bn2.running_var.uniform_(0.5, 1.5)
    return m.eval()


def test_layers_in_forward_order_and_flops(data):
    ad = TorchAdapter(_model())
    assert ad.layer_names() == ["stem", "block.conv1", "block.conv2", "fc"]
    ad.prepare(data)
    assert ad.flops_per_weight().tolist() == [64, 64, 64, 1]


@pytest.mark.parametrize("cls", [TinyResNet, Untraceable])
def test_reused_activations_match_full_forward(data, cls):
    ad = TorchAdapter(_model(cls))
    assert (ad._graph is not None) == (cls is TinyResNet)
    ad.prepare(data)
    rng = np.random.default_rng(0)
    for l, w in enumerate(ad.get_weights()):
        w = w * (rng.random(w.shape) < 0.5)
        np.testing.assert_allclose(ad.output_from_layer(l, w), ad.output(data, {l: w}),
                                   rtol=1e-6, atol=1e-6)
    # the weights are restored after each evaluation
    np.testing.assert_array_equal(ad.output(data), _model(cls)(data).detach().numpy())


def test_pruned_torch_model_is_masked_copy(data):
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    p = LayerAdaptivePruner(sparsity=0.7, n_levels=21).fit(model, data)
    pruned = p.transform(model)
    for k, v in model.state_dict().items():  # never modified in place
        assert torch.equal(v, before[k])
    layers = (nn.Conv2d, nn.Linear)
    n_total = sum(m.weight.numel() for m in model.modules() if isinstance(m, layers))
    n_zero = sum(int((m.weight == 0).sum()) for m in pruned.modules() if isinstance(m, layers))
    assert n_zero == n_total - round(0.3 * n_total)
    # output of the masked weights, computed independently of the adapter
    ref = _model()
    with torch.no_grad():
        for name, mask in zip(p.layer_names_, p.masks_, strict=True):
            ref.get_submodule(name).weight.mul_(torch.as_tensor(mask, dtype=torch.float32))
        torch.testing.assert_close(pruned(data), ref(data))


def test_torch_flops_budget_and_noise(data):
    p = LayerAdaptivePruner(sparsity=0.6, budget="flops", n_levels=21).fit(_model(), data)
    assert 0.4 - 64 / p.curves_.costs("flops")[:, 0].sum() <= p.flops_fraction_ <= 0.4 + 1e-12
    q = LayerAdaptivePruner(sparsity=0.6, calibration="noise", random_state=0, n_levels=11)
    q.fit(_model(), data)
    assert q.sparsity_ == pytest.approx(0.6, abs=1e-3)
    with pytest.raises(ValueError, match="needs X_calib"):
        LayerAdaptivePruner(calibration="noise").fit(_model())


def test_torch_additivity(data):
    res = check_additivity(_model(), data, n_trials=8, max_sparsity=0.3, random_state=0)
    assert res.correlation > 0.9


def test_torch_bad_input(data):
    with pytest.raises(ValueError, match="X_calib of shape"):
        LayerAdaptivePruner().fit(_model(), torch.randn(5, 3, 8, 8))
    with pytest.raises(ValueError, match="no prunable layer"):
        LayerAdaptivePruner().fit(nn.Sequential(nn.ReLU()), data)


def test_torch_floor_and_probability_output(data):
    model = _model()
    p = LayerAdaptivePruner(sparsity=0.9, n_levels=11, output="proba").fit(model, data)
    # one weight per output channel / neuron: stem 4, conv1 4, conv2 4, fc 10
    assert p.curves_.min_kept.tolist() == [4, 4, 4, 10]
    assert np.all(p.n_kept_ >= p.curves_.min_kept)
    # distortion of emptying the last layer, on softmax outputs, checked by hand
    with torch.no_grad():
        Y = torch.softmax(model(data), dim=1).numpy().astype(np.float64)
        empty = _model()
        empty.fc.weight.zero_()
        Y0 = torch.softmax(empty(data), dim=1).numpy().astype(np.float64)
    q = LayerAdaptivePruner(n_levels=3, output="proba", min_kept_per_unit=0).fit(model, data)
    assert q.curves_.distortion[-1, -1] == pytest.approx(((Y - Y0) ** 2).sum(axis=1).mean(),
                                                         rel=1e-4)
