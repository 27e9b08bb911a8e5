"""What ``--resource`` names, and the system without it: a lot id, ``gpls`` (all lots jointly), or a unit id.

A lot's capacity value is that of its V2G: the system "without" lot ``k`` is the same system with lot k's V2G
not dispatched (its chargers still charge and its owners still reduce load), as for the single GPL before lots.
``gpl`` names all lots jointly unless a lot has the id ``gpl`` (the 1.0 shorthand's lot), so 1.0 commands keep
their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from gplopt.errors import InstanceError
from gplopt.system import System

if TYPE_CHECKING:
    from gplopt.capacity.spec import CapacityValueResult, CapacityValueSpec, Progress
    from gplopt.montecarlo import Execution, SequentialMonteCarlo

JOINT = "gpls"


def resource_names(system: System) -> str:
    return ", ".join([f"'{JOINT}'", *system.lot_ids, *system.units.ids])


def lot_selection(system: System, resource: str) -> tuple[int, ...] | None:
    """Indices of the lots under test, or None when ``resource`` is a unit id."""
    if resource in system.lot_ids:
        return (system.lot_ids.index(resource),)
    if resource in (JOINT, "gpl"):
        return tuple(range(len(system.lots)))
    if resource in system.units.ids:
        return None
    raise InstanceError("--resource", f"a lot id, '{JOINT}' (all lots) or a unit id ({resource_names(system)})",
                        resource)


@dataclass(frozen=True)
class Without:
    """The system without the resource, as the capacity-value methods need it."""
    base_sys: System
    res_row: int | None            # the resource's unit row (None for lots)
    v2g_base: bool                 # the ``v2g`` flag of the base evaluation
    ref_bus: int                   # default bus of the reference unit (first selected lot's, or the unit's)


def without(system: System, resource: str, v2g: bool) -> Without:
    sel = lot_selection(system, resource)
    if sel is None:
        row = system.units.ids.index(resource)
        return Without(system.replace(units=system.units.without(resource)), row, v2g, int(system.units.bus[row]))
    if not sel or all(system.lots[k].n_chargers == 0 for k in sel):
        raise InstanceError("gpl" if resource == "gpl" else "--resource",
                            "a GPL with chargers (the resource under test)", None if not sel else resource)
    ref_bus = system.lots[sel[0]].bus
    if len(sel) == len(system.lots):   # every lot: V2G off everywhere (the single-GPL rule, same numbers)
        return Without(system, None, False, ref_bus)
    lots = tuple(replace(f, v2g_dispatched=False) if k in sel else f for k, f in enumerate(system.lots))
    return Without(system.replace(lots=lots), None, v2g, ref_bus)


def per_lot_values(system: System, mc: SequentialMonteCarlo, spec: CapacityValueSpec,
                   joint: CapacityValueResult, progress: Progress | None = None, *,
                   execution: Execution | None = None) -> dict[str, Any]:
    """Each lot's own capacity value (its V2G off, the other lots in service: its marginal value) on the same
    sample years as ``joint``, and the joint value: value, bootstrap CI and standard error per entry."""
    from gplopt.capacity.value import capacity_value

    def row(cv: CapacityValueResult) -> dict[str, Any]:
        se = float(np.std(cv.boot_values, ddof=1)) if cv.boot_values.size > 1 else 0.0
        return {"value_kw": cv.value_kw, "ci_low_kw": cv.ci_low_kw, "ci_high_kw": cv.ci_high_kw, "se_kw": se,
                "converged": cv.converged, "note": cv.note}

    out = {lot.id: row(capacity_value(system, mc, replace(spec, resource=lot.id), progress, execution=execution))
           for lot in system.lots if lot.n_chargers > 0}
    out[JOINT] = row(joint)
    return out
