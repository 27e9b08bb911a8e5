"""MATPOWER cases through pandapower's converter (``.m`` needs matpowercaseframes, ``.mat`` scipy).

A ``.m`` file is parsed once by matpowercaseframes before the converter runs, so that a syntax error is
reported as the matrix it leaves unreadable (matpowercaseframes skips what it cannot parse, and the converter
then fails on a missing key or column)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from gplopt.errors import InstanceError
from gplopt.importers.pandapower import pandapower_module
from gplopt.importers.profiles import missing_extra


def read_matpower(path: Path, f_hz: float = 50.0) -> Any:
    pandapower_module()
    from pandapower.converter.matpower import from_mpc

    if not path.is_file():
        raise InstanceError(str(path), "an existing MATPOWER case file", "not found")
    if path.suffix not in (".m", ".mat"):
        raise InstanceError(str(path), "a MATPOWER case (.m or .mat)", path.suffix or "no suffix")
    if path.suffix == ".m":
        check_m_file(path)
    try:
        with warnings.catch_warnings():    # pandas deprecation notes from inside the converter
            warnings.simplefilter("ignore", FutureWarning)
            return from_mpc(str(path), f_hz=f_hz)
    except Exception as exc:  # the converter raises whatever its parser raised
        msg = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise InstanceError(str(path), "a MATPOWER case version 2 that pandapower's converter reads",
                            f"{type(exc).__name__}: {msg}") from None


MIN_COLUMNS = {"bus": 13, "gen": 10, "branch": 13}    # MATPOWER case format version 2


def check_m_file(path: Path) -> None:
    """The case's bus, gen and branch matrices and baseMVA parse, each matrix with its version-2 columns."""
    try:
        from matpowercaseframes import CaseFrames
    except ImportError:
        raise missing_extra("import", "matpowercaseframes") from None
    try:
        frames = CaseFrames(str(path))
    except Exception as exc:  # the parser raises whatever its regex/numpy step raised
        msg = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise InstanceError(str(path), "a MATPOWER case file matpowercaseframes can parse",
                            f"{type(exc).__name__}: {msg}") from None
    found = set(getattr(frames, "attributes", []))
    missing = [k for k in ("baseMVA", "bus", "gen", "branch") if k not in found]
    if missing:
        raise InstanceError(str(path), "a MATPOWER case defining mpc.baseMVA, mpc.bus, mpc.gen and mpc.branch (a "
                            "syntax error such as an unterminated '[ ... ];' leaves a matrix unreadable)",
                            "unreadable: " + ", ".join(f"mpc.{k}" for k in missing))
    for key, need in MIN_COLUMNS.items():
        cols = getattr(frames, key).shape[1]
        if cols < need:
            raise InstanceError(f"{path}: mpc.{key}", f"at least {need} columns (MATPOWER case format version 2)",
                                cols)
