"""Sparse gossip operators and the spectral constants the synchronous baselines are tuned by.

Every operator is a SciPy CSR matrix applied to the ``(n_nodes, d)`` stack of node vectors, so
one gossip round is one sparse product: node i only reads the rows of its neighbours.

Communication convention (shared with DADAO): **one communication is one pairwise exchange
over one edge**, in which both endpoints send each other one d-vector. A synchronous gossip
round that multiplies one stacked vector by a matrix supported on the graph therefore costs
``n_edges`` communications (every edge carries one exchange); a round that gossips ``k``
distinct stacked vectors costs ``k * n_edges``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ...graphs import check_graph, edge_list, laplacian, metropolis_weights, spectral_gap

#: up to this many nodes the spectra are computed densely (O(n³) once, before the run)
DENSE_SPECTRUM_MAX_NODES = 2000
#: eigengaps this close to 1 are the complete graph's (c₂ = (1+γ)/(1−γ) would blow up)
GAMMA_ONE_TOL = 1e-10
#: up to this many nodes a gossip polynomial of many products may be applied as one dense
#: ``n × n`` matrix built from the Laplacian's eigen-decomposition (``gossip='auto'``)
SPECTRAL_MAX_NODES = 2000


@dataclass(frozen=True)
class Gossip:
    """Sparse gossip matrices of one graph and their spectral constants.

    Attributes
    ----------
    n_nodes, n_edges : int
        Nodes and undirected edges (one communication per edge and gossiped vector).
    laplacian : csr_matrix
        Weighted graph Laplacian ``D − A`` (PSD, kernel = the consensus line).
    metropolis : csr_matrix
        Metropolis–Hastings mixing matrix (symmetric, doubly stochastic).
    lap_max, lap_min_pos : float
        Largest and smallest positive eigenvalues of the Laplacian.
    mix_min, mix_second : float
        Smallest eigenvalue of the Metropolis matrix and its second largest modulus
        ``max(|λ₂|, |λ_n|)`` (the consensus contraction factor).
    """

    n_nodes: int
    n_edges: int
    laplacian: sp.csr_matrix
    metropolis: sp.csr_matrix
    lap_max: float
    lap_min_pos: float
    mix_min: float
    mix_second: float

    @property
    def chi(self) -> float:
        """Laplacian condition number ``λ_max / λ⁺_min`` (ADOM+'s χ, MSDA's 1/γ)."""
        return self.lap_max / self.lap_min_pos


def _spectra(A: sp.csr_matrix, Lap: sp.csr_matrix, Wm: sp.csr_matrix, max_degree: float):
    """``(λ_max(Λ), λ⁺_min(Λ), λ_min(W), max(|λ₂(W)|, |λ_n(W)|))``: dense below
    ``DENSE_SPECTRUM_MAX_NODES`` nodes; above, Lanczos (shift-invert for λ⁺_min through
    :func:`optsolve.graphs.spectral_gap`) and the Metropolis gap bounded below by
    ``λ⁺_min(Λ) / (1 + d_max)`` (every Metropolis weight is at least ``1/(1 + d_max)``)."""
    n = Lap.shape[0]
    if n <= DENSE_SPECTRUM_MAX_NODES:
        ev = np.linalg.eigvalsh(Lap.toarray())
        ew = np.linalg.eigvalsh(Wm.toarray())
        return float(ev[-1]), float(ev[1]), float(ew[0]), float(max(abs(ew[-2]), abs(ew[0])))
    from scipy.sparse.linalg import eigsh

    gap = spectral_gap(A)
    w_min = float(eigsh(Wm, k=1, which="SA", return_eigenvectors=False)[0])
    second = max(1.0 - gap["lambda_2"] / (1.0 + max_degree), abs(w_min))
    return gap["lambda_max"], gap["lambda_2"], w_min, float(second)


def build_gossip(graph) -> Gossip:
    """Validate ``graph`` (connected, undirected) and build its :class:`Gossip` operators."""
    A = check_graph(graph)
    return _build(A)


def segment_gossip(info, index: int = 0) -> Gossip:
    """The :class:`Gossip` of segment ``index`` of a validated ``GraphInfo`` (built once and kept
    in ``info.cache``)."""
    key = ("baselines.gossip", index)
    if key not in info.cache:
        info.cache[key] = _build(sp.csr_matrix(info.segments[index].adjacency))
    return info.cache[key]


def all_gossips(info) -> list[Gossip]:
    """One :class:`Gossip` per segment of ``info``."""
    return [segment_gossip(info, i) for i in range(len(info.segments))]


def _build(A: sp.csr_matrix) -> Gossip:
    n = A.shape[0]
    if n < 2:
        raise ValueError(f"graph must have at least 2 nodes, got {n}")
    n_edges = int(edge_list(A)[0].size)
    Lap = sp.csr_matrix(laplacian(A))
    Wm = sp.csr_matrix(metropolis_weights(A))
    max_degree = float(np.diff(A.indptr).max())
    lap_max, lap_min_pos, mix_min, mix_second = _spectra(A, Lap, Wm, max_degree)
    return Gossip(n, n_edges, Lap, Wm, lap_max, lap_min_pos, mix_min, mix_second)


def chebyshev_gossip(V: np.ndarray, Lap: sp.csr_matrix, lap_max: float, lap_min: float,
                     degree: int) -> np.ndarray:
    """Scaman et al. (2017), Alg. 2 ``AcceleratedGossip``: ``P_K(W) V`` with ``W = Lap``.

    ``P_K(x) = 1 − T_K(c₂(1 − c₃x)) / T_K(c₂)`` (``T_K`` the Chebyshev polynomial) with
    ``γ = λ⁺_min/λ_max``, ``c₂ = (1+γ)/(1−γ)``, ``c₃ = 2/((1+γ)λ_max)``: ``P_K(0) = 0`` keeps the
    consensus line in the kernel while every other eigenvalue is mapped into
    ``[1 − 2c₁ᴷ/(1+c₁²ᴷ), 1 + 2c₁ᴷ/(1+c₁²ᴷ)]``, ``c₁ = (1−√γ)/(1+√γ)``. ``degree`` products
    with ``Lap`` (``degree · n_edges`` communications).
    """
    gamma = lap_min / lap_max
    if gamma >= 1.0 - GAMMA_ONE_TOL:  # complete graph: Λ/λ_max is the consensus projector
        return Lap @ V / lap_max
    if degree == 1:  # P_1(x) = c₃x, exact without the (large) c₂
        return (2.0 / ((1.0 + gamma) * lap_max)) * (Lap @ V)
    c2 = (1.0 + gamma) / (1.0 - gamma)
    c3 = 2.0 / ((1.0 + gamma) * lap_max)
    a_prev, a_cur = 1.0, c2
    x_prev = V
    x_cur = c2 * (V - c3 * (Lap @ V))
    for _ in range(1, degree):
        a_prev, a_cur = a_cur, 2.0 * c2 * a_cur - a_prev
        x_prev, x_cur = x_cur, 2.0 * c2 * (x_cur - c3 * (Lap @ x_cur)) - x_prev
    return V - x_cur / a_cur


def polynomial_cost_is_dense(g: Gossip, degree: int) -> bool:
    """``gossip='auto'``: apply a degree-``degree`` polynomial of the Laplacian as one dense
    matrix when that is cheaper than ``degree`` sparse products (``n² < degree · (nnz + n)``)
    and the graph has at most ``SPECTRAL_MAX_NODES`` nodes."""
    n = g.n_nodes
    return n <= SPECTRAL_MAX_NODES and n * n < degree * (g.laplacian.nnz + n)


def spectral_polynomial(g: Gossip, values, cache: dict, key) -> np.ndarray:
    """The dense matrix ``p(Λ) = U diag(p(λ)) Uᵀ`` of a polynomial of the Laplacian with
    ``p(0) = 0``, from ``values(λ) = p(λ)`` on the Laplacian's eigenvalues (built once, kept in
    ``cache[key]``).

    ``p(Λ) V`` is the same linear map as the ``degree`` sparse gossip products it replaces (only
    the floating-point rounding differs), so the iterates and the communication counts of the
    method are unchanged; it costs one ``n × n`` product per application instead of ``degree``
    sparse ones. The consensus line is kept in the kernel exactly: ``p(0) = 0`` is imposed by
    projecting out ``11ᵀ/n`` (the computed zero eigenvalue is only ~1e-15).
    """
    if key in cache:
        return cache[key]
    lam, U = np.linalg.eigh(g.laplacian.toarray())
    lam[0] = 0.0  # connected graph: the kernel is the consensus line, spanned by U[:, 0]
    pv = np.asarray(values(lam), dtype=np.float64)
    pv[0] = 0.0
    M = (U * pv) @ U.T
    M -= M.mean(axis=0, keepdims=True)  # (I − 11ᵀ/n) M (I − 11ᵀ/n), M symmetric
    M -= M.mean(axis=1, keepdims=True)
    M = 0.5 * (M + M.T)
    cache[key] = M
    return M


def chebyshev_values(lam: np.ndarray, lap_max: float, lap_min: float, degree: int) -> np.ndarray:
    """``P_K(λ)`` of :func:`chebyshev_gossip` on scalars (the same three-term recurrence)."""
    gamma = lap_min / lap_max
    lam = np.asarray(lam, dtype=np.float64)
    if gamma >= 1.0 - GAMMA_ONE_TOL:
        return lam / lap_max
    c3 = 2.0 / ((1.0 + gamma) * lap_max)
    if degree == 1:
        return c3 * lam
    c2 = (1.0 + gamma) / (1.0 - gamma)
    a_prev, a_cur = 1.0, c2
    x_prev = np.ones_like(lam)
    x_cur = c2 * (1.0 - c3 * lam)
    for _ in range(1, degree):
        a_prev, a_cur = a_cur, 2.0 * c2 * a_cur - a_prev
        x_prev, x_cur = x_cur, 2.0 * c2 * (x_cur - c3 * lam * x_cur) - x_prev
    return 1.0 - x_cur / a_cur
