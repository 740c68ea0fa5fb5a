"""Equality-constrained problems of Hock & Schittkowski (1981), as in CUTEst's SIF files.

Numbering and data follow W. Hock and K. Schittkowski, *Test Examples for Nonlinear Programming
Codes*, Lecture Notes in Economics and Mathematical Systems 187, Springer, 1981 (HS), and the
CUTEst SIF transcriptions where they differ (noted per problem). ``x_opt`` values printed in HS
with 6-7 digits were refined by Newton's method on the KKT system started from the published
point (so that the KKT residual is at round-off); the published digits agree with the refined ones.
"""

from __future__ import annotations

import numpy as np

from ._base import LibraryProblem, sym, term

HS = "Hock & Schittkowski (1981), Test Examples for Nonlinear Programming Codes, problem {}"
R2 = np.sqrt(2.0)

__all__ = [
    "HS6", "HS7", "HS8", "HS9", "HS26", "HS27", "HS28", "HS39", "HS40", "HS42", "HS46", "HS47",
    "HS48", "HS49", "HS50", "HS51", "HS52", "HS56", "HS61", "HS77", "HS78", "HS79", "HS100LNP",
    "HS111LNP",
]


class HS6(LibraryProblem):
    name, n, m, source = "HS6", 2, 1, HS.format(6)
    x0, x_opt, f_opt = (-1.2, 1.0), (1.0, 1.0), 0.0
    objective_terms = (term(1, {0: 1}, 1),)

    def _cons(self, x):
        return np.array([10.0 * (x[1] - x[0] ** 2)])

    def _jac(self, x):
        return np.array([[-20.0 * x[0], 10.0]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): -20.0})])


class HS7(LibraryProblem):
    name, n, m, source = "HS7", 2, 1, HS.format(7)
    x0, x_opt, f_opt = (2.0, 2.0), (0.0, np.sqrt(3.0)), -np.sqrt(3.0)

    def _obj(self, x):
        return np.log1p(x[0] ** 2) - x[1]

    def _grad(self, x):
        return np.array([2 * x[0] / (1 + x[0] ** 2), -1.0])

    def _hess_obj(self, x):
        return sym(2, {(0, 0): 2 * (1 - x[0] ** 2) / (1 + x[0] ** 2) ** 2})

    def _cons(self, x):
        return np.array([(1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4])

    def _jac(self, x):
        return np.array([[4 * x[0] * (1 + x[0] ** 2), 2 * x[1]]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): 4 + 12 * x[0] ** 2, (1, 1): 2.0})])


class HS8(LibraryProblem):
    name, n, m, source = "HS8", 2, 2, HS.format(8)
    x0, f_opt = (2.0, 1.0), -1.0
    # x1² + x2² = 25, x1 x2 = 9  =>  (x1 ± x2)² = 43, 7
    x_opt = ((np.sqrt(43.0) + np.sqrt(7.0)) / 2, (np.sqrt(43.0) - np.sqrt(7.0)) / 2)
    notes = "Constant objective: every feasible point is optimal (multipliers are zero)."
    unique_x = False

    def _obj(self, x):
        return -1.0

    def _grad(self, x):
        return np.zeros(2)

    def _hess_obj(self, x):
        return np.zeros((2, 2))

    def _cons(self, x):
        return np.array([x[0] ** 2 + x[1] ** 2 - 25, x[0] * x[1] - 9])

    def _jac(self, x):
        return np.array([[2 * x[0], 2 * x[1]], [x[1], x[0]]])

    def _cons_hessians(self, x):
        return np.array([2 * np.eye(2), sym(2, {(0, 1): 1.0})])


class HS9(LibraryProblem):
    name, n, m, source = "HS9", 2, 1, HS.format(9)
    x0, x_opt, f_opt = (0.0, 0.0), (-3.0, -4.0), -0.5
    linear_constraints = ([[4.0, -3.0]], [0.0])
    notes = "Solutions x = (12k - 3, 16k - 4) for every integer k, all with f = -1/2."
    unique_x = False
    _a, _b = np.pi / 12, np.pi / 16

    def _obj(self, x):
        return np.sin(self._a * x[0]) * np.cos(self._b * x[1])

    def _grad(self, x):
        a, b = self._a, self._b
        return np.array([a * np.cos(a * x[0]) * np.cos(b * x[1]),
                         -b * np.sin(a * x[0]) * np.sin(b * x[1])])

    def _hess_obj(self, x):
        a, b = self._a, self._b
        s1, c1, s2, c2 = np.sin(a * x[0]), np.cos(a * x[0]), np.sin(b * x[1]), np.cos(b * x[1])
        return sym(2, {(0, 0): -a * a * s1 * c2, (0, 1): -a * b * c1 * s2,
                       (1, 1): -b * b * s1 * c2})


class HS26(LibraryProblem):
    name, n, m, source = "HS26", 3, 1, HS.format(26)
    x0, x_opt, f_opt = (-2.6, 2.0, 2.0), (1.0, 1.0, 1.0), 0.0
    objective_terms = (term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: -1}, p=4))
    notes = ("Degenerate: the objective's Hessian is singular at the solution (slow "
             "convergence). A second global solution x1 = x2 = x3 ≈ -1.81 also has f = 0.")
    unique_x = False

    def _cons(self, x):
        return np.array([(1 + x[1] ** 2) * x[0] + x[2] ** 4 - 3])

    def _jac(self, x):
        return np.array([[1 + x[1] ** 2, 2 * x[0] * x[1], 4 * x[2] ** 3]])

    def _cons_hessians(self, x):
        return np.array([sym(3, {(0, 1): 2 * x[1], (1, 1): 2 * x[0], (2, 2): 12 * x[2] ** 2})])


class HS27(LibraryProblem):
    name, n, m, source = "HS27", 3, 1, HS.format(27)
    x0, x_opt, f_opt = (2.0, 2.0, 2.0), (-1.0, 1.0, 0.0), 0.04

    def _obj(self, x):
        return 0.01 * (x[0] - 1) ** 2 + (x[1] - x[0] ** 2) ** 2

    def _grad(self, x):
        r = x[1] - x[0] ** 2
        return np.array([0.02 * (x[0] - 1) - 4 * x[0] * r, 2 * r, 0.0])

    def _hess_obj(self, x):
        return sym(3, {(0, 0): 0.02 - 4 * x[1] + 12 * x[0] ** 2, (0, 1): -4 * x[0], (1, 1): 2.0})

    def _cons(self, x):
        return np.array([x[0] + x[2] ** 2 + 1])

    def _jac(self, x):
        return np.array([[1.0, 0.0, 2 * x[2]]])

    def _cons_hessians(self, x):
        return np.array([sym(3, {(2, 2): 2.0})])


class HS28(LibraryProblem):
    name, n, m, source = "HS28", 3, 1, HS.format(28)
    x0, x_opt, f_opt = (-4.0, 1.0, 1.0), (0.5, -0.5, 0.5), 0.0
    objective_terms = (term(1, {0: 1, 1: 1}), term(1, {1: 1, 2: 1}))
    linear_constraints = ([[1.0, 2.0, 3.0]], [1.0])


class HS39(LibraryProblem):
    name, n, m, source = "HS39", 4, 2, HS.format(39)
    x0, x_opt, f_opt = (2.0, 2.0, 2.0, 2.0), (1.0, 1.0, 0.0, 0.0), -1.0
    objective_terms = (term(-1, {0: 1}, p=1),)

    def _cons(self, x):
        return np.array([x[1] - x[0] ** 3 - x[2] ** 2, x[0] ** 2 - x[1] - x[3] ** 2])

    def _jac(self, x):
        return np.array([[-3 * x[0] ** 2, 1.0, -2 * x[2], 0.0],
                         [2 * x[0], -1.0, 0.0, -2 * x[3]]])

    def _cons_hessians(self, x):
        return np.array([sym(4, {(0, 0): -6 * x[0], (2, 2): -2.0}),
                         sym(4, {(0, 0): 2.0, (3, 3): -2.0})])


class HS40(LibraryProblem):
    name, n, m, source = "HS40", 4, 3, HS.format(40)
    x0, f_opt = (0.8, 0.8, 0.8, 0.8), -0.25
    x_opt = (2 ** (-1 / 3), 2 ** (-1 / 2), 2 ** (-11 / 12), 2 ** (-1 / 4))

    def _obj(self, x):
        return -np.prod(x)

    def _grad(self, x):
        return -np.array([np.prod(np.delete(x, i)) for i in range(4)])

    def _hess_obj(self, x):
        H = np.zeros((4, 4))
        for i in range(4):
            for j in range(4):
                if i != j:
                    H[i, j] = -np.prod(np.delete(x, [i, j]))
        return H

    def _cons(self, x):
        return np.array([x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]])

    def _jac(self, x):
        return np.array([[3 * x[0] ** 2, 2 * x[1], 0.0, 0.0],
                         [2 * x[0] * x[3], 0.0, -1.0, x[0] ** 2],
                         [0.0, -1.0, 0.0, 2 * x[3]]])

    def _cons_hessians(self, x):
        return np.array([sym(4, {(0, 0): 6 * x[0], (1, 1): 2.0}),
                         sym(4, {(0, 0): 2 * x[3], (0, 3): 2 * x[0]}),
                         sym(4, {(3, 3): 2.0})])


class HS42(LibraryProblem):
    name, n, m, source = "HS42", 4, 2, HS.format(42)
    x0, f_opt = (1.0, 1.0, 1.0, 1.0), 28.0 - 10.0 * R2
    x_opt = (2.0, 2.0, 0.6 * R2, 0.8 * R2)
    objective_terms = tuple(term(1, {i: 1}, i + 1.0) for i in range(4))

    def _cons(self, x):
        return np.array([x[0] - 2, x[2] ** 2 + x[3] ** 2 - 2])

    def _jac(self, x):
        return np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2 * x[2], 2 * x[3]]])

    def _cons_hessians(self, x):
        return np.array([np.zeros((4, 4)), sym(4, {(2, 2): 2.0, (3, 3): 2.0})])


class HS46(LibraryProblem):
    name, n, m, source = "HS46", 5, 2, HS.format(46)
    x0, x_opt, f_opt = (R2 / 2, 1.75, 0.5, 2.0, 2.0), (1.0,) * 5, 0.0
    objective_terms = (term(1, {0: 1, 1: -1}), term(1, {2: 1}, 1), term(1, {3: 1}, 1, 4),
                       term(1, {4: 1}, 1, 6))
    notes = "Degenerate: quartic and sextic terms make the Hessian singular at the solution."

    def _cons(self, x):
        return np.array([x[0] ** 2 * x[3] + np.sin(x[3] - x[4]) - 1,
                         x[1] + x[2] ** 4 * x[3] ** 2 - 2])

    def _jac(self, x):
        c = np.cos(x[3] - x[4])
        return np.array([[2 * x[0] * x[3], 0.0, 0.0, x[0] ** 2 + c, -c],
                         [0.0, 1.0, 4 * x[2] ** 3 * x[3] ** 2, 2 * x[2] ** 4 * x[3], 0.0]])

    def _cons_hessians(self, x):
        s = np.sin(x[3] - x[4])
        return np.array([
            sym(5, {(0, 0): 2 * x[3], (0, 3): 2 * x[0], (3, 3): -s, (3, 4): s, (4, 4): -s}),
            sym(5, {(2, 2): 12 * x[2] ** 2 * x[3] ** 2, (2, 3): 8 * x[2] ** 3 * x[3],
                    (3, 3): 2 * x[2] ** 4}),
        ])


class HS47(LibraryProblem):
    name, n, m, source = "HS47", 5, 3, HS.format(47) + "; CUTEst SIF HS47"
    x0, x_opt, f_opt = (2.0, R2, -1.0, 2.0 - R2, 0.5), (1.0,) * 5, 0.0
    objective_terms = (term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: -1}, p=3),
                       term(1, {2: 1, 3: -1}, p=4), term(1, {3: 1, 4: -1}, p=4))

    def _cons(self, x):
        return np.array([x[0] + x[1] ** 2 + x[2] ** 3 - 3, x[1] - x[2] ** 2 + x[3] - 1,
                         x[0] * x[4] - 1])

    def _jac(self, x):
        return np.array([[1.0, 2 * x[1], 3 * x[2] ** 2, 0.0, 0.0],
                         [0.0, 1.0, -2 * x[2], 1.0, 0.0],
                         [x[4], 0.0, 0.0, 0.0, x[0]]])

    def _cons_hessians(self, x):
        return np.array([sym(5, {(1, 1): 2.0, (2, 2): 6 * x[2]}), sym(5, {(2, 2): -2.0}),
                         sym(5, {(0, 4): 1.0})])


class HS48(LibraryProblem):
    name, n, m, source = "HS48", 5, 2, HS.format(48)
    x0, x_opt, f_opt = (3.0, 5.0, -3.0, 2.0, -2.0), (1.0,) * 5, 0.0
    objective_terms = (term(1, {0: 1}, 1), term(1, {1: 1, 2: -1}), term(1, {3: 1, 4: -1}))
    linear_constraints = ([[1, 1, 1, 1, 1], [0, 0, 1, -2, -2]], [5.0, -3.0])


class HS49(LibraryProblem):
    name, n, m, source = "HS49", 5, 2, HS.format(49)
    x0, x_opt, f_opt = (10.0, 7.0, 2.0, -3.0, 0.8), (1.0,) * 5, 0.0
    objective_terms = (term(1, {0: 1, 1: -1}), term(1, {2: 1}, 1), term(1, {3: 1}, 1, 4),
                       term(1, {4: 1}, 1, 6))
    linear_constraints = ([[1, 1, 1, 4, 0], [0, 0, 1, 0, 5]], [7.0, 6.0])
    notes = "Degenerate: quartic and sextic terms make the Hessian singular at the solution."


class HS50(LibraryProblem):
    name, n, m, source = "HS50", 5, 3, HS.format(50)
    x0, x_opt, f_opt = (35.0, -31.0, 11.0, 5.0, -5.0), (1.0,) * 5, 0.0
    objective_terms = (term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: -1}), term(1, {2: 1, 3: -1}, p=4),
                       term(1, {3: 1, 4: -1}))
    linear_constraints = ([[1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]], [6.0, 6.0, 6.0])


class HS51(LibraryProblem):
    name, n, m, source = "HS51", 5, 3, HS.format(51)
    x0, x_opt, f_opt = (2.5, 0.5, 2.0, -1.0, 0.5), (1.0,) * 5, 0.0
    objective_terms = (term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: 1}, 2), term(1, {3: 1}, 1),
                       term(1, {4: 1}, 1))
    linear_constraints = ([[1, 3, 0, 0, 0], [0, 0, 1, 1, -2], [0, 1, 0, 0, -1]], [4.0, 0.0, 0.0])


class HS52(LibraryProblem):
    name, n, m, source = "HS52", 5, 3, HS.format(52)
    x0, f_opt = (2.0,) * 5, 1859.0 / 349.0
    x_opt = tuple(np.array([-33.0, 11.0, 180.0, -158.0, 11.0]) / 349.0)
    objective_terms = (term(1, {0: 4, 1: -1}), term(1, {1: 1, 2: 1}, 2), term(1, {3: 1}, 1),
                       term(1, {4: 1}, 1))
    linear_constraints = ([[1, 3, 0, 0, 0], [0, 0, 1, 1, -2], [0, 1, 0, 0, -1]], [0.0, 0.0, 0.0])


class HS56(LibraryProblem):
    name, n, m, source = "HS56", 7, 4, HS.format(56)
    _a, _b = np.arcsin(np.sqrt(1 / 4.2)), np.arcsin(np.sqrt(5 / 7.2))
    x0 = (1.0, 1.0, 1.0, _a, _a, _a, _b)
    # x1 = 2.4, x2 = x3 = 1.2 and sin²(x4) = 4/7, sin²(x5) = sin²(x6) = 2/7, sin²(x7) = 1
    x_opt = (2.4, 1.2, 1.2, np.arcsin(np.sqrt(4 / 7)), np.arcsin(np.sqrt(2 / 7)),
             np.arcsin(np.sqrt(2 / 7)), np.pi / 2)
    f_opt = -3.456
    notes = "x4..x7 enter through sin² only: t, π - t and t + kπ are equally optimal."
    unique_x = False

    def _obj(self, x):
        return -x[0] * x[1] * x[2]

    def _grad(self, x):
        return np.array([-x[1] * x[2], -x[0] * x[2], -x[0] * x[1], 0.0, 0.0, 0.0, 0.0])

    def _hess_obj(self, x):
        return sym(7, {(0, 1): -x[2], (0, 2): -x[1], (1, 2): -x[0]})

    def _cons(self, x):
        s = np.sin(x[3:]) ** 2
        return np.array([x[0] - 4.2 * s[0], x[1] - 4.2 * s[1], x[2] - 4.2 * s[2],
                         x[0] + 2 * x[1] + 2 * x[2] - 7.2 * s[3]])

    def _jac(self, x):
        d = np.sin(2 * x[3:])  # d/dt sin²t = sin 2t
        J = np.zeros((4, 7))
        J[0, 0], J[1, 1], J[2, 2] = 1.0, 1.0, 1.0
        J[3, :3] = (1.0, 2.0, 2.0)
        J[0, 3], J[1, 4], J[2, 5], J[3, 6] = -4.2 * d[0], -4.2 * d[1], -4.2 * d[2], -7.2 * d[3]
        return J

    def _cons_hessians(self, x):
        d2 = 2 * np.cos(2 * x[3:])
        return np.array([sym(7, {(3, 3): -4.2 * d2[0]}), sym(7, {(4, 4): -4.2 * d2[1]}),
                         sym(7, {(5, 5): -4.2 * d2[2]}), sym(7, {(6, 6): -7.2 * d2[3]})])


class HS61(LibraryProblem):
    name, n, m, source = "HS61", 3, 2, HS.format(61)
    x0 = (0.0, 0.0, 0.0)
    # refined (published: 5.326770157, -2.118998639, 3.210464239; f = -143.6461422)
    x_opt = (5.32677013556393, -2.11899863221898, 3.21046422535055)
    f_opt = -143.64614219778
    objective_terms = (term(4, {0: 1}), term(2, {1: 1}), term(2, {2: 1}), term(-33, {0: 1}, p=1),
                       term(16, {1: 1}, p=1), term(-24, {2: 1}, p=1))

    def _cons(self, x):
        return np.array([3 * x[0] - 2 * x[1] ** 2 - 7, 4 * x[0] - x[2] ** 2 - 11])

    def _jac(self, x):
        return np.array([[3.0, -4 * x[1], 0.0], [4.0, 0.0, -2 * x[2]]])

    def _cons_hessians(self, x):
        return np.array([sym(3, {(1, 1): -4.0}), sym(3, {(2, 2): -2.0})])


class _HS77Objective(LibraryProblem):
    objective_terms = (term(1, {0: 1}, 1), term(1, {0: 1, 1: -1}), term(1, {2: 1}, 1),
                       term(1, {3: 1}, 1, 4), term(1, {4: 1}, 1, 6))


class HS77(_HS77Objective):
    name, n, m, source = "HS77", 5, 2, HS.format(77)
    x0 = (2.0,) * 5
    # refined (published: 1.166172, 1.182111, 1.380257, 1.506036, 0.6109203; f = 0.24150513)
    x_opt = (1.1661721897093, 1.1821113888027, 1.38025704314546, 1.50603627362305,
             0.610920196043091)
    f_opt = 0.241505128790179

    def _cons(self, x):
        return np.array([x[0] ** 2 * x[3] + np.sin(x[3] - x[4]) - 2 * R2,
                         x[1] + x[2] ** 4 * x[3] ** 2 - 8 - R2])

    def _jac(self, x):
        c = np.cos(x[3] - x[4])
        return np.array([[2 * x[0] * x[3], 0.0, 0.0, x[0] ** 2 + c, -c],
                         [0.0, 1.0, 4 * x[2] ** 3 * x[3] ** 2, 2 * x[2] ** 4 * x[3], 0.0]])

    def _cons_hessians(self, x):
        s = np.sin(x[3] - x[4])
        return np.array([
            sym(5, {(0, 0): 2 * x[3], (0, 3): 2 * x[0], (3, 3): -s, (3, 4): s, (4, 4): -s}),
            sym(5, {(2, 2): 12 * x[2] ** 2 * x[3] ** 2, (2, 3): 8 * x[2] ** 3 * x[3],
                    (3, 3): 2 * x[2] ** 4}),
        ])


class HS78(LibraryProblem):
    name, n, m, source = "HS78", 5, 3, HS.format(78)
    x0 = (-2.0, 1.5, 2.0, -1.0, -1.0)
    # refined (published: -1.717142, 1.595708, 1.827248, -0.7636429, -0.7636435; f = -2.919700)
    x_opt = (-1.71714357039438, 1.59570969018355, 1.82724575292719, -0.76364307818413,
             -0.76364307818413)
    f_opt = -2.91970040896368

    def _obj(self, x):
        return np.prod(x)

    def _grad(self, x):
        return np.array([np.prod(np.delete(x, i)) for i in range(5)])

    def _hess_obj(self, x):
        H = np.zeros((5, 5))
        for i in range(5):
            for j in range(5):
                if i != j:
                    H[i, j] = np.prod(np.delete(x, [i, j]))
        return H

    def _cons(self, x):
        return np.array([x @ x - 10, x[1] * x[2] - 5 * x[3] * x[4], x[0] ** 3 + x[1] ** 3 + 1])

    def _jac(self, x):
        return np.array([2 * x,
                         [0.0, x[2], x[1], -5 * x[4], -5 * x[3]],
                         [3 * x[0] ** 2, 3 * x[1] ** 2, 0.0, 0.0, 0.0]])

    def _cons_hessians(self, x):
        return np.array([2 * np.eye(5), sym(5, {(1, 2): 1.0, (3, 4): -5.0}),
                         sym(5, {(0, 0): 6 * x[0], (1, 1): 6 * x[1]})])


class HS79(LibraryProblem):
    name, n, m, source = "HS79", 5, 3, HS.format(79)
    x0 = (2.0,) * 5
    # refined (published: 1.191127, 1.362603, 1.472818, 1.635017, 1.679081; f = 0.0787768209)
    x_opt = (1.19112745631105, 1.36260316496174, 1.47281793151209, 1.63501661916799,
             1.67908143616641)
    f_opt = 0.0787768208710569
    objective_terms = (term(1, {0: 1}, 1), term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: -1}),
                       term(1, {2: 1, 3: -1}, p=4), term(1, {3: 1, 4: -1}, p=4))

    def _cons(self, x):
        return np.array([x[0] + x[1] ** 2 + x[2] ** 3 - 2 - 3 * R2,
                         x[1] - x[2] ** 2 + x[3] + 2 - 2 * R2, x[0] * x[4] - 2])

    def _jac(self, x):
        return np.array([[1.0, 2 * x[1], 3 * x[2] ** 2, 0.0, 0.0],
                         [0.0, 1.0, -2 * x[2], 1.0, 0.0],
                         [x[4], 0.0, 0.0, 0.0, x[0]]])

    def _cons_hessians(self, x):
        return np.array([sym(5, {(1, 1): 2.0, (2, 2): 6 * x[2]}), sym(5, {(2, 2): -2.0}),
                         sym(5, {(0, 4): 1.0})])


class HS100LNP(LibraryProblem):
    name, n, m = "HS100LNP", 7, 2
    source = (HS.format(100) + " with its two active inequalities as equalities and no other "
              "constraints (CUTEst SIF HS100LNP)")
    x0 = (1.0, 2.0, 0.0, 4.0, 0.0, 1.0, 1.0)
    # refined (published: 2.330499, 1.951372, -0.4775414, 4.365726, -0.6244870, 1.038131,
    # 1.594227; f = 680.6300573)
    x_opt = (2.33049937287957, 1.95137237289689, -0.477541392388872, 4.36572623365581,
             -0.624486970526817, 1.03813101860796, 1.59422671161187)
    f_opt = 680.630057374402

    def _obj(self, x):
        x1, x2, x3, x4, x5, x6, x7 = x
        return ((x1 - 10) ** 2 + 5 * (x2 - 12) ** 2 + x3**4 + 3 * (x4 - 11) ** 2 + 10 * x5**6
                + 7 * x6**2 + x7**4 - 4 * x6 * x7 - 10 * x6 - 8 * x7)

    def _grad(self, x):
        x1, x2, x3, x4, x5, x6, x7 = x
        return np.array([2 * (x1 - 10), 10 * (x2 - 12), 4 * x3**3, 6 * (x4 - 11), 60 * x5**5,
                         14 * x6 - 4 * x7 - 10, 4 * x7**3 - 4 * x6 - 8])

    def _hess_obj(self, x):
        return sym(7, {(0, 0): 2.0, (1, 1): 10.0, (2, 2): 12 * x[2] ** 2, (3, 3): 6.0,
                       (4, 4): 300 * x[4] ** 4, (5, 5): 14.0, (5, 6): -4.0,
                       (6, 6): 12 * x[6] ** 2})

    def _cons(self, x):
        x1, x2, x3, x4, x5, x6, x7 = x
        return np.array([2 * x1**2 + 3 * x2**4 + x3 + 4 * x4**2 + 5 * x5 - 127,
                         4 * x1**2 + x2**2 - 3 * x1 * x2 + 2 * x3**2 + 5 * x6 - 11 * x7])

    def _jac(self, x):
        x1, x2, x3, x4, _, _, _ = x
        return np.array([[4 * x1, 12 * x2**3, 1.0, 8 * x4, 5.0, 0.0, 0.0],
                         [8 * x1 - 3 * x2, 2 * x2 - 3 * x1, 4 * x3, 0.0, 0.0, 5.0, -11.0]])

    def _cons_hessians(self, x):
        return np.array([sym(7, {(0, 0): 4.0, (1, 1): 36 * x[1] ** 2, (3, 3): 8.0}),
                         sym(7, {(0, 0): 8.0, (0, 1): -3.0, (1, 1): 2.0, (2, 2): 4.0})])


class HS111LNP(LibraryProblem):
    name, n, m = "HS111LNP", 10, 3
    source = HS.format(111) + " without its bounds (CUTEst SIF HS111LNP)"
    x0 = (-2.3,) * 10
    # refined; the published x (-3.201212, -1.912060, -0.2444413, -6.537489, -0.7231524,
    # -7.267738, -3.596711, -4.017769, -3.287462, -2.335582) is off by up to 3e-2 along a flat
    # direction but its f = -47.76109026 agrees to 1e-8
    x_opt = (-3.20231158855122, -1.91236659708098, -0.244426747750384, -6.56117727165838,
             -0.723097963295305, -7.27423228018814, -3.59723742232778, -4.02031673069085,
             -3.28837688136025, -2.33437173922062)
    f_opt = -47.7610908593659
    _c = np.array([-6.089, -17.164, -34.054, -5.914, -24.721, -14.986, -24.100, -10.708,
                   -26.662, -22.179])
    _A = np.array([[1, 2, 2, 0, 0, 1, 0, 0, 0, 1],
                   [0, 0, 0, 1, 2, 1, 1, 0, 0, 0],
                   [0, 0, 1, 0, 0, 0, 1, 1, 2, 1]], dtype=float)
    _rhs = np.array([2.0, 1.0, 1.0])

    def _obj(self, x):
        y = np.exp(x)
        return float(y @ (self._c + x - np.log(y.sum())))

    def _grad(self, x):
        y = np.exp(x)
        return y * (self._c + x - np.log(y.sum()))

    def _hess_obj(self, x):
        y = np.exp(x)
        S = y.sum()
        return np.diag(y * (self._c + x - np.log(S) + 1)) - np.outer(y, y) / S

    def _cons(self, x):
        return self._A @ np.exp(x) - self._rhs

    def _jac(self, x):
        return self._A * np.exp(x)

    def _cons_hessians(self, x):
        return np.array([np.diag(a * np.exp(x)) for a in self._A])
