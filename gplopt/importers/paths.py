"""Series files named relative to the instance become absolute once loaded (so overrides, studies and workers
that rebuild the instance elsewhere still find them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gplopt.instance import Instance


def absolute_series_paths(inst: Instance, base: Path) -> Instance:
    def absolute(path: str) -> str:
        return path if Path(path).is_absolute() else str(base / path)

    if inst.profiles is not None:
        inst = inst.model_copy(update={"profiles": inst.profiles.model_copy(
            update={"file": absolute(inst.profiles.file)})})
    if inst.load.bus_table is not None:
        inst = inst.model_copy(update={"load": inst.load.model_copy(
            update={"bus_table": absolute(inst.load.bus_table)})})
    return inst
