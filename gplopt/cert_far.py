"""A second candidate point for shedding hours the certificate cannot decide: shed the far buses first.

The certificate (:mod:`gplopt.certificate`) sheds ``D = max(shortfall, 0)`` in merit order of value of lost
load, in proportion to load within a class. In an islanded hour that point makes the local units feed every
bus a little, through branches rated for the normal flow from the substation, and it fails: the OPF was solved.
But the OPF never sheds less than ``D`` (the island cannot serve more than its sources give), and any point that
sheds exactly ``D`` lowest value of lost load first costs the least possible, whatever the split *within* the
marginal class (the OPF's objective is the value-weighted shed, the same for every such split). So a second
split is tried: within each class, the buses electrically farthest (path resistance) from the hour's voltage
reference are shed first, whole, and the marginal bus in part; the served buses are those near the sources.
If that point satisfies the same LinDistFlow constraints (:func:`gplopt.certificate.passes`), it is an
optimum of the OPF, and the hour is decided without a solve.

What this changes: the hour's ENS is ``D`` exactly (the OPF gave ``D`` within its tolerance, 1e-10 pu), and
its split over buses is this rule's. With equal values of lost load the OPF's optimum is not unique (on
Beijing every bus has the same value); its split was whichever vertex HiGHS stopped at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gplopt.certificate import passes
from gplopt.system import Network, System

if TYPE_CHECKING:
    from gplopt.adequacy import HourInputs, HourLimits


def path_resistance(net: Network, t: np.ndarray) -> np.ndarray:
    """(B, B) resistance of the tree path between two buses."""
    r = net.r_pu.copy()
    r[net.root] = 0.0
    common = (t * r[None, :]) @ t.T          # resistance from the root to the two buses' common ancestor
    depth = np.diag(common).copy()
    return depth[:, None] + depth[None, :] - 2.0 * common


def far_first_shed(net: Network, p_load: np.ndarray, amount: np.ndarray, ref: np.ndarray,
                   dist: np.ndarray) -> np.ndarray:
    """(n, B) shedding of ``amount`` (n,) kW: lowest value of lost load first, within a class the buses
    farthest from the hour's reference bus ``ref`` (n,) first (ties by bus index), whole but the last."""
    shed = np.zeros(p_load.shape)
    for r in np.unique(ref):
        rows = np.flatnonzero(ref == r)
        order = np.lexsort((np.arange(net.n_bus), -dist[r], net.voll))
        load = p_load[np.ix_(rows, order)]
        before = np.cumsum(load, axis=1) - load
        take = np.clip(amount[rows, None] - before, 0.0, load)
        shed[np.ix_(rows, order)] = take
    return shed


def certificate_far(system: System, hi: HourInputs, lim: HourLimits, hours: np.ndarray,
                    t: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``hours`` (each with a positive shortfall not above its load): (passed (n,), shed (n, B) kW)."""
    p = hi.p_load[hours]
    amount = hi.shortfall[hours]
    shed = far_first_shed(system.network, p, amount, hi.ref_bus[hours], dist)
    ok = passes(system, hi, lim, hours, t, p - shed)
    ok &= np.abs(shed.sum(axis=1) - amount) <= 1e-9 * np.maximum(1.0, amount)
    return ok, shed
