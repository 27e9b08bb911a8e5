"""The design lattice from the instance's ``design`` block, and its encoding in the unit cube."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

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

    def overrides(self) -> dict[str, float | int]:
        return {PATHS[k]: getattr(self, k) for k in NAMES}

    def key(self) -> str:
        return (f"p{self.price_per_kwh:g}_n{self.n_chargers}_d{self.discharge_kw:g}"
                f"_s{self.soc_threshold:g}")

    def to_dict(self) -> dict[str, float | int]:
        return {k: getattr(self, k) for k in NAMES}


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

    @classmethod
    def from_instance(cls, inst: Instance) -> DesignSpace:
        """The lattice, adapted to the instance: discharge ratings above the charger type's largest rating,
        SoC thresholds at or below the V2G floor and charger counts below 1 are left out (and listed in
        ``dropped``); an axis left empty is an error naming the grid."""
        d = inst.design
        cap = _charger_max_kw(inst)
        floor = inst.gpl.v2g_min_soc if inst.gpl is not None else None
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
        return cls(prices=tuple(float(p) for p in d.incentive_grades), chargers=axes[0],  # type: ignore[arg-type]
                   discharge=axes[1], thresholds=axes[2], max_discharge_kw=cap, dropped=tuple(dropped))

    @property
    def axes(self) -> tuple[tuple[float, ...], ...]:
        return (self.prices, tuple(float(c) for c in self.chargers), self.discharge, self.thresholds)

    def lattice(self) -> list[Design]:
        return [Design(p, int(n), d, s) for p, n, d, s in
                itertools.product(self.prices, self.chargers, self.discharge, self.thresholds)]

    @property
    def size(self) -> int:
        return len(self.prices) * len(self.chargers) * len(self.discharge) * len(self.thresholds)

    def encode(self, designs: list[Design]) -> np.ndarray:
        """Each coordinate mapped to [0, 1] by its position between the axis bounds."""
        out = np.zeros((len(designs), 4))
        for j, (name, axis) in enumerate(zip(NAMES, self.axes, strict=True)):
            lo, hi = min(axis), max(axis)
            for i, d in enumerate(designs):
                out[i, j] = 0.0 if hi == lo else (float(getattr(d, name)) - lo) / (hi - lo)
        return out

    def contains(self, d: Design) -> bool:
        return (d.price_per_kwh in self.prices and d.n_chargers in self.chargers
                and d.discharge_kw in self.discharge and d.soc_threshold in self.thresholds)


def _charger_max_kw(inst: Instance) -> float | None:
    """The largest rating the instance's charger type is offered in (None: no GPL or no ratings listed)."""
    from gplopt.library import load_model

    if inst.gpl is None:
        return None
    try:
        ratings = load_model("chargers", inst.gpl.charger_type, "gpl.charger_type").get("ratings_kw")
    except InstanceError:
        return None     # a model beside the instance: build_system checks it with the instance's folder
    return float(max(ratings)) if ratings else None
