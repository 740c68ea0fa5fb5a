"""DADAO's communication rates: uniform edge rates scaled to the paper's condition, or rates
from an SDP relaxation that minimizes the total communication rate.

With edge rates ``λ_e`` the gossip Laplacian is ``Λ = Σ_e λ_e (e_i − e_j)(e_i − e_j)ᵀ``,
``χ₁ = 1/λ⁺_min(Λ)`` and ``χ₂ = ½ max_e R_e(Λ)`` (:func:`optsolve.graphs.chi1`,
:func:`~optsolve.graphs.chi2`). Theorem 3.3 of Nabli & Oyallon (2023) needs

    χ₁ χ₂ ≤ 1/2,                                                   (COMM_CONDITION)

and the expected number of communications per unit of time is ``Σ_e λ_e``. Scaling ``λ`` by
``c`` divides ``χ₁`` and ``χ₂`` by ``c``, so any rate *shape* ``w`` is made admissible by
``c = sqrt(2 χ₁(w) χ₂(w))``; the total rate is then ``Σ w · sqrt(2 χ₁(w) χ₂(w))``.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import scipy.sparse as sp

from ..graphs import chi1, chi2, weighted_laplacian
from .topology import GraphInfo, GraphSegment

__all__ = ["admissible_scale", "dadao_rates", "sdp_rates"]

logger = logging.getLogger("optsolve.decentralized")

#: χ₁χ₂ ≤ COMM_CONDITION (Theorem 3.3)
COMM_CONDITION = 0.5
#: up to this many nodes χ₁, χ₂ are exact and dense (O(n²) memory); above, Lanczos and a bound
DENSE_MAX_NODES = 1000
#: golden-section steps of the SDP's one-dimensional search over the split of χ₁χ₂
SDP_SEARCH_STEPS = 8


def _chis(seg: GraphSegment, w) -> tuple[float, float]:
    """(χ₁, χ₂) of rates ``w``.

    Up to ``DENSE_MAX_NODES`` nodes both are exact (dense eigen-decomposition, all effective
    resistances). Above, χ₁ comes from Lanczos on Λ + λ_max 11ᵀ/n (matrix-vector products only:
    O(edges) memory, where a shift-invert factorization of an expander fills in to O(n²)), and
    χ₂ is replaced by its upper bound ½ max_e 1/w_e (an edge's effective resistance never exceeds
    its own resistance), which keeps χ₁χ₂ ≤ 1/2 guaranteed at the price of somewhat higher rates.
    """
    w = np.asarray(w, dtype=np.float64)
    n = seg.adjacency.shape[0]
    if n <= DENSE_MAX_NODES:
        return chi1(seg.adjacency, weights=w), chi2(seg.adjacency, weights=w)
    logger.info("chi1 by Lanczos, chi2 by the bound max_e 1/(2 w_e) on %d nodes", n)
    return 1.0 / _lambda2_lanczos(weighted_laplacian(seg.adjacency, w)), 0.5 / float(w.min())


def _lambda2_lanczos(Lam) -> float:
    """Smallest positive eigenvalue of a connected graph's Laplacian (the null vector 1 is
    lifted to λ_max by a rank-one term applied implicitly)."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = Lam.shape[0]
    Lam = sp.csr_matrix(Lam)
    top = float(eigsh(Lam, k=1, which="LA", return_eigenvectors=False, tol=1e-3)[0]) * 1.01
    op = LinearOperator((n, n), dtype=np.float64,
                        matvec=lambda x: Lam @ x + top * (x.sum() / n))
    return float(eigsh(op, k=1, which="SA", return_eigenvectors=False, tol=1e-10,
                       maxiter=100 * n)[0])


def admissible_scale(seg: GraphSegment, w) -> float:
    """The factor ``c`` making ``c·w`` satisfy χ₁χ₂ = 1/2 exactly."""
    c1, c2 = _chis(seg, w)
    return math.sqrt(c1 * c2 / COMM_CONDITION)


def dadao_rates(info: GraphInfo, rates="uniform", rate_scale: float = 1.0):
    """Edge rates of every segment of ``info`` and the constants (χ₁, χ₂) DADAO uses.

    Parameters
    ----------
    info : GraphInfo
    rates : {'uniform', 'sdp'} or ndarray
        Rate shape: equal on every edge, the SDP relaxation's (:func:`sdp_rates`), or a
        user array of relative edge rates (fixed graphs only) aligned with the edge list.
    rate_scale : float
        Multiplies the admissible rates (> 1: more communication than the theory needs).

    Returns
    -------
    rates : list of ndarray
        One array of edge rates per segment.
    chi1, chi2 : float
        Worst case over segments of χ₁ and χ₂ of the returned rates; ``chi1 * chi2 <= 1/2``
        when ``rate_scale >= 1``.
    """
    shapes = []
    for seg in info.segments:
        if isinstance(rates, str) and rates == "uniform":
            shapes.append(np.ones(seg.n_edges))
        elif isinstance(rates, str) and rates == "sdp":
            shapes.append(sdp_rates(seg))
        else:
            w = np.asarray(rates, dtype=np.float64)
            if info.is_time_varying:
                raise ValueError("rates as an array is only supported on a fixed graph; use "
                                 "'uniform' or 'sdp' with a TimeVaryingGraph")
            if w.shape != (seg.n_edges,):
                raise ValueError(
                    f"rates must hold one rate per edge ({seg.n_edges}, in the order of "
                    f"optsolve.graphs.edge_list), got shape {w.shape}"
                )
            shapes.append(w)
    chis = [_chis(seg, w) for seg, w in zip(info.segments, shapes, strict=True)]
    # one common factor keeps sup_t χ₁ · sup_t χ₂ ≤ 1/2 over a time-varying sequence
    c1 = max(c[0] for c in chis)
    c2 = max(c[1] for c in chis)
    scale = math.sqrt(c1 * c2 / COMM_CONDITION) * rate_scale
    return [w * scale for w in shapes], c1 / scale, c2 / scale


def sdp_rates(seg: GraphSegment, solver: str | None = None) -> np.ndarray:
    """Edge rates minimizing the total rate ``Σ λ_e`` subject to χ₁χ₂ ≤ 1/2, by an SDP
    relaxation (needs ``cvxpy``: the ``[sdp]`` extra).

    For a split ``s > 0`` the conditions ``λ⁺_min(Λ) ≥ s`` (χ₁ ≤ 1/s) and ``R_e ≤ s`` on every
    edge (χ₂ ≤ s/2, so χ₁χ₂ ≤ 1/2) are linear matrix inequalities in ``λ``:

        Λ + (s/n) 11ᵀ − s I ⪰ 0,     [[Λ + 11ᵀ/n, e_i − e_j], [(e_i − e_j)ᵀ, s]] ⪰ 0,

    (the second is ``(e_i − e_j)ᵀ Λ⁺ (e_i − e_j) ≤ s`` by a Schur complement). Each split gives
    a convex SDP; the product constraint itself is not convex, so ``s`` is searched on a
    logarithmic golden section around the uniform rates' split, every candidate rescaled to
    χ₁χ₂ = 1/2 exactly, and the smallest total rate kept (never worse than uniform rates).
    Costs one SDP with ``|E|`` LMIs of size n+1 per step: meant for graphs up to ~100 nodes.

    Returns
    -------
    ndarray of shape (n_edges,)
        Admissible rates (χ₁χ₂ = 1/2).
    """
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("rates='sdp' needs cvxpy: pip install 'optsolve[sdp]'") from exc
    n = seg.adjacency.shape[0]
    m = seg.n_edges
    B = sp.csc_matrix((np.r_[np.ones(m), -np.ones(m)],
                       (np.r_[seg.rows, seg.cols], np.r_[np.arange(m), np.arange(m)])),
                      shape=(n, m)).toarray()
    J = np.full((n, n), 1.0 / n)
    lam = cp.Variable(m, nonneg=True)
    s_par = cp.Parameter(pos=True)
    Lam = B @ cp.diag(lam) @ B.T
    cons = [Lam + s_par * J - s_par * np.eye(n) >> 0]
    for e in range(m):
        b = B[:, e:e + 1]
        cons.append(cp.bmat([[Lam + J, b], [b.T, cp.reshape(s_par, (1, 1), order="C")]]) >> 0)
    problem = cp.Problem(cp.Minimize(cp.sum(lam)), cons)
    solvers = [solver] if solver else [s for s in ("CLARABEL", "SCS")
                                       if s in cp.installed_solvers()]

    uniform = np.ones(m) * admissible_scale(seg, np.ones(m))
    best = uniform
    cache: dict[float, float] = {}

    def total_at(log_s: float) -> float:
        nonlocal best
        if log_s in cache:
            return cache[log_s]
        s_par.value = math.exp(log_s)
        value = math.inf
        for name in solvers:
            try:
                with warnings.catch_warnings():
                    # an inaccurate SDP solution is fine: every candidate is rescaled to exact
                    # admissibility with the exact χ₁, χ₂ below
                    warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                    problem.solve(solver=name)
            except cp.error.SolverError:
                continue
            if lam.value is not None and problem.status in ("optimal", "optimal_inaccurate"):
                w = np.maximum(np.asarray(lam.value), 0.0)
                w = np.maximum(w, 1e-9 * w.max())  # keep every edge (connectivity)
                w = w * admissible_scale(seg, w)
                value = float(w.sum())
                if value < best.sum():
                    best = w
                break
        cache[log_s] = value
        return value

    c1u = _chis(seg, uniform)[0]
    center = math.log(1.0 / c1u)  # uniform rates meet λ⁺_min = s here
    lo, hi = center - math.log(4.0), center + math.log(4.0)
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = total_at(a), total_at(b)
    for _ in range(SDP_SEARCH_STEPS):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = total_at(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = total_at(b)
    logger.info("sdp_rates: total rate %.4g (uniform %.4g)", best.sum(), uniform.sum())
    return best
