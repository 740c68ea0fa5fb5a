"""Achieved memory bandwidth of the csrc/ axpy kernel against the card's theoretical peak,
and the same operation on the CPU (numpy) for the ratio. Runs on a GPU machine only."""

import time

import numpy as np

from optsolve._cuda import get_kernel


def main(n: int = 1 << 27) -> None:
    import cupy as cp

    props = cp.cuda.runtime.getDeviceProperties(0)
    # theoretical DRAM bandwidth: 2 (DDR) x memory clock (kHz) x bus width (bytes)
    peak = 2.0 * props["memoryClockRate"] * 1e3 * props["memoryBusWidth"] / 8 / 1e9
    x = cp.random.standard_normal(n)
    y = cp.random.standard_normal(n)
    out = cp.empty_like(x)
    kern = get_kernel("axpy", "scaled_add")
    args = (x, y, np.float64(2.0), out, np.int64(n))
    kern((4096,), (256,), args)
    cp.cuda.Device().synchronize()
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        kern((4096,), (256,), args)
    cp.cuda.Device().synchronize()
    t_gpu = (time.perf_counter() - t0) / reps
    xh, yh = cp.asnumpy(x[: n // 8]), cp.asnumpy(y[: n // 8])
    t0 = time.perf_counter()
    np.add(2.0 * xh, yh)
    t_cpu = (time.perf_counter() - t0) * 8  # scaled to the full size
    moved = 3 * 8 * n / 1e9
    print(f"{'kernel':<12} {'n':>12} {'GPU [ms]':>9} {'GB/s':>8} {'peak GB/s':>10} {'% peak':>7} "
          f"{'CPU [ms]':>9} {'speed-up':>9}")
    print(f"{'axpy':<12} {n:>12d} {t_gpu * 1e3:>9.3f} {moved / t_gpu:>8.1f} {peak:>10.1f} "
          f"{100 * moved / t_gpu / peak:>6.1f}% {t_cpu * 1e3:>9.1f} {t_cpu / t_gpu:>8.1f}x")


if __name__ == "__main__":
    main()
