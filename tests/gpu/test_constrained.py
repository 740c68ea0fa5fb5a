"""Sketched Newton inner solver on a GPU: every CUDA kernel of csrc/constrained_block_kaczmarz.cu
against its numpy reference, the block sketch-and-project iteration and the sketch application
CuPy vs numpy (same seed, same rows), cupy in -> cupy out, and the host-transfer bound."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from optsolve._backend import host_transfers
from optsolve.constrained import apply_sketch, block_kaczmarz_solve
from optsolve.constrained._gpu import (
    BlockKaczmarz,
    _CupyOps,
    _np_block_gram_apply,
    _np_block_residual,
    _np_block_scatter,
    _np_block_step,
)

TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-4)}


@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy")


@pytest.fixture(scope="module")
def cpsp(cp):
    import cupyx.scipy.sparse as cpsp

    return cpsp


def random_csr(n_rows, n_cols, density, seed, dtype):
    A = sp.random(n_rows, n_cols, density=density, random_state=seed, format="csr",
                  dtype=np.float64)
    A.data = np.random.default_rng(seed).standard_normal(A.nnz)
    A = A.astype(dtype)
    A.sort_indices()
    return A


def sparse_kkt(n, m, seed):
    """Random sparse KKT ``[[D + 0.1 (R + Rᵀ), Gᵀ], [G, 0]]`` with G = [I | random]."""
    rng = np.random.default_rng(seed)
    R = sp.random(n, n, density=3.0 / n, random_state=seed, format="csr")
    B = sp.diags(1.0 + rng.random(n)) + 0.1 * (R + R.T)
    G = sp.hstack([sp.identity(m), sp.random(m, n - m, density=3.0 / n, random_state=seed + 1)])
    K = sp.bmat([[B, G.T], [G, None]], format="csr")
    return K, rng.standard_normal(n + m)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows,density", [(1, 0.5), (3000, 0.002), (20000, 0.0005)])
def test_kernels_match_numpy_references(cp, dtype, n_rows, density):
    rng = np.random.default_rng(n_rows)
    n_cols = max(8, n_rows // 2)
    A = random_csr(n_rows, n_cols, density, n_rows, dtype)
    A.data[: A.nnz // 3] *= 40.0  # a long tail of magnitudes
    indptr = A.indptr.astype(np.int64)
    indices = A.indices.astype(np.int32)
    rows = rng.integers(0, n_rows, size=max(1, n_rows // 3)).astype(np.int64)
    z = rng.standard_normal(n_cols).astype(dtype)
    rhs = rng.standard_normal(n_rows).astype(dtype)
    d = {k: cp.asarray(v) for k, v in dict(indptr=indptr, indices=indices, data=A.data, z=z,
                                             rhs=rhs, rows=rows).items()}
    out = _CupyOps.residual(d["indptr"], d["indices"], d["data"], d["z"], d["rhs"], d["rows"])
    ref = _np_block_residual(indptr, indices, A.data, z, rhs, rows)
    assert out.dtype == dtype
    np.testing.assert_allclose(cp.asnumpy(out), ref, **TOL[dtype])

    y = rng.standard_normal(rows.shape[0]).astype(dtype)
    u0 = rng.standard_normal(n_cols).astype(dtype)
    u_dev = cp.asarray(u0)
    _CupyOps.scatter(d["indptr"], d["indices"], d["data"], d["rows"], cp.asarray(y), u_dev)
    u_ref = u0.copy()
    _np_block_scatter(indptr, indices, A.data, rows, y, u_ref)
    np.testing.assert_allclose(cp.asnumpy(u_dev), u_ref, **TOL[dtype])

    for den in (2.5, 0.0):  # no step when u = 0
        z_dev = cp.asarray(u0)
        _CupyOps.step(cp.asarray(dtype(1.5)), cp.asarray(dtype(den)), cp.asarray(z), z_dev)
        z_ref = u0.copy()
        _np_block_step(np.asarray(dtype(1.5)), np.asarray(dtype(den)), z, z_ref)
        np.testing.assert_allclose(cp.asnumpy(z_dev), z_ref, **TOL[dtype])

    q = 7
    ginv = rng.standard_normal((50, q, q)).astype(dtype)
    blocks = rng.integers(0, 50, size=max(1, n_rows // 100)).astype(np.int64)
    s = rng.standard_normal(blocks.shape[0] * q).astype(dtype)
    yb = _CupyOps.gram_apply(cp.asarray(ginv), cp.asarray(blocks), cp.asarray(s), q)
    np.testing.assert_allclose(cp.asnumpy(yb), _np_block_gram_apply(ginv, blocks, s, q),
                               **TOL[dtype])


@pytest.mark.parametrize("block_size,blocks_per_iter", [(1, 64), (16, None), (8, 1)])
def test_iterates_match_the_numpy_engine(cp, cpsp, block_size, blocks_per_iter):
    K, b = sparse_kkt(3000, 1500, 0)
    engines = [BlockKaczmarz(M, block_size=block_size, blocks_per_iter=blocks_per_iter, seed=4)
               for M in (K, cpsp.csr_matrix(K))]
    np.testing.assert_allclose(cp.asnumpy(engines[1].ginv), engines[0].ginv, rtol=1e-10,
                               atol=1e-10 * np.abs(engines[0].ginv).max())
    rhs = [engines[0].permuted_rhs(b), engines[1].permuted_rhs(cp.asarray(b))]
    for _ in range(40):
        for e, r in zip(engines, rhs, strict=True):
            e.step(r)
    z_cpu, z_gpu = engines[0].z, cp.asnumpy(engines[1].z)
    np.testing.assert_allclose(z_gpu, z_cpu, rtol=1e-10, atol=1e-10 * np.abs(z_cpu).max())


def test_solve_cupy_in_cupy_out_with_bounded_transfers(cp, cpsp):
    K, b = sparse_kkt(20000, 10000, 1)
    kw = dict(rtol=0.3, block_size=16, check_every=5, seed=2, max_iter=5000)
    res_cpu = block_kaczmarz_solve(K, b, **kw)
    with host_transfers() as t:
        res_gpu = block_kaczmarz_solve(cpsp.csr_matrix(K), cp.asarray(b), **kw)
    assert isinstance(res_gpu.x, cp.ndarray) and isinstance(res_cpu.x, np.ndarray)
    assert res_gpu.success and res_cpu.success
    assert res_gpu.nit == res_cpu.nit and res_gpu.n_checks == res_cpu.n_checks
    np.testing.assert_allclose(cp.asnumpy(res_gpu.x), res_cpu.x, rtol=1e-8,
                               atol=1e-8 * np.abs(res_cpu.x).max())
    # one per residual check, plus the finiteness and the norm of b
    assert t.count <= res_gpu.n_checks + 2, t


def test_solve_reaches_linalg_solve_accuracy(cp, cpsp):
    K, b = sparse_kkt(400, 150, 3)
    res = block_kaczmarz_solve(cpsp.csr_matrix(K), cp.asarray(b), rtol=1e-10, block_size=8,
                               seed=0, max_iter=200_000, check_every=50)
    assert res.success
    np.testing.assert_allclose(cp.asnumpy(res.x), spsolve(K.tocsc(), b), rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["gaussian", "count", "sparse_sign"])
def test_apply_sketch_matches_numpy(cp, cpsp, kind, dtype):
    K, _ = sparse_kkt(4000, 2000, 5)
    K = K.astype(dtype)
    W_cpu, _ = apply_sketch(K, kind, 24, seed=9, symmetric=True)
    W_gpu, _ = apply_sketch(cpsp.csr_matrix(K), kind, 24, seed=9, symmetric=True)
    got = cp.asnumpy(W_gpu.toarray() if hasattr(W_gpu, "toarray") else W_gpu)
    expect = W_cpu.toarray() if sp.issparse(W_cpu) else np.asarray(W_cpu)
    assert got.shape == expect.shape == (24, 6000)
    scale = np.abs(expect).max()
    tol = TOL[dtype]
    np.testing.assert_allclose(got, expect, rtol=tol["rtol"], atol=tol["rtol"] * 10 * scale)


@pytest.mark.parametrize("name,kwargs", [("HS39", {}), ("BT2", {}), ("POISSON_CONTROL", {"N": 12})])
def test_newton_inner_solve_on_the_gpu_matches_the_host(cp, name, kwargs):
    from optsolve.constrained import minimize_eq
    from optsolve.problems import get_problem

    results = []
    for device in ("cpu", "gpu"):
        opts = {"inner": "averaged-block", "inner_device": device, "sketch_size": 2}
        with host_transfers() as t:
            results.append(minimize_eq(get_problem(name, **kwargs), random_state=0,
                                       options=opts))
    cpu, gpu = results
    assert gpu.success == cpu.success and gpu.nit == cpu.nit
    assert isinstance(gpu.x, np.ndarray)
    np.testing.assert_allclose(gpu.x, cpu.x, rtol=1e-7, atol=1e-9)
    # per Newton system: the step comes back once, plus one scalar per residual check
    assert t.count <= gpu.n_inner // 10 + 3 * (gpu.nit + 1) * 4, t
