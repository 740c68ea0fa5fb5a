"""The one loader of the CUDA C sources in ``csrc/``.

The ``.cu`` files ship inside the wheel as the data package ``optsolve.csrc`` (setup.py maps the
top-level ``csrc/`` folder there). Each source is compiled by ``cupy.RawModule`` on first use,
then kept in a per-process cache; CuPy's own on-disk kernel cache makes later processes fast.
"""

from __future__ import annotations

import functools
import importlib
from importlib import resources
from pathlib import Path

__all__ = ["cuda_source", "cuda_source_dir", "get_kernel", "load_module"]


def cuda_source_dir() -> Path:
    """Folder holding the installed ``.cu`` sources."""
    try:
        return Path(str(resources.files("optsolve.csrc")))
    except ModuleNotFoundError:  # pragma: no cover - a source tree without the data package
        return Path(__file__).resolve().parent.parent / "csrc"


def cuda_source(name: str) -> str:
    """Return the text of ``csrc/<name>`` (``name`` with or without ``.cu``)."""
    if not name.endswith((".cu", ".cuh")):
        name += ".cu"
    path = cuda_source_dir() / name
    if not path.is_file():
        available = sorted(p.name for p in cuda_source_dir().glob("*.cu"))
        raise FileNotFoundError(f"no CUDA source {name!r} in {path.parent}; available: {available}")
    return path.read_text(encoding="utf-8")


@functools.cache
def load_module(name: str, options: tuple[str, ...] = ("-std=c++17",)):
    """Compile (once per process) and return ``cupy.RawModule`` for ``csrc/<name>.cu``."""
    cupy = importlib.import_module("cupy")
    include = f"-I{cuda_source_dir()}"
    return cupy.RawModule(code=cuda_source(name), options=(*options, include))


def get_kernel(module: str, kernel: str):
    """Return the kernel function ``kernel`` from ``csrc/<module>.cu``."""
    return load_module(module).get_function(kernel)
