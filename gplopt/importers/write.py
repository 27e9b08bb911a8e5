"""Write an imported instance (and its profiles file) only once it validates; never half-written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gplopt.errors import GploptError
from gplopt.importers.pandapower import Imported
from gplopt.importers.profiles import write_table


def write_imported(imp: Imported, out: Path, *, fmt: str = "csv", force: bool = False) -> dict[str, Any]:
    """Write ``out`` (instance JSON) and, with profiles, ``<stem>_profiles.<fmt>`` beside it; validate first."""
    from gplopt.instance import instance_from_data
    from gplopt.system import build_system

    if fmt not in ("csv", "csv.gz", "parquet"):
        raise GploptError(f"--profiles-format: must be csv, csv.gz or parquet, got {fmt!r}")
    if out.suffix != ".json":
        raise GploptError(f"--out: must be a .json file, got {str(out)!r}")
    if not out.parent.is_dir():
        raise GploptError(f"--out: the folder must exist, got {str(out.parent)!r}")
    prof_path = out.with_name(f"{out.stem}_profiles.{fmt}")
    for p in (out, prof_path) if imp.profiles else (out,):
        if p.exists() and not force:
            raise GploptError(f"--out: {str(p)!r} exists; must not be overwritten (pass --force)")
    data = dict(imp.data)
    created = False
    try:
        if imp.profiles:
            write_table(imp.profiles, prof_path)
            created = True
            data["profiles"] = {"file": prof_path.name}
        inst = instance_from_data(data, base_dir=out.parent)
        build_system(inst, base_dir=out.parent)
    except Exception:
        if created:
            prof_path.unlink(missing_ok=True)
        raise
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    return {"instance": str(out), "profiles": str(prof_path) if imp.profiles else None,
            "buses": len(data["network"]["buses"]), "branches": len(data["network"]["branches"]),
            "units": len(data["units"]), "report": imp.report.to_dict()}


def grouped(report: dict[str, Any], limit: int = 4) -> list[str]:
    """One line per (action, rule) with the first elements it applies to."""
    groups: dict[tuple[str, str], list[str]] = {}
    for e in report["entries"]:
        groups.setdefault((e["action"], e["rule"]), []).append(e["element"])
    lines = []
    for (action, rule), els in groups.items():
        more = f" and {len(els) - limit} more" if len(els) > limit else ""
        lines.append(f"{action}: {rule}: {', '.join(els[:limit])}{more}")
    return lines
