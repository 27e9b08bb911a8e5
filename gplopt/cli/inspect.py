"""``gplopt validate``, ``gplopt schema`` and ``gplopt powerflow``: look at an instance before running it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gplopt.cli.common import FileArg, JsonOpt, SetOpt, emit_json, load
from gplopt.cli.format import show, table
from gplopt.currency import DEFAULT
from gplopt.errors import InstanceError
from gplopt.formatting import num


def validate(file: FileArg, sets: SetOpt = None, as_json: JsonOpt = False) -> None:
    """Validate an instance and print a summary (buses, units, GPL, peak, annual energy)."""
    inst, system = load(file, sets)
    from gplopt.report_text import instance_summary

    summary = instance_summary(inst, system)
    if as_json:
        emit_json(summary)
        return
    print_summary(summary)


def schema(out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None
           ) -> None:
    """Print the instance JSON Schema."""
    from gplopt.instance import json_schema
    from gplopt.io import write_text_atomic

    text = json.dumps(json_schema(), indent=1) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)


def powerflow(
    file: FileArg,
    hour: Annotated[str, typer.Option(help="Hour index (0-based) or 'peak'")] = "peak",
    no_gpl: Annotated[bool, typer.Option("--no-gpl-charging", help="Leave GPL charging out")] = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """AC power flow of one hour with all units up (conventional at rating, wind calm, grid as slack)."""
    from gplopt.network.snapshot import peak_hour
    from gplopt.network.summary import powerflow_summary

    inst, system = load(file, sets)
    if hour == "peak":
        h = peak_hour(system)
    else:
        try:
            h = int(hour)
        except ValueError:
            raise InstanceError("--hour", "an integer or 'peak'", hour) from None
        if not 0 <= h < system.hours:
            raise InstanceError("--hour", f"in [0, {system.hours - 1}]", h)
    out = powerflow_summary(system, h, gpl_charging=not no_gpl)
    if as_json:
        emit_json(out)
        return
    print_powerflow(inst.name, out)


# ------------------------------------------------------------------------------------------ printing
def print_summary(summary: dict[str, Any]) -> None:
    s = summary
    rows = [["buses / branches", f"{s['buses']} / {s['branches']}" + (" (copper plate)" if s["copper_plate"]
                                                                      else "")],
            ["hours", num(s["hours"])], ["peak load", f"{num(s['peak_kw'])} kW"],
            ["annual energy", f"{num(s['annual_energy_mwh'])} MWh"], ["load factor", num(s["load_factor"], 3)],
            ["installed units", f"{num(s['installed_kw'])} kW"],
            ["failing branches / tie lines", f"{s['failing_branches']} / {s['tie_lines']}"],
            ["customers", "not counted" if s["customers"] is None else num(s["customers"])]]
    show(table(f"{s['name']}: valid (schema {s['schema_version']})", ["", ""], rows, header=False))
    show(table("units", ["id", "type", "bus", "kW", "MTTF h", "MTTR h"],
               [[u["id"], u["type"], str(u["bus"]), num(u["capacity_kw"]), num(u["mttf_h"]), num(u["mttr_h"])]
                for u in s["units"]]))
    lots = s.get("gpls") or ([s["gpl"]] if s.get("gpl") else [])
    lot_rows = [(name, cell, unit.replace("{cur}", s.get("currency", DEFAULT))) for name, cell, unit in LOT_ROWS]
    if len(lots) == 1:
        show(table("parking lot (GPL)", ["", ""], [[name, cell(lots[0]) + unit] for name, cell, unit in lot_rows],
                   header=False))
    elif lots:   # one column per lot, units in the row label
        show(table(f"parking lots (GPLs): {len(lots)}", ["", *(g["id"] for g in lots)],
                   [[name + (f" ({unit.strip()})" if unit else ""), *(cell(g) for g in lots)]
                    for name, cell, unit in lot_rows]))


LOT_ROWS: tuple[tuple[str, Any, str], ...] = (   # one parking lot's summary rows: label, cell, unit
    ("bus", lambda g: str(g["bus"]), ""), ("chargers", lambda g: num(g["n_chargers"]), ""),
    ("charge / discharge", lambda g: f"{num(g['charge_kw'])} / {num(g['discharge_kw'])}", " kW per charger"),
    ("battery", lambda g: num(g["battery_kwh"]), " kWh per PEV"),
    ("SoC threshold / V2G floor", lambda g: f"{g['soc_threshold']:.0%} / {g['v2g_min_soc']:.0%}", ""),
    ("participation V2G / load red.", lambda g: f"{g['participation_v2g']:.0%} / "
                                                f"{g['participation_load_reduction']:.0%}", ""),
    ("incentive", lambda g: num(g["incentive_per_kwh"]), " {cur}/kWh"),
    ("charger cost", lambda g: num(g["charger_cost_per_year"]), " {cur}/yr per charger"))


def print_powerflow(name: str, out: dict[str, Any]) -> None:
    from rich.markup import escape

    from gplopt.network.limits import describe

    rows = [
        ["system load", f"{num(out['system_load_kw'], 0)} kW"],
        ["GPL charging", f"{num(out['gpl_charging_kw'], 0)} kW"],
        ["losses", f"{num(out['loss_kw'], 1)} kW, {num(out['loss_kvar'], 1)} kvar"],
        ["lowest voltage", f"{out['vmin_pu']:.4f} pu at bus {out['vmin_bus']}"],
        ["highest voltage", f"{out['vmax_pu']:.4f} pu"],
        ["through the substation",
         "–" if out["substation_mva"] is None else f"{num(1000 * out['substation_mva'], 0)} kVA"],
        ["most loaded branch", "no rated branch" if out["max_branch_loading"] is None
         else f"{100 * out['max_branch_loading']:.1f} % of its rating"],
        ["within every limit", "yes" if out["within_limits"] else "no"],
    ]
    rows += [["violated", escape(describe(v))] for v in out["violations"]]
    show(table(f"{name}: AC power flow, hour {out['hour']} (all units up, wind calm)", ["", ""], rows,
               header=False))
