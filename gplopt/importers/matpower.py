"""MATPOWER cases through pandapower's converter (``.m`` needs matpowercaseframes, ``.mat`` scipy)."""

from __future__ import annotations

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
        try:
            import matpowercaseframes  # noqa: F401
        except ImportError:
            raise missing_extra("import", "matpowercaseframes") from None
    try:
        return from_mpc(str(path), f_hz=f_hz)
    except Exception as exc:  # the converter raises whatever its parser raised
        msg = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise InstanceError(str(path), "a MATPOWER case version 2 that pandapower's converter reads",
                            f"{type(exc).__name__}: {msg}") from None
