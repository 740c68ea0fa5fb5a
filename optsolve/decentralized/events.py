"""Poisson event schedules for the asynchronous engines: alias tables over edges and the packed
per-segment arrays the numba kernels read.

All edge clocks of a segment are merged into one exponential clock of rate ``Λ = Σ λ_e``; the
edge of an event is drawn in O(1) from Walker's alias table of ``λ_e / Λ``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .topology import GraphInfo

__all__ = ["EdgeSchedule", "alias_table", "edge_schedule"]


def alias_table(weights) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table of the distribution ``weights / Σ weights``.

    Draw: ``c`` uniform in ``{0..m-1}``, ``u`` uniform in [0, 1); the outcome is ``c`` when
    ``u < prob[c]``, else ``alias[c]``.

    Examples
    --------
    >>> prob, alias = alias_table([1.0, 1.0, 2.0])
    >>> alias_probabilities(prob, alias).round(12).tolist()
    [0.25, 0.25, 0.5]
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0 or np.any(w < 0) or not np.all(np.isfinite(w)) \
            or w.sum() <= 0:
        raise ValueError("weights must be a non-empty 1-D array of finite non-negative numbers "
                         "with a positive sum")
    m = w.size
    scaled = w * (m / w.sum())
    prob = np.ones(m)
    alias = np.arange(m, dtype=np.int64)
    small = [k for k in range(m) if scaled[k] < 1.0]
    large = [k for k in range(m) if scaled[k] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    # leftovers are 1 up to rounding
    return prob, alias


def alias_probabilities(prob, alias) -> np.ndarray:
    """The distribution an alias table samples (for tests and checks)."""
    m = prob.size
    p = prob / m
    np.add.at(p, alias, (1.0 - prob) / m)
    return p


class EdgeSchedule(NamedTuple):
    """Packed edge clocks of every segment (see ``_kernels.dadao_events``)."""

    seg_times: np.ndarray  # (K,) start of each segment
    period: float  # repetition period, 0 when none
    seg_ptr: np.ndarray  # (K+1,) segment k owns edges seg_ptr[k]:seg_ptr[k+1]
    edge_u: np.ndarray  # endpoints (global node ids)
    edge_v: np.ndarray
    alias_prob: np.ndarray
    alias_idx: np.ndarray  # local index within the segment
    comm_rate: np.ndarray  # (K,) total communication rate Λ of each segment
    rates: tuple  # per-segment edge rates, aligned with the segment's edge list
    edge_uv: np.ndarray  # (m, 2) endpoints side by side (one cache line per drawn edge)
    alias_pack: np.ndarray  # (m, 2) alias_prob and alias_idx (as float) side by side


def edge_schedule(info: GraphInfo, rates) -> EdgeSchedule:
    """Pack per-segment edge rates (a sequence with one array per segment of ``info``)."""
    ptr = [0]
    us, vs, ps, als, tot = [], [], [], [], []
    for seg, lam in zip(info.segments, rates, strict=True):
        lam = np.asarray(lam, dtype=np.float64)
        if lam.shape != (seg.n_edges,):
            raise ValueError(f"need one rate per edge ({seg.n_edges}), got shape {lam.shape}")
        prob, alias = alias_table(lam)
        us.append(seg.rows)
        vs.append(seg.cols)
        ps.append(prob)
        als.append(alias)
        tot.append(lam.sum())
        ptr.append(ptr[-1] + seg.n_edges)
    u, v = np.concatenate(us).astype(np.int64), np.concatenate(vs).astype(np.int64)
    prob, alias = np.concatenate(ps), np.concatenate(als).astype(np.int64)
    return EdgeSchedule(
        np.asarray(info.switch_times, dtype=np.float64),
        0.0 if info.period is None else float(info.period),
        np.asarray(ptr, dtype=np.int64), u, v, prob, alias, np.asarray(tot),
        tuple(np.asarray(r, dtype=np.float64) for r in rates),
        np.ascontiguousarray(np.stack([u, v], axis=1)),
        np.ascontiguousarray(np.stack([prob, alias.astype(np.float64)], axis=1)),
    )
