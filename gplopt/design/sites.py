"""Siting: each lot's candidate buses and charger grid, the shared budget over all lots, and how a candidate bus
is encoded for the GP (docs/design.md, "Siting").

A design with sites sets, for every lot of the instance, its bus and its number of chargers; the incentive grade,
the discharge rating and the SoC threshold are one value for all lots. Bus encodings (one GP input per lot
unless one-hot):

- ``distance``: the series resistance of the path from the substation (slack bus) to the bus, the electrical
  distance of the feeder's radial tree, scaled to [0, 1] over the lot's candidates;
- ``headroom``: the smallest thermal rating on that path (the most power the bus can exchange with the rest of
  the feeder before a branch limit binds), on a log scale, scaled to [0, 1];
- ``onehot``: one input per candidate bus (1 at the lot's bus), scaled by 1/sqrt(2) so two different buses are
  at distance 1, as the two ends of an ordinal axis are: a categorical kernel under the Matérn ARD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gplopt.errors import InstanceError
from gplopt.instance import Instance

ENCODINGS = ("distance", "headroom", "onehot")


class Site(NamedTuple):
    """One lot of a design: its id, bus and number of chargers."""
    id: str
    bus: int
    n_chargers: int


@dataclass(frozen=True)
class SiteAxes:
    """One lot's choices: candidate buses (with their electrical features) and charger counts."""
    id: str
    buses: tuple[int, ...]
    chargers: tuple[int, ...]
    distance: tuple[float, ...]          # series resistance slack -> bus, per candidate (pu)
    headroom_kva: tuple[float, ...]      # smallest branch rating on that path, per candidate (inf: none)
    charger_cost: dict[float, float]     # annual cost of one charger by rating (currency/yr), for the shared budget
    charge_kw: float


def uses_sites(inst: Instance) -> bool:
    """A design block with ``lots``, or an instance with several lots, designs every lot's siting."""
    return bool(inst.design.lots) or len(inst.gpls) > 1


def site_axes(inst: Instance, chargers_default: list[int], discharge: tuple[float, ...]) -> tuple[SiteAxes, ...]:
    """The per-lot axes of every lot of the instance (a lot absent from ``design.lots`` keeps its bus and takes
    ``design.n_chargers``)."""
    from gplopt.design.space import grid_values

    dist, head = path_features(inst)
    out = []
    for k, g in enumerate(inst.gpls):
        ld = inst.design.lots.get(g.id)
        buses = tuple(ld.bus) if ld is not None and ld.bus else (g.bus,)
        grid = (grid_values(ld.n_chargers, integer=True) if ld is not None and ld.n_chargers is not None
                else chargers_default)
        chargers = sorted({int(c) for c in grid})
        if not chargers:
            raise InstanceError(f"design.lots.{g.id}.n_chargers", "at least one value >= 0", chargers)
        out.append(SiteAxes(id=g.id, buses=buses, chargers=tuple(chargers),
                            distance=tuple(dist[b] for b in buses), headroom_kva=tuple(head[b] for b in buses),
                            charger_cost=_charger_costs(inst, k, discharge), charge_kw=g.charge_kw))
    return tuple(out)


def path_features(inst: Instance) -> tuple[dict[int, float], dict[int, float]]:
    """Per bus id: the series resistance (pu) of its path from the slack bus, and the smallest branch rating on
    that path (kVA; inf when no branch on it is rated), from the System's network arrays."""
    from gplopt.system import build_network

    net = build_network(inst)
    rating = net.rating_pu * inst.network.base_mva * 1000.0
    dist, head = {}, {}
    for j, bus_id in enumerate(net.bus_ids):
        r, h, i = 0.0, np.inf, j
        while i != net.root:
            r += float(net.r_pu[i])
            h = min(h, float(rating[i]) if np.isfinite(rating[i]) and rating[i] > 0 else np.inf)
            i = int(net.parent[i])
        dist[int(bus_id)], head[int(bus_id)] = r, h
    return dist, head


def _charger_costs(inst: Instance, k: int, discharge: tuple[float, ...]) -> dict[float, float]:
    """Annual cost of one charger of lot ``k`` at each discharge rating of the lattice (the rating that prices
    a charger is max(charge_kw, discharge_kw), as in the economics)."""
    from gplopt.library import load_model
    from gplopt.system import charger_annual_cost

    if inst.design.shared_budget.max_charger_cost_per_year is None:
        return {}
    g = inst.gpls[k]
    model = load_model("chargers", g.charger_type, f"gpls[{k}].charger_type", inst.base_dir)
    return {d: charger_annual_cost(model, max(g.charge_kw, d)) for d in discharge}


def within_budget(inst: Instance, axes: tuple[SiteAxes, ...], sites: tuple[Site, ...], discharge: float) -> bool:
    """Whether a siting respects ``design.shared_budget`` (total chargers, total annual charger cost)."""
    b = inst.design.shared_budget
    if b.max_total_chargers is not None and sum(s.n_chargers for s in sites) > b.max_total_chargers:
        return False
    if b.max_charger_cost_per_year is not None:
        cost = sum(s.n_chargers * ax.charger_cost[discharge] for s, ax in zip(sites, axes, strict=True))
        if cost > b.max_charger_cost_per_year * (1 + 1e-12):
            return False
    return True


def encode_bus(ax: SiteAxes, bus: int, encoding: str) -> list[float]:
    """The GP inputs of one lot's bus (see the module docstring)."""
    if encoding == "onehot":
        return [float(b == bus) / np.sqrt(2.0) for b in ax.buses] if len(ax.buses) > 1 else []
    if encoding == "distance":
        vals = np.array(ax.distance)
    elif encoding == "headroom":
        vals = np.log(np.minimum(np.array(ax.headroom_kva), 1e9))
    else:
        raise InstanceError("bus_encoding", f"one of {', '.join(ENCODINGS)}", encoding)
    x = vals[ax.buses.index(bus)]
    lo, hi = float(vals.min()), float(vals.max())
    return [0.0 if hi == lo else float((x - lo) / (hi - lo))]
