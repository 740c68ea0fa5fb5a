"""Array-namespace detection: numpy on the host, cupy on a CUDA device.

CuPy is never imported eagerly: an array is recognised as a CuPy array from the module of its
type, and only then is ``cupy`` imported (it must already be, since the user made the array).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "HostTransfers",
    "get_namespace",
    "host_transfers",
    "is_cupy_array",
    "to_device",
    "to_float",
    "to_host",
]


def _array_module_name(a: Any) -> str | None:
    """Return "numpy", "cupy" or None (scalars, None) for one input."""
    if a is None or np.isscalar(a):
        return None
    mod = type(a).__module__ or ""
    if mod.startswith("cupy") or mod.startswith("cupyx"):
        return "cupy"
    if isinstance(a, np.ndarray) or mod.startswith("numpy") or mod.startswith("scipy.sparse"):
        return "numpy"
    if isinstance(a, (list, tuple)):
        return "numpy"
    raise TypeError(
        f"unsupported array type {type(a).__module__}.{type(a).__qualname__}: "
        "expected a numpy/scipy.sparse array or a cupy/cupyx.scipy.sparse array"
    )


def is_cupy_array(a: Any) -> bool:
    """True when ``a`` is a CuPy (dense or cupyx sparse) array. Never imports cupy."""
    if a is None or isinstance(a, np.ndarray):  # the common case, without the module lookup
        return False
    return (type(a).__module__ or "").startswith("cupy")


def get_namespace(*arrays: Any) -> ModuleType:
    """Return the array module (``numpy`` or ``cupy``) shared by ``arrays``.

    Parameters
    ----------
    *arrays : array-like
        numpy arrays, scipy sparse matrices, CuPy arrays or cupyx sparse matrices. ``None`` and
        Python scalars are ignored.

    Returns
    -------
    xp : module
        ``numpy`` when every array lives on the host (or no array was given), ``cupy`` when
        every array lives on a CUDA device.

    Raises
    ------
    TypeError
        If host and device arrays are mixed, naming the position of the first offender.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve._backend import get_namespace
    >>> get_namespace(np.ones(3), None, 2.0).__name__
    'numpy'
    """
    found: str | None = None
    first = -1
    for i, a in enumerate(arrays):
        name = _array_module_name(a)
        if name is None:
            continue
        if found is None:
            found, first = name, i
        elif name != found:
            raise TypeError(
                f"mixed array namespaces: argument {first} is a {found} array but argument {i} "
                f"is a {name} array; move all inputs to the same device first "
                "(optsolve._backend.to_host / to_device)"
            )
    if found == "cupy":
        return sys.modules.get("cupy") or importlib.import_module("cupy")
    return np


class HostTransfers:
    """Tally of device-to-host copies made through :func:`to_host` and :func:`to_float`."""

    def __init__(self) -> None:
        self.count = 0
        self.nbytes = 0

    def __repr__(self) -> str:
        return f"HostTransfers(count={self.count}, nbytes={self.nbytes})"


_counters = threading.local()


def _tally(nbytes: int) -> None:
    for counter in getattr(_counters, "active", ()):
        counter.count += 1
        counter.nbytes += int(nbytes)


@contextlib.contextmanager
def host_transfers() -> Iterator[HostTransfers]:
    """Count the device-to-host copies that optsolve makes inside the ``with`` block.

    The GPU paths of the solvers bring data back to the host only through :func:`to_host`
    (arrays) and :func:`to_float` (a scalar such as a convergence test), so this tally is the
    number of host round trips a solve makes; the GPU tests bound it by the number of
    convergence checks. Host (numpy) inputs never count.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve._backend import host_transfers, to_float
    >>> with host_transfers() as t:
    ...     _ = to_float(np.float64(2.0))
    >>> t.count
    0
    """
    counter = HostTransfers()
    stack = getattr(_counters, "active", ())
    _counters.active = (*stack, counter)
    try:
        yield counter
    finally:
        _counters.active = stack


def to_host(a: Any) -> Any:
    """Return ``a`` as a numpy array (or scipy sparse matrix); host inputs pass through."""
    if not is_cupy_array(a):
        return a
    _tally(getattr(a, "nbytes", 0) or getattr(getattr(a, "data", None), "nbytes", 0))
    if hasattr(a, "get"):
        return a.get()
    return importlib.import_module("cupy").asnumpy(a)


def to_float(a: Any) -> float:
    """Return a one-element array or scalar as a Python float (one device sync if on a GPU)."""
    if is_cupy_array(a):
        _tally(8)
        return float(a.item())
    return float(a)


def to_device(a: Any, xp: ModuleType | None = None) -> Any:
    """Move ``a`` to the namespace ``xp`` (default cupy). Device inputs pass through."""
    if xp is None:
        xp = importlib.import_module("cupy")
    if xp is np:
        return to_host(a)
    if is_cupy_array(a):
        return a
    import scipy.sparse as sp

    if sp.issparse(a):
        cpsp = importlib.import_module("cupyx.scipy.sparse")
        return cpsp.csr_matrix(a.tocsr())
    return xp.asarray(a)
