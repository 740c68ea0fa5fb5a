"""DecentralizedRidge over MPI on a sparse X with an intercept: the ranks read the implicit
centring from their payload and reach scikit-learn's fit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from optsolve import _mpi
from optsolve.decentralized import DecentralizedRidge

OK, WHY = _mpi.mpi_available()
pytestmark = pytest.mark.skipif(not OK, reason=WHY)


def test_mpi_ridge_sparse_with_intercept_matches_sklearn():
    rng = np.random.default_rng(0)
    X = sp.random(200, 15, density=0.25, random_state=0, format="csr")
    X.data += 2.0
    y = np.asarray(X @ rng.standard_normal(15)).ravel() + 3.0
    est = DecentralizedRidge(alpha=0.05, n_nodes=4, graph="complete", backend="mpi", tol=1e-6,
                             random_state=0, max_time=60).fit(X, y)
    ref = Ridge(alpha=0.05 * 200).fit(X.toarray(), y)
    assert est.success_
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=1e-5)
