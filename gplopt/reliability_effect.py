"""What a resource (a lot, all lots, a unit) does to the customer indices, paired on common random numbers.

The system is evaluated with the resource and without it (:func:`gplopt.resources.without`: a lot's V2G not
dispatched, a unit removed: the same "without" as its capacity value) on the same seed and sample years; every
other draw (units, chargers, sessions, branches) is the same in both runs, so the per-year differences of
SAIDI, SAIFI and EENS carry the resource's effect with a paired standard error (docs/distribution.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from gplopt.customer_indices import customers, yearly
from gplopt.metrics import MeanEstimate
from gplopt.reliability import Execution, SequentialMonteCarlo, assess
from gplopt.resources import without
from gplopt.system import System


def reliability_effect(system: System, mc: SequentialMonteCarlo, resource: str, years: int,
                       execution: Execution | None = None) -> dict[str, Any] | None:
    """``{d_saidi_h, d_saifi, d_eens_kwh}``: each ``{mean, stderr}`` of (with - without) over ``years`` sample
    years, negative when the resource improves reliability; None when the instance counts no customers."""
    if customers(system) is None:
        return None
    w = without(system, resource, mc.v2g)
    spec = replace(mc, years=years)
    ex = execution or Execution()
    base = assess(w.base_sys, replace(spec, v2g=w.v2g_base), execution=ex)
    full = assess(system, spec, execution=ex)
    yb, yf = yearly(w.base_sys, base.per_year), yearly(system, full.per_year)
    if yb is None or yf is None:
        return None
    d_eens = np.array([r.ens_kwh for r in full.per_year]) - np.array([r.ens_kwh for r in base.per_year])
    return {"d_saidi_h": MeanEstimate.of(yf[1] - yb[1]).to_dict(),
            "d_saifi": MeanEstimate.of(yf[0] - yb[0]).to_dict(),
            "d_eens_kwh": MeanEstimate.of(d_eens).to_dict(), "years": years,
            "saidi_without_h": MeanEstimate.of(yb[1]).to_dict(), "saidi_with_h": MeanEstimate.of(yf[1]).to_dict(),
            "saifi_without": MeanEstimate.of(yb[0]).to_dict(), "saifi_with": MeanEstimate.of(yf[0]).to_dict()}
