"""Closed-form asymptotic covariances of the SRRW sampler and of SA-SRRW iterates.

Both come from the spectrum of the base chain ``P``, reversible with respect to ``mu``: with
``D = diag(mu)``, ``S = D^(1/2) P D^(-1/2)`` is symmetric, ``S = sum_i lambda_i w_i w_i^T``,
and ``u_i = D^(1/2) w_i`` are the eigenvectors of ``P^T`` (``u_i^T D^-1 u_j = delta_ij``); the
eigenvalue ``lambda_1 = 1`` (``u_1 = mu``) is left out of every sum.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_continuous_lyapunov

from .._validation import check_dense_size
from .schedules import DEFAULT_REGIME, check_regime
from .walks import as_chain, check_alpha

__all__ = ["asymptotic_covariance", "base_spectrum", "theta_asymptotic_covariance"]

#: dense eigensolver limit (the covariance itself is a dense n x n matrix)
MAX_DENSE_NODES = 5000
#: n_features x n_features matrices :func:`theta_asymptotic_covariance` holds at once (the
#: Hessian, Γ, the Schur factors of the Lyapunov solve and the result)
LYAPUNOV_MATRICES = 6


def base_spectrum(graph, base: str = "mh"):
    """Eigenvalues ``lambda_2 >= ... >= lambda_n`` of the base chain and the matching
    eigenvectors ``u_i`` of ``P^T`` (columns), normalized by ``u_i^T diag(mu)^-1 u_i = 1``.

    Returns ``(lam, U, mu)``.
    """
    chain = as_chain(graph, base)
    n = chain.n_nodes
    if n > MAX_DENSE_NODES:
        raise ValueError(f"the closed forms are dense: at most {MAX_DENSE_NODES} nodes, got {n}")
    P = chain.to_dense()
    sq = np.sqrt(chain.mu)
    S = sq[:, None] * P / sq[None, :]
    lam, W = np.linalg.eigh(0.5 * (S + S.T))
    order = np.argsort(lam)[::-1][1:]  # drop lambda_1 = 1 (connected graph: simple)
    return lam[order], sq[:, None] * W[:, order], chain.mu


def asymptotic_covariance(graph, alpha: float, base: str = "mh") -> np.ndarray:
    """Asymptotic covariance ``V_X(alpha)`` of the SRRW's visit frequencies.

    ``V_X(alpha) = sum_{i>=2} 1 / (2 alpha (1 + lambda_i) + 1) * (1 + lambda_i) / (1 -
    lambda_i) * u_i u_i^T`` (Doshi et al. 2023, Theorem 4.2 / eq. (10)), so that
    ``sqrt(n) (x_n - mu) -> N(0, V_X(alpha))`` and ``n Cov(visits / n) -> V_X(alpha)``.
    ``V_X(0)`` is the base chain's own covariance; every direction shrinks by the factor
    ``1 / (2 alpha (1 + lambda_i) + 1)``, i.e. like ``1/alpha``.

    Parameters
    ----------
    graph : sparse matrix, ndarray, networkx.Graph or BaseChain
        Connected undirected graph (at most ``MAX_DENSE_NODES`` nodes).
    alpha : float >= 0
        SRRW strength.
    base : {"mh", "srw"}, default="mh"
        Base chain.

    Returns
    -------
    ndarray of shape (n_nodes, n_nodes)
        Symmetric positive semi-definite, ``V 1 = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.graphs import make_graph
    >>> from optsolve.randomwalk import asymptotic_covariance
    >>> g = make_graph("power_law", 30, random_state=0)
    >>> t0, t10 = (np.trace(asymptotic_covariance(g, a)) for a in (0.0, 10.0))
    >>> bool(t10 < t0 / 10)
    True
    """
    alpha = check_alpha(alpha)
    lam, U, _ = base_spectrum(graph, base)
    g = (1.0 + lam) / (1.0 - lam) / (2.0 * alpha * (1.0 + lam) + 1.0)
    V = (U * g) @ U.T
    return 0.5 * (V + V.T)


def _hessian(problem, w: np.ndarray) -> np.ndarray:
    """``∇²F(w)`` by central differences of the exact gradient (exact for ridge)."""
    d = w.size
    h = 1e-5 * max(1.0, float(np.linalg.norm(w)))
    Hs = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        Hs[:, j] = (problem.grad(w + e) - problem.grad(w - e)) / (2 * h)
    return 0.5 * (Hs + Hs.T)


def theta_asymptotic_covariance(problem, graph, alpha: float, base: str = "mh", *,
                                step_size: float = 1.0, regime=DEFAULT_REGIME) -> np.ndarray:
    """Asymptotic covariance of the SA-SRRW iterate with full local gradients, case (i).

    With ``beta_n = step_size (n+1)^-b`` faster-decaying than ``gamma_n`` (``b > a``, the
    default regime), ``(theta_n - theta*) / sqrt(beta_n) -> N(0, V_theta(alpha))`` with
    (Hu, Doshi & Eun 2024, Theorem 3.3, case (i))

    ``V_theta(alpha) = sum_{i>=2} 1 / (alpha (1 + lambda_i) + 1)^2 * (1 + lambda_i) / (1 -
    lambda_i) * U_i``,

    where ``U_i`` solves ``A U_i + U_i A^T + (H^T u_i)(H^T u_i)^T = 0``, ``A = -∇²F(theta*) +
    1{b = 1} / (2 step_size) I``, and the rows of ``H`` are ``H(theta*, j) = -∇f_j(theta*) /
    mu_j`` (the importance-weighted field of :func:`token_sgd`). The shrinkage is ``1/alpha^2``.
    With ``alpha = 0`` it is the covariance of SGD driven by the base walk (any regime).

    Parameters
    ----------
    problem : DecentralizedProblem
        One node per graph node.
    graph : sparse matrix, ndarray, networkx.Graph or BaseChain
    alpha : float >= 0
    base : {"mh", "srw"}, default="mh"
    step_size : float > 0, default=1.0
        The scale of ``beta_n``.
    regime : str or (a, b), default="fast_walk"
        Must be case (i) (``b > a``) when ``alpha > 0``: the paper gives no closed form for
        the other two cases.

    Returns
    -------
    ndarray of shape (n_features, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.graphs import make_graph
    >>> from optsolve.randomwalk import (DecentralizedProblem, partition_data,
    ...                                  theta_asymptotic_covariance)
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 2)), rng.standard_normal(60)
    >>> prob = DecentralizedProblem.ridge(partition_data(X, y, 6, random_state=0), 0.1)
    >>> g = make_graph("cycle", 6)
    >>> v0, v10 = (np.trace(theta_asymptotic_covariance(prob, g, a)) for a in (0.0, 10.0))
    >>> bool(v10 < v0 / 50)
    True
    """
    alpha = check_alpha(alpha)
    if isinstance(step_size, bool) or not np.isscalar(step_size) or not step_size > 0:
        raise ValueError(f"step_size must be a number > 0, got {step_size!r}")
    _, b, case = check_regime(regime)
    if alpha > 0 and case != "fast_walk":
        raise ValueError(
            f"no closed form for regime {regime!r} with alpha > 0: Hu et al. (2024) give "
            "V_theta in closed form for case (i), beta_n = o(gamma_n), only"
        )
    lam, U, mu = base_spectrum(graph, base)
    if problem.n_nodes != mu.size:
        raise ValueError(f"problem has {problem.n_nodes} nodes but graph has {mu.size}")
    # the Hessian, Γ, the Lyapunov solve's Schur factors and the result: n_features² each
    check_dense_size((LYAPUNOV_MATRICES, problem.n_features, problem.n_features), "problem",
                     "the n_features x n_features matrices of the Lyapunov equation")
    w_star = problem.solution()
    Hmat = np.stack([-problem.local_grad(j, w_star) / mu[j] for j in range(mu.size)])
    A = -_hessian(problem, w_star)
    if b == 1.0:
        A += np.eye(A.shape[0]) / (2.0 * float(step_size))
    if np.linalg.eigvals(A).real.max() >= 0:
        raise ValueError("step_size too small for b = 1: need step_size > 1 / (2 mu_F)")
    HU = Hmat.T @ U  # column i is H^T u_i
    g = (1.0 + lam) / (1.0 - lam) / (alpha * (1.0 + lam) + 1.0) ** 2
    Gamma = (HU * g) @ HU.T
    V = solve_continuous_lyapunov(A, -Gamma)
    return 0.5 * (V + V.T)
