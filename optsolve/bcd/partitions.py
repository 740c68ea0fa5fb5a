"""Fixed block partitions of the coordinates (Nutini et al. 2022, Section 3.1)."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_positive_int, check_vector

__all__ = ["make_partition"]

PARTITIONS = ("order", "sort", "avg", "variable")


def make_partition(kind: str, lips: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Blocks as ``(block_ptr, members)``: block ``b`` is ``members[block_ptr[b]:block_ptr[b+1]]``.

    Parameters
    ----------
    kind : {'order', 'sort', 'avg'}
        ``order``: contiguous coordinates; ``sort``: coordinates sorted by their Lipschitz
        constant, then contiguous (large constants together); ``avg``: sorted coordinates dealt
        round-robin so every block has about the same average constant.
    lips : ndarray of shape (n_coords,)
        Coordinate-wise Lipschitz constants.
    block_size : int

    Examples
    --------
    >>> ptr, members = make_partition("sort", np.array([1.0, 5.0, 2.0, 4.0]), 2)
    >>> members[ptr[0]:ptr[1]].tolist()
    [1, 3]
    """
    if kind not in ("order", "sort", "avg"):
        raise ValueError(f"kind must be one of ('order', 'sort', 'avg'), got {kind!r}")
    lips = check_vector(as_float_array(lips, "lips"), "lips")
    if np.any(lips < 0):
        raise ValueError("lips must be non-negative (Lipschitz constants)")
    block_size = check_positive_int(block_size, "block_size")
    n = lips.shape[0]
    n_blocks = -(-n // block_size)
    if kind == "order":
        members = np.arange(n, dtype=np.int64)
    elif kind == "sort":
        members = np.argsort(-lips, kind="stable").astype(np.int64)
    elif kind == "avg":
        order = np.argsort(-lips, kind="stable")
        # deal sorted coordinates to blocks 0, 1, ..., B-1, then B-1, ..., 0 (a snake), so each
        # block mixes large and small constants
        slots = np.arange(n)
        rnd, pos = np.divmod(slots, n_blocks)
        blk = np.where(rnd % 2 == 0, pos, n_blocks - 1 - pos)
        members = order[np.argsort(blk, kind="stable")].astype(np.int64)
        sizes = np.bincount(blk, minlength=n_blocks)
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), members
    else:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {kind!r}")
    ptr = np.minimum(np.arange(n_blocks + 1, dtype=np.int64) * block_size, n)
    return ptr, members
