"""The multi-seed report of ``bench/pruning_accuracy.py`` (mean ± sd, DP win/tie/loss summary)."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench():
    pytest.importorskip("threadpoolctl")
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("pruning_accuracy")
    finally:
        sys.path.remove(str(BENCH))


def _rows(values):
    """values: {(model, allocator): [acc per seed]} at sparsity 0.9; acc_ft = acc."""
    rows = []
    for (model, allocator), accs in values.items():
        for seed, a in enumerate(accs):
            rows.append(dict(model=model, seed=seed, sparsity=0.9, allocator=allocator, acc=a,
                             acc_ft=a, dense_acc=0.97, n_layers=3, n_weights=100,
                             curve_forward_passes=10.0, naive_forward_passes=31,
                             curve_seconds=0.1, layer_sparsity="0.9 0.9 0.9", note=""))
    return rows


def test_verdict_win_tie_loss(bench):
    others = {b: [0.5, 0.5, 0.5] for b in bench.BASELINES if b != "lamp"}
    cases = {"win": [0.7, 0.7, 0.7], "tie": [0.58, 0.62, 0.66], "loss": [0.5, 0.51, 0.52]}
    for want, dp in cases.items():
        values = {("m", "dp"): dp, ("m", "lamp"): [0.6, 0.63, 0.66],
                  **{("m", b): v for b, v in others.items()}}
        agg = bench._aggregate(_rows(values), "acc")
        verdict, dp_stat, (name, best) = bench._verdict(agg, "m", 0.9)
        assert verdict == want and name == "lamp"
        assert np.isclose(best[0], 0.63) and np.isclose(dp_stat[0], np.mean(dp))


def test_report_round_trips_through_csv(bench, tmp_path):
    values = {("m", "dp"): [0.7, 0.8, 0.9], ("m", "uniform"): [0.5, 0.5, np.nan],
              ("m", "lamp"): [0.6, 0.7, 0.8]}
    rows = _rows(values)
    text = bench.write_outputs(rows, tmp_path / "a", ("dp", *bench.BASELINES))
    assert "**80.0 ± 10.0**" in text and "50.0 ± 0.0" in text and "n/a" in text
    assert "| 0.90 | 1 / 0 / 0 | 1 / 0 / 0 |" in text
    again = bench.read_rows([tmp_path / "a" / "accuracy.csv"])
    assert len(again) == len(rows)
    text2 = bench.write_outputs(again, tmp_path / "b", ("dp", *bench.BASELINES))
    assert text2 == text


def _iter_rows(values):
    """values: {(model, allocator): [acc_ft per seed]} at sparsity 0.9, iterative protocol rows."""
    rows = []
    for (model, allocator), accs in values.items():
        for seed, a in enumerate(accs):
            rows.append(dict(model=model, seed=seed, sparsity=0.9, allocator=allocator + "_iter_ft",
                             acc_ft=a, dense_acc=0.97, train_seconds=1.0, seconds=2.0, rounds=11,
                             layer_sparsity="" if np.isnan(a) else "0.9 0.9 0.9", note=""))
    return rows


def test_iterative_report_round_trips_through_csv(bench, tmp_path):
    values = {("m", "dp"): [0.7, 0.8, 0.9], ("m", "uniform_plus"): [np.nan] * 3,
              ("m", "lamp"): [0.6, 0.7, 0.8], ("m", "erk"): [0.5, 0.5, 0.5]}
    rows = _iter_rows(values)
    text = bench.write_iterative_table(rows, tmp_path / "a")
    assert "**80.0 ± 10.0**" in text and "70.0 ± 10.0" in text and "n/a" in text
    assert "| 0.90 | 1 / 0 / 0 | – |" in text
    again = bench.read_rows([tmp_path / "a" / "iterative.csv"])
    assert len(again) == len(rows)
    assert bench.write_iterative_table(again, tmp_path / "b") == text


def test_iterative_verdict_uses_the_suffixed_names(bench):
    values = {("m", "dp"): [0.5, 0.51, 0.52], ("m", "lamp"): [0.6, 0.63, 0.66]}
    agg = bench._aggregate(_iter_rows(values), "acc_ft")
    verdict, dp, (name, best) = bench._verdict(agg, "m", 0.9, "_iter_ft")
    assert np.isclose(dp[0], 0.51)
    assert verdict == "loss" and name == "lamp" and np.isclose(best[0], 0.63)
    assert bench._verdict(agg, "m", 0.9)[0] is None  # no one-shot rows


@pytest.mark.parametrize("name, n_layers", [("lenet5", 5), ("resnet", 10), ("vgg", 8)])
def test_bench_torch_models_prune_to_their_masked_weights(bench, name, n_layers):
    """Every conv/dense weight of the benchmark's CNNs is found, and the pruned copy computes
    what the dense model computes with its weights multiplied by the masks."""
    torch = pytest.importorskip("torch")
    import pruning_models as pm

    torch.manual_seed(0)
    model = pm.torch_models()[name]().eval()
    X = pm.to_images(np.random.default_rng(0).uniform(size=(32, 64)))
    p = bench.LayerAdaptivePruner(sparsity=0.8, n_levels=11, n_refine=0, **bench.PRUNER)
    p.fit(model, X)
    assert len(p.layer_names_) == n_layers
    kept = sum(int(m.sum()) for m in p.masks_)
    total = sum(m.size for m in p.masks_)
    assert abs(kept - 0.2 * total) <= total * 0.01
    masked = pm.torch_models()[name]().eval()
    masked.load_state_dict(model.state_dict())
    with torch.no_grad():
        for layer, mask in zip(p.layer_names_, p.masks_, strict=True):
            masked.get_submodule(layer).weight.mul_(torch.as_tensor(mask, dtype=torch.float32))
        np.testing.assert_allclose(p.transform(model)(X).numpy(), masked(X).numpy(), atol=1e-5)
