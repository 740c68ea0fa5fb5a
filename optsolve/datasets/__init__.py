"""Benchmark data: LIBSVM files, MovieLens ratings, and synthetic generators.

Files are read from ``$OPTSOLVE_DATA`` (default ``~/optsolve_data``): LIBSVM files in
``libsvm/``, MovieLens in ``ratings/ml-100k/``. Missing files are downloaded from their
public source into that folder, or into ``$OPTSOLVE_CACHE`` when it is read-only.
"""

from ._download import DownloadError, download
from ._home import get_cache_home, get_data_home
from .libsvm import LIBSVM_DATASETS, available_libsvm, load_libsvm
from .movielens import load_movielens
from .synthetic import make_incoherent_low_rank, make_sparse_classification, make_sparse_regression

__all__ = [
    "LIBSVM_DATASETS",
    "DownloadError",
    "available_libsvm",
    "download",
    "get_cache_home",
    "get_data_home",
    "load_libsvm",
    "load_movielens",
    "make_incoherent_low_rank",
    "make_sparse_classification",
    "make_sparse_regression",
]
