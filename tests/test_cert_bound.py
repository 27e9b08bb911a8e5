"""The certificate's cheap sufficient condition (gplopt/cert_bound.py): an hour it calls safe always passes the
full certificate with nothing shed, on real years and on networks stressed until many hours fail; and it decides
most of a normal Beijing year (else it would save nothing)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from gplopt.adequacy import HourInputs, hour_inputs, source_limits
from gplopt.cert_bound import forms, safe_hours
from gplopt.certificate import certificate
from gplopt.instance import load_instance
from gplopt.network.powerflow import subtree_matrix
from gplopt.sampling import sample_year
from gplopt.system import System, build_system


def _system(root: Path, name: str) -> System:
    path = root / "instances" / f"{name}.json"
    return build_system(load_instance(path), base_dir=path.parent)


def _check(system: System, hi: HourInputs) -> tuple[int, int]:
    """(hours safe, hours passing the certificate); fails if a safe hour does not pass with zero shed."""
    lim = source_limits(system, hi)
    hours = np.arange(hi.hours.size)
    safe = safe_hours(system, hi, lim, hours)
    with threadpool_limits(1, "blas"):
        ok, shed = certificate(system, hi, lim, hours, subtree_matrix(system.network))
    assert ok[safe].all(), np.flatnonzero(safe & ~ok)[:10]
    assert not shed[safe].any()
    return int(safe.sum()), int(ok.sum())


@pytest.mark.parametrize("name", ["beijing", "beijing_two_lots"])
def test_safe_hours_pass_and_cover_most_of_a_year(root: Path, name: str) -> None:
    system = _system(root, name)
    safe, passed = _check(system, hour_inputs(system, sample_year(system, 2021, 4)))
    assert safe >= 0.8 * passed


@pytest.mark.parametrize("scale", [0.35, 0.5, 0.7])
def test_safe_hours_pass_on_stressed_networks(root: Path, scale: float) -> None:
    """Ratings and the voltage band shrunk, loads rescaled per hour and
    bus (no longer proportional to the shares), generation per unit and hour: many
    hours fail the certificate, and none of those is called safe."""
    base = _system(root, "beijing")
    net = base.network
    band = (net.v_ref**2 - net.vmin**2) * scale
    tight = dataclasses.replace(net, rating_pu=net.rating_pu * scale, vmin=float(np.sqrt(net.v_ref**2 - band)),
                                vmax=float(np.sqrt(net.v_ref**2 + band * 0.3)))
    system = dataclasses.replace(base, network=tight)
    assert forms(system) is not None
    rng = np.random.default_rng(int(scale * 100))
    total_safe = total_fail = 0
    for year in range(2):
        hi = hour_inputs(system, sample_year(system, 7, year))
        p = hi.p_load * rng.uniform(0.2, 1.3, (hi.hours.size, 1)) * rng.uniform(1.0, 1.1, hi.p_load.shape)
        hi = dataclasses.replace(hi, p_load=p, q_load=p * tight.q_over_p, shortfall=np.minimum(hi.shortfall, 0.0),
                                 unit_avail=hi.unit_avail * rng.uniform(0.0, 1.5, hi.unit_avail.shape))
        safe, passed = _check(system, hi)
        total_safe += safe
        total_fail += hi.hours.size - passed
    assert total_safe > 0 and total_fail > 0
