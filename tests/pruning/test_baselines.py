"""Each baseline against its published definition on hand-computed examples."""

import numpy as np
import pytest

from optsolve.pruning import (
    allocate_erk,
    allocate_global_magnitude,
    allocate_lamp,
    allocate_uniform,
    allocate_uniform_plus,
    lamp_scores,
)


def test_uniform_same_fraction_per_layer():
    w = [np.ones((10, 10)), np.ones((20, 10)), np.ones(50)]
    # density 0.3 of 350 weights = 105: 30, 60, 15
    assert allocate_uniform(w, 105).tolist() == [30, 60, 15]


def test_uniform_plus_first_conv_dense_last_at_least_20_percent():
    w = [np.ones((4, 1, 5, 5)), np.ones(1000), np.ones(1000), np.ones(100)]
    # 100 (first conv, dense) + 2 * 1000 d + max(0.2, d) * 100 = 180 -> d = 0.03, last keeps 20
    assert allocate_uniform_plus(w, 180).tolist() == [100, 30, 30, 20]
    # above the floor the last layer follows the common density: 100 + 2100 d = 520 -> d = 0.2
    assert allocate_uniform_plus(w, 520).tolist() == [100, 200, 200, 20]
    assert allocate_uniform_plus(w, 730).tolist() == [100, 300, 300, 30]
    with pytest.raises(ValueError, match="cannot be met"):
        allocate_uniform_plus(w, 110)
    # a dense (2-D) first layer is pruned like the middle ones; only the last-layer floor stays
    w = [np.ones((10, 100)), np.ones((100, 10)), np.ones((10, 10))]
    # 2000 d + 20 = 120 -> d = 0.05
    assert allocate_uniform_plus(w, 120).tolist() == [50, 50, 20]
    assert allocate_uniform_plus(w, 1050).tolist() == [500, 500, 50]


def test_erk_density_proportional_to_sum_over_product_of_dims():
    # conv (out, in, kh, kw) = (4, 2, 3, 3): Σ dims 12, Π dims 72; dense (8, 4): 12 / 32
    w = [np.ones((4, 2, 3, 3)), np.ones((8, 4))]
    kept = allocate_erk(w, 24)
    # densities ε·12/72 and ε·12/32 -> kept ε·12 and ε·12: equal counts
    assert kept.tolist() == [12, 12]
    # a layer whose density would exceed 1 is dense, the others re-solved
    w = [np.ones((2, 2)), np.ones((100, 100))]
    # raw kept ∝ 4 and 200; at n_keep 1000: ε = 1000/204 -> first would keep 19.6 > 4 -> dense
    assert allocate_erk(w, 1000).tolist() == [4, 996]


def test_global_magnitude_single_threshold():
    w = [np.array([[0.1, -0.9], [0.5, 0.2]]), np.array([0.3, -0.4, 0.05])]
    # the four largest |w|: 0.9, 0.5, 0.4, 0.3 -> 2 in layer 0, 2 in layer 1
    assert allocate_global_magnitude(w, 4).tolist() == [2, 2]


def test_lamp_scores_and_allocation():
    # sorted w^2 = 1, 4, 9, 16: scores 1/30, 4/29, 9/25, 16/16
    np.testing.assert_allclose(lamp_scores(np.array([3.0, -1.0, 4.0, 2.0])),
                               [9 / 25, 1 / 30, 1.0, 4 / 29])
    w = [np.array([3.0, -1.0, 4.0, 2.0]), np.array([10.0, 10.0])]
    # layer 1 scores: 100/200, 1; top 3 overall: 1 (l0), 1 (l1), 0.5 (l1)
    assert allocate_lamp(w, 3).tolist() == [1, 2]
    # magnitude pruning would keep 10, 10, 4 as well, but LAMP differs at n_keep 4: 9/25 < 0.5
    assert allocate_lamp(w, 4).tolist() == [2, 2]


@pytest.mark.parametrize("allocate", [allocate_uniform, allocate_erk, allocate_global_magnitude,
                                      allocate_lamp, allocate_uniform_plus])
def test_counts_sum_exactly_and_respect_masks(allocate):
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((30, 20)), rng.standard_normal((20, 20)), rng.standard_normal(50)]
    masks = [rng.random(x.shape) < 0.7 for x in w]
    remaining = np.array([m.sum() for m in masks])
    for n_keep in (450, 600):
        kept = allocate(w, n_keep, masks)
        assert kept.sum() == n_keep
        assert np.all(kept <= remaining) and np.all(kept >= 0)
    with pytest.raises(ValueError, match="n_keep"):
        allocate(w, remaining.sum() + 1, masks)
