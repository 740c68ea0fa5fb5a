"""Every penalty code's operations against each other and against brute-force definitions.

A new penalty listed in ``PENALTY_CODES`` without its branch in one of the operations fails
here (the checklist of ``optsolve/bcd/penalties.py``)."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from optsolve.bcd import L1, L2, NonNegative, minimize_bcd
from optsolve.bcd import penalties as P

CODES = sorted(P.PENALTY_CODES.values())
ALPHA = 0.7


def _feasible(code, w):
    return np.abs(w) if code in P.NONNEG else w


def _points(code, seed=0, m=60):
    rng = np.random.default_rng(seed)
    w = _feasible(code, rng.standard_normal(m))
    w[::4] = 0.0
    return w, rng.standard_normal(m), rng.uniform(0.2, 3.0, m)


def test_every_code_is_listed_once_and_the_classes_use_them():
    assert len(set(CODES)) == len(P.PENALTY_CODES)
    assert {L1(1.0).code, L1(1.0, positive=True).code, L2(1.0).code, NonNegative().code} <= set(
        CODES)
    assert set(P.KINKED) | set(P.NONNEG) | set(P.SMOOTH) == set(CODES)
    assert not set(P.KINKED) & set(P.SMOOTH)


@pytest.mark.parametrize("code", CODES)
def test_prox_is_the_minimizer_of_its_definition(code):
    rng = np.random.default_rng(code)
    for u, step in zip(rng.standard_normal(20) * 2, rng.uniform(0.1, 2.0, 20), strict=True):
        got = P.prox_scalar(code, ALPHA, u, step)

        def obj(v, u=u, step=step):
            return 0.5 * (v - u) ** 2 + step * P.pen_scalar(code, ALPHA, v)

        lo = 0.0 if code in P.NONNEG else -10.0
        ref = minimize_scalar(obj, bounds=(lo, 10.0), method="bounded",
                              options={"xatol": 1e-12}).x
        assert obj(got) <= obj(ref) + 1e-10
        assert got == pytest.approx(ref, abs=1e-5)


@pytest.mark.parametrize("code", CODES)
def test_min_norm_subgradient_is_the_prox_gradient_limit(code):
    """``s = lim_{L→∞} L (w - prox_{pen/L}(w - g/L))`` (the smallest element of g + ∂pen)."""
    w, g, _ = _points(code)
    big = 1e8
    for wj, gj in zip(w, g, strict=True):
        s = P.min_norm_subgrad(code, ALPHA, gj, wj)
        limit = big * (wj - P.prox_scalar(code, ALPHA, wj - gj / big, 1.0 / big))
        assert s == pytest.approx(limit, abs=1e-6)


@pytest.mark.parametrize("code", CODES)
def test_array_forms_match_the_scalar_kernels(code):
    w, g, lips = _points(code)
    u = w - g / lips
    want = [P.prox_scalar(code, ALPHA, a, 1.0 / b) for a, b in zip(u, lips, strict=True)]
    np.testing.assert_allclose(P.prox_xp(np, code, ALPHA, u, 1.0 / lips), want, rtol=1e-15,
                               atol=1e-15)
    np.testing.assert_allclose(P.pen_xp(np, code, ALPHA, w),
                               [P.pen_scalar(code, ALPHA, a) for a in w], rtol=1e-15)
    want = [P.min_norm_subgrad(code, ALPHA, a, b) for a, b in zip(g, w, strict=True)]
    np.testing.assert_allclose(P.min_norm_subgrad_xp(np, code, ALPHA, g, w), want, rtol=1e-15)
    pens, alphas = np.full(w.shape, code), np.full(w.shape, ALPHA)
    np.testing.assert_allclose(P.min_norm_subgradients(pens, alphas, g, w), want, rtol=1e-15)
    assert P.pen_sum(pens, alphas, w) == pytest.approx(sum(P.pen_scalar(code, ALPHA, a)
                                                           for a in w))


@pytest.mark.parametrize("code", CODES)
def test_manifold_helpers_are_the_derivatives_off_the_kinks(code):
    w, g, _ = _points(code, seed=3)
    w = np.where(w == 0.0, 0.5, w)  # on the manifold: no coordinate at a kink
    pens, alphas = np.full(w.shape, code), np.full(w.shape, ALPHA)
    d = np.random.default_rng(4).standard_normal(w.shape)
    mg, curv = P.manifold_gradient(g, w, pens, alphas)
    eps = 1e-6
    for j in range(w.shape[0]):
        up = P.pen_scalar(code, ALPHA, w[j] + eps) - P.pen_scalar(code, ALPHA, w[j] - eps)
        assert mg[j] - g[j] == pytest.approx(up / (2 * eps), abs=1e-6)
    assert np.all(curv == (ALPHA if code == P.PEN_L2 else 0.0))
    t = 1e-7
    step = (P.pen_sum(pens, alphas, w + t * d) - P.pen_sum(pens, alphas, w)) / t
    assert P.penalty_slope(pens, alphas, w, d) == pytest.approx(step, rel=1e-4, abs=1e-6)
    assert P.signs_kept(pens, w, w + 1e-9 * d)


@pytest.mark.parametrize("penalty", [None, L1(0.05), L1(0.05, positive=True), L2(0.5),
                                     NonNegative()])
@pytest.mark.parametrize("update", ["auto", "gradient", "newton", "two-metric"])
def test_every_penalty_reaches_a_coordinatewise_optimum(penalty, update):
    """Each engine treats each penalty by the same definitions: at the solution the
    minimum-norm subgradient vanishes."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 12))
    y = X @ rng.standard_normal(12) + 0.1 * rng.standard_normal(60)
    res = minimize_bcd("least_squares", penalty, X=X, y=y, update=update, tol=1e-8,
                       max_iter=100_000)
    assert res.success
    code = 0 if penalty is None else penalty.code
    alpha = 0.0 if penalty is None else penalty.alpha
    grad = X.T @ (X @ res.x - y) / 60
    s = P.min_norm_subgradients(np.full(12, code), np.full(12, alpha), grad, res.x)
    assert np.max(np.abs(s)) <= 1e-5 * np.max(np.abs(X.T @ y / 60))
