"""SimBench grids by code, with their year of load and generation profiles (shipped in the simbench package:
nothing is downloaded), and the profiles of any pandapower net that carries SimBench-style ``net.profiles``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gplopt.errors import InstanceError
from gplopt.importers.pandapower import Imported, net_to_instance
from gplopt.importers.profiles import missing_extra, to_hourly


def simbench_net(code: str) -> Any:
    try:
        import simbench
    except ImportError:
        raise missing_extra("simbench", "simbench") from None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return simbench.get_simbench_net(code)
        except Exception as exc:  # simbench raises bare exceptions for unknown codes
            first = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise InstanceError("CODE", f"a SimBench grid code such as 1-MV-semiurb--0-sw ({first})",
                                code) from None


def has_profiles(net: Any) -> bool:
    return "profiles" in net and isinstance(net.profiles, dict) and "load" in net.profiles


def _lookup(tables: list[Any], column: str, label: str) -> np.ndarray:
    for df in tables:
        if df is not None and column in df.columns:
            return to_hourly(df[column].to_numpy(float), f"{label} profile {column}")
    raise InstanceError(f"{label}.profile", "a profile in net.profiles (a missing profile)", column)


def element_profiles(net: Any) -> tuple[dict[str, np.ndarray], dict[int, str], dict[int, str]]:
    """Hourly per-unit columns and the column of each in-service load and sgen."""
    from gplopt.importers.pandapower import _label, _nan, _rows

    cols: dict[str, np.ndarray] = {}
    loads: dict[int, str] = {}
    sgens: dict[int, str] = {}
    prof = net.profiles
    for idx, ld in _rows(net, "load"):
        name = ld.get("profile")
        if name is None or _nan(name):
            continue   # reported by loads_block as a missing profile
        col = f"load:{name}"
        if col not in cols:
            cols[col] = _lookup([prof.get("load")], f"{name}_pload", _label("load", idx, ld.get("name")))
        loads[int(idx)] = col
    for idx, g in _rows(net, "sgen"):
        name = g.get("profile")
        if name is None or _nan(name):
            continue   # imported as firm generation and reported
        col = f"sgen:{name}"
        if col not in cols:
            cols[col] = _lookup([prof.get("renewables"), prof.get("powerplants")], str(name),
                                _label("sgen", idx, g.get("name")))
        sgens[int(idx)] = col
    return cols, loads, sgens


def import_with_profiles(net: Any, name: str) -> Imported:
    """``net_to_instance`` with each element's profile; loads of several profiles at a bus get a mix column."""
    cols, loads, sgens = element_profiles(net)
    imp = net_to_instance(net, name=name, load_profiles=loads, sgen_profiles=sgens)
    for mix, weights in imp.mixes.items():
        total = sum(weights.values())
        cols[mix] = sum((w / total) * cols[c] for c, w in weights.items())  # type: ignore[assignment]
    used = set(imp.data["load"]["bus_profiles"].values()) | {u["profile"] for u in imp.data["units"]
                                                              if u["type"] == "profile"}
    imp.profiles = {c: np.round(v, 5) for c, v in cols.items() if c in used}
    imp.report.note("load (all)", "approximated", "reactive load follows the active profile at the element's "
                    "reference power factor (SimBench's q profiles are not used)")
    return imp


def import_simbench(code: str, out_name: str | None = None) -> Imported:
    net = simbench_net(code)
    return import_with_profiles(net, out_name or f"SimBench {code}")


def default_profiles_path(out: Path, fmt: str) -> Path:
    return out.with_name(f"{out.stem}_profiles.{fmt}")
