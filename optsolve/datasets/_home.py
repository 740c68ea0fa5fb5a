"""Where data lives: ``$OPTSOLVE_DATA`` (default ``~/optsolve_data``) and a writable cache."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["get_cache_home", "get_data_home", "writable_dir"]


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder searched first for data files.

    ``data_home`` if given, else ``$OPTSOLVE_DATA``, else ``~/optsolve_data``. The folder may be
    read-only (CI mounts the shared copy without write bits): downloads and parsed caches then
    go to :func:`get_cache_home`.

    Examples
    --------
    >>> from optsolve.datasets import get_data_home
    >>> get_data_home("/tmp/my_data").name
    'my_data'
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("OPTSOLVE_DATA")
    return Path(env).expanduser() if env else Path.home() / "optsolve_data"


def get_cache_home() -> Path:
    """Writable cache: ``$OPTSOLVE_CACHE``, else ``$XDG_CACHE_HOME/optsolve``, else ``~/.cache``."""
    env = os.environ.get("OPTSOLVE_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "optsolve"


def _is_writable(d: Path) -> bool:
    # os.access alone says yes to root on a folder without write bits (CI runs as root over a
    # read-only shared copy): also honour the mode bits, so shared data is never written to.
    try:
        return os.access(d, os.W_OK) and bool(d.stat().st_mode & 0o222)
    except OSError:
        return False


def writable_dir(preferred: Path, fallback: Path) -> Path:
    """Return ``preferred`` when it can be created and written, else ``fallback`` (created).

    A folder without any write bit counts as read-only even for root.
    """
    for d in (preferred, fallback):
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if _is_writable(d):
            return d
    raise PermissionError(f"neither {preferred} nor {fallback} is writable; set OPTSOLVE_CACHE")
