"""Systems of nonlinear equations as constrained problems (CUTEst's "NE" set): f = 0, c(x) = 0.

Definitions follow the CUTEst SIF files named in each ``source`` (a group ``'SCALE' s`` is
divided by ``s``); several are in the CUTEst set of Hong, Na, Mahoney & Kolar (2023). Any root
is optimal; ``x_opt`` is the root noted per problem.
"""

from __future__ import annotations

import numpy as np

from ._base import LibraryProblem, sym

__all__ = [
    "BOOTH", "CUBENE", "DENSCHNCNE", "DENSCHNFNE", "GOTTFR", "HELIXNE", "INTEQNE", "MOREBVNE",
    "PRICE4NE", "RSNBRNE", "SINVALNE", "TRIGON1NE", "WAYSEA1NE", "WAYSEA2NE", "ZANGWIL3",
]  # fmt: skip

BUCKLEY = ("Buckley (1989), Test functions for unconstrained minimization, TR 1989CS-3, "
           "Dalhousie University, problem {}; CUTEst SIF {}")
MGH = ("Moré, Garbow & Hillstrom (1981), ACM TOMS 7(1):17-41, problem {}; CUTEst SIF {}")
SCIPY_GO = "SciPy global-optimization benchmark {}; CUTEst SIF {} (Gould 2020)"


class _Equations(LibraryProblem):
    objective_terms = ()
    f_opt = 0.0
    notes = "Constant objective (a system of nonlinear equations)."


class BOOTH(_Equations):
    name, n, m, source = "BOOTH", 2, 2, BUCKLEY.format(36, "BOOTH")
    x0, x_opt = (0.0, 0.0), (1.0, 3.0)
    linear_constraints = ([[1.0, 2.0], [2.0, 1.0]], [7.0, 5.0])


class ZANGWIL3(_Equations):
    name, n, m, source = "ZANGWIL3", 3, 3, BUCKLEY.format(13, "ZANGWIL3")
    x0, x_opt = (100.0, -1.0, 2.5), (0.0, 0.0, 0.0)
    linear_constraints = ([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0], [1.0, 1.0, -1.0]], [0.0] * 3)


class CUBENE(_Equations):
    name, n, m, source = "CUBENE", 2, 2, BUCKLEY.format(5, "CUBENE")
    x0, x_opt = (-1.2, 1.0), (1.0, 1.0)

    def _cons(self, x):
        return np.array([x[0] - 1, 10 * (x[1] - x[0] ** 3)])

    def _jac(self, x):
        return np.array([[1.0, 0.0], [-30 * x[0] ** 2, 10.0]])

    def _cons_hessians(self, x):
        return np.array([np.zeros((2, 2)), sym(2, {(0, 0): -60 * x[0]})])


class RSNBRNE(_Equations):
    name, n, m, source = "RSNBRNE", 2, 2, MGH.format(1, "RSNBRNE")
    x0, x_opt = (-1.2, 1.0), (1.0, 1.0)

    def _cons(self, x):
        return np.array([10 * (x[1] - x[0] ** 2), x[0] - 1])

    def _jac(self, x):
        return np.array([[-20 * x[0], 10.0], [1.0, 0.0]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): -20.0}), np.zeros((2, 2))])


class HELIXNE(_Equations):
    name, n, m, source = "HELIXNE", 3, 3, MGH.format(7, "HELIXNE")
    notes = ("θ(x1, x2) is MGH's arctan(x2/x1)/2π (+1/2 for x1 < 0), continuous at the start "
             "(-1, 0, 0); the SIF file's atan2 has its branch cut there.")
    x0, x_opt = (-1.0, 0.0, 0.0), (1.0, 0.0, 0.0)

    @staticmethod
    def _theta(x):
        theta = np.arctan2(x[1], x[0]) / (2 * np.pi)
        return theta + 1.0 if theta < -0.25 else theta

    def _cons(self, x):
        r = np.hypot(x[0], x[1])
        return np.array([10 * (x[2] - 10 * self._theta(x)), 10 * (r - 1), x[2]])

    def _jac(self, x):
        r2 = x[0] ** 2 + x[1] ** 2
        r = np.sqrt(r2)
        dtheta = np.array([-x[1], x[0]]) / (2 * np.pi * r2)
        return np.array([[-100 * dtheta[0], -100 * dtheta[1], 10.0],
                         [10 * x[0] / r, 10 * x[1] / r, 0.0],
                         [0.0, 0.0, 1.0]])

    def _cons_hessians(self, x):
        x1, x2 = x[0], x[1]
        r2 = x1**2 + x2**2
        c = 1 / (2 * np.pi * r2**2)
        theta_h = {(0, 0): 2 * x1 * x2 * c, (0, 1): (x2**2 - x1**2) * c, (1, 1): -2 * x1 * x2 * c}
        r3 = r2**1.5
        return np.array([sym(3, {k: -100 * val for k, val in theta_h.items()}),
                         sym(3, {(0, 0): 10 * x2**2 / r3, (0, 1): -10 * x1 * x2 / r3,
                                 (1, 1): 10 * x1**2 / r3}),
                         np.zeros((3, 3))])


class SINVALNE(_Equations):
    """Nonlinear-equation version of SINEVAL, a sine "banana valley" (Xiao & Zhou 1992, 4.2).

    ``c_1 = (x_2 - sin x_1) / 100``, ``c_2 = x_1 / 0.5``: SIF groups ``G1 = X2 - SIN(X1)`` and
    ``G2 = X1`` with scales 100 and 0.5 (CUTEst divides a group by its scale).
    """

    name, n, m = "SINVALNE", 2, 2
    source = ("Y. Xiao & F. Zhou (1992), Non-monotone trust region methods with curvilinear "
              "path in unconstrained optimization, Computing 48:303-317, problem 4.2; CUTEst "
              "SIF SINVALNE (Facchinei, Roma & Toint 1994)")
    notes = ("The SIF file was not at hand: the group scales (100, 0.5) are those of the sif2jax "
             "transcription, which its authors check against pycutest. The root (0, 0) does not "
             "depend on them.")
    x0, x_opt = (4.712389, -1.0), (0.0, 0.0)

    def _cons(self, x):
        return np.array([0.01 * (x[1] - np.sin(x[0])), 2.0 * x[0]])

    def _jac(self, x):
        return np.array([[-0.01 * np.cos(x[0]), 0.01], [2.0, 0.0]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): 0.01 * np.sin(x[0])}), np.zeros((2, 2))])


class TRIGON1NE(_Equations):
    """SciPy's Trigonometric01 as ``N`` equations (CUTEst TRIGON1NE, N = 10 by default).

    ``c_i = Σ_{j≠i} cos x_j + (i + 1) cos x_i + i sin x_i - (N + i)``, ``i = 1..N`` (SIF:
    group ``F(I)`` = elements ``C(J)``, ``J ≠ I``, plus ``(I+1) C(I) + I S(I)``, constant
    ``N + I``); start ``x_i = 0.1``; root ``x = 0``.
    """

    name = "TRIGON1NE"
    source = SCIPY_GO.format("Trigonometric01", "TRIGON1NE")
    scalable = True
    x_opt = None

    def __init__(self, N: int = 10):
        if isinstance(N, bool) or int(N) != N or N < 1:
            raise ValueError(f"N must be a positive integer for TRIGON1NE, got {N!r}")
        self.n = self.m = int(N)
        self._i = np.arange(1, self.n + 1, dtype=np.float64)
        self.x0 = np.full(self.n, 0.1)
        super().__init__()
        self.params = {"N": self.n}
        self.x_opt = np.zeros(self.n)

    def _cons(self, x):
        i = self._i
        return np.cos(x).sum() + i * np.cos(x) + i * np.sin(x) - (self.n + i)

    def _jac(self, x):
        i = self._i
        return np.tile(-np.sin(x), (self.m, 1)) + np.diag(i * (np.cos(x) - np.sin(x)))

    def _hess(self, x, v):
        # Σ_i v_i ∇²c_i: every row has -cos x_j on the diagonal, row i adds i(-cos - sin) at (i, i)
        i = self._i
        return np.diag(-v.sum() * np.cos(x) - v * i * (np.cos(x) + np.sin(x)))


class DENSCHNCNE(_Equations):
    name, n, m = "DENSCHNCNE", 2, 2
    source = ("Dennis & Schnabel (1983), Numerical Methods for Unconstrained Optimization and "
              "Nonlinear Equations, Prentice-Hall (the DENSCHNC example); CUTEst SIF DENSCHNCNE")
    x0, x_opt = (2.0, 3.0), (1.0, 1.0)

    def _cons(self, x):
        return np.array([x[0] ** 2 + x[1] ** 2 - 2, np.exp(x[0] - 1) + x[1] ** 3 - 2])

    def _jac(self, x):
        return np.array([[2 * x[0], 2 * x[1]], [np.exp(x[0] - 1), 3 * x[1] ** 2]])

    def _cons_hessians(self, x):
        return np.array([2 * np.eye(2), sym(2, {(0, 0): np.exp(x[0] - 1), (1, 1): 6 * x[1]})])


class DENSCHNFNE(_Equations):
    name, n, m = "DENSCHNFNE", 2, 2
    source = ("Dennis & Schnabel (1983), Numerical Methods for Unconstrained Optimization and "
              "Nonlinear Equations, Prentice-Hall, p. 107; CUTEst SIF DENSCHNFNE")
    notes = "Constant objective; several roots."
    unique_x = False
    x0 = (2.0, 0.0)
    x_opt = (1.0, 1.0)  # the root Newton's method reaches from x0

    def _cons(self, x):
        x1, x2 = x
        return np.array([2 * (x1 + x2) ** 2 + (x1 - x2) ** 2 - 8, 5 * x1**2 + (x2 - 3) ** 2 - 9])

    def _jac(self, x):
        x1, x2 = x
        return np.array([[6 * x1 + 2 * x2, 2 * x1 + 6 * x2], [10 * x1, 2 * (x2 - 3)]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): 6.0, (0, 1): 2.0, (1, 1): 6.0}),
                         sym(2, {(0, 0): 10.0, (1, 1): 2.0})])


class PRICE4NE(_Equations):
    name, n, m, source = "PRICE4NE", 2, 2, SCIPY_GO.format("Price04", "PRICE4NE")
    notes = ("Degenerate: the root (0, 0) that Newton's method reaches from x0 has a singular "
             "Jacobian (convergence is linear); the other root is (2, 4).")
    unique_x = False
    x0, x_opt = (1.0, 5.0), (0.0, 0.0)

    def _cons(self, x):
        x1, x2 = x
        return np.array([2 * x1**3 * x2 - x2**3, 6 * x1 - x2**2 + x2])

    def _jac(self, x):
        x1, x2 = x
        return np.array([[6 * x1**2 * x2, 2 * x1**3 - 3 * x2**2], [6.0, 1 - 2 * x2]])

    def _cons_hessians(self, x):
        x1, x2 = x
        return np.array([sym(2, {(0, 0): 12 * x1 * x2, (0, 1): 6 * x1**2, (1, 1): -6 * x2}),
                         sym(2, {(1, 1): -2.0})])


class GOTTFR(_Equations):
    name, n, m, source = "GOTTFR", 2, 2, BUCKLEY.format(208, "GOTTFR") + " (from Sisser)"
    notes = "Constant objective; several roots."
    unique_x = False
    x0 = (0.5, 0.5)
    # the root Newton's method reaches from x0; (0, 0) is another
    x_opt = (0.199983494254919, 0.666831236379253)

    def _cons(self, x):
        x1, x2 = x
        return np.array([x1 - 0.1136 * (x1 + 3 * x2) * (1 - x1),
                         x2 + 7.5 * (2 * x1 - x2) * (1 - x2)])

    def _jac(self, x):
        x1, x2 = x
        return np.array([[1 - 0.1136 * (1 - 2 * x1 - 3 * x2), -0.3408 * (1 - x1)],
                         [15 * (1 - x2), 1 + 7.5 * (2 * x2 - 2 * x1 - 1)]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): 0.2272, (0, 1): 0.3408}),
                         sym(2, {(0, 1): -15.0, (1, 1): 15.0})])


class WAYSEA1NE(_Equations):
    name, n, m, source = "WAYSEA1NE", 2, 2, SCIPY_GO.format("WayburnSeader01", "WAYSEA1NE")
    x0, x_opt = (1.0, 5.0), (1.0, 2.0)

    def _cons(self, x):
        return np.array([x[0] ** 6 + x[1] ** 4 - 17, 2 * x[0] + x[1] - 4])

    def _jac(self, x):
        return np.array([[6 * x[0] ** 5, 4 * x[1] ** 3], [2.0, 1.0]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): 30 * x[0] ** 4, (1, 1): 12 * x[1] ** 2}),
                         np.zeros((2, 2))])


class WAYSEA2NE(_Equations):
    name, n, m, source = "WAYSEA2NE", 2, 2, SCIPY_GO.format("WayburnSeader02", "WAYSEA2NE")
    x0 = (1.0, 5.0)
    # x2 = 1, -4 x1² + 2.5 x1 - 0.340125 = 0 (the SIF file's solution 0.424861025, exactly)
    x_opt = ((2.5 + np.sqrt(2.5**2 - 16 * 0.340125)) / 8, 1.0)

    def _cons(self, x):
        return np.array([-4 * x[0] ** 2 - 4 * x[1] ** 2 + 2.5 * x[0] + 13 * x[1] - 9.340125,
                         x[1] - 1])

    def _jac(self, x):
        return np.array([[2.5 - 8 * x[0], 13 - 8 * x[1]], [0.0, 1.0]])

    def _cons_hessians(self, x):
        return np.array([-8 * np.eye(2), np.zeros((2, 2))])


class _NewtonSolved(_Equations):
    """Scalable systems whose root is computed once by Newton's method from ``x0``."""

    scalable = True

    def _newton_root(self) -> np.ndarray:
        x = self.x0.copy()
        for _ in range(50):
            c = self._cons(x)
            if np.abs(c).max() < 1e-14:
                break
            x = x - np.linalg.solve(self._jac(x), c)
        return x


class MOREBVNE(_NewtonSolved):
    """Discrete two-point boundary value problem (MGH 28) as ``n`` equations.

    ``c_i = 2x_i - x_{i-1} - x_{i+1} + h²(x_i + t_i + 1)³/2`` with ``x_0 = x_{n+1} = 0``,
    ``h = 1/(n+1)``, ``t_i = ih``; start ``x_i = t_i(t_i - 1)``.
    """

    name, source = "MOREBVNE", MGH.format(28, "MOREBVNE")

    def __init__(self, n: int = 10):
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer for MOREBVNE, got {n!r}")
        self.n = self.m = int(n)
        self.h = 1.0 / (self.n + 1)
        self.t = np.arange(1, self.n + 1) * self.h
        self.x0 = self.t * (self.t - 1)
        super().__init__()
        self.params = {"n": self.n}
        self.x_opt = self._newton_root()

    def _cons(self, x):
        padded = np.concatenate([[0.0], x, [0.0]])
        return (2 * x - padded[:-2] - padded[2:]
                + 0.5 * self.h**2 * (x + self.t + 1) ** 3)

    def _jac(self, x):
        J = np.diag(2 + 1.5 * self.h**2 * (x + self.t + 1) ** 2)
        J -= np.eye(self.n, k=1) + np.eye(self.n, k=-1)
        return J

    def _hess(self, x, v):
        return np.diag(3 * self.h**2 * (x + self.t + 1) * v)


class INTEQNE(_NewtonSolved):
    """Discrete integral equation (MGH 29) on ``N + 2`` points, boundary values as equations.

    Variables ``x_0, ..., x_{N+1}``; ``c_0 = x_0``, ``c_{N+1} = x_{N+1}`` and for ``1 ≤ i ≤ N``
    ``c_i = x_i + (h/2)[(1 - t_i) Σ_{j≤i} t_j u_j³ + t_i Σ_{j>i} (1 - t_j) u_j³]``,
    ``u_j = x_j + t_j + 1``, ``h = 1/(N+1)``; start ``x_i = t_i(t_i - 1)``.
    """

    name, source = "INTEQNE", MGH.format(29, "INTEQNE")
    notes = "CUTEst's default N is 10 (50 in older SIF files)."

    def __init__(self, N: int = 10):
        if isinstance(N, bool) or int(N) != N or N < 1:
            raise ValueError(f"N must be a positive integer for INTEQNE, got {N!r}")
        self.N = int(N)
        self.n = self.m = self.N + 2
        self.h = 1.0 / (self.N + 1)
        self.t = np.arange(self.N + 2) * self.h
        t_in = self.t[1:-1]
        # W[i, j] = (1 - t_i) t_j for j <= i, t_i (1 - t_j) for j > i  (interior indices)
        lower = np.tril(np.outer(1 - t_in, t_in))
        upper = np.triu(np.outer(t_in, 1 - t_in), k=1)
        self._W = 0.5 * self.h * (lower + upper)
        self.x0 = self.t * (self.t - 1)
        super().__init__()
        self.params = {"N": self.N}
        self.x_opt = self._newton_root()

    def _u(self, x):
        return x[1:-1] + self.t[1:-1] + 1

    def _cons(self, x):
        c = x.copy()
        c[1:-1] += self._W @ self._u(x) ** 3
        return c

    def _jac(self, x):
        J = np.eye(self.n)
        J[1:-1, 1:-1] += self._W * (3 * self._u(x) ** 2)
        return J

    def _hess(self, x, v):
        H = np.zeros((self.n, self.n))
        inner = np.arange(1, self.n - 1)
        H[inner, inner] = (self._W.T @ v[1:-1]) * 6 * self._u(x)
        return H
