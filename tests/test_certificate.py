"""The LinDistFlow certificate (gplopt/certificate.py), moved out of adequacy.py and allocating less.

* Hours are independent: the certificate of any subset of hours, in any order, is bit-identical to the rows of
  the certificate of the whole year (so skipping hours never changes a verdict).
* Shedding hours: a passed hour sheds exactly max(D, 0), lowest value of lost load first.
* Islanded hours (substation down) are decided by the same rule; with the grid down nothing is imported.
The certificate against the OPF on every hour is pinned in tests/test_reliability.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from gplopt.adequacy import HourInputs, hour_inputs, source_limits
from gplopt.certificate import certificate
from gplopt.instance import load_instance
from gplopt.network.powerflow import subtree_matrix
from gplopt.sampling import sample_year
from gplopt.system import System, build_system


@pytest.fixture(scope="module")
def beijing(beijing_path: Path) -> System:
    return build_system(load_instance(beijing_path), base_dir=beijing_path.parent)


def _stressed(system: System, hi: HourInputs) -> HourInputs:
    """Every third hour islanded, every fifth 300 kW short: the branches a normal year hardly reaches."""
    h = np.arange(hi.hours.size)
    return dataclasses.replace(hi, grid_up=hi.grid_up & (h % 3 > 0), shortfall=hi.shortfall + 300.0 * (h % 5 == 0))


@pytest.mark.parametrize("stressed", [False, True])
def test_certificate_rows_are_independent(beijing: System, stressed: bool) -> None:
    hi = hour_inputs(beijing, sample_year(beijing, 2021, 1))
    if stressed:
        hi = _stressed(beijing, hi)
    lim, t = source_limits(beijing, hi), subtree_matrix(beijing.network)
    with threadpool_limits(1, "blas"):
        ok, shed = certificate(beijing, hi, lim, np.arange(hi.hours.size), t)
        sub = np.random.default_rng(3).permutation(hi.hours.size)[:500]
        ok_s, shed_s = certificate(beijing, hi, lim, sub, t)
    assert np.array_equal(ok_s, ok[sub])
    assert np.array_equal(shed_s, shed[sub])
    assert ok.any()
    if stressed:
        assert not ok.all()          # some islanded hours cannot be certified


def test_certificate_sheds_the_shortfall_in_merit_order(beijing: System) -> None:
    hi = _stressed(beijing, hour_inputs(beijing, sample_year(beijing, 2021, 2)))
    lim, t = source_limits(beijing, hi), subtree_matrix(beijing.network)
    with threadpool_limits(1, "blas"):
        ok, shed = certificate(beijing, hi, lim, np.arange(hi.hours.size), t)
    short = np.maximum(hi.shortfall, 0.0)
    np.testing.assert_allclose(shed.sum(axis=1), np.minimum(short, hi.p_load.sum(axis=1)), rtol=1e-12, atol=1e-9)
    voll = beijing.network.voll
    lowest = voll == voll.min()
    partial = (short > 0) & (short < hi.p_load[:, lowest].sum(axis=1))
    assert partial.any()
    assert np.all(shed[partial][:, ~lowest] == 0.0)      # higher classes untouched while the lowest suffices
