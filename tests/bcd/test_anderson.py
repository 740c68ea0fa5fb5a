"""Anderson extrapolation of the working-set column CD against numpy."""

import numpy as np

from optsolve.bcd._working_set_kernels import ANDERSON_K, anderson_weights


def test_anderson_weights_match_numpy():
    rng = np.random.default_rng(3)
    V = rng.standard_normal((ANDERSON_K + 1, 12))
    c = np.empty(ANDERSON_K)
    assert anderson_weights(V, c)
    U = np.diff(V, axis=0)
    z = np.linalg.solve(U @ U.T, np.ones(ANDERSON_K))
    np.testing.assert_allclose(c, z / z.sum(), rtol=1e-8)
    # the weights minimize the residual ||Σ c_i U_i|| over the affine combinations (Σ c = 1)
    best = np.linalg.norm(c @ U)
    for _ in range(20):
        e = rng.standard_normal(ANDERSON_K) * 1e-3
        assert np.linalg.norm((c + e - e.mean()) @ U) >= best
    # identical iterates: singular, refused
    assert not anderson_weights(np.ones((ANDERSON_K + 1, 4)), c)
