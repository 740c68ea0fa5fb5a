"""The README opens with the two commands, and .ci/run runs exactly the test command."""

import re
from pathlib import Path

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
