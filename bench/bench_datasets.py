"""Loader micro-benchmarks: optsolve's parsed cache against sklearn's text parser (the peer)."""

import os
from pathlib import Path

import pytest
from sklearn.datasets import load_svmlight_file

from optsolve.datasets import load_libsvm

DATA = Path(os.environ.get("OPTSOLVE_DATA", Path(__file__).resolve().parents[2] / "shared/data"))
NAME = "a9a"


@pytest.fixture(scope="module")
def source():
    path = DATA / "libsvm" / NAME
    if not path.is_file():
        pytest.skip(f"{path} absent")
    load_libsvm(NAME, data_home=DATA)  # warm the parsed cache
    return path


def test_load_libsvm_cached(benchmark, source):
    benchmark.group = f"load {NAME}"
    X, _ = benchmark(load_libsvm, NAME, data_home=DATA)
    assert X.shape == (32561, 123)


def test_sklearn_load_svmlight_file(benchmark, source):
    benchmark.group = f"load {NAME}"
    X, _ = benchmark(load_svmlight_file, str(source), n_features=123)
    assert X.shape == (32561, 123)
