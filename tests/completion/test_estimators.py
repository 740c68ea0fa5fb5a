"""AltMinCompletion: input forms, predict/transform, fold-in, bad input, MovieLens."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.completion import AltMinCompletion, altmin
from optsolve.datasets import load_movielens, make_incoherent_low_rank
from optsolve.utils._testing import need_data


@pytest.fixture(scope="module")
def small():
    X, U, V = make_incoherent_low_rank(120, 90, 2, 0.4, random_state=1)
    return X, U @ V.T


def _dense_nan(X):
    D = np.full(X.shape, np.nan)
    coo = X.tocoo()
    D[coo.row, coo.col] = coo.data
    return D


@pytest.mark.parametrize("solver", ["sketched", "exact"])
def test_input_forms_agree(small, solver):
    X, M = small
    kw = dict(rank=2, solver=solver, tol=1e-10, random_state=0)
    coo = X.tocoo()
    fits = [
        AltMinCompletion(**kw).fit(X),
        AltMinCompletion(**kw).fit(X.tocsc()),
        AltMinCompletion(**kw).fit(_dense_nan(X)),
        AltMinCompletion(**kw).fit(coo.row, coo.col, coo.data, shape=X.shape),
    ]
    for est in fits:
        np.testing.assert_allclose(est.transform(), fits[0].transform(), atol=1e-8)
    rel = np.linalg.norm(fits[0].transform() - M) / np.linalg.norm(M)
    assert rel <= 1e-6
    assert fits[0].n_features_in_ == X.shape[1] and fits[0].n_iter_ >= 1


def test_matches_functional_altmin(small):
    X, _ = small
    est = AltMinCompletion(rank=2, tol=1e-9, random_state=0).fit(X)
    res = altmin(X, 2, tol=1e-9, random_state=0)
    np.testing.assert_allclose(est.U_ @ est.V_.T, res.U @ res.V.T, atol=1e-12)


def test_predict_entries_and_transform(small, residuals_reference):
    X, _ = small
    est = AltMinCompletion(rank=2, biases=True, random_state=0, record_history=True).fit(X)
    rows, cols = np.array([0, 5, 119]), np.array([3, 0, 89])
    completed = est.transform()
    np.testing.assert_allclose(est.predict(rows, cols), completed[rows, cols], rtol=1e-12)
    r = residuals_reference(X, est.U_, est.V_, est.row_bias_, est.col_bias_, est.mean_)
    np.testing.assert_allclose(X.tocoo().data - r, est.predict(*X.tocoo().coords), atol=1e-10)
    assert set(est.history_) >= {"objective", "rel_residual", "time"}
    assert len(est.history_["objective"]) == est.n_iter_
    assert est.alpha_ == 12.0


def test_transform_size_limit(small):
    X, _ = small
    est = AltMinCompletion(rank=2, max_dense_entries=1000, random_state=0).fit(X)
    with pytest.raises(ValueError, match="max_dense_entries"):
        est.transform()
    assert est.predict([0], [0]).shape == (1,)


@pytest.mark.parametrize("biases", [False, True])
def test_fold_in_matches_refit_rows(small, biases):
    """Folding in rows solves them against the fixed V: equal to the fit's own U half-step."""
    X, _ = small
    est = AltMinCompletion(rank=2, solver="exact", biases=biases, random_state=0).fit(X)
    U_fit, b_fit = est.U_.copy(), est.row_bias_.copy()
    new = est.fold_in(X[:5])
    np.testing.assert_array_equal(new, np.arange(120, 125))
    np.testing.assert_allclose(est.U_[new], U_fit[:5], atol=1e-9)
    np.testing.assert_allclose(est.row_bias_[new], b_fit[:5], atol=1e-9)
    np.testing.assert_allclose(est.transform(_dense_nan(X[:5])), est.transform()[:5], atol=1e-8)
    assert est.observed_.shape == (125, 90)


def test_partial_fit_new_ratings_and_users(small):
    X, M = small
    est = AltMinCompletion(rank=2, solver="exact", tol=1e-10, random_state=0).fit(X)
    V = est.V_.copy()
    # a new user (row 120) with 10 exact ratings, and a new rating of user 0
    rows, cols = [*[120] * 10, 0], [*range(10), 89]
    est.partial_fit(rows, cols, [*M[7, :10], M[0, 89]])
    np.testing.assert_array_equal(est.V_, V)
    assert est.U_.shape == (121, 2)
    np.testing.assert_allclose(est.predict([120] * 90, range(90)), M[7], atol=1e-6)
    assert est.observed_[0, 89] == M[0, 89]
    # unfitted partial_fit is fit
    est2 = AltMinCompletion(rank=2, random_state=0).partial_fit(X)
    assert est2.U_.shape == (120, 2)


def test_empty_rows_and_columns_warn_and_predict_offsets():
    X, _, _ = make_incoherent_low_rank(60, 50, 2, 0.5, random_state=2)
    X = sp.lil_matrix(X)
    X[3] = 0
    X[:, 7] = 0
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    X.data += 3.0
    with pytest.warns(UserWarning, match=r"1 row\(s\) and 1 column\(s\)"):
        est = AltMinCompletion(rank=2, biases=True, random_state=0).fit(X)
    np.testing.assert_allclose(est.U_[3], 0.0)
    np.testing.assert_allclose(est.predict([3, 3], [0, 1]), est.mean_ + est.col_bias_[:2])
    assert est.col_bias_[7] == 0.0 and np.allclose(est.V_[7], 0.0)


def test_bad_input_is_refused(small):
    X, _ = small
    est = AltMinCompletion(rank=2, random_state=0)
    with pytest.raises(ValueError, match="rank=90 must be smaller"):
        AltMinCompletion(rank=90).fit(X)
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="non-finite observed values"):
        est.fit(bad)
    with pytest.raises(ValueError, match="duplicate"):
        est.fit([0, 0, 1], [1, 1, 2], [1.0, 2.0, 3.0], shape=(5, 4))
    with pytest.raises(ValueError, match="duplicate"):
        est.fit(sp.coo_matrix(([1.0, 2.0, 1.0], ([0, 0, 1], [1, 1, 0])), shape=(5, 4)))
    with pytest.raises(ValueError, match="rows index 7 is out of range"):
        est.fit([0, 7], [1, 2], [1.0, 2.0], shape=(5, 4))
    with pytest.raises(ValueError, match="cols index -1 is out of range"):
        est.fit([0, 1], [1, -1], [1.0, 2.0], shape=(5, 4))
    with pytest.raises(ValueError, match="shape is required"):
        est.fit([0, 1], [1, 2], [1.0, 2.0])
    with pytest.raises(TypeError, match="rows must hold integer"):
        est.fit([0.5, 1], [1, 2], [1.0, 2.0], shape=(5, 4))
    D = _dense_nan(X)
    D[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"infinity|infinite"):
        est.fit(D)
    est.fit(X)
    with pytest.raises(ValueError, match="cols index 90 is out of range"):
        est.predict([0], [90])
    with pytest.raises(TypeError, match="sparse"):
        est.predict(X)
    with pytest.raises(ValueError, match="alpha"):
        AltMinCompletion(alpha=-1.0).fit(X)


def test_public_api_without_jit(tmp_path):
    """The pure-Python path of every kernel (NUMBA_DISABLE_JIT=1) gives the same fit."""
    code = (
        "import numpy as np\n"
        "from optsolve.datasets import make_incoherent_low_rank\n"
        "from optsolve.completion import AltMinCompletion\n"
        "X, U, V = make_incoherent_low_rank(30, 25, 2, 0.7, random_state=0)\n"
        "for s in ('sketched', 'exact'):\n"
        "    est = AltMinCompletion(rank=2, solver=s, tol=1e-9, random_state=0,\n"
        "                           solver_options={'sketch_factor': 1, 'min_rank': 0}).fit(X)\n"
        "    print(repr(est.transform()[:2, :3].round(6).tolist()))\n"
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    X, _, _ = make_incoherent_low_rank(30, 25, 2, 0.7, random_state=0)
    expected = ""
    for s in ("sketched", "exact"):
        opts = {"sketch_factor": 1, "min_rank": 0}
        est = AltMinCompletion(
            rank=2, solver=s, tol=1e-9, random_state=0, solver_options=opts
        ).fit(X)
        expected += repr(est.transform()[:2, :3].round(6).tolist()) + "\n"
    assert out.stdout == expected


def test_movielens_u1_rmse_with_defaults():
    need_data("ratings/ml-100k/u.data")
    train, test = load_movielens("100k", split="u1")
    assert (train.nnz, test.nnz) == (80000, 20000)  # GroupLens' u1.base / u1.test
    assert train.shape == test.shape == (943, 1682)
    with pytest.warns(UserWarning, match="column"):  # 32 movies are rated only in u1.test
        est = AltMinCompletion(rank=10, biases=True, random_state=0).fit(train)
    coo = test.tocoo()
    rmse = np.sqrt(np.mean((est.predict(coo.row, coo.col) - coo.data) ** 2))
    assert rmse <= 0.93
