"""Test helpers (like ``sklearn.utils._testing``): the data-or-skip policy of the test suite.

Tests that need data files call :func:`need_data`. When a file is absent they skip with a
reason, unless ``OPTSOLVE_REQUIRE_DATA=1`` (set by ``.ci/run``), which turns the skip into a
failure so that CI always runs them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["need_data"]


def need_data(relpath: str) -> Path:
    """Return ``$OPTSOLVE_DATA/relpath``, or skip (fail under OPTSOLVE_REQUIRE_DATA=1)."""
    import pytest

    root = os.environ.get("OPTSOLVE_DATA")
    path = Path(root) / relpath if root else None
    if path is not None and path.exists():
        return path
    msg = f"data file {relpath!r} not found under OPTSOLVE_DATA={root!r}"
    if os.environ.get("OPTSOLVE_REQUIRE_DATA") == "1":
        pytest.fail(msg + " and OPTSOLVE_REQUIRE_DATA=1")
    pytest.skip(msg)
