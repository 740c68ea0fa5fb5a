#!/usr/bin/env bash
# GPU tests and GPU benchmarks in one go, for a session lent a GPU machine.
#   bash bench/gpu_check.sh            (writes ${OUT:-optsolve-results}/gpu_check.txt and gpu_bench.csv)
#   bash bench/gpu_check.sh --small    (tiny benchmark sizes: a smoke run)
# GPU_CHECK_BUDGET (seconds, default 540) bounds the whole run, so that it fits one 10-minute call
# of a lent machine: the tests get at most 200 s, each benchmark an equal share of what is left.
# Needs CuPy on the machine (`pip install 'optsolve[gpu]'` elsewhere; the device image has it).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-optsolve-results}"
mkdir -p "$out"
rm -f "$out/gpu_bench.csv"
export OUT="$out"
PY="${PYTHON:-$(command -v python3 || command -v python)}"
budget="${GPU_CHECK_BUDGET:-540}"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
{
  echo "== optsolve GPU check $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.mem --format=csv,noheader 2>/dev/null
  "$PY" - <<'PY'
import cupy as cp, numpy, numba, scipy, sklearn
p = cp.cuda.runtime.getDeviceProperties(0)
peak = 2.0 * p["memoryClockRate"] * 1e3 * p["memoryBusWidth"] / 8 / 1e9
print(f"device: {p['name'].decode()}, {p['multiProcessorCount']} SMs, peak DRAM {peak:.0f} GB/s; "
      f"cupy {cp.__version__}, numpy {numpy.__version__}, numba {numba.__version__}, "
      f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}")
PY
  echo "== GPU tests"
  t0=$SECONDS
  timeout 200 "$PY" -m pytest tests/gpu -q --maxfail=20 \
    -o addopts="--import-mode=importlib -ra" -p no:cacheprovider --durations=8 2>&1
  echo "== GPU tests took $((SECONDS - t0)) s"
  echo "== GPU benchmarks (CPU path vs GPU path, same problem; speed-up = CPU time / GPU time)"
  scripts=(bench/gpu_*.py)
  n_left=${#scripts[@]}
  for script in "${scripts[@]}"; do
    [ -e "$script" ] || continue
    share=$(( (budget - SECONDS) / n_left ))
    n_left=$((n_left - 1))
    if [ "$share" -lt 20 ]; then echo "-- $script skipped: out of time budget"; continue; fi
    echo "-- $script (at most $share s)"
    t0=$SECONDS
    timeout "$share" "$PY" "$script" "$@" 2>&1
    echo "-- $script took $((SECONDS - t0)) s"
  done
  echo "== summary (speed-up = CPU / GPU; GB/s = minimum DRAM traffic / GPU time)"
  "$PY" - "$out/gpu_bench.csv" <<'PY'
import csv, sys
try:
    rows = list(csv.DictReader(open(sys.argv[1])))
except FileNotFoundError:
    rows = []
print(f"{'family':<11} {'operation':<38} {'size':<22} {'CPU ms':>10} {'GPU ms':>9} {'speed-up':>8} {'GB/s':>7} {'%peak':>6}")
for r in rows:
    print(f"{r['family']:<11} {r['operation'][:38]:<38} {r['size'][:22]:<22} {1e3*float(r['cpu_s']):>10.2f} "
          f"{1e3*float(r['gpu_s']):>9.3f} {float(r['speedup']):>7.1f}x {float(r['gb_per_s']):>7.0f} {float(r['pct_peak']):>5.0f}%")
PY
} 2>&1 | tee "$out/gpu_check.txt"
