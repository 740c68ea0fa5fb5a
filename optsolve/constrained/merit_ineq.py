"""The exact augmented Lagrangian for equality and inequality constraints.

For ``min f(x) s.t. c(x) = 0, g(x) <= 0`` with Lagrangian ``L = f + λᵀc + yᵀg``, Jacobians
``G_E = ∇cᵀ``, ``G_I = ∇gᵀ`` and ``H = ∇²ₓL``, the merit of Na, Anitescu & Kolar (Math.
Program. 2023, Sec. 2; Lucidi 1992), written with the penalty ``μ = 1/ε`` and the weight ``ν``
(their ``η``) of the equality-constrained solver of Hong et al. (ICML 2023), is::

    a(x)    = 1 − Σ max(g_i, 0)³ / R                   (R: the paper's ν; a > 0 is the domain)
    q(x, y) = a(x) / (1 + ‖y‖²)
    w       = max(g, −q y / μ)                         (w_i = g_i exactly on the ε-active set
                                                        A = {i : g_i >= −q y_i / μ})
    Φ = f + λᵀc + yᵀw + (μ/2)‖c‖² + (μ/(2q))‖w‖² + (ν/2)‖∇ₓL‖² + (ν/2)‖g² ∘ y‖²

with gradient::

    ∇ₓΦ = ∇ₓL + μ G_Eᵀc + (μ/q) G_Iᵀw + ν H ∇ₓL + 2ν G_Iᵀ(g³ ∘ y²)
          + (3μ‖w‖² / (2 q a R)) G_Iᵀ max(g, 0)²
    ∇_λΦ = c + ν G_E ∇ₓL
    ∇_yΦ = w + ν G_I ∇ₓL + ν g⁴ ∘ y + (μ‖w‖² / a) y

Four departures from the paper, all keeping exactness (KKT points are stationary points of
``Φ``, and the ``ν``-terms make stationary points with ``c = 0, w = 0`` KKT points): by default
``q = a(x)``, without the paper's factor ``1/(1 + ‖y‖²)`` (``MULTIPLIER_SCALED``): that
factor serves the paper's bound on the level sets in ``y``, but its ``y``-derivative
``(μ‖w‖²/a) y`` makes the slope of every Newton step that enlarges the multipliers grow with
``μ``, so the penalty runs away (on the S2MPJ problems CONGIGMZ, CSFI1, CRESC4 ``μ`` reached
``1e6``-``1e7`` and the runs failed; with ``q = a`` they converge in 12, 12 and 60 iterations
or are classified); the formulas below are written for the paper's ``q``, ours drops the
terms with ``‖y‖``; ``a`` is divided by ``R`` (the paper's
``a = R − Σ max(g, 0)³``; ours is the paper's merit with ``ε = 1/(μR)``, so the penalty does
not fall when ``R`` has to grow for a badly infeasible start); the gradient term is ``‖∇ₓL‖²`` as in
the equality-constrained merit of :mod:`.merit` (the paper uses ``‖G∇ₓL + diag(0, g²)(λ, y)‖²``,
whose gradient needs the constraint Hessians applied to ``∇ₓL`` once more); the
complementarity term ``‖g² ∘ y‖²`` that the paper puts inside that norm is kept on its own, so
that ``Φ`` is convex in the multipliers of inactive constraints once ``μ ν g_i⁴ > q`` (without
it, dropping a multiplier of an inactive constraint that ``∇ₓL`` does not see raises ``Φ``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["MULTIPLIER_SCALED", "IneqMerit", "ineq_merit", "ineq_merit_gradient"]

#: q = a(x) / (1 + ‖y‖²) as in the paper (True) or q = a(x) (False, our default; module
#: docstring)
MULTIPLIER_SCALED = False


class IneqMerit(NamedTuple):
    """Value of the merit and the quantities its gradient reuses."""

    value: float
    w: np.ndarray
    q: float
    a: float
    active: np.ndarray
    region: float


def ineq_merit(f: float, lam: np.ndarray, y: np.ndarray, c: np.ndarray, g: np.ndarray,
               grad_lag: np.ndarray, mu: float, nu: float, region: float) -> IneqMerit:
    """``Φ`` at one point (``inf`` outside the domain ``a > 0``).

    Examples
    --------
    >>> import numpy as np
    >>> m = ineq_merit(1.0, np.zeros(0), np.array([0.0]), np.zeros(0), np.array([-1.0]),
    ...                np.zeros(1), mu=10.0, nu=0.1, region=1.0)
    >>> m.value, m.active.tolist()
    (1.0, [False])
    """
    a = float(1.0 - np.sum(np.maximum(g, 0.0) ** 3) / region)
    if not a > 0:
        return IneqMerit(np.inf, np.zeros_like(g), 0.0, a, np.zeros(g.size, dtype=bool), region)
    q = a / (1.0 + float(y @ y)) if MULTIPLIER_SCALED else a
    thresh = -q * y / mu
    active = g >= thresh
    w = np.where(active, g, thresh)
    g2y = g * g * y
    value = (f + float(lam @ c) + float(y @ w) + 0.5 * mu * float(c @ c)
             + 0.5 * mu / q * float(w @ w) + 0.5 * nu * float(grad_lag @ grad_lag)
             + 0.5 * nu * float(g2y @ g2y))
    return IneqMerit(float(value), w, q, a, active, region)


def ineq_merit_gradient(merit: IneqMerit, y: np.ndarray, c: np.ndarray, g: np.ndarray,
                        GE, GI, grad_lag: np.ndarray, hess_grad_lag: np.ndarray,
                        mu: float, nu: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(∇ₓΦ, ∇_λΦ, ∇_yΦ)`` (``hess_grad_lag`` = ``H ∇ₓL``, the Hessian of the Lagrangian).

    Examples
    --------
    >>> import numpy as np
    >>> y, g, gl = np.array([1.0]), np.array([0.5]), np.array([0.2, 0.0])
    >>> m = ineq_merit(0.0, np.zeros(0), y, np.zeros(0), g, gl, mu=2.0, nu=0.0, region=1.0)
    >>> gx, gl_, gy = ineq_merit_gradient(m, y, np.zeros(0), g, np.zeros((0, 2)),
    ...                                   np.array([[1.0, 0.0]]), gl, np.zeros(2), 2.0, 0.0)
    >>> gy.round(4).tolist()
    [0.5]
    """
    w, q, a = merit.w, merit.q, merit.a
    ww = float(w @ w)
    gx = grad_lag + nu * hess_grad_lag
    if c.size:
        gx = gx + mu * np.asarray(GE.T @ c).ravel()
    if g.size:
        barrier = 1.5 * mu * ww / (q * a * merit.region) if MULTIPLIER_SCALED else (
            1.5 * mu * ww / (a * a * merit.region))
        coef = (mu / q) * w + 2.0 * nu * g**3 * y**2 + barrier * np.maximum(g, 0.0) ** 2
        gx = gx + np.asarray(GI.T @ coef).ravel()
    g_lam = c + nu * np.asarray(GE @ grad_lag).ravel() if c.size else np.zeros(0)
    if g.size:
        g_y = w + nu * np.asarray(GI @ grad_lag).ravel() + nu * g**4 * y
        if MULTIPLIER_SCALED:
            g_y = g_y + (mu * ww / a) * y
    else:
        g_y = np.zeros(0)
    return gx, g_lam, g_y
