"""``minimize_bcd``: greedy block coordinate descent over datafit × penalty compositions."""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeResult
from sklearn.utils import check_random_state

from .._backend import get_namespace, is_cupy_array, to_float
from .._optimize import History
from .._validation import (
    as_float_array,
    check_allocation,
    check_array_finite,
    check_in_choices,
    check_positive_int,
)
from . import _incremental, _quadratic, _working_set
from ._design import Design
from ._result import EngineResult, to_optimize_result
from .datafits import LeastSquares, Logistic, Multinomial, Quadratic
from .partitions import PARTITIONS
from .penalties import L1, PEN_NONE, PENALTIES
from .rules import (
    DEVICE_RULES,
    FOREST_BLOCKS,
    SELECTIONS,
    TREE_SELECTIONS,
    is_greedy,
    rule_code,
)

__all__ = ["minimize_bcd"]

UPDATES = ("auto", "gradient", "adaptive", "matrix", "newton", "prox-newton", "exact",
           "two-metric", "message-passing")
DATAFITS = {"least_squares": LeastSquares, "logistic": Logistic, "multinomial": Multinomial,
            "quadratic": Quadratic}
#: the kernels' seeds are drawn from the caller's random state in [0, 2³¹ - 1)
_SEED_MAX = int(np.iinfo(np.int32).max)


def minimize_bcd(
    datafit: Any,
    penalty: Any = None,
    *,
    X: Any,
    y: Any,
    selection: str = "gsq",
    partition: str = "order",
    update: str = "auto",
    block_size: int = 1,
    tol: float = 1e-6,
    max_iter: int | None = None,
    callback=None,
    random_state=None,
    record_history: bool = False,
    x0: Any = None,
    fit_intercept: bool = False,
    working_set: bool = True,
    verbose: bool | int = False,
) -> OptimizeResult:
    """Minimize ``datafit(Xw) + penalty(w)`` by (greedy) block coordinate descent.

    Parameters
    ----------
    datafit : LeastSquares, Logistic, Multinomial, Quadratic or str
        ``(1/n) Σ loss(x_iᵀw, y_i)``; a string names the class (``'least_squares'``,
        ``'logistic'``, ``'multinomial'``, ``'quadratic'``). ``Quadratic`` is
        ``½wᵀAw - bᵀw`` with ``X=A`` and ``y=b``.
    penalty : L1, L2, NonNegative or None
        Separable penalty; ``L1(alpha, positive=True)`` is the non-negative L1 problem.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Targets; labels ±1 for ``Logistic``, integers ``0..K-1`` for ``Multinomial``.
    selection : str
        ``'cyclic'``, ``'random'``, ``'lipschitz'`` (blocks sampled with probability ∝ L_b),
        or the greedy rules ``'gs'``, ``'gsl'``, ``'gsd'``, ``'gsq'`` (``'gs-q'`` is an
        alias; for a non-smooth penalty it is the GS-q rule on the proximal step). Their
        scores, and what the rule chooses under each ``update``, are in
        :mod:`optsolve.bcd.rules`; a combination an engine does not run raises
        ``ValueError``. The tree rules ``'greedy-tree'``, ``'random-tree'``,
        ``'tree-partition'``, ``'red-black'`` (with ``update='auto'`` or
        ``'message-passing'``) run the message-passing engine.
    partition : {'order', 'sort', 'avg', 'variable'}
        Fixed contiguous blocks, blocks sorted by Lipschitz constant, blocks of equal average
        constant, or variable blocks chosen afresh each iteration (the ``block_size`` best
        coordinates under the rule).
    update : str
        ``'gradient'`` (step 1/L_b), ``'adaptive'`` (backtracking on L), ``'matrix'`` (block
        Hessian upper bound), ``'newton'``/``'prox-newton'`` (block Hessian + Armijo),
        ``'exact'`` (quadratic datafits), ``'two-metric'`` (L1 / non-negativity),
        ``'message-passing'`` (exact updates of forest-structured blocks,
        :func:`optsolve.bcd.minimize_forest_bcd`; unpenalized ``Quadratic`` or
        ``LeastSquares``, no intercept), or ``'auto'``: the fast working-set
        proximal-Newton solver for least squares and logistic problems (greedy rules choose
        the working set; every rule orders the inner coordinate updates).
    block_size : int
        Coordinates per block (for ``update='auto'``: ignored).
    tol : float
        Stopping tolerance on the relative duality gap (L1 penalties: gap / P(0)) or on the
        relative minimum-norm-subgradient infinity norm (other penalties); for
        ``update='message-passing'`` on ``‖∇f(w)‖₂ / ‖∇f(0)‖₂``.
    max_iter : int or None
        Block updates (outer working-set iterations for ``update='auto'``).
    callback : callable, optional
        ``callback(intermediate_result)``; raise ``StopIteration`` to stop (status 99).
    random_state : int, RandomState or None
    record_history : bool
        Store ``history`` (iteration, objective, optimality, time) in the result.
    x0 : ndarray, optional
        Starting point (zeros by default).
    fit_intercept : bool
        Add an unpenalized intercept (returned as ``result.intercept``).
    working_set : bool
        For ``update='auto'``: restrict each Newton block to a greedy working set.
    verbose : bool or int

    Notes
    -----
    **CuPy arrays** (``X`` a ``cupy.ndarray`` or a ``cupyx.scipy.sparse`` matrix, ``y`` a
    ``cupy.ndarray``) run the device engine: greedy selection over all coordinates by a fused
    CUDA score-and-argmax (``block_size=1``), the best fixed block (``partition='order'``) or a
    top-k variable block (``partition='variable'``), proximal-gradient block steps, and a
    residual/gradient refresh restricted to the rows the block touches. Least squares and
    logistic datafits with any single-output penalty; ``selection`` ``'gs'``, ``'gsl'``,
    ``'gsd'`` or ``'gsq'``; ``update`` ``'gradient'`` or ``'auto'`` (the same engine, with
    ``max_iter`` counting optimality checks of ``min(n_blocks, 1000)`` block updates each).
    ``x`` comes back on the device; float32 input is solved in float32. ``history`` and
    ``callback`` are served at each optimality check.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``success``, ``status``, ``message``, ``nit``, ``optimality``,
        ``dual_gap`` (absolute, L1 penalties; ``nan`` otherwise), ``intercept``,
        ``n_active_set_changes``, ``support_identified_at`` and ``history`` when asked.

    References
    ----------
    J. Nutini, I. Laradji and M. Schmidt. "Let's Make Block Coordinate Descent Converge
    Faster: Faster Greedy Rules, Message-Passing, Active-Set Complexity, and Superlinear
    Convergence". JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd import minimize_bcd
    >>> from optsolve.bcd.datafits import L1, LeastSquares
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20)); y = X[:, 0] - 2 * X[:, 1]
    >>> res = minimize_bcd(LeastSquares(), L1(0.1), X=X, y=y)
    >>> res.success, np.flatnonzero(res.x).tolist()
    (True, [0, 1])
    """
    datafit = _resolve_datafit(datafit)
    if penalty is not None and not isinstance(penalty, PENALTIES):
        raise TypeError("penalty must be L1, L2, NonNegative or None, got "
                        f"{type(penalty).__name__}")
    if is_cupy_array(X) or is_cupy_array(y):
        return ENGINES["device"].run(
            datafit, penalty, X, y, selection=selection, partition=partition, update=update,
            block_size=block_size, tol=tol, max_iter=max_iter, callback=callback,
            record_history=record_history, x0=x0, fit_intercept=fit_intercept, verbose=verbose)
    check_in_choices(selection, "selection", SELECTIONS + TREE_SELECTIONS)
    check_in_choices(update, "update", UPDATES)
    check_in_choices(partition, "partition", PARTITIONS)
    check_positive_int(block_size, "block_size")
    _check_stopping(tol, max_iter)
    X, yv = _check_data(X, y, datafit)
    return _minimize_checked(datafit, penalty, X=X, y=yv, selection=selection, partition=partition,
                             update=update, block_size=block_size, tol=tol, max_iter=max_iter,
                             callback=callback, random_state=random_state,
                             record_history=record_history, x0=x0, fit_intercept=fit_intercept,
                             working_set=working_set, verbose=verbose)


def _minimize_checked(datafit, penalty, *, X, y, selection, partition="order", update="auto",
                      block_size=1, tol=1e-6, max_iter=None, callback=None, random_state=None,
                      record_history=False, x0=None, fit_intercept=False, working_set=True,
                      verbose=False) -> OptimizeResult:
    """:func:`minimize_bcd` on host data and arguments already validated: ``X`` float64
    (dense or sparse) and finite, ``y`` the datafit's encoded float64 targets, the options
    among the accepted values. For the estimators, whose ``fit`` has just validated all of
    it (the checks would cost a tenth of a small fit)."""
    engine = _engine_for(datafit, update, datafit.n_outputs(y), selection)
    run, supported, where = ENGINES[engine]
    rule = rule_code(selection, supported, where)
    p = X.shape[1]
    n_out = datafit.n_outputs(y)
    n_coef = p * n_out
    if block_size > n_coef:
        raise ValueError(f"block_size must be at most n_features ({n_coef}), got {block_size}")
    if update == "exact" and not isinstance(datafit, (LeastSquares, Quadratic)):
        raise ValueError("update='exact' needs a quadratic datafit (least squares); use "
                         "'newton' for logistic or multinomial")
    rng = check_random_state(random_state)
    seed = int(rng.randint(_SEED_MAX))
    if x0 is None:
        w0 = np.zeros(n_coef)
    else:
        w0 = np.asarray(x0, dtype=np.float64).ravel().copy()
        if w0.shape[0] != n_coef:
            raise ValueError(f"x0 must have {n_coef} entries, got {w0.shape[0]}")
        check_array_finite(w0, "x0")
    pen_code = PEN_NONE if penalty is None else penalty.code
    alpha = 0.0 if penalty is None else float(penalty.alpha)
    # alpha = 0: the dual of an unpenalized problem is {θ : Xᵀθ = 0}, which the rescaled dual
    # point only reaches at a perfect fit; the gap would never close, so stop on the gradient
    l1_gap = (alpha, penalty.positive) if isinstance(penalty, L1) and alpha > 0 else None
    measure_name = "rel_gap" if l1_gap else "rel_grad"
    problem = _Problem(
        datafit=datafit, X=X, y=y, n_out=n_out, pens=np.full(n_coef, pen_code, dtype=np.int64),
        alphas=np.full(n_coef, alpha), w0=w0, l1_gap=l1_gap, fit_intercept=fit_intercept)
    options = _Options(
        rule=rule, partition=partition, update=update, block_size=block_size, tol=tol,
        max_iter=max_iter, seed=seed, callback=callback, verbose=verbose,
        working_set=working_set,
        history=History(measure_name) if record_history else None)
    out = run(problem, options)
    x = out.w.reshape(p, n_out) if n_out > 1 else out.w
    return to_optimize_result(out, x=x, measure_name=measure_name, tol=tol,
                              history=options.history)


@dataclass
class _Problem:
    """A validated host problem as the engines receive it (one penalty code per coordinate)."""

    datafit: Any
    X: Any
    y: np.ndarray
    n_out: int
    pens: np.ndarray
    alphas: np.ndarray
    w0: np.ndarray
    l1_gap: tuple[float, bool] | None
    fit_intercept: bool


@dataclass
class _Options:
    rule: int
    partition: str
    update: str
    block_size: int
    tol: float
    max_iter: int | None
    seed: int
    callback: Any
    verbose: Any
    working_set: bool
    history: Any


def _engine_for(datafit, update: str, n_out: int, selection: str) -> str:
    """Which entry of :data:`ENGINES` solves the problem."""
    if update == "message-passing" or (update == "auto" and selection in TREE_SELECTIONS):
        return "forest"
    if isinstance(datafit, Quadratic):
        return "quadratic"
    if update == "auto" and n_out == 1:
        return "working_set"
    return "incremental"


def _run_quadratic(pb: _Problem, opt: _Options) -> EngineResult:
    p = pb.X.shape[1]
    return _quadratic.solve_quadratic(
        pb.X, pb.y, pb.pens, pb.alphas, pb.w0, rule=opt.rule, tol=opt.tol,
        max_iter=opt.max_iter or 100 * p, seed=opt.seed, history=opt.history)


def _run_working_set(pb: _Problem, opt: _Options) -> EngineResult:
    X, y = pb.X, pb.y
    ls = isinstance(pb.datafit, LeastSquares)
    offset = None
    y_fit = y
    if pb.fit_intercept and ls:
        # least squares: solve on implicitly centred data, recover the intercept after
        offset = np.asarray(X.mean(axis=0)).ravel()
        y_fit = y - y.mean()
    out = _working_set.solve_working_set(
        Design(X, offset), y_fit, pb.datafit.code, pb.pens, pb.alphas, pb.w0, l1_gap=pb.l1_gap,
        fit_intercept=pb.fit_intercept, intercept0=0.0, rule=opt.rule,
        use_working_set=opt.working_set and is_greedy(opt.rule), tol=opt.tol,
        max_iter=1000 if opt.max_iter is None else opt.max_iter, seed=opt.seed,
        callback=opt.callback, history=opt.history, verbose=opt.verbose)
    if pb.fit_intercept and ls:
        out.intercept = float(y.mean() - offset @ out.w)
    return out


def _run_incremental(pb: _Problem, opt: _Options) -> EngineResult:
    X, n_out = pb.X, pb.n_out
    n = X.shape[0]
    n_coef = X.shape[1] * n_out
    update, partition, block_size = opt.update, opt.partition, opt.block_size
    if update == "auto":  # multinomial: one block per feature (its row of W), prox-Newton
        update, partition, block_size = "newton", "order", n_out
    pens, alphas, w0 = pb.pens, pb.alphas, pb.w0
    if pb.fit_intercept:  # an unpenalized column of ones
        X = sp.hstack([X, np.ones((n, 1))], format="csc") if sp.issparse(X) else np.hstack(
            [X, np.ones((n, 1))])
        pens = np.concatenate([pens, np.zeros(n_out, dtype=np.int64)])
        alphas = np.concatenate([alphas, np.zeros(n_out)])
        w0 = np.concatenate([w0, np.zeros(n_out)])
    n_blocks = -(-w0.shape[0] // block_size)
    out = _incremental.solve_incremental(
        Design(X), pb.y, pb.datafit.code, n_out, pens, alphas, w0,
        curvature=pb.datafit.curvature_bound, rule=opt.rule, partition=partition, update=update,
        block_size=block_size, l1_gap=pb.l1_gap, tol=opt.tol,
        max_iter=opt.max_iter if opt.max_iter is not None else 200 * n_blocks,
        rng=np.random.default_rng(opt.seed), callback=opt.callback, history=opt.history,
        verbose=opt.verbose)
    if pb.fit_intercept:
        w = out.w
        out.intercept = w[n_coef:].copy() if n_out > 1 else float(w[n_coef])
        out.w = w[:n_coef]
    return out


def _minimize_device(datafit, penalty, X, y, *, selection, partition, update, block_size, tol,
                     max_iter, callback, record_history, x0, fit_intercept, verbose):
    """``minimize_bcd`` on CuPy arrays: the device engine of :mod:`._gpu`."""
    from ._gpu import check_device_data, solve_device

    xp = get_namespace(X, y, x0)
    if not isinstance(datafit, (LeastSquares, Logistic)):
        raise ValueError("on CuPy arrays the datafit must be LeastSquares or Logistic, got "
                         f"{type(datafit).__name__}")
    rule = rule_code(selection, ENGINES["device"].rules, ENGINES["device"].where)
    if update not in ("auto", "gradient"):
        raise ValueError(f"on CuPy arrays update must be 'gradient' or 'auto', got {update!r}")
    if partition not in ("order", "variable"):
        raise ValueError(f"on CuPy arrays partition must be 'order' or 'variable', got "
                         f"{partition!r}")
    check_positive_int(block_size, "block_size")
    _check_stopping(tol, max_iter)
    X, yv = check_device_data(xp, X, y)
    p = X.shape[1]
    if block_size > p:
        raise ValueError(f"block_size must be at most n_features ({p}), got {block_size}")
    if isinstance(datafit, Logistic) and not to_float(xp.all((yv == 1) | (yv == -1))):
        raise ValueError("y must hold the labels -1 and +1 for the Logistic datafit")
    if x0 is None:
        w0 = xp.zeros(p, dtype=X.dtype)
    else:
        w0 = xp.asarray(x0, dtype=X.dtype).ravel()
        if w0.shape[0] != p:
            raise ValueError(f"x0 must have {p} entries, got {w0.shape[0]}")
        if not to_float(xp.isfinite(w0).all()):
            raise ValueError("x0 contains NaN or infinity")
    pen_code = PEN_NONE if penalty is None else penalty.code
    alpha = 0.0 if penalty is None else float(penalty.alpha)
    n_blocks = -(-p // block_size)
    check_every = max(1, min(n_blocks, 1000))
    if update == "auto":
        budget = (1000 if max_iter is None else max_iter) * check_every
    else:
        budget = 200 * n_blocks if max_iter is None else max_iter
    name = "rel_gap" if isinstance(penalty, L1) else "rel_grad"
    history = History(name) if record_history else None
    out = solve_device(X, yv, datafit.code, pen_code, alpha, w0, rule=rule,
                       block_size=block_size, variable=partition == "variable", tol=tol,
                       max_iter=budget, check_every=check_every, fit_intercept=fit_intercept,
                       callback=callback, history=history, verbose=verbose, xp=xp,
                       curvature=datafit.curvature_bound)
    return to_optimize_result(out, x=out.w, measure_name=name, tol=tol, history=history)


def _resolve_datafit(datafit):
    if isinstance(datafit, str):
        check_in_choices(datafit, "datafit", tuple(DATAFITS))
        return DATAFITS[datafit]()
    if not isinstance(datafit, (LeastSquares, Logistic, Multinomial, Quadratic)):
        raise TypeError("datafit must be LeastSquares, Logistic, Multinomial, Quadratic or one of "
                        f"{sorted(DATAFITS)}, got {type(datafit).__name__}")
    return datafit


def _check_data(X, y, datafit):
    if not sp.issparse(X):
        X = as_float_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got an array of shape {X.shape}")
    elif X.format not in ("csr", "csc") or X.dtype != np.float64:
        # LIL/DOK/COO/BSR/DIA hold no flat ``data`` array to check: one CSC copy
        X = sp.csc_matrix(X, dtype=np.float64)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one sample and one feature, got shape "
                         f"{X.shape}")
    check_array_finite(X, "X")
    y = as_float_array(y, "y")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got an array of shape {y.shape}")
    check_array_finite(y, "y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    if isinstance(datafit, Quadratic) and X.shape[0] != X.shape[1]:
        raise ValueError(f"X (the matrix A) must be square for a quadratic, got {X.shape}")
    return X, datafit.encode(y)


def _run_forest(pb: _Problem, opt: _Options) -> EngineResult:
    """Message passing on forest-structured blocks of ``½wᵀAw - bᵀw`` (:mod:`.forest`):
    ``A = X`` for the Quadratic datafit, ``A = XᵀX/n`` and ``b = Xᵀy/n`` for least squares."""
    datafit, X, y = pb.datafit, pb.X, pb.y
    if np.any(pb.pens != PEN_NONE):
        raise ValueError("update='message-passing' handles unpenalized quadratics only; got a "
                         "penalty")
    if pb.fit_intercept:
        raise ValueError("update='message-passing' does not fit an intercept (centring would "
                         "make XᵀX dense); pass fit_intercept=False")
    if isinstance(datafit, Quadratic):
        A, b = sp.csr_matrix(X), y
    elif isinstance(datafit, LeastSquares):
        n = X.shape[0]
        Xs = sp.csr_matrix(X)
        # XᵀX fills in up to Σ_rows nnz(x_i)² entries (12 bytes each in CSR)
        row_nnz = np.diff(Xs.indptr).astype(np.float64)
        fill = min(float(X.shape[1]) ** 2, float(row_nnz @ row_nnz))
        check_allocation(int(12 * fill), "X", "message passing's Gram matrix XᵀX",
                         detail="a sparse p x p matrix with its fill-in")
        A, b = sp.csr_matrix(Xs.T @ Xs) / n, np.asarray(Xs.T @ y).ravel() / n
    else:
        raise ValueError("update='message-passing' needs a quadratic datafit (Quadratic or "
                         "LeastSquares)")
    forest = importlib.import_module(".forest.solver", __package__)
    selection, score = FOREST_BLOCKS[opt.rule]
    return forest.solve_forest(
        A, b, x0=pb.w0, selection=selection, score=score, tol=opt.tol,
        max_iter=100_000 if opt.max_iter is None else opt.max_iter, callback=opt.callback,
        random_state=opt.seed, history=opt.history, relative_history=True,
        verbose=opt.verbose)


def _check_stopping(tol, max_iter) -> None:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    if max_iter is not None:
        check_positive_int(max_iter, "max_iter", allow_zero=True)


class _Engine(NamedTuple):
    """An engine of ``minimize_bcd``: its runner, the rule codes it runs, and how an error
    names it."""

    run: Callable
    rules: tuple
    where: str


#: the engines of ``minimize_bcd``, picked by :func:`_engine_for` (host data; runners take
#: ``(_Problem, _Options)`` and return an ``EngineResult``) or by CuPy input (the device
#: engine validates its data on the device itself). ``update='message-passing'`` (and a tree
#: rule under ``update='auto'``) runs the forest engine of :mod:`.forest`.
ENGINES = {
    "quadratic": _Engine(_run_quadratic, _quadratic.RULES, "for the Quadratic datafit"),
    "working_set": _Engine(_run_working_set, _working_set.RULES,
                           "by the working-set engine (update='auto')"),
    "incremental": _Engine(_run_incremental, _incremental.RULES, "by the incremental engine"),
    "forest": _Engine(_run_forest, tuple(FOREST_BLOCKS), "by message passing "
                      "(update='message-passing')"),
    "device": _Engine(_minimize_device, tuple(DEVICE_RULES.values()), "on CuPy arrays"),
}
