"""Gradient of the exact augmented Lagrangian against central finite differences."""

import numpy as np
import pytest

from optsolve.constrained import merit_gradient, merit_value


def merit_at(problem, x, lam, mu, nu):
    f, g = problem.obj(x, gradient=True)
    c, G = problem.cons(x, gradient=True)
    return merit_value(f, lam, c, g + G.T @ lam, mu, nu)


def fd_gradient(fun, z, h=1e-6):
    out = np.zeros_like(z)
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = h
        out[i] = (fun(z + e) - fun(z - e)) / (2 * h)
    return out


@pytest.mark.parametrize("mu,nu", [(10.0, 0.1), (1.0, 1.0)])
def test_merit_gradient_matches_finite_differences(test_problem, mu, nu):
    p = test_problem
    rng = np.random.default_rng(0)
    x = p.x0 + 0.1 * rng.standard_normal(p.n)
    lam = rng.standard_normal(p.m)
    g = p.grad(x)
    c, G = p.cons(x, gradient=True)
    grad_lag = g + G.T @ lam
    H = p.hess(x, lam)  # Hessian of the LAGRANGIAN
    gx, gl = merit_gradient(grad_lag, c, G, H @ grad_lag, mu, nu)
    z = np.concatenate([x, lam])
    fd = fd_gradient(lambda z: merit_at(p, z[:p.n], z[p.n:], mu, nu), z)
    np.testing.assert_allclose(np.concatenate([gx, gl]), fd, rtol=1e-5, atol=1e-5)


def test_hessian_of_f_alone_gives_a_wrong_merit_gradient(test_problem):
    """The trap of the issue: with nonlinear constraints ∇²f ≠ ∇²ₓL."""
    p = test_problem
    rng = np.random.default_rng(1)
    x = p.x0 + 0.1 * rng.standard_normal(p.n)
    lam = rng.standard_normal(p.m)
    Hf, HL = p.hess(x, np.zeros(p.m)), p.hess(x, lam)
    c, G = p.cons(x, gradient=True)
    grad_lag = p.grad(x) + G.T @ lam
    good = merit_gradient(grad_lag, c, G, HL @ grad_lag, 10.0, 1.0)[0]
    bad = merit_gradient(grad_lag, c, G, Hf @ grad_lag, 10.0, 1.0)[0]
    if np.allclose(Hf, HL):  # linear constraints: the two Hessians agree
        np.testing.assert_allclose(good, bad)
    else:
        assert not np.allclose(good, bad, rtol=1e-4)
