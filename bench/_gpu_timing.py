"""Shared timing and reporting for the ``bench/gpu_*.py`` scripts (run by bench/gpu_check.sh).

Every script times the CPU path (numpy/numba, all cores) and the GPU path (CuPy) on the same
problem and calls :func:`report` once per operation; the rows print as one table and are also
appended to ``$OUT/gpu_bench.csv`` (``optsolve-results/`` when ``OUT`` is unset).
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

HEADER = (f"{'family':<11} {'operation':<34} {'size':<22} {'CPU [ms]':>10} {'GPU [ms]':>9} "
          f"{'speed-up':>8} {'GB/s':>7} {'% peak':>6}")


def peak_bandwidth_gbs() -> float:
    """Theoretical DRAM bandwidth of GPU 0 in GB/s: 2 (DDR) x memory clock x bus width."""
    import cupy as cp

    props = cp.cuda.runtime.getDeviceProperties(0)
    return 2.0 * props["memoryClockRate"] * 1e3 * props["memoryBusWidth"] / 8 / 1e9


def gpu_time(fn, *, reps: int = 5, warmup: int = 1) -> float:
    """Median seconds of ``fn()`` on the GPU, synchronized with CUDA events."""
    import cupy as cp

    for _ in range(warmup):
        fn()
    cp.cuda.Device().synchronize()
    times = []
    for _ in range(reps):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop) / 1e3)
    return sorted(times)[len(times) // 2]


def cpu_time(fn, *, reps: int = 3, warmup: int = 1) -> float:
    """Median seconds of ``fn()`` on the host (after ``warmup`` calls, e.g. numba compilation)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


_printed_header = False


def report(family: str, operation: str, size: str, t_cpu: float, t_gpu: float,
           bytes_moved: float | None = None) -> None:
    """Print one table row (and append it to the CSV): speed-up = t_cpu / t_gpu.

    ``bytes_moved`` is the DRAM traffic the GPU operation must make at least (reads + writes);
    with it the row shows the achieved bandwidth and its share of the card's peak.
    """
    global _printed_header
    if not _printed_header:
        print(HEADER)
        _printed_header = True
    gbs = pct = float("nan")
    if bytes_moved:
        gbs = bytes_moved / t_gpu / 1e9
        pct = 100 * gbs / peak_bandwidth_gbs()
    print(f"{family:<11} {operation:<34} {size:<22} {t_cpu * 1e3:>10.2f} {t_gpu * 1e3:>9.3f} "
          f"{t_cpu / t_gpu:>7.1f}x {gbs:>7.0f} {pct:>5.0f}%", flush=True)
    out = Path(os.environ.get("OUT", "optsolve-results"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "gpu_bench.csv"
    new = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["family", "operation", "size", "cpu_s", "gpu_s", "speedup", "gb_per_s",
                        "pct_peak"])
        w.writerow([family, operation, size, t_cpu, t_gpu, t_cpu / t_gpu, gbs, pct])
