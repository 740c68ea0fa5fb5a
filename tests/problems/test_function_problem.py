"""FunctionProblem: exact callables pass through, finite differences fill gaps, shapes checked."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.problems import FiniteDifferenceWarning, FunctionProblem, get_problem


def from_library(name, *, drop=()):
    """A FunctionProblem with the callables of a library problem, minus those in ``drop``."""
    p = get_problem(name)
    given = {"grad": p.grad, "cons": p.cons, "jac": p.jac, "hess": p.hess}
    for key in drop:
        given[key] = None
    return p, FunctionProblem(p.obj, p.x0, name=name, **given)


def test_exact_callables_pass_through_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref, p = from_library("HS78")
    assert (p.n, p.m, p.name, p.finite_difference) == (5, 3, "HS78", frozenset())
    x, v = ref.x0 + 0.1, np.array([0.5, -1.0, 2.0])
    assert p.obj(x) == ref.obj(x)
    np.testing.assert_array_equal(p.grad(x), ref.grad(x))
    np.testing.assert_array_equal(p.cons(x), ref.cons(x))
    np.testing.assert_array_equal(p.jac(x), ref.jac(x))
    np.testing.assert_array_equal(p.hess(x, v), ref.hess(x, v))
    np.testing.assert_allclose(p.hprod(np.ones(5), x, v), ref.hess(x, v) @ np.ones(5))
    assert p.counts["nfev"] == 1 and p.counts["nhprod"] == 1


@pytest.mark.parametrize("name", ["HS40", "BT11", "HS111LNP"])
def test_missing_derivatives_warn_once_and_are_accurate(name):
    with pytest.warns(FiniteDifferenceWarning, match="grad, jac, hess not given") as record:
        ref, p = from_library(name, drop=("grad", "jac", "hess"))
    assert len(record) == 1
    assert p.finite_difference == {"grad", "jac", "hess"}
    rng = np.random.default_rng(0)
    x, v = ref.x0 + 0.2 * rng.standard_normal(ref.n), rng.standard_normal(ref.m)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no further warnings on use
        np.testing.assert_allclose(p.grad(x), ref.grad(x), rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(p.jac(x), ref.jac(x), rtol=1e-7, atol=1e-8)
        H, H_ref = p.hess(x, v), ref.hess(x, v)
    np.testing.assert_allclose(H, H_ref, atol=1e-4 * max(1.0, np.abs(H_ref).max()))
    np.testing.assert_array_equal(H, H.T)


def test_hessian_from_exact_gradients_is_accurate():
    with pytest.warns(FiniteDifferenceWarning, match="hess not given"):
        ref, p = from_library("HS77", drop=("hess",))
    assert p.finite_difference == {"hess"}
    x, v = ref.x_opt, np.array([-0.08, -0.03])
    np.testing.assert_allclose(p.hess(x, v), ref.hess(x, v), rtol=1e-6, atol=1e-7)


def test_unconstrained_problem_has_m_zero():
    rosen = FunctionProblem(lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2,
                            [-1.2, 1.0], grad=lambda x: np.array([
                                -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                                200 * (x[1] - x[0] ** 2)]),
                            hess=lambda x, v: np.array([[2 - 400 * x[1] + 1200 * x[0] ** 2,
                                                         -400 * x[0]], [-400 * x[0], 200.0]]))
    assert rosen.m == 0 and rosen.finite_difference == frozenset()
    assert rosen.cons(rosen.x0).shape == (0,)
    assert rosen.jac(rosen.x0).shape == (0, 2)
    assert rosen.hess([1.0, 1.0], np.zeros(0)).shape == (2, 2)
    assert rosen.obj([1.0, 1.0]) == 0.0
    with pytest.warns(FiniteDifferenceWarning, match="grad, hess not given"):
        FunctionProblem(lambda x: x @ x, np.ones(3))


def test_n_constraints_skips_the_probe_call():
    calls = []

    def cons(x):
        calls.append(1)
        return [x[0] + x[1] - 1.0]

    p = FunctionProblem(lambda x: x @ x, [0.0, 0.0], grad=lambda x: 2 * x, cons=cons,
                        jac=lambda x: np.ones((1, 2)), hess=lambda x, v: 2 * np.eye(2),
                        n_constraints=1)
    assert p.m == 1 and calls == []
    FunctionProblem(lambda x: x @ x, [0.0, 0.0], grad=lambda x: 2 * x, cons=cons,
                    jac=lambda x: np.ones((1, 2)), hess=lambda x, v: 2 * np.eye(2))
    assert calls == [1]


def test_tolerated_shapes_and_sparse_matrices():
    p = FunctionProblem(lambda x: np.array([x @ x]), [1.0, 2.0], grad=lambda x: list(2 * x),
                        cons=lambda x: x[0] - x[1], jac=lambda x: np.array([1.0, -1.0]),
                        hess=lambda x, v: sp.identity(2, format="csr") * 2)
    assert p.m == 1
    assert p.obj(p.x0) == 5.0
    assert p.cons(p.x0).shape == (1,)
    assert p.jac(p.x0).shape == (1, 2)
    assert sp.issparse(p.hess(p.x0, [1.0]))


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"fun": lambda x: x}, "fun must return a scalar"),
        ({"grad": lambda x: np.ones(3)}, r"grad returned an array of shape \(3,\), expected"),
        ({"cons": lambda x: np.ones((2, 2)), "n_constraints": 1}, "cons returned"),
        ({"jac": lambda x: np.ones((2, 1))}, r"jac returned an array of shape \(2, 1\)"),
        ({"hess": lambda x, v: np.ones((2, 3))}, "hess returned"),
        ({"hess": lambda x, v: sp.identity(3)}, "hess returned a sparse matrix of shape"),
    ],
)
def test_wrong_callback_shapes_name_the_callable(bad, match):
    kwargs = {"fun": lambda x: float(x @ x), "grad": lambda x: 2 * x,
              "cons": lambda x: np.array([x.sum() - 1.0]), "jac": lambda x: np.ones((1, 2)),
              "hess": lambda x, v: 2 * np.eye(2)}
    kwargs.update(bad)
    p = FunctionProblem(kwargs.pop("fun"), [0.5, 0.5], name="toy", **kwargs)
    with pytest.raises(ValueError, match=match):
        p.obj(p.x0)
        p.grad(p.x0)
        p.cons(p.x0)
        p.jac(p.x0)
        p.hess(p.x0, np.ones(p.m))


def test_non_finite_values_pass_through_for_the_solver_to_handle():
    p = FunctionProblem(lambda x: np.log(x[0]), [1.0], grad=lambda x: 1 / x,
                        hess=lambda x, v: -np.diag(1 / x**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(p.obj([-1.0]))
        assert np.isinf(p.grad([0.0])).all()


def test_user_inputs_are_not_modified():
    x0 = np.array([1.0, 2.0])

    def greedy_grad(x):
        x[0] = 99.0  # a callback that writes into its argument must not corrupt ours
        return np.ones(2)

    p = FunctionProblem(lambda x: x.sum(), x0, grad=greedy_grad,
                        hess=lambda x, v: np.zeros((2, 2)))
    x = np.array([3.0, 4.0])
    p.grad(x)
    np.testing.assert_array_equal(x, [3.0, 4.0])
    p.x0[1] = -5.0
    np.testing.assert_array_equal(x0, [1.0, 2.0])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"fun": None}, TypeError, "fun must be callable"),
        ({"fun": 3.0}, TypeError, "fun must be callable"),
        ({"x0": np.ones((2, 2))}, ValueError, "x0 must be 1-D"),
        ({"x0": [np.nan, 1.0]}, ValueError, "x0 contains non-finite"),
        ({"x0": []}, ValueError, "x0 must have at least one entry"),
        ({"grad": "2x"}, TypeError, "grad must be callable"),
        ({"jac": lambda x: x}, ValueError, "jac was given without cons"),
        ({"n_constraints": -1, "cons": lambda x: x}, ValueError, "n_constraints must be >= 0"),
        ({"n_constraints": 1.5, "cons": lambda x: x}, TypeError, "n_constraints must be an int"),
        ({"n_constraints": 2}, ValueError, "cons was not given"),
        ({"name": 7}, TypeError, "name must be a str"),
    ],
)
def test_bad_construction_arguments(kwargs, error, match):
    args = {"fun": lambda x: x @ x, "x0": [1.0, 2.0], "grad": lambda x: 2 * x,
            "hess": lambda x, v: 2 * np.eye(2)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        FunctionProblem(args.pop("fun"), args.pop("x0"), **args)
