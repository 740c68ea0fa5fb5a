"""CUTEstProblem against a fake, pycutest-shaped module (real CUTEst is not in CI)."""

from __future__ import annotations

import importlib.machinery
import re
import sys
import types

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.constrained import minimize_eq
from optsolve.problems import CUTEstProblem, CUTEstUnavailableError, cutest_status, get_problem


class FakeCUTEstProblem:
    """pycutest's CUTEstProblem interface over a library problem, CUTEst conventions included:
    ±1e20 for infinite bounds, right-hand sides kept in cl = cu, its own counters."""

    def __init__(self, name, sifParams=None, *, shift=0.0, is_eq=None, bl=None, names=True):
        self._ref = get_problem(name)
        self.name, self.sifParams = name, sifParams
        self.n, self.m = self._ref.n, self._ref.m
        self.x0 = self._ref.x0.copy()
        self.bl = np.full(self.n, -1e20) if bl is None else np.asarray(bl, dtype=float)
        self.bu = np.full(self.n, 1e20)
        self._shift = np.full(self.m, shift)
        self.cl, self.cu = self._shift.copy(), self._shift.copy()
        self.is_eq_cons = np.ones(self.m, bool) if is_eq is None else np.asarray(is_eq)
        self._names = names
        self.calls = {"f": 0, "g": 0, "c": 0, "cg": 0, "H": 0, "Hprod": 0}

    def varnames(self):  # methods in pycutest, not attributes
        return [f"X{i + 1}" for i in range(self.n)] if self._names else None

    def connames(self):
        return [f"CON{i + 1}" for i in range(self.m)] if self._names else None

    def obj(self, x, gradient=False):
        self.calls["f"] += 1
        if gradient:
            self.calls["g"] += 1
            return self._ref._obj(x), self._ref._grad(x)
        return self._ref._obj(x)

    def cons(self, x, index=None, gradient=False):
        self.calls["c"] += 1
        c = self._ref._cons(x) + self._shift
        if gradient:
            self.calls["cg"] += 1
            return c, self._ref._jac(x)
        return c

    def scons(self, x, index=None, gradient=False):
        c, J = self.cons(x, gradient=True)
        return (c, sp.coo_matrix(J)) if gradient else c

    def hess(self, x, v=None):
        self.calls["H"] += 1
        return self._ref._hess(x, np.zeros(self.m) if v is None else v)

    def sphess(self, x, v=None):
        return sp.coo_matrix(self.hess(x, v))

    def hprod(self, p, x=None, v=None):
        self.calls["Hprod"] += 1
        return self._ref._hess(x, v) @ p

    def jprod(self, p, transpose=False, x=None):
        J = self._ref._jac(x)
        return J.T @ p if transpose else J @ p

    def report(self):
        return dict(self.calls)


def install_fake_pycutest(monkeypatch, **problem_kwargs):
    module = types.ModuleType("pycutest")
    module.__spec__ = importlib.machinery.ModuleSpec("pycutest", None)
    module.imported = []

    def import_problem(name, destination=None, sifParams=None, **kwargs):
        module.imported.append((name, sifParams))
        return FakeCUTEstProblem(name, sifParams, **problem_kwargs)

    module.import_problem = import_problem
    monkeypatch.setitem(sys.modules, "pycutest", module)
    return module


def test_adapter_maps_the_protocol_and_shifts_right_hand_sides(monkeypatch):
    fake = install_fake_pycutest(monkeypatch, shift=1.0)
    p = CUTEstProblem("HS40", sif_params={"N": 4})
    assert fake.imported == [("HS40", {"N": 4})]
    ref = get_problem("HS40")
    assert (p.name, p.n, p.m) == ("HS40", 4, 3)
    assert "CUTEst SIF HS40" in p.source and p.sif_params == {"N": 4}
    np.testing.assert_array_equal(p.x0, ref.x0)
    assert np.all(np.isneginf(p.bl)) and np.all(np.isposinf(p.bu))
    np.testing.assert_array_equal(p.cl, np.zeros(3))  # bounds on cons(x): shifted with it
    np.testing.assert_array_equal(p.cu, np.zeros(3))
    x, v = ref.x_opt, np.array([0.3, -0.2, 0.1])
    np.testing.assert_allclose(p.cons(x), ref.cons(x), atol=1e-15)  # the shift is undone
    assert np.abs(p.cons(x)).max() < 1e-12
    assert p.obj(x) == ref.obj(x)
    np.testing.assert_array_equal(p.grad(x), ref.grad(x))
    np.testing.assert_array_equal(p.jac(x), ref.jac(x))
    _, J = p.cons(x, gradient=True)
    np.testing.assert_array_equal(J, ref.jac(x))
    np.testing.assert_array_equal(p.hess(x, v), ref.hess(x, v))
    d = np.arange(4.0)
    np.testing.assert_allclose(p.hprod(d, x, v), ref.hess(x, v) @ d)
    np.testing.assert_allclose(p.jprod(d, x), ref.jac(x) @ d)
    np.testing.assert_allclose(p.jprod(v, x, transpose=True), ref.jac(x).T @ v)
    # our counters and CUTEst's both kept
    assert p.counts["nfev"] == 1 and p.counts["ngev"] == 1 and p.counts["njev"] == 2
    assert p.counts["nhprod"] == 1
    report = p.report()
    assert report["f"] == 2 and report["Hprod"] == 1


def test_sparse_mode_returns_scipy_sparse(monkeypatch):
    install_fake_pycutest(monkeypatch)
    p = CUTEstProblem("BT11", sparse=True)
    x = p.x0 + 0.1
    assert sp.issparse(p.jac(x)) and sp.issparse(p.hess(x, np.ones(3)))
    np.testing.assert_allclose(p.jac(x).toarray(), get_problem("BT11").jac(x))


def test_inequality_constraints_are_exposed_and_named(monkeypatch):
    install_fake_pycutest(monkeypatch, shift=2.0, is_eq=[True, False, False])
    p = CUTEstProblem("HS40")
    assert (p.n_eq, p.n_ineq) == (1, 2) and not p.is_equality_constrained
    # the equality row is shifted to read c(x) = 0, the inequality rows keep their bounds
    np.testing.assert_array_equal(p.cl, [0.0, 2.0, 2.0])
    np.testing.assert_array_equal(p.cu, [0.0, 2.0, 2.0])
    x = get_problem("HS40").x_opt
    np.testing.assert_allclose(p.cons(x), [0.0, 2.0, 2.0], atol=1e-12)
    assert re.search(r"2 inequality constraint\(s\): c\[1\] \(CON2\), c\[2\] \(CON3\)",
                     p.unsupported())
    with pytest.raises(ValueError, match="inequality"):
        minimize_eq(p)


def test_finite_bounds_are_exposed_and_named(monkeypatch):
    install_fake_pycutest(monkeypatch, bl=[-1e20, 0.0, -1e20, -5.0], names=False)
    p = CUTEstProblem("HS40")
    assert p.has_bounds and p.bl.tolist() == [-np.inf, 0.0, -np.inf, -5.0]
    assert "finite bounds on 2 variable(s): x[1], x[3]" in p.unsupported()
    with pytest.raises(ValueError, match="bounds"):
        minimize_eq(p)


def test_infinite_bounds_are_accepted(monkeypatch):
    install_fake_pycutest(monkeypatch, bl=[-2e20, -1e20, -1e21, -1e20])
    assert np.all(np.isneginf(CUTEstProblem("HS40").bl))


def test_missing_setup_names_what_is_missing(monkeypatch):
    monkeypatch.delitem(sys.modules, "pycutest", raising=False)
    for var in ("ARCHDEFS", "SIFDECODE", "CUTEST", "MASTSIF", "MYARCH"):
        monkeypatch.delenv(var, raising=False)
    assert not cutest_status()[0]
    with pytest.raises(CUTEstUnavailableError, match=r"CUTEstProblem\('HS28'\) cannot be built"):
        CUTEstProblem("HS28")
    with pytest.raises(ImportError, match=r"pycutest|MASTSIF"):
        CUTEstProblem("HS28")


def test_bad_arguments(monkeypatch):
    install_fake_pycutest(monkeypatch)
    with pytest.raises(TypeError, match="name must be a str"):
        CUTEstProblem(28)
    with pytest.raises(TypeError, match="sif_params must be a dict"):
        CUTEstProblem("HS28", sif_params=[("N", 3)])


def test_paper_problem_list():
    from optsolve.problems import PAPER_CUTEST_PROBLEMS, PROBLEMS

    assert len(PAPER_CUTEST_PROBLEMS) == len(set(PAPER_CUTEST_PROBLEMS)) == 47
    built_in = [name for name in PAPER_CUTEST_PROBLEMS if name in PROBLEMS]
    assert len(built_in) == 45  # all but BA-L1SP and MANCINONE (both in S2MPJ)


def test_bound_description_uses_variable_names_when_they_line_up(monkeypatch):
    install_fake_pycutest(monkeypatch, bl=[-1e20, 0.0, -1e20, -1e20])
    assert "x[1] (X2)" in CUTEstProblem("HS40").unsupported()
