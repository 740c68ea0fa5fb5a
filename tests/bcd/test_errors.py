"""Bad input raises early, with the argument named."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from optsolve.bcd import (
    L1,
    L2,
    GreedyBCDClassifier,
    GreedyBCDRegressor,
    LeastSquares,
    Logistic,
    Multinomial,
    duality_gap,
    minimize_bcd,
)


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 5)), rng.standard_normal(20)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("where", ["X", "y"])
def test_non_finite_input(bad, where):
    X, y = _data()
    (X if where == "X" else y)[3] = bad
    with pytest.raises(ValueError, match=where):
        minimize_bcd(LeastSquares(), L1(0.1), X=X, y=y)
    with pytest.raises(ValueError, match=r"NaN|infinity|inf"):
        GreedyBCDRegressor().fit(X, y)


def test_shape_mismatch():
    X, y = _data()
    with pytest.raises(ValueError, match="rows"):
        minimize_bcd(LeastSquares(), None, X=X, y=y[:-1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        minimize_bcd(LeastSquares(), None, X=X[:, 0], y=y)
    with pytest.raises(ValueError, match="x0"):
        minimize_bcd(LeastSquares(), None, X=X, y=y, x0=np.zeros(3))
    with pytest.raises(ValueError, match=r"inconsistent|samples"):
        GreedyBCDRegressor().fit(X, y[:-1])


def test_negative_alpha():
    X, y = _data()
    with pytest.raises(ValueError, match="alpha"):
        L1(-1.0)
    with pytest.raises(ValueError, match="alpha"):
        GreedyBCDRegressor(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        GreedyBCDClassifier(alpha=-0.5).fit(X, y > 0)


def test_block_size_larger_than_n_features():
    X, y = _data()
    with pytest.raises(ValueError, match="block_size"):
        minimize_bcd(LeastSquares(), None, X=X, y=y, block_size=6)
    with pytest.raises(ValueError, match="block_size"):
        GreedyBCDRegressor(block_size=6).fit(X, y)
    with pytest.raises(ValueError, match="block_size"):
        GreedyBCDClassifier(block_size=6).fit(X, y > 0)


def test_bad_names_and_labels():
    X, y = _data()
    with pytest.raises(ValueError, match="selection"):
        minimize_bcd(LeastSquares(), None, X=X, y=y, selection="best")
    with pytest.raises(ValueError, match="update"):
        minimize_bcd(LeastSquares(), None, X=X, y=y, update="magic")
    with pytest.raises(ValueError, match="partition"):
        minimize_bcd(LeastSquares(), None, X=X, y=y, partition="zigzag")
    with pytest.raises(TypeError, match="datafit"):
        minimize_bcd(object(), None, X=X, y=y)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        minimize_bcd(Logistic(), None, X=X, y=y)
    with pytest.raises(ValueError, match="exact"):
        minimize_bcd(Logistic(), None, X=X, y=np.sign(y), update="exact")
    with pytest.raises(ValueError, match="class"):
        GreedyBCDClassifier().fit(X, np.ones(20))


# ---------------------------------------------------------------- hostile-input regressions


def test_multinomial_labels_beyond_n_classes_refused_before_the_kernels():
    # labels >= n_classes used to reach the numba kernels, which wrote out of bounds
    X, _ = _data()
    y = np.arange(20) % 5
    with pytest.raises(ValueError, match=r"n_classes=3"):
        minimize_bcd(Multinomial(3), L1(0.01), X=X, y=y)
    with pytest.raises(ValueError, match=r"n_classes=3"):
        duality_gap(Multinomial(3), L1(0.01), X, y, np.zeros((5, 3)))
    for bad in (-1.0, 1.5, np.nan):
        yb = (np.arange(20) % 3).astype(float)
        yb[0] = bad
        with pytest.raises(ValueError, match="y"):
            minimize_bcd(Multinomial(3), L1(0.01), X=X, y=yb)
    with pytest.raises(ValueError, match="n_classes"):
        Multinomial(0)
    with pytest.raises(TypeError, match="n_classes"):
        Multinomial(2.5)


@pytest.mark.parametrize("update", ["gradient", "newton", "exact", "two-metric", "auto"])
def test_intercept_not_charged_in_the_l1_gap(update):
    # the intercept used to be counted in the penalty of the gap, which then never closed
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    y = X @ rng.standard_normal(6) + 3.0 + 0.1 * rng.standard_normal(40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = minimize_bcd(LeastSquares(), L1(0.05), X=X, y=y, fit_intercept=True,
                           update=update, tol=1e-8, max_iter=20_000)
    ref = Lasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, y)
    assert res.success and res.status == 0
    np.testing.assert_allclose(res.x, ref.coef_, atol=1e-5)
    assert abs(res.intercept - ref.intercept_) < 1e-5


@pytest.mark.parametrize("datafit", ["least_squares", "logistic"])
@pytest.mark.parametrize("update", ["auto", "gradient"])
def test_l1_alpha_zero_converges(datafit, update):
    # with alpha = 0 the L1 gap is the primal value itself: it never closed
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 4))
    t = X @ rng.standard_normal(4) + rng.standard_normal(60)
    y = t if datafit == "least_squares" else np.where(t > 0, 1.0, -1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = minimize_bcd(datafit, L1(0.0), X=X, y=y, update=update, max_iter=20_000)
        plain = minimize_bcd(datafit, None, X=X, y=y, tol=1e-10)
    assert res.success and res.status == 0
    np.testing.assert_allclose(res.x, plain.x, atol=1e-4)
    if datafit == "least_squares":
        np.testing.assert_allclose(res.x, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-5)


def test_multinomial_classifier_defaults_converge_without_warning():
    # the multinomial gap charged the intercept: every default fit ran to max_iter and warned
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 6))
    y = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((150, 3)), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = GreedyBCDClassifier(loss="multinomial").fit(X, y)
    assert clf.n_iter_ < clf.max_iter
    assert clf.dual_gap_ < 1e-4
    ref = LogisticRegression(C=1e6, max_iter=5000).fit(X, y)
    assert np.mean(clf.predict(X) == ref.predict(X)) > 0.95


def _unsorted_csc(read_only=False, duplicate=False):
    A = sp.random(200, 100, density=0.03, format="csc", random_state=0)
    indices, data = A.indices.copy(), A.data.copy()
    for j in range(A.shape[1]):  # reverse each column: valid CSC, indices unsorted
        s, e = A.indptr[j], A.indptr[j + 1]
        indices[s:e], data[s:e] = indices[s:e][::-1].copy(), data[s:e][::-1].copy()
    indptr = A.indptr.copy()
    if duplicate:  # split the first entry of column 0 into two halves
        s = indptr[0]
        indices = np.insert(indices, s, indices[s])
        data = np.insert(data, s, data[s] / 2)
        data[s + 1] /= 2
        indptr[1:] += 1
    B = sp.csc_matrix((data, indices, indptr), shape=A.shape)
    if read_only:
        for arr in (B.data, B.indices, B.indptr):
            arr.flags.writeable = False
    return B


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("duplicate", [False, True])
@pytest.mark.parametrize("update", ["auto", "gradient"])
def test_unsorted_or_read_only_csc_neither_modified_nor_refused(read_only, duplicate, update):
    X = _unsorted_csc(read_only, duplicate)
    before = (X.indices.copy(), X.data.copy(), X.indptr.copy())
    y = np.random.default_rng(0).standard_normal(X.shape[0])
    res = minimize_bcd(LeastSquares(), L1(0.01), X=X, y=y, update=update, tol=1e-10)
    reg = GreedyBCDRegressor(alpha=0.01, fit_intercept=False, tol=1e-10).fit(X, y)
    for a, b in zip(before, (X.indices, X.data, X.indptr), strict=True):
        np.testing.assert_array_equal(a, b)
    ref = minimize_bcd(LeastSquares(), L1(0.01), X=X.toarray(), y=y, tol=1e-10)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    np.testing.assert_allclose(reg.coef_, ref.x, atol=1e-6)


@pytest.mark.parametrize("fmt", ["coo", "lil", "dok", "bsr", "dia", "csr", "csc"])
def test_every_sparse_format_checked_for_non_finite(fmt):
    X = sp.random(20, 5, density=0.5, random_state=0, format="csr")
    X = X.tolil()
    X[0, 0] = np.nan
    X = X.asformat(fmt)
    with pytest.raises(ValueError, match="X"):
        minimize_bcd(LeastSquares(), L1(0.1), X=X, y=np.ones(20))


def test_shared_status_codes_and_warnings():
    from optsolve._status import Status, termination_message

    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="maximum number of iterations"):
        res = minimize_bcd(LeastSquares(), L1(0.01), X=X, y=y, update="gradient", max_iter=2)
    assert res.status == Status.MAX_ITER and not res.success
    assert res.message.startswith(termination_message(Status.MAX_ITER))
    res = minimize_bcd(LeastSquares(), L1(0.01), X=X, y=y)
    assert res.status == Status.SUCCESS and res.message.startswith("converged")


@pytest.mark.parametrize("update", ["auto", "gradient"])
def test_overflowing_run_is_non_finite_not_success(update):
    # finite but huge data overflow in X @ w: reported as NON_FINITE with a warning, never a
    # success and never an exception from the stopping test
    from optsolve._status import Status

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 5)) * 1e160, rng.standard_normal(20) * 1e160
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="non-finite"):
            res = minimize_bcd(LeastSquares(), L2(0.1), X=X, y=y, update=update, max_iter=50)
    assert res.status == Status.NON_FINITE and not res.success
