"""Separable penalties ``Σ_j pen(w_j)`` of greedy BCD: the classes, their codes and semantics.

Every engine reads a penalty through the few operations defined here, nothing else:

======================  ===============================================================
``prox_scalar``         ``prox_{step·pen}(u)``
``pen_scalar``          ``pen(w)`` (``inf`` outside a constraint)
``min_norm_subgrad``    the smallest-magnitude element of ``g + ∂pen(w)`` (GS-s, KKT)
``KINKED``/``NONNEG``   codes with a kink at 0 / with the constraint ``w ≥ 0``
``ridge``               the penalty's own curvature ``pen''(w)`` where it is smooth
======================  ===============================================================

The scalar kernels (``numba``) and their elementwise counterparts on numpy or CuPy arrays
(``*_xp``, one penalty code for the whole vector; and the per-coordinate vectorised helpers
:func:`min_norm_subgradients`, :func:`manifold_gradient`, :func:`signs_kept`,
:func:`penalty_slope`) are the only places that branch on a penalty code. The datafit's
curvature is never read here: it is the datafit's ``curvature_bound``.

Adding a penalty
----------------
A new separable penalty is one class and its kernel branches; nothing in the engines changes:

1. a frozen dataclass below with ``alpha`` and ``code`` (a new ``PEN_*`` constant), listed in
   :data:`PENALTIES` (what ``minimize_bcd`` accepts);
2. its branch in :func:`prox_scalar`, :func:`pen_scalar`, :func:`min_norm_subgrad` and
   :func:`separable_form` (a penalty not of the form ``kink·|w| + ½curv·w² (+ w ≥ 0)`` also
   needs its branch in the greedy scan of ``_quadratic.quad_greedy_cd``), and in their array
   forms :func:`prox_xp`, :func:`pen_xp`, :func:`min_norm_subgrad_xp` and
   :func:`min_norm_subgradients`; the code in :data:`KINKED` if it has a kink at 0, in
   :data:`NONNEG` if it constrains ``w ≥ 0``, in :data:`SMOOTH` if it is differentiable, and
   its ``pen''`` in :func:`ridge` if that is not 0;
3. to run on a GPU: its branch in ``prox_scalar``, ``pen_scalar`` and ``min_norm_subgrad`` of
   ``csrc/bcd_greedy.cu``, and its code in :data:`PENALTY_CODES` (regenerate
   ``csrc/bcd_codes.cuh``, which the CUDA source includes, with
   ``optsolve.bcd._gpu_ops.codes_header``).

The tests ``tests/bcd/test_penalties.py`` check every listed code's kernels against each other
and against the class's definition, so a missing branch fails there.

Examples
--------
>>> from optsolve.bcd.penalties import L1, prox_scalar
>>> pen = L1(0.5)
>>> prox_scalar(pen.code, pen.alpha, 2.0, 1.0), prox_scalar(pen.code, pen.alpha, 0.3, 1.0)
(1.5, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
from numba import njit

from .._validation import check_scalar_in_range

__all__ = [
    "KINKED",
    "L1",
    "L2",
    "NONNEG",
    "PENALTIES",
    "PENALTY_CODES",
    "PEN_L1",
    "PEN_L1_POS",
    "PEN_L2",
    "PEN_NONE",
    "PEN_POS",
    "SMOOTH",
    "NonNegative",
    "manifold_gradient",
    "min_norm_subgrad",
    "min_norm_subgrad_xp",
    "min_norm_subgradients",
    "pen_scalar",
    "pen_sum",
    "pen_xp",
    "penalty_slope",
    "prox_block",
    "prox_scalar",
    "prox_violations",
    "prox_xp",
    "ridge",
    "separable_form",
    "signs_kept",
]

#: penalty codes of the kernels: none, ``α|w|``, ``½α w²``, ``w ≥ 0``, ``α|w|`` with ``w ≥ 0``
PEN_NONE, PEN_L1, PEN_L2, PEN_POS, PEN_L1_POS = 0, 1, 2, 3, 4
#: every code by name (written into ``csrc/bcd_codes.cuh`` for the CUDA source)
PENALTY_CODES = {"PEN_NONE": PEN_NONE, "PEN_L1": PEN_L1, "PEN_L2": PEN_L2, "PEN_POS": PEN_POS,
                 "PEN_L1_POS": PEN_L1_POS}
#: codes with a kink at 0 (``α|w|``): zero is a manifold the iterates can sit on
KINKED = (PEN_L1, PEN_L1_POS)
#: codes constraining ``w ≥ 0``
NONNEG = (PEN_POS, PEN_L1_POS)
#: differentiable codes (block Newton systems are solved directly, no inner CD)
SMOOTH = (PEN_NONE, PEN_L2)


def _membership(codes) -> np.ndarray:
    """Boolean table indexed by code: ``table[pens]`` is ``np.isin(pens, codes)`` without
    its sort (these helpers run on every Newton step of the working-set engine)."""
    table = np.zeros(max(PENALTY_CODES.values()) + 1, dtype=bool)
    table[list(codes)] = True
    return table


_IS_KINKED, _IS_NONNEG, _IS_SMOOTH = _membership(KINKED), _membership(NONNEG), _membership(SMOOTH)


@dataclass(frozen=True)
class L1:
    """``α ‖w‖₁``, optionally restricted to ``w ≥ 0`` (the non-negative L1 problem).

    Examples
    --------
    >>> L1(0.5).code
    1
    """

    alpha: float = 1.0
    positive: bool = False

    @property
    def code(self) -> int:
        return PEN_L1_POS if self.positive else PEN_L1

    def __post_init__(self):
        check_scalar_in_range(self.alpha, "alpha", low=0.0)


@dataclass(frozen=True)
class L2:
    """``½ α ‖w‖²`` (scikit-learn's ElasticNet with ``l1_ratio=0``).

    Examples
    --------
    >>> L2(1.0).code
    2
    """

    alpha: float = 1.0
    code = PEN_L2

    def __post_init__(self):
        check_scalar_in_range(self.alpha, "alpha", low=0.0)


@dataclass(frozen=True)
class NonNegative:
    """The constraint ``w ≥ 0`` (indicator penalty).

    Examples
    --------
    >>> NonNegative().code
    3
    """

    alpha = 0.0
    code = PEN_POS


#: the penalty classes ``minimize_bcd`` accepts
PENALTIES = (L1, L2, NonNegative)


# ------------------------------------------------------------------ scalar kernels


@njit(cache=True)
def prox_scalar(pen, alpha, u, step):
    """``prox_{step·pen}(u) = argmin_v ½(v - u)² + step·pen(v)``."""
    if pen == PEN_L1:
        t = alpha * step
        if u > t:
            return u - t
        if u < -t:
            return u + t
        return 0.0
    if pen == PEN_L2:
        return u / (1.0 + alpha * step)
    if pen == PEN_POS:
        return u if u > 0.0 else 0.0
    if pen == PEN_L1_POS:
        v = u - alpha * step
        return v if v > 0.0 else 0.0
    return u


@njit(cache=True)
def pen_scalar(pen, alpha, w):
    """Value of the penalty at the scalar ``w`` (``inf`` outside a constraint)."""
    if pen == PEN_L1:
        return alpha * abs(w)
    if pen == PEN_L2:
        return 0.5 * alpha * w * w
    if pen == PEN_POS:
        return 0.0 if w >= 0.0 else np.inf
    if pen == PEN_L1_POS:
        return alpha * w if w >= 0.0 else np.inf
    return 0.0


@njit(cache=True)
def min_norm_subgrad(pen, alpha, g, w):
    """Smallest-magnitude element of ``g + ∂pen(w)`` (the GS-s / projected-gradient quantity)."""
    if pen == PEN_L1:
        if w != 0.0:
            return g + alpha * (1.0 if w > 0 else -1.0)
        if g > alpha:
            return g - alpha
        if g < -alpha:
            return g + alpha
        return 0.0
    if pen == PEN_L2:
        return g + alpha * w
    if pen == PEN_POS or pen == PEN_L1_POS:
        gg = g + (alpha if pen == PEN_L1_POS else 0.0)
        if w > 0.0:
            return gg
        return gg if gg < 0.0 else 0.0
    return g


@njit(cache=True)
def separable_form(pen, alpha):
    """``(kink, curv, nonneg)`` with ``pen(w) = kink·|w| + ½ curv·w²`` (and ``w ≥ 0`` when
    ``nonneg``): the branch-free form the greedy scan of
    :func:`optsolve.bcd._quadratic.quad_greedy_cd` evaluates every penalty in."""
    kink = alpha if (pen == PEN_L1 or pen == PEN_L1_POS) else 0.0
    curv = alpha if pen == PEN_L2 else 0.0
    return kink, curv, pen == PEN_POS or pen == PEN_L1_POS


@njit(cache=True)
def pen_sum(pens, alphas, v):
    """``Σ_a pen_a(v_a)`` for a block of coordinates."""
    s = 0.0
    for a in range(v.shape[0]):
        s += pen_scalar(pens[a], alphas[a], v[a])
    return s


@njit(cache=True)
def prox_block(pens, alphas, w, g, lip, out):
    """``out_a = prox_{pen_a / lip}(w_a - g_a / lip)``: a block prox-gradient step (in place)."""
    for a in range(w.shape[0]):
        out[a] = prox_scalar(pens[a], alphas[a], w[a] - g[a] / lip, 1.0 / lip)


@njit(cache=True)
def prox_violations(pens, alphas, grad, w, lips, out):
    """``out_q = L_q |prox(w_q - g_q / L_q) - w_q|``: the prox-gradient step length (in place).

    Zero exactly at a coordinate-wise optimum; unlike the GS-q score it involves no
    subtraction of nearly equal model values, so it stays accurate near the solution.
    """
    for q in range(out.shape[0]):
        lq = lips[q]
        out[q] = lq * abs(prox_scalar(pens[q], alphas[q], w[q] - grad[q] / lq, 1.0 / lq) - w[q])


# ------------------------------------------------------------------ elementwise on arrays
# (numpy or CuPy ``xp``, one code for the whole vector: the device engine's references)


def prox_xp(xp: ModuleType, pen: int, alpha, u, step):
    """Elementwise :func:`prox_scalar` of one penalty code."""
    if pen == PEN_L1:
        t = alpha * step
        return xp.where(u > t, u - t, xp.where(u < -t, u + t, 0.0)).astype(u.dtype, copy=False)
    if pen == PEN_L2:
        return u / (1.0 + alpha * step)
    if pen == PEN_POS:
        return xp.maximum(u, 0.0)
    if pen == PEN_L1_POS:
        return xp.maximum(u - alpha * step, 0.0)
    return u


def pen_xp(xp: ModuleType, pen: int, alpha, w):
    """Elementwise :func:`pen_scalar` of one penalty code, at feasible points."""
    if pen == PEN_L1:
        return alpha * xp.abs(w)
    if pen == PEN_L2:
        return 0.5 * alpha * w * w
    if pen == PEN_L1_POS:
        return alpha * w
    return xp.zeros_like(w)


def min_norm_subgrad_xp(xp: ModuleType, pen: int, alpha, g, w):
    """Elementwise :func:`min_norm_subgrad` of one penalty code."""
    if pen == PEN_L1:
        at_zero = xp.where(g > alpha, g - alpha, xp.where(g < -alpha, g + alpha, 0.0))
        return xp.where(w != 0, g + alpha * xp.sign(w), at_zero).astype(g.dtype, copy=False)
    if pen == PEN_L2:
        return g + alpha * w
    if pen in NONNEG:
        gg = g + alpha if pen == PEN_L1_POS else g
        return xp.where(w > 0, gg, xp.minimum(gg, 0.0)).astype(g.dtype, copy=False)
    return g


# ------------------------------------------------------------------ per-coordinate codes
# (numpy arrays ``pens``/``alphas`` of one code and strength per coordinate)


def min_norm_subgradients(pens, alphas, grad, w) -> np.ndarray:
    """Vectorised :func:`min_norm_subgrad` over coordinates with their own codes."""
    s = grad.astype(np.float64, copy=True)
    l1 = pens == PEN_L1
    nz = l1 & (w != 0)
    s[nz] += alphas[nz] * np.sign(w[nz])
    z = l1 & (w == 0)
    s[z] = np.sign(grad[z]) * np.maximum(np.abs(grad[z]) - alphas[z], 0.0)
    l2 = pens == PEN_L2
    s[l2] += alphas[l2] * w[l2]
    pos = _IS_NONNEG[pens]
    s[pos] += np.where(pens[pos] == PEN_L1_POS, alphas[pos], 0.0)
    at_zero = pos & (w <= 0)
    s[at_zero] = np.minimum(s[at_zero], 0.0)
    return s


def ridge(pens, alphas) -> np.ndarray:
    """``pen''`` of each coordinate where the penalty is smooth (``α`` for L2, else 0)."""
    return np.where(pens == PEN_L2, alphas, 0.0)


def is_smooth(pens) -> bool:
    """Whether every coordinate's penalty is differentiable."""
    return bool(np.all(_IS_SMOOTH[pens]))


def manifold_gradient(grad, w, pens, alphas):
    """Gradient of the smooth restriction of the objective to the current sign pattern, and
    the penalty's diagonal curvature there (:func:`ridge`)."""
    kinked = _IS_KINKED[pens]
    mg = grad + np.where(kinked, alphas * np.sign(w), 0.0)
    curv = ridge(pens, alphas)
    return mg + curv * w, curv


def signs_kept(pens, old, new) -> bool:
    """Whether ``new`` stays on the manifold of ``old``: same signs at kinks, constraints held."""
    kinked = _IS_KINKED[pens]
    pos = _IS_NONNEG[pens]
    return bool(np.all(np.sign(new[kinked]) == np.sign(old[kinked])) and np.all(new[pos] > 0))


def penalty_slope(pens, alphas, v, d) -> float:
    """Right derivative of ``Σ pen_j(v_j + t d_j)`` at t = 0 (feasible ``v`` and direction)."""
    kinked = _IS_KINKED[pens]
    sgn = np.where(v != 0, np.sign(v), np.sign(d))
    slope = float(np.sum(alphas[kinked] * sgn[kinked] * d[kinked]))
    return slope + float(np.sum(ridge(pens, alphas) * v * d))
