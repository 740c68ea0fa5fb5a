"""The supernodal multifrontal LDLᵀ (kernels and backend) against dense references: the
elimination tree, column counts and pendant removal against their definitions on dense
factors, the factor's solves and inertia against numpy on random quasi-definite and
indefinite matrices (its use in ``minimize``: ``test_ldl.py``)."""

import numpy as np
import pytest
import scipy.sparse as sp

import optsolve.constrained._ldl as ldl
from optsolve.constrained import _ldl_kernels as kern
from optsolve.constrained._supernodal import SupernodalLDL
from optsolve.problems import get_problem


def _random_symmetric(N, density, seed, *, quasi_definite=False, n_primal=None):
    """Symmetric sparse matrix with a dominant diagonal (positive definite), or quasi-definite
    ``[[H, Aᵀ], [A, −G]]`` with ``H, G ≻ 0``."""
    rng = np.random.default_rng(seed)
    S = sp.random(N, N, density=density, random_state=seed, format="csr")
    S = S + S.T
    if not quasi_definite:
        return (S + sp.diags(np.asarray(abs(S).sum(axis=1)).ravel() + 1.0)).tocsc()
    n = n_primal
    H = S[:n, :n] + sp.diags(np.asarray(abs(S[:n, :n]).sum(axis=1)).ravel() + 1.0)
    A = sp.random(N - n, n, density=min(1.0, 4.0 / n), random_state=seed + 1)
    A = A + sp.eye(N - n, n)
    G = sp.diags(rng.uniform(1e-3, 1.0, N - n))
    return sp.bmat([[H, A.T], [A, -G]], format="csc")


def _dense_ldl(A):
    """Unpivoted dense LDLᵀ (the reference)."""
    A = np.array(A, dtype=float)
    N = A.shape[0]
    L = np.eye(N)
    d = np.zeros(N)
    for j in range(N):
        d[j] = A[j, j] - (L[j, :j] ** 2) @ d[:j]
        for i in range(j + 1, N):
            L[i, j] = (A[i, j] - (L[i, :j] * L[j, :j]) @ d[:j]) / d[j]
    return L, d


def _etree_reference(A):
    """``parent[j]`` = first off-diagonal row of column ``j`` of the symbolic Cholesky factor
    (the pattern of a dense factor of ``A`` with its entries made positive definite)."""
    P = (np.abs(A.toarray()) > 0).astype(float)
    M = P + np.diag(P.sum(axis=1) + 1.0)  # same pattern, positive definite: no cancellation
    L = np.linalg.cholesky(M)
    N = A.shape[0]
    parent = np.full(N, -1)
    counts = np.zeros(N, dtype=int)
    for j in range(N):
        below = np.flatnonzero(np.abs(L[j + 1:, j]) > 1e-300) + j + 1
        counts[j] = below.size + 1
        if below.size:
            parent[j] = below[0]
    return parent, counts


@pytest.mark.parametrize("N, density, seed", [(30, 0.08, 0), (60, 0.04, 1), (80, 0.02, 2)])
def test_etree_and_column_counts_match_the_dense_factor(N, density, seed):
    A = _random_symmetric(N, density, seed)
    A.sort_indices()
    parent = kern.etree(A.indptr.astype(np.int64), A.indices.astype(np.int64))
    counts = kern.column_counts(A.indptr.astype(np.int64), A.indices.astype(np.int64), parent)
    ref_parent, ref_counts = _etree_reference(A)
    np.testing.assert_array_equal(parent, ref_parent)
    np.testing.assert_array_equal(counts, ref_counts)


def test_postorder_visits_children_before_parents_and_subtrees_contiguously():
    parent = np.array([4, 2, 4, -1, -1, 3, 3, 5], dtype=np.int64)
    post = kern.postorder(parent)
    assert sorted(post.tolist()) == list(range(8))
    pos = np.empty(8, int)
    pos[post] = np.arange(8)
    for j, p in enumerate(parent):
        if p != -1:
            assert pos[j] < pos[p]
    # every subtree occupies consecutive positions
    for root in range(8):
        members = [j for j in range(8) if _is_descendant(parent, j, root)]
        span = sorted(pos[members])
        assert span == list(range(span[0], span[0] + len(span)))


def _is_descendant(parent, j, root):
    while j != -1:
        if j == root:
            return True
        j = parent[j]
    return False


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["definite", "quasi-definite", "indefinite"])
def test_factor_matches_dense_ldl_solve_and_inertia(seed, kind):
    N, n = 120, 80
    if kind == "definite":
        A = _random_symmetric(N, 0.05, seed)
    else:
        A = _random_symmetric(N, 0.05, seed, quasi_definite=True, n_primal=n)
        if kind == "indefinite":  # a few negative curvature directions in H
            D = np.zeros(N)
            D[:5] = -2.0 * (np.abs(A.diagonal()[:5]) + 1.0)
            A = (A + sp.diags(D)).tocsc()
    perm = np.random.default_rng(seed).permutation(N)
    F = SupernodalLDL(A, perm=perm)
    # pivots: those of the dense unpivoted LDLᵀ of the same permuted matrix
    Ap = A.toarray()[F.perm][:, F.perm]
    _, d_ref = _dense_ldl(Ap)
    np.testing.assert_allclose(F.d, d_ref, rtol=1e-8, atol=1e-12)
    # inertia (Sylvester) against the eigenvalues
    ev = np.linalg.eigvalsh(A.toarray())
    assert (int(np.sum(F.d > 0)), int(np.sum(F.d < 0))) == (int(np.sum(ev > 0)),
                                                            int(np.sum(ev < 0)))
    b = np.random.default_rng(seed + 10).standard_normal(N)
    np.testing.assert_allclose(F.solve(b), np.linalg.solve(A.toarray(), b), rtol=1e-8,
                               atol=1e-10)


def test_large_fronts_use_the_blocked_path():
    # a 2-D grid Laplacian (plus shift) in its natural order has fronts of ~N rows, so the
    # BLAS panels (PANEL columns, ROW_BLOCK rows) and the matrix-vector solves all run
    N = 140
    T = sp.diags([-1.0, 4.5, -1.0], [-1, 0, 1], shape=(N, N))
    I1 = sp.diags([-1.0, -1.0], [-1, 1], shape=(N, N))
    A = (sp.kron(sp.eye(N), T) + sp.kron(I1, sp.eye(N))).tocsc()
    F = SupernodalLDL(A, perm=np.arange(N * N))
    _, ncols, rowptr, _, _ = F._sym
    assert np.max(ncols) > kern.PANEL and np.max(np.diff(rowptr)) > kern.ROW_BLOCK
    b = np.random.default_rng(0).standard_normal(N * N)
    x = F.solve(b)
    assert np.max(np.abs(A @ x - b)) <= 1e-12 * np.max(np.abs(b))
    assert np.all(F.d > 0)


def test_zero_pivot_raises():
    A = sp.csc_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="zero pivot"):
        SupernodalLDL(A, perm=np.arange(2))


def test_peel_pendants_removes_trees_and_keeps_the_2_core():
    # a 4-cycle 0-1-2-3 with a path 3-4-5 and a pendant 6 at 0
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (3, 4), (4, 5), (0, 6)]
    r, c = zip(*edges, strict=True)
    A = sp.coo_matrix((np.ones(7), (r, c)), shape=(7, 7))
    A = (A + A.T + sp.eye(7)).tocsr()
    order, removed = kern.peel_pendants(A.indptr.astype(np.int64), A.indices.astype(np.int64))
    assert set(order.tolist()) == {4, 5, 6}
    assert order.tolist().index(5) < order.tolist().index(4)  # from the leaf inwards
    np.testing.assert_array_equal(np.flatnonzero(~removed), [0, 1, 2, 3])


def test_match_dual_rows_pairs_each_row_with_its_largest_free_variable():
    # rows 3, 4 (constraints) over variables 0..2
    K = sp.csr_matrix(np.array([[1, 0, 0, 2, 0], [0, 1, 0, 5, 1], [0, 0, 1, 0, 3],
                                [2, 5, 0, 0, 0], [0, 1, 3, 0, 0]], dtype=float))
    mate = kern.match_dual_rows(K.indptr.astype(np.int64), K.indices.astype(np.int64),
                                K.data, 3)
    np.testing.assert_array_equal(mate, [-1, 3, 4, 1, 2])


def _poisson_kkt(N, seed=0):
    p = get_problem("POISSON_CONTROL", N=N, control_bounds=(0.0, 10.0), target="sine")
    x = np.clip(p.x0, p.bl, p.bu)
    rng = np.random.default_rng(seed)
    x[p.m:] = np.where(rng.random(p.n - p.m) < 0.3, 0.0, 1.0)
    on = np.flatnonzero((x <= p.bl + 1e-8) | (x >= p.bu - 1e-8))
    E = sp.csr_matrix((np.ones(on.size), (np.arange(on.size), on)), shape=(on.size, p.n))
    G = sp.vstack([sp.csr_matrix(p.jac(x)), E], format="csr")
    B = sp.csr_matrix(p.hess(x, np.zeros(p.m)))
    return sp.bmat([[B, G.T], [G, None]], format="csr"), p.n


@pytest.fixture
def supernodal_everywhere(monkeypatch):
    pytest.importorskip("pymetis")
    monkeypatch.setattr(ldl, "SUPERNODAL_MIN_ROWS", 0)


def test_backend_solves_kkt_and_reuses_its_ordering(supernodal_everywhere):
    K, n = _poisson_kkt(12)
    cache = ldl.FactorCache()
    f1 = ldl.ldl_factor(K, n, cache)
    assert f1.backend == "supernodal"
    b = np.random.default_rng(1).standard_normal(K.shape[0])
    z = f1.solve(b)
    ref = sp.linalg.spsolve(K.tocsc(), b)
    np.testing.assert_allclose(z, ref, rtol=1e-8, atol=1e-10 * np.max(np.abs(ref)))
    # another active set of the same problem: the 2-core is the same, METIS is not rerun
    K2, _ = _poisson_kkt(12, seed=5)
    f2 = ldl.ldl_factor(K2, n, cache)
    assert cache.orderings == 1 and f2.backend == "supernodal"
    assert K2.shape != K.shape
    b2 = np.random.default_rng(2).standard_normal(K2.shape[0])
    z2 = f2.solve(b2)
    np.testing.assert_allclose(K2 @ z2, b2, atol=1e-9 * np.max(np.abs(b2)))
    # the inertia of the regularized matrix: n positive, the constraint rows negative
    assert ldl.ldl_inertia(K2, n, cache) == (n, K2.shape[0] - n, 0)


def test_backend_inertia_of_an_indefinite_hessian(supernodal_everywhere):
    rng = np.random.default_rng(3)
    n, m = 60, 20
    diag = rng.uniform(0.5, 2.0, n)
    diag[:7] *= -1.0
    G = sp.random(m, n, density=0.1, random_state=3) + sp.eye(m, n)
    K = sp.bmat([[sp.diags(diag), G.T], [G, None]], format="csr")
    pos, neg, _ = ldl.ldl_inertia(K, n)
    # of the matrix the backend factorizes: equilibrated, constraint block −δI
    A, _ = ldl._equilibrate(K)
    A = A.toarray() - np.diag(np.r_[np.zeros(n), np.full(m, ldl.DUAL_REG)])
    ev = np.linalg.eigvalsh(A)
    assert (pos, neg) == (int(np.sum(ev > 0)), int(np.sum(ev < 0)))


@pytest.mark.parametrize("seed", [0, 3])
def test_supernode_rows_cover_the_dense_factor_pattern(seed):
    # every supernode's rows hold the structure of each of its columns of L (a superset:
    # relaxed amalgamation stores explicit zeros), and the stack holds every update matrix
    A = _random_symmetric(90, 0.04, seed)
    A.sort_indices()
    post = kern.postorder(kern.etree(A.indptr.astype(np.int64), A.indices.astype(np.int64)))
    A = A[post][:, post].tocsc()
    A.sort_indices()
    Ap, Ai = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    parent = kern.etree(Ap, Ai)
    counts = kern.column_counts(Ap, Ai, parent)
    first, ncols, nrows = kern.supernodes(parent, counts)
    assert np.sum(ncols) == 90 and np.all(first[1:] == first[:-1] + ncols[:-1])
    rowptr, rowind, sparent, ok = kern.supernode_structure(Ap, Ai, parent, first, ncols, nrows)
    assert ok
    L, _ = _dense_ldl(A.toarray() + np.diag(np.full(90, 100.0)))  # same pattern, no cancels
    for s in range(first.size):
        rows = set(rowind[rowptr[s]:rowptr[s + 1]].tolist())
        for j in range(first[s], first[s] + ncols[s]):
            assert set((np.flatnonzero(np.abs(L[j:, j]) > 0) + j).tolist()) <= rows
    u = nrows - ncols
    assert kern.stack_peak(ncols, nrows, sparent) >= np.max(u * u)


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_compiled_ruiz_equilibration_matches_numpy(scale):
    K, _ = _poisson_kkt(10)
    K = K.tocsr()
    K.data *= np.where(np.arange(K.nnz) % 3 == 0, scale, 1.0)  # a wider spread of magnitudes
    K = (K + K.T).tocsr()
    A_ref, d_ref = ldl._equilibrate(K)
    A, d = ldl._equilibrate(K, compiled=True)
    np.testing.assert_allclose(d, d_ref, rtol=1e-14)
    np.testing.assert_allclose(A.toarray(), A_ref.toarray(), rtol=1e-14, atol=0)
