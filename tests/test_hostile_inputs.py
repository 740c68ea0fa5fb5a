"""Hostile-input battery over the public entry points, in the manner of scikit-learn's common
checks.

Every registered entry point (a function or an estimator's ``fit``, see :data:`ENTRY_POINTS`)
is called on hostile variants of a small valid input: non-finite values, empty and degenerate
shapes, other dtypes, every SciPy sparse format and the sparse arrays, unsorted and duplicate
indices, pandas frames, Fortran order, non-contiguous and read-only views, wrong shapes, and
bad parameters. Each case must end in one of

* a clear ``ValueError`` / ``TypeError`` whose message names the argument (or is one of
  scikit-learn's own validation messages, :data:`SKLEARN_MESSAGES`, for estimators), or
* a result: finite when reported as a success, and equal to the result on the equivalent
  canonical input when the case only changes the representation;

never a crash, never a hang (each case runs under a ``SIGALRM`` timeout), never another
exception type, never a modified input (compared with a copy, storage order included). The
canonical input is solved twice: the same ``random_state`` must give the same answer.

A new family adds its entry points with one :func:`register` call each (at the end of this
module).
"""

from __future__ import annotations

import re
import signal
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import OptimizeResult

#: seconds one case may run before it counts as a hang
CASE_TIMEOUT = 30
#: scikit-learn's own messages from validate_data / check_array (they do not name X or y)
SKLEARN_MESSAGES = ("Found array with", "Expected 2D array", "Expected a 2-dimensional",
                    "Found input variables with inconsistent", "could not convert",
                    "dtype='numeric' is not compatible", "Complex data not supported",
                    "Unknown label type", "y should be a 1d array", "Input contains")
SPARSE_FORMATS = ("csr", "csc", "coo", "lil", "dok", "bsr", "dia")


@dataclass
class Entry:
    """One public entry point under test.

    ``call(**inputs, **params)`` runs it and returns a summary: an ``OptimizeResult`` (its
    ``x`` is compared), an array, or a tuple of arrays. ``inputs()`` builds a fresh valid input;
    ``rows`` names the inputs whose first axis is the samples (cut together); ``matrix`` is the
    input the array cases transform; ``sparse`` says whether sparse input is accepted (then
    every format must give the dense answer); ``bad_params`` are keyword overrides that must be
    refused with an error naming the key.
    """

    name: str
    call: Callable[..., Any]
    inputs: Callable[[], dict]
    matrix: str = "X"
    rows: tuple[str, ...] = ("X", "y")
    sparse: bool = True
    dense: bool = True
    bad_params: list = field(default_factory=list)
    tol: float = 1e-6
    expect: dict = field(default_factory=dict)  # case name -> "error" | "same" | "any"
    estimator: bool = False
    xfail: dict = field(default_factory=dict)  # case name or "bad_param{i}" -> known defect


ENTRY_POINTS: list[Entry] = []


def register(name: str, call: Callable, inputs: Callable, **kw) -> None:
    """Add an entry point to the battery (one line per entry point of a new family)."""
    ENTRY_POINTS.append(Entry(name, call, inputs, **kw))


# ------------------------------------------------------------------------------------- cases
# A case maps valid inputs to (hostile inputs, canonical equivalent or None, expectation):
# "error": a clear error; "same": the canonical answer; "any": a clear error or a sane result.


def _with(inputs, key, value):
    out = dict(inputs)
    out[key] = value
    return out


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


def _case_non_finite(bad):
    def case(e, inp):
        X = _dense(inp[e.matrix]).astype(np.float64)
        X.flat[1] = bad
        if sp.issparse(inp[e.matrix]):
            X = sp.csr_matrix(X)
        return _with(inp, e.matrix, X), None, "error"
    return case


def _case_target_non_finite(e, inp):
    if "y" not in inp:
        return None
    y = np.asarray(inp["y"], dtype=np.float64).copy()
    y[0] = np.nan
    return _with(inp, "y", y), None, "error"


def _case_target_container(kind):
    def case(e, inp):
        if "y" not in inp:
            return None
        y = np.asarray(inp["y"])
        if kind == "list":
            return _with(inp, "y", y.tolist()), inp, "same"
        if kind == "column":
            return _with(inp, "y", y[:, None]), inp, "any"
        pd = pytest.importorskip("pandas")
        return _with(inp, "y", pd.Series(y)), inp, "same"
    return case


def _cut_rows(e, inp, stop):
    return {k: (v[:stop] if k in e.rows else v) for k, v in inp.items()}


def _case_empty_rows(e, inp):
    return _cut_rows(e, inp, 0), None, "error"


def _case_one_sample(e, inp):
    return _cut_rows(e, inp, 1), None, "any"


def _case_empty_cols(e, inp):
    X = inp[e.matrix]
    return _with(inp, e.matrix, X[:, :0]), None, "error"


def _case_one_feature(e, inp):
    X = inp[e.matrix]
    return _with(inp, e.matrix, X[:, :1]), None, "any"


def _case_wrong_rows(e, inp):
    other = [k for k in e.rows if k != e.matrix]
    if not other:
        return None
    return _with(inp, other[0], inp[other[0]][:-1]), None, "error"


def _case_ndim(ndim):
    def case(e, inp):
        X = _dense(inp[e.matrix])
        bad = X[:, 0] if ndim == 1 else X[:, :, None]
        return _with(inp, e.matrix, bad), None, "error"
    return case


def _case_dtype(kind):
    def case(e, inp):
        X = inp[e.matrix]
        if sp.issparse(X):
            if kind in ("object", "str"):
                return None
            canon = X.astype(np.float32).astype(np.float64) if kind == "float32" else None
            if kind == "int":
                Xr = X.copy()
                Xr.data = np.round(3 * Xr.data)
                canon, hostile = Xr, Xr.astype(np.int64)
            else:
                hostile = X.astype(np.float32)
            return _with(inp, e.matrix, hostile), _with(inp, e.matrix, canon), "same"
        X = np.asarray(X)
        if kind == "int":
            Xr = np.round(3 * X)
            return _with(inp, e.matrix, Xr.astype(np.int64)), _with(inp, e.matrix, Xr), "same"
        if kind == "float32":
            X32 = X.astype(np.float32)
            return (_with(inp, e.matrix, X32),
                    _with(inp, e.matrix, X32.astype(np.float64)), "same")
        if kind == "object":
            return _with(inp, e.matrix, X.astype(object)), inp, "any"
        return _with(inp, e.matrix, np.full(X.shape, "a", dtype=object)), None, "error"
    return case


def _case_sparse(fmt, array=False):
    def case(e, inp):
        X = sp.csr_matrix(inp[e.matrix]).asformat(fmt)
        if array:
            X = {"csr": sp.csr_array, "csc": sp.csc_array, "coo": sp.coo_array}[fmt](X)
        canon = inp if e.sparse else None
        return _with(inp, e.matrix, X), canon, "same" if e.sparse else "any"
    return case


def _case_unsorted(fmt, duplicate):
    def case(e, inp):
        if not e.sparse:
            return None
        X = sp.csr_matrix(inp[e.matrix]).asformat(fmt)
        X.sort_indices()
        indptr, indices, data = X.indptr.copy(), X.indices.copy(), X.data.copy()
        for j in range(indptr.shape[0] - 1):  # reverse each row / column
            s, t = indptr[j], indptr[j + 1]
            indices[s:t], data[s:t] = indices[s:t][::-1].copy(), data[s:t][::-1].copy()
        if duplicate:  # split the first stored entry into two halves
            s = int(np.flatnonzero(np.diff(indptr))[0])
            p = indptr[s]
            indices = np.insert(indices, p, indices[p])
            data = np.insert(data, p, data[p] / 2)
            data[p + 1] /= 2
            indptr[s + 1:] += 1
        cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
        return _with(inp, e.matrix, cls((data, indices, indptr), shape=X.shape)), inp, "same"
    return case


def _case_layout(kind):
    def case(e, inp):
        X = inp[e.matrix]
        if sp.issparse(X):
            return None
        X = np.asarray(X)
        if kind == "fortran":
            hostile = np.asfortranarray(X)
        elif kind == "noncontiguous":
            wide = np.repeat(X, 2, axis=1)
            hostile = wide[:, ::2]
        elif kind == "readonly":
            hostile = X.copy()
            hostile.flags.writeable = False
        else:  # pandas
            pd = pytest.importorskip("pandas")
            hostile = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        return _with(inp, e.matrix, hostile), inp, "same"
    return case


def _case_bad_param(params):
    def case(e, inp):
        return {**inp, **params}, None, "error"
    return case


CASES: dict[str, Callable] = {
    "nan": _case_non_finite(np.nan),
    "inf": _case_non_finite(np.inf),
    "y_nan": _case_target_non_finite,
    "y_list": _case_target_container("list"),
    "y_column": _case_target_container("column"),
    "y_pandas": _case_target_container("pandas"),
    "empty_rows": _case_empty_rows,
    "empty_cols": _case_empty_cols,
    "one_sample": _case_one_sample,
    "one_feature": _case_one_feature,
    "wrong_rows": _case_wrong_rows,
    "1d": _case_ndim(1),
    "3d": _case_ndim(3),
    "int": _case_dtype("int"),
    "float32": _case_dtype("float32"),
    "object": _case_dtype("object"),
    "strings": _case_dtype("str"),
    **{f"sparse_{f}": _case_sparse(f) for f in SPARSE_FORMATS},
    **{f"sparse_{f}_array": _case_sparse(f, array=True) for f in ("csr", "csc", "coo")},
    "csr_unsorted": _case_unsorted("csr", False),
    "csc_unsorted": _case_unsorted("csc", False),
    "csr_duplicates": _case_unsorted("csr", True),
    "csc_duplicates": _case_unsorted("csc", True),
    "fortran": _case_layout("fortran"),
    "noncontiguous": _case_layout("noncontiguous"),
    "readonly": _case_layout("readonly"),
    "pandas": _case_layout("pandas"),
}


# ----------------------------------------------------------------------------------- harness


class _Timeout(Exception):
    pass


def _alarm(*_):
    raise _Timeout


def _snapshot(value):
    if sp.issparse(value):
        return ("sparse", value.format, value.shape,
                tuple(np.array(a, copy=True) for a in _sparse_arrays(value)))
    if isinstance(value, np.ndarray):
        return ("array", value.copy(order="K"), value.flags.c_contiguous,
                value.flags.f_contiguous, value.flags.writeable)
    if hasattr(value, "copy") and hasattr(value, "equals"):  # pandas
        return ("pandas", value.copy(deep=True))
    return ("other", repr(value))


def _sparse_arrays(value):
    if value.format in ("csr", "csc", "bsr"):
        return value.data, value.indices, value.indptr
    if value.format == "coo":
        return value.data, value.row, value.col
    if value.format == "dia":
        return value.data, value.offsets
    if value.format == "lil":
        return (np.array([len(r) for r in value.rows]),
                np.concatenate([np.asarray(r, dtype=float) for r in value.data] or [[]]))
    keys = sorted(value.keys())  # dok
    return np.array(keys, dtype=np.int64).reshape(-1, 2), np.array([value[k] for k in keys])


def _same_snapshot(a, b) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "sparse":
        return a[1:3] == b[1:3] and all(
            x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
            for x, y in zip(a[3], b[3], strict=True))
    if a[0] == "array":
        same = a[1].dtype == b[1].dtype and a[1].shape == b[1].shape and (
            np.array_equal(a[1], b[1], equal_nan=a[1].dtype.kind == "f")
            if a[1].dtype.kind != "O" else bool(np.all(a[1] == b[1])))
        return same and a[2:] == b[2:]
    if a[0] == "pandas":
        return a[1].equals(b[1])
    return a == b


def _summary(out):
    """(values to compare, finite-if-successful check) of an entry point's return value."""
    if isinstance(out, OptimizeResult):
        x = np.asarray(out.x, dtype=np.float64)
        if out.get("success", True):
            assert np.all(np.isfinite(x)), "non-finite x reported as a success"
            assert np.isfinite(out.get("fun", 0.0)), "non-finite fun reported as a success"
        return x
    if isinstance(out, tuple):
        return tuple(_summary(o) for o in out)
    if sp.issparse(out):
        out = out.toarray()
    arr = np.asarray(out)
    if arr.dtype.kind in "fc":
        assert np.all(np.isfinite(arr)), "non-finite result"
    return arr


def _close(a, b, tol) -> bool:
    if isinstance(a, tuple):
        return all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    if a.shape != b.shape:
        return False
    if a.dtype.kind not in "fc":
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(b),
                                                                                initial=0)))))


def _run(entry, inputs):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_TIMEOUT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return entry.call(**inputs)
    except _Timeout:
        pytest.fail(f"{entry.name}: no answer after {CASE_TIMEOUT} s (hang)")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_REFERENCES: dict = {}


def _reference(entry, inputs, key):
    if key not in _REFERENCES:
        _REFERENCES[key] = _summary(_run(entry, inputs))
    return _REFERENCES[key]


def _names_argument(msg: str, entry: Entry, hostile: dict) -> bool:
    if entry.estimator and any(s in msg for s in SKLEARN_MESSAGES):
        return True
    return any(re.search(rf"\b{re.escape(k)}\b", msg) for k in hostile)


# ------------------------------------------------------------------------ the entry points


def _regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    return {"X": X, "y": X @ np.array([1.0, -2.0, 0.0, 0.5]) + 0.1 * rng.standard_normal(30)}


def _binary():
    d = _regression()
    return {"X": d["X"], "y": np.where(d["y"] > 0, 1.0, -1.0)}


def _multiclass():
    d = _regression()
    return {"X": d["X"], "y": np.digitize(d["y"], [-1.0, 1.0]).astype(np.int64)}


def _bcd_fn(datafit, penalty):
    def call(X, y, **params):
        from optsolve.bcd import minimize_bcd

        return minimize_bcd(datafit, penalty, X=X, y=y, random_state=0, **params)
    return call


def _estimator(make):
    def call(X, y, **params):
        return make(**params).fit(X, y)
    return call


def _bcd_params():
    return [{"tol": -1.0}, {"max_iter": -1}, {"max_iter": 2.5}, {"selection": "nope"},
            {"update": 3}, {"block_size": 0}]


def _fit_coef(make):
    def call(X, y, **params):
        est = make(**params).fit(X, y)
        return np.concatenate([np.ravel(est.coef_), np.ravel(est.intercept_)])
    return call


def _register_bcd():
    from optsolve.bcd import (
        L1,
        L2,
        GreedyBCDClassifier,
        GreedyBCDRegressor,
        LeastSquares,
        Logistic,
        Multinomial,
    )

    register("minimize_bcd-ls-l1", _bcd_fn(LeastSquares(), L1(0.05)), _regression,
             bad_params=_bcd_params())
    register("minimize_bcd-ls-l2-gradient",
             lambda X, y, **p: _bcd_fn(LeastSquares(), L2(0.1))(X, y, update="gradient", **p),
             _regression, bad_params=[{"tol": np.nan}, {"x0": np.zeros(7)}])
    register("minimize_bcd-logistic-l1", _bcd_fn(Logistic(), L1(0.01)), _binary,
             bad_params=_bcd_params(), expect={"int": "any"})
    register("minimize_bcd-multinomial", _bcd_fn(Multinomial(3), L1(0.01)), _multiclass,
             bad_params=[{"tol": "1e-6"}])
    register("GreedyBCDRegressor", _fit_coef(GreedyBCDRegressor), _regression,
             bad_params=[{"alpha": -1.0}, {"max_iter": 0}, {"selection": "nope"}],
             estimator=True)
    register("GreedyBCDClassifier", _fit_coef(GreedyBCDClassifier), _multiclass,
             bad_params=[{"loss": "hinge"}, {"alpha": np.inf}], estimator=True,
             expect={"y_nan": "error"})
    register("GreedyBCDClassifier-multinomial",
             _fit_coef(lambda **p: GreedyBCDClassifier(loss="multinomial", **p)), _multiclass,
             estimator=True)


def _register_bcd_tools():
    from optsolve.bcd import L1, LeastSquares, duality_gap, make_partition

    def gap_inputs():
        d = _regression()
        return {**d, "coef": np.array([0.5, -1.0, 0.0, 0.2])}

    register("duality_gap",
             lambda X, y, coef, **p: np.array(duality_gap(LeastSquares(), L1(0.1), X, y, coef,
                                                          **p)),
             gap_inputs, bad_params=[{"coef": np.zeros(3)}, {"coef": np.full(4, np.nan)}],
             expect={"one_feature": "error", "empty_cols": "error"})
    register("make_partition",
             lambda lips, **p: make_partition(**{"kind": "sort", "lips": lips,
                                                 "block_size": 2, **p}),
             lambda: {"lips": np.array([1.0, 5.0, 2.0, 4.0, 3.0])}, matrix="", rows=(),
             bad_params=[{"kind": "nope"}, {"block_size": 0}, {"block_size": 1.5},
                         {"lips": np.array([1.0, np.nan])}, {"lips": np.ones((2, 2))},
                         {"lips": np.array([1.0, -1.0])}])


def _register_constrained():
    from optsolve.constrained import ConstrainedLogisticRegression

    def make(**params):
        return ConstrainedLogisticRegression(
            **{"A_eq": [[1.0, 1.0, 0.0, 0.0]], "b_eq": [0.0], "norm_constraint": 1.0,
               "random_state": 0, **params})

    def call(X, y, **params):
        sw = params.pop("sample_weight", None)
        est = make(**params)
        est.fit(X, y, sample_weight=sw)
        return np.concatenate([est.coef_.ravel(), est.intercept_])

    register("ConstrainedLogisticRegression", call, _binary, estimator=True, tol=1e-5,
             bad_params=[{"options": {"mu0": -1.0}}, {"options": {"nope": 1}},
                         {"sample_weight": 0.0}, {"sample_weight": np.full(30, np.nan)},
                         {"alpha": -1.0}, {"norm_constraint": 0.0}],
             # one feature cannot satisfy a constraint on two: a clear A_eq error
             expect={"one_feature": "any", "empty_cols": "error"})

    def bounded(X, y, **params):
        # the matrix-free method with bounds: positive coefficients, capped at 1
        sw = params.pop("sample_weight", None)
        est = ConstrainedLogisticRegression(
            **{"A_eq": [[1.0, 1.0, 0.0, 0.0]], "b_eq": [0.5], "positive": True,
               "bounds": (None, 1.0), "alpha": 0.01, **params})
        est.fit(X, y, sample_weight=sw)
        return np.concatenate([est.coef_.ravel(), est.intercept_])

    register("ConstrainedLogisticRegression[bounds]", bounded, _binary, estimator=True,
             tol=1e-5,
             bad_params=[{"bounds": (1.0, 0.0)}, {"bounds": (np.zeros(3), None)},
                         {"bounds": (np.nan, None)}, {"bounds": 1.0},
                         {"options": {"mu0": 1.0}}, {"options": {"max_cg": 0}},
                         {"method": "eal-direct"}],
             expect={"one_feature": "any", "empty_cols": "error"})


def _register_eq():
    from optsolve.constrained import minimize_eq
    from optsolve.problems import get_problem

    def run(problem, **params):
        return minimize_eq(problem, **{"random_state": 0, "max_iter": 50, **params})

    register("minimize_eq", run, lambda: {"problem": get_problem("HS6")}, matrix="", rows=(),
             bad_params=[{"options": {"mu0": -10.0}}, {"options": {"penalty_factor": 1.0}},
                         {"options": {"eta": "small"}}, {"options": {"nope": 1}},
                         {"options": ["eta"]}, {"x0": np.array([np.nan, 1.0, 2.0])},
                         {"tol": -1.0}, {"max_iter": 1.5}, {"method": "newton"},
                         {"sketch": "none"}, {"callback": 3}])


def _register_nlp():
    from optsolve.constrained import minimize

    cons = [{"type": "ineq", "fun": lambda x: x[0] - 2 * x[1] + 2},
            {"type": "ineq", "fun": lambda x: -x[0] - 2 * x[1] + 6},
            {"type": "ineq", "fun": lambda x: -x[0] + 2 * x[1] + 2}]

    def run(x0, **params):
        opts = params.pop("options", {})
        # the sketches are random: the battery's same-seed check needs a seed
        opts = {"random_state": 0, **opts} if isinstance(opts, dict) else opts
        kw = {"constraints": cons, "bounds": [(0, None), (0, None)], "options": opts, **params}
        return minimize(lambda x: (x[0] - 1) ** 2 + (x[1] - 2.5) ** 2, x0,
                        jac=lambda x: np.array([2 * (x[0] - 1), 2 * (x[1] - 2.5)]), **kw)

    register("constrained.minimize", run, lambda: {"x0": np.array([2.0, 0.0])}, matrix="",
             rows=(), bad_params=[{"x0": np.array([np.nan, 0.0])}, {"x0": np.zeros(3)},
                                  {"bounds": [(1.0, 0.0), (0, None)]}, {"bounds": [(0, 1)]},
                                  {"constraints": [{"type": "le", "fun": np.sum}]},
                                  {"options": {"nope": 1}}, {"options": {"armijo": 0.9}},
                                  {"tol": -1.0}, {"method": "newton"}, {"callback": 3}])


def _register_path():
    from optsolve.bcd import bcd_path

    register("bcd_path", lambda X, y, **p: bcd_path(X, y, n_alphas=4, eps=1e-2, **p)[1],
             _regression, bad_params=[{"n_alphas": 0}, {"eps": -1.0}, {"alphas": [-1.0]},
                                      {"datafit": "nope"}, {"tol": np.nan}])


def _register_forest():
    from optsolve.bcd import minimize_forest_bcd

    def spd():
        rng = np.random.default_rng(0)
        B = rng.standard_normal((8, 8)) * (rng.random((8, 8)) < 0.3)
        A = B @ B.T + 8 * np.eye(8)
        return {"A": A, "b": rng.standard_normal(8)}

    register("minimize_forest_bcd",
             lambda A, b, **p: minimize_forest_bcd(A, b, **{"random_state": 0, **p}), spd,
             matrix="A", rows=("A", "b"),
             bad_params=[{"tol": -1.0}, {"selection": "nope"}, {"max_iter": -1},
                         {"x0": np.zeros(3)}],
             expect={"one_sample": "error", "one_feature": "error", "float32": "any",
                     "int": "any", "object": "any"})


def _register_completion():
    from optsolve.completion import AltMinCompletion, altmin

    def observations():
        rng = np.random.default_rng(0)
        M = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 15))
        mask = rng.random(M.shape) < 0.7
        X = sp.csr_matrix(np.where(mask, M, 0.0))
        X.eliminate_zeros()
        return {"X": X}

    def run_altmin(X, **params):
        res = altmin(X, **{"rank": 2, "random_state": 0, "max_iter": 30, **params})
        return np.asarray(res.U @ res.V.T)

    def run_estimator(X, **params):
        est = AltMinCompletion(**{"rank": 2, "random_state": 0, "max_iter": 30, **params})
        return est.fit(X).U_ @ est.V_.T

    bad = [{"rank": 0}, {"rank": 2.5}, {"tol": -1.0}, {"options": {"sketch_factr": 4}}]
    # an entry observed twice is refused (it would otherwise be summed): a clear error
    expect = {"csr_duplicates": "error", "csc_duplicates": "error"}
    from optsolve.completion import row_least_squares, spectral_init

    def rows_problem():
        rng = np.random.default_rng(0)
        X = sp.random(12, 40, density=0.5, format="csr", random_state=0)
        return {"X": X, "F": rng.standard_normal((40, 3))}

    register("row_least_squares", lambda X, F, **p: row_least_squares(X, F, **p)[0],
             rows_problem, rows=("X",), dense=False,
             bad_params=[{"alpha": -1.0}, {"method": "nope"}, {"tol": np.nan},
                         {"F": np.zeros((39, 3))}, {"x0": np.zeros(3)}],
             expect={**expect, "empty_rows": "any", "empty_cols": "error",
                     "one_feature": "error"})
    register("spectral_init",
             lambda X, **p: np.abs(spectral_init(X, **{"rank": 2, "random_state": 0, **p})[1]),
             observations, rows=("X",), dense=False, expect=expect,
             bad_params=[{"rank": 0}, {"rank": 100}, {"incoherence": -1.0}])
    register("altmin", run_altmin, observations, rows=("X",), dense=False, bad_params=bad,
             expect=expect)
    register("AltMinCompletion", run_estimator, observations, rows=("X",), dense=False,
             estimator=True, bad_params=[{"rank": 0}, {"solver_options": {"nope": 1}}],
             expect=expect)


def _register_pruning():
    from optsolve.pruning import allocate_dp, allocate_lagrangian

    def curves():
        rng = np.random.default_rng(0)
        costs = np.sort(rng.integers(0, 50, size=(5, 6)), axis=1)[:, ::-1].astype(float)
        costs[:, -1] = 0.0
        dist = np.sort(rng.uniform(0, 5, size=(5, 6)), axis=1)
        dist[:, 0] = 0.0
        return {"costs": costs, "distortions": dist, "budget": 100.0}

    from optsolve.pruning import (
        allocate_erk,
        allocate_global_magnitude,
        allocate_lamp,
        allocate_uniform,
        allocate_uniform_plus,
        lamp_scores,
    )

    def layer():
        return {"weight": np.random.default_rng(0).standard_normal((6, 5))}

    register("lamp_scores", lamp_scores, layer, matrix="weight", rows=("weight",),
             sparse=False, expect={"empty_rows": "any", "empty_cols": "any", "1d": "any",
                                   "3d": "any", "int": "any", "one_sample": "any"})

    def layers():
        rng = np.random.default_rng(0)
        return {"weights": [rng.standard_normal((6, 5)), rng.standard_normal(20)],
                "n_keep": 20}

    for name, fn in (("allocate_uniform", allocate_uniform), ("allocate_erk", allocate_erk),
                     ("allocate_global_magnitude", allocate_global_magnitude),
                     ("allocate_lamp", allocate_lamp),
                     ("allocate_uniform_plus", allocate_uniform_plus)):
        register(name, fn, layers, matrix="", rows=(),
                 bad_params=[{"n_keep": -1}, {"n_keep": 1000}, {"n_keep": 2.5},
                             {"weights": []}, {"weights": [np.full(3, np.nan)]},
                             {"masks": [np.ones(3, bool)]}])

    for name, fn in (("allocate_dp", allocate_dp), ("allocate_lagrangian", allocate_lagrangian)):
        register(name, fn, curves, matrix="costs", rows=("costs", "distortions"), sparse=False,
                 bad_params=[{"budget": -1.0}, {"budget": np.nan}, {"budget": "10"}],
                 expect={"empty_rows": "error", "one_sample": "any", "one_feature": "any",
                         "empty_cols": "error", "int": "any"})


def _register_graphs():
    from optsolve.graphs import (
        check_graph,
        effective_resistances,
        laplacian,
        make_graph,
        metropolis_weights,
        spectral_gap,
    )

    def adjacency():
        return {"graph": make_graph("erdos_renyi", 8, random_state=0, p=0.5).toarray()}

    register("make_graph", lambda **p: make_graph(**{"kind": "erdos_renyi", "n": 8,
                                                     "random_state": 0, "p": 0.5, **p}),
             dict, matrix="", rows=(),
             bad_params=[{"kind": "nope"}, {"n": 0}, {"n": 2.5}, {"p": 1.5}, {"p": -0.1}])

    def rows():  # the adjacency is square: cut rows and columns together
        return ("graph",)

    for name, fn in (("check_graph", check_graph), ("metropolis_weights", metropolis_weights),
                     ("laplacian", laplacian), ("effective_resistances", effective_resistances),
                     ("spectral_gap",
                      lambda graph: np.array(sorted(spectral_gap(graph).values())))):
        register(name, lambda graph, _f=fn: _f(graph), adjacency, matrix="graph", rows=rows(),
                 expect={"one_sample": "any", "one_feature": "error", "empty_cols": "error",
                         "int": "any", "float32": "any", "object": "any"})


def _register_datasets():
    from optsolve.datasets import make_sparse_classification, make_sparse_regression

    for name, fn in (("make_sparse_regression", make_sparse_regression),
                     ("make_sparse_classification", make_sparse_classification)):
        register(name, lambda _f=fn, **p: _f(**{"n_samples": 20, "n_features": 200,
                                                "density": 0.2, "random_state": 0, **p})[1],
                 dict, matrix="", rows=(),
                 bad_params=[{"n_samples": 0}, {"n_features": -1}, {"density": 0.0},
                             {"density": 1.5}, {"density": np.nan}, {"n_samples": 2.5}])


GRAPH_EXPECT = {"one_sample": "any", "one_feature": "error", "empty_cols": "error", "int": "any",
                "float32": "any", "object": "any"}


def _cycle(n=4):
    from optsolve.graphs import make_graph

    return make_graph("cycle", n).toarray()


def _ridge_problem(n_nodes=4, alpha=0.5, zero_targets=False):
    from optsolve.problems import DecentralizedProblem, partition_data

    d = _regression()
    y = np.zeros_like(d["y"]) if zero_targets else d["y"]
    return DecentralizedProblem.ridge(partition_data(d["X"], y, n_nodes, random_state=0), alpha)


def _without_launch(run):
    """``run`` with mpiexec replaced by a stop: bad input must be refused before the launch; a
    valid input returns a marker instead of starting processes."""
    from unittest import mock

    class Launched(Exception):
        pass

    def call(**kw):
        with mock.patch("optsolve._mpi.launch", side_effect=Launched):
            try:
                return run(**kw)
            except Launched:
                return np.ones(1)
    return call


def _register_partitioned():
    from optsolve.problems import DecentralizedProblem, partition_data

    def parts_call(X, y, **p):
        parts = partition_data(X, y, **{"n_nodes": 3, "random_state": 0, **p})
        return tuple(Xi for Xi, _ in parts) + tuple(yi for _, yi in parts)

    register("partition_data", parts_call, _regression,
             bad_params=[{"n_nodes": 0}, {"n_nodes": 31}, {"n_nodes": 2.5}, {"how": "nope"},
                         {"how": "dirichlet", "concentration": -1.0},
                         {"how": "dirichlet", "concentration": np.nan}])
    for loss, data in (("ridge", _regression), ("logistic", _binary)):
        def problem_call(X, y, _loss=loss, parts=None, **p):
            prob = getattr(DecentralizedProblem, _loss)([(X, y), (X, y)] if parts is None
                                                        else parts, **{"alpha": 0.5, **p})
            return np.r_[prob.solution(), prob.L_local]

        register(f"DecentralizedProblem.{loss}", problem_call, data,
                 bad_params=[{"alpha": -1.0}, {"alpha": np.nan}, {"alpha": "1"}, {"parts": []},
                             {"parts": "ab"}, {"parts": [(np.ones((2, 2)), np.ones(3))]}])


def _register_decentralized():
    from optsolve.decentralized import (
        DecentralizedLogisticRegression,
        DecentralizedRidge,
        run_mpi,
        solve,
    )

    def problem_graph():
        return {"problem": _ridge_problem(), "graph": _cycle()}

    bad = [{"tol": -1.0}, {"max_events": 0}, {"max_events": 2.5}, {"max_time": -1.0},
           {"solver": "nope"}, {"callback": 3}, {"x0": np.zeros(3)},
           {"x0": np.full((4, 4), np.nan)}, {"nope_option": 1}, {"problem": "nope"},
           {"problem": _ridge_problem(n_nodes=5)}, {"random_state": "x"},
           {"graph": np.ones((4, 4)) - np.eye(4) - np.diag(np.ones(3), 1)}]
    for solver in ("dadao", "dgd", "extra", "msda", "adom+", "continuized"):
        register(f"decentralized.solve-{solver}",
                 lambda problem, graph, _s=solver, **p: solve(problem, graph, **{
                     "solver": _s, "max_events": 200, "random_state": 0, **p}),
                 problem_graph, matrix="graph", rows=("graph",), bad_params=bad,
                 expect=GRAPH_EXPECT)
    # the conjugate oracles (msda, continuized) read sparse rows minus the implicit centre
    for name, make, data, solver in (
            ("DecentralizedRidge", DecentralizedRidge, _regression, "dadao"),
            ("DecentralizedLogisticRegression", DecentralizedLogisticRegression, _binary,
             "dadao"),
            ("DecentralizedRidge[msda]", DecentralizedRidge, _regression, "msda"),
            ("DecentralizedLogisticRegression[continuized]", DecentralizedLogisticRegression,
             _binary, "continuized")):
        register(name, _fit_coef(lambda _m=make, _s=solver, **p: _m(**{
                     "n_nodes": 3, "max_events": 300, "random_state": 0, "solver": _s, **p})),
                 data,
                 estimator=True,
                 bad_params=[{"alpha": -1.0}, {"n_nodes": 0}, {"n_nodes": 2.5},
                             {"solver": "nope"}, {"graph": "nope"}, {"backend": "nope"},
                             {"solver_options": {"nope": 1}}, {"max_events": 0},
                             {"partition": "nope"}, {"tol": np.nan}])
    register("decentralized.run_mpi", _without_launch(run_mpi),
             lambda: {"problem": _ridge_problem(zero_targets=True), "graph": _cycle()},
             matrix="", rows=(),
             bad_params=[{"solver": "extra"}, {"n_procs": 0}, {"n_procs": 5}, {"n_procs": 1.5},
                         {"tol": -1.0}, {"max_time": -1.0}, {"max_events": 0},
                         {"time_scale": 0.0}, {"batch_size": 0}, {"rates": "nope"},
                         {"x0": np.zeros(3)}, {"monitor_interval": 0.0},
                         {"liveness_timeout": -1.0}, {"timeout": -1.0}, {"timeout": "x"},
                         {"problem": "nope"}, {"problem": _ridge_problem(alpha=0.0)},
                         {"graph": np.ones((5, 5)) - np.eye(5)},
                         {"graph": np.triu(np.ones((4, 4)), 1)}])


def _register_randomwalk():
    from optsolve.randomwalk import (
        TokenSGDClassifier,
        TokenSGDRegressor,
        asymptotic_covariance,
        srrw_walk,
        token_sgd,
    )
    from optsolve.randomwalk.mpi import run_mpi

    def adjacency():
        from optsolve.graphs import make_graph

        return {"graph": make_graph("erdos_renyi", 8, random_state=0, p=0.5).toarray()}

    register("srrw_walk",
             lambda graph, **p: srrw_walk(graph, **{"alpha": 5.0, "n_steps": 200,
                                                    "random_state": 0, **p}),
             adjacency, matrix="graph", rows=("graph",), expect=GRAPH_EXPECT,
             bad_params=[{"alpha": -1.0}, {"alpha": np.nan}, {"n_steps": 0}, {"n_steps": 2.5},
                         {"base": "nope"}, {"start": 100}, {"start": 1.5}, {"x0": np.ones(3)},
                         {"x0": -np.ones(8)}, {"random_state": "x"}])
    register("asymptotic_covariance",
             lambda graph, **p: asymptotic_covariance(graph, **{"alpha": 5.0, **p}),
             adjacency, matrix="graph", rows=("graph",), expect=GRAPH_EXPECT,
             bad_params=[{"alpha": -1.0}, {"alpha": np.inf}, {"alpha": "1"}, {"base": "nope"}])

    def problem_graph():
        return {"problem": _ridge_problem(), "graph": _cycle()}

    register("token_sgd",
             lambda problem, graph, **p: token_sgd(problem, graph, **{
                 "n_steps": 300, "random_state": 0, **p}),
             problem_graph, matrix="graph", rows=("graph",), expect=GRAPH_EXPECT,
             bad_params=[{"n_steps": 0}, {"walk": "nope"}, {"alpha": -1.0}, {"step_size": -1.0},
                         {"step_size": "nope"}, {"regime": "nope"}, {"batch_size": 0},
                         {"x0": np.zeros(3)}, {"start": 100}, {"tol": -1.0}, {"callback": 3},
                         {"history_every": 0}, {"problem": "nope"},
                         {"problem": _ridge_problem(n_nodes=5)}])
    for name, make, data in (("TokenSGDRegressor", TokenSGDRegressor, _regression),
                             ("TokenSGDClassifier", TokenSGDClassifier, _binary)):
        register(name, _fit_coef(lambda _m=make, **p: _m(**{
                     "n_agents": 3, "n_steps": 300, "random_state": 0, **p})), data,
                 estimator=True,
                 bad_params=[{"n_agents": 0}, {"walk": "nope"}, {"alpha": -1.0},
                             {"graph": "nope"}, {"n_steps": 0}, {"step_size": -1.0},
                             {"l2_reg": -1.0}, {"partition": "nope"}])
    register("randomwalk.run_mpi", _without_launch(run_mpi), problem_graph, matrix="", rows=(),
             bad_params=[{"walk": "nope"}, {"alpha": -1.0}, {"n_steps": 0}, {"n_procs": 0},
                         {"n_procs": 5}, {"step_size": -1.0}, {"regime": "nope"},
                         {"batch_size": 0}, {"x0": np.zeros(3)}, {"start": 100},
                         {"averaging": "yes"}, {"liveness_timeout": -1.0}, {"timeout": -1.0},
                         {"problem": "nope"}, {"graph": np.ones((5, 5)) - np.eye(5)}])


def _register_graph_functions():
    from optsolve.graphs import as_adjacency, chi1, chi2, edge_list, effective_resistances

    def adjacency():
        from optsolve.graphs import make_graph

        return {"graph": make_graph("erdos_renyi", 8, random_state=0, p=0.5).toarray()}

    n_edges = int(np.count_nonzero(np.triu(adjacency()["graph"], 1)))
    bad_weights = [{"weights": np.ones(2)}, {"weights": -np.ones(n_edges)},
                   {"weights": np.full(n_edges, np.nan)}, {"weights": np.zeros(n_edges)}]
    for name, fn in (("chi1", chi1), ("chi2", chi2),
                     ("effective_resistances-weights", effective_resistances)):
        register(name, lambda graph, _f=fn, **p: np.asarray(_f(graph, **p)), adjacency,
                 matrix="graph", rows=("graph",), expect=GRAPH_EXPECT, bad_params=bad_weights)
    register("as_adjacency", lambda graph, **p: as_adjacency(graph, **p), adjacency,
             matrix="graph", rows=("graph",), expect=GRAPH_EXPECT,
             bad_params=[{"graph": "nope"}, {"graph": None}])
    register("edge_list", lambda graph: edge_list(graph), adjacency, matrix="graph",
             rows=("graph",), expect=GRAPH_EXPECT)


for _register in (_register_bcd, _register_path, _register_bcd_tools, _register_forest,
                  _register_constrained, _register_nlp, _register_eq, _register_completion,
                  _register_pruning, _register_graphs,
                  _register_datasets, _register_partitioned, _register_decentralized,
                  _register_randomwalk, _register_graph_functions):
    _register()


# ------------------------------------------------------------------------------ the tests


def _params():
    def marks(entry, key):
        reason = entry.xfail.get(key)
        return [pytest.mark.xfail(reason=reason)] if reason else []

    for entry in ENTRY_POINTS:
        for case in CASES if entry.matrix else ():
            yield pytest.param(entry, case, id=f"{entry.name}-{case}", marks=marks(entry, case))
        for i in range(len(entry.bad_params)):
            yield pytest.param(entry, ("bad_param", i), id=f"{entry.name}-bad_param{i}",
                               marks=marks(entry, f"bad_param{i}"))


@pytest.mark.parametrize(("entry", "case"), list(_params()))
def test_hostile_input(entry, case):
    valid = entry.inputs()
    if isinstance(case, tuple):
        built = _case_bad_param(entry.bad_params[case[1]])(entry, valid)
        case_name = f"bad_param {entry.bad_params[case[1]]}"
    else:
        if entry.matrix not in valid:
            pytest.skip("the entry point takes no array input")
        if not entry.dense and case in ("fortran", "noncontiguous", "readonly", "pandas"):
            pytest.skip("the entry point takes sparse input only")
        built = CASES[case](entry, valid)
        case_name = case
    if built is None:
        pytest.skip("case does not apply to this input")
    hostile, canonical, expect = built
    expect = entry.expect.get(case_name, expect)
    before = {k: _snapshot(v) for k, v in hostile.items()}
    try:
        out = _run(entry, hostile)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert expect != "same", f"{entry.name} [{case_name}] refused equivalent input: {msg}"
        if isinstance(case, tuple):
            keys = entry.bad_params[case[1]]
            assert any(re.search(rf"\b{re.escape(k)}\b", msg) for k in keys), (
                f"{entry.name} [{case_name}]: the error does not name the parameter: {msg}")
        else:
            assert _names_argument(msg, entry, hostile), (
                f"{entry.name} [{case_name}]: the error does not name the argument: {msg}")
    else:
        assert expect != "error", f"{entry.name} [{case_name}] accepted invalid input"
        got = _summary(out)
        if expect == "same" and canonical is not None:
            ref = _reference(entry, canonical, (entry.name, case_name))
            assert _close(got, ref, entry.tol), (
                f"{entry.name} [{case_name}] differs from the answer on equivalent input")
    for k, v in hostile.items():
        assert _same_snapshot(before[k], _snapshot(v)), f"{entry.name} [{case_name}] modified {k}"


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda e: e.name)
def test_same_random_state_same_answer(entry):
    a = _summary(_run(entry, entry.inputs()))
    b = _summary(_run(entry, entry.inputs()))
    assert _close(a, b, 0.0)
