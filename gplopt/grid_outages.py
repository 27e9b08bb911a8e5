"""The instance's distribution-reliability data the engine reads, held by ``System.grid`` (docs/distribution.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gplopt.instance import Instance


@dataclass(frozen=True)
class GridOutages:
    """The instance's distribution-reliability data the engine reads (gplopt.branches, customer_indices):
    customers per bus index (None when the instance counts none), the branch records and the sectioning time.
    Hashed by checkpoint.system_sha only when given, so systems without them keep their fingerprint."""
    customers: np.ndarray | None = None
    branches: tuple[Any, ...] = ()
    sectioning_h: float = 1.0


def grid_outages(inst: Instance, bus_ids: np.ndarray) -> GridOutages:
    by_id = {b.id: b.customers for b in inst.network.buses}
    c = [by_id[int(i)] for i in bus_ids]
    cust = None if all(x is None for x in c) else np.array([x or 0 for x in c], float)
    return GridOutages(customers=cust, branches=tuple(inst.network.branches),
                       sectioning_h=float(inst.network.sectioning_h))

