"""Gradients of the local convex conjugates, the oracle of the dual baselines (MSDA, continuized).

``∇f_i*(y) = argmin_θ f_i(θ) − ⟨y, θ⟩``: the primal point whose local gradient is ``y``.

* ridge: ``f_i(θ) = ‖X_iθ − b_i‖²/(2N) + (r/2)‖θ‖²`` (``r = α/n``) gives the closed form
  ``∇f_i*(y) = H_i⁻¹ (y + X_iᵀb_i/N)``, ``H_i = X_iᵀX_i/N + rI`` (inverses formed once:
  ``n_nodes · d²`` floats).
* logistic: no closed form. Each call runs damped Newton on ``f_i(θ) − ⟨y, θ⟩`` from the node's
  previous answer (warm start) to ``‖∇f_i(θ) − y‖ ≤ INNER_RTOL · max(1, ‖y‖)``; the number of
  Newton steps is reported separately (``n_inner_steps``). One conjugate-gradient call counts as
  one local gradient, as in Scaman et al. (2017), whose lower bounds are stated for this oracle.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: Newton tolerance of the logistic conjugate, relative to max(1, ‖y‖)
INNER_RTOL = 1e-12
#: Newton steps allowed per logistic conjugate call
INNER_MAX_STEPS = 60


def _dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M)


class ConjugateOracle:
    """``∇f_i*`` for every node of a :class:`~optsolve.decentralized.DecentralizedProblem`."""

    def __init__(self, problem):
        if not problem.mu > 0:
            raise ValueError("the conjugate oracle needs mu > 0 (alpha > 0)")
        self.problem = problem
        self.loss = problem.loss
        n, d = problem.n_nodes, problem.n_features
        N, r = problem.n_samples_total, problem.alpha / n
        self.n_inner_steps = 0
        self.H_inv = np.empty((n, d, d))
        self.shift = np.empty((n, d))
        self.theta = np.zeros((n, d))  # warm starts (logistic)
        if self.loss == "ridge":
            for i, (Xi, bi) in enumerate(problem.parts):
                H = _dense(Xi.T @ Xi) / N
                H[np.diag_indices(d)] += r
                self.H_inv[i] = np.linalg.inv(H)
                self.shift[i] = np.asarray(Xi.T @ bi).ravel() / N
            # symmetrize the rounding of inv so the kernels see an exactly symmetric matrix
            self.H_inv = 0.5 * (self.H_inv + np.transpose(self.H_inv, (0, 2, 1)))

    def __call__(self, Y: np.ndarray, nodes=None) -> np.ndarray:
        """``∇f_i*(Y[i])`` for every node (or the listed ``nodes``); returns a new array."""
        if self.loss == "ridge":
            if nodes is None:
                return np.einsum("nij,nj->ni", self.H_inv, Y + self.shift)
            nodes = np.asarray(nodes)
            return np.einsum("nij,nj->ni", self.H_inv[nodes], Y + self.shift[nodes])
        idx = range(Y.shape[0]) if nodes is None else nodes
        out = np.empty((len(idx), Y.shape[1]))
        for k, i in enumerate(idx):
            out[k] = self._logistic(int(i), Y[k])
        return out

    def _logistic(self, i: int, y: np.ndarray) -> np.ndarray:
        p = self.problem
        Xi, _ = p.parts[i]
        N, r = p.n_samples_total, p.alpha / p.n_nodes
        theta = self.theta[i].copy()
        tol = INNER_RTOL * max(1.0, float(np.linalg.norm(y)))

        def phi(t):
            return p.local_value(i, t) - y @ t

        g = p.local_grad(i, theta) - y
        for _ in range(INNER_MAX_STEPS):
            if np.linalg.norm(g) <= tol:
                break
            z = np.asarray(Xi @ theta).ravel() * p.parts[i][1]
            s = 1.0 / (1.0 + np.exp(-np.abs(z)))
            curv = s * (1.0 - s) / N
            H = _dense(Xi.T @ (sp.diags(curv) @ Xi) if sp.issparse(Xi) else (Xi.T * curv) @ Xi)
            H[np.diag_indices(H.shape[0])] += r
            step = -np.linalg.solve(H, g)
            t, f0, slope = 1.0, phi(theta), float(g @ step)
            while t > 1e-10:
                cand = theta + t * step
                if phi(cand) <= f0 + 1e-4 * t * slope or -slope < 1e-14 * max(1.0, abs(f0)):
                    break
                t *= 0.5
            theta = theta + t * step
            g = p.local_grad(i, theta) - y
            self.n_inner_steps += 1
        self.theta[i] = theta
        return theta
