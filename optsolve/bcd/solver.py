"""``minimize_bcd``: greedy block coordinate descent over datafit × penalty compositions."""

from __future__ import annotations

import importlib
import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeResult
from sklearn.utils import check_random_state

from .._backend import get_namespace, is_cupy_array, to_float
from .._optimize import History, make_result
from .._status import Status, termination_message, warn_status
from .._validation import (
    as_float_array,
    check_array_finite,
    check_in_choices,
    check_positive_int,
)
from . import _kernels as K
from ._active_set import min_norm_subgradients, solve_active_set
from ._design import Design
from ._generic import GREEDY_RULES, solve_generic
from .datafits import L1, L2, LeastSquares, Logistic, Multinomial, NonNegative, Quadratic
from .partitions import PARTITIONS

__all__ = ["minimize_bcd"]

SELECTIONS = ("cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq", "gs-q")
TREE_SELECTIONS = ("greedy-tree", "random-tree", "tree-partition", "red-black")
UPDATES = ("auto", "gradient", "adaptive", "matrix", "newton", "prox-newton", "exact",
           "two-metric", "message-passing")
DATAFITS = {"least_squares": LeastSquares, "logistic": Logistic, "multinomial": Multinomial,
            "quadratic": Quadratic}
_INNER_RULE = {"cyclic": K.RULE_CYCLIC, "random": K.RULE_RANDOM, "lipschitz": K.RULE_RANDOM,
               "gs": K.RULE_GS, "gsl": K.RULE_GSL, "gsd": K.RULE_GSL, "gsq": K.RULE_GSQ,
               "gs-q": K.RULE_GSQ}
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
        ``'cyclic'``, ``'random'``, ``'lipschitz'`` (sampling ∝ L_b), or the greedy rules
        ``'gs'``, ``'gsl'``, ``'gsd'``, ``'gsq'`` (``'gs-q'`` is an alias; for a non-smooth
        penalty it is the GS-q rule on the proximal step). The tree rules ``'greedy-tree'``,
        ``'random-tree'``, ``'tree-partition'``, ``'red-black'`` dispatch to
        :func:`optsolve.bcd.minimize_forest_bcd` (quadratic problems).
    partition : {'order', 'sort', 'avg', 'variable'}
        Fixed contiguous blocks, blocks sorted by Lipschitz constant, blocks of equal average
        constant, or variable blocks chosen afresh each iteration (the ``block_size`` best
        coordinates under the rule).
    update : str
        ``'gradient'`` (step 1/L_b), ``'adaptive'`` (backtracking on L), ``'matrix'`` (block
        Hessian upper bound), ``'newton'``/``'prox-newton'`` (block Hessian + Armijo),
        ``'exact'`` (quadratic datafits), ``'two-metric'`` (L1 / non-negativity),
        ``'message-passing'`` (forest blocks), or ``'auto'``: the fast greedy working-set
        proximal-Newton solver for least squares and logistic problems.
    block_size : int
        Coordinates per block (for ``update='auto'``: ignored).
    tol : float
        Stopping tolerance on the relative duality gap (L1 penalties: gap / P(0)) or on the
        relative minimum-norm-subgradient infinity norm (other penalties).
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
    if penalty is not None and not isinstance(penalty, (L1, L2, NonNegative)):
        raise TypeError("penalty must be L1, L2, NonNegative or None, got "
                        f"{type(penalty).__name__}")
    if is_cupy_array(X) or is_cupy_array(y):
        return _minimize_device(datafit, penalty, X, y, selection=selection, partition=partition,
                                update=update, block_size=block_size, tol=tol, max_iter=max_iter,
                                callback=callback, record_history=record_history, x0=x0,
                                fit_intercept=fit_intercept, verbose=verbose)
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
    if selection in TREE_SELECTIONS or update == "message-passing":
        return _dispatch_forest(datafit, penalty, X, y, selection, tol, max_iter, callback,
                                random_state, record_history, x0)
    n, p = X.shape
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
    pen_code = 0 if penalty is None else penalty.code
    alpha = 0.0 if penalty is None else float(penalty.alpha)
    pens = np.full(n_coef, pen_code, dtype=np.int64)
    alphas = np.full(n_coef, alpha)
    # alpha = 0: the dual of an unpenalized problem is {θ : Xᵀθ = 0}, which the rescaled dual
    # point only reaches at a perfect fit; the gap would never close, so stop on the gradient
    l1_gap = (alpha, penalty.positive) if isinstance(penalty, L1) and alpha > 0 else None
    history = History("rel_gap" if l1_gap else "rel_grad") if record_history else None
    measure_name = "rel_gap" if l1_gap else "rel_grad"

    if isinstance(datafit, Quadratic):
        res = _solve_quadratic(X, y, pens, alphas, w0, selection, tol, max_iter or 100 * p,
                               seed, history)
        w, fun, measure, nit, status, n_chg, ident, intercept = res
        gap = np.nan
    elif update == "auto" and n_out == 1:
        offset = None
        y_fit = y
        if fit_intercept and isinstance(datafit, LeastSquares):
            offset = np.asarray(X.mean(axis=0)).ravel()
            y_fit = y - y.mean()
        design = Design(X, offset)
        out = solve_active_set(
            design, y_fit, datafit.code, pens, alphas, w0, l1_gap=l1_gap,
            fit_intercept=fit_intercept, intercept0=0.0, rule=_INNER_RULE[selection],
            use_working_set=working_set and selection in GREEDY_RULES, tol=tol,
            max_iter=1000 if max_iter is None else max_iter, seed=seed, callback=callback,
            history=history, verbose=verbose)
        w, fun, measure, nit, status = out.w, out.objective, out.measure, out.nit, out.status
        n_chg, ident = out.n_active_set_changes, out.support_identified_at
        intercept, gap = out.intercept, out.gap
        if fit_intercept and isinstance(datafit, LeastSquares):
            intercept = float(y.mean() - offset @ w)
    else:
        if update == "auto":  # multinomial: one block per feature (its row of W), prox-Newton
            update, partition, block_size = "newton", "order", n_out
        if fit_intercept:
            X = sp.hstack([X, np.ones((n, 1))], format="csc") if sp.issparse(X) else np.hstack(
                [X, np.ones((n, 1))])
            pens = np.concatenate([pens, np.zeros(n_out, dtype=np.int64)])
            alphas = np.concatenate([alphas, np.zeros(n_out)])
            w0 = np.concatenate([w0, np.zeros(n_out)])
        design = Design(X)
        n_blocks = -(-w0.shape[0] // block_size)
        out = solve_generic(
            design, y, datafit.code, n_out, pens, alphas, w0, selection=selection,
            partition=partition, update=update, block_size=block_size, l1_gap=l1_gap,
            tol=tol, max_iter=max_iter if max_iter is not None else 200 * n_blocks,
            rng=np.random.default_rng(seed), callback=callback, history=history,
            verbose=verbose)
        w, fun, measure, nit, status = out.w, out.objective, out.measure, out.nit, out.status
        n_chg, ident = out.n_active_set_changes, out.support_identified_at
        intercept, gap = 0.0, out.gap
        if fit_intercept:
            intercept = w[n_coef:].copy() if n_out > 1 else float(w[n_coef])
            w = w[:n_coef]
    status, message = _termination(status, nit, fun, w, measure_name, measure, tol)
    x = w.reshape(p, n_out) if n_out > 1 else w
    extra = {"optimality": float(measure), "intercept": intercept, "n_active_set_changes": n_chg,
             "support_identified_at": ident, "dual_gap": float(gap)}
    if history is not None:
        extra["history"] = history.as_dict()
    return make_result(x, float(fun), success=status == 0, status=status, message=message,
                       nit=nit, **extra)


def _termination(status, nit, fun, w, measure_name, measure, tol) -> tuple[int, str]:
    """The shared status (a non-finite objective or iterate is never a success), its message,
    and the warning of an unsuccessful run."""
    xp = get_namespace(w)
    finite = bool(np.isfinite(float(fun)) and np.isfinite(float(measure))) and bool(
        to_float(xp.isfinite(w).all()))
    if not finite and status != Status.CALLBACK_STOP:
        status = Status.NON_FINITE
    status = Status(int(status))
    if status == Status.SUCCESS:
        detail = f"{measure_name} <= tol"
    elif status == Status.CALLBACK_STOP:
        detail = None
    else:
        detail = (f"after {nit} iterations, {measure_name} = {measure:.3e} > tol = {tol:.3e}; "
                  "increase max_iter or loosen tol")
    warn_status("minimize_bcd", status, detail, stacklevel=4)
    return int(status), termination_message(status, detail)


def _minimize_device(datafit, penalty, X, y, *, selection, partition, update, block_size, tol,
                     max_iter, callback, record_history, x0, fit_intercept, verbose):
    """``minimize_bcd`` on CuPy arrays: the device engine of :mod:`._gpu`."""
    from ._gpu import DEVICE_RULES, check_device_data, solve_device

    xp = get_namespace(X, y, x0)
    if not isinstance(datafit, (LeastSquares, Logistic)):
        raise ValueError("on CuPy arrays the datafit must be LeastSquares or Logistic, got "
                         f"{type(datafit).__name__}")
    if selection not in DEVICE_RULES:
        raise ValueError(f"on CuPy arrays selection must be one of {sorted(DEVICE_RULES)}, got "
                         f"{selection!r}")
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
    pen_code = 0 if penalty is None else penalty.code
    alpha = 0.0 if penalty is None else float(penalty.alpha)
    n_blocks = -(-p // block_size)
    check_every = max(1, min(n_blocks, 1000))
    if update == "auto":
        budget = (1000 if max_iter is None else max_iter) * check_every
    else:
        budget = 200 * n_blocks if max_iter is None else max_iter
    l1 = isinstance(penalty, L1)
    history = History("rel_gap" if l1 else "rel_grad") if record_history else None
    out = solve_device(X, yv, datafit.code, pen_code, alpha, w0,
                       rule=DEVICE_RULES[selection], block_size=block_size,
                       variable=partition == "variable", tol=tol, max_iter=budget,
                       check_every=check_every, fit_intercept=fit_intercept, callback=callback,
                       history=history, verbose=verbose, xp=xp)
    name = "rel_gap" if l1 else "rel_grad"
    status, message = _termination(out.status, out.nit, out.objective, out.w, name,
                                   out.measure, tol)
    extra = {"optimality": float(out.measure), "intercept": out.intercept,
             "n_active_set_changes": 0, "support_identified_at": 0, "dual_gap": float(out.gap)}
    if history is not None:
        extra["history"] = history.as_dict()
    return make_result(out.w, float(out.objective), success=status == 0, status=status,
                       message=message, nit=out.nit, **extra)


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


def _solve_quadratic(A, b, pens, alphas, w0, selection, tol, max_iter, seed, history):
    """Greedy coordinate descent on a dense ``½xᵀAx - bᵀx + pen(x)``, exact 1-D updates."""
    H = A.toarray() if sp.issparse(A) else np.asarray(A)
    w = w0.copy()
    grad = H @ w - b
    scale = max(float(np.max(np.abs(b))), 1e-300)
    total = 0
    status = 1
    chunk = max(H.shape[0], 1)
    while True:
        sg = min_norm_subgradients(pens, alphas, grad, w)
        measure = float(np.max(np.abs(sg), initial=0.0)) / scale
        fun = 0.5 * float(w @ (grad - b)) + sum(
            K.pen_scalar(pens[q], alphas[q], w[q]) for q in range(w.shape[0]))
        if history is not None:
            history.record(total, fun, measure)
        if measure <= tol:
            status = 0
            break
        if total >= max_iter:
            break
        n_up = K.quad_greedy_cd(H, b, w, grad, pens, alphas, _INNER_RULE[selection],
                                0.1 * tol * scale, min(chunk, max_iter - total), seed + total)
        if n_up == 0:
            total += 1
            continue
        total += n_up
    return w, fun, measure, total, status, 0, 0, 0.0


def _dispatch_forest(datafit, penalty, X, y, selection, tol, max_iter, callback, random_state,
                     record_history, x0):
    if penalty is not None:
        raise ValueError("message passing on forest blocks handles unpenalized quadratics only; "
                         "got a penalty")
    if isinstance(datafit, Quadratic):
        A, b = sp.csr_matrix(X), y
    elif isinstance(datafit, LeastSquares):
        n = X.shape[0]
        Xs = sp.csr_matrix(X)
        A, b = sp.csr_matrix(Xs.T @ Xs) / n, np.asarray(Xs.T @ y).ravel() / n
    else:
        raise ValueError("message passing needs a quadratic datafit (Quadratic or LeastSquares)")
    forest = importlib.import_module(".forest", __package__)
    sel = selection if selection in TREE_SELECTIONS else "greedy-tree"
    kwargs = {"x0": x0, "selection": sel, "tol": tol, "callback": callback,
              "random_state": random_state, "record_history": record_history}
    if max_iter is not None:
        kwargs["max_iter"] = max_iter
    return forest.minimize_forest_bcd(A, b, **kwargs)


def _check_stopping(tol, max_iter) -> None:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    if max_iter is not None:
        check_positive_int(max_iter, "max_iter", allow_zero=True)
