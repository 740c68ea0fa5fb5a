"""The quasi-definite LDLᵀ route of the sparse Newton solves against scipy's LU, its fallback
to LU where LDLᵀ without pivoting cannot answer, the factorization cache, and its use by
``minimize`` on the bound-constrained Poisson control."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from optsolve.constrained import minimize
from optsolve.constrained._ldl import FactorCache, ldl_factor, ldl_solve
from optsolve.constrained.sketches import solve_direct
from optsolve.problems import get_problem

pytest.importorskip("qdldl")


def kkt(n, m, seed, *, indefinite=False, scale=1.0):
    """Sparse ``[[B, Gᵀ], [G, 0]]`` with ``B`` diagonal (``≻ 0`` unless ``indefinite``) and
    ``G`` of full row rank; ``scale`` spreads the entries' magnitudes as a PDE mesh does."""
    rng = np.random.default_rng(seed)
    diag = rng.uniform(0.5, 2.0, n) / scale
    if indefinite:
        diag[: n // 2] *= -1.0
    G = sp.random(m, n, density=min(1.0, 4.0 / n), random_state=seed, format="csr")
    G = (G + sp.eye(m, n, format="csr")) * scale  # full row rank
    K = sp.bmat([[sp.diags(diag), G.T], [G, None]], format="csr")
    return K, rng.standard_normal(n + m)


@pytest.mark.parametrize("n, m, scale", [(40, 10, 1.0), (300, 120, 1.0), (300, 120, 1e4)])
def test_ldl_matches_lu(n, m, scale):
    K, b = kkt(n, m, seed=n + m, scale=scale)
    z = ldl_solve(K, b, n_primal=n)
    assert z is not None
    ref = spla.spsolve(K.tocsc(), b)
    # as backward stable as LU (the scaled case has cond(K) ~ 5e8, so compare residuals)
    knorm = spla.norm(K, np.inf)
    assert np.max(np.abs(K @ z - b)) <= 1e-13 * knorm * np.max(np.abs(z)) + 1e-13 * np.max(
        np.abs(b))
    np.testing.assert_allclose(z, ref, rtol=1e-6, atol=1e-8 * np.max(np.abs(ref)))


def test_zero_pivot_gives_none_and_solve_direct_falls_back():
    # [[0, 1], [1, 0]]: quasi-definite LDLᵀ cannot start (zero pivot), LU can
    K = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert ldl_factor(K, n_primal=1) is None
    cache = FactorCache()
    z, _, singular = solve_direct(K, np.array([2.0, 3.0]), n_primal=1, cache=cache)
    assert not singular and cache.kind == "lu"
    np.testing.assert_allclose(z, [3.0, 2.0])


def test_indefinite_hessian_is_solved_exactly():
    K, b = kkt(200, 50, seed=3, indefinite=True)
    z, _, singular = solve_direct(K, b, n_primal=200, cache=FactorCache())
    assert not singular
    np.testing.assert_allclose(K @ z, b, atol=1e-9 * np.linalg.norm(b))


def test_cache_reuses_the_factor_of_an_identical_matrix():
    K, b = kkt(100, 30, seed=1)
    cache = FactorCache()
    z1, _, _ = solve_direct(K, b, n_primal=100, cache=cache)
    z2, _, _ = solve_direct(K.copy(), 2 * b, n_primal=100, cache=cache)
    assert (cache.factorizations, cache.hits) == (1, 1)
    np.testing.assert_allclose(z2, 2 * z1, rtol=1e-10, atol=1e-12)
    K2 = K.copy()
    K2.data[0] += 1.0  # another matrix: factorized anew
    z3, _, _ = solve_direct(K2, b, n_primal=100, cache=cache)
    assert cache.factorizations == 2
    np.testing.assert_allclose(K2 @ z3, b, atol=1e-9 * np.linalg.norm(b))


def test_minimize_bound_poisson_control_with_ldl():
    p = get_problem("POISSON_CONTROL", N=24, control_bounds=(0.0, 10.0), target="sine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(p, method="eal-direct", tol=1e-8)
    assert res.success and res.kkt <= 1e-8
    x_ref = p.solve_exact()[0]
    assert np.max(np.abs(res.x - x_ref)) <= 1e-6 * np.max(np.abs(x_ref))
    # mesh-independent: a handful of Newton iterations and factorizations
    assert res.nit <= 6 and 1 <= res.n_factorizations <= 2 * res.nit + 2
