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


def test_token_over_mpi_on_a_centred_sparse_problem_equals_the_simulator():
    from optsolve.graphs import make_graph
    from optsolve.randomwalk import DecentralizedProblem, partition_data, token_sgd
    from optsolve.randomwalk.mpi import run_mpi

    rng = np.random.default_rng(3)
    X = sp.random(160, 6, density=0.4, random_state=3, format="csr")
    X.data += 1.0
    y = np.asarray(X @ rng.standard_normal(6)).ravel() + 0.1 * rng.standard_normal(160)
    prob = DecentralizedProblem.ridge(partition_data(X, y, 8, random_state=0), 0.05,
                                      center=np.asarray(X.mean(axis=0)).ravel())
    graph = make_graph("erdos_renyi", 8, p=0.4, random_state=1)
    sim = token_sgd(prob, graph, n_steps=1500, random_state=7, batch_size=2)
    res = run_mpi(prob, graph, n_steps=1500, n_procs=3, random_state=7, batch_size=2)
    assert res.success and res.nit == sim.nit == 1500
    np.testing.assert_array_equal(res.x, sim.x)
