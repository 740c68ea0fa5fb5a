"""Render pages of the built site to PNG with headless Chromium, to look at them as a reader.

Usage (after ``python -m sphinx -W -b html docs docs/_build/html``)::

    python docs/screenshots.py [--out docs/_build/screenshots] [--width 1280] [--height 2400]

Writes one PNG per page: the index, one family guide and one notebook page (and any pages given
with ``--page``). Needs Debian's ``chromium`` package (``apt-get install -y chromium``) or
another Chromium/Chrome on PATH (``--browser``). MathJax is loaded from its CDN by Sphinx, so
the math renders only when the machine is online; ``--virtual-time`` lets scripts finish.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = HERE / "_build" / "html"
PAGES = ["index.html", "guide/randomwalk.html", "notebooks/01_greedy_bcd.html"]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser(name: str | None) -> str:
    for candidate in (name,) if name else BROWSERS:
        path = shutil.which(candidate)
        if path:
            return path
    raise SystemExit(f"no Chromium found (tried {', '.join(BROWSERS)}): apt-get install chromium")


def screenshot(browser: str, page: Path, png: Path, width: int, height: int, wait_ms: int):
    """Render ``page`` at ``width`` × ``height`` CSS pixels to ``png``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        browser,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={width},{height}",
        f"--virtual-time-budget={wait_ms}",
        f"--screenshot={png}",
        page.as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot for {page}")
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--out", type=Path, default=HERE / "_build" / "screenshots")
    parser.add_argument("--page", action="append", default=[], help="extra page, relative")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2400)
    parser.add_argument("--virtual-time", type=int, default=5000, help="ms for scripts to run")
    parser.add_argument("--browser", default=None)
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        raise SystemExit(f"{args.site}/index.html missing: build the site first")
    browser = find_browser(args.browser)
    for rel in PAGES + args.page:
        png = args.out / (rel.replace("/", "_").removesuffix(".html") + ".png")
        screenshot(browser, args.site / rel, png, args.width, args.height, args.virtual_time)
        sys.stdout.write(f"{png}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
