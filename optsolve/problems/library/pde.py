"""Linear-quadratic control of the 2-D Poisson equation: a scalable, sparse library problem.

Find a state ``w`` and a control ``z`` on the unit square that minimize

    ½ ∫ (w - w*)² + (β/2) ∫ z²    subject to    Δw + z = 0 in Ω,  w = 0 on ∂Ω,

optionally with pointwise control bounds ``a <= z <= b`` (the bound-constrained variant; the
state stays free), discretized with the 5-point Laplacian on an N × N interior grid (mesh
``h = 1/(N+1)``). Both
integrals use the rectangle rule, so the objective is ``(h²/2)‖w - w*‖² + (βh²/2)‖z‖²``: with this
scaling the optimal objective converges as ``N`` grows instead of growing like ``N²``, and the
multipliers approximate ``h²`` times the continuous adjoint. The constraint is kept unscaled
(``Δ_h w + z``), as written in the issue, so its Jacobian has entries of size ``4/h²``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._base import LibraryProblem

__all__ = ["POISSON_CONTROL", "laplacian_2d"]


def laplacian_2d(N: int) -> sp.csr_matrix:
    """5-point Laplacian ``Δ_h`` on the N × N interior grid of the unit square, Dirichlet zero.

    Grid point ``(s_i, t_j) = ((i + 1) h, (j + 1) h)`` is unknown number ``i N + j``.

    Examples
    --------
    >>> L = laplacian_2d(3)
    >>> L.shape, float(L[4, 4])
    ((9, 9), -64.0)
    """
    h = 1.0 / (N + 1)
    T = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(N, N))
    I = sp.identity(N)
    return ((sp.kron(I, T) + sp.kron(T, I)) / h**2).tocsr()


class POISSON_CONTROL(LibraryProblem):
    """Poisson control on an N × N grid: ``n = 2N²`` (state then control), ``m = N²``.

    Parameters
    ----------
    N : int, default=16
        Interior grid points per side.
    beta : float, default=1e-3
        Control cost.
    target : {'sine', 'gauss'} or callable, default='sine'
        Desired state ``w*(s, t)``: ``sin(πs) sin(πt)``, ``exp(-50 ‖(s, t) - (½, ½)‖²)``, or a
        vectorized callable of the grid coordinates.
    control_bounds : tuple of two floats or None, default=None
        ``(a, b)``: the bound-constrained variant ``a <= z <= b`` at every grid point (``-inf``
        or ``inf`` for a missing side); ``bl``/``bu`` then hold them on the control half.
        None: no bound (the equality-constrained problem).

    Notes
    -----
    ``jac`` and ``hess`` are scipy.sparse CSR matrices (``sparse = True``). The exact solution
    comes from one sparse direct solve of the KKT system (:meth:`solve_exact`, done lazily on first
    access of ``x_opt`` or ``f_opt``). For ``target='sine'`` it is also known in closed form, since
    the target is an eigenvector of ``Δ_h`` with eigenvalue ``-μ``, ``μ = 8 sin²(πh/2) / h²``:
    ``w = w* / (1 + βμ²)``, ``z = μ w`` (:meth:`closed_form_solution`).

    With ``control_bounds`` the solution comes from the primal-dual active-set method of
    Bergounioux, Ito & Kunisch (SIAM J. Control Optim. 37, 1999), a semismooth Newton method
    on ``z = P_[a,b](-λ / (βh²))``: one sparse LU solve per active-set guess, finitely many
    guesses (:meth:`solve_exact` returns the bound multipliers too).

    Examples
    --------
    >>> p = POISSON_CONTROL(N=8)
    >>> p.n, p.m, p.sparse
    (128, 64, True)
    >>> bool(np.allclose(p.x_opt, p.closed_form_solution()))
    True
    >>> q = POISSON_CONTROL(N=8, control_bounds=(0.0, 10.0))
    >>> q.has_bounds, float(q.x_opt[q.m:].max()) <= 10.0
    (True, True)
    """

    name = "POISSON_CONTROL"
    source = ("Linear-quadratic elliptic control, e.g. Hinze, Pinnau, Ulbrich & Ulbrich (2009), "
              "Optimization with PDE Constraints, Springer, ch. 1; 5-point finite differences")
    notes = "Scalable and sparse; convex QP with a unique solution."
    scalable = True
    sparse = True

    def __init__(self, N: int = 16, beta: float = 1e-3, target: str | Callable = "sine",
                 control_bounds: tuple[float, float] | None = None):
        if isinstance(N, bool) or int(N) != N or N < 1:
            raise ValueError(f"N must be a positive integer for POISSON_CONTROL, got {N!r}")
        if not np.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be a positive finite number, got {beta!r}")
        self.N, self.beta = int(N), float(beta)
        self.h = 1.0 / (self.N + 1)
        grid = np.arange(1, self.N + 1) * self.h
        S, T = np.meshgrid(grid, grid, indexing="ij")
        if callable(target):
            w_target = np.asarray(target(S, T), dtype=np.float64)
        elif target == "sine":
            w_target = np.sin(np.pi * S) * np.sin(np.pi * T)
        elif target == "gauss":
            w_target = np.exp(-50.0 * ((S - 0.5) ** 2 + (T - 0.5) ** 2))
        else:
            raise ValueError(f"target must be 'sine', 'gauss' or a callable, got {target!r}")
        if w_target.shape != (self.N, self.N):
            raise ValueError(f"target must return an array of shape ({N}, {N}), "
                             f"got {w_target.shape}")
        self.target = target
        self.w_target = w_target.ravel()
        self.n, self.m = 2 * self.N**2, self.N**2
        self.params = {"N": self.N, "beta": self.beta, "target": target}
        self.control_bounds = None
        if control_bounds is not None:
            try:
                a, b = (float(v) for v in control_bounds)
            except (TypeError, ValueError):
                raise ValueError("control_bounds must be None or a pair (a, b) of floats, got "
                                 f"{control_bounds!r}") from None
            if np.isnan(a) or np.isnan(b) or not a < b:
                raise ValueError(f"control_bounds must satisfy a < b, got {control_bounds!r}")
            self.control_bounds = (a, b)
            self.params["control_bounds"] = (a, b)
            self.bl = np.concatenate([np.full(self.m, -np.inf), np.full(self.m, a)])
            self.bu = np.concatenate([np.full(self.m, np.inf), np.full(self.m, b)])
            self.name = "POISSON_CONTROL_BOUNDED"
        self.x0 = np.clip(np.zeros(self.n), self.bl, self.bu)
        self._L = laplacian_2d(self.N)
        self._J = sp.hstack([self._L, sp.identity(self.m)], format="csr")
        self._hdiag = np.concatenate([np.full(self.m, self.h**2),
                                      np.full(self.m, self.beta * self.h**2)])
        self._exact: tuple[np.ndarray, ...] | None = None

    # -- evaluations ----------------------------------------------------------------------------
    def _split(self, x):
        return x[: self.m], x[self.m :]

    def _obj(self, x):
        w, z = self._split(x)
        r = w - self.w_target
        return 0.5 * self.h**2 * float(r @ r + self.beta * (z @ z))

    def _grad(self, x):
        w, z = self._split(x)
        return np.concatenate([self.h**2 * (w - self.w_target), self.beta * self.h**2 * z])

    def _cons(self, x):
        w, z = self._split(x)
        return self._L @ w + z

    def _jac(self, x):
        return self._J.copy()

    def _hess(self, x, v):
        return sp.diags(self._hdiag, format="csr")  # constraints are linear

    def _hprod(self, p, x, v):
        return self._hdiag * p

    def _jprod(self, p, x, transpose):
        if transpose:
            return np.concatenate([self._L.T @ p, p])
        return self._L @ p[: self.m] + p[self.m :]

    # -- solution -------------------------------------------------------------------------------
    def solve_exact(self) -> tuple[np.ndarray, ...]:
        """Solution and multipliers by sparse LU solves of the KKT system (cached).

        Without bounds: ``(x, λ)``, one solve (the objective is ``½ xᵀ H x - rᵀ x + const``
        with diagonal ``H``, so ``H x + Jᵀ λ = r``, ``J x = 0`` is one linear system). With
        ``control_bounds``: ``(x, λ, μ)``, ``μ`` the bound multipliers (``H x + Jᵀλ + μ = r``,
        ``μ >= 0`` where ``x = bu``, ``<= 0`` where ``x = bl``, 0 elsewhere), by the
        primal-dual active-set iteration (see Notes).
        """
        if self._exact is None:
            self._exact = (self._solve_unbounded() if self.control_bounds is None
                           else self._solve_active_set())
        return tuple(a.copy() for a in self._exact)

    def _solve_unbounded(self):
        H = sp.diags(self._hdiag)
        K = sp.bmat([[H, self._J.T], [self._J, None]], format="csc")
        rhs = np.concatenate([self.h**2 * self.w_target, np.zeros(self.m), np.zeros(self.m)])
        sol = spla.splu(K).solve(rhs)
        return sol[: self.n], sol[self.n :]

    def _solve_active_set(self, max_iter: int = 100):
        m, h2, bh2 = self.m, self.h**2, self.beta * self.h**2
        a, b = self.control_bounds
        L, I = self._L, sp.identity(m, format="csr")
        w, lam = self._solve_unbounded()[0][:m], np.zeros(m)
        z, mu = np.clip(self._solve_unbounded()[0][m:], a, b), np.zeros(m)
        upper = lower = np.zeros(m, dtype=bool)
        for _ in range(max_iter):
            # active-set guess from the complementarity function μ + βh²(z - bound)
            new_upper, new_lower = mu + bh2 * (z - b) > 0, mu + bh2 * (z - a) < 0
            if _ > 0 and np.array_equal(new_upper, upper) and np.array_equal(new_lower, lower):
                break
            upper, lower = new_upper, new_lower
            free = ~(upper | lower)
            # unknowns (w, z, λ): h²(w - w*) + Lᵀλ = 0; Lw + z = 0; on free points
            # βh² z + λ = 0, on active points z = bound
            D = sp.diags(free.astype(float))
            K = sp.bmat([[h2 * I, None, L.T],
                         [L, I, None],
                         [None, D * bh2 + sp.diags((~free).astype(float)), D]], format="csc")
            rhs = np.concatenate([h2 * self.w_target, np.zeros(m),
                                  np.where(upper, b, 0.0) + np.where(lower, a, 0.0)])
            sol = spla.splu(K).solve(rhs)
            w, z, lam = sol[:m], sol[m:2 * m], sol[2 * m:]
            z = np.where(upper, b, np.where(lower, a, z))  # exactly on the bound, no round-off
            mu = np.where(free, 0.0, -(bh2 * z + lam))
        else:
            raise RuntimeError("the primal-dual active-set iteration did not settle in "
                               f"{max_iter} iterations")
        return (np.concatenate([w, z]), lam,
                np.concatenate([np.zeros(m), mu]))

    @property
    def x_opt(self) -> np.ndarray:
        return self.solve_exact()[0]

    @property
    def f_opt(self) -> float:
        return self._obj(self.solve_exact()[0])

    def closed_form_solution(self) -> np.ndarray:
        """The exact discrete solution for ``target='sine'`` without bounds (see Notes)."""
        if self.control_bounds is not None:
            raise ValueError("closed_form_solution has no bounds; use x_opt for the "
                             "bound-constrained variant")
        if not (isinstance(self.target, str) and self.target == "sine"):
            raise ValueError("closed_form_solution needs target='sine', "
                             f"this problem has target={self.target!r}")
        mu = 8.0 * np.sin(np.pi * self.h / 2) ** 2 / self.h**2
        w = self.w_target / (1.0 + self.beta * mu**2)
        return np.concatenate([w, mu * w])
