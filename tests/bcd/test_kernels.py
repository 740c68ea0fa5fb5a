"""Every numba kernel of optsolve.bcd against a plain numpy reference."""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.bcd import LeastSquares, Logistic, Multinomial
from optsolve.bcd import _kernels as K
from optsolve.bcd import _quadratic as Q
from optsolve.bcd import _working_set_kernels as WK
from optsolve.bcd import penalties as P
from optsolve.bcd import rules as R

PENS = [P.PEN_NONE, P.PEN_L1, P.PEN_L2, P.PEN_POS, P.PEN_L1_POS]


def np_pen(pen, alpha, w):
    if pen == P.PEN_L1:
        return alpha * abs(w)
    if pen == P.PEN_L2:
        return 0.5 * alpha * w * w
    if pen in (P.PEN_POS, P.PEN_L1_POS):
        return (alpha * w if pen == P.PEN_L1_POS else 0.0) if w >= 0 else np.inf
    return 0.0


def np_prox(pen, alpha, u, step):
    grid = np.linspace(u - 5, u + 5, 200001)
    vals = 0.5 * (grid - u) ** 2 + step * np.array([np_pen(pen, alpha, g) for g in grid])
    return grid[np.argmin(vals)]


@pytest.mark.parametrize("pen", PENS)
def test_prox_and_penalty_scalar(pen):
    rng = np.random.default_rng(pen)
    for _ in range(5):
        u, alpha, step = rng.normal(), rng.uniform(0.1, 1), rng.uniform(0.2, 2)
        assert P.prox_scalar(pen, alpha, u, step) == pytest.approx(np_prox(pen, alpha, u, step),
                                                                   abs=1e-4)
        w = rng.normal()
        assert P.pen_scalar(pen, alpha, w) == np_pen(pen, alpha, w)


@pytest.mark.parametrize("pen", PENS)
def test_min_norm_subgrad_and_scores(pen):
    rng = np.random.default_rng(10 + pen)
    for w in (0.0, 0.7, -0.4):
        g, alpha, lip = rng.normal(), 0.3, rng.uniform(0.5, 2)
        if pen in (P.PEN_POS, P.PEN_L1_POS) and w < 0:
            continue
        # reference: distance from 0 to g + ∂pen(w), computed on a fine grid of subgradients
        if pen == P.PEN_L1:
            sub = [alpha * np.sign(w)] if w else np.linspace(-alpha, alpha, 20001)
        elif pen == P.PEN_L2:
            sub = [alpha * w]
        elif pen in (P.PEN_POS, P.PEN_L1_POS):
            a = alpha if pen == P.PEN_L1_POS else 0.0
            sub = [a] if w > 0 else a - np.linspace(0, 50, 200001)
        else:
            sub = [0.0]
        cand = g + np.asarray(sub)
        ref = cand[np.argmin(np.abs(cand))]
        assert P.min_norm_subgrad(pen, alpha, g, w) == pytest.approx(ref, abs=1e-3)
        s = P.min_norm_subgrad(pen, alpha, g, w)
        assert R.coord_score(R.RULE_GS, pen, alpha, g, w, lip) == pytest.approx(s * s)
        assert R.coord_score(R.RULE_GSL, pen, alpha, g, w, lip) == pytest.approx(s * s / lip)
        # GS-q: decrease of the prox-linear model, by brute force over d
        d = np.union1d(np.linspace(-6, 6, 24001), [-w])
        model = g * d + 0.5 * lip * d * d + np.array([np_pen(pen, alpha, w + t) for t in d])
        dec = np_pen(pen, alpha, w) - model.min()
        assert R.coord_score(R.RULE_GSQ, pen, alpha, g, w, lip) == pytest.approx(dec, abs=1e-5)


@pytest.mark.parametrize("loss", [K.LOSS_LS, K.LOSS_LOGISTIC, K.LOSS_MULTINOMIAL])
def test_losses_and_derivatives(loss):
    rng = np.random.default_rng(1)
    n, k = 30, (3 if loss == K.LOSS_MULTINOMIAL else 1)
    z = rng.standard_normal(n * k) * 3
    y = {K.LOSS_LS: rng.standard_normal(n), K.LOSS_LOGISTIC: np.sign(rng.standard_normal(n)),
         K.LOSS_MULTINOMIAL: rng.integers(0, 3, n).astype(float)}[loss]
    Z = z.reshape(n, k)
    if loss == K.LOSS_LS:
        ref = 0.5 * (z - y) ** 2
        dref = z - y
    elif loss == K.LOSS_LOGISTIC:
        ref = np.logaddexp(0, -y * z)
        dref = -y / (1 + np.exp(y * z))
    else:
        lse = np.log(np.exp(Z).sum(1))
        ref = lse - Z[np.arange(n), y.astype(int)]
        P = np.exp(Z - lse[:, None])
        P[np.arange(n), y.astype(int)] -= 1
        dref = P.ravel()
    assert K.loss_sum(loss, z, y, k) == pytest.approx(ref.sum())
    for i in range(n):
        assert K.row_loss(loss, z, y, i, k) == pytest.approx(ref[i])
    out = np.empty(n * k)
    K.loss_derivatives(loss, z, y, k, out)
    np.testing.assert_allclose(out, dref, atol=1e-12)


def _csc(X):
    X = sp.csc_matrix(X)
    return X.indptr, X.indices, X.data


def test_sparse_products():
    rng = np.random.default_rng(2)
    X = sp.random(20, 8, density=0.4, random_state=3, format="csc")
    v = rng.standard_normal(20 * 2)
    out = np.empty(16)
    K.csc_transpose_matvec(*_csc(X), v, 2, 0.5, out)
    np.testing.assert_allclose(out.reshape(8, 2), 0.5 * X.T @ v.reshape(20, 2))
    coords = np.array([1 * 2 + 0, 5 * 2 + 1])
    delta = np.array([0.3, -2.0])
    z = rng.standard_normal(40)
    ref = z.reshape(20, 2).copy()
    ref[:, 0] += X[:, [1]].toarray().ravel() * 0.3
    ref[:, 1] += X[:, [5]].toarray().ravel() * -2.0
    K.csc_matvec_add(*_csc(X), coords, delta, 2, z)
    np.testing.assert_allclose(z.reshape(20, 2), ref)


def test_heap_operations():
    rng = np.random.default_rng(4)
    keys = rng.standard_normal(50)
    heap = np.empty(50, dtype=np.int64)
    pos = np.empty(50, dtype=np.int64)
    K.heap_build(keys, heap, pos)
    for _ in range(200):
        item = rng.integers(50)
        K.heap_set(keys, heap, pos, item, rng.standard_normal())
        assert heap[0] == np.argmax(keys)
        np.testing.assert_array_equal(heap[pos], np.arange(50))
    out = np.empty(7, dtype=np.int64)
    before = keys.copy()
    K.heap_top_k(keys, heap, pos, 7, out)
    np.testing.assert_array_equal(out, np.argsort(-keys)[:7])
    np.testing.assert_array_equal(keys, before)
    assert heap[0] == np.argmax(keys)


@pytest.mark.parametrize("loss", [K.LOSS_LS, K.LOSS_LOGISTIC, K.LOSS_MULTINOMIAL])
def test_apply_block_change_matches_full_recompute(loss):
    rng = np.random.default_rng(5)
    n, p, k = 25, 12, (3 if loss == K.LOSS_MULTINOMIAL else 1)
    X = sp.random(n, p, density=0.3, random_state=6, format="csc")
    y = {K.LOSS_LS: rng.standard_normal(n), K.LOSS_LOGISTIC: np.sign(rng.standard_normal(n)),
         K.LOSS_MULTINOMIAL: rng.integers(0, 3, n).astype(float)}[loss]
    w = rng.standard_normal(p * k) * 0.1
    z = np.ascontiguousarray(X @ w.reshape(p, k)).ravel()
    deriv = np.empty(n * k)
    K.loss_derivatives(loss, z, y, k, deriv)
    grad = np.asarray(X.T @ deriv.reshape(n, k)).ravel() / n
    Xr = X.tocsr()
    coords = np.array([2 * k, 7 * k + (k - 1)])
    delta = np.array([0.4, -0.25])
    buf = np.empty(p * k, dtype=np.int64)
    cnt = K.apply_block_change(loss, X.indptr, X.indices, X.data, Xr.indptr, Xr.indices, Xr.data,
                               y, k, 1.0 / n, coords, delta, w, z, deriv, grad,
                               np.zeros(n, bool), np.empty(n, np.int64), np.empty(k),
                               np.zeros(p * k, bool), buf)
    z_ref = np.asarray(X @ w.reshape(p, k)).ravel()
    d_ref = np.empty(n * k)
    K.loss_derivatives(loss, z_ref, y, k, d_ref)
    g_ref = np.asarray(X.T @ d_ref.reshape(n, k)).ravel() / n
    np.testing.assert_allclose(z, z_ref, atol=1e-12)
    np.testing.assert_allclose(grad, g_ref, atol=1e-12)
    # every coordinate whose gradient moved is listed
    moved = set(np.flatnonzero(np.abs(g_ref - grad) > 0)) | set(buf[:cnt])
    assert moved == set(buf[:cnt])


@pytest.mark.parametrize("rule", [R.RULE_GS, R.RULE_GSL, R.RULE_GSD, R.RULE_GSQ])
def test_coordinate_and_block_keys(rule):
    rng = np.random.default_rng(7)
    m = 12
    pens = np.full(m, P.PEN_L1)
    alphas = np.full(m, 0.2)
    g, w, lips = rng.standard_normal(m), rng.standard_normal(m) * (rng.random(m) > 0.5), \
        rng.uniform(0.5, 3, m)
    keys = np.empty(m)
    R.all_coordinate_keys(rule, pens, alphas, g, w, lips, keys)
    ref = [R.coord_score(rule, P.PEN_L1, 0.2, g[q], w[q], lips[q]) for q in range(m)]
    np.testing.assert_allclose(keys, ref)
    members = np.arange(m)
    bl = 4.0
    got = R.block_key(rule, pens, alphas, g, w, lips, bl, members, 3, 7, np.zeros(0), -1)
    r2 = 1 if rule == R.RULE_GSD else rule
    ll = lips if rule == R.RULE_GSD else np.full(m, bl)
    assert got == pytest.approx(sum(R.coord_score(r2, P.PEN_L1, 0.2, g[q], w[q], ll[q])
                                    for q in range(3, 7)))
    # GSQ with an inverse bound matrix: ½ gᵀ M⁻¹ g on a smooth block
    M = rng.standard_normal((4, 4))
    M = M @ M.T + np.eye(4)
    minv = np.linalg.inv(M).ravel()
    zeros = np.zeros(m, dtype=np.int64)
    got = R.block_key(R.RULE_GSQ, zeros, alphas, g, w, lips, bl, members, 3, 7, minv, 0)
    assert got == pytest.approx(0.5 * g[3:7] @ np.linalg.solve(M, g[3:7]))


def test_refresh_keys_keep_heap_consistent():
    rng = np.random.default_rng(8)
    m = 20
    pens, alphas = np.zeros(m, dtype=np.int64), np.zeros(m)
    g, w, lips = rng.standard_normal(m), np.zeros(m), np.ones(m)
    keys = g**2
    heap, pos = np.empty(m, np.int64), np.empty(m, np.int64)
    K.heap_build(keys, heap, pos)
    g[[3, 9]] = [10.0, 0.0]
    K.refresh_coordinate_keys(R.RULE_GS, pens, alphas, g, w, lips, np.array([3, 9]), 2, keys,
                              heap, pos)
    np.testing.assert_allclose(keys, g**2)
    assert heap[0] == 3
    ptr = np.arange(0, m + 1, 4)
    block_of = np.arange(m) // 4
    bkeys = np.array([np.sum(g[b * 4:(b + 1) * 4] ** 2) for b in range(5)])
    bheap, bpos = np.empty(5, np.int64), np.empty(5, np.int64)
    K.heap_build(bkeys, bheap, bpos)
    g[17] = 50.0
    K.refresh_block_keys(R.RULE_GS, pens, alphas, g, w, lips, np.ones(5), ptr, np.arange(m),
                         block_of, np.zeros(0), np.full(5, -1), np.array([17]), 1,
                         np.zeros(5, bool), bkeys, bheap, bpos)
    assert bheap[0] == 4
    assert bkeys[4] == pytest.approx(np.sum(g[16:20] ** 2))


@pytest.mark.parametrize("loss", [K.LOSS_LS, K.LOSS_LOGISTIC, K.LOSS_MULTINOMIAL])
@pytest.mark.parametrize("bound", [False, True])
def test_block_matrix(loss, bound):
    rng = np.random.default_rng(9)
    n, p, k = 30, 6, (3 if loss == K.LOSS_MULTINOMIAL else 1)
    X = rng.standard_normal((n, p))
    y = {K.LOSS_LS: rng.standard_normal(n), K.LOSS_LOGISTIC: np.sign(rng.standard_normal(n)),
         K.LOSS_MULTINOMIAL: rng.integers(0, 3, n).astype(float)}[loss]
    Z = rng.standard_normal((n, k))
    coords = np.array([0 * k, 2 * k + k - 1, 5 * k])
    out = np.empty((3, 3))
    Xc = sp.csc_matrix(X)
    # the datafit's curvature bound, or 0 for the Hessian itself
    curv = {K.LOSS_LS: LeastSquares, K.LOSS_LOGISTIC: Logistic,
            K.LOSS_MULTINOMIAL: Multinomial}[loss].curvature_bound if bound else 0.0
    K.block_matrix(loss, curv, Xc.indptr, Xc.indices, Xc.data, coords, Z.ravel(), y, k, 1 / n,
                   np.zeros(n), out)
    ref = np.empty((3, 3))
    for a, qa in enumerate(coords):
        for b, qb in enumerate(coords):
            ja, ca, jb, cb = qa // k, qa % k, qb // k, qb % k
            if loss == K.LOSS_LS:
                h = np.full(n, float(ca == cb))
            elif loss == K.LOSS_LOGISTIC:
                s = 1 / (1 + np.exp(-Z[:, 0]))
                h = np.full(n, 0.25) if bound else s * (1 - s)
            else:
                P = np.exp(Z) / np.exp(Z).sum(1, keepdims=True)
                h = np.full(n, 0.5 * (ca == cb)) if bound else P[:, ca] * ((ca == cb) - P[:, cb])
            ref[a, b] = np.mean(X[:, ja] * X[:, jb] * h)
    np.testing.assert_allclose(out, ref, atol=1e-12)


@pytest.mark.parametrize("loss", [K.LOSS_LS, K.LOSS_LOGISTIC, K.LOSS_MULTINOMIAL])
def test_direction_rows_and_loss_change(loss):
    rng = np.random.default_rng(11)
    n, p, k = 20, 5, (3 if loss == K.LOSS_MULTINOMIAL else 1)
    X = sp.random(n, p, density=0.4, random_state=1, format="csc")
    y = {K.LOSS_LS: rng.standard_normal(n), K.LOSS_LOGISTIC: np.sign(rng.standard_normal(n)),
         K.LOSS_MULTINOMIAL: rng.integers(0, 3, n).astype(float)}[loss]
    z = rng.standard_normal(n * k)
    coords = np.array([1 * k, 3 * k])
    delta = np.array([0.5, -1.0])
    dz, mark, rows = np.zeros(n * k), np.zeros(n, bool), np.empty(n, np.int64)
    cnt = K.block_direction_rows(X.indptr, X.indices, X.data, coords, delta, k, dz, mark, rows)
    ref = np.zeros((n, k))
    ref[:, 0] += X[:, [1]].toarray().ravel() * 0.5
    ref[:, 0] -= X[:, [3]].toarray().ravel()
    np.testing.assert_allclose(dz.reshape(n, k), ref)
    assert set(rows[:cnt]) == set(np.flatnonzero(np.abs(ref).sum(1) > 0)) | (
        set(rows[:cnt]) & set(np.flatnonzero(np.abs(ref).sum(1) == 0)))
    got = K.loss_change_rows(loss, z, dz, y, k, rows, cnt, 0.7, np.empty(k))
    assert got == pytest.approx(K.loss_sum(loss, z + 0.7 * dz, y, k) - K.loss_sum(loss, z, y, k))
    K.clear_rows(dz, mark, rows, cnt, k)
    assert not dz.any() and not mark.any()


@pytest.mark.parametrize("rule", [R.RULE_GS, R.RULE_GSL, R.RULE_GSQ, R.RULE_CYCLIC,
                                  R.RULE_RANDOM])
@pytest.mark.parametrize("pen", PENS)
def test_quad_greedy_cd_matches_brute_force_solution(rule, pen):
    rng = np.random.default_rng(12)
    m = 6
    A = rng.standard_normal((10, m))
    H = A.T @ A / 10 + 0.1 * np.eye(m)
    q = rng.standard_normal(m)
    pens, alphas = np.full(m, pen), np.full(m, 0.3)
    v = np.zeros(m)
    grad = H @ v - q
    Q.quad_greedy_cd(H, q, v, grad, pens, alphas, rule, 1e-13, 100000, 0)
    np.testing.assert_allclose(grad, H @ v - q, atol=1e-10)
    # reference: scipy on the smooth reformulation (w = u - v for L1; bounds for w >= 0)
    from scipy.optimize import minimize

    def f(x):
        u, w_ = x[:m], x[m:]
        wv = u - w_
        pen_val = 0.0
        if pen in (P.PEN_L1, P.PEN_L1_POS):
            pen_val = 0.3 * np.sum(u + w_)
        if pen == P.PEN_L2:
            pen_val = 0.15 * wv @ wv
        return 0.5 * wv @ H @ wv - q @ wv + pen_val

    if pen == P.PEN_NONE or pen == P.PEN_L2:
        Hr = H + (0.3 * np.eye(m) if pen == P.PEN_L2 else 0)
        ref = np.linalg.solve(Hr, q)
    else:
        neg_bound = (0, 0) if pen in (P.PEN_POS, P.PEN_L1_POS) else (0, None)
        bounds = [(0, None)] * m + [neg_bound] * m
        res = minimize(f, np.zeros(2 * m), bounds=bounds, method="L-BFGS-B",
                       options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
        ref = res.x[:m] - res.x[m:]
    np.testing.assert_allclose(v, ref, atol=1e-5)


def test_weighted_gram_csr():
    rng = np.random.default_rng(13)
    X = sp.random(40, 9, density=0.3, random_state=2, format="csr")
    wts = rng.random(40)
    cols = np.array([7, 1, 4])
    col_pos = np.full(9, -1, dtype=np.int64)
    col_pos[cols] = np.arange(3)
    out = np.empty((3, 3))
    K.weighted_gram_csr(X.indptr, X.indices, X.data, wts, col_pos, 3, np.empty(9, np.int64),
                        np.empty(9), out)
    Xd = X.toarray()[:, cols]
    np.testing.assert_allclose(out, Xd.T @ (wts[:, None] * Xd), atol=1e-12)


def test_column_kernels_and_block_rows():
    rng = np.random.default_rng(14)
    X = sp.random(30, 12, density=0.3, random_state=4, format="csc")
    sq = np.empty(12)
    K.csc_col_sq_norms(X.indptr, X.data, sq)
    np.testing.assert_allclose(sq, (X.toarray() ** 2).sum(0))
    w = rng.standard_normal(12) * (rng.random(12) > 0.4)
    out = np.empty(30)
    K.csc_matvec(X.indptr, X.indices, X.data, w, out)
    np.testing.assert_allclose(out, X @ w)
    cols = np.array([9, 2, 5, 11])
    nnz = int(np.sum(np.diff(X.indptr)[cols]))
    r_ptr, r_pos, r_val = np.empty(31, np.int64), np.empty(nnz, np.int64), np.empty(nnz)
    K.csc_cols_to_csr(X.indptr, X.indices, X.data, cols, 30, r_ptr, r_pos, r_val)
    dense = np.zeros((30, 4))
    for i in range(30):
        dense[i, r_pos[r_ptr[i]:r_ptr[i + 1]]] = r_val[r_ptr[i]:r_ptr[i + 1]]
    np.testing.assert_allclose(dense, X[:, cols].toarray())
    wts = rng.random(30)
    G = np.empty((4, 4))
    K.weighted_gram_rows(r_ptr, r_pos, r_val, wts, 4, G)
    np.testing.assert_allclose(G, dense.T @ (wts[:, None] * dense), atol=1e-12)


@pytest.mark.parametrize("pen", [P.PEN_L1, P.PEN_NONE, P.PEN_L1_POS])
@pytest.mark.parametrize("rule", [R.RULE_CYCLIC, R.RULE_GSQ, R.RULE_RANDOM, R.RULE_LIPSCHITZ])
def test_ws_model_cd_solves_the_block_model(pen, rule):
    rng = np.random.default_rng(15)
    X = sp.random(40, 10, density=0.5, random_state=5, format="csc")
    ws = np.array([0, 3, 4, 8])
    wts = rng.uniform(0.1, 0.3, 40)
    g = rng.standard_normal(4)
    v0 = rng.standard_normal(4) * 0.1
    if pen == P.PEN_L1_POS:
        v0 = np.abs(v0)
    v, u = v0.copy(), np.zeros(40)
    pens, alphas = np.full(4, pen), np.full(4, 0.05)
    # one epoch cannot meet a tight test: the epoch count comes back negated
    vt, ut = v0.copy(), np.zeros(40)
    assert WK.ws_model_cd(X.indptr, X.indices, X.data, ws, wts, 1 / 40, g, v0, vt, ut, pens,
                          alphas, 1e-13, 1, rule, 0) == -1
    epochs = WK.ws_model_cd(X.indptr, X.indices, X.data, ws, wts, 1 / 40, g, v0, v, u, pens,
                            alphas, 1e-13, 100000, rule, 0)
    assert 1 < epochs < 100000
    Xw = X[:, ws].toarray()
    np.testing.assert_allclose(u, Xw @ (v - v0), atol=1e-12)
    # same model solved by the Gram-based kernel: ½ vᵀHv - (H v0 - g)ᵀv + pen(v)
    H = Xw.T @ (wts[:, None] * Xw) / 40
    ref = v0.copy()
    Q.quad_greedy_cd(H, H @ v0 - g, ref, g.copy(), pens, alphas, R.RULE_GSQ, 1e-14, 100000, -1)
    np.testing.assert_allclose(v, ref, atol=1e-8)


def test_small_vector_kernels():
    rng = np.random.default_rng(16)
    pens = np.array([P.PEN_L1, P.PEN_L2, P.PEN_NONE, P.PEN_L1_POS])
    alphas = np.array([0.3, 0.5, 0.0, 0.2])
    w = np.array([0.5, -1.0, 2.0, 0.1])
    g = rng.standard_normal(4)
    assert P.pen_sum(pens, alphas, w) == pytest.approx(
        sum(P.pen_scalar(pens[a], alphas[a], w[a]) for a in range(4)))
    out = np.empty(4)
    P.prox_block(pens, alphas, w, g, 2.0, out)
    np.testing.assert_allclose(out, [P.prox_scalar(pens[a], alphas[a], w[a] - g[a] / 2, 0.5)
                                     for a in range(4)])
    lips = rng.uniform(0.5, 2, 4)
    viol = np.empty(4)
    P.prox_violations(pens, alphas, g, w, lips, viol)
    ref = [lips[a] * abs(P.prox_scalar(pens[a], alphas[a], w[a] - g[a] / lips[a],
                                       1 / lips[a]) - w[a]) for a in range(4)]
    np.testing.assert_allclose(viol, ref)
    rho = -rng.uniform(0, 1, 20) * np.sign(rng.standard_normal(20))
    y = -np.sign(rho)
    t = -rho * y
    ref = np.sum(t * np.log(t) + (1 - t) * np.log(1 - t))
    assert K.logistic_conjugate_sum(rho, y) == pytest.approx(ref)


def test_row_count_sq_sum():
    X = sp.random(30, 12, density=0.3, random_state=3, format="csc")
    rows = np.bincount(X.indices, minlength=30)
    assert K.row_count_sq_sum(X.indices, 30) == float(rows @ rows)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("centred", [False, True])
def test_l1_least_squares_gap_kernels(positive, centred):
    # Gram-form and residual-form gaps against the numpy reference: primal
    # ½‖r‖²/n + α‖w‖₁ and the dual point -r/n rescaled into the dual ball
    rng = np.random.default_rng(int(positive) + 2 * int(centred))
    n, p = 40, 7
    X = rng.standard_normal((n, p)) + 2.0
    y = rng.standard_normal(n)
    w = rng.standard_normal(p) * (rng.random(p) < 0.6)
    if positive:
        w = np.abs(w)
    alpha = 0.3
    offset = X.mean(axis=0) if centred else np.zeros(p)
    Xc = X - offset
    r = Xc @ w - y
    grad_ref = Xc.T @ r / n
    g = -grad_ref if positive else np.abs(grad_ref)
    s = min(1.0, alpha / max(g.max(), 1e-300))
    primal = 0.5 * r @ r / n + alpha * np.abs(w).sum()
    dual = -(0.5 * s * s * r @ r + s * r @ y) / n
    pens = np.full(p, P.PEN_L1_POS if positive else P.PEN_L1, dtype=np.int64)
    alphas = np.full(p, alpha)
    z = np.empty(n)
    grad = np.empty(p)
    obj, gap = WK.dense_ls_l1_gap(X, offset, y, pens, alphas, alpha, positive, w, z, grad)
    np.testing.assert_allclose(z, Xc @ w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([obj, gap], [primal, max(primal - dual, 0.0)], rtol=1e-12)
    G = Xc.T @ Xc / n
    c = Xc.T @ y / n
    y_sq = y @ y / n
    obj_g, rel_gap = WK.gram_l1_gap(G, c, y_sq, pens, alphas, alpha, positive, w, G @ w - c)
    np.testing.assert_allclose(obj_g, primal, rtol=1e-10)
    np.testing.assert_allclose(rel_gap, max(primal - dual, 0.0) / (0.5 * y_sq), rtol=1e-9)
    # the bounded Gram gap: the same values, ``grad`` recomputed in place from a stale
    # one, and the rounding bound γ s² (2 + max ν s / α) / (y_sq / 2) of its docstring
    stale = rng.standard_normal(p)
    obj_b, rel_b, err = WK.gram_l1_gap_bounded(G, c, y_sq, pens, alphas, alpha, positive, w,
                                               stale, offset, n)
    np.testing.assert_allclose(stale, G @ w - c, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose([obj_b, rel_b], [obj_g, rel_gap], rtol=1e-12)
    nu = np.sqrt(np.diag(G) + offset**2)  # the uncentred column norms / √n
    np.testing.assert_allclose(nu, np.sqrt((X**2).sum(axis=0) / n), rtol=1e-12)
    spread = np.sqrt(y_sq) + np.abs(w) @ nu
    gamma = (n + p) * np.finfo(np.float64).eps
    want = gamma * spread**2 * (2.0 + nu.max() * spread / alpha) / (0.5 * y_sq)
    np.testing.assert_allclose(err, want, rtol=1e-12)


@pytest.mark.parametrize("rule", [R.RULE_GS, R.RULE_GSL, R.RULE_GSD, R.RULE_GSQ])
def test_outer_scan_matches_violations_keys_and_candidates(rule):
    rng = np.random.default_rng(11)
    m = 40
    pens = rng.choice([P.PEN_L1, P.PEN_L2, P.PEN_POS, P.PEN_L1_POS, P.PEN_NONE], m)
    alphas = rng.uniform(0.05, 0.5, m)
    g = rng.standard_normal(m)
    w = np.where(rng.random(m) > 0.5, np.abs(rng.standard_normal(m)), 0.0)
    lips = rng.uniform(0.5, 3, m)
    viol, keys = np.empty(m), np.empty(m)
    cand = np.full(m, -1, dtype=np.int64)
    worst, worst_zero, n_cand = WK.outer_scan(rule, pens, alphas, g, w, lips, viol, keys, cand)
    # numpy reference from the scalar definitions
    ref_viol = np.array([lips[q] * abs(P.prox_scalar(pens[q], alphas[q], w[q] - g[q] / lips[q],
                                                     1 / lips[q]) - w[q]) for q in range(m)])
    ref_keys = np.array([R.coord_score(rule, pens[q], alphas[q], g[q], w[q], lips[q])
                         for q in range(m)])
    np.testing.assert_allclose(viol, ref_viol, rtol=1e-12, atol=0)
    np.testing.assert_allclose(keys, ref_keys, rtol=1e-12, atol=1e-15)
    assert worst == ref_viol.max()
    assert worst_zero == ref_viol[w == 0].max()
    np.testing.assert_array_equal(cand[:n_cand], np.flatnonzero((w == 0) & (ref_keys > 0)))
    w[3] = np.nan  # a diverged iterate: NaN propagates to the maximum, as np.max does
    worst, worst_zero, _ = WK.outer_scan(rule, pens, alphas, g, w, lips, viol, keys, cand)
    assert np.isnan(worst)
