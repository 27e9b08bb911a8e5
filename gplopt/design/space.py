"""The design lattice from the instance's ``design`` block, and its encoding in the unit cube.

A one-lot block varies the lot's grade, chargers, rating and threshold (four GP inputs). With siting
(``design.lots``, or several lots: :mod:`gplopt.design.sites`) a design also sets every lot's bus and chargers,
under the shared budget; designs over the budget are not in the lattice, so they are never proposed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gplopt.design.sites import Site, SiteAxes, encode_bus, site_axes, uses_sites, within_budget
from gplopt.errors import InstanceError
from gplopt.instance import Grid, Instance

NAMES = ("price_per_kwh", "n_chargers", "discharge_kw", "soc_threshold")
PATHS = {"price_per_kwh": "incentive.price_per_kwh", "n_chargers": "gpl.n_chargers",
         "discharge_kw": "gpl.discharge_kw", "soc_threshold": "gpl.soc_threshold"}


@dataclass(frozen=True, order=True)
class Design:
    price_per_kwh: float
    n_chargers: int
    discharge_kw: float
    soc_threshold: float
    sites: tuple[Site, ...] = ()    # with siting: every lot's bus and chargers (n_chargers is then their total)

    def overrides(self) -> dict[str, float | int]:
        if not self.sites:
            return {PATHS[k]: getattr(self, k) for k in NAMES}
        out: dict[str, float | int] = {PATHS["price_per_kwh"]: self.price_per_kwh}
        for s in self.sites:
            out.update({f"gpls.{s.id}.bus": s.bus, f"gpls.{s.id}.n_chargers": s.n_chargers,
                        f"gpls.{s.id}.discharge_kw": self.discharge_kw,
                        f"gpls.{s.id}.soc_threshold": self.soc_threshold})
        return out

    def key(self) -> str:
        return (f"p{self.price_per_kwh:g}_n{self.n_chargers}_d{self.discharge_kw:g}"
                f"_s{self.soc_threshold:g}" + "".join(f"_{s.id}@{s.bus}x{s.n_chargers}" for s in self.sites))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in NAMES}
        if self.sites:
            out["sites"] = [s._asdict() for s in self.sites]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Design:
        return cls(**{k: d[k] for k in NAMES}, sites=tuple(Site(**s) for s in d.get("sites", ())))

    def siting(self, compact: bool = False) -> str:
        """``north@18 x 200, east@27 x 100`` (``north@18x200 east@27x100`` compact; empty without sites)."""
        if compact:
            return " ".join(f"{s.id}@{s.bus}x{s.n_chargers}" for s in self.sites)
        return ", ".join(f"{s.id}@{s.bus} x {s.n_chargers}" for s in self.sites)


def grid_values(g: Grid, integer: bool = False) -> list[float]:
    if g.values is not None:
        vals = sorted(set(g.values))
    else:
        assert g.low is not None and g.high is not None
        step = g.step if g.step is not None else (g.high - g.low) / 4 if g.high > g.low else 1.0
        n = int(np.floor((g.high - g.low) / step + 1e-9)) + 1
        vals = [g.low + k * step for k in range(n)]
    return [int(round(v)) for v in vals] if integer else [float(round(v, 10)) for v in vals]


@dataclass(frozen=True)
class DesignSpace:
    prices: tuple[float, ...]
    chargers: tuple[int, ...]
    discharge: tuple[float, ...]
    thresholds: tuple[float, ...]
    max_discharge_kw: float | None = None   # the charger type's largest rating
    dropped: tuple[str, ...] = ()           # grid values left out because the instance cannot offer them
    sites: tuple[SiteAxes, ...] = ()        # siting: every lot's candidate buses and chargers
    encoding: str = "distance"              # how a candidate bus enters the GP (gplopt.design.sites)
    inst: Instance | None = field(default=None, compare=False, repr=False)   # for the shared budget

    @classmethod
    def from_instance(cls, inst: Instance, encoding: str = "distance") -> DesignSpace:
        """The lattice, adapted to the instance: discharge ratings above the charger type's largest rating,
        SoC thresholds at or below the V2G floor and charger counts below 1 are left out (and listed in
        ``dropped``); an axis left empty is an error naming the grid."""
        d = inst.design
        cap = _charger_max_kw(inst)
        floor = max((g.v2g_min_soc for g in inst.gpls), default=None)
        rules = (("design.n_chargers", grid_values(d.n_chargers, integer=True), lambda v: v >= 1, ">= 1"),
                 ("design.discharge_kw", grid_values(d.discharge_kw),
                  lambda v: cap is None or v <= cap + 1e-9, f"<= the charger's largest rating ({cap:g} kW)"
                  if cap is not None else ""),
                 ("design.soc_threshold", grid_values(d.soc_threshold),
                  lambda v: floor is None or v > floor, f"> gpl.v2g_min_soc ({floor:g})" if floor is not None
                  else ""))
        axes, dropped = [], []
        for path, vals, ok, rule in rules:
            kept = [v for v in vals if ok(v)]
            dropped += [f"{path}={v:g} (must be {rule})" for v in vals if not ok(v)]
            if not kept:
                raise InstanceError(path, f"at least one value {rule}", vals)
            axes.append(tuple(kept))
        sites = site_axes(inst, [int(c) for c in axes[0]], axes[1]) if uses_sites(inst) else ()
        space = cls(prices=tuple(float(p) for p in d.incentive_grades), chargers=axes[0],  # type: ignore[arg-type]
                    discharge=axes[1], thresholds=axes[2], max_discharge_kw=cap, dropped=tuple(dropped),
                    sites=sites, encoding=encoding, inst=inst)
        if sites and not space.lattice():
            raise InstanceError("design.shared_budget", "a limit that at least one design of the lattice meets",
                                d.shared_budget.model_dump(exclude_none=True))
        return space

    @property
    def axes(self) -> tuple[tuple[float, ...], ...]:
        return (self.prices, tuple(float(c) for c in self.chargers), self.discharge, self.thresholds)

    def lattice(self) -> list[Design]:
        if not self.sites:
            return [Design(p, int(n), d, s) for p, n, d, s in
                    itertools.product(self.prices, self.chargers, self.discharge, self.thresholds)]
        assert self.inst is not None
        per_lot = [[Site(ax.id, b, n) for b in ax.buses for n in ax.chargers] for ax in self.sites]
        out = []
        for p, d, s in itertools.product(self.prices, self.discharge, self.thresholds):
            for sites in itertools.product(*per_lot):
                if within_budget(self.inst, self.sites, sites, d):
                    out.append(Design(p, sum(x.n_chargers for x in sites), d, s, tuple(sites)))
        return out

    @property
    def size(self) -> int:
        if self.sites:
            return len(self.lattice())
        return len(self.prices) * len(self.chargers) * len(self.discharge) * len(self.thresholds)

    def encode(self, designs: list[Design]) -> np.ndarray:
        """Each coordinate mapped to [0, 1] by its position between the axis bounds; with siting, grade, rating
        and threshold, then per lot its bus (``encoding``) and its chargers."""
        if self.sites:
            return np.array([self._encode_sited(d) for d in designs], float).reshape(len(designs), -1)
        out = np.zeros((len(designs), 4))
        for j, (name, axis) in enumerate(zip(NAMES, self.axes, strict=True)):
            lo, hi = min(axis), max(axis)
            for i, d in enumerate(designs):
                out[i, j] = 0.0 if hi == lo else (float(getattr(d, name)) - lo) / (hi - lo)
        return out

    def _encode_sited(self, d: Design) -> list[float]:
        row = [_unit(d.price_per_kwh, self.prices), _unit(d.discharge_kw, self.discharge),
               _unit(d.soc_threshold, self.thresholds)]
        for ax, s in zip(self.sites, d.sites, strict=True):
            row += encode_bus(ax, s.bus, self.encoding) + [_unit(s.n_chargers, ax.chargers)]
        return row

    def contains(self, d: Design) -> bool:
        if self.sites:
            return d in set(self.lattice())
        return (d.price_per_kwh in self.prices and d.n_chargers in self.chargers
                and d.discharge_kw in self.discharge and d.soc_threshold in self.thresholds)


def _unit(v: float, axis: tuple[float, ...] | tuple[int, ...]) -> float:
    lo, hi = min(axis), max(axis)
    return 0.0 if hi == lo else (float(v) - lo) / (hi - lo)


def _charger_max_kw(inst: Instance) -> float | None:
    """The largest rating every lot's charger type is offered in (None: no GPL or no ratings listed)."""
    from gplopt.library import load_model

    caps = []
    for g in inst.gpls:
        try:
            ratings = load_model("chargers", g.charger_type, "gpl.charger_type").get("ratings_kw")
        except InstanceError:
            continue    # a model beside the instance: build_system checks it with the instance's folder
        if ratings:
            caps.append(float(max(ratings)))
    return min(caps) if caps else None
