"""Run the CUDA C kernels of ``csrc/`` on the CPU, for tests on machines without a GPU.

Each ``csrc/<name>.cu`` is compiled as C++20 by the host compiler behind a prelude that maps the
CUDA built-ins onto threads: a launch runs ``blockDim.x`` host threads that step through the
blocks of the grid one after the other, ``__syncthreads`` is a barrier of those threads,
``__shfl_*_sync`` exchange values through a per-warp buffer between two warp barriers, and the
``atomic*`` functions are ``std::atomic_ref`` operations. ``__shared__`` storage is ``static``
(blocks never overlap). The semantics a kernel relies on — block barriers, warp shuffles,
atomics, grid-stride loops over any grid — are kept; timing and memory coalescing are not.

The launch checks what a real launch through ``cupy.RawKernel`` cannot: the number of
arguments, each array's dtype against the pointer type and its contiguity, and that every scalar
is a numpy scalar of the exact C type (a Python ``int`` or a ``np.int64`` for an ``int``
parameter is a silent bug on a GPU).

Only 1-D grids and blocks of a multiple of 32 threads are emulated. Dynamic shared memory
(``extern __shared__``, sized by the launch's ``shared_mem``) is one buffer per launch. Kernels
are ``extern "C"`` (the house rule of ``csrc/``).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import types
from pathlib import Path

import numpy as np

from .._cuda import cuda_source, cuda_source_dir

__all__ = ["compiler_available", "emulated_cupy", "load_emulated_module"]

_PRELUDE = r"""
#include <array>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>
#include <cstdint>
#include <algorithm>
#include <climits>
#include <cfloat>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static

struct emu_dim3 { unsigned int x = 1, y = 1, z = 1; };
static thread_local emu_dim3 threadIdx, blockIdx;
static emu_dim3 blockDim, gridDim;

struct emu_block_state {
    std::unique_ptr<std::barrier<>> block_bar;
    std::vector<std::unique_ptr<std::barrier<>>> warp_bar;
    std::vector<std::array<unsigned long long, 32>> warp_buf;
};
static emu_block_state* emu_state = nullptr;
static unsigned char* emu_dynamic_shared = nullptr;  // the launch's extern __shared__ bytes

inline void __syncthreads() { emu_state->block_bar->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) {
    emu_state->warp_bar[threadIdx.x / 32]->arrive_and_wait();
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

template <typename T>
inline T emu_exchange(T v, int src_lane, bool valid) {
    static_assert(sizeof(T) <= 8, "shuffles of at most 8 bytes");
    const unsigned w = threadIdx.x / 32, lane = threadIdx.x % 32;
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    emu_state->warp_buf[w][lane] = bits;
    emu_state->warp_bar[w]->arrive_and_wait();
    T out = v;
    if (valid) std::memcpy(&out, &emu_state->warp_buf[w][src_lane], sizeof(T));
    emu_state->warp_bar[w]->arrive_and_wait();
    return out;
}
template <typename T> inline T __shfl_sync(unsigned, T v, int src, int width = 32) {
    const int lane = threadIdx.x % 32;
    const int base = lane - lane % width;
    return emu_exchange(v, base + (src % width), true);
}
template <typename T> inline T __shfl_down_sync(unsigned, T v, unsigned d, int width = 32) {
    const int lane = threadIdx.x % 32;
    const int seg = lane % width;
    return emu_exchange(v, lane + (int)d, seg + (int)d < width);
}
template <typename T> inline T __shfl_up_sync(unsigned, T v, unsigned d, int width = 32) {
    const int lane = threadIdx.x % 32;
    const int seg = lane % width;
    return emu_exchange(v, lane - (int)d, seg - (int)d >= 0);
}
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int m, int width = 32) {
    const int lane = threadIdx.x % 32;
    return emu_exchange(v, lane ^ m, ((lane ^ m) / width) == (lane / width));
}
inline unsigned __ballot_sync(unsigned, int pred) {
    const unsigned w = threadIdx.x / 32, lane = threadIdx.x % 32;
    emu_state->warp_buf[w][lane] = pred ? 1ull : 0ull;
    emu_state->warp_bar[w]->arrive_and_wait();
    unsigned out = 0;
    for (int l = 0; l < 32; ++l) out |= (emu_state->warp_buf[w][l] ? 1u : 0u) << l;
    emu_state->warp_bar[w]->arrive_and_wait();
    return out;
}
inline int __any_sync(unsigned m, int pred) { return __ballot_sync(m, pred) != 0; }
inline int __all_sync(unsigned m, int pred) { return __ballot_sync(m, pred) == 0xffffffffu; }

template <typename T> inline T atomicAdd(T* a, T v) { return std::atomic_ref<T>(*a).fetch_add(v); }
template <typename T> inline T atomicSub(T* a, T v) { return std::atomic_ref<T>(*a).fetch_sub(v); }
template <typename T> inline T atomicExch(T* a, T v) { return std::atomic_ref<T>(*a).exchange(v); }
template <typename T> inline T atomicCAS(T* a, T expected, T desired) {
    std::atomic_ref<T>(*a).compare_exchange_strong(expected, desired);
    return expected;
}
template <typename T> inline T atomicMax(T* a, T v) {
    std::atomic_ref<T> r(*a);
    T old = r.load();
    while (old < v && !r.compare_exchange_weak(old, v)) {}
    return old;
}
template <typename T> inline T atomicMin(T* a, T v) {
    std::atomic_ref<T> r(*a);
    T old = r.load();
    while (old > v && !r.compare_exchange_weak(old, v)) {}
    return old;
}
template <typename T> inline T __ldg(const T* p) { return *p; }
template <typename A, typename B> inline auto min(A a, B b) { return a < b ? a : b; }
template <typename A, typename B> inline auto max(A a, B b) { return a < b ? b : a; }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, 8); return r; }
inline int __float_as_int(float x) { int r; std::memcpy(&r, &x, 4); return r; }
inline float __int_as_float(int x) { float r; std::memcpy(&r, &x, 4); return r; }
using std::exp; using std::log; using std::sqrt; using std::fabs; using std::log1p;
using std::expm1; using std::fmin; using std::fmax; using std::abs; using std::pow;
using std::isnan; using std::isinf; using std::isfinite; using std::floor; using std::ceil;
using std::tanh;

static void emu_run(unsigned grid, unsigned block, unsigned long long shared_bytes,
                    const std::function<void()>& body) {
    std::vector<double> dynamic_shared(shared_bytes / sizeof(double) + 2);  // 8-byte aligned
    emu_dynamic_shared = reinterpret_cast<unsigned char*>(dynamic_shared.data());
    emu_block_state st;
    st.block_bar = std::make_unique<std::barrier<>>(block);
    const unsigned n_warps = block / 32;
    for (unsigned w = 0; w < n_warps; ++w)
        st.warp_bar.push_back(std::make_unique<std::barrier<>>(32));
    st.warp_buf.resize(n_warps);
    emu_state = &st;
    blockDim.x = block;
    gridDim.x = grid;
    std::vector<std::thread> threads;
    threads.reserve(block);
    for (unsigned t = 0; t < block; ++t) {
        threads.emplace_back([t, grid, &body, &st] {
            threadIdx.x = t;
            for (unsigned b = 0; b < grid; ++b) {
                blockIdx.x = b;
                body();
                st.block_bar->arrive_and_wait();  // blocks never overlap: static shared memory
            }
        });
    }
    for (auto& th : threads) th.join();
    emu_state = nullptr;
}
"""

_DYNAMIC_SHARED = re.compile(r"extern\s+__shared__\s+([A-Za-z_][\w ]*?)\s+(\w+)\s*\[\s*\]\s*;")
# kernels are extern "C" (one by one or in an ``extern "C" {}`` block), so never templates
_KERNEL = re.compile(r'__global__\s+void\s+(\w+)\s*\(([^)]*)\)', re.S)
_POINTEE = {"double": np.float64, "float": np.float32, "int": np.int32, "long long": np.int64,
            "unsigned int": np.uint32, "unsigned": np.uint32, "unsigned long long": np.uint64,
            "long long int": np.int64, "char": np.int8, "unsigned char": np.uint8,
            "bool": np.bool_, "int32_t": np.int32, "int64_t": np.int64}
_CTYPE = {np.float64: ctypes.c_double, np.float32: ctypes.c_float, np.int32: ctypes.c_int32,
          np.int64: ctypes.c_int64, np.uint32: ctypes.c_uint32, np.uint64: ctypes.c_uint64,
          np.int8: ctypes.c_int8, np.uint8: ctypes.c_uint8, np.bool_: ctypes.c_bool}


def compiler_available() -> bool:
    """True when a C++20 host compiler (``CXX`` or ``g++``/``clang++``) is on the PATH."""
    return _compiler() is not None


def _compiler() -> str | None:
    for name in (os.environ.get("CXX"), "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _parse_params(text: str) -> list[tuple[str, object, bool]]:
    """``(name, numpy dtype, is_pointer)`` of each kernel parameter."""
    out = []
    for raw in text.split(","):
        raw = " ".join(raw.replace("__restrict__", " ").split())
        if not raw:
            continue
        pointer = "*" in raw
        raw = raw.replace("*", " ")
        words = [w for w in raw.split() if w not in ("const", "volatile")]
        name, ctype = words[-1], " ".join(words[:-1])
        if ctype not in _POINTEE:
            raise TypeError(f"the CUDA emulator does not know the parameter type {ctype!r}")
        out.append((name, _POINTEE[ctype], pointer))
    return out


class EmulatedKernel:
    """One ``extern "C"`` kernel, called as ``kernel(grid, block, args)`` like a CuPy kernel."""

    def __init__(self, lib: ctypes.CDLL, name: str, params):
        self.name, self.params = name, params
        self._fn = getattr(lib, f"emu_launch_{name}")
        argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64]
        argtypes += [ctypes.c_void_p if ptr else _CTYPE[dt] for _, dt, ptr in params]
        self._fn.argtypes = argtypes
        self._fn.restype = None

    def __call__(self, grid, block, args, *, shared_mem: int = 0, **kwargs) -> None:
        grid, block = tuple(grid), tuple(block)
        if len(grid) != 1 or len(block) != 1:
            raise ValueError(f"{self.name}: the emulator runs 1-D launches only")
        if block[0] % 32 or not 0 < block[0] <= 1024:
            raise ValueError(f"{self.name}: block of {block[0]} threads (a multiple of 32, "
                             "at most 1024, expected)")
        if grid[0] < 1:
            raise ValueError(f"{self.name}: empty grid")
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {len(self.params)} arguments, got {len(args)}")
        values, keep = [], []
        for (pname, dt, ptr), a in zip(self.params, args, strict=True):
            if ptr:
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"{self.name}: argument {pname!r} must be an array, got "
                                    f"{type(a).__name__}")
                if a.dtype != dt:
                    raise TypeError(f"{self.name}: argument {pname!r} must be "
                                    f"{np.dtype(dt).name}, got {a.dtype.name}")
                if not a.flags.c_contiguous:
                    raise ValueError(f"{self.name}: argument {pname!r} is not contiguous")
                keep.append(a)
                values.append(a.ctypes.data if a.size else None)
            else:
                if not isinstance(a, np.generic) or a.dtype != dt:
                    got = a.dtype.name if isinstance(a, np.generic) else type(a).__name__
                    raise TypeError(f"{self.name}: scalar {pname!r} must be a numpy "
                                    f"{np.dtype(dt).name}, got {got}")
                values.append(a.item())
        self._fn(grid[0], block[0], int(shared_mem), *values)


class EmulatedModule:
    def __init__(self, lib, kernels):
        self._lib, self._kernels = lib, kernels

    def get_function(self, name: str) -> EmulatedKernel:
        if name not in self._kernels:
            raise AttributeError(f"no kernel {name!r}; have {sorted(self._kernels)}")
        return self._kernels[name]


@functools.cache
def load_emulated_module(name: str, options: tuple[str, ...] = ()) -> EmulatedModule:
    """Compile ``csrc/<name>.cu`` for the CPU emulator (cached on disk by source hash).

    ``options`` (the NVRTC options a real load would use) are accepted and ignored, so this can
    stand in for :func:`optsolve._cuda.load_module`.
    """
    cxx = _compiler()
    if cxx is None:
        raise RuntimeError("the CUDA emulator needs a C++20 compiler (g++ or clang++)")
    source = _DYNAMIC_SHARED.sub(
        r"\1* \2 = reinterpret_cast<\1*>(emu_dynamic_shared);", cuda_source(name))
    # signatures from the preprocessed source: parameter lists may be macros
    pre = subprocess.run([cxx, "-E", "-P", "-x", "c++", "-std=c++20", f"-I{cuda_source_dir()}",
                          "-"], input=source, capture_output=True, text=True)
    if pre.returncode:
        raise RuntimeError(f"preprocessing csrc/{name}.cu failed:\n{pre.stderr[-4000:]}")
    kernels = [(m.group(1), _parse_params(m.group(2))) for m in _KERNEL.finditer(pre.stdout)]
    launchers = []
    for kname, params in kernels:
        decl = ", ".join(("void* " if ptr else f"{_c_name(dt)} ") + pname
                         for pname, dt, ptr in params)
        call = ", ".join((f"({_c_name(dt)}*){pname}" if ptr else pname)
                         for pname, dt, ptr in params)
        sep = ", " if decl else ""
        launchers.append(
            f'extern "C" void emu_launch_{kname}(unsigned grid, unsigned block, '
            f"unsigned long long shared{sep}{decl}) "
            f"{{ emu_run(grid, block, shared, [&] {{ {kname}({call}); }}); }}")
    text = _PRELUDE + f'\n#line 1 "{name}.cu"\n' + source + "\n" + "\n".join(launchers) + "\n"
    key = hashlib.sha256((text + cxx).encode()).hexdigest()[:16]
    build = Path(tempfile.gettempdir()) / f"optsolve-cuda-emulation-{os.getuid()}"
    build.mkdir(parents=True, exist_ok=True)
    lib_path = build / f"{name}-{key}.so"
    if not lib_path.exists():
        src = build / f"{name}-{key}.cpp"
        src.write_text(text, encoding="utf-8")
        tmp = build / f"{name}-{key}.{os.getpid()}.so"
        cmd = [cxx, "-std=c++20", "-O1", "-ffp-contract=off", "-fPIC", "-shared", "-pthread",
               f"-I{cuda_source_dir()}", "-o", str(tmp), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"emulated build of csrc/{name}.cu failed:\n{proc.stderr[-4000:]}")
        os.replace(tmp, lib_path)
    lib = ctypes.CDLL(str(lib_path))
    return EmulatedModule(lib, {k: EmulatedKernel(lib, k, p) for k, p in kernels})


def _c_name(dt) -> str:
    return {np.float64: "double", np.float32: "float", np.int32: "int", np.int64: "long long",
            np.uint32: "unsigned int", np.uint64: "unsigned long long", np.int8: "char",
            np.uint8: "unsigned char", np.bool_: "bool"}[dt]


def emulated_cupy() -> types.ModuleType:
    """A stand-in for the ``cupy`` namespace: numpy functions under another module object.

    Code that chooses between its numpy reference and its kernel launch with ``xp is numpy``
    takes the kernel branch with it, and the arrays stay numpy arrays that the emulated kernels
    accept.
    """
    mod = types.ModuleType("emulated_cupy")
    mod.__getattr__ = lambda attr: getattr(np, attr)  # type: ignore[attr-defined]
    mod.ndarray = np.ndarray
    return mod

