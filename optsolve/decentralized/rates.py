"""DADAO's communication rates: uniform edge rates scaled to the paper's condition, or the
rates of least total communication rate under that condition, by one SDP.

With edge rates ``λ_e`` the gossip Laplacian is ``Λ = Σ_e λ_e (e_i − e_j)(e_i − e_j)ᵀ``,
``χ₁ = 1/λ⁺_min(Λ)`` and ``χ₂ = ½ max_e R_e(Λ)`` (:func:`optsolve.graphs.chi1`,
:func:`~optsolve.graphs.chi2`). Theorem 3.3 of Nabli & Oyallon (2023) needs

    χ₁ χ₂ ≤ 1/2,                                                   (COMM_CONDITION)

and the expected number of communications per unit of time is ``Σ_e λ_e``. Scaling ``λ`` by
``c`` divides ``χ₁`` and ``χ₂`` by ``c``, so any rate *shape* ``w`` is made admissible by
``c = sqrt(2 χ₁(w) χ₂(w))``; the total rate is then ``Σ w · sqrt(2 χ₁(w) χ₂(w))``.

Uniform unit rates on ``|E|`` edges thus cost ``|E| sqrt(2 χ₁χ₂)`` communications per unit of
time (χ's of the unit-weight Laplacian) against ``n`` local gradients: on the complete graph
``K_n`` (χ₁ = χ₂ = 1/n) that is ``(n − 1)/√2`` communications for ``n`` gradients, the optimum
there (:func:`sdp_rates` returns the uniform rates on edge-transitive graphs). The paper's
``O(n √(χ₁*χ₂*) √(L/μ))`` communications holds with χ* of the Laplacian normalized to ``n``
exchanges per unit of time, i.e. ``|E| √(χ₁χ₂) √(L/μ)`` in unit-weight terms.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import scipy.sparse as sp

from ..graphs import chi1, chi2, weighted_laplacian
from .topology import GraphInfo, GraphSegment

__all__ = ["admissible_scale", "dadao_rates", "edge_classes", "sdp_rates"]

logger = logging.getLogger("optsolve.decentralized")

#: χ₁χ₂ ≤ COMM_CONDITION (Theorem 3.3)
COMM_CONDITION = 0.5
#: up to this many nodes χ₁, χ₂ are exact and dense (O(n²) memory); above, Lanczos and a bound
DENSE_MAX_NODES = 1000
#: floor of an SDP rate relative to the largest one (an edge the SDP switches off keeps a
#: negligible rate, so every edge stays in the gossip graph)
SDP_MIN_RELATIVE_RATE = 1e-9
#: SCS first: its first-order iterations cost one eigen-decomposition of the (n + |E|) cone
#: where Clarabel's interior-point steps factor a dense system of its ~(n + |E|)²/2 entries
#: (barbell on 16 nodes: 3 s against 24 s, the same optimum to 1e-7); the answer is rescaled to
#: exact admissibility, so the solver's accuracy only costs optimality
SDP_SOLVER_OPTIONS = {"SCS": {"eps": 1e-7, "max_iters": 20000}}
#: ``symmetry='auto'``: above this ``n + |E|`` (the side of the full SDP's largest LMI) the SDP
#: is solved over rates constant on the edge classes of :func:`edge_classes`
SDP_FULL_MAX_SIZE = 600


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
        Rate shape: equal on every edge, the least total rate under the condition
        (:func:`sdp_rates`), or a user array of relative edge rates (fixed graphs only)
        aligned with the edge list.
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


def edge_classes(adjacency, rows, cols) -> np.ndarray:
    """Label every edge by the pair of colours of its endpoints after colour refinement
    (1-dimensional Weisfeiler–Leman: a node's colour is refined by the multiset of its
    neighbours' colours until no class splits).

    Nodes in one orbit of the graph's automorphism group always share a colour, so each class
    is a union of edge orbits; on the barbell, star, cycle, complete graph, path and grid the
    classes *are* the orbits (the barbell on ``n`` nodes has 3 classes, 5 for odd ``n``).

    Returns
    -------
    ndarray of int64, shape (n_edges,)
        Class labels ``0, 1, …`` aligned with ``rows, cols``.
    """
    A = sp.csr_matrix(adjacency)
    n = A.shape[0]
    indptr, indices = A.indptr, A.indices
    colour = np.diff(indptr).astype(np.int64)  # the degree
    _, colour = np.unique(colour, return_inverse=True)
    n_colours = int(colour.max()) + 1
    while True:
        signatures = [(int(colour[i]), tuple(np.sort(colour[indices[indptr[i]:indptr[i + 1]]])))
                      for i in range(n)]
        table = {sig: k for k, sig in enumerate(sorted(set(signatures)))}
        new = np.array([table[sig] for sig in signatures], dtype=np.int64)
        colour = new
        if len(table) == n_colours:
            break
        n_colours = len(table)
    a, b = colour[np.asarray(rows)], colour[np.asarray(cols)]
    pairs = np.minimum(a, b) * n_colours + np.maximum(a, b)
    return np.unique(pairs, return_inverse=True)[1].astype(np.int64)


def _solve_sdp(problem, variables, solver):
    """Solve with ``solver`` or the installed open solvers in turn; True on a usable answer."""
    import cvxpy as cp

    solvers = [solver] if solver else [name for name in ("SCS", "CLARABEL")
                                       if name in cp.installed_solvers()]
    for name in solvers:
        try:
            with warnings.catch_warnings():
                # an inaccurate solution is still rescaled to exact admissibility afterwards
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                problem.solve(solver=name, **SDP_SOLVER_OPTIONS.get(name, {}))
        except cp.error.SolverError:
            continue
        if variables.value is not None and problem.status in ("optimal", "optimal_inaccurate"):
            return True
    return False


def _admissible(seg, w):
    w = np.maximum(np.asarray(w, dtype=np.float64), 0.0)
    w = np.maximum(w, SDP_MIN_RELATIVE_RATE * w.max())  # keep every edge (connectivity)
    return w * admissible_scale(seg, w)


def _sdp_full(seg, solver):
    import cvxpy as cp

    n = seg.adjacency.shape[0]
    m = seg.n_edges
    B = sp.csc_matrix((np.r_[np.ones(m), -np.ones(m)],
                       (np.r_[seg.rows, seg.cols], np.r_[np.arange(m), np.arange(m)])),
                      shape=(n, m)).toarray()
    J = np.full((n, n), 1.0 / n)
    lam = cp.Variable(m, nonneg=True)
    s = cp.Variable()
    S = cp.Variable((m, m), symmetric=True)
    Lam = B @ cp.diag(lam) @ B.T
    cons = [
        Lam + s * (J - np.eye(n)) >> 0,
        cp.bmat([[Lam + J, B], [B.T, S]]) >> 0,
        cp.diag(S) <= s,
    ]
    if not _solve_sdp(cp.Problem(cp.Minimize(cp.sum(lam)), cons), lam, solver):
        return None
    return _admissible(seg, lam.value)


def _class_laplacians(seg, classes) -> np.ndarray:
    """Dense Laplacians ``Λ_k`` of the edges of each class, shape (k, n, n)."""
    n = seg.adjacency.shape[0]
    rows, cols = np.asarray(seg.rows), np.asarray(seg.cols)
    k = int(classes.max()) + 1
    laps = np.zeros((k, n, n))
    np.add.at(laps, (classes, rows, cols), -1.0)
    np.add.at(laps, (classes, cols, rows), -1.0)
    np.add.at(laps, (classes, rows, rows), 1.0)
    np.add.at(laps, (classes, cols, cols), 1.0)
    return laps


def _sdp_reduced(seg, classes):
    """The least total rate among rates constant on ``classes`` (``λ = w[classes]``)::

        minimize Σ_k |class k| w_k   subject to   λ⁺_min(Λ(w)) − max_{e ∈ class k} R_e(Λ(w)) ≥ 0,

    ``Λ(w) = Σ_k w_k Λ_k``: the SDP's problem restricted to one rate per class, a convex
    problem in ``k`` variables (``λ⁺_min`` concave, ``R_e`` convex) solved by SLSQP with exact
    first derivatives from one dense eigen-decomposition per step:
    ``∂λ⁺_min/∂w_k = u₂ᵀΛ_ku₂`` (``u₂`` its unit eigenvector) and
    ``∂R_e/∂w_k = −vᵀΛ_kv``, ``v = Λ⁺b_e``. Needs ``n <= DENSE_MAX_NODES``."""
    from scipy.optimize import minimize

    rows, cols = np.asarray(seg.rows), np.asarray(seg.cols)
    laps = _class_laplacians(seg, classes)
    sizes = np.bincount(classes).astype(np.float64)
    k = sizes.size
    if k == 1:
        return None
    members = [np.flatnonzero(classes == c) for c in range(k)]
    cache = {}

    def state(w):
        key = w.tobytes()
        if key not in cache:
            cache.clear()
            lam, U = np.linalg.eigh(np.tensordot(w, laps, axes=1))
            phi = U[:, 1:] / np.sqrt(lam[1:])
            u2 = U[:, 1]
            g_lam = np.einsum("i,kij,j->k", u2, laps, u2)
            vals, jac = np.empty(k), np.empty((k, k))
            for c, e in enumerate(members):
                diff = phi[rows[e]] - phi[cols[e]]
                R = np.einsum("ej,ej->e", diff, diff)
                top = int(e[np.argmax(R)])
                v = phi @ (phi[rows[top]] - phi[cols[top]])  # Λ⁺ b_e
                vals[c] = lam[1] - float(R.max())
                jac[c] = g_lam + np.einsum("i,kij,j->k", v, laps, v)
            cache[key] = (vals, jac)
        return cache[key]

    scale = sizes @ np.ones(k)
    w0 = np.full(k, admissible_scale(seg, np.ones(seg.n_edges)))
    res = minimize(lambda w: float(sizes @ w) / scale, w0, jac=lambda w: sizes / scale,
                   method="SLSQP", bounds=[(1e-12 * w0[0], None)] * k,
                   constraints=[{"type": "ineq", "fun": lambda w: state(w)[0],
                                 "jac": lambda w: state(w)[1]}],
                   options={"ftol": 1e-12, "maxiter": 200})
    return _admissible(seg, np.maximum(res.x, 1e-12 * w0[0])[classes])


def sdp_rates(seg: GraphSegment, solver: str | None = None,
              symmetry: str | bool = "auto") -> np.ndarray:
    """Edge rates of least total rate ``Σ_e λ_e`` under DADAO's communication condition
    ``χ₁χ₂ ≤ 1/2``, by one semidefinite program (needs ``cvxpy``: the ``[sdp]`` extra).

    With ``χ₁ = 1/λ⁺_min(Λ)`` and ``χ₂ = ½ max_e R_e(Λ)`` (``R_e = b_eᵀΛ⁺b_e``,
    ``b_e = e_i − e_j``) the condition reads ``max_e R_e(Λ) ≤ λ⁺_min(Λ)``: some ``s`` lies
    between the two. Both sides are linear matrix inequalities **jointly** in ``(λ, s)``::

        minimize    Σ_e λ_e        over λ ≥ 0, s, S
        subject to  Λ + s(11ᵀ/n − I) ⪰ 0                     (λ⁺_min(Λ) ≥ s)
                    [[Λ + 11ᵀ/n, B], [Bᵀ, S]] ⪰ 0,  S_ee ≤ s   (R_e ≤ s for every edge)

    (``B`` the incidence matrix, ``Λ = B diag(λ) Bᵀ``; the second LMI is
    ``S ⪰ BᵀΛ⁺B`` by a Schur complement, since ``(Λ + 11ᵀ/n)⁻¹ = Λ⁺ + 11ᵀ/n`` and
    ``Bᵀ1 = 0``, and ``S = BᵀΛ⁺B`` is feasible, so the diagonal bound is exactly
    ``max_e R_e ≤ s``). ``R_e`` is convex and ``λ⁺_min`` concave in ``λ``, so the condition
    ``R_e ≤ λ⁺_min`` defines a convex set and this SDP is not a relaxation: its solution is the
    optimal rate vector of the problem "least expected communications per unit time such that
    χ₁χ₂ ≤ 1/2" (the condition of Nabli & Oyallon's Theorem 3.3; a later version of their
    paper proposes an SDP relaxation of this problem). The solver's answer is rescaled to
    χ₁χ₂ = 1/2 exactly with the exact χ₁, χ₂, and never worse than uniform rates is
    returned. One LMI of size ``n + |E|`` and one of size ``n``: meant for graphs up to a few
    hundred nodes and edges.

    The feasible set and objective are invariant under the graph's automorphisms, so averaging
    an optimum over them gives an optimum constant on every edge orbit: on an edge-transitive
    graph (complete, cycle, star) the uniform rates. ``symmetry`` uses this: the SDP over rates
    constant on the classes of :func:`edge_classes` has one variable per class, and
    ``R_e ≤ s`` is needed for one edge per class (LMIs of size ``n + 1``; an edge whose exact
    resistance exceeds its class representative's is added and the SDP solved again). When
    the classes are the edge orbits (barbell, star, cycle, complete, grid, path) this is the
    same optimum; otherwise the best class-constant rates, still never worse than uniform. The
    289-node barbell (20 881 edges, out of reach of the full SDP) has 5 classes and takes
    seconds.

    Parameters
    ----------
    seg : GraphSegment
    solver : str, optional
        cvxpy solver name; default SCS, then Clarabel.
    symmetry : {'auto', True, False}, default='auto'
        Solve over class-constant rates (True), the full SDP (False), or the full SDP up to
        ``n + |E| <= SDP_FULL_MAX_SIZE`` and the reduced one above ('auto').

    Returns
    -------
    ndarray of shape (n_edges,)
        Admissible rates (χ₁χ₂ = 1/2).
    """
    try:
        import cvxpy  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("rates='sdp' needs cvxpy: pip install 'optsolve[sdp]'") from exc
    if symmetry not in ("auto", True, False):
        raise ValueError(f"symmetry must be 'auto', True or False, got {symmetry!r}")
    n, m = seg.adjacency.shape[0], seg.n_edges
    uniform = np.ones(m) * admissible_scale(seg, np.ones(m))
    reduce = symmetry is True or (symmetry == "auto" and n + m > SDP_FULL_MAX_SIZE)
    if reduce and n > DENSE_MAX_NODES:
        raise ValueError(f"rates='sdp' supports graphs of up to {DENSE_MAX_NODES} nodes (dense "
                         f"eigen-decompositions), got {n}; use rates='uniform'")
    classes = edge_classes(seg.adjacency, seg.rows, seg.cols) if reduce else None
    if classes is not None and int(classes.max()) + 1 == m:
        classes = None  # no two edges alike: the reduced SDP is the full one
    w = _sdp_full(seg, solver) if classes is None else _sdp_reduced(seg, classes)
    best = uniform if w is None or w.sum() >= uniform.sum() else w
    logger.info("sdp_rates: total rate %.6g (uniform %.6g, %.3gx)", best.sum(), uniform.sum(),
                uniform.sum() / best.sum())
    return best
