"""DADAO: Decoupled Accelerated Decentralized Asynchronous Optimization (Nabli & Oyallon,
ICML 2023), simulated exactly.

Every node ``i`` holds six vectors ``(x, x̃, y, ỹ, z, z̃)``. Local gradients fire at the points of
a rate-1 Poisson process per node, communications on edge ``(i, j)`` at the points of a rate
``λ_ij`` process, all independent. Between events the state of every node follows the linear ODE
(Eq. (4), ν = μ/2)::

    dx = η (x̃ − x),          dx̃ = η̃ (x − x̃),
    dy = α (ỹ − y),          dỹ = −θ (ν x̃ + y + z),
    dz = α (z̃ − z),          dz̃ = α̃ (z − z̃),

and events apply the jumps of Eqs. (5)–(6) (see :func:`._kernels.dadao_events`). The ODE is
node-local and linear, so it is integrated exactly and lazily: a node is advanced by
``exp(A τ)`` (spectral form precomputed once) only when it takes part in an event.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.linalg import expm

from ._kernels import dadao_events, positions_at
from .events import edge_schedule
from .monitor import EngineOutput, Monitor
from .rates import dadao_rates
from .topology import GraphInfo

__all__ = ["DadaoConstants", "dadao_constants", "default_max_events", "ode_matrix", "ode_modes",
           "run_dadao"]

#: events simulated per kernel call at most (bounds the time between two Python returns)
CHUNK_EVENTS = 1 << 22


class DadaoConstants(NamedTuple):
    """The constants of Theorem 3.3 (ODE rates, jump sizes)."""

    NU: float
    ETA: float
    ETA_T: float
    ALPHA: float
    ALPHA_T: float
    THETA: float
    GAMMA: float
    GAMMA_T: float
    DELTA: float
    DELTA_T: float
    BETA: float
    BETA_T: float


def dadao_constants(L: float, mu: float, chi1: float) -> DadaoConstants:
    """DADAO's constants from ``L``, ``μ`` and ``χ₁`` of the gossip Laplacian (Theorem 3.3).

    Examples
    --------
    >>> c = dadao_constants(L=2.0, mu=1.0, chi1=0.5)
    >>> c.NU, c.BETA, round(c.ETA, 6)
    (0.5, 0.5, 0.0625)
    """
    NU = mu / 2.0  # ν = μ/2 (Sec. 3.1)
    s = math.sqrt(NU / L)  # √(ν/L)
    return DadaoConstants(
        NU=NU,
        ETA=s / 8.0,  # η = ⅛√(ν/L)          (Thm 3.3)
        ETA_T=s / 8.0,  # η̃ = η
        ALPHA=s / 4.0,  # α = ¼√(ν/L)
        ALPHA_T=s / 8.0,  # α̃ = ⅛√(ν/L)
        THETA=1.0 / (2.0 * s),  # θ = ½√(L/ν)
        GAMMA=1.0 / (4.0 * L),  # γ = 1/(4L)
        GAMMA_T=1.0 / (4.0 * math.sqrt(L * NU)),  # γ̃ = 1/(4√(Lν))
        DELTA=s / 4.0,  # δ = ¼√(ν/L)
        DELTA_T=1.0,  # δ̃ = 1
        BETA=0.5,  # β = ½
        BETA_T=2.0 * chi1 / s,  # β̃ = 2χ₁√(L/ν)
    )


def ode_matrix(c: DadaoConstants) -> np.ndarray:
    """The 6×6 matrix ``A`` of Eq. (4) acting on ``(x, x̃, y, ỹ, z, z̃)`` (each coordinate)."""
    A = np.zeros((6, 6))
    A[0, 0], A[0, 1] = -c.ETA, c.ETA
    A[1, 0], A[1, 1] = c.ETA_T, -c.ETA_T
    A[2, 2], A[2, 3] = -c.ALPHA, c.ALPHA
    A[3, 1], A[3, 2], A[3, 4] = -c.THETA * c.NU, -c.THETA, -c.THETA
    A[4, 4], A[4, 5] = -c.ALPHA, c.ALPHA
    A[5, 4], A[5, 5] = c.ALPHA_T, -c.ALPHA_T
    return A


class OdeModes(NamedTuple):
    """``exp(Aτ) = Σ_k e^{a_k τ}(cos(b_k τ) R_k − sin(b_k τ) I_k)``."""

    a: np.ndarray
    b: np.ndarray
    R: np.ndarray
    I: np.ndarray


def ode_modes(A, *, check_times=(1e-3, 0.1, 1.0, 10.0, 100.0), rtol=1e-9) -> OdeModes:
    """Spectral form of ``exp(Aτ)``: eigenvalues grouped (zeros together, conjugate pairs
    merged) with real coefficient matrices; verified against ``scipy.linalg.expm``.

    Raises ``RuntimeError`` when ``A`` is too close to defective for the form to be accurate.
    """
    w, V = np.linalg.eig(A)
    wl, U = np.linalg.eig(A.T)  # left eigenvectors: uᵀA = λuᵀ
    scale = max(np.abs(w).max(), 1e-300)
    is_zero = np.abs(w) <= 1e-12 * scale
    a, b, R, Im = [], [], [], []
    rest = np.eye(6)
    # the eigenvalue 0 is double (its eigenvectors from eig can be nearly parallel), the others
    # simple: their spectral projectors v uᵀ / (uᵀv) are formed one by one, and the projector
    # of 0 is what remains of the identity
    for k in np.argsort(-w.real, kind="stable"):
        if is_zero[k] or (w[k].imag < 0 and abs(w[k].imag) > 1e-12 * scale):
            continue
        j = int(np.argmin(np.abs(wl - w[k])))
        P = np.outer(V[:, k], U[:, j]) / (U[:, j] @ V[:, k])
        if abs(w[k].imag) <= 1e-12 * scale:
            a.append(w[k].real)
            b.append(0.0)
            R.append(P.real)
            Im.append(np.zeros((6, 6)))
            rest = rest - P.real
        else:  # the conjugate pair contributes 2 Re(e^{λτ} P)
            a.append(w[k].real)
            b.append(w[k].imag)
            R.append(2.0 * P.real)
            Im.append(2.0 * P.imag)
            rest = rest - 2.0 * P.real
    if is_zero.any():
        a.insert(0, 0.0)
        b.insert(0, 0.0)
        R.insert(0, rest)
        Im.insert(0, np.zeros((6, 6)))
    modes = OdeModes(np.array(a), np.array(b), np.array(R), np.array(Im))
    for tau in check_times:
        ref = expm(A * tau)
        err = np.abs(transition_reference(modes, tau) - ref).max()
        if err > rtol * max(1.0, np.abs(ref).max()):
            raise RuntimeError(f"spectral form of exp(A tau) inaccurate at tau={tau} ({err:.2e})")
    return modes


def transition_reference(modes: OdeModes, tau: float) -> np.ndarray:
    """``exp(Aτ)`` from the spectral form in plain numpy (reference of the kernel)."""
    E = np.zeros((6, 6))
    for a, b, R, Im in zip(*modes, strict=True):
        E += math.exp(a * tau) * (math.cos(b * tau) * R - math.sin(b * tau) * Im)
    return E


def _theory_time(problem, tol: float) -> float:
    """Simulated time after which Theorem 3.3's rate, taken 10 times over, has certainly passed:
    the Lyapunov potential contracts like exp(−t √(ν/L)/16) (constants of the proof)."""
    s = math.sqrt(problem.mu / (2.0 * problem.L))
    kappa = problem.L / problem.mu
    return 10.0 * 16.0 / s * (math.log(1.0 / max(tol, 1e-16)) + 0.5 * math.log(kappa) + 5.0)


def default_max_events(problem, info: GraphInfo, tol: float, options: dict) -> int:
    """Events cap when the user gives no limit: the theoretical horizon times the event rate
    (with uniform rates, or the rates asked for when they are an explicit array)."""
    rates, _, _ = _rates(info, options)
    rate = problem.n_nodes + max(float(np.sum(r)) for r in rates)
    return int(min(_theory_time(problem, tol) * rate, 2**62))


def _rates(info: GraphInfo, options: dict):
    """``dadao_rates`` for these options, computed once per graph (χ₁, χ₂ cost eigen-solves)."""
    spec = options["rates"]
    if isinstance(spec, str) and spec == "sdp" and "dadao_rates_sdp" not in info.cache:
        info.cache["dadao_rates_sdp"] = dadao_rates(info, "sdp", 1.0)
    key = "dadao_rates_sdp" if isinstance(spec, str) and spec == "sdp" else None
    if isinstance(spec, str) and spec == "uniform":
        key = "dadao_rates_uniform"
        if key not in info.cache:
            info.cache[key] = dadao_rates(info, "uniform", 1.0)
    scale = float(options["rate_scale"])
    if key is None:
        return dadao_rates(info, spec, scale)
    rates, c1, c2 = info.cache[key]
    return [r * scale for r in rates], c1 / scale, c2 / scale


def run_dadao(problem, info: GraphInfo, *, rng: np.random.Generator, monitor: Monitor,
              options: dict) -> EngineOutput:
    """DADAO's engine (contract in :mod:`optsolve.decentralized.monitor`).

    Options: ``rates`` ('uniform' | 'sdp' | per-edge array), ``batch_size`` (None: full local
    gradients), ``rate_scale`` (multiplies the admissible communication rates).
    """
    n, d = problem.n_nodes, problem.n_features
    edge_rates, chi1, chi2 = _rates(info, options)
    c = dadao_constants(problem.L, problem.mu, chi1)
    modes = ode_modes(ode_matrix(c))
    sched = edge_schedule(info, edge_rates)
    p = problem.packed

    S = np.zeros((n, 6, d))
    S[:, 0] = monitor.x0  # x = x̃ = x⁰, the other variables start at 0
    S[:, 1] = monitor.x0
    t_last = np.zeros(n)
    clock = np.zeros(1)
    grad_count = np.zeros(n, dtype=np.int64)
    comm_count = np.zeros(sched.edge_u.size, dtype=np.int64)
    batch = options["batch_size"] or 0
    rows_buf = np.zeros(max(batch, 1), dtype=np.int64)
    g = np.zeros(d)
    X = np.empty((n, d))
    nit = n_grad = n_comm = 0
    while True:
        t_stop, nit_stop = monitor.next_checkpoint(clock[0], nit)
        while True:
            budget = nit_stop - nit
            chunk = int(min(budget, CHUNK_EVENTS)) if math.isfinite(budget) else CHUNK_EVENTS
            ev, ng, nc = dadao_events(
                S, t_last, clock, int(rng.integers(2**31 - 1)),
                sched.seg_times, sched.period, sched.seg_ptr, sched.edge_uv, sched.alias_pack,
                sched.comm_rate,
                modes.a, modes.b, modes.R, modes.I,
                c.NU, c.GAMMA, c.GAMMA_T, c.DELTA + c.DELTA_T, c.BETA, c.BETA_T,
                p.loss_code, p.is_sparse, p.X, p.indptr, p.indices, p.data, p.y, p.offsets,
                p.inv_n_total, p.reg, batch, rows_buf,
                t_stop, chunk, grad_count, comm_count, g, p.center,
            )
            nit += ev
            n_grad += ng
            n_comm += nc
            if clock[0] >= t_stop or nit >= nit_stop:
                break
        positions_at(S, t_last, clock[0], modes.a, modes.b, modes.R, modes.I, X)
        if monitor.check(X, time=clock[0], nit=nit, n_gradients=n_grad,
                         n_communications=n_comm):
            break
    extra = dict(
        chi1=chi1, chi2=chi2, rates=edge_rates[0] if len(edge_rates) == 1 else edge_rates,
        grad_counts=grad_count,
        comm_counts=comm_count if len(edge_rates) == 1 else np.split(
            comm_count, sched.seg_ptr[1:-1]),
    )
    return EngineOutput(X.copy(), float(clock[0]), nit, n_grad, n_comm, extra)
