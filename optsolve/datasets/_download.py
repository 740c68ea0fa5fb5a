"""Download with a progress bar and sha256 check; clear errors when offline."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

logger = logging.getLogger("optsolve.datasets")

__all__ = ["DownloadError", "download", "sha256sum"]

_CHUNK = 1 << 16


class DownloadError(OSError):
    """The file could not be fetched (offline, HTTP error) or failed its checksum."""


def sha256sum(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    opener: Callable[[str], IO[bytes]] | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Fetch ``url`` into ``dest`` atomically (``dest.part`` then rename).

    Parameters
    ----------
    url : str
        Source address.
    dest : path
        Final file path; its folder is created.
    sha256 : str, optional
        Expected hex digest. On mismatch the partial file is removed and
        :class:`DownloadError` is raised.
    opener : callable, optional
        ``opener(url)`` returning a binary file-like response (default: ``urllib``). Tests pass
        a fake opener or point ``url`` at a local HTTP server.
    progress : bool
        Show a tqdm bar when tqdm is installed.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        resp = opener(url) if opener is not None else urllib.request.urlopen(url, timeout=timeout)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DownloadError(
            f"could not download {url}: {exc}. If this machine is offline, copy the file to "
            f"{dest} yourself, or point OPTSOLVE_DATA at a folder that holds it."
        ) from exc
    total = None
    headers = getattr(resp, "headers", None)
    if headers is not None and headers.get("Content-Length"):
        total = int(headers.get("Content-Length"))
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, leave=False)
        except ImportError:
            bar = None
    h = hashlib.sha256()
    try:
        with resp, open(part, "wb") as out:
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                h.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(f"download of {url} broke off: {exc}") from exc
    finally:
        if bar is not None:
            bar.close()
    digest = h.hexdigest()
    if sha256 is not None and digest != sha256.lower():
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"checksum mismatch for {url}: expected sha256 {sha256}, got {digest}; the file was "
            "removed. The source may have changed or the transfer was corrupted."
        )
    if sha256 is None:
        logger.info("downloaded %s (sha256 %s, no reference checksum known)", url, digest)
    shutil.move(part, dest)
    return dest
