"""Shared test fixtures: the shared benchmark data, and the data-or-skip policy.

Tests that need data files call :func:`need_data`. When the file is absent they skip with a
reason, unless ``OPTSOLVE_REQUIRE_DATA=1`` (set by ``.ci/run``), which turns the skip into a
failure so that CI always runs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# A checkout with ../shared/data beside it (CI, developers) uses it unless told otherwise.
if not os.environ.get("OPTSOLVE_DATA") and (REPO.parent / "shared" / "data").is_dir():
    os.environ["OPTSOLVE_DATA"] = str(REPO.parent / "shared" / "data")


def need_data(relpath: str) -> Path:
    """Return ``$OPTSOLVE_DATA/relpath``, or skip (fail under OPTSOLVE_REQUIRE_DATA=1)."""
    root = os.environ.get("OPTSOLVE_DATA")
    path = Path(root) / relpath if root else None
    if path is not None and path.exists():
        return path
    msg = f"data file {relpath!r} not found under OPTSOLVE_DATA={root!r}"
    if os.environ.get("OPTSOLVE_REQUIRE_DATA") == "1":
        pytest.fail(msg + " and OPTSOLVE_REQUIRE_DATA=1")
    pytest.skip(msg)


@pytest.fixture
def shared_data():
    """The shared data folder (skips/fails like :func:`need_data` when absent)."""
    return need_data(".")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Parsed caches and downloads of a test go to a temporary folder, never to $HOME."""
    monkeypatch.setenv("OPTSOLVE_CACHE", str(tmp_path_factory.getbasetemp() / "optsolve-cache"))
