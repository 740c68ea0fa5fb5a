"""Array-namespace dispatch and the CUDA source loader (CPU side)."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve._backend import get_namespace, is_cupy_array, to_device, to_host
from optsolve._cuda import cuda_source, cuda_source_dir


class _FakeCupyArray:
    """Stands in for a cupy.ndarray: only its type's module matters to the detection."""


_FakeCupyArray.__module__ = "cupy._core.core"


def test_numpy_and_sparse_inputs_are_numpy():
    assert get_namespace(np.ones(2), sp.csr_matrix(np.eye(2)), None, 3.0) is np
    assert get_namespace() is np


def test_fake_cupy_array_is_detected_without_importing_cupy():
    assert is_cupy_array(_FakeCupyArray())
    assert not is_cupy_array(np.ones(1))


def test_mixed_namespaces_raise_naming_positions():
    with pytest.raises(TypeError, match="argument 0 is a numpy array but argument 2 is a cupy"):
        get_namespace(np.ones(2), None, _FakeCupyArray())


def test_unsupported_type_is_a_clear_error():
    with pytest.raises(TypeError, match="unsupported array type"):
        get_namespace(object())


def test_host_moves_are_identity_on_host():
    a = np.arange(3.0)
    assert to_host(a) is a
    assert to_device(a, np) is a


def test_import_never_pulls_heavy_modules_and_is_fast():
    code = (
        "import sys, time; t = time.perf_counter(); import optsolve; "
        "import optsolve.bcd, optsolve.datasets; dt = time.perf_counter() - t; "
        "heavy = [m for m in ('cupy', 'ray', 'torch', 'matplotlib', 'mpi4py') "
        "if m in sys.modules]; print(dt, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    _, heavy = out.stdout.split(maxsplit=1)
    assert heavy.strip() == "[]", heavy
    # bare `import optsolve` budget is 0.5 s; measured here with two subpackages for margin
    code_bare = (
        "import time; t = time.perf_counter(); import optsolve; print(time.perf_counter() - t)"
    )
    best = min(
        float(subprocess.run([sys.executable, "-c", code_bare], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(3)
    )
    assert best < 0.5


def test_cuda_sources_are_found_and_readable():
    assert (cuda_source_dir() / "axpy.cu").is_file()
    text = cuda_source("axpy")
    assert 'extern "C" __global__ void scaled_add' in text
    with pytest.raises(FileNotFoundError, match=r"no CUDA source 'missing\.cu'"):
        cuda_source("missing")
