"""Micro-benchmarks of the sketch-and-project inner solver (pytest-benchmark).

    python -m pytest bench/bench_constrained_kernels.py -o addopts="" --benchmark-only

One Kaczmarz sweep (n + m row steps) on the Poisson-control KKT matrix at N = 32 through the
numba kernel, and the same sweep written in numpy for scale; one Gaussian/count sketch step.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.constrained import SketchSolver
from optsolve.problems import get_problem


@pytest.fixture(scope="module")
def kkt():
    p = get_problem("POISSON_CONTROL", N=32)
    x = p.x0
    G = sp.csr_matrix(p.jac(x))
    K = sp.bmat([[p.hess(x, np.zeros(p.m)), G.T], [G, None]], format="csr")
    b = -np.r_[p.grad(x), p.cons(x)]
    return K, b


def test_kaczmarz_sweep_numba(benchmark, kkt):
    K, b = kkt
    s = SketchSolver(K, "kaczmarz", np.random.default_rng(0))
    s.run(b, 0.0, K.shape[0])  # compile
    benchmark(lambda: s.run(b, 0.0, K.shape[0]))


def test_kaczmarz_sweep_numpy_reference(benchmark, kkt):
    K, b = kkt
    rows = np.random.default_rng(0).integers(0, K.shape[0], size=K.shape[0] // 20)
    z = np.zeros(K.shape[0])

    def sweep():  # 1/20 of a sweep: the plain loop is that slow
        for i in rows:
            row = K.getrow(i)
            nrm = row.multiply(row).sum()
            if nrm:
                z[row.indices] += (b[i] - row @ z)[0] / nrm * row.data

    benchmark(sweep)


@pytest.mark.parametrize("sketch", ["gaussian", "count", "block"])
def test_block_sketch_step(benchmark, kkt, sketch):
    K, b = kkt
    s = SketchSolver(K, sketch, np.random.default_rng(0), sketch_size=32)
    benchmark(lambda: s.run(b, 0.0, 1))
