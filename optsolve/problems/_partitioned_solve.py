"""The centralized reference of a :class:`~optsolve.problems.partitioned.DecentralizedProblem`.

``F(w) = (1/N) Σ_r ℓ(x̃_rᵀw, y_r) + (α/2)‖w‖²`` over all rows, ``x̃_r = x_r − μ`` with the
problem's column offsets μ (implicit centring; μ = 0 without). Two paths:

* **direct** (``d <= SOLUTION_DENSE_MAX``): the ``d x d`` Hessian is formed — ridge solves
  the normal equations once (least squares when ``α = 0``), logistic runs Newton with
  backtracking. ``8 d²`` bytes, at most 32 MB.
* **matrix-free** (larger ``d``): only products ``v ↦ X̃v`` and ``u ↦ X̃ᵀu`` (two passes over
  ``X``, the centring a rank-one correction), so memory stays ``O(nnz(X) + N + d)``. Ridge:
  conjugate gradients on ``(X̃ᵀX̃/N + αI) w = X̃ᵀy/N`` (from ``w = 0`` CG stays in the range
  of ``X̃ᵀ``, so ``α = 0`` gives the least-norm solution as ``lstsq`` does). Logistic:
  Newton-CG (truncated Newton, Nocedal & Wright §7.1, as the family's
  :mod:`optsolve.constrained.newton_cg`) with Hessian-vector products
  ``X̃ᵀ(D X̃v)/N + αv``, the Jacobi preconditioner ``diag(X̃ᵀDX̃)/N + α`` and the forcing term
  ``min(0.5, √‖∇F‖)`` (Eisenstat & Walker 1996); no preconditioner when ``α = 0`` (the
  least-norm minimizer, as the direct path's ``lstsq``).

Both stop at ``‖∇F‖ <= SOLUTION_RTOL · max(1, ‖∇F(0)‖)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from scipy import special

__all__ = ["SOLUTION_DENSE_MAX", "SOLUTION_RTOL", "CenteredRows", "reference_solution"]

#: Newton's / CG's stopping tolerance on ‖∇F‖ / max(1, ‖∇F(0)‖)
SOLUTION_RTOL = 1e-12
#: largest ``d`` solved with a dense d x d Hessian (8 d² bytes = 32 MB); above it the
#: matrix-free path runs
SOLUTION_DENSE_MAX = 2000
#: Newton steps of the logistic reference (quadratic convergence needs a few dozen at most)
MAX_NEWTON = 200
#: forcing term bound of the inner CG, ‖r‖ <= min(FORCING_MAX, √‖g‖) ‖g‖ (Eisenstat & Walker)
FORCING_MAX = 0.5


class CenteredRows:
    """``X̃ = X − 1μᵀ`` (``X`` dense or CSR, ``μ`` None for no centring) through products only."""

    def __init__(self, X, center: np.ndarray | None):
        self.X = X
        self.center = center if center is not None and center.size else None
        self.shape = X.shape

    def matvec(self, w: np.ndarray) -> np.ndarray:
        """``X̃ w``."""
        z = np.asarray(self.X @ w).ravel()
        if self.center is not None:
            z -= self.center @ w
        return z

    def rmatvec(self, u: np.ndarray) -> np.ndarray:
        """``X̃ᵀ u``."""
        g = np.asarray(self.X.T @ u).ravel()
        if self.center is not None:
            g -= u.sum() * self.center
        return g

    def weighted_col_sq(self, weights: np.ndarray) -> np.ndarray:
        """``diag(X̃ᵀ D X̃)`` for ``D = diag(weights)``, in one pass over ``X``."""
        X = self.X
        sq = X.multiply(X) if sp.issparse(X) else X * X
        out = np.asarray(sq.T @ weights).ravel()
        if self.center is not None:
            mu = self.center
            out += -2.0 * mu * np.asarray(X.T @ weights).ravel() + mu * mu * weights.sum()
        return np.maximum(out, 0.0)

    def gram(self, weights: np.ndarray | None = None) -> np.ndarray:
        """``X̃ᵀ D X̃`` as a dense ``d x d`` array (the direct path only)."""
        X, n = self.X, self.shape[0]
        wts = np.ones(n) if weights is None else weights
        H = X.multiply(wts[:, None]).T @ X if sp.issparse(X) else (X.T * wts) @ X
        H = H.toarray() if sp.issparse(H) else np.asarray(H)
        if self.center is not None:
            mu = self.center
            xd = np.asarray(X.T @ wts).ravel()
            H += -np.outer(xd, mu) - np.outer(mu, xd) + wts.sum() * np.outer(mu, mu)
        return H


def _pcg(hessp, b, precond, rtol, max_iter):
    """Preconditioned CG on ``H x = b`` from ``x = 0``, to ``‖r‖ <= rtol ‖b‖``; returns
    ``(x, converged)``. Stops early on a direction of non-positive curvature (returning the
    current iterate, or ``b`` scaled when it is the first)."""
    x = np.zeros_like(b)
    r = b.copy()
    bnorm = float(np.linalg.norm(b))
    if bnorm == 0.0:
        return x, True
    z = precond * r
    p = z.copy()
    rz = float(r @ z)
    for _ in range(max_iter):
        Hp = hessp(p)
        curv = float(p @ Hp)
        if curv <= 0.0:
            return (x if x.any() else b.copy()), False
        step = rz / curv
        x += step * p
        r -= step * Hp
        if np.linalg.norm(r) <= rtol * bnorm:
            return x, True
        z = precond * r
        rz_new = float(r @ z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, False


def _jacobi(diag, alpha):
    """The Jacobi preconditioner ``1 / diag``; none (ones) when ``α = 0``: CG from 0 then
    stays in the range of ``X̃ᵀ`` and ends at the least-norm solution, which a diagonal
    scaling would break."""
    if alpha == 0:
        return np.ones_like(diag)
    return 1.0 / diag


def _warn(detail):
    warnings.warn(f"the reference solution did not reach ‖∇F‖ <= {SOLUTION_RTOL:g}·max(1, "
                  f"‖∇F(0)‖): {detail}", RuntimeWarning, stacklevel=5)


def reference_solution(op: CenteredRows, y: np.ndarray, alpha: float, loss: str,
                       value, grad) -> np.ndarray:
    """The minimizer of ``F`` (see the module docstring); ``value`` / ``grad`` evaluate ``F`` and
    ``∇F`` (the problem's own kernels, so both paths stop on the same measure)."""
    if op.shape[1] <= SOLUTION_DENSE_MAX:
        return _direct(op, y, alpha, loss, value, grad)
    if loss == "ridge":
        return _ridge_cg(op, y, alpha, grad)
    return _newton(op, y, alpha, value, grad, matrix_free=True)


def _direct(op, y, alpha, loss, value, grad):
    N, d = op.shape
    if loss == "ridge":
        H = op.gram() / N
        H[np.diag_indices(d)] += alpha
        rhs = op.rmatvec(y) / N
        if alpha > 0:
            return np.linalg.solve(H, rhs)
        return np.linalg.lstsq(H, rhs, rcond=None)[0]
    return _newton(op, y, alpha, value, grad, matrix_free=False)


def _ridge_cg(op, y, alpha, grad):
    N, d = op.shape
    rhs = op.rmatvec(y) / N
    precond = _jacobi(op.weighted_col_sq(np.full(N, 1.0 / N)) + alpha, alpha)
    g0 = max(1.0, float(np.linalg.norm(rhs)))  # ∇F(0) = −X̃ᵀy/N

    def hessp(v):
        return op.rmatvec(op.matvec(v)) / N + alpha * v

    # CG's recursive residual drifts from the true one at this tolerance: restart from the
    # true residual (a few times at most) until ∇F itself meets it
    w = np.zeros(d)
    for _ in range(5):
        g = grad(w)
        gnorm = float(np.linalg.norm(g))
        if gnorm <= SOLUTION_RTOL * g0:
            return w
        dw, _ = _pcg(hessp, -g, precond, 0.5 * SOLUTION_RTOL * g0 / gnorm, max(10 * d, 1000))
        w = w + dw
    if float(np.linalg.norm(grad(w))) > SOLUTION_RTOL * g0:
        _warn("conjugate gradients stalled (a nearly singular X with alpha near 0)")
    return w


def _newton(op, y, alpha, value, grad, *, matrix_free):
    """Damped Newton (direct) or Newton-CG (matrix-free) on the logistic ``F``."""
    N, d = op.shape
    w = np.zeros(d)
    g = grad(w)
    g0 = max(1.0, float(np.linalg.norm(g)))
    f = value(w)
    for _ in range(MAX_NEWTON):
        gnorm = float(np.linalg.norm(g))
        if gnorm <= SOLUTION_RTOL * g0:
            return w
        z = op.matvec(w)
        s = special.expit(np.abs(z))  # σ(|z|): σ(z)σ(−z) = s(1 − s)
        curv = s * (1.0 - s) / N
        if matrix_free:
            precond = _jacobi(op.weighted_col_sq(curv) + alpha, alpha)

            def hessp(v, curv=curv):
                return op.rmatvec(curv * op.matvec(v)) + alpha * v

            forcing = min(FORCING_MAX, np.sqrt(gnorm / g0))
            step, _ = _pcg(hessp, -g, precond, max(forcing, 0.1 * SOLUTION_RTOL * g0 / gnorm),
                           max(10 * d, 1000))
        else:
            H = op.gram(curv)
            H[np.diag_indices(d)] += alpha
            step = np.linalg.lstsq(H, -g, rcond=None)[0] if alpha == 0 else \
                np.linalg.solve(H, -g)
        t, slope = 1.0, float(g @ step)
        # near the optimum the decrease drops below the rounding of F: take the full step
        while t > 1e-12 and -slope > 1e-14 * max(1.0, abs(f)):
            w_new = w + t * step
            f_new = value(w_new)
            if f_new <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            w_new = w + t * step
            f_new = value(w_new)
        w, f = w_new, f_new
        g = grad(w)
    _warn(f"{MAX_NEWTON} Newton steps (alpha = 0 on separable data has no minimizer)")
    return w
