"""One shedding OPF per (network, units, lot buses, solver) in each process: the one constructor of
:class:`gplopt.network.opf.SheddingOPF` that ``assess``'s year loop, the capacity-value passes and the studies
share. Building the model (Pyomo, then HiGHS) costs far more than a year's solves on small feeders, and every
caller that evaluates the same network with the same units gets the same model back. The key is a hash of every
array and scalar of the network and the units (:func:`gplopt.checkpoint.content_sha`), so two variants (another
rating, a reference unit added, another lot bus) never share one; a solve's answer does not depend on what the
model solved before (the same numbers for any worker count or batch size, tested), so sharing changes no number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gplopt.checkpoint import content_sha
from gplopt.system import Network, Units

if TYPE_CHECKING:
    from gplopt.network.opf import SheddingOPF

MAX_MODELS = 16                    # per process; the cache is emptied when it would grow beyond
_OPFS: dict[tuple[str, tuple[int, ...], str], SheddingOPF] = {}


def shedding_opf(network: Network, units: Units, lot_buses: np.ndarray | tuple[int, ...],
                 solver: str) -> SheddingOPF | None:
    """The process's shedding OPF of this network, units, lot buses and solver (None on a copper plate)."""
    if network.copper_plate:
        return None
    lots = tuple(int(b) for b in np.asarray(lot_buses, int).reshape(-1))
    key = (content_sha((network, units)), lots, solver)
    opf = _OPFS.get(key)
    if opf is None:
        from gplopt.network.opf import SheddingOPF  # Pyomo is imported only when a network needs it

        if len(_OPFS) >= MAX_MODELS:
            _OPFS.clear()
        opf = _OPFS[key] = SheddingOPF(network, units, lots, solver)
    return opf
