"""The exact augmented Lagrangian merit function and its gradient.

For ``min f(x) s.t. c(x) = 0`` with Lagrangian ``L = f + λᵀc``, Jacobian ``G = ∇cᵀ`` and
``H = ∇²ₓL`` (the Hessian of the **Lagrangian**), the merit of Hong, Na, Mahoney & Kolar
(ICML 2023, eq. (3); Lucidi 1990) is

    L_{μ,ν}(x, λ) = L(x, λ) + (μ/2) ‖c(x)‖² + (ν/2) ‖∇ₓL(x, λ)‖²

with gradient

    ∇ₓ L_{μ,ν} = ∇ₓL + μ Gᵀc + ν H ∇ₓL,        ∇_λ L_{μ,ν} = c + ν G ∇ₓL.

The ``ν H ∇ₓL`` term is where the trap of the issue lies: ``H`` must be the Hessian of the
Lagrangian (``∇²f + Σ λ_i ∇²c_i``), not ``∇²f``; the two agree only for linear constraints.
"""

from __future__ import annotations

import numpy as np

__all__ = ["directional_derivative", "merit_gradient", "merit_value"]


def merit_value(f: float, lam: np.ndarray, c: np.ndarray, grad_lag: np.ndarray,
                mu: float, nu: float) -> float:
    """``f + λᵀc + (μ/2)‖c‖² + (ν/2)‖∇ₓL‖²``.

    Examples
    --------
    >>> import numpy as np
    >>> merit_value(1.0, np.array([2.0]), np.array([0.5]), np.array([1.0, 0.0]), 4.0, 2.0)
    3.5
    """
    return float(f + lam @ c + 0.5 * mu * (c @ c) + 0.5 * nu * (grad_lag @ grad_lag))


def merit_gradient(grad_lag: np.ndarray, c: np.ndarray, G, hess_grad_lag: np.ndarray,
                   mu: float, nu: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the merit in ``x`` and ``λ``.

    Parameters
    ----------
    grad_lag : ndarray of shape (n,)
        ``∇ₓL = ∇f + Gᵀλ``.
    c : ndarray of shape (m,)
    G : ndarray or sparse matrix of shape (m, n)
        Constraint Jacobian.
    hess_grad_lag : ndarray of shape (n,)
        ``H ∇ₓL`` with ``H`` the Hessian of the Lagrangian.
    mu, nu : float
        Penalty parameters.

    Examples
    --------
    >>> import numpy as np
    >>> gx, gl = merit_gradient(np.ones(2), np.array([1.0]), np.array([[1.0, 0.0]]),
    ...                         np.zeros(2), mu=2.0, nu=1.0)
    >>> gx.tolist(), gl.tolist()
    ([3.0, 1.0], [2.0])
    """
    gx = grad_lag + mu * np.asarray(G.T @ c).ravel() + nu * hess_grad_lag
    gl = c + nu * np.asarray(G @ grad_lag).ravel()
    return gx, gl


def directional_derivative(gx: np.ndarray, gl: np.ndarray, dx: np.ndarray,
                           dl: np.ndarray) -> float:
    """``∇L_{μ,ν}ᵀ (Δx, Δλ)``, the slope the descent test and the Armijo rule use."""
    return float(gx @ dx + gl @ dl)
