"""Is CUTEst usable through pycutest here? One place that answers, with set-up instructions."""

from __future__ import annotations

import importlib.util
import os

__all__ = ["CUTEST_SETUP_HELP", "cutest_status"]

CUTEST_SETUP_HELP = """\
CUTEst problems need pycutest and a CUTEst installation:
  1. pip install 'optsolve[cutest]'            (installs pycutest)
  2. build ARCHDefs, SIFDecode and CUTEst (see pycutest's installation guide), then set
       export ARCHDEFS=/path/to/archdefs SIFDECODE=/path/to/sifdecode
       export CUTEST=/path/to/cutest MASTSIF=/path/to/mastsif
       export MYARCH=pc64.lnx.gfo
  3. optionally export PYCUTEST_CACHE=/writable/folder (compiled problems are cached there)."""


def cutest_status() -> tuple[bool, str]:
    """Return ``(ok, reason)``: whether pycutest imports and CUTEst is configured.

    Does not import pycutest (its import fails loudly without the environment variables).

    Examples
    --------
    >>> ok, why = cutest_status()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    if importlib.util.find_spec("pycutest") is None:
        return False, "pycutest is not installed.\n" + CUTEST_SETUP_HELP
    missing = [v for v in ("ARCHDEFS", "SIFDECODE", "CUTEST", "MASTSIF", "MYARCH")
               if not os.environ.get(v)]
    if missing:
        return False, (
            f"CUTEst is not configured: environment variable(s) {', '.join(missing)} not set.\n"
            + CUTEST_SETUP_HELP
        )
    return True, ""
