"""How the MPI runs place nodes on processes and what data a process receives (no MPI needed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve import _mpi
from optsolve.problems.partitioned import DecentralizedProblem, PackedData, partition_data


@pytest.mark.parametrize(("n_nodes", "n_procs"), [(8, 1), (8, 3), (8, 8), (5, 2)])
def test_node_owners_are_contiguous_balanced_blocks(n_nodes, n_procs):
    owners = _mpi.node_owners(n_nodes, n_procs)
    assert owners.shape == (n_nodes,)
    assert np.all(np.diff(owners) >= 0)  # contiguous blocks
    sizes = np.bincount(owners, minlength=n_procs)
    assert sizes.sum() == n_nodes and sizes.max() - sizes.min() <= 1 and sizes.min() >= 1


def test_resolve_n_procs():
    assert 1 <= _mpi.resolve_n_procs(None, 3) <= 3
    assert _mpi.resolve_n_procs(2, 5) == 2
    with pytest.raises(ValueError, match="n_procs"):
        _mpi.resolve_n_procs(6, 5)
    with pytest.raises(TypeError, match="n_procs"):
        _mpi.resolve_n_procs(True, 5)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("loss", ["ridge", "logistic"])
def test_local_packed_holds_only_the_owned_rows_with_the_same_gradients(sparse, loss):
    from optsolve.problems import _partitioned_kernels as k

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    if sparse:
        X = sp.csr_matrix(X * (rng.random(X.shape) < 0.4))
    y = np.sign(rng.standard_normal(60)) if loss == "logistic" else rng.standard_normal(60)
    make = DecentralizedProblem.logistic if loss == "logistic" else DecentralizedProblem.ridge
    prob = make(partition_data(X, y, 6, random_state=0), 0.3)
    mine = [1, 4]
    pk = PackedData(**_mpi.local_packed(prob.packed, mine))
    # only the owned rows travel
    assert pk.y.size == prob.n_samples[mine].sum()
    assert pk.offsets.size == prob.n_nodes + 1
    assert np.all(np.diff(pk.offsets)[[0, 2, 3, 5]] == 0)
    w = rng.standard_normal(5)
    out = np.empty(5)
    for i in mine:  # the simulator's kernels read node i's rows exactly as before
        k.local_grad_into(*pk.kernel_args(), pk.offsets[i], pk.offsets[i + 1], w,
                          pk.inv_n_total, pk.reg, out)
        np.testing.assert_allclose(out, prob.local_grad(i, w), rtol=1e-14, atol=1e-15)
        val = k.local_value(*pk.kernel_args(), pk.offsets[i], pk.offsets[i + 1], w,
                            pk.inv_n_total, pk.reg)
        assert val == pytest.approx(prob.local_value(i, w), rel=1e-14)
