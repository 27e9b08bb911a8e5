"""Provenance of a result directory: what a reader needs to reproduce or audit it (gplopt version, exact
command line, instance fingerprint after overrides, seed, years, date, model files), and the instance's
key assumptions as data (lots' buses, chargers, batteries, prices), not only its free-text notes."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from gplopt.instance import Instance

MODEL_FIELDS = (("ev", "gpl", "ev_type"), ("participation", "gpl", "participation"),
                ("chargers", "gpl", "charger_type"), ("load_shapes", "load", "shape"),
                ("costs", "economics", "costs_model"))


def fingerprint(inst: Instance) -> str:
    """sha256 of the instance after overrides (canonical JSON, sorted keys)."""
    text = json.dumps(inst.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def model_files(inst: Instance, base_dir: Path | None = None) -> list[dict[str, str]]:
    """The model files the instance names, as found on the search path, with each file's sha256."""
    from gplopt.library import find

    out = []
    for kind, block, attr in MODEL_FIELDS:
        obj = getattr(inst, block, None)
        name = getattr(obj, attr, None) if obj is not None else None
        if not isinstance(name, str) or not name:
            continue
        p = find(kind, name, base_dir)
        entry = {"kind": kind, "name": name, "path": str(p) if p else "(not found)"}
        if p is not None:
            entry["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
        out.append(entry)
    return out


def command_line(argv: list[str] | None = None) -> str:
    args = list(sys.argv if argv is None else argv)
    first = Path(args[0]) if args else Path()
    if first.name == "gplopt" or (first.name == "__main__.py" and first.parent.name == "gplopt"):
        args[0] = "gplopt"   # the console script or python -m gplopt
    return shlex.join(args)


def provenance(inst: Instance, seed: int | None, years: int | None, base_dir: Path | None = None,
               argv: list[str] | None = None) -> dict[str, Any]:
    from gplopt import __version__

    return {"gplopt_version": __version__, "command_line": command_line(argv),
            "instance_name": inst.name, "instance_sha256": fingerprint(inst), "seed": seed, "years": years,
            "date_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "python": sys.version.split()[0], "model_files": model_files(inst, base_dir)}


def assumptions(inst: Instance, base_dir: Path | None = None) -> dict[str, Any]:
    """The figures behind the answer, as data: lot, batteries, prices, storage costs, main supply."""
    from gplopt.library import load_model

    g, e = inst.gpl, inst.economics
    lot: dict[str, Any] | None = None
    if g is not None:
        try:
            battery = load_model("ev", g.ev_type, "gpl.ev_type", base_dir).get("battery_kwh")
        except Exception:  # noqa: BLE001 - provenance never fails a finished run
            battery = None
        lot = {"bus": g.bus, "n_chargers": g.n_chargers, "charge_kw": g.charge_kw,
               "discharge_kw": g.discharge_kw if g.discharge_kw is not None else g.charge_kw,
               "ev_type": g.ev_type, "battery_kwh": battery, "soc_threshold": g.soc_threshold,
               "v2g_min_soc": g.v2g_min_soc, "participation": g.participation, "charger_type": g.charger_type}
    return {"lots": [lot] if lot else [],
            "incentive_per_kwh": inst.incentive.price_per_kwh,
            "storage": {"power_cost_per_kw": e.storage_power_cost_per_kw,
                        "energy_cost_per_kwh": e.storage_energy_cost_per_kwh, "hours": e.storage_hours,
                        "life_years": e.storage_life_years, "om_per_kwh_year": e.storage_om_per_kwh_year},
            "units": [{"id": u.id, "type": u.type, "bus": u.bus, "capacity_kw": u.capacity_kw} for u in inst.units],
            "peak_kw": inst.load.peak_kw}


def record(inst: Instance, seed: int | None, years: int | None, base_dir: Path | None = None) -> dict[str, Any]:
    """What a result directory's result.json carries besides its numbers."""
    return {"currency": inst.currency, "provenance": provenance(inst, seed, years, base_dir),
            "assumptions": assumptions(inst, base_dir)}


def provenance_of_report(argv: list[str] | None = None) -> dict[str, Any]:
    """Who rendered a report, with what command, when."""
    from gplopt import __version__

    return {"gplopt_version": __version__, "command_line": command_line(argv),
            "date_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
