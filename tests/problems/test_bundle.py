"""BA-L1 (built-in, from its SIF file) against an independent projection with scipy's rotations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from optsolve.problems import get_problem
from optsolve.problems.library.bundle import OBSERVATIONS


def _reference_residuals(x, sif_cy=True):
    """BAL's camera model: P = R(w) X + t, p = -P[:2]/P[2], f (1 + k1|p|² + k2|p|⁴) p - obs."""
    point, out = x[:3], []
    for k in range(6):
        w, t, (k1, k2, f) = x[3 + 9 * k:6 + 9 * k], x[6 + 9 * k:9 + 9 * k], x[9 + 9 * k:12 + 9 * k]
        P = Rotation.from_rotvec(w).apply(point) + t
        if sif_cy:  # the SIF file's y coordinate uses e_x (e·X)(1 - cos θ) instead of e_y (...)
            theta = np.linalg.norm(w)
            e = w / theta
            P[1] += (e[0] - e[1]) * (e @ point) * (1 - np.cos(theta))
        p = -P[:2] / P[2]
        r2 = p @ p
        out.extend(f * (1 + k1 * r2 + k2 * r2**2) * p - OBSERVATIONS[k])
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_ba_l1_residuals_match_an_independent_projection(seed):
    p = get_problem("BA-L1")
    x = p.x0 + 1e-3 * np.random.default_rng(seed).standard_normal(p.n)
    assert np.allclose(p.cons(x), _reference_residuals(x), rtol=1e-10, atol=1e-8)
    # the SIF's e_x matters: with the exact Rodrigues formula the big rotations are 200 px off
    exact = _reference_residuals(x, sif_cy=False)
    assert np.abs(p.cons(x) - exact).max() > 100 and np.abs(exact).max() < 30


def test_ba_l1_derivatives_match_finite_differences(fd, to_dense):
    p = get_problem("BA-L1")
    x = p.x0 + 1e-3 * np.random.default_rng(2).standard_normal(p.n)
    v = np.random.default_rng(3).standard_normal(p.m)
    J = to_dense(p.jac(x))
    assert np.allclose(J, fd(p.cons, x, rel_step=1e-7), rtol=1e-5, atol=1e-4)
    H = to_dense(p.hess(x, v))
    assert np.allclose(H, H.T)
    assert np.allclose(H, fd(lambda z: to_dense(p.jac(z)).T @ v, x, rel_step=1e-7),
                       rtol=1e-4, atol=1e-3 * np.abs(H).max())


def test_ba_l1_small_rotation_branch(fd, to_dense):
    # ‖w‖² below machine epsilon: R x = x + w × x (the SIF's first-order branch)
    p = get_problem("BA-L1")
    x = p.x0.copy()
    x[3:6] = 1e-9
    assert np.allclose(p.cons(x), _reference_residuals(x), rtol=1e-8)
    assert np.allclose(to_dense(p.jac(x))[:, 6:12], fd(p.cons, x)[:, 6:12], rtol=1e-5, atol=1e-4)


def test_trigon1ne_root_and_start():
    p = get_problem("TRIGON1NE", N=5)
    assert np.allclose(p.cons(np.zeros(5)), 0) and np.allclose(p.x0, 0.1)
    with pytest.raises(ValueError, match="N must be a positive integer"):
        get_problem("TRIGON1NE", N=0)


def test_sinvalne_root():
    p = get_problem("SINVALNE")
    assert np.allclose(p.cons(p.x_opt), 0) and p.x0.tolist() == [4.712389, -1.0]
