"""Reports in a real browser: headless Chromium (Debian package ``chromium``) screenshots every report kind,
and each screenshot must show a page (pixel spread and inked area well above a blank page's)."""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import report_fixtures as rf

from gplopt.report import render

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("screenshot_report", ROOT / "tools" / "screenshot_report.py")
assert _spec is not None and _spec.loader is not None
shot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shot)

small, synthetic_design, result_dirs = rf.small, rf.synthetic_design, rf.result_dirs   # shared fixtures
pytestmark = pytest.mark.skipif(shot.chromium() is None, reason="headless Chromium is not installed "
                                "(apt-get install chromium); .ci/run installs it when run as root in CI")


def test_blank_page_is_detected(tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    sd, inked = shot.ink(shot.screenshot(page, tmp_path / "blank.png", height=600))
    assert sd < 0.01 and inked < 0.001


def test_every_report_kind_renders_in_chromium(result_dirs: dict[str, Path], tmp_path: Path) -> None:
    pages = {k: render(result_dirs[k], tmp_path / k)[1] for k in rf.KINDS}

    def take(kind: str) -> tuple[str, tuple[float, float]]:
        return kind, shot.ink(shot.screenshot(pages[kind], tmp_path / f"{kind}.png", height=1400))

    with ThreadPoolExecutor(3) as ex:
        got = dict(ex.map(take, rf.KINDS))
    for kind, (sd, inked) in got.items():
        assert sd > 0.05 and inked > 0.02, f"{kind}: the screenshot looks blank (s.d. {sd:.3f}, {inked:.1%} inked)"
