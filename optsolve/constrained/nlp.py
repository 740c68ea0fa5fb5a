"""``minimize``: general nonlinear programs by sketched Newton steps on the active set,
globalized by the exact augmented Lagrangian, with scipy.optimize's interface.

Problem::

    min f(x)   s.t.   c_E(x) = 0,   c_I(x) <= 0,   l <= x <= u

Design (Na, Anitescu & Kolar, "Inequality constrained stochastic nonlinear optimization via
active-set sequential quadratic programming", Math. Program. 2023, arXiv:2109.11502, read with
the authors' reference code; the deterministic case of their method, with the inner solver of
Hong, Na, Mahoney & Kolar, ICML 2023):

* **Merit.** The exact augmented Lagrangian extended to inequalities by Lucidi's construction
  (paper, Sec. 2): ``Φ = f + λᵀc_E + yᵀw + (μ/2)‖c_E‖² + (μ/(2q))‖w‖² + (ν/2)‖∇ₓL‖²
  + (ν/2)‖g² ∘ y‖²`` with ``w = max(g, −q y/μ)``, ``q = a(x)`` (the paper divides by
  ``1 + ‖y‖²``) and ``a(x) = 1 − Σ max(g_i, 0)³ / R`` (:mod:`.merit_ineq` gives it with its
  gradient and the places where we depart from the paper, with the measured reasons).
  Reason: it is the same differentiable merit as the equality-constrained solver
  (:func:`minimize_eq`, Hong et al. eq. (3)), so the descent test, the penalty updates and the
  Armijo search carry over unchanged; the cubic barrier ``a(x) > 0`` keeps the penalty ``μ/q``
  bounded on the region the iterates visit, which is what makes the function exact for
  inequalities (the paper's key device).
* **Active set.** ``A = {i : g_i(x) >= −q y_i / μ}``, the set on which ``w = g`` (the paper's
  ε-active set with ``ε = 1/μ``). It needs no QP and no strict complementarity: a weakly
  active constraint (``g_i = 0``, ``y_i = 0``) stays in ``A`` and its multiplier goes to 0.
  Raising ``μ`` shrinks ``A`` towards ``{g >= 0}``, which is the paper's fix when the
  Newton direction is not a descent direction. A constraint of ``A`` not yet identified
  (satisfied, no positive multiplier) to which the Newton step gives a negative multiplier
  is released and the step re-solved, the sign test of active-set QP methods. Reason: from a
  start on the boundary with ``y = 0`` every constraint is in ``A``; holding them all gives
  wrong-sign multipliers, on which the merit is concave, and ``μ`` had to grow to 1e5 before
  the search could move (LISWET1: 103 iterations, 6 with the test).
* **Newton step.** The KKT system of ``c_E = 0, g_A = 0`` with the Hessian of the
  Lagrangian, and ``Δy = −y`` off ``A`` (the multiplier estimate of inactive constraints is
  zero). It has the form of the equality-constrained KKT system, so it is solved exactly as
  :func:`minimize_eq` solves it: randomized sketch-and-project (Kaczmarz, Gaussian, block,
  count sketches) to the adaptive accuracy ``‖K z − b‖ <= η_t ‖b‖``, with ``B + δI``
  inertia correction, or exactly (``method='eal-direct'``: LAPACK for small systems; for
  sparse ones a quasi-definite LDLᵀ with a fill-reducing ordering and iterative refinement,
  :mod:`._ldl`, else SuperLU's LU, the last factorization kept while the matrix does not
  change; from 20k rows on, with the optional ``pymetis``, a supernodal multifrontal LDLᵀ on
  a nested-dissection ordering, :mod:`._supernodal`, whose work grows like ``n^1.5`` on 2-D
  grids and runs at BLAS speed). Reason for the LDLᵀ: it stores one triangle and its
  ordering is not spoilt by pivoting (on the bound-constrained Poisson control at 10⁵
  unknowns: a third of SuperLU's memory, half its time), and the signs of its pivots give
  the inertia of sparse Newton matrices, so the ``B + δI`` correction works beyond the
  dense size too. Reason for
  sketching: the point of the family is that the Newton system is solved by sketching; an
  active-set step keeps that system an equality-constrained KKT system (an interior-point
  step would change it, a QP sub-problem would not be solvable by sketching).
* **Bounds** are inequality rows ``±x_j ∓ b_j <= 0`` of the sparse Jacobian: an active bound
  adds one row with one non-zero to the KKT matrix, so sparse problems stay sparse (nothing of
  size ``n x n`` is formed densely above ``options['dense_threshold']``). ``x0`` is projected
  onto the bounds. With ``options['feasible_bounds']`` (default ``'auto'``: on when the
  bounds are the only inequalities) the iterates never leave the bounds: the line search
  follows the projection of the step onto the box, with the Armijo decrease predicted along
  the projected displacement, and the bounds the step would cross are held in the Newton
  system (projected Newton, Bertsekas 1982). Reason: many bounds change at once (a
  bound-constrained PDE control converges in about 7 iterations instead of hundreds), and
  functions undefined outside the bounds are never evaluated there; off for general
  inequalities because the penalty, not the projection, then identifies the active set
  faster (HS118). With ``'auto'``, a projected search that fails hands the bounds to the
  merit for the rest of the run: with equalities the projection can clip the step into an
  ascent direction of the merit (the linearized equalities ask for a move that the bounds
  the iterate is on forbid; NCVXQP1-6, DNIEPER, TRAINF in S2MPJ failed so).
* **Penalty updates.** When ``∇ΦᵀΔ > −σν‖(∇ₓL, c_E, g_A)‖²``: re-sketch, then raise ``μ``
  (``×10``) only while that cuts the failure margin by a quarter, then lower ``ν`` under the
  same rule, then step along ``−∇Φ``. Reason: the barrier term makes part of the slope grow
  with ``μ`` when the multipliers grow, and an unbounded ``μ`` makes the line search crawl.
* **Region.** The paper's ``a(x) = ν − Σ max(g_i, 0)³`` is used as ``1 − Σ max(g_i, 0)³/R``
  (the same merit with ``ε`` rescaled by ``R``), and ``R`` grows (``×10``) when the full step
  would leave half of it, as the paper's ``ν`` does.
* **Stopping and failures.** The scaled KKT residual of
  :func:`optsolve.constrained.kkt_residuals` (IPOPT's scaling) below ``tol``. A run that
  stalls (the violation not falling for 20 iterations) or fails with the constraints violated
  is checked by a Gauss–Newton least-squares solve of ``min ½‖(c_E, max(c_I, 0))‖²`` from the
  last iterate: a positive minimum is ``Status.INFEASIBLE`` (local infeasibility, as IPOPT
  reports it), otherwise the original status (max. iterations, line search) stands.
* **Departures from the paper.** Deterministic (exact ``f``, no sampling); the dual step comes
  from the KKT system on ``A`` (the paper solves a second system with ``G Gᵀ + diag(g²)``);
  the merit's gradient term is ``‖∇ₓL‖²`` (see :mod:`.merit_ineq`); the ``−∇Φ`` safeguard
  where the paper takes a regularized Newton step on ``Φ``. Equation numbers of the paper could
  not be checked offline; the formulas are those of its Section 2 as implemented in the
  authors' reference code, re-derived and tested against finite differences here.

Problem objects (``fun`` may be one instead of a callable): anything with pycutest's method
names (``obj``, ``grad``, ``cons``, ``jac``, ``hess(x, v)`` = Hessian of the Lagrangian
``f + vᵀc``, ``n``, ``m``, ``x0``) and, for inequalities and bounds, the attributes of
pycutest / S2MPJ: ``cl``, ``cu`` (shape ``(m,)``; ``cl <= cons(x) <= cu``; absent: all
rows are equalities ``cons(x) = 0``), ``bl``, ``bu`` (shape ``(n,)``, ``±inf`` or ``±1e20``
for none). :class:`optsolve.problems.S2MPJProblem` has them; ``is_eq_cons`` is not needed
(``cl == cu`` says it).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .._optimize import OptimizeResult
from .._validation import CheckedOptions, as_generator, option
from ._driver_ineq import run_active_set_eal
from .problem import NonlinearProblem
from .sketches import SKETCHES
from .solver import _DEFAULTS as EQ_DEFAULTS
from .solver import OPTION_CHECKS as EQ_OPTION_CHECKS

__all__ = ["MINIMIZE_METHODS", "minimize"]

#: default tolerance on the scaled KKT residual (IPOPT's default ``tol``)
DEFAULT_TOL = 1e-8

def _check_feasible_bounds(value: Any, name: str) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value == "auto":
        return value
    raise ValueError(f"{name} must be True, False or 'auto', got {value!r}")


def _check_random_state(value: Any, name: str) -> Any:
    as_generator(value, name)
    return value


#: options shared with :func:`minimize_eq`: the same meaning and the same checks
_SHARED_OPTIONS = ("sketch_size", "eta", "superlinear", "superlinear_power", "max_inner",
                   "inner_fallback", "hessian", "mu0", "nu0", "penalty_factor", "mu_max",
                   "nu_min", "backtrack", "max_backtracks", "dense_threshold", "record_history",
                   "verbose")

_DEFAULTS = {
    "maxiter": 500,
    "sketch": "kaczmarz",
    "random_state": None,
    "inner": "sketch",
    **{key: EQ_DEFAULTS[key] for key in _SHARED_OPTIONS},
    "mu_max": 1e10,  # the active-set driver's own ceiling (minimize_eq's is 1e12)
    "armijo": 1e-4,
    "lambda0": "least_squares",
    "feasible_bounds": "auto",
}

OPTION_CHECKS = {
    "maxiter": option("int", low=0),
    "sketch": option("choice", choices=SKETCHES),
    "random_state": _check_random_state,
    "inner": option("choice", choices=("sketch", "direct")),
    **{key: EQ_OPTION_CHECKS[key] for key in _SHARED_OPTIONS},
    # the active-set step is a full QP step on the identified set: Armijo constants above 1/2
    # would reject the unit step near a solution
    "armijo": option("real", low=0.0, high=0.5, include_low=False, include_high=False),
    "lambda0": option("choice", choices=("least_squares", "zeros")),
    "feasible_bounds": lambda v, name: _check_feasible_bounds(v, name),
}

#: method registry: name -> its options (defaults and checks)
MINIMIZE_METHODS: dict[str, CheckedOptions] = {
    "eal-sketch": CheckedOptions("eal-sketch", _DEFAULTS, OPTION_CHECKS),
    "eal-direct": CheckedOptions("eal-direct", {**_DEFAULTS, "inner": "direct"}, OPTION_CHECKS),
}


def minimize(
    fun: Callable | Any,
    x0: Any = None,
    args: tuple = (),
    jac: Callable | str | bool | None = None,
    hess: Callable | None = None,
    hessp: Callable | None = None,
    constraints: Any = (),
    bounds: Any = None,
    method: str = "eal-sketch",
    tol: float | None = None,
    callback: Callable | None = None,
    options: dict | None = None,
) -> OptimizeResult:
    """Minimize ``f(x)`` subject to equality, inequality and bound constraints by sketched
    Newton steps on the ε-active set, globalized by the exact augmented Lagrangian.

    The arguments are those of ``scipy.optimize.minimize``.

    Parameters
    ----------
    fun : callable or problem object
        ``fun(x, *args) -> float`` (``(f, g)`` when ``jac=True``); or a problem object with
        pycutest's method names (``optsolve.problems`` problems, S2MPJ, CUTEst), whose
        ``cl``, ``cu``, ``bl``, ``bu`` give its inequalities and bounds (module docstring).
    x0 : array-like of shape (n,)
        Starting point (default ``fun.x0`` for a problem object).
    args : tuple
        Extra arguments of ``fun``, ``jac``, ``hess``, ``hessp``.
    jac : callable, True, {'2-point', '3-point', 'cs'} or None
        Gradient (None and strings: central differences).
    hess, hessp : callable, optional
        Hessian of ``f`` (dense, scipy.sparse or small LinearOperator) or its product.
        With those of every ``NonlinearConstraint`` (``hess(x, v)``) the Hessian of the
        Lagrangian is exact; otherwise damped BFGS (``options['hessian']``).
    constraints : NonlinearConstraint, LinearConstraint, dict or list of them
        As in ``scipy.optimize.minimize``; dicts ``{'type': 'eq' | 'ineq', 'fun', 'jac',
        'args'}`` with ``'ineq'`` meaning ``fun(x) >= 0``.
    bounds : Bounds or sequence of (min, max) pairs, optional
        ``None`` in a pair for no bound.
    method : {'eal-sketch', 'eal-direct'}
        Sketched (default) or exact (LU) Newton solves.
    tol : float, optional
        Tolerance on the scaled KKT residual (:func:`kkt_residuals`), default 1e-8.
    callback : callable, optional
        ``callback(intermediate_result)`` after each iteration with ``x``, ``fun``, ``kkt``,
        ``nit``; ``StopIteration`` stops (status 99). ``callback(xk)`` works too.
    options : dict, optional
        ``maxiter`` (500), ``sketch`` ('kaczmarz', 'gaussian', 'block', 'count'),
        ``random_state``, ``eta``, ``superlinear``, ``max_inner``, ``hessian``, ``mu0``,
        ``nu0``, ``feasible_bounds`` (True: iterates stay inside the bounds, by a projected
        search, and no function is evaluated outside them, finite differences and the
        feasibility check included; 'auto' (default): the projected search when there are no
        inequality constraints besides the bounds), ``record_history``, ``verbose`` ...
        (``MINIMIZE_METHODS[method].defaults``);
        unknown keys, wrong types and out-of-range values raise before any work.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``success``, ``status`` (:mod:`optsolve._status`: 0 converged, 1 max
        iterations, 2 stalled, 3 line search failed, 4 infeasible, 5 non-finite, 99 callback),
        ``message``, ``nit``, ``nfev``, ``njev`` (and ``ngev``, ``ncev``, ``nhev``),
        ``constraints_multipliers`` (list aligned with ``constraints``, scipy trust-constr's
        sign: ``∇f + Σ J_kᵀ v_k − z_l + z_u = 0``, ``v <= 0`` at a lower bound, ``>= 0`` at
        an upper one; for a problem object one array over its ``cons`` rows),
        ``multipliers`` (all constraint rows stacked), ``bounds_multipliers`` ``(z_lower,
        z_upper) >= 0``, ``kkt`` and ``kkt_residuals`` (stationarity, feasibility,
        complementarity, sign), ``constr_violation``, ``n_active`` (active inequalities and
        bounds), ``mu``, ``nu``, ``n_inner``, ``flops``, ``n_fallback``, ``n_regularized``,
        ``n_factorizations`` (sparse factorizations of the Newton matrix),
        ``n_merit_gradient``, ``history`` (with ``options['record_history']``).

    References
    ----------
    .. [1] S. Na, M. Anitescu, M. Kolar. Inequality constrained stochastic nonlinear
       optimization via active-set sequential quadratic programming. Math. Program. 202,
       2023.
    .. [2] I. Hong, S. Na, M. W. Mahoney, M. Kolar. Constrained Optimization via Exact
       Augmented Lagrangian and Randomized Iterative Sketching. ICML 2023.
    .. [3] S. Lucidi. New results on a continuously differentiable exact penalty function.
       SIAM J. Optim. 2(4), 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import Bounds
    >>> res = minimize(lambda x: (x[0] - 1) ** 2 + (x[1] - 2.5) ** 2, [2.0, 0.0],
    ...                jac=lambda x: np.array([2 * (x[0] - 1), 2 * (x[1] - 2.5)]),
    ...                hess=lambda x: 2 * np.eye(2),
    ...                constraints=[{"type": "ineq", "fun": lambda x: x[0] - 2 * x[1] + 2,
    ...                              "jac": lambda x: np.array([[1.0, -2.0]])}],
    ...                bounds=Bounds([0, 0], [np.inf, np.inf]), options={"random_state": 0})
    >>> res.success, np.round(res.x, 6).tolist(), np.round(res.constraints_multipliers[0], 6)
    (True, [1.4, 1.7], array([-0.8]))
    """
    if not isinstance(method, str) or method not in MINIMIZE_METHODS:
        raise ValueError(f"method must be one of {sorted(MINIMIZE_METHODS)}, got {method!r}")
    if tol is None:
        tol = DEFAULT_TOL
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol > 0:
        raise ValueError(f"tol must be a positive real number, got {tol!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    opts = MINIMIZE_METHODS[method].resolve(options)
    if opts["mu_max"] < opts["mu0"]:
        raise ValueError(f"options['mu_max'] ({opts['mu_max']}) must be >= options['mu0'] "
                         f"({opts['mu0']})")
    if not isinstance(args, tuple):
        args = (args,)
    if hasattr(fun, "obj") and hasattr(fun, "cons") and hasattr(fun, "n"):
        problem = fun
        given = [k for k, v in (("jac", jac), ("hess", hess), ("hessp", hessp),
                                ("bounds", bounds)) if v is not None]
        if constraints not in ((), [], None):
            given.append("constraints")
        if args:
            given.append("args")
        if given:
            raise ValueError(f"fun is a problem object: its derivatives, constraints and "
                             f"bounds come from it; do not pass {', '.join(given)}")
        x0 = problem.x0 if x0 is None else x0
        x0 = np.array(x0, dtype=np.float64)
        if x0.shape != (problem.n,):
            raise ValueError(f"x0 must have shape ({problem.n},) for problem "
                             f"{getattr(problem, 'name', '?')!r}, got {x0.shape}")
        slices = [slice(0, int(problem.m))]
    elif callable(fun):
        if x0 is None:
            raise TypeError("x0 is required when fun is a callable")
        problem = NonlinearProblem(fun, x0, args=args, jac=jac, hess=hess, hessp=hessp,
                                   constraints=constraints, bounds=bounds)
        x0 = problem.x0.copy()
        slices = problem.constraint_slices
    else:
        raise TypeError("fun must be callable or a problem object with obj, grad, cons, jac "
                        f"(pycutest's names), got {type(fun).__name__}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 contains non-finite values")
    rng = as_generator(opts["random_state"], "options['random_state']")
    res = run_active_set_eal(problem, x0, sketch=opts["sketch"], tol=float(tol),
                             max_iter=int(opts["maxiter"]), callback=callback, rng=rng,
                             opts=opts)
    res["constraints_multipliers"] = [np.array(res["multipliers"][s]) for s in slices]
    res["method"] = method
    return res
