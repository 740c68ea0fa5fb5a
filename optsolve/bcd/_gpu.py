"""Greedy block coordinate descent with every array on the device (CuPy input).

The same loop runs on numpy arrays (the CPU tests drive it that way); only the operations of
:mod:`._gpu_ops` differ. One iteration: score all coordinates and pick the best one (fused CUDA
argmax), the best fixed block (segment sums of the scores) or the best ``k`` coordinates (a
top-k: the variable block); take a proximal-gradient step on the block; move the predictions
``z = Xw`` and refresh the loss derivatives and the gradient on the rows the block touches
(sparse) or with two BLAS products (dense). Nothing is read back to the host inside the loop:
the optimality test runs every ``check_every`` block updates and brings back one small vector.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType
from typing import Any

import numpy as np

from .._backend import to_float, to_host
from .._optimize import STATUS_CALLBACK_STOP, ProgressReporter, call_callback
from . import _gpu_ops as ops
from ._kernels import LOSS_LS
from ._result import EngineResult
from .datafits import curvature_bound
from .penalties import KINKED, PEN_L1_POS, min_norm_subgrad_xp, pen_xp
from .rules import RULE_GSD

__all__ = ["check_device_data", "solve_device"]

#: intercept steps per optimality check (safeguarded 1-D Newton for the logistic loss)
INTERCEPT_STEPS = 3

def _sparse_module(xp: ModuleType) -> ModuleType:
    if xp is np:
        return importlib.import_module("scipy.sparse")
    return importlib.import_module("cupyx.scipy.sparse")


def check_device_data(xp: ModuleType, X: Any, y: Any, name_X: str = "X", name_y: str = "y"):
    """Validate device (or host, for the tests) data without moving it: returns ``(X, y)``.

    ``X`` keeps float32 or becomes float64; ``y`` takes ``X``'s dtype. Raises ``ValueError``
    naming the argument on wrong shapes or non-finite values.
    """
    spm = _sparse_module(xp)
    if spm.issparse(X):
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        values = X.data
    else:
        X = xp.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError(f"{name_X} must be 2-D, got an array of shape {X.shape}")
        values = X
    if not X.shape[0] or not X.shape[1]:
        raise ValueError(f"{name_X} must have at least one row and one column, got {X.shape}")
    y = xp.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name_y} must be 1-D, got an array of shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{name_X} has {X.shape[0]} rows but {name_y} has {y.shape[0]} entries")
    y = xp.ascontiguousarray(y.astype(X.dtype, copy=False))
    if values.size and not to_float(xp.isfinite(values).all()):
        raise ValueError(f"{name_X} contains NaN or infinity")
    if not to_float(xp.isfinite(y).all()):
        raise ValueError(f"{name_y} contains NaN or infinity")
    return X, y


class _Data:
    """X on the device in the layouts the kernels need, with its products."""

    def __init__(self, xp: ModuleType, X: Any):
        spm = _sparse_module(xp)
        self.xp = xp
        self.n, self.p = X.shape
        self.sparse = spm.issparse(X)
        if self.sparse:
            # the kernels need no sorted indices, so the user's matrix is never touched
            by_rows = X.tocsr()
            by_cols = X.T.tocsr()  # the CSC arrays of X, as a CSR matrix of Xᵀ
            self.by_rows, self.by_cols = by_rows, by_cols
            self.csr = (by_rows.indptr.astype(np.int64), by_rows.indices.astype(np.int32),
                        by_rows.data)
            self.csc = (by_cols.indptr.astype(np.int64), by_cols.indices.astype(np.int32),
                        by_cols.data)
            self.col_sq = xp.bincount(self.csr[1], weights=self.csr[2] * self.csr[2],
                                      minlength=self.p).astype(X.dtype)
        else:
            self.X = X
            self.col_sq = xp.einsum("ij,ij->j", X, X)

    def matvec(self, w):
        return self.by_rows @ w if self.sparse else self.X @ w

    def rmatvec(self, v):
        return self.by_cols @ v if self.sparse else self.X.T @ v


def _loss_mean(xp, loss: int, z, y):
    if loss == LOSS_LS:
        r = z - y
        return 0.5 * xp.mean(r * r)
    return xp.mean(xp.logaddexp(0.0, -y * z))


def _conjugate_sum(xp, loss: int, rho, y):
    """``Σ loss_i*(ρ_i)`` at dual points ``ρ = s·loss'(z)``, ``s ∈ [0, 1]``."""
    if loss == LOSS_LS:
        return 0.5 * rho @ rho + rho @ y
    u = xp.clip(-y * rho, 0.0, 1.0)  # the logistic conjugate is the binary negative entropy
    return xp.sum(_xlogx(xp, u) + _xlogx(xp, 1.0 - u))


def _xlogx(xp, t):
    safe = xp.where(t > 0, t, 1.0)
    return xp.where(t > 0, t * xp.log(safe), 0.0)


def solve_device(
    X: Any, y: Any, loss: int, pen: int, alpha: float, w0: Any, *, rule: int, block_size: int,
    variable: bool, tol: float, max_iter: int, check_every: int | None = None,
    fit_intercept: bool = False, callback=None, history=None, verbose: bool | int = False,
    xp: ModuleType, curvature: float | None = None,
) -> EngineResult:
    """Run greedy BCD on the device (see the module docstring); ``max_iter`` counts blocks.

    ``loss`` least squares or logistic (``y`` in {-1, +1}), ``curvature`` its datafit's
    ``curvature_bound`` (looked up from the loss code when None); ``pen`` one penalty code of
    :mod:`.penalties`; ``rule`` a greedy code of :mod:`.rules`. ``history`` and ``callback``
    are served at each optimality check (every ``check_every`` block updates).
    """
    data = _Data(xp, X)
    n, p = data.n, data.p
    dtype = X.dtype
    inv_n = 1.0 / n
    l1 = pen in KINKED
    if curvature is None:
        curvature = curvature_bound(loss)
    lips = xp.maximum(data.col_sq * (inv_n * curvature), 1e-12).astype(dtype, copy=False)
    bs = min(block_size, p)
    single = bs == 1
    fixed_blocks = not variable and not single
    if fixed_blocks:
        n_blocks = -(-p // bs)
        pad = n_blocks * bs - p
        # the trace of the block's curvature bounds its largest eigenvalue
        block_lip = xp.concatenate([lips, xp.zeros(pad, dtype=dtype)]).reshape(n_blocks, bs).sum(1)
        step_lips = xp.repeat(block_lip, bs)[:p]
        # GSD weighs each coordinate by its own constant, the other rules by the block's
        score_lips = lips if rule == RULE_GSD else step_lips
        offsets = xp.arange(bs, dtype=np.int64)
    else:
        n_blocks = -(-p // bs)
        pad = 0
        step_lips = lips
    if check_every is None:
        check_every = max(1, min(n_blocks, 1000))
    ws = ops.ArgmaxWorkspace(xp, dtype, p)
    delta = xp.zeros(bs, dtype=dtype)

    w = xp.array(w0, dtype=dtype, copy=True)
    b = xp.zeros((), dtype=dtype)
    yv = y
    z = data.matvec(w) + b
    deriv = ops.loss_derivative_ref(xp, loss, z, yv)
    grad = data.rmatvec(deriv) * inv_n
    dz = xp.zeros(n, dtype=dtype)
    row_flag = xp.zeros(n, dtype=np.int32)

    zero = xp.zeros(n, dtype=dtype)
    obj0_d = _loss_mean(xp, loss, zero, yv)
    g0_d = xp.max(xp.abs(data.rmatvec(ops.loss_derivative_ref(xp, loss, zero, yv)))) * inv_n
    obj0, grad0 = (max(float(v), 1e-300) for v in to_host(xp.stack([obj0_d, g0_d])))

    def intercept_steps():
        nonlocal b, z
        for _ in range(INTERCEPT_STEPS):
            d = ops.loss_derivative_ref(xp, loss, z, yv)
            if loss == LOSS_LS:
                step = xp.mean(d)
            else:
                s = 1.0 / (1.0 + xp.exp(-yv * z))
                step = xp.clip(xp.mean(d) / xp.maximum(xp.mean(s * (1.0 - s)), 1e-3), -1.0, 1.0)
            b = b - step
            z = z - step
            if loss == LOSS_LS:
                break

    def measure():
        """Full refresh of z, deriv, grad (clears the drift of the incremental updates), then
        objective and optimality: one device-to-host copy."""
        nonlocal z, deriv, grad
        if fit_intercept:
            intercept_steps()
        z = data.matvec(w) + b
        deriv = ops.loss_derivative_ref(xp, loss, z, yv)
        grad = data.rmatvec(deriv) * inv_n
        primal = _loss_mean(xp, loss, z, yv) + xp.sum(pen_xp(xp, pen, alpha, w))
        if l1:
            dual_norm = xp.max(-grad) if pen == PEN_L1_POS else xp.max(xp.abs(grad))
            scale = xp.minimum(1.0, alpha / xp.maximum(dual_norm, 1e-300))
            dual = -_conjugate_sum(xp, loss, scale * deriv, yv) * inv_n
            gap = xp.maximum(primal - dual, 0.0)
            rel = gap / obj0
        else:
            gap = xp.zeros((), dtype=dtype)
            sg = min_norm_subgrad_xp(xp, pen, dtype.type(alpha), grad, w)
            rel = xp.max(xp.abs(sg)) / grad0
        if fit_intercept:
            rel = xp.maximum(rel, xp.abs(xp.mean(deriv)) / grad0)
        vals = to_host(xp.stack([xp.asarray(primal, dtype=np.float64),
                                 xp.asarray(rel, dtype=np.float64),
                                 xp.asarray(gap, dtype=np.float64)]))
        return float(vals[0]), float(vals[1]), float(vals[2])

    objective, rel, gap = measure()
    status = 0 if rel <= tol else 1
    if history is not None:
        history.record(0, objective, rel)
    reporter = ProgressReporter(max_iter, "bcd (device)", verbose, "gap" if l1 else "grad")
    it = 0
    while status != 0 and it < max_iter:
        for _ in range(min(check_every, max_iter - it)):
            if single:
                coords, _ = ops.best_coordinate(xp, rule, pen, alpha, grad, w, lips, ws)
            elif variable:
                scores = ops.coordinate_scores(xp, rule, pen, alpha, grad, w, lips)
                coords = ops.top_k(xp, scores, bs)
            else:
                scores = ops.coordinate_scores(xp, rule, pen, alpha, grad, w, score_lips)
                if pad:
                    scores = xp.concatenate([scores, xp.zeros(pad, dtype=dtype)])
                best = xp.argmax(scores.reshape(n_blocks, bs).sum(1))
                coords = best * bs + offsets
            ops.block_step(xp, coords, p, grad, w, step_lips, variable and not single, pen,
                           alpha, delta)
            if data.sparse:
                ops.sparse_refresh(xp, coords, p, delta, data.csc, data.csr, loss, yv, inv_n, z,
                                   dz, deriv, grad, row_flag)
            else:
                ops.dense_refresh(xp, coords, p, delta, data.X, loss, yv, inv_n, z, deriv, grad)
            it += 1
        objective, rel, gap = measure()
        if not math.isfinite(objective):
            raise FloatingPointError("the objective became non-finite on the device; check the "
                                     "scaling of X and y")
        if rel <= tol:
            status = 0
        if history is not None:
            history.record(it, objective, rel)
        reporter.update(it, objective, rel)
        if callback is not None and call_callback(callback, x=w.copy(), fun=objective, nit=it,
                                                  optimality=rel):
            status = STATUS_CALLBACK_STOP
            break
    reporter.close()
    return EngineResult(w=w, objective=objective, measure=rel, nit=it, status=status,
                        gap=gap if l1 else np.nan,
                        intercept=to_float(b) if fit_intercept else 0.0)
