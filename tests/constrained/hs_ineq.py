"""Hock–Schittkowski problems with inequalities and bounds, in scipy.optimize's form, written
from their published definitions (Hock & Schittkowski, "Test examples for nonlinear
programming codes", 1981) with the published solutions ``x*``, ``f*``."""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint


def _quad_con(fun, jac, hess, lb=0.0, ub=np.inf):
    return NonlinearConstraint(fun, lb, ub, jac=jac, hess=hess)


def hs21():
    return dict(
        name="HS21", x0=np.array([-1.0, -1.0]),
        fun=lambda x: 0.01 * x[0] ** 2 + x[1] ** 2 - 100.0,
        jac=lambda x: np.array([0.02 * x[0], 2 * x[1]]),
        hess=lambda x: np.diag([0.02, 2.0]),
        constraints=[LinearConstraint([[10.0, -1.0]], 10.0, np.inf)],
        bounds=[(2, 50), (-50, 50)],
        x_opt=np.array([2.0, 0.0]), f_opt=-99.96)


def hs22():
    return dict(
        name="HS22", x0=np.array([2.0, 2.0]),
        fun=lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2,
        jac=lambda x: np.array([2 * (x[0] - 2), 2 * (x[1] - 1)]),
        hess=lambda x: 2 * np.eye(2),
        constraints=[{"type": "ineq", "fun": lambda x: 2 - x[0] - x[1],
                      "jac": lambda x: np.array([[-1.0, -1.0]])},
                     _quad_con(lambda x: -x[0] ** 2 + x[1], lambda x: [[-2 * x[0], 1.0]],
                               lambda x, v: v[0] * np.diag([-2.0, 0.0]))],
        bounds=None, x_opt=np.array([1.0, 1.0]), f_opt=1.0)


def hs35():
    def f(x):
        return (9 - 8 * x[0] - 6 * x[1] - 4 * x[2] + 2 * x[0] ** 2 + 2 * x[1] ** 2 + x[2] ** 2
                + 2 * x[0] * x[1] + 2 * x[0] * x[2])

    def g(x):
        return np.array([-8 + 4 * x[0] + 2 * x[1] + 2 * x[2], -6 + 4 * x[1] + 2 * x[0],
                         -4 + 2 * x[2] + 2 * x[0]])

    H = np.array([[4.0, 2, 2], [2, 4, 0], [2, 0, 2]])
    return dict(
        name="HS35", x0=np.full(3, 0.5), fun=f, jac=g, hess=lambda x: H,
        constraints=[LinearConstraint([[-1.0, -1.0, -2.0]], -3.0, np.inf)],
        bounds=Bounds(np.zeros(3), np.full(3, np.inf)),
        x_opt=np.array([4 / 3, 7 / 9, 4 / 9]), f_opt=1 / 9)


def hs43():
    def f(x):
        return (x[0] ** 2 + x[1] ** 2 + 2 * x[2] ** 2 + x[3] ** 2 - 5 * x[0] - 5 * x[1]
                - 21 * x[2] + 7 * x[3])

    def g(x):
        return np.array([2 * x[0] - 5, 2 * x[1] - 5, 4 * x[2] - 21, 2 * x[3] + 7])

    def c(x):
        return np.array([
            8 - x[0] ** 2 - x[1] ** 2 - x[2] ** 2 - x[3] ** 2 - x[0] + x[1] - x[2] + x[3],
            10 - x[0] ** 2 - 2 * x[1] ** 2 - x[2] ** 2 - 2 * x[3] ** 2 + x[0] + x[3],
            5 - 2 * x[0] ** 2 - x[1] ** 2 - x[2] ** 2 - 2 * x[0] + x[1] + x[3]])

    def cj(x):
        return np.array([
            [-2 * x[0] - 1, -2 * x[1] + 1, -2 * x[2] - 1, -2 * x[3] + 1],
            [-2 * x[0] + 1, -4 * x[1], -2 * x[2], -4 * x[3] + 1],
            [-4 * x[0] - 2, -2 * x[1] + 1, -2 * x[2], 1.0]])

    def ch(x, v):
        return (v[0] * np.diag([-2.0, -2, -2, -2]) + v[1] * np.diag([-2.0, -4, -2, -4])
                + v[2] * np.diag([-4.0, -2, -2, 0]))

    return dict(
        name="HS43", x0=np.zeros(4), fun=f, jac=g, hess=lambda x: np.diag([2.0, 2, 4, 2]),
        constraints=[NonlinearConstraint(c, 0.0, np.inf, jac=cj, hess=ch)], bounds=None,
        x_opt=np.array([0.0, 1.0, 2.0, -1.0]), f_opt=-44.0)


def hs65():
    def f(x):
        return (x[0] - x[1]) ** 2 + (x[0] + x[1] - 10) ** 2 / 9 + (x[2] - 5) ** 2

    def g(x):
        s = 2 * (x[0] + x[1] - 10) / 9
        return np.array([2 * (x[0] - x[1]) + s, -2 * (x[0] - x[1]) + s, 2 * (x[2] - 5)])

    H = np.array([[2 + 2 / 9, -2 + 2 / 9, 0], [-2 + 2 / 9, 2 + 2 / 9, 0], [0, 0, 2.0]])
    return dict(
        name="HS65", x0=np.array([-5.0, 5.0, 0.0]), fun=f, jac=g, hess=lambda x: H,
        constraints=[_quad_con(lambda x: 48 - x @ x, lambda x: -2 * x[None, :],
                               lambda x, v: -2 * v[0] * np.eye(3))],
        bounds=[(-4.5, 4.5), (-4.5, 4.5), (-5, 5)],
        x_opt=np.array([3.650461821, 3.65046168, 4.6204170507]), f_opt=0.9535288567)


def hs71():
    def f(x):
        return x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]

    def g(x):
        s = x[0] + x[1] + x[2]
        return np.array([x[3] * s + x[0] * x[3], x[0] * x[3], x[0] * x[3] + 1, x[0] * s])

    def h(x):
        s = x[0] + x[1] + x[2]
        return np.array([[2 * x[3], x[3], x[3], s + x[0]],
                         [x[3], 0, 0, x[0]],
                         [x[3], 0, 0, x[0]],
                         [s + x[0], x[0], x[0], 0]])

    def prod_h(x):
        a, b, c, d = x
        return np.array([[0, c * d, b * d, b * c], [c * d, 0, a * d, a * c],
                         [b * d, a * d, 0, a * b], [b * c, a * c, a * b, 0]])

    return dict(
        name="HS71", x0=np.array([1.0, 5.0, 5.0, 1.0]), fun=f, jac=g, hess=h,
        constraints=[
            NonlinearConstraint(lambda x: np.prod(x), 25.0, np.inf,
                                jac=lambda x: np.array([[x[1] * x[2] * x[3], x[0] * x[2] * x[3],
                                                         x[0] * x[1] * x[3],
                                                         x[0] * x[1] * x[2]]]),
                                hess=lambda x, v: v[0] * prod_h(x)),
            NonlinearConstraint(lambda x: x @ x, 40.0, 40.0, jac=lambda x: 2 * x[None, :],
                                hess=lambda x, v: 2 * v[0] * np.eye(4))],
        bounds=Bounds(np.ones(4), np.full(4, 5.0)),
        x_opt=np.array([1.0, 4.7429994, 3.8211503, 1.3794082]), f_opt=17.0140173)


def hs76():
    H = np.array([[2.0, 0, -1, 0], [0, 1, 0, 0], [-1, 0, 2, 1], [0, 0, 1, 1]])
    lin = np.array([-1.0, -3, 1, -1])
    A = np.array([[1.0, 2, 1, 1], [3, 1, 2, -1], [0, 1, 4, 0]])
    return dict(
        name="HS76", x0=np.full(4, 0.5), fun=lambda x: 0.5 * x @ H @ x + lin @ x,
        jac=lambda x: H @ x + lin, hess=lambda x: H,
        constraints=[LinearConstraint(A, [-np.inf, -np.inf, 1.5], [5.0, 4.0, np.inf])],
        bounds=Bounds(0.0, np.inf),
        x_opt=np.array([3 / 11, 23 / 11, 0.0, 6 / 11]), f_opt=-103 / 22)


def hs118():
    quad = np.tile([1e-4, 1e-4, 1.5e-4], 5)
    lin = np.tile([2.3, 1.7, 2.2], 5)
    rows, lb, ub = [], [], []
    for j in range(1, 5):
        for i, hi in zip(range(3), (13.0, 14.0, 13.0), strict=True):
            r = np.zeros(15)
            r[3 * j + i], r[3 * (j - 1) + i] = 1.0, -1.0
            rows.append(r)
            lb.append(-7.0)
            ub.append(hi - 7.0)
    for k, rhs in enumerate((60.0, 50.0, 70.0, 85.0, 100.0)):
        r = np.zeros(15)
        r[3 * k:3 * k + 3] = 1.0
        rows.append(r)
        lb.append(rhs)
        ub.append(np.inf)
    lo = np.array([8.0, 43, 3] + [0.0] * 12)
    hi = np.array([21.0, 57, 16] + [90.0, 120, 60] * 4)
    return dict(
        name="HS118", x0=np.array([20.0, 55, 15] + [20.0, 60, 20] * 4),
        fun=lambda x: float(lin @ x + quad @ x**2), jac=lambda x: lin + 2 * quad * x,
        hess=lambda x: np.diag(2 * quad),
        constraints=[LinearConstraint(np.array(rows), lb, ub)], bounds=Bounds(lo, hi),
        x_opt=np.array([8.0, 49, 3, 1, 56, 0, 1, 63, 6, 3, 70, 12, 5, 77, 18]),
        f_opt=664.8204500)


HS_PROBLEMS = (hs21, hs22, hs35, hs43, hs65, hs71, hs76, hs118)
