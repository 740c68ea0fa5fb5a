"""The quadratic engine: coordinate descent with exact one-dimensional updates on a dense
``½xᵀAx - bᵀx + Σ_j pen_j(x_j)`` (the ``Quadratic`` datafit)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _kernels as K
from ._result import EngineResult
from .penalties import min_norm_subgradients, pen_sum
from .rules import RULE_CYCLIC, RULE_LIPSCHITZ, RULE_RANDOM

#: the rules this engine runs (all of them: the inner kernel orders its updates by the rule)
RULES = (RULE_CYCLIC, RULE_RANDOM, RULE_LIPSCHITZ, *range(4))
#: the inner kernel stops a chunk of updates at this fraction of ``tol`` (absolute, on the
#: largest prox-gradient step): the outer test then sees an accurate measure
INNER_TOL_FACTOR = 0.1


def solve_quadratic(A, b, pens, alphas, w0, *, rule, tol, max_iter, seed, history) -> EngineResult:
    """Minimize by the rule ``rule`` in chunks of ``n`` updates, testing the relative
    minimum-norm subgradient ``max_j |s_j| / max|b|`` against ``tol`` between chunks."""
    H = A.toarray() if sp.issparse(A) else np.asarray(A)
    w = w0.copy()
    grad = H @ w - b
    scale = max(float(np.max(np.abs(b))), 1e-300)
    total = 0
    status = 1
    chunk = max(H.shape[0], 1)
    while True:
        sg = min_norm_subgradients(pens, alphas, grad, w)
        measure = float(np.max(np.abs(sg), initial=0.0)) / scale
        fun = 0.5 * float(w @ (grad - b)) + pen_sum(pens, alphas, w)
        if history is not None:
            history.record(total, fun, measure)
        if measure <= tol:
            status = 0
            break
        if total >= max_iter:
            break
        n_up = K.quad_greedy_cd(H, b, w, grad, pens, alphas, rule, INNER_TOL_FACTOR * tol * scale,
                                min(chunk, max_iter - total), seed + total)
        total += max(n_up, 1)
    return EngineResult(w=w, objective=fun, measure=measure, nit=total, status=status)
