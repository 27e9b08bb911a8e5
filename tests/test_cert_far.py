"""The far-first split (gplopt/cert_far.py): wherever it passes, the shedding OPF finds the same least cost (the
same total shed with equal values of lost load, the same value-weighted shed with unequal ones), so the hour's
ENS is the OPF's; and it decides most islanded hours, which the proportional split never does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from gplopt.adequacy import hour_inputs, source_limits
from gplopt.cert_far import certificate_far, far_first_shed, path_resistance
from gplopt.certificate import certificate
from gplopt.instance import load_instance
from gplopt.network.opf import SheddingOPF
from gplopt.network.powerflow import subtree_matrix
from gplopt.sampling import sample_year
from gplopt.system import System, build_system


@pytest.fixture(scope="module")
def beijing(beijing_path: Path) -> System:
    return build_system(load_instance(beijing_path), base_dir=beijing_path.parent)


def _unequal_voll(system: System) -> System:
    net = system.network
    voll = np.where(np.arange(net.n_bus) % 3 == 0, 30.0, 10.0)   # every third bus is worth three times more
    return dataclasses.replace(system, network=dataclasses.replace(net, voll=voll))


@pytest.mark.parametrize("unequal", [False, True])
def test_far_first_matches_the_opf_where_it_passes(beijing: System, unequal: bool) -> None:
    system = _unequal_voll(beijing) if unequal else beijing
    net = system.network
    assert system.fleet is not None
    opf = SheddingOPF(net, system.units, system.fleet.bus)
    t = subtree_matrix(net)
    decided = islanded = 0
    for year in range(3):
        hi = hour_inputs(system, sample_year(system, 11, year))
        lim = source_limits(system, hi)
        short = np.flatnonzero(hi.shortfall > 0)
        with threadpool_limits(1, "blas"):
            ok1, _ = certificate(system, hi, lim, short, t)
            hours = short[~ok1]                          # what the proportional split leaves to the OPF
            ok, shed = certificate_far(system, hi, lim, hours, t, path_resistance(net, t))
        islanded += int((~hi.grid_up[hours]).sum())
        for h, s in zip(hours[ok], shed[ok], strict=True):
            res = opf.solve(hi.p_load[h], hi.q_load[h], lim.pmax[:, h], lim.pmin[:, h], lim.qmax[:, h],
                            hi.lot_kw[:, h], int(hi.ref_bus[h]))
            assert res.ok
            assert s.sum() == pytest.approx(hi.shortfall[h], rel=1e-12)
            assert res.total_kw == pytest.approx(s.sum(), rel=1e-9, abs=1e-6)
            assert float(net.voll @ res.shed_kw) == pytest.approx(float(net.voll @ s), rel=1e-9, abs=1e-6)
            decided += 1
    assert islanded > 20
    # with a dearer bus every third one, those must be served wherever they are: the split decides fewer
    assert decided >= (1 if unequal else 0.6 * islanded)


def test_far_first_order(beijing: System) -> None:
    """Lowest value of lost load first; within a class the farthest bus from the reference first, whole."""
    net = _unequal_voll(beijing).network
    t = subtree_matrix(net)
    dist = path_resistance(net, t)
    assert np.allclose(dist, dist.T) and np.allclose(np.diag(dist), 0.0) and (dist >= -1e-15).all()
    load = np.full((1, net.n_bus), 100.0)
    ref = net.index(15)
    shed = far_first_shed(net, load, np.array([250.0]), np.array([ref]), dist)[0]
    assert shed.sum() == pytest.approx(250.0)
    cheap = net.voll == net.voll.min()
    assert not shed[~cheap].any()
    cut = np.flatnonzero(shed > 0)
    assert sorted(shed[cut].tolist()) == [50.0, 100.0, 100.0]
    kept = np.flatnonzero(cheap & (shed == 0))
    assert dist[ref, cut[shed[cut] == 100.0]].min() >= dist[ref, kept].max()
