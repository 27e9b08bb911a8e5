"""``gplopt report``: render a result directory written by sweep, paper or design."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gplopt.cli.common import ForceOpt, JsonOpt, console, emit_json
from gplopt.errors import InstanceError


def report(
    result_dir: Annotated[Path, typer.Argument(help="Directory written by sweep, paper or design")],
    out: Annotated[Path, typer.Option(help="Where report.md, report.html and the figures go")],
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Render a result directory into report.md and a self-contained report.html (figures embedded)."""
    from gplopt.io import prepare_out_dir
    from gplopt.report import render

    if not result_dir.is_dir():
        raise InstanceError("RESULT_DIR", "an existing directory", str(result_dir))
    out_dir = prepare_out_dir(out, force)
    md, page = render(result_dir, out_dir)
    if as_json:
        emit_json({"report_md": str(md), "report_html": str(page),
                   "figures": sorted(p.name for p in out_dir.glob("*.png"))})
        return
    console.print(f"wrote {md} and {page}")
