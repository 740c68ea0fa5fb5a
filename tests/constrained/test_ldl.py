"""The quasi-definite LDLᵀ route of the sparse Newton solves against scipy's LU, its fallback
to LU where LDLᵀ without pivoting cannot answer, the factorization cache, and its use by
``minimize`` on the bound-constrained Poisson control."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import optsolve.constrained._ldl as ldl
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


@pytest.mark.parametrize("backend", ["qdldl", "supernodal"])
def test_minimize_bound_poisson_control_with_ldl(backend, monkeypatch):
    if backend == "supernodal":  # every size goes to the supernodal backend
        pytest.importorskip("pymetis")
        monkeypatch.setattr(ldl, "SUPERNODAL_MIN_ROWS", 0)
    p = get_problem("POISSON_CONTROL", N=24, control_bounds=(0.0, 10.0), target="sine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(p, method="eal-direct", tol=1e-8)
    assert res.success and res.kkt <= 1e-8
    x_ref = p.solve_exact()[0]
    assert np.max(np.abs(res.x - x_ref)) <= 1e-6 * np.max(np.abs(x_ref))
    # mesh-independent: a handful of Newton iterations and factorizations
    assert res.nit <= 6 and 1 <= res.n_factorizations <= 2 * res.nit + 2


def _nonconvex_sparse_problem(n=300, m=80, low=-1.0, seed=0):
    """``min ½ xᵀ D x + cᵀx + ¼ Σ x⁴`` with an indefinite diagonal ``D``, two-sided sparse
    linear rows and a box: a nonconvex NLP whose Newton matrix is sparse."""
    from scipy.optimize import Bounds, LinearConstraint

    rng = np.random.default_rng(seed)
    d = rng.uniform(low, 2.0, n)
    c = rng.standard_normal(n)
    A = sp.random(m, n, density=5 / n, random_state=seed, format="csr") + sp.eye(m, n,
                                                                                format="csr")
    return dict(fun=lambda x: 0.5 * x @ (d * x) + c @ x + 0.25 * np.sum(x**4), x0=np.zeros(n),
                jac=lambda x: d * x + c + x**3,
                hess=lambda x: sp.diags(d + 3 * x**2, format="csr"),
                constraints=[LinearConstraint(A, -1.0, 1.0)],
                bounds=Bounds(-2.0 * np.ones(n), 2.0 * np.ones(n)))


@pytest.mark.parametrize("low", [-0.2, -1.0])
def test_sparse_inertia_correction_solves_nonconvex_problem(low):
    # the LDLᵀ pivots give the inertia of the sparse Newton matrix, so B + δI is corrected
    # as for small dense problems (without it these runs hit maxiter)
    kw = _nonconvex_sparse_problem(low=low)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(**kw, method="eal-direct", options={"dense_threshold": 100})
    assert res.success and res.kkt <= 1e-8
    assert res.n_regularized >= 1
    # independent check of local optimality: SLSQP started at our point finds nothing lower
    from scipy.optimize import minimize as sp_minimize

    A = kw["constraints"][0].A
    assert np.all(np.abs(A @ res.x) <= 1.0 + 1e-8) and np.all(np.abs(res.x) <= 2.0 + 1e-12)
    ref = sp_minimize(kw["fun"], res.x, jac=kw["jac"], method="SLSQP", bounds=kw["bounds"],
                      constraints=[kw["constraints"][0]], options={"maxiter": 200,
                                                                   "ftol": 1e-12})
    assert ref.fun >= res.fun - 1e-7 * max(1.0, abs(res.fun))
