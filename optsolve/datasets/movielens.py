"""MovieLens ratings as sparse users x items matrices (GroupLens' terms: research use, no
redistribution, cite Harper & Konstan 2015 — the files are never shipped with optsolve)."""

from __future__ import annotations

import io
import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._download import download
from ._home import get_cache_home, get_data_home, writable_dir

logger = logging.getLogger("optsolve.datasets")

__all__ = ["MOVIELENS", "load_movielens"]

MOVIELENS_BASE_URL = "https://files.grouplens.org/datasets/movielens"

# name -> (zip file, member holding the ratings, separator, n_users, n_items, n_ratings)
MOVIELENS = {
    "100k": ("ml-100k.zip", "ml-100k/u.data", "\t", 943, 1682, 100_000),
    "1m": ("ml-1m.zip", "ml-1m/ratings.dat", "::", 6040, 3952, 1_000_209),
}
_SPLIT_SIZE = 20_000  # GroupLens' mku.sh: u_k.test = lines (k-1)*20000+1 .. k*20000 of u.data


def _ratings_file(name: str, home: Path, download_if_missing: bool, opener) -> Path:
    zname, member, *_ = MOVIELENS[name]
    rel = Path(member)
    for folder in (home / "ratings", home, get_cache_home() / "ratings"):
        if (folder / rel).is_file():
            return folder / rel
    if not download_if_missing:
        raise FileNotFoundError(
            f"MovieLens {name} ratings not found as {home / 'ratings' / rel}; set OPTSOLVE_DATA "
            "or allow the download (GroupLens terms: research use only, no redistribution)."
        )
    target_dir = writable_dir(home / "ratings", get_cache_home() / "ratings")
    zpath = download(f"{MOVIELENS_BASE_URL}/{zname}", target_dir / zname, opener=opener)
    with zipfile.ZipFile(zpath) as zf:
        zf.extract(member, target_dir)
    return target_dir / rel


def _parse(path: Path, sep: str) -> np.ndarray:
    try:
        if sep == "\t":
            arr = np.loadtxt(path, dtype=np.int64, delimiter="\t", usecols=(0, 1, 2), ndmin=2)
        else:  # '::' is not a single-character delimiter
            text = path.read_text(encoding="latin-1").replace("::", "\t")
            arr = np.loadtxt(io.StringIO(text), dtype=np.int64, delimiter="\t",
                             usecols=(0, 1, 2), ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path} is not a MovieLens ratings file (user, item, rating, "
                         f"timestamp per line): {exc}") from None
    return arr.reshape(-1, 3)


def _to_csr(triples: np.ndarray, shape) -> sp.csr_matrix:
    users, items = triples[:, 0], triples[:, 1]
    if triples.shape[0] and (users.min() < 1 or items.min() < 1 or users.max() > shape[0]
                             or items.max() > shape[1]):
        raise ValueError(f"user ids must be in 1..{shape[0]} and item ids in 1..{shape[1]}; the "
                         f"file holds users {users.min()}..{users.max()}, items "
                         f"{items.min()}..{items.max()}")
    # a cell holds one rating: CSR construction would sum a rating given twice (4 + 4 = 8)
    key = (users - 1) * shape[1] + (items - 1)
    uniq, counts = np.unique(key, return_counts=True)
    if uniq.shape[0] != key.shape[0]:
        first = int(uniq[np.argmax(counts > 1)])
        raise ValueError(
            f"the ratings file rates {int(np.sum(counts > 1))} (user, item) pair(s) more than "
            f"once, e.g. user {first // shape[1] + 1}, item {first % shape[1] + 1}; GroupLens "
            "files rate each pair once: the file is corrupt or edited (deduplicate it)")
    m = sp.csr_matrix(
        (triples[:, 2].astype(np.float64), (triples[:, 0] - 1, triples[:, 1] - 1)), shape=shape
    )
    m.sort_indices()
    return m


def load_movielens(
    name: str = "100k",
    *,
    split: str | None = None,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    opener: Callable | None = None,
):
    """Load MovieLens ratings as a users x items CSR matrix (0-based ids, ratings 1..5).

    Parameters
    ----------
    name : {"100k", "1m"}
        Which MovieLens release.
    split : {None, "u1", "u2", "u3", "u4", "u5"}
        ``None`` returns all ratings. ``"uk"`` returns ``(train, test)`` exactly as GroupLens'
        ``mku.sh`` builds ``uk.base``/``uk.test`` for 100k: the test part is lines
        ``(k-1)*20000+1 .. k*20000`` of ``u.data``, the rest is the training part. Both
        matrices have the full 943 x 1682 shape.
    data_home : path, optional
        Overrides ``$OPTSOLVE_DATA``; the file is looked for in ``<data_home>/ratings/``.
    download_if_missing : bool
        Download the GroupLens zip into the data folder or cache when absent.

    Returns
    -------
    ratings : scipy.sparse.csr_matrix, or (train, test) tuple of them

    Raises
    ------
    ValueError
        When the file rates a (user, item) pair twice (refused rather than summed or silently
        deduplicated: GroupLens' files rate each pair once) or holds ids out of range.

    Examples
    --------
    >>> from optsolve.datasets import load_movielens
    >>> train, test = load_movielens("100k", split="u1")  # doctest: +SKIP
    >>> train.nnz, test.nnz  # doctest: +SKIP
    (80000, 20000)
    """
    if name not in MOVIELENS:
        raise ValueError(f"name must be one of {sorted(MOVIELENS)}, got {name!r}")
    _, _, sep, n_users, n_items, _ = MOVIELENS[name]
    if split is not None:
        if name != "100k":
            raise ValueError(f"split={split!r}: GroupLens publishes u1..u5 splits for 100k only")
        if split not in {f"u{k}" for k in range(1, 6)}:
            raise ValueError(f"split must be None or one of 'u1'..'u5', got {split!r}")
    path = _ratings_file(name, get_data_home(data_home), download_if_missing, opener)
    triples = _parse(path, sep)
    shape = (n_users, n_items)
    if split is None:
        return _to_csr(triples, shape)
    k = int(split[1])
    lo, hi = (k - 1) * _SPLIT_SIZE, k * _SPLIT_SIZE
    test_mask = np.zeros(len(triples), dtype=bool)
    test_mask[lo:hi] = True
    return _to_csr(triples[~test_mask], shape), _to_csr(triples[test_mask], shape)
