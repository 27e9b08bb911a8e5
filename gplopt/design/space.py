"""The design lattice from the instance's ``design`` block, and its encoding in the unit cube."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from gplopt.instance import Grid, Instance

NAMES = ("price_cny_per_kwh", "n_chargers", "discharge_kw", "soc_threshold")
PATHS = {"price_cny_per_kwh": "incentive.price_cny_per_kwh", "n_chargers": "gpl.n_chargers",
         "discharge_kw": "gpl.discharge_kw", "soc_threshold": "gpl.soc_threshold"}


@dataclass(frozen=True, order=True)
class Design:
    price_cny_per_kwh: float
    n_chargers: int
    discharge_kw: float
    soc_threshold: float

    def overrides(self) -> dict[str, float | int]:
        return {PATHS[k]: getattr(self, k) for k in NAMES}

    def key(self) -> str:
        return (f"p{self.price_cny_per_kwh:g}_n{self.n_chargers}_d{self.discharge_kw:g}"
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

    @classmethod
    def from_instance(cls, inst: Instance) -> DesignSpace:
        d = inst.design
        return cls(prices=tuple(float(p) for p in d.incentive_grades),
                   chargers=tuple(grid_values(d.n_chargers, integer=True)),  # type: ignore[arg-type]
                   discharge=tuple(grid_values(d.discharge_kw)), thresholds=tuple(grid_values(d.soc_threshold)))

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
        return (d.price_cny_per_kwh in self.prices and d.n_chargers in self.chargers
                and d.discharge_kw in self.discharge and d.soc_threshold in self.thresholds)
