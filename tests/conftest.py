"""Shared test configuration.

A checkout with ``../shared/data`` beside it uses that folder as ``OPTSOLVE_DATA`` unless the
variable is set. Tests needing data call ``optsolve.utils._testing.need_data``. Parsed caches
and downloads go to a temporary folder, never to ``$HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

if not os.environ.get("OPTSOLVE_DATA") and (REPO.parent / "shared" / "data").is_dir():
    os.environ["OPTSOLVE_DATA"] = str(REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("OPTSOLVE_CACHE", str(tmp_path_factory.getbasetemp() / "optsolve-cache"))
