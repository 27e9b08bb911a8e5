"""Consistency rules of the per-bus load profiles, bus x hour tables and profiled units (one rule each).

Run by :func:`gplopt.checks.check_instance` after the core rules. Reading the series here (cached by file and
mtime) is what reports a missing profile or one of the wrong length before any model is built.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gplopt.errors import InstanceError
from gplopt.instance import Instance


def check_profile_source(inst: Instance) -> None:
    """Per-bus profiles and profiled units need ``profiles.file``; the bus-level forms need 8760 hours."""
    ld = inst.load
    users = [f"units[{i}].profile" for i, u in enumerate(inst.units) if u.type == "profile"]
    if ld.bus_profiles is not None:
        users.insert(0, "load.bus_profiles")
    if users and inst.profiles is None:
        raise InstanceError("profiles.file", f"given when {users[0]} is used (a missing profile)", None)
    if (ld.bus_profiles is not None or ld.bus_table is not None) and ld.hours != 8760:
        raise InstanceError("load.hours", "8760 with per-bus profiles or a bus table", ld.hours)
    if ld.bus_profiles is not None and ld.bus_table is not None:
        raise InstanceError("load", "at most one of bus_profiles, bus_table", "both")


def check_bus_profile_map(inst: Instance) -> None:
    """Every key of ``load.bus_profiles`` is a bus; every bus with load has a profile."""
    mapping = inst.load.bus_profiles
    if mapping is None:
        return
    ids = {str(b.id) for b in inst.network.buses}
    for key in mapping:
        if key not in ids:
            raise InstanceError(f"load.bus_profiles.{key}", "an existing bus id", key)
    for i, b in enumerate(inst.network.buses):
        if b.p_kw > 0 and str(b.id) not in mapping:
            raise InstanceError(f"load.bus_profiles.{b.id}", f"a profile for every loaded bus (network.buses[{i}] "
                                f"has p_kw {b.p_kw}; a missing profile)", None)


def check_bus_table_columns(inst: Instance, base_dir: Path | None = None) -> None:
    """Every column of ``load.bus_table`` names a bus."""
    if inst.load.bus_table is None:
        return
    from gplopt.importers.profiles import read_columns

    ids = {str(b.id) for b in inst.network.buses}
    for col in read_columns(inst.load.bus_table, base_dir, "load.bus_table"):
        if col not in ids:
            raise InstanceError(f"load.bus_table ({inst.load.bus_table})", "columns named by bus id", col)


def check_profile_series(inst: Instance, base_dir: Path | None = None) -> None:
    """Every referenced series exists, has a valid length, is finite and >= 0; a bus table carries load."""
    from gplopt.system import bus_load_table, unit_profiles

    table = bus_load_table(inst, base_dir)
    if table is not None:
        _nonneg_series("load", table)
        if table.sum(axis=1).max() <= 0:
            raise InstanceError("load", "some hour with load > 0", 0.0)
    for uid, series in unit_profiles(inst, base_dir).items():
        _nonneg_series(f"units.{uid}.profile", series[:, None])


def _nonneg_series(path: str, table: np.ndarray) -> None:
    bad = np.argwhere(table < 0)
    if bad.size:
        h, j = (int(x) for x in bad[0])
        raise InstanceError(f"{path} (hour {h}, column {j})", ">= 0", float(table[h, j]))


PROFILE_RULES = (check_profile_source, check_bus_profile_map, check_bus_table_columns, check_profile_series)
