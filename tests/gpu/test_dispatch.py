"""Dispatch on the input's array module, and the csrc/ loader, on a real GPU."""

import numpy as np
import pytest

from optsolve._backend import get_namespace, to_device, to_host
from optsolve._cuda import get_kernel


@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy")


def test_namespace_of_device_arrays(cp):
    assert get_namespace(cp.ones(3), None) is cp
    with pytest.raises(TypeError, match="mixed array namespaces"):
        get_namespace(cp.ones(3), np.ones(3))


def test_round_trip_keeps_values(cp):
    a = np.random.default_rng(0).standard_normal(1000)
    d = to_device(a)
    assert get_namespace(d) is cp
    np.testing.assert_array_equal(to_host(d), a)


@pytest.mark.parametrize("n", [1, 1000, 1 << 20])
def test_rawmodule_kernel_matches_numpy(cp, n):
    rng = np.random.default_rng(n)
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    dx, dy = cp.asarray(x), cp.asarray(y)
    out = cp.empty_like(dx)
    kernel = get_kernel("axpy", "scaled_add")
    threads = 256
    blocks = min((n + threads - 1) // threads, 4096)
    kernel((blocks,), (threads,), (dx, dy, np.float64(2.5), out, np.int64(n)))
    np.testing.assert_allclose(cp.asnumpy(out), 2.5 * x + y, rtol=1e-10, atol=0)
