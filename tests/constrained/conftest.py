"""Small equality-constrained test problems with known solutions, written from their published
definitions (Hock & Schittkowski 1981; Boggs & Tolle 1989), plus a rank-deficient one.

They exist so that the solver's tests do not depend on ``optsolve.problems.library``; when the
library is present, ``test_library.py`` runs all of its problems as well.
"""

from __future__ import annotations

import numpy as np
import pytest

from optsolve.problems import EqualityConstrainedProblem


class HS6(EqualityConstrainedProblem):
    name, n, m = "HS6", 2, 1
    x0 = np.array([-1.2, 1.0])
    x_opt, f_opt = np.array([1.0, 1.0]), 0.0
    source = "Hock & Schittkowski (1981), problem 6"

    def _obj(self, x): return (1 - x[0]) ** 2
    def _grad(self, x): return np.array([-2 * (1 - x[0]), 0.0])
    def _cons(self, x): return np.array([10 * (x[1] - x[0] ** 2)])
    def _jac(self, x): return np.array([[-20 * x[0], 10.0]])
    def _hess(self, x, v): return np.array([[2 - 20 * v[0], 0.0], [0.0, 0.0]])


class HS7(EqualityConstrainedProblem):
    name, n, m = "HS7", 2, 1
    x0 = np.array([2.0, 2.0])
    x_opt, f_opt = np.array([0.0, np.sqrt(3.0)]), -np.sqrt(3.0)
    source = "Hock & Schittkowski (1981), problem 7"

    def _obj(self, x): return np.log(1 + x[0] ** 2) - x[1]
    def _grad(self, x): return np.array([2 * x[0] / (1 + x[0] ** 2), -1.0])
    def _cons(self, x): return np.array([(1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4])
    def _jac(self, x): return np.array([[4 * x[0] * (1 + x[0] ** 2), 2 * x[1]]])

    def _hess(self, x, v):
        h = (2 - 2 * x[0] ** 2) / (1 + x[0] ** 2) ** 2
        return np.array([[h + v[0] * (4 + 12 * x[0] ** 2), 0.0], [0.0, 2 * v[0]]])


class HS28(EqualityConstrainedProblem):
    name, n, m = "HS28", 3, 1
    x0 = np.array([-4.0, 1.0, 1.0])
    x_opt, f_opt = np.array([0.5, -0.5, 0.5]), 0.0
    source = "Hock & Schittkowski (1981), problem 28"

    def _obj(self, x): return (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2

    def _grad(self, x):
        a, b = 2 * (x[0] + x[1]), 2 * (x[1] + x[2])
        return np.array([a, a + b, b])

    def _cons(self, x): return np.array([x[0] + 2 * x[1] + 3 * x[2] - 1])
    def _jac(self, x): return np.array([[1.0, 2.0, 3.0]])
    def _hess(self, x, v): return np.array([[2.0, 2, 0], [2, 4, 2], [0, 2, 2]])


class HS39(EqualityConstrainedProblem):
    name, n, m = "HS39", 4, 2
    x0 = np.full(4, 2.0)
    x_opt, f_opt = np.array([1.0, 1.0, 0.0, 0.0]), -1.0
    source = "Hock & Schittkowski (1981), problem 39"

    def _obj(self, x): return -x[0]
    def _grad(self, x): return np.array([-1.0, 0, 0, 0])

    def _cons(self, x):
        return np.array([x[1] - x[0] ** 3 - x[2] ** 2, x[0] ** 2 - x[1] - x[3] ** 2])

    def _jac(self, x):
        return np.array([[-3 * x[0] ** 2, 1.0, -2 * x[2], 0.0], [2 * x[0], -1.0, 0.0, -2 * x[3]]])

    def _hess(self, x, v):
        return np.diag([-6 * x[0] * v[0] + 2 * v[1], 0.0, -2 * v[0], -2 * v[1]])


class HS40(EqualityConstrainedProblem):
    name, n, m = "HS40", 4, 3
    x0 = np.full(4, 0.8)
    x_opt = np.array([2 ** (-1 / 3), 2 ** (-1 / 2), 2 ** (-11 / 12), 2 ** (-1 / 4)])
    f_opt = -0.25
    source = "Hock & Schittkowski (1981), problem 40"

    def _obj(self, x): return -np.prod(x)

    def _grad(self, x):
        return -np.array([x[1] * x[2] * x[3], x[0] * x[2] * x[3], x[0] * x[1] * x[3],
                          x[0] * x[1] * x[2]])

    def _cons(self, x):
        return np.array([x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]])

    def _jac(self, x):
        return np.array([[3 * x[0] ** 2, 2 * x[1], 0, 0],
                         [2 * x[0] * x[3], 0, -1, x[0] ** 2],
                         [0, -1, 0, 2 * x[3]]], dtype=float)

    def _hess(self, x, v):
        H = np.zeros((4, 4))
        for i in range(4):
            for j in range(4):
                if i != j:
                    k = [t for t in range(4) if t not in (i, j)]
                    H[i, j] = -x[k[0]] * x[k[1]]
        H[0, 0] += 6 * x[0] * v[0]
        H[1, 1] += 2 * v[0]
        H[0, 0] += 2 * x[3] * v[1]
        H[0, 3] += 2 * x[0] * v[1]
        H[3, 0] += 2 * x[0] * v[1]
        H[3, 3] += 2 * v[2]
        return H


class HS48(EqualityConstrainedProblem):
    name, n, m = "HS48", 5, 2
    x0 = np.array([3.0, 5, -3, 2, -2])
    x_opt, f_opt = np.ones(5), 0.0
    source = "Hock & Schittkowski (1981), problem 48"

    def _obj(self, x): return (x[0] - 1) ** 2 + (x[1] - x[2]) ** 2 + (x[3] - x[4]) ** 2

    def _grad(self, x):
        return np.array([2 * (x[0] - 1), 2 * (x[1] - x[2]), -2 * (x[1] - x[2]),
                         2 * (x[3] - x[4]), -2 * (x[3] - x[4])])

    def _cons(self, x): return np.array([x.sum() - 5, x[2] - 2 * (x[3] + x[4]) + 3])
    def _jac(self, x): return np.array([[1.0, 1, 1, 1, 1], [0, 0, 1, -2, -2]])

    def _hess(self, x, v):
        H = np.zeros((5, 5))
        H[0, 0] = 2
        H[1:3, 1:3] = [[2, -2], [-2, 2]]
        H[3:5, 3:5] = [[2, -2], [-2, 2]]
        return H


class BT2(EqualityConstrainedProblem):
    name, n, m = "BT2", 3, 1
    x0 = np.ones(3)
    x_opt = np.array([1.10485902, 1.19667419, 1.53526226])
    f_opt = 0.032568200
    source = "Boggs & Tolle (1989), problem 2"
    RHS = 4 + 3 * np.sqrt(2)

    def _obj(self, x): return (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4

    def _grad(self, x):
        d = x[1] - x[2]
        return np.array([2 * (x[0] - 1) + 2 * (x[0] - x[1]), -2 * (x[0] - x[1]) + 4 * d**3,
                         -4 * d**3])

    def _cons(self, x): return np.array([x[0] * (1 + x[1] ** 2) + x[2] ** 4 - self.RHS])
    def _jac(self, x): return np.array([[1 + x[1] ** 2, 2 * x[0] * x[1], 4 * x[2] ** 3]])

    def _hess(self, x, v):
        d2 = 12 * (x[1] - x[2]) ** 2
        H = np.array([[4.0, -2, 0], [-2, 2 + d2, -d2], [0, -d2, d2]])
        H[0, 1] += 2 * x[1] * v[0]
        H[1, 0] += 2 * x[1] * v[0]
        H[1, 1] += 2 * x[0] * v[0]
        H[2, 2] += 12 * x[2] ** 2 * v[0]
        return H


class RankDeficient(EqualityConstrainedProblem):
    """min ‖x‖² s.t. x₁+x₂+x₃ = 3 written twice (LICQ fails, the solution is (1, 1, 1))."""

    name, n, m = "RANKDEF", 3, 2
    x0 = np.array([3.0, 0.0, -1.0])
    x_opt, f_opt = np.ones(3), 3.0
    source = "constructed: duplicated linear constraint"

    def _obj(self, x): return float(x @ x)
    def _grad(self, x): return 2 * x
    def _cons(self, x): return np.array([x.sum() - 3, 2 * x.sum() - 6])
    def _jac(self, x): return np.array([[1.0, 1, 1], [2.0, 2, 2]])
    def _hess(self, x, v): return 2 * np.eye(3)


TEST_PROBLEMS = (HS6, HS7, HS28, HS39, HS40, HS48, BT2)


@pytest.fixture(params=TEST_PROBLEMS, ids=lambda c: c.name)
def test_problem(request):
    return request.param()


@pytest.fixture
def rank_deficient_problem():
    return RankDeficient()


class PoissonControl(EqualityConstrainedProblem):
    """min ½‖w − w*‖² + (β/2)‖z‖² s.t. Δ_h w + z = 0 on an N×N interior grid (5-point
    Laplacian, zero Dirichlet boundary); sparse Jacobian and Hessian."""

    def __init__(self, N, beta=1e-2):
        import scipy.sparse as sp

        self.name, self.N, self.beta = f"POISSON{N}", N, beta
        h = 1.0 / (N + 1)
        T = sp.diags([np.ones(N - 1), -2 * np.ones(N), np.ones(N - 1)], [-1, 0, 1])
        I = sp.identity(N)
        self.L = ((sp.kron(I, T) + sp.kron(T, I)) / h**2).tocsr()
        self.n, self.m = 2 * N * N, N * N
        s = np.arange(1, N + 1) * h
        self.target = np.outer(np.sin(np.pi * s), np.sin(2 * np.pi * s)).ravel()
        self.x0 = np.zeros(self.n)
        self.J = sp.hstack([self.L, sp.identity(N * N)], format="csr")
        self.H = sp.diags(np.r_[np.ones(N * N), beta * np.ones(N * N)]).tocsr()

    def _obj(self, x):
        k = self.N * self.N
        return 0.5 * np.sum((x[:k] - self.target) ** 2) + 0.5 * self.beta * np.sum(x[k:] ** 2)

    def _grad(self, x):
        k = self.N * self.N
        return np.r_[x[:k] - self.target, self.beta * x[k:]]

    def _cons(self, x): return self.J @ x
    def _jac(self, x): return self.J
    def _hess(self, x, v): return self.H


@pytest.fixture
def poisson_problem():
    return PoissonControl(6)


@pytest.fixture
def make_problem():
    """``make_problem(name)`` -> a fresh test problem (test files cannot import conftest)."""
    by_name = {c.name: c for c in (*TEST_PROBLEMS, RankDeficient)}
    return lambda name: by_name[name]()
