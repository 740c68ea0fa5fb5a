"""Bad input raises early, with the argument named."""

import numpy as np
import pytest

from optsolve.bcd import (
    L1,
    GreedyBCDClassifier,
    GreedyBCDRegressor,
    LeastSquares,
    Logistic,
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
