"""bcd_path: the L1 regularization path against scikit-learn's lasso_path and liblinear."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, lasso_path

from optsolve.bcd import L1, LeastSquares, Logistic, bcd_path, duality_gap


def _regression(n=60, p=150, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X = sp.random(n, p, density=0.2, random_state=seed, format="csc",
                      data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[:5] = [2.0, -1.5, 1.0, 0.5, -0.5]
    y = X @ w + 0.1 * rng.standard_normal(n)
    return X, y


def _sk_lasso_path(X, y, alphas, positive=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lasso_path(X, y, alphas=alphas, tol=1e-12, max_iter=100_000,
                          positive=positive)[1]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_lasso_path_matches_sklearn(sparse, positive):
    X, y = _regression(sparse=sparse)
    alphas, coefs, gaps = bcd_path(X, y, n_alphas=15, eps=1e-2, tol=1e-10, positive=positive)
    assert alphas.shape == (15,) and coefs.shape == (150, 15) and gaps.shape == (15,)
    assert np.all(np.diff(alphas) < 0)
    ref = _sk_lasso_path(X, y, alphas, positive)
    np.testing.assert_allclose(coefs, ref, atol=1e-5)
    if positive:
        assert np.all(coefs >= 0)
    for k, alpha in enumerate(alphas):
        _, gap = duality_gap(LeastSquares(), L1(alpha, positive=positive), X, y, coefs[:, k])
        assert gap <= 1e-10 * 0.5 * float(y @ y) / y.shape[0] * 1.01
        assert gaps[k] == pytest.approx(gap, abs=1e-12)


def test_few_features_gram_path_matches_sklearn():
    # p small: the engine works on the full Gram matrix, computed once for the whole path
    X, y = _regression(n=80, p=12, seed=9)
    alphas, coefs, _ = bcd_path(X, y, n_alphas=12, eps=1e-3, tol=1e-12)
    np.testing.assert_allclose(coefs, _sk_lasso_path(X, y, alphas), atol=1e-6)


def test_grid_starts_at_alpha_max():
    X, y = _regression(seed=1)
    alphas, coefs, _ = bcd_path(X, y, n_alphas=4, eps=1e-2)
    np.testing.assert_allclose(alphas[0], np.max(np.abs(X.T @ y)) / X.shape[0])
    np.testing.assert_allclose(alphas[-1], alphas[0] * 1e-2)
    assert not np.any(coefs[:, 0])  # w = 0 is optimal at alpha_max
    assert np.any(coefs[:, 1])


def test_given_alphas_sorted_and_int_count():
    X, y = _regression(seed=2)
    a, coefs, _ = bcd_path(X, y, alphas=[0.01, 0.1, 0.05], tol=1e-10)
    np.testing.assert_array_equal(a, [0.1, 0.05, 0.01])
    np.testing.assert_allclose(coefs, _sk_lasso_path(X, y, a), atol=1e-5)
    a5, _, _ = bcd_path(X, y, alphas=5)
    assert a5.shape == (5,)


def test_logistic_path_matches_liblinear():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 40))
    y = np.where(X[:, :3] @ np.array([1.0, -1.0, 0.5]) + 0.5 * rng.standard_normal(80) > 0,
                 1.0, -1.0)
    alphas, coefs, _, n_iter = bcd_path(X, y, datafit="logistic", n_alphas=6, eps=0.05,
                                        tol=1e-10, return_n_iter=True)
    assert n_iter.shape == (6,) and n_iter.dtype.kind == "i"
    n = X.shape[0]
    for k, alpha in enumerate(alphas):
        _, gap = duality_gap(Logistic(), L1(alpha), X, y, coefs[:, k])
        assert gap <= 1e-10 * np.log(2.0) * 1.01
        ref = LogisticRegression(l1_ratio=1.0, C=1.0 / (n * alpha), solver="liblinear",
                                 fit_intercept=False, tol=1e-10, max_iter=100_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.fit(X, y)
        np.testing.assert_allclose(coefs[:, k], ref.coef_.ravel(), atol=1e-4)


def test_coef_init_and_datafit_instance():
    X, y = _regression(seed=4)
    _, c_cold, _ = bcd_path(X, y, alphas=[0.05], tol=1e-11)
    _, c_warm, _ = bcd_path(X, y, alphas=[0.05], tol=1e-11, datafit=LeastSquares(),
                            coef_init=c_cold[:, 0] + 0.1)
    np.testing.assert_allclose(c_warm, c_cold, atol=1e-6)


def test_input_not_modified():
    X, y = _regression(seed=5)
    X0, y0 = X.copy(), y.copy()
    init = np.ones(X.shape[1])
    bcd_path(X, y, n_alphas=3, coef_init=init)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    assert np.all(init == 1.0)


def test_not_converged_warns():
    X, y = _regression(seed=6)
    with pytest.warns(ConvergenceWarning, match="bcd_path"):
        bcd_path(X, y, n_alphas=5, eps=1e-3, tol=1e-14, max_iter=1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"datafit": "hinge"}, ValueError, "datafit"),
    ({"datafit": 3}, TypeError, "datafit"),
    ({"alphas": [-1.0, 0.1]}, ValueError, "alphas"),
    ({"alphas": []}, ValueError, "alphas"),
    ({"n_alphas": 0}, ValueError, "n_alphas"),
    ({"eps": 0.0}, ValueError, "eps"),
    ({"tol": -1.0}, ValueError, "tol"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"coef_init": np.zeros(3)}, ValueError, "coef_init"),
    ({"positive": "yes"}, TypeError, "positive"),
])
def test_bad_arguments(kwargs, error, match):
    X, y = _regression(seed=7)
    with pytest.raises(error, match=match):
        bcd_path(X, y, **kwargs)


def test_bad_data():
    X, y = _regression(seed=8)
    with pytest.raises(ValueError, match="rows"):
        bcd_path(X, y[:-1])
    with pytest.raises(ValueError, match="-1 and \\+1"):
        bcd_path(X, y, datafit="logistic")
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X"):
        bcd_path(Xn, y)
