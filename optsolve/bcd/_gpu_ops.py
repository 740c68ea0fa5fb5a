"""The per-iteration operations of device-resident greedy BCD, for numpy and for CuPy.

Each operation has one signature and two bodies: on CuPy arrays it launches a CUDA kernel from
``csrc/bcd_greedy.cu``; on numpy arrays it runs the numpy reference of that kernel (what the GPU
tests compare against, and what lets the CPU test-suite run the device engine itself). No
operation reads a device value on the host: chosen coordinates, steps and flags stay in device
memory between kernels.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from .._cuda import load_module
from ._kernels import LOSS_CODES, LOSS_LS
from .penalties import PENALTY_CODES, min_norm_subgrad_xp, pen_xp, prox_xp
from .rules import RULE_CODES, scores_xp

_THREADS = 256
#: blocks of the first argmax pass; the second pass reduces at most this many partials
_ARGMAX_BLOCKS = 1024
_OPTIONS = ("-std=c++17", "--fmad=false")
#: the header of the codes the CUDA source compares against (``csrc/bcd_codes.cuh``, written by
#: :func:`codes_header`; a test checks that the file is what the Python tables give)
CODES_HEADER = "bcd_codes.cuh"


def codes_header() -> str:
    """The text of ``csrc/bcd_codes.cuh``: the loss, penalty and rule codes of the numba kernels
    as C constants, so that ``csrc/bcd_greedy.cu`` reads the same codes as the numpy and numba
    code (regenerate with ``python -c "from optsolve.bcd._gpu_ops import codes_header;
    print(codes_header(), end='')" > csrc/bcd_codes.cuh``)."""
    lines = ["// Generated from optsolve/bcd/_kernels.py (LOSS_CODES), penalties.py",
             "// (PENALTY_CODES) and rules.py (RULE_CODES) by",
             "// optsolve.bcd._gpu_ops.codes_header(); do not edit.",
             "#pragma once", ""]
    for table in (LOSS_CODES, PENALTY_CODES, RULE_CODES):
        lines += [f"#define {name} {code}" for name, code in table.items()]
    return "\n".join(lines) + "\n"


def _kernel(name: str, dtype) -> object:
    suffix = "f32" if np.dtype(dtype) == np.float32 else "f64"
    return load_module("bcd_greedy", _OPTIONS).get_function(f"{name}_{suffix}")


def _scalar(dtype, v):
    return np.dtype(dtype).type(v)


# ------------------------------------------------------------------ numpy references
# (one definition each, in .penalties and .rules; these names are what the GPU tests compare
# the CUDA kernels with)

prox_ref = prox_xp
pen_ref = pen_xp
min_norm_subgrad_ref = min_norm_subgrad_xp
scores_ref = scores_xp


# ------------------------------------------------------------------ operations


def coordinate_scores(xp: ModuleType, rule: int, pen: int, alpha: float, grad, w, lips):
    """Scores of all coordinates (a new array)."""
    if xp is np:
        return scores_ref(xp, rule, pen, grad.dtype.type(alpha), grad, w, lips)
    p = grad.shape[0]
    out = xp.empty_like(grad)
    blocks = min(-(-p // _THREADS), 8192)
    _kernel("bcd_scores", grad.dtype)((blocks,), (_THREADS,), (
        grad, w, lips, np.int64(p), np.int32(rule), np.int32(pen), _scalar(grad.dtype, alpha),
        out))
    return out


class ArgmaxWorkspace:
    """Device buffers of the two-pass argmax, allocated once per solve."""

    def __init__(self, xp: ModuleType, dtype, p: int):
        self.blocks = max(1, min(-(-p // _THREADS), _ARGMAX_BLOCKS))
        self.part_val = xp.empty(self.blocks, dtype=dtype)
        self.part_idx = xp.empty(self.blocks, dtype=np.int64)
        self.best = xp.zeros(1, dtype=np.int64)
        self.best_val = xp.zeros(1, dtype=dtype)


def best_coordinate(xp: ModuleType, rule: int, pen: int, alpha: float, grad, w, lips,
                    ws: ArgmaxWorkspace):
    """Index (a 1-element device array) and score of the best coordinate under ``rule``.

    Ties go to the smallest index, as ``numpy.argmax``.
    """
    if xp is np:
        s = scores_ref(xp, rule, pen, grad.dtype.type(alpha), grad, w, lips)
        ws.best[0] = int(np.argmax(s))
        ws.best_val[0] = s[ws.best[0]]
        return ws.best, ws.best_val
    p = grad.shape[0]
    _kernel("bcd_argmax_partial", grad.dtype)((ws.blocks,), (_THREADS,), (
        grad, w, lips, np.int64(p), np.int32(rule), np.int32(pen), _scalar(grad.dtype, alpha),
        ws.part_val, ws.part_idx))
    _kernel("bcd_argmax_final", grad.dtype)((1,), (1024,), (
        ws.part_val, ws.part_idx, np.int32(ws.blocks), ws.best, ws.best_val))
    return ws.best, ws.best_val


def top_k(xp: ModuleType, scores, k: int):
    """Indices of the ``k`` largest scores (in no particular order): the variable block."""
    if k >= scores.shape[0]:
        return xp.arange(scores.shape[0], dtype=np.int64)
    return xp.argpartition(-scores, k - 1)[:k].astype(np.int64, copy=False)


def block_step(xp: ModuleType, coords, p: int, grad, w, lips, use_sum: bool, pen: int,
               alpha: float, delta) -> None:
    """Proximal-gradient step on the block ``coords`` (in place on ``w``; moves into ``delta``).

    The step is ``1/L`` with ``L = lips[c]`` per coordinate, or the sum of the members' constants
    when ``use_sum`` (a variable block). Coordinates ``>= p`` (padding) do not move.
    """
    k = coords.shape[0]
    if xp is np:
        valid = coords < p
        c = np.where(valid, coords, 0)
        lip = np.sum(np.where(valid, lips[c], 0.0)) if use_sum else lips[c]
        wn = prox_ref(np, pen, grad.dtype.type(alpha), w[c] - grad[c] / lip, 1.0 / lip)
        d = np.where(valid, wn - w[c], 0.0)
        delta[:] = d
        w[c[valid]] = wn[valid]
        return
    _kernel("bcd_block_step", grad.dtype)((1,), (_THREADS,), (
        coords, np.int32(k), np.int64(p), grad, w, lips, np.int32(bool(use_sum)), np.int32(pen),
        _scalar(grad.dtype, alpha), delta))


def loss_derivative_ref(xp: ModuleType, loss: int, z, y):
    if loss == LOSS_LS:
        return z - y
    return -y / (1.0 + xp.exp(y * z))


def sparse_refresh(xp: ModuleType, coords, p: int, delta, csc, csr, loss: int, y, inv_n, z, dz,
                   deriv, grad, row_flag) -> None:
    """Move ``z = Xw`` by the block step and refresh ``deriv`` and ``grad = Xᵀ deriv / n``.

    ``csc`` and ``csr`` are ``(indptr int64, indices int32, data)`` of X by columns and by rows.
    Only the rows touched by the block's columns, and their non-zeros, are visited. ``dz`` and
    ``row_flag`` are zero work buffers of length n, left zero.
    """
    k = coords.shape[0]
    if xp is np:
        c_ptr, c_idx, c_val = csc
        r_ptr, r_idx, r_val = csr
        rows = []
        for a in range(k):
            c = int(coords[a])
            if c >= p or delta[a] == 0:
                continue
            sl = slice(c_ptr[c], c_ptr[c + 1])
            np.add.at(dz, c_idx[sl], c_val[sl] * delta[a])
            rows.append(c_idx[sl])
        if not rows:
            return
        touched = np.unique(np.concatenate(rows))
        z[touched] += dz[touched]
        dz[touched] = 0.0
        dn = loss_derivative_ref(np, loss, z[touched], y[touched])
        dd = (dn - deriv[touched]) * inv_n
        deriv[touched] = dn
        for i, d in zip(touched, dd, strict=True):
            sl = slice(r_ptr[i], r_ptr[i + 1])
            grad[r_idx[sl]] += r_val[sl] * d
        return
    dtype = grad.dtype
    _kernel("bcd_scatter_columns", dtype)((k,), (_THREADS,), (
        coords, np.int64(p), delta, *csc, dz, row_flag))
    _kernel("bcd_refresh_rows", dtype)((k,), (_THREADS,), (
        coords, np.int64(p), delta, csc[0], csc[1], *csr, np.int32(loss), y,
        _scalar(dtype, inv_n), z, dz, deriv, grad, row_flag))


def dense_refresh(xp: ModuleType, coords, p: int, delta, X, loss: int, y, inv_n, z, deriv,
                  grad) -> None:
    """Dense counterpart of :func:`sparse_refresh`: two BLAS products (every row is touched)."""
    valid = coords < p
    c = xp.where(valid, coords, 0)
    d = xp.where(valid, delta, 0.0).astype(X.dtype, copy=False)
    z += X[:, c] @ d
    dn = loss_derivative_ref(xp, loss, z, y)
    dd = (dn - deriv) * inv_n
    deriv[...] = dn
    grad += X.T @ dd
