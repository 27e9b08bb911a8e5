"""What a planner does with a design result: which variables sit on an edge of their search range (and the
``--set`` that widens it), and the recommended design's cost per kW beside conventional storage's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from gplopt.design.space import NAMES, Design, DesignSpace
from gplopt.instance import Grid, Instance

SET_PATHS = {"price_per_kwh": "design.incentive_grades", "n_chargers": "design.n_chargers",
             "discharge_kw": "design.discharge_kw", "soc_threshold": "design.soc_threshold"}


@dataclass(frozen=True)
class Bound:
    name: str           # design variable
    edge: str           # "lower" | "upper"
    value: float
    widen: str          # the --set that widens the range past this edge ("" when it cannot be widened)


def bounds_hit(space: DesignSpace, design: Design, inst: Instance) -> list[Bound]:
    """Variables of ``design`` at the lowest or highest value of their axis (axes of one value excluded)."""
    out = []
    for name, axis in zip(NAMES, space.axes, strict=True):
        if len(axis) < 2 or (space.sites and name == "n_chargers"):   # with siting: per lot, below
            continue
        v = float(getattr(design, name))
        if v in (min(axis), max(axis)):
            edge = "lower" if v == min(axis) else "upper"
            out.append(Bound(name, edge, v, _widen(inst, name, axis, edge, space)))
    for ax, site in zip(space.sites, design.sites, strict=False):
        vals = sorted(ax.chargers)
        if len(vals) >= 2 and site.n_chargers in (vals[0], vals[-1]):
            edge = "lower" if site.n_chargers == vals[0] else "upper"
            step = vals[1] - vals[0] if edge == "lower" else vals[-1] - vals[-2]
            cap = inst.design.shared_budget.max_total_chargers
            if edge == "upper" and cap is not None and design.n_chargers + step > cap:
                continue   # the shared budget, not the range, stops this lot growing
            if edge == "lower" and vals[0] - step < 1:
                continue   # one step down would leave no chargers: not a range to widen
            new = vals[0] - step if edge == "lower" else vals[-1] + step
            widened = [new, *vals] if edge == "lower" else [*vals, new]
            hint = f"--set 'design.lots.{ax.id}.n_chargers={{\"values\": [{','.join(str(int(v)) for v in widened)}]}}'"
            out.append(Bound(f"{ax.id}.n_chargers", edge, float(site.n_chargers), hint))
    return out


def _widen(inst: Instance, name: str, axis: tuple[float, ...], edge: str, space: DesignSpace) -> str:
    """A --set extending the axis by one step beyond ``edge`` (within the variable's physical range)."""
    vals = sorted(axis)
    step = vals[1] - vals[0] if edge == "lower" else vals[-1] - vals[-2]
    new = vals[0] - step if edge == "lower" else vals[-1] + step
    if name == "soc_threshold":
        new = round(new, 4)
        if not inst.gpl or not (inst.gpl.v2g_min_soc < new <= 1.0):
            return ""
    if name == "discharge_kw" and (new <= 0 or (space.max_discharge_kw is not None
                                                   and new > space.max_discharge_kw + 1e-9)):
        return ""
    if name in ("n_chargers", "price_per_kwh") and new < 0:
        return ""
    path = SET_PATHS[name]
    grid = getattr(inst.design, name if name != "price_per_kwh" else "incentive_grades")
    if isinstance(grid, Grid) and grid.values is None:
        return f"--set {path}.{'low' if edge == 'lower' else 'high'}={new:g}"
    widened = [new, *vals] if edge == "lower" else [*vals, new]
    text = ",".join(f"{int(v)}" if name == "n_chargers" else f"{v:g}" for v in widened)
    return f"--set '{path}=[{text}]'" if name == "price_per_kwh" else f"--set '{path}.values=[{text}]'"


def storage_cost_per_kw(inst: Instance) -> float:
    """Annual cost of conventional storage per kW of capacity (currency/kW/yr): power and energy capital spread over
    its life, plus O&M, for ``storage_hours`` of energy per kW (paper eqs. 5-2, 5-3; linear in kW)."""
    from types import SimpleNamespace

    from gplopt.economics import storage_annual_cost

    capex, om = storage_annual_cost(cast(Any, SimpleNamespace(settings=inst)), 1.0)   # reads only .economics
    return float(capex + om)


def comparison(inst: Instance, ecc_kw: float, annual_cost: float) -> dict[str, Any]:
    """The recommended GPL's annual cost per kW of ECC beside storage's (None when the ECC is not positive)."""
    gpl = annual_cost / ecc_kw if ecc_kw > 0 else None
    sto = storage_cost_per_kw(inst)
    return {"gpl_cost_per_kw": gpl, "storage_cost_per_kw": sto,
            "gpl_to_storage_ratio": gpl / sto if gpl is not None and sto > 0 else None,
            "cheaper": None if gpl is None else ("gpl" if gpl < sto else "storage"),
            "unit": f"{inst.currency} per kW per year"}
