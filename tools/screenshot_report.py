"""Screenshot reports with headless Chromium (Debian package `chromium`) and check they are not blank.

Usage: python tools/screenshot_report.py REPORT_DIR/report.html OUT.png [--height PX]
The rendering test (tests/test_report_browser.py) and the screenshots in docs/img/ use this.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def screenshot(html: Path, out: Path, width: int = 1280, height: int = 1600, timeout: float = 120.0) -> Path:
    """Render ``html`` in headless Chromium at width x height CSS pixels into the PNG ``out``."""
    exe = chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--hide-scrollbars", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                        f"--window-size={width},{height}", f"--screenshot={out.resolve()}",
                        html.resolve().as_uri()], check=True, capture_output=True, timeout=timeout)
    return out


def ink(png: Path) -> tuple[float, float]:
    """(standard deviation of the grey levels, fraction of non-white pixels): a blank page gives ~(0, 0)."""
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    grey = img[..., :3].mean(axis=2) if img.ndim == 3 else img
    return float(grey.std()), float((grey < 0.95).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--height", type=int, default=1600)
    a = ap.parse_args()
    try:
        screenshot(a.html, a.out, height=a.height)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    sd, frac = ink(a.out)
    print(f"wrote {a.out} (grey-level s.d. {sd:.3f}, {frac:.1%} of pixels inked)")
    return 0 if sd > 0.02 and frac > 0.01 else 1


if __name__ == "__main__":
    raise SystemExit(main())
