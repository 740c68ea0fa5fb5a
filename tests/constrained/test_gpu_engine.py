"""The array-module generic block sketch-and-project engine (``_gpu.py``) run with numpy: its
numpy reference kernels against brute-force loops, the iteration against exact projections and
np.linalg.solve, and the sketch application against dense products."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.constrained import apply_sketch, block_kaczmarz_solve, minimize_eq
from optsolve.constrained._gpu import (
    BlockKaczmarz,
    _np_block_gram_apply,
    _np_block_residual,
    _np_block_scatter,
    _np_block_step,
)


def random_kkt(n, m, seed):
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((n, n))
    B = R @ R.T / n + np.eye(n)
    G = rng.standard_normal((m, n))
    K = np.block([[B, G.T], [G, np.zeros((m, m))]])
    return K, rng.standard_normal(n + m)


def random_csr(n_rows, n_cols, seed, dtype=np.float64):
    A = sp.random(n_rows, n_cols, density=0.3, random_state=seed, format="csr", dtype=dtype)
    A = A.tolil()
    A[1, :] = 0  # an empty row
    return A.tocsr()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_kernels_match_loops(dtype):
    rng = np.random.default_rng(0)
    A = random_csr(12, 9, 1, dtype)
    indptr = A.indptr.astype(np.int64)
    rows = np.array([3, 1, 7, 3, 0, 11], dtype=np.int64)
    z = rng.standard_normal(9).astype(dtype)
    rhs = rng.standard_normal(12).astype(dtype)
    Ad = A.toarray()
    out = _np_block_residual(indptr, A.indices, A.data, z, rhs, rows)
    expect = [sum(Ad[i, c] * z[c] for c in range(9)) - rhs[i] for i in rows]
    np.testing.assert_allclose(out, expect, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6)
    y = rng.standard_normal(len(rows)).astype(dtype)
    u = np.ones(9, dtype=dtype)
    _np_block_scatter(indptr, A.indices, A.data, rows, y, u)
    expect_u = np.ones(9)
    for t, i in enumerate(rows):
        for c in range(9):
            expect_u[c] += y[t] * Ad[i, c]
    np.testing.assert_allclose(u, expect_u, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6)
    z1 = np.ones(9, dtype=dtype)
    _np_block_step(np.asarray(dtype(3.0)), np.asarray(dtype(2.0)), u, z1)
    np.testing.assert_allclose(z1, 1.0 - 1.5 * u, rtol=1e-6)
    _np_block_step(np.asarray(dtype(3.0)), np.asarray(dtype(0.0)), u, z1)  # u = 0: no step
    np.testing.assert_allclose(z1, 1.0 - 1.5 * u, rtol=1e-6)
    q = 3
    ginv = rng.standard_normal((4, q, q)).astype(dtype)
    blocks = np.array([2, 0], dtype=np.int64)
    s = rng.standard_normal(2 * q).astype(dtype)
    yb = _np_block_gram_apply(ginv, blocks, s, q)
    expect_y = [sum(ginv[blocks[j], a, c] * s[j * q + c] for c in range(q))
                for j in range(2) for a in range(q)]
    np.testing.assert_allclose(yb, expect_y, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6)


def test_one_block_step_is_the_exact_projection():
    K, b = random_kkt(8, 3, 0)
    solver = BlockKaczmarz(sp.csr_matrix(K), block_size=4, blocks_per_iter=1, seed=3)
    z0 = np.random.default_rng(1).standard_normal(11)
    solver.z = z0.copy()
    solver.step(solver.permuted_rhs(b))
    block = int(solver._order[0])
    perm = np.asarray(solver._perm)
    rows = [perm[i] for i in range(block * 4, min(11, block * 4 + 4))]
    KJ = K[rows]
    expect = z0 - np.linalg.pinv(KJ) @ (KJ @ z0 - b[rows])
    np.testing.assert_allclose(solver.z, expect, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("block_size,blocks_per_iter", [(1, 1), (3, 2), (4, None), (11, 1)])
@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_solution_matches_linalg_solve(block_size, blocks_per_iter, sparse):
    K, b = random_kkt(8, 3, 2)
    res = block_kaczmarz_solve(sp.csr_matrix(K) if sparse else K, b, rtol=1e-11,
                               block_size=block_size, blocks_per_iter=blocks_per_iter, seed=0,
                               max_iter=200_000)
    assert res.success and res.status == 0
    np.testing.assert_allclose(res.x, np.linalg.solve(K, b), rtol=1e-8, atol=1e-8)
    assert res.residual <= 1e-11 * np.linalg.norm(b)
    assert isinstance(res.x, np.ndarray)


def test_error_decreases_monotonically_and_runs_reproduce():
    K, b = random_kkt(20, 8, 4)
    z_star = np.linalg.solve(K, b)
    runs = []
    for _ in range(2):
        solver = BlockKaczmarz(sp.csr_matrix(K), block_size=3, blocks_per_iter=4, seed=7)
        rhs = solver.permuted_rhs(b)
        errors = []
        for _ in range(60):
            solver.step(rhs)
            errors.append(np.linalg.norm(solver.z - z_star))
        runs.append(solver.z.copy())
        assert np.all(np.diff(errors) <= 1e-12 * errors[0])
    np.testing.assert_array_equal(runs[0], runs[1])


def test_zero_rows_are_skipped():
    K, b = random_kkt(8, 3, 6)
    K = np.vstack([K, np.zeros((1, 11))])  # an inconsistent zero row: K z = 1 never holds
    K = np.hstack([K, np.zeros((12, 1))])
    K[11, 11] = 0.0
    b = np.r_[b, 1.0]
    with pytest.warns(Warning, match="maximum number of iterations"):
        res = block_kaczmarz_solve(sp.csr_matrix(K), b, rtol=1e-12, block_size=4, seed=0,
                                   max_iter=20_000)
    np.testing.assert_allclose(res.x[:11], np.linalg.solve(K[:11, :11], b[:11]), rtol=1e-8,
                               atol=1e-8)
    np.testing.assert_allclose(res.residual, 1.0, rtol=1e-8)


def test_budget_exhausted_warns():
    K, b = random_kkt(8, 3, 5)
    with pytest.warns(Warning, match="maximum number of iterations"):
        res = block_kaczmarz_solve(sp.csr_matrix(K), b, rtol=1e-14, max_iter=3, check_every=1,
                                   block_size=2, blocks_per_iter=1, seed=0)
    assert not res.success and res.status == 1 and res.nit == 3 and res.n_checks == 4


@pytest.mark.parametrize("kwargs,match", [
    ({"rtol": 0.0}, "rtol"), ({"block_size": 0}, "block_size"),
    ({"check_every": 0}, "check_every"),
])
def test_bad_arguments_are_named(kwargs, match):
    K, b = random_kkt(4, 2, 0)
    with pytest.raises(ValueError, match=match):
        block_kaczmarz_solve(sp.csr_matrix(K), b, **kwargs)
    with pytest.raises(ValueError, match="b must"):
        block_kaczmarz_solve(sp.csr_matrix(K), b[:-1])
    with pytest.raises(ValueError, match="K must"):
        block_kaczmarz_solve(sp.csr_matrix(K[:-1]), b[:-1])


@pytest.mark.parametrize("kind", ["gaussian", "count", "sparse_sign"])
@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_apply_sketch_is_the_product(kind, sparse):
    K, _ = random_kkt(9, 4, 6)
    W, S = apply_sketch(sp.csr_matrix(K) if sparse else K, kind, 5, seed=1)
    Wd = W.toarray() if sp.issparse(W) else np.asarray(W)
    Sd = np.asarray(S) if kind == "gaussian" else S.toarray().T
    assert Wd.shape == (5, 13)
    np.testing.assert_allclose(Wd, Sd.T @ K, rtol=1e-12, atol=1e-12)
    if kind == "count":  # one ±1 per row of S
        np.testing.assert_array_equal(np.abs(Sd).sum(axis=1), np.ones(13))
    W2, _ = apply_sketch(sp.csr_matrix(K), kind, 5, seed=1, symmetric=True)
    np.testing.assert_allclose(W2.toarray() if sp.issparse(W2) else W2, Wd, atol=1e-12)
    W3, _ = apply_sketch(K, kind, 5, sketch=S)  # the same sketch applied again
    np.testing.assert_allclose(W3.toarray() if sp.issparse(W3) else W3, Wd, atol=1e-12)
    with pytest.raises(ValueError, match="kind"):
        apply_sketch(K, "srht", 5)


@pytest.mark.parametrize("name", ["HS7", "HS39", "BT2"])
def test_newton_with_averaged_block_inner_solver(make_problem, name):
    problem = make_problem(name)
    res = minimize_eq(problem, random_state=0,
                      options={"inner": "averaged-block", "sketch_size": 2})
    assert res.success and res.n_inner > 0
    np.testing.assert_allclose(res.x, problem.x_opt, atol=1e-5)


def test_newton_inner_options_are_checked(make_problem):
    with pytest.raises(ValueError, match="inner_device"):
        minimize_eq(make_problem("HS7"), options={"inner": "averaged-block",
                                                  "inner_device": "tpu"})
    with pytest.raises(ValueError, match="options\\['inner'\\]"):
        minimize_eq(make_problem("HS7"), options={"inner": "blocks"})
