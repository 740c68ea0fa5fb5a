#!/usr/bin/env bash
# GPU tests and GPU benchmarks in one go, for a session lent a GPU machine.
#   bash bench/gpu_check.sh            (writes ${OUT:-optsolve-results}/gpu_check.txt)
# Needs CuPy on the machine (`pip install 'optsolve[gpu]'` elsewhere; the device image has it).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-optsolve-results}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
{
  echo "== optsolve GPU check $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
  python - <<'PY'
import cupy as cp
p = cp.cuda.runtime.getDeviceProperties(0)
print(f"device: {p['name'].decode()}  cupy {cp.__version__}")
PY
  echo "== GPU tests"
  python -m pytest tests/gpu -q -o addopts="--import-mode=importlib -ra" -p no:cacheprovider 2>&1
  echo "== GPU benchmarks (CPU reference vs GPU, same problem; ratio = CPU time / GPU time)"
  for script in bench/gpu_*.py; do
    [ -e "$script" ] || continue
    echo "-- $script"
    timeout 300 python "$script" 2>&1
  done
} | tee "$out/gpu_check.txt"
