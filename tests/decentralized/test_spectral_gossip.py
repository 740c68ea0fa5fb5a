"""ADOM+'s multi-consensus and MSDA's Chebyshev gossip applied as one dense matrix
(``gossip='spectral'``) are the same linear maps as their sparse products: same iterates, same
counts."""

import numpy as np
import pytest

from optsolve.decentralized import DecentralizedProblem, partition_data, solve
from optsolve.graphs import make_graph


@pytest.mark.parametrize("solver,opts,graph,loss", [
    ("adom+", {}, "star", "ridge"),
    ("adom+", {"n_consensus": 3}, "cycle", "logistic"),
    ("msda", {}, "barbell", "logistic"),
    ("msda", {"degree": 2}, "complete", "ridge"),
])
def test_spectral_gossip_matches_sparse_products(solver, opts, graph, loss):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 4))
    y = X @ rng.standard_normal(4) + 0.1 * rng.standard_normal(80)
    if loss == "logistic":
        y = np.sign(y)
    make = DecentralizedProblem.ridge if loss == "ridge" else DecentralizedProblem.logistic
    prob = make(partition_data(X, y, 8, random_state=0), alpha=0.1)
    G = make_graph(graph, 8)
    sparse = solve(prob, G, solver=solver, tol=1e-5, gossip="sparse", **opts)
    dense = solve(prob, G, solver=solver, tol=1e-5, gossip="spectral", **opts)
    assert sparse.success and dense.success
    assert (sparse.nit, sparse.n_gradients, sparse.n_communications) == \
        (dense.nit, dense.n_gradients, dense.n_communications)
    np.testing.assert_allclose(dense.x, sparse.x, rtol=0, atol=1e-9)


def test_gossip_option_is_validated():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    prob = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), alpha=0.5)
    with pytest.raises(ValueError, match="gossip"):
        solve(prob, make_graph("cycle", 4), solver="adom+", gossip="dense")
