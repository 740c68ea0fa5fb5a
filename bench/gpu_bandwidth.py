"""Achieved memory bandwidth of the csrc/ axpy kernel against the card's theoretical peak, and
the same operation on the CPU (numpy) for the ratio: the ceiling every other row is read
against. Runs on a GPU machine only (bench/gpu_check.sh)."""

import sys

import numpy as np
from _gpu_timing import cpu_time, gpu_time, report

from optsolve._cuda import get_kernel


def main() -> None:
    import cupy as cp

    n = 1 << (16 if "--small" in sys.argv else 27)
    x = cp.random.standard_normal(n)
    y = cp.random.standard_normal(n)
    out = cp.empty_like(x)
    kern = get_kernel("axpy", "scaled_add")
    args = (x, y, np.float64(2.0), out, np.int64(n))
    t_gpu = gpu_time(lambda: kern((4096,), (256,), args), reps=20)
    xh, yh = x.get(), y.get()
    oh = np.empty_like(xh)

    def cpu():
        np.multiply(xh, 2.0, out=oh)
        np.add(oh, yh, out=oh)

    report("memory", "axpy out = a x + y (stream)", f"n={n:.1e}", cpu_time(cpu), t_gpu,
           3 * 8 * n)


if __name__ == "__main__":
    main()
