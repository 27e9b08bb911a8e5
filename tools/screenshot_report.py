"""Render a report's first screen with headless Chromium (Debian package `chromium`) into a PNG.

Usage: python tools/screenshot_report.py REPORT_DIR/report.html OUT.png
This is the documented check behind docs/img/report-first-screen.png.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    html, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--window-size=1280,1600", f"--screenshot={out}",
                        html.as_uri()], check=True, capture_output=True, timeout=120)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
