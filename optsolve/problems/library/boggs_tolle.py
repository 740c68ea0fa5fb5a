"""The twelve equality-constrained problems of Boggs & Tolle (1989), as in CUTEst's SIF files.

P. T. Boggs and J. W. Tolle, "A strategy for global convergence in a sequential quadratic
programming algorithm", SIAM J. Numer. Anal. 26(3), 600-623, 1989. The paper has typos; the
CUTEst SIF transcriptions (Ph. Toint, 1993) fix them and are followed here, including their
default starting points (BT4 and BT12 start at the point the paper proposes as solution) and their
optimal values. Deviations from the paper are noted per problem.
"""

from __future__ import annotations

import numpy as np

from ._base import LibraryProblem, sym, term
from .hock_schittkowski import _HS77Objective

BT = ("Boggs & Tolle (1989), SIAM J. Numer. Anal. 26(3):600-623, problem {}; "
      "CUTEst SIF BT{}")
R2 = np.sqrt(2.0)

__all__ = ["BT1", "BT2", "BT3", "BT4", "BT5", "BT6", "BT7", "BT8", "BT9", "BT10", "BT11", "BT12"]


def _src(k: int) -> str:
    return BT.format(k, k)


class BT1(LibraryProblem):
    name, n, m, source = "BT1", 2, 1, _src(1)
    x0, x_opt, f_opt = (0.08, 0.06), (1.0, 0.0), -1.0
    objective_terms = (term(100, {0: 1}), term(100, {1: 1}), term(-1, {0: 1}, p=1),
                       term(-100, {}, -1, p=1))  # last: the constant -100

    def _cons(self, x):
        return np.array([x @ x - 1])

    def _jac(self, x):
        return 2 * x[None, :]

    def _cons_hessians(self, x):
        return np.array([2 * np.eye(2)])


class BT2(LibraryProblem):
    name, n, m, source = "BT2", 3, 1, _src(2)
    notes = "The SIF right-hand side 8.2426407 is the paper's 4 + 3√2 rounded to 8 digits."
    x0 = (10.0, 10.0, 10.0)
    # refined by Newton on the KKT system (paper: 1.1049, 1.1967, 1.5353; SIF f = 0.032568200)
    x_opt = (1.10485901997881, 1.1966741827589, 1.53526226108798)
    f_opt = 0.0325682003932378
    objective_terms = (term(1, {0: 1}, 1), term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: -1}, p=4))

    def _cons(self, x):
        return np.array([x[0] * (1 + x[1] ** 2) + x[2] ** 4 - 8.2426407])

    def _jac(self, x):
        return np.array([[1 + x[1] ** 2, 2 * x[0] * x[1], 4 * x[2] ** 3]])

    def _cons_hessians(self, x):
        return np.array([sym(3, {(0, 1): 2 * x[1], (1, 1): 2 * x[0], (2, 2): 12 * x[2] ** 2})])


class BT3(LibraryProblem):
    name, n, m, source = "BT3", 5, 3, _src(3)
    x0 = (20.0,) * 5
    # convex QP, solved exactly: x = (-33, 11, 27, -5, 11)/43, f = 176/43; the SIF file's
    # recorded optimum 4.09301056 is 3e-6 too low
    x_opt = tuple(np.array([-33.0, 11.0, 27.0, -5.0, 11.0]) / 43.0)
    f_opt = 176.0 / 43.0
    objective_terms = (term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: 1}, 2), term(1, {3: 1}, 1),
                       term(1, {4: 1}, 1))
    linear_constraints = ([[1, 3, 0, 0, 0], [0, 0, 1, 1, -2], [0, 1, 0, 0, -1]], [0.0, 0.0, 0.0])


class BT4(LibraryProblem):
    name, n, m, source = "BT4", 3, 2, _src(4)
    notes = ("SIF variant: x3 enters the first constraint squared, not cubed (the paper's "
             "problem is unbounded). Start = the paper's proposed solution. Another local "
             "solution has f = 3.28903771.")
    other_local_f = (3.28903771,)
    x0 = (4.0382, -2.9470, -0.09115)
    # the local solution reached from x0 (trust-constr, then Newton on KKT); SIF f = -45.510551
    x_opt = (2.28449660117085, -3.72089325575881, 2.43639665458797)
    f_opt = -45.5105507398906
    objective_terms = (term(1, {0: 1}, p=1), term(-1, {1: 1}, p=1), term(1, {1: 1}, p=3))

    def _cons(self, x):
        return np.array([x @ x - 25, x.sum() - 1])

    def _jac(self, x):
        return np.array([2 * x, np.ones(3)])

    def _cons_hessians(self, x):
        return np.array([2 * np.eye(3), np.zeros((3, 3))])


class BT5(LibraryProblem):
    name, n, m, source = "BT5", 3, 2, _src(5)
    notes = ("SIF fix: +x3² in the first constraint (the paper's '-' leaves it unbounded); "
             "same as HS63 without bounds.")
    x0 = (2.0, 2.0, 2.0)
    # refined (paper: 3.5121, 0.21699, 3.5522; SIF f = 961.71517219)
    x_opt = (3.51212134187472, 0.216987941515223, 3.55217115482702)
    f_opt = 961.715172130052

    def _obj(self, x):
        x1, x2, x3 = x
        return 1000 - x1**2 - 2 * x2**2 - x3**2 - x1 * x2 - x1 * x3

    def _grad(self, x):
        x1, x2, x3 = x
        return np.array([-2 * x1 - x2 - x3, -4 * x2 - x1, -2 * x3 - x1])

    def _hess_obj(self, x):
        return -sym(3, {(0, 0): 2.0, (0, 1): 1.0, (0, 2): 1.0, (1, 1): 4.0, (2, 2): 2.0})

    def _cons(self, x):
        return np.array([x @ x - 25, 8 * x[0] + 14 * x[1] + 7 * x[2] - 56])

    def _jac(self, x):
        return np.array([2 * x, [8.0, 14.0, 7.0]])

    def _cons_hessians(self, x):
        return np.array([2 * np.eye(3), np.zeros((3, 3))])


class BT6(_HS77Objective):
    name, n, m, source = "BT6", 5, 2, _src(6)
    notes = "Like HS77 but the second constraint has x3⁴ x2² (not x3⁴ x4²), as in the SIF file."
    x0 = (2.0,) * 5
    # the paper's point (1.1662, 1.1821, 1.3803, 1.5060, 0.61092) is infeasible for the SIF
    # problem; this is the KKT point reached from x0 (SIF f = 0.277044924)
    x_opt = (1.28693189734743, 1.48023530526881, 1.37945447468081, 1.32194814593095,
             0.628718223215974)
    f_opt = 0.277044788767902

    def _cons(self, x):
        return np.array([x[0] ** 2 * x[3] + np.sin(x[3] - x[4]) - 2 * R2,
                         x[1] + x[2] ** 4 * x[1] ** 2 - 8 - R2])

    def _jac(self, x):
        c = np.cos(x[3] - x[4])
        return np.array([[2 * x[0] * x[3], 0.0, 0.0, x[0] ** 2 + c, -c],
                         [0.0, 1 + 2 * x[2] ** 4 * x[1], 4 * x[2] ** 3 * x[1] ** 2, 0.0, 0.0]])

    def _cons_hessians(self, x):
        s = np.sin(x[3] - x[4])
        return np.array([
            sym(5, {(0, 0): 2 * x[3], (0, 3): 2 * x[0], (3, 3): -s, (3, 4): s, (4, 4): -s}),
            sym(5, {(1, 1): 2 * x[2] ** 4, (1, 2): 8 * x[2] ** 3 * x[1],
                    (2, 2): 12 * x[2] ** 2 * x[1] ** 2}),
        ])


class BT7(LibraryProblem):
    name, n, m, source = "BT7", 5, 3, _src(7)
    notes = ("Another local solution, the paper's, has f = 360.3798; the one reached from x0 "
             "(stored) has f = 306.5.")
    other_local_f = (360.379767174284,)
    x0 = (-2.0, 1.0, 1.0, 1.0, 1.0)
    # exact: x5 = x3 = 0 => x1 = 1/2, x2 = 2, x4 = √4.5; f = 100 (7/4)² + 1/4 = 306.5. The SIF
    # file records 306.49640688, 1e-5 lower, presumably from a slightly infeasible point.
    x_opt = (0.5, 2.0, 0.0, np.sqrt(4.5), 0.0)
    f_opt = 306.5

    def _obj(self, x):
        return 100 * (x[1] - x[0] ** 2) ** 2 + (x[0] - 1) ** 2

    def _grad(self, x):
        r = x[1] - x[0] ** 2
        return np.array([-400 * x[0] * r + 2 * (x[0] - 1), 200 * r, 0.0, 0.0, 0.0])

    def _hess_obj(self, x):
        return sym(5, {(0, 0): 1200 * x[0] ** 2 - 400 * x[1] + 2, (0, 1): -400 * x[0],
                       (1, 1): 200.0})

    def _cons(self, x):
        x1, x2, x3, x4, x5 = x
        return np.array([x1 * x2 - x3**2 - 1, x1 + x2**2 - x4**2, x1 + x5**2 - 0.5])

    def _jac(self, x):
        x1, x2, x3, x4, x5 = x
        return np.array([[x2, x1, -2 * x3, 0.0, 0.0],
                         [1.0, 2 * x2, 0.0, -2 * x4, 0.0],
                         [1.0, 0.0, 0.0, 0.0, 2 * x5]])

    def _cons_hessians(self, x):
        return np.array([sym(5, {(0, 1): 1.0, (2, 2): -2.0}),
                         sym(5, {(1, 1): 2.0, (3, 3): -2.0}),
                         sym(5, {(4, 4): 2.0})])


class BT8(LibraryProblem):
    name, n, m, source = "BT8", 5, 2, _src(8)
    notes = "Degenerate: the constraint gradients are parallel at the solution (LICQ fails)."
    x0 = (1.0, 1.0, 1.0, 0.0, 0.0)
    x_opt, f_opt = (1.0, 0.0, 0.0, 0.0, 0.0), 1.0
    objective_terms = (term(1, {0: 1}), term(1, {1: 1}), term(1, {2: 1}))

    def _cons(self, x):
        x1, x2, _, x4, x5 = x
        return np.array([x1 + x2**2 - x4**2 - 1, x1**2 + x2**2 - x5**2 - 1])

    def _jac(self, x):
        x1, x2, _, x4, x5 = x
        return np.array([[1.0, 2 * x2, 0.0, -2 * x4, 0.0], [2 * x1, 2 * x2, 0.0, 0.0, -2 * x5]])

    def _cons_hessians(self, x):
        return np.array([sym(5, {(1, 1): 2.0, (3, 3): -2.0}),
                         sym(5, {(0, 0): 2.0, (1, 1): 2.0, (4, 4): -2.0})])


class BT9(LibraryProblem):
    name, n, m, source = "BT9", 4, 2, _src(9)
    notes = "SIF fix: -x2 in the second constraint (paper: +x2). Same as HS39."
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


class BT10(LibraryProblem):
    name, n, m, source = "BT10", 2, 2, _src(10)
    notes = "SIF fix: -x2 in the second constraint. Feasible set {(0, 0), (1, 1)}."
    x0, x_opt, f_opt = (2.0, 2.0), (1.0, 1.0), -1.0
    objective_terms = (term(-1, {0: 1}, p=1),)

    def _cons(self, x):
        return np.array([x[1] - x[0] ** 3, x[0] ** 2 - x[1]])

    def _jac(self, x):
        return np.array([[-3 * x[0] ** 2, 1.0], [2 * x[0], -1.0]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): -6 * x[0]}), sym(2, {(0, 0): 2.0})])


class BT11(LibraryProblem):
    name, n, m, source = "BT11", 5, 3, _src(11)
    notes = "Differs from HS79: constraint constants √18 - 2 and √8 - 2, third is x1 - x5 = 2."
    x0 = (2.0,) * 5
    # the paper's point (1.1912, 1.3626, 1.4728, 1.6349, 1.6790) is HS79's and infeasible here;
    # this is the KKT point reached from x0 (SIF f = 0.824891647)
    x_opt = (1.26757595919391, 0.965300461277371, 0.351043815557308, -0.0136415760901475,
             -0.732424040806086)
    f_opt = 0.824891778287666
    objective_terms = (term(1, {0: 1}, 1), term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: -1}),
                       term(1, {2: 1, 3: -1}, p=4), term(1, {3: 1, 4: -1}, p=4))

    def _cons(self, x):
        return np.array([x[0] + x[1] ** 2 + x[2] ** 3 - (np.sqrt(18.0) - 2),
                         x[1] + x[3] - x[2] ** 2 - (np.sqrt(8.0) - 2),
                         x[0] - x[4] - 2])

    def _jac(self, x):
        return np.array([[1.0, 2 * x[1], 3 * x[2] ** 2, 0.0, 0.0],
                         [0.0, 1.0, -2 * x[2], 1.0, 0.0],
                         [1.0, 0.0, 0.0, 0.0, -1.0]])

    def _cons_hessians(self, x):
        return np.array([sym(5, {(1, 1): 2.0, (2, 2): 6 * x[2]}), sym(5, {(2, 2): -2.0}),
                         np.zeros((5, 5))])


class BT12(LibraryProblem):
    name, n, m, source = "BT12", 5, 3, _src(12)
    notes = ("The SIF start is the paper's (infeasible) proposed solution. The solution solves "
             "min 0.01 x1² + x2² s.t. x1 + x2 = 25 (x3 = 0): x1 = 2500/101, x2 = 25/101, "
             "f = 625/101.")
    x0 = (15.811, 1.5811, 0.0, 15.083, 3.7164)
    _x1, _x2 = 2500.0 / 101.0, 25.0 / 101.0
    x_opt = (_x1, _x2, 0.0, np.sqrt(_x1**2 + _x2**2 - 25), np.sqrt(_x1 - 2))
    f_opt = 625.0 / 101.0
    objective_terms = (term(0.01, {0: 1}), term(1, {1: 1}))

    def _cons(self, x):
        x1, x2, x3, x4, x5 = x
        return np.array([x1 + x2 - x3**2 - 25, x1**2 + x2**2 - x4**2 - 25, x1 - x5**2 - 2])

    def _jac(self, x):
        x1, x2, x3, x4, x5 = x
        return np.array([[1.0, 1.0, -2 * x3, 0.0, 0.0],
                         [2 * x1, 2 * x2, 0.0, -2 * x4, 0.0],
                         [1.0, 0.0, 0.0, 0.0, -2 * x5]])

    def _cons_hessians(self, x):
        return np.array([sym(5, {(2, 2): -2.0}), sym(5, {(0, 0): 2.0, (1, 1): 2.0, (3, 3): -2.0}),
                         sym(5, {(4, 4): -2.0})])
