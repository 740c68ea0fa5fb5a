"""The README opens with the two commands, and .ci/run runs exactly the test command."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from optsolve.utils._testing import need_data

REPO = Path(__file__).resolve().parents[2]


def _code_blocks(text):
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_opens_with_main_job_then_test_command():
    blocks = _code_blocks((REPO / "README.md").read_text())
    main_job, tests = blocks[0], blocks[1]
    assert "\n" not in main_job and "\n" not in tests  # one line each
    assert "[bench]" in main_job and main_job.endswith("optsolve bench --suite quick")
    assert "[test" in tests and tests.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    tests = _code_blocks((REPO / "README.md").read_text())[1]
    ci_lines = [ln.strip() for ln in (REPO / ".ci" / "run").read_text().splitlines()]
    assert tests in ci_lines
    assert "OPTSOLVE_REQUIRE_DATA=1" in (REPO / ".ci" / "run").read_text()


def _python_blocks():
    text = (REPO / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("block", _python_blocks(), ids=lambda b: b.split("\n")[0][:40])
def test_readme_python_examples_run(block, tmp_path):
    if "load_movielens" in block:
        need_data("ratings/ml-100k/u.data")
    if "load_libsvm(" in block:
        need_data("libsvm/a9a")
    if "import cupy" in block:
        pytest.importorskip("cupy", reason="the GPU example needs CuPy and a GPU")
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
