"""The sketch-and-project inner solver against np.linalg.solve, and its numba kernel against a
plain numpy reference."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.constrained import SketchSolver
from optsolve.constrained._kernels import kaczmarz_run


def random_kkt(n, m, seed, sparse=False):
    """A random KKT matrix [[B, Gᵀ], [G, 0]] with B ≻ 0 and G of full row rank."""
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((n, n))
    B = R @ R.T / n + np.eye(n)
    G = rng.standard_normal((m, n))
    K = np.block([[B, G.T], [G, np.zeros((m, m))]])
    b = rng.standard_normal(n + m)
    return (sp.csr_matrix(K) if sparse else K), b


def kaczmarz_reference(K, rhs, rows, z, check_every, target_sq):
    """Plain numpy version of the kernel: steps, residual checks, early stop."""
    z = z.copy()
    steps = checks = 0
    res_sq = 0.0
    while steps < len(rows):
        for i in rows[steps:steps + check_every]:
            row = K[i]
            nrm = row @ row
            if nrm > 0:
                z += (rhs[i] - row @ z) / nrm * row
        steps = min(len(rows), steps + check_every)
        r = K @ z - rhs
        res_sq, checks = float(r @ r), checks + 1
        if res_sq <= target_sq:
            break
    return z, steps, checks, res_sq


@pytest.mark.parametrize("target_sq", [0.0, 1e-2])
def test_kaczmarz_kernel_matches_numpy_reference(target_sq):
    K, b = random_kkt(6, 3, 0)
    K[2] = 0.0  # a zero row is skipped
    K[:, 2] = 0.0
    b[2] = 0.0  # keeps the system consistent
    rows = np.random.default_rng(1).integers(0, 9, size=500).astype(np.int64)
    z0 = np.random.default_rng(2).standard_normal(9)
    csr = sp.csr_matrix(K)
    z, r = z0.copy(), np.zeros(9)
    steps, touched, checks, res_sq = kaczmarz_run(
        csr.indptr, csr.indices, csr.data, np.asarray(csr.multiply(csr).sum(axis=1)).ravel(),
        b, rows, z, r, 40, target_sq)
    z_ref, steps_ref, checks_ref, res_ref = kaczmarz_reference(K, b, rows, z0, 40, target_sq)
    np.testing.assert_allclose(z, z_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r, K @ z_ref - b, rtol=1e-10, atol=1e-12)
    assert (steps, checks) == (steps_ref, checks_ref)
    np.testing.assert_allclose(res_sq, res_ref, rtol=1e-10)
    assert touched == sum(np.diff(csr.indptr)[rows[:steps]])
    if target_sq:
        assert steps < len(rows)


@pytest.mark.parametrize("sketch", ["kaczmarz", "gaussian", "block", "count"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("seed", [0, 1])
def test_sketch_solver_matches_linalg_solve(sketch, sparse, seed):
    K, b = random_kkt(8, 3, seed, sparse=sparse)
    Kd = K.toarray() if sparse else K
    solver = SketchSolver(K, sketch, np.random.default_rng(seed), sketch_size=4)
    z, res = solver.run(b, target=1e-10 * np.linalg.norm(b), max_iter=200_000)
    np.testing.assert_allclose(z, np.linalg.solve(Kd, b), rtol=1e-7, atol=1e-8)
    assert res <= 1e-10 * np.linalg.norm(b)
    assert solver.n_iter > 0 and solver.flops > 0


def test_sketch_solver_is_resumable_and_reproducible():
    K, b = random_kkt(10, 4, 3)
    a = SketchSolver(K, "kaczmarz", np.random.default_rng(5))
    _, r1 = a.run(b, target=1e-2 * np.linalg.norm(b), max_iter=100_000)
    n1 = a.n_iter
    z2, r2 = a.run(b, target=1e-8 * np.linalg.norm(b), max_iter=100_000)
    assert r2 < r1 and a.n_iter > n1
    c = SketchSolver(K, "kaczmarz", np.random.default_rng(5))
    c.run(b, target=1e-2 * np.linalg.norm(b), max_iter=100_000)
    zc, _ = c.run(b, target=1e-8 * np.linalg.norm(b), max_iter=100_000)
    np.testing.assert_array_equal(z2, zc)


def test_sketch_solver_rejects_unknown_sketch():
    with pytest.raises(ValueError, match="sketch"):
        SketchSolver(np.eye(2), "hadamard", np.random.default_rng(0))


def badly_conditioned_kkt(n, m, seed):
    """A KKT matrix whose Hessian block spans eight decades: Kaczmarz contracts by about
    1 - 1e-16 per step, far too slowly for any budget."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    B = Q @ np.diag(np.logspace(0, -8, n)) @ Q.T
    G = rng.standard_normal((m, n))
    K = np.block([[B, G.T], [G, np.zeros((m, m))]])
    return K, rng.standard_normal(n + m)


@pytest.mark.parametrize("sketch", ["kaczmarz", "block"])
def test_give_up_stops_a_hopeless_run_early(sketch):
    K, b = badly_conditioned_kkt(30, 5, 0)
    target = 1e-10 * np.linalg.norm(b)
    budget = 100_000 if sketch == "kaczmarz" else 2_000  # block steps cost a Python call
    full = SketchSolver(K, sketch, np.random.default_rng(0), sketch_size=4)
    _, res_full = full.run(b, target, budget)
    quit_ = SketchSolver(K, sketch, np.random.default_rng(0), sketch_size=4)
    _, res_quit = quit_.run(b, target, budget, give_up=True)
    assert res_full > target and full.n_iter == budget  # the budget cannot reach the target
    assert res_quit > target and quit_.n_iter < budget / 10


@pytest.mark.parametrize("sketch", ["kaczmarz", "gaussian", "block", "count"])
@pytest.mark.parametrize("seed", [0, 1])
def test_give_up_keeps_a_converging_run(sketch, seed):
    K, b = random_kkt(8, 3, seed)
    target = 1e-10 * np.linalg.norm(b)
    solver = SketchSolver(K, sketch, np.random.default_rng(seed), sketch_size=4)
    z, res = solver.run(b, target, 200_000, give_up=True)
    assert res <= target
    np.testing.assert_allclose(z, np.linalg.solve(K, b), rtol=1e-7, atol=1e-8)
