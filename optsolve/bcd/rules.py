"""Block selection rules of greedy BCD: their names, kernel codes and scores.

Nutini, Laradji & Schmidt (JMLR 2022) compare rules by the progress they guarantee. With
``g = ∇f(w)``, ``L_j`` the coordinate Lipschitz constants, ``L_b`` a block's constant (the
largest eigenvalue of its curvature bound ``M_b``) and ``s_j`` the minimum-norm element of
``g_j + ∂pen_j(w_j)`` (:func:`~optsolve.bcd.penalties.min_norm_subgrad`; ``s = g`` without a
penalty), a block ``b`` is scored by

===========  ================  =========================================================
name         code              score of block ``b`` (Section 3; Section 4 for penalties)
===========  ================  =========================================================
``'gs'``     ``RULE_GS``       ``‖s_b‖²``                                   (block GS)
``'gsl'``    ``RULE_GSL``      ``‖s_b‖² / L_b``                             (GS-Lipschitz)
``'gsd'``    ``RULE_GSD``      ``Σ_{j∈b} s_j² / L_j = ‖s_b‖²_{D_b⁻¹}``      (GS-Diagonal)
``'gsq'``    ``RULE_GSQ``      ``½ s_bᵀ M_b⁻¹ s_b`` for smooth problems (GS-Quadratic); with
                               a penalty, the GS-q decrease of the prox-linear model
                               ``-min_d {g_bᵀd + L/2 ‖d‖² + pen(w_b + d) - pen(w_b)}``
                               (separable: a sum of coordinate terms with ``L = L_b``)
``'cyclic'`` ``RULE_CYCLIC``   blocks in order
``'random'`` ``RULE_RANDOM``   blocks uniformly at random
``'lipschitz'`` ``RULE_LIPSCHITZ``  block ``b`` with probability ``L_b / Σ_c L_c``
===========  ================  =========================================================

(``'gs-q'`` is an alias of ``'gsq'``.) For single coordinates ``L_b = L_j`` and GSD coincides
with GSL; GS-q of a smooth coordinate is ``s_j² / (2 L_j)``, GSL's order again.

Where the rule acts, per engine (``minimize_bcd``'s ``update``):

* explicit updates (``'gradient'``, ``'newton'``, ...; :mod:`._incremental`): the rule picks
  the block updated at each iteration, among fixed blocks or, with ``partition='variable'``
  (and for greedy rules with ``block_size=1``), among coordinates;
* ``'auto'`` (:mod:`._working_set`): greedy rules score every coordinate and the working set
  is the support plus the best-scoring coordinates (``'cyclic'``, ``'random'``,
  ``'lipschitz'``: every coordinate). The rule then orders the inner solver of the block
  model: greedy on its Gram matrix (:func:`._quadratic.quad_greedy_cd`), in order or by
  draws in the column CD of a sparse block (:func:`._working_set_kernels.ws_model_cd`, where
  a greedy rule sweeps in order: a greedy choice would cost a pass over the block per
  update);
* quadratic datafits (:mod:`._quadratic`): the rule orders exact coordinate updates;
* CuPy arrays (:mod:`._gpu`): the greedy rules only (:data:`DEVICE_RULES`);
* ``'message-passing'`` (:mod:`.forest`; quadratic datafits, no penalty): the tree rules
  ``'greedy-tree'``, ``'random-tree'``, ``'tree-partition'``, ``'red-black'`` (Section 5.3;
  with ``update='auto'`` a tree rule also selects this engine), and the coordinate rules as
  :data:`FOREST_BLOCKS` maps them (greedy rules grow greedy trees, ``'random'`` random
  trees, ``'cyclic'`` cycles through a forest partition; ``'lipschitz'`` is refused). Tree
  rules under any other update are refused.

A combination an engine does not run is refused by :func:`rule_code` with a ``ValueError``.

Examples
--------
>>> from optsolve.bcd.rules import RULE_GSL, coord_score, rule_code
>>> rule_code("gsl") == RULE_GSL
True
>>> round(coord_score(RULE_GSL, 0, 0.0, 2.0, 0.0, 4.0), 6)  # g² / L with no penalty
1.0
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from numba import njit

from .penalties import (
    min_norm_subgrad,
    min_norm_subgrad_xp,
    pen_scalar,
    pen_xp,
    prox_scalar,
    prox_xp,
)

__all__ = [
    "DEVICE_RULES",
    "FOREST_BLOCKS",
    "GREEDY_RULES",
    "RULES",
    "RULE_CODES",
    "RULE_CYCLIC",
    "RULE_GS",
    "RULE_GSD",
    "RULE_GSL",
    "RULE_GSQ",
    "RULE_LIPSCHITZ",
    "RULE_RANDOM",
    "SAMPLED_RULES",
    "SELECTIONS",
    "TREE_RULES",
    "TREE_SELECTIONS",
    "block_key",
    "coord_score",
    "gsq_decrease",
    "is_greedy",
    "rule_code",
    "sample_lipschitz",
    "scores_xp",
]

#: greedy rules (kernel codes)
RULE_GS, RULE_GSL, RULE_GSD, RULE_GSQ = 0, 1, 2, 3
#: cyclic and sampled rules (kernel codes)
RULE_CYCLIC, RULE_RANDOM, RULE_LIPSCHITZ = 10, 11, 12
#: every code by name (written into ``csrc/bcd_codes.cuh`` for the CUDA source)
RULE_CODES = {"RULE_GS": RULE_GS, "RULE_GSL": RULE_GSL, "RULE_GSD": RULE_GSD,
              "RULE_GSQ": RULE_GSQ, "RULE_CYCLIC": RULE_CYCLIC, "RULE_RANDOM": RULE_RANDOM,
              "RULE_LIPSCHITZ": RULE_LIPSCHITZ}
#: the one table from ``selection`` names to kernel codes
RULES = {"cyclic": RULE_CYCLIC, "random": RULE_RANDOM, "lipschitz": RULE_LIPSCHITZ,
         "gs": RULE_GS, "gsl": RULE_GSL, "gsd": RULE_GSD, "gsq": RULE_GSQ, "gs-q": RULE_GSQ}
SELECTIONS = tuple(RULES)
#: rules of forest-structured blocks (Section 5.3), run by the message-passing engine
#: (:func:`optsolve.bcd.forest.solve_forest`)
RULE_GREEDY_TREE, RULE_RANDOM_TREE, RULE_TREE_PARTITION, RULE_RED_BLACK = 20, 21, 22, 23
TREE_RULES = {"greedy-tree": RULE_GREEDY_TREE, "random-tree": RULE_RANDOM_TREE,
              "tree-partition": RULE_TREE_PARTITION, "red-black": RULE_RED_BLACK}
TREE_SELECTIONS = tuple(TREE_RULES)
#: what each rule runs under ``update='message-passing'``: the forest solver's selection and
#: its greedy score. For single coordinates of a quadratic GSD is GSL and GS-q (``g²/2L``)
#: orders as GSL, so the three grow greedy trees by the GSL score; ``'random'`` grows random
#: trees, ``'cyclic'`` cycles through a fixed partition into forests; ``'lipschitz'`` has no
#: forest counterpart and is refused
FOREST_BLOCKS = {RULE_GS: ("greedy-tree", "gs"), RULE_GSL: ("greedy-tree", "gsl"),
                 RULE_GSD: ("greedy-tree", "gsl"), RULE_GSQ: ("greedy-tree", "gsl"),
                 RULE_RANDOM: ("random-tree", "gsl"), RULE_CYCLIC: ("tree-partition", "gsl"),
                 **{code: (name, "gsl") for name, code in TREE_RULES.items()}}
GREEDY_RULES = (RULE_GS, RULE_GSL, RULE_GSD, RULE_GSQ)
SAMPLED_RULES = (RULE_RANDOM, RULE_LIPSCHITZ)
#: the rules of the device engine (fused score-and-argmax kernels)
DEVICE_RULES = {name: code for name, code in RULES.items() if code in GREEDY_RULES}


def rule_code(selection: str, supported=None, where: str = "") -> int:
    """Kernel code of the selection name, refusing a rule the engine does not run.

    ``supported``: the codes the engine runs (every code when None); ``where`` names the
    engine in the error message.
    """
    table = {**RULES, **TREE_RULES}
    if selection not in table:
        raise ValueError(f"selection must be one of {SELECTIONS + TREE_SELECTIONS}, got "
                         f"{selection!r}")
    code = table[selection]
    if supported is not None and code not in supported:
        names = sorted(name for name, c in table.items() if c in supported)
        raise ValueError(f"selection={selection!r} is not supported {where}; use one of "
                         f"{names}")
    return code


def is_greedy(code: int) -> bool:
    return code in GREEDY_RULES


# ------------------------------------------------------------------ scores (kernels)


@njit(cache=True)
def gsq_decrease(pen, alpha, g, w, wn, lip):
    """The GS-q score from the prox-linear step ``wn = prox(w - g/L)`` already taken:
    ``max(0, -(g d + L/2 d² + pen(wn) - pen(w)))`` with ``d = wn - w``."""
    d = wn - w
    dec = -(g * d + 0.5 * lip * d * d + pen_scalar(pen, alpha, wn) - pen_scalar(pen, alpha, w))
    return dec if dec > 0.0 else 0.0


@njit(cache=True)
def coord_score(rule, pen, alpha, g, w, lip):
    """Score of one coordinate with gradient ``g``, value ``w`` and constant ``lip``.

    GS ``s²``, GSL and GSD ``s² / L`` (``s``: the minimum-norm subgradient), GS-q the
    decrease of the prox-linear model ``-(g d + L/2 d² + pen(w + d) - pen(w))`` at its
    minimizer ``d = prox(w - g/L) - w``.
    """
    if rule == RULE_GSQ:
        return gsq_decrease(pen, alpha, g, w, prox_scalar(pen, alpha, w - g / lip, 1.0 / lip),
                            lip)
    s = min_norm_subgrad(pen, alpha, g, w)
    if rule == RULE_GS:
        return s * s
    return s * s / lip


@njit(cache=True)
def block_key(rule, pens, alphas, grad, w, lips, block_lip, members, start, stop, minv, moff):
    """Score of the fixed block ``members[start:stop]`` (the table of the module docstring).

    GS sums squared minimum-norm subgradients; GSL divides by the block constant
    ``block_lip``; GSD divides each coordinate by its own constant; GSQ uses the block's inverse
    bound matrix ``minv[moff:...]`` when ``moff >= 0`` (smooth problems), else the separable
    GS-q sum with ``block_lip``.
    """
    size = stop - start
    if rule == RULE_GSQ and moff >= 0:
        s = 0.0
        for a in range(size):
            qa = members[start + a]
            ga = min_norm_subgrad(pens[qa], alphas[qa], grad[qa], w[qa])
            for b in range(size):
                qb = members[start + b]
                gb = min_norm_subgrad(pens[qb], alphas[qb], grad[qb], w[qb])
                s += ga * minv[moff + a * size + b] * gb
        return 0.5 * s
    s = 0.0
    for a in range(start, stop):
        q = members[a]
        if rule == RULE_GSD:
            s += coord_score(RULE_GSL, pens[q], alphas[q], grad[q], w[q], lips[q])
        else:
            s += coord_score(rule, pens[q], alphas[q], grad[q], w[q], block_lip)
    return s


@njit(cache=True)
def all_coordinate_keys(rule, pens, alphas, grad, w, lips, keys):
    """:func:`coord_score` of every coordinate, into ``keys`` (in place)."""
    for q in range(keys.shape[0]):
        keys[q] = coord_score(rule, pens[q], alphas[q], grad[q], w[q], lips[q])


@njit(cache=True)
def sample_lipschitz(cum, u):
    """The coordinate ``j`` with ``cum[j-1] <= u·cum[-1] < cum[j]``: for ``u`` uniform on
    [0, 1) and ``cum`` the cumulative sums of the ``L_j``, ``j`` is drawn with probability
    ``L_j / Σ L`` (rule ``'lipschitz'``)."""
    t = u * cum[cum.shape[0] - 1]
    lo = 0
    hi = cum.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cum[mid] > t:
            hi = mid
        else:
            lo = mid + 1
    return lo


# ------------------------------------------------------------------ scores on arrays


def scores_xp(xp: ModuleType, rule: int, pen: int, alpha, grad, w, lips):
    """:func:`coord_score` of every coordinate for one penalty code, on numpy or CuPy arrays
    (the reference of the device kernels)."""
    if rule == RULE_GSQ:
        wn = prox_xp(xp, pen, alpha, w - grad / lips, 1.0 / lips)
        d = wn - w
        dec = -(grad * d + 0.5 * lips * d * d + pen_xp(xp, pen, alpha, wn)
                - pen_xp(xp, pen, alpha, w))
        return xp.maximum(dec, 0.0)
    s = min_norm_subgrad_xp(xp, pen, alpha, grad, w)
    return s * s if rule == RULE_GS else s * s / lips


def lipschitz_probabilities(lips: np.ndarray) -> np.ndarray:
    """``L_b / Σ L`` (uniform when every constant is zero)."""
    total = float(np.sum(lips))
    if total <= 0.0:
        return np.full(lips.shape[0], 1.0 / lips.shape[0])
    return lips / total
