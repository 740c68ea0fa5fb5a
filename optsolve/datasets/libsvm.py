"""LIBSVM-format data sets: local copy first, then a parsed ``.npz`` cache, then download."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._download import DownloadError, download
from ._home import get_cache_home, get_data_home, writable_dir

logger = logging.getLogger("optsolve.datasets")

__all__ = ["LIBSVM_DATASETS", "LibsvmInfo", "available_libsvm", "load_libsvm"]

LIBSVM_BASE_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets"


@dataclass(frozen=True)
class LibsvmInfo:
    """Where a LIBSVM data set comes from and how to read it."""

    filename: str
    category: str  # binary / regression / multiclass
    n_features: int
    task: str  # classification / regression
    sha256: str | None = None  # of the file as served upstream, when known for certain

    @property
    def url(self) -> str:
        return f"{LIBSVM_BASE_URL}/{self.category}/{self.filename}"


# Checksums are given only where the upstream bytes are known (see ../shared/data/README.md:
# other shared copies had their line endings rewritten, so their digests differ from upstream).
LIBSVM_DATASETS: dict[str, LibsvmInfo] = {
    "a9a": LibsvmInfo("a9a", "binary", 123, "classification"),
    "a9a.t": LibsvmInfo(
        "a9a.t", "binary", 123, "classification",
        "1f448a153f0320399a7e40836eb207655b0bde0f21fc941cc472193daa9f5de9",
    ),
    "w8a": LibsvmInfo(
        "w8a", "binary", 300, "classification",
        "b464b4f6ce6a5d9e181ffc793e19a04751036273722312398ef7673705014902",
    ),
    "mushrooms": LibsvmInfo("mushrooms", "binary", 112, "classification"),
    "phishing": LibsvmInfo("phishing", "binary", 68, "classification"),
    "ijcnn1": LibsvmInfo("ijcnn1.bz2", "binary", 22, "classification"),
    "ijcnn1.t": LibsvmInfo("ijcnn1.t.bz2", "binary", 22, "classification"),
    "australian": LibsvmInfo("australian", "binary", 14, "classification"),
    "breast-cancer_scale": LibsvmInfo("breast-cancer_scale", "binary", 10, "classification"),
    "real-sim": LibsvmInfo("real-sim.bz2", "binary", 20958, "classification"),
    "rcv1.binary": LibsvmInfo("rcv1_train.binary.bz2", "binary", 47236, "classification"),
    "news20.binary": LibsvmInfo("news20.binary.bz2", "binary", 1355191, "classification"),
    "abalone_scale": LibsvmInfo("abalone_scale", "regression", 8, "regression"),
    "cpusmall": LibsvmInfo("cpusmall", "regression", 12, "regression"),
    "E2006-tfidf": LibsvmInfo("E2006.train.bz2", "regression", 150360, "regression"),
    "dna.scale": LibsvmInfo("dna.scale", "multiclass", 180, "classification"),
    "dna.scale.t": LibsvmInfo("dna.scale.t", "multiclass", 180, "classification"),
    "satimage.scale": LibsvmInfo("satimage.scale", "multiclass", 36, "classification"),
    "satimage.scale.t": LibsvmInfo("satimage.scale.t", "multiclass", 36, "classification"),
}


def _resolve(name: str) -> LibsvmInfo:
    key = name[:-4] if name.endswith(".bz2") else name
    if key not in LIBSVM_DATASETS:
        raise ValueError(
            f"unknown LIBSVM data set {name!r}; known: {sorted(LIBSVM_DATASETS)}. To read any "
            "other LIBSVM file use sklearn.datasets.load_svmlight_file(path)."
        )
    return LIBSVM_DATASETS[key]


def _find_local(info: LibsvmInfo, data_home: Path) -> Path | None:
    for folder in (data_home / "libsvm", get_cache_home() / "libsvm"):
        p = folder / info.filename
        if p.is_file():
            return p
    return None


def _npz_path(src: Path) -> Path:
    folder = writable_dir(src.parent, get_cache_home() / "libsvm")
    return folder / (src.name + ".npz")


def _read_cached(npz: Path, src: Path):
    if not npz.is_file():
        return None
    st = src.stat()
    try:
        with np.load(npz, allow_pickle=False) as f:
            if int(f["src_size"]) != st.st_size or int(f["src_mtime_ns"]) != st.st_mtime_ns:
                return None
            X = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
            return X, f["y"]
    except (OSError, KeyError, ValueError):
        return None


def _write_cache(npz: Path, src: Path, X: sp.csr_matrix, y: np.ndarray) -> None:
    st = src.stat()
    tmp = npz.with_name(npz.name + ".tmp.npz")
    np.savez(
        tmp, data=X.data, indices=X.indices, indptr=X.indptr, shape=np.array(X.shape), y=y,
        src_size=st.st_size, src_mtime_ns=st.st_mtime_ns,
    )
    os.replace(tmp, npz)


def _with_int32_indices(X: sp.csr_matrix) -> sp.csr_matrix:
    """Use 32-bit index arrays when they fit: scikit-learn's coordinate-descent solvers refuse
    sparse matrices with 64-bit indices."""
    if X.nnz < np.iinfo(np.int32).max and X.shape[1] < np.iinfo(np.int32).max:
        X.indices = X.indices.astype(np.int32, copy=False)
        X.indptr = X.indptr.astype(np.int32, copy=False)
    return X


def available_libsvm(data_home: str | os.PathLike | None = None) -> list[str]:
    """Names of the known LIBSVM data sets present locally (no download).

    Examples
    --------
    >>> import tempfile
    >>> from optsolve.datasets import available_libsvm
    >>> available_libsvm(tempfile.mkdtemp())  # an empty folder holds none
    []
    """
    home = get_data_home(data_home)
    return [name for name, info in LIBSVM_DATASETS.items() if _find_local(info, home)]


def load_libsvm(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    opener: Callable | None = None,
    dtype=np.float64,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Load a LIBSVM data set as ``(X, y)``: X a CSR matrix, y a 1-D float array.

    The file is looked up in ``<data_home>/libsvm/`` (``data_home`` defaults to
    ``$OPTSOLVE_DATA`` or ``~/optsolve_data``), then in the cache
    (``$OPTSOLVE_CACHE``, default ``~/.cache/optsolve``). When absent it is downloaded from
    the LIBSVM data page into the data folder (or the cache if that is read-only), checked
    against its sha256 when known. The parsed matrix is cached as ``<file>.npz`` beside the
    source (or in the cache), so later loads skip the text parsing.

    Parameters
    ----------
    name : str
        A key of :data:`LIBSVM_DATASETS`, e.g. ``"a9a"``, ``"ijcnn1"`` (the ``.bz2`` suffix is
        optional).
    data_home : path, optional
        Overrides ``$OPTSOLVE_DATA``.
    download_if_missing : bool
        When False, a missing file raises ``FileNotFoundError``.
    opener : callable, optional
        Passed to the downloader (tests use a fake one).

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        ``n_features`` is the official count (e.g. 123 for ``a9a.t``).
    y : ndarray of shape (n_samples,)
        Labels as written in the file.

    Examples
    --------
    >>> from optsolve.datasets import load_libsvm
    >>> X, y = load_libsvm("a9a")  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (32561, 123)
    """
    info = _resolve(name)
    home = get_data_home(data_home)
    src = _find_local(info, home)
    if src is None:
        if not download_if_missing:
            raise FileNotFoundError(
                f"LIBSVM data set {name!r} not found in {home / 'libsvm'} nor in the cache "
                f"{get_cache_home() / 'libsvm'}; set OPTSOLVE_DATA or allow the download."
            )
        target = writable_dir(home / "libsvm", get_cache_home() / "libsvm") / info.filename
        logger.info("downloading %s to %s", info.url, target)
        try:
            src = download(info.url, target, sha256=info.sha256, opener=opener)
        except DownloadError:
            raise
    npz = _npz_path(src)
    cached = _read_cached(npz, src)
    if cached is not None:
        X, y = cached
        return _with_int32_indices(X.astype(dtype, copy=False)), y
    from sklearn.datasets import load_svmlight_file

    # the LIBSVM format is 1-based: sklearn's zero_based="auto" would read a file holding one
    # stray index 0 as 0-based and shift every column by one
    try:
        X, y = load_svmlight_file(str(src), n_features=info.n_features, dtype=dtype,
                                  zero_based=False)
    except ValueError as exc:
        if "invalid index 0" in str(exc).lower():
            raise ValueError(
                f"{src}: feature index 0 found; LIBSVM files number features from 1 (a "
                "0-based file can be read with sklearn.datasets.load_svmlight_file("
                "zero_based=True))") from exc
        raise ValueError(f"{src} is not a valid LIBSVM file: {exc}") from exc
    X = sp.csr_matrix(X)
    X.sort_indices()
    X = _with_int32_indices(X)
    try:
        _write_cache(npz, src, X, y)
    except OSError as exc:  # a read-only cache is not worth failing the load
        logger.warning("could not write the parsed cache %s: %s", npz, exc)
    return X, y
