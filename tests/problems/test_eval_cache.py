"""One evaluation per point: the problems' cache of f/∇f, c/J and the Lagrangian's Hessian."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, NonlinearConstraint

from optsolve.constrained import NonlinearProblem, minimize
from optsolve.problems import S2MPJProblem, s2mpj_status, to_scipy

OK, WHY = s2mpj_status()
need_s2mpj = pytest.mark.skipif(not OK, reason=f"S2MPJ problems unavailable: {WHY}")


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


def _count_s2mpj(p):
    """Wrap the S2MPJ evaluators of ``p`` with call counters."""
    calls = collections.Counter()
    for meth in ("fx", "fgx", "fgHx", "cx", "cJx", "cJHx", "LgHxy", "cJtxv", "cJxv", "LHxyv"):
        orig = getattr(p._p, meth)

        def wrap(*a, _o=orig, _m=meth):
            calls[_m] += 1
            return _o(*a)

        setattr(p._p, meth, wrap)
    return calls


class _Uncached(S2MPJProblem):
    """The same problem with every evaluation done afresh (the reference)."""

    def _cached(self, kind, x, compute):
        return compute(x.copy())


@need_s2mpj
@pytest.mark.parametrize("name", ["HS118", "NET1", "HS21", "LISWET1"])
def test_s2mpj_values_are_those_of_s2mpj_and_computed_once(name):
    p = S2MPJProblem(name)
    calls = _count_s2mpj(p)
    rng = np.random.default_rng(0)
    for k in range(3):
        x = p.x0 + 0.1 * rng.standard_normal(p.n)
        f, g = p.obj(x, gradient=True)
        c, J = p.cons(x, gradient=True)
        g2, J2, c2, f2 = p.grad(x), p.jac(x), p.cons(x), p.obj(x)
        f_ref, g_ref = p._p.fgx(x)[:2]
        c_ref, J_ref = p._p.cJx(x)[:2]
        assert f == f2 == float(f_ref)
        np.testing.assert_array_equal(g, np.ravel(g_ref))
        np.testing.assert_array_equal(g2, g)
        np.testing.assert_array_equal(c, np.ravel(c_ref) - p._shift)
        np.testing.assert_array_equal(c2, c)
        np.testing.assert_array_equal(_dense(J), _dense(J_ref))
        np.testing.assert_array_equal(_dense(J2), _dense(J))
        # the Hessian for several multipliers at one point: one evaluation of the parts
        for v in (np.zeros(p.m), rng.standard_normal(p.m), rng.standard_normal(p.m)):
            H = _dense(p.hess(x, v))
            H_ref = _dense(p._p.LgHxy(x, v)[2])
            np.testing.assert_allclose(H, H_ref, rtol=1e-13, atol=1e-13 * max(
                1.0, np.abs(H_ref).max()))
            d = rng.standard_normal(p.n)
            np.testing.assert_allclose(p.hprod(d, x, v), H_ref @ d, rtol=1e-12,
                                       atol=1e-12 * max(1.0, np.abs(H_ref @ d).max()))
            np.testing.assert_allclose(p.jprod(v, x, transpose=True), _dense(J_ref).T @ v,
                                       rtol=1e-13, atol=1e-13)
        # fgx, cJx (and LgHxy) once per point for our calls, once more for the reference
        assert calls["fgx"] == 2 * (k + 1)
        assert calls["cJx"] == 2 * (k + 1)
        assert calls["cJHx"] == k + 1 and calls["fgHx"] == k + 1
        assert calls["cJtxv"] == calls["LHxyv"] == 0


@need_s2mpj
def test_s2mpj_cache_survives_callers_writing_into_x_and_results():
    p = S2MPJProblem("NET1")
    ref = _Uncached("NET1")
    x = p.x0 + 0.05
    c, J, g = p.cons(x), p.jac(x), p.grad(x)
    H = p.hess(x, np.ones(p.m))
    # the caller scribbles over everything it got back ...
    c[:] = 7.0
    g[:] = 7.0
    (J.data if sp.issparse(J) else J)[...] = 7.0
    (H.data if sp.issparse(H) else H)[...] = 7.0
    # ... and the next calls at x still give the true values
    np.testing.assert_array_equal(p.cons(x), ref.cons(x))
    np.testing.assert_array_equal(_dense(p.jac(x)), _dense(ref.jac(x)))
    np.testing.assert_array_equal(p.grad(x), ref.grad(x))
    np.testing.assert_allclose(_dense(p.hess(x, np.ones(p.m))),
                               _dense(ref.hess(x, np.ones(p.m))), rtol=1e-13, atol=1e-13)
    # x changed in place by the caller: a new point, evaluated afresh
    x[0] += 0.5
    np.testing.assert_array_equal(p.cons(x), ref.cons(x))
    np.testing.assert_array_equal(p.grad(x), ref.grad(x))
    np.testing.assert_array_equal(_dense(p.jac(x)), _dense(ref.jac(x)))


@need_s2mpj
@pytest.mark.parametrize("name", ["HS118", "HS21"])
def test_minimize_is_the_same_with_and_without_the_cache(name):
    """The cache returns bit for bit what an evaluation returns: the same iterates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = minimize(S2MPJProblem(name), options={"random_state": 0})
        b = minimize(_Uncached(name), options={"random_state": 0})
    assert a.success and b.success
    np.testing.assert_array_equal(a.x, b.x)
    assert a.nit == b.nit
    np.testing.assert_array_equal(a.multipliers, b.multipliers)


@need_s2mpj
def test_scipy_form_of_an_s2mpj_problem_evaluates_the_hessian_once_per_point():
    """to_scipy passes ∇²f and Σ v_i ∇²c_i apart (three Hessian calls per point in
    NonlinearProblem); the S2MPJ problem evaluates each point's Hessians once."""
    p = S2MPJProblem("HS118")
    calls = _count_s2mpj(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = to_scipy(p, "trust-constr")
        del kwargs["method"]
        res = minimize(**kwargs, tol=1e-8, options={"random_state": 0})
    assert res.success
    assert calls["LgHxy"] == 0
    assert calls["cJHx"] <= res.nit + 1 and calls["fgHx"] <= res.nit + 1


def test_nonlinear_problem_calls_each_user_function_once_per_point():
    calls = collections.Counter()
    buffer = np.zeros(2)

    def fun(x):
        calls["fun"] += 1
        return float(x @ x)

    def jac(x):
        calls["jac"] += 1
        buffer[:] = 2 * x  # returns its own buffer: the cache must keep a copy
        return buffer

    def con(x):
        calls["con"] += 1
        return np.array([x[0] * x[1]])

    def con_jac(x):
        calls["con_jac"] += 1
        return np.array([[x[1], x[0]]])

    p = NonlinearProblem(fun, [1.0, 2.0], jac=jac,
                         constraints=[NonlinearConstraint(con, 1.0, np.inf, jac=con_jac)],
                         bounds=Bounds([0, 0], [5, 5]))
    calls.clear()  # the constructor evaluated the constraint once for its size
    x = np.array([0.5, 3.0])
    for _ in range(3):
        f, g = p.obj(x, gradient=True)
        _, J = p.cons(x, gradient=True)
        p.grad(x), p.jac(x), p.obj(x), p.cons(x)
    assert calls == {"fun": 1, "jac": 1, "con": 1, "con_jac": 1}
    assert f == 9.25 and g.tolist() == [1.0, 6.0]
    # the user's function writes into its buffer, the caller into the results and into x
    jac(np.array([9.0, 9.0]))
    g[:] = -1.0
    J[:] = -1.0
    np.testing.assert_array_equal(p.grad(x), [1.0, 6.0])
    np.testing.assert_array_equal(p.jac(x), [[3.0, 0.5]])
    x[1] = 1.0
    np.testing.assert_array_equal(p.grad(x), [1.0, 2.0])
    np.testing.assert_array_equal(p.cons(x), [0.5])
    np.testing.assert_array_equal(p.jac(x), [[1.0, 0.5]])
    assert calls["fun"] == 1  # f was not asked for at the new x
    p.obj(x)
    assert calls == {"fun": 2, "jac": 3, "con": 2, "con_jac": 2}


def test_nonlinear_problem_combined_fun_and_finite_differences_are_cached():
    calls = collections.Counter()

    def fun_and_grad(x):
        calls["fg"] += 1
        return float(np.sum(x ** 4)), 4 * x ** 3

    p = NonlinearProblem(fun_and_grad, [1.0, -1.0], jac=True)
    x = np.array([0.3, 0.2])
    assert p.obj(x) == pytest.approx(0.3 ** 4 + 0.2 ** 4)
    np.testing.assert_allclose(p.grad(x), 4 * x ** 3)
    p.obj(x, gradient=True)
    assert calls["fg"] == 1

    counted = collections.Counter()

    def plain(x):
        counted["f"] += 1
        return float(np.sum(x ** 4))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = NonlinearProblem(plain, [1.0, -1.0])
    q.obj(x)
    before = counted["f"]
    q.obj(x)
    q.obj(x, gradient=True)  # the finite differences evaluate f elsewhere, not at x again
    np.testing.assert_allclose(q.grad(x), 4 * x ** 3, rtol=1e-6)
    assert counted["f"] - before == 2 * x.size  # central differences only
