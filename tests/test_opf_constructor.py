"""One cached shedding-OPF constructor (gplopt/opf_cache.py) for assess, capacity value and studies (the LP under it
is shared further by gplopt/network/opf.py where that caches it)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from gplopt import opf_cache
from gplopt.adequacy import lot_buses
from gplopt.capacity.shortdays import add_reserve, cached_opf
from gplopt.instance import load_instance
from gplopt.reliability import SequentialMonteCarlo, assess
from gplopt.system import build_system

ROOT = Path(__file__).resolve().parent.parent


def test_one_model_per_network_units_lots_and_solver() -> None:
    system = build_system(load_instance(ROOT / "instances" / "ieee33.json"))
    net, units, lots = system.network, system.units, lot_buses(system)
    a = opf_cache.shedding_opf(net, units, lots, "highs")
    assert a is not None
    # equal contents (another object) share the model; the capacity-value passes get the same one
    assert opf_cache.shedding_opf(copy.deepcopy(net), copy.deepcopy(units), tuple(lots), "highs") is a
    assert cached_opf(system, units, "highs") is a
    # a unit more (the ECC reference unit), another impedance or another lot bus: another model
    assert opf_cache.shedding_opf(net, add_reserve(units, 3), lots, "highs") is not a
    rated = net.__class__(**{**net.__dict__, "r_pu": net.r_pu * 2.0})
    assert opf_cache.shedding_opf(rated, units, lots, "highs") is not a
    assert opf_cache.shedding_opf(net, units, np.append(lots, 4), "highs") is not a


def test_assess_builds_its_model_through_the_cache() -> None:
    system = build_system(load_instance(ROOT / "instances" / "ieee33.json"))
    opf_cache._OPFS.clear()
    assess(system, SequentialMonteCarlo(seed=1, years=1))
    key = [k for k in opf_cache._OPFS if k[1] == tuple(int(b) for b in lot_buses(system))]
    assert len(key) == 1
    assert cached_opf(system, system.units, "highs") is opf_cache._OPFS[key[0]]


def test_copper_plate_has_no_model() -> None:
    system = build_system(load_instance(ROOT / "instances" / "rbts.json"))
    assert system.network.copper_plate
    assert opf_cache.shedding_opf(system.network, system.units, lot_buses(system), "highs") is None
