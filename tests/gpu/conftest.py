"""GPU-only tests: the whole folder is skipped unless CuPy imports and sees a CUDA device."""

import pytest


def _gpu_available() -> tuple[bool, str]:
    try:
        import cupy
    except Exception as exc:  # ImportError, or a CUDA library that fails to load
        return False, f"CuPy is not importable ({type(exc).__name__}: {exc})"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return False, f"no CUDA device ({type(exc).__name__}: {exc})"
    return (n > 0), ("" if n > 0 else "no CUDA device")


GPU_OK, GPU_WHY = _gpu_available()


def pytest_collection_modifyitems(config, items):
    if GPU_OK:
        return
    skip = pytest.mark.skip(reason=f"GPU tests need a CUDA GPU: {GPU_WHY}")
    for item in items:
        if "tests/gpu/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)
