"""Capacity value with branch outages (gplopt/capacity/dist_days.py, docs/distribution.md "Capacity value"):
ECC, EFC and ELCC evaluate their years through the distribution overlay, so a lot at the end of a failing
lateral is worth what it does in its island; the paired short-day re-evaluation stays exact."""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt import distribution
from gplopt.capacity import capacity_value
from gplopt.capacity.shortdays import add_reserve, with_row
from gplopt.capacity.spec import CapacityValueResult, CapacityValueSpec
from gplopt.instance import instance_from_data
from gplopt.network.opf import SheddingOPF
from gplopt.reliability import SequentialMonteCarlo, assess
from gplopt.resources import without
from gplopt.sampling import REFERENCE_ID, UNIT, sample_year, unit_key, unit_up
from gplopt.system import System, build_system

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_distribution import lot_feeder  # noqa: E402

MC = SequentialMonteCarlo(seed=5, years=4)


def feeder_system(fail: bool) -> System:
    d: dict[str, Any] = copy.deepcopy(lot_feeder())
    if not fail:
        for key in ("mttf_h", "mttr_h"):
            d["network"]["branches"][1].pop(key)
    return build_system(instance_from_data(d))


def value(system: System, metric: str = "ecc") -> CapacityValueResult:
    return capacity_value(system, MC, CapacityValueSpec.from_system(system, metric=metric, resource="lot"))


def se(cv: CapacityValueResult) -> float:
    """The value's standard error from its bootstrap CI (normal approximation)."""
    return (cv.ci_high_kw - cv.ci_low_kw) / (2 * 1.6449)


@pytest.fixture(scope="module")
def failing() -> tuple[System, CapacityValueResult]:
    system = feeder_system(True)
    return system, value(system)


def test_lot_supporting_its_island_has_capacity_value(failing: tuple[System, CapacityValueResult]) -> None:
    """The feeder's grid is firm: without branch outages nothing is ever shed and the lot's ECC is 0; with the
    lateral failing, the lot carries its island and its ECC is positive, > 3 s.e. above."""
    system, cv = failing
    never = value(feeder_system(False))
    assert not distribution.branch_model(feeder_system(False)).n
    assert never.value_kw == 0.0 and never.eens_base.mean == 0.0
    assert cv.converged, cv.note
    assert cv.value_kw - never.value_kw > 3 * se(cv) > 0
    assert cv.eens_base.mean > cv.eens_with.mean > 0


def test_first_pass_equals_assess_on_the_same_years(failing: tuple[System, CapacityValueResult]) -> None:
    system, cv = failing
    wo = without(system, "lot", MC.v2g)
    base = assess(wo.base_sys, dataclasses.replace(MC, v2g=wo.v2g_base))
    full = assess(system, MC)
    assert cv.eens_base.mean == pytest.approx(base.eens_kwh_per_year.mean, rel=1e-12)
    assert cv.eens_with.mean == pytest.approx(full.eens_kwh_per_year.mean, rel=1e-12)
    assert cv.eens_base.stderr == pytest.approx(base.eens_kwh_per_year.stderr, rel=1e-9)


def test_short_days_equal_full_resimulation_with_branch_outages(failing: tuple[System, CapacityValueResult]) -> None:
    """Every probe re-evaluates only the short days and the days with a branch down; a whole year with the
    reference unit at the lot's bus (it feeds the island too) gives the same EENS."""
    system, cv = failing
    assert 0 < cv.evaluated_day_fraction < 1
    wo = without(system, "lot", MC.v2g)
    spec = CapacityValueSpec.from_system(system, resource="lot")
    units = add_reserve(wo.base_sys.units, wo.ref_bus)
    sys_r = wo.base_sys.replace(units=units)
    opf = SheddingOPF(sys_r.network, units, tuple(int(f.bus) for f in sys_r.lots))
    for c in sorted({p.capacity_kw for p in cv.probes if p.capacity_kw > 0})[-2:]:
        full = []
        for y in range(MC.first_year, MC.first_year + MC.n_cap):
            up = unit_up(MC.seed, UNIT, unit_key(REFERENCE_ID), y, spec.ref_mttf_h, spec.ref_mttr_h, system.hours)
            hist = with_row(sample_year(wo.base_sys, MC.seed, y), up, c * up)
            segs = distribution.year_segments(system, MC.seed, y)
            full.append(distribution.evaluate_with_segments(sys_r, hist, segs, opf, v2g=wo.v2g_base,
                                                            dense=True).ens_kwh)
        short = next(p.eens_kwh_per_year.mean for p in cv.probes if p.capacity_kw == c)
        assert short == pytest.approx(float(np.mean(full)), rel=1e-9), c


@pytest.mark.parametrize("metric", ["efc", "elcc"])
def test_efc_and_elcc_see_the_island_too(metric: str) -> None:
    cv = value(feeder_system(True), metric)
    assert cv.value_kw > 3 * se(cv) > 0, (cv.value_kw, cv.ci_low_kw, cv.ci_high_kw, cv.note)
    assert value(feeder_system(False), metric).value_kw == 0.0


def test_a_lot_in_a_year_without_shedding_splits_by_cause() -> None:
    """A lot on a feeder that never sheds: the split by cause is all zeros (it used to fail on an empty reshape)."""
    res = assess(feeder_system(False), dataclasses.replace(MC, years=1))
    assert res.by_cause is not None
    assert all(e["eens_kwh_per_year"].mean == 0.0 for e in res.by_cause.values())


def test_same_value_for_any_worker_count_and_batch(failing: tuple[System, CapacityValueResult]) -> None:
    from gplopt.montecarlo import Execution

    system, cv = failing
    two = capacity_value(system, MC, CapacityValueSpec.from_system(system, resource="lot"),
                         execution=Execution(workers=2, batch_years=1))
    assert two.value_kw == cv.value_kw and two.ci_low_kw == cv.ci_low_kw
    assert [p.eens_kwh_per_year.mean for p in two.probes] == [p.eens_kwh_per_year.mean for p in cv.probes]
