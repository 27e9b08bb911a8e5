"""``gplopt import pandapower|matpower|simbench``: parse, call the importer, write, print the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                         help="Import a feeder from pandapower, MATPOWER or SimBench into a gplopt instance.")

OutOpt = Annotated[Path, typer.Option("--out", help="Instance JSON to write (profiles go beside it)",
                                      show_default=False)]
FmtOpt = Annotated[str, typer.Option("--profiles-format", help="csv, csv.gz, or parquet (needs gplopt[parquet])")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing output files")]
NameOpt = Annotated[str | None, typer.Option("--name", help="Case name (default: from the source)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable summary and full report on stdout")]


def _finish(imp: Any, out: Path, fmt: str, force: bool, as_json: bool) -> None:
    from gplopt.cli.common import console, emit_json
    from gplopt.importers.write import grouped, write_imported

    summary = write_imported(imp, out, fmt=fmt, force=force)
    if as_json:
        emit_json(summary)
        return
    kept = ", ".join(f"{n} {t}" for t, n in summary["report"]["kept"].items())
    console.print(f"wrote {summary['instance']}: {summary['buses']} buses, {summary['branches']} branches, "
                  f"{summary['units']} units" + (f"; profiles {summary['profiles']}" if summary["profiles"] else ""))
    console.print(f"kept: {kept}", highlight=False)
    for line in grouped(summary["report"]):
        console.print(line, highlight=False, soft_wrap=True)


@import_app.command("pandapower")
def pandapower_cmd(net_json: Annotated[Path, typer.Argument(help="pandapower network (pandapower.to_json)")],
                   out: OutOpt, fmt: FmtOpt = "csv", force: ForceOpt = False, name: NameOpt = None,
                   as_json: JsonOpt = False) -> None:
    """A pandapower network; SimBench-style net.profiles, if present, become the instance's hourly profiles."""
    from gplopt.importers.pandapower import net_to_instance, read_pandapower_json
    from gplopt.importers.simbench import has_profiles, import_with_profiles

    net = read_pandapower_json(net_json)
    label = name or net_json.stem
    imp = import_with_profiles(net, label) if has_profiles(net) else net_to_instance(net, name=label)
    _finish(imp, out, fmt, force, as_json)


@import_app.command("matpower")
def matpower_cmd(case: Annotated[Path, typer.Argument(help="MATPOWER case (.m or .mat)")], out: OutOpt,
                 f_hz: Annotated[float, typer.Option("--f-hz", help="System frequency")] = 50.0,
                 force: ForceOpt = False, name: NameOpt = None, as_json: JsonOpt = False) -> None:
    """A MATPOWER case through pandapower's converter (constant load at the case's values)."""
    from gplopt.importers.matpower import read_matpower
    from gplopt.importers.pandapower import net_to_instance

    net = read_matpower(case, f_hz)
    _finish(net_to_instance(net, name=name or case.stem), out, "csv", force, as_json)


@import_app.command("simbench")
def simbench_cmd(code: Annotated[str, typer.Argument(help="SimBench code, e.g. 1-MV-semiurb--0-sw")],
                 out: OutOpt, fmt: FmtOpt = "csv", force: ForceOpt = False, name: NameOpt = None,
                 as_json: JsonOpt = False) -> None:
    """A SimBench grid with its year of load and generation profiles (shipped with simbench, no download)."""
    from gplopt.importers.simbench import import_simbench

    _finish(import_simbench(code, name), out, fmt, force, as_json)
