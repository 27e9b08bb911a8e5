"""The shared capacity-value search (gplopt/capacity/search.py) through the Metric protocol, and the stopping rule
on the value's own precision (SequentialMonteCarlo.ecc_rel_precision).

The toy metrics below are what docs/method.md's "Adding a capacity-value metric" describes: a class with
``name``, ``sign``, ``zero_note``, ``base(mc)`` and ``probe(c)``, defined here and run through the same search,
bootstrap and result as ECC, EFC and ELCC, with no other file touched."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gplopt.capacity import Base, CapacityValueSpec, search
from gplopt.capacity.value import capacity_value, next_years
from gplopt.instance import instance_from_data
from gplopt.metrics import MeanEstimate
from gplopt.montecarlo import Execution, SequentialMonteCarlo
from gplopt.system import System, build_system

HOURS = 100.0   # hours per year in which each toy year is short


class ShortfallToy:
    """Year y is short by ``a_y`` kW for HOURS hours; a perfectly reliable unit of ``c`` kW removes up to c of it:
    EENS_y(c) = HOURS * max(a_y - c, 0), convex and decreasing, with slope -HOURS * #(a_y > c) / n. The target is
    the EENS with a resource that removes ``r`` kW in every year, so the answer is exactly ``r``."""
    name = "toy_shortfall"
    sign = 1
    zero_note = "toy: nothing to remove"

    def __init__(self, r: float) -> None:
        self.r = r
        self.calls = 0

    def base(self, mc: SequentialMonteCarlo) -> Base:
        rng = np.random.default_rng(mc.seed)
        self.a = rng.uniform(50.0, 150.0, mc.n_cap)
        target = HOURS * np.maximum(self.a - self.r, 0.0)
        return Base(target=target, eens_base=MeanEstimate.of(HOURS * self.a), eens_with=MeanEstimate.of(target))

    def probe(self, c: float) -> tuple[np.ndarray, float]:
        self.calls += 1
        return HOURS * np.maximum(self.a - c, 0.0), HOURS * float(np.mean(self.a > c))


class AddedLoadToy:
    """EENS rises with added load ``c`` (sign -1, no slope: bisection): EENS_y(c) = HOURS * (b_y + c); the target
    is the EENS at load ``r`` above the base, so the answer is ``r``."""
    name = "toy_load"
    sign = -1
    zero_note = "toy: no room for load"

    def __init__(self, r: float) -> None:
        self.r = r

    def base(self, mc: SequentialMonteCarlo) -> Base:
        self.b = np.random.default_rng(mc.seed).uniform(0.0, 100.0, mc.n_cap)
        target = HOURS * (self.b + self.r)
        return Base(target=target, eens_base=MeanEstimate.of(target), eens_with=MeanEstimate.of(HOURS * self.b))

    def probe(self, c: float) -> tuple[np.ndarray, None]:
        return HOURS * (self.b + c), None


SPEC = CapacityValueSpec(tolerance=1e-4, capacity_max_kw=400.0, n_boot=200)


@pytest.mark.parametrize("r", [0.0, 10.0, 37.5, 80.0])
def test_toy_metric_defined_in_a_test_runs_through_the_shared_newton_search(r: float) -> None:
    toy = ShortfallToy(r)
    cv = search(toy, SPEC, SequentialMonteCarlo(years=40, seed=3))
    assert cv.metric == "toy_shortfall" and cv.converged, cv.note
    assert cv.value_kw == pytest.approx(r, abs=1e-6 + 1e-3 * r)
    assert cv.years == 40 and len(cv.probes) == toy.calls <= 10        # Newton: a handful of probes
    if r == 0.0:
        assert cv.note == toy.zero_note and cv.ci_low_kw == cv.ci_high_kw == 0.0
    else:
        # the paired bootstrap: the answer r is exact in every resample, so the interval is (nearly) a point
        assert cv.ci_low_kw <= cv.value_kw + 1e-6 and cv.ci_high_kw >= cv.value_kw - 1e-6
        assert cv.ci_high_kw - cv.ci_low_kw < 0.02 * r
        assert cv.lower_kw <= cv.value_kw and (cv.upper_kw is None or cv.upper_kw >= cv.value_kw - 1e-6)


def test_toy_metric_without_a_slope_is_bisected_with_the_curve_rising() -> None:
    cv = search(AddedLoadToy(123.0), SPEC, SequentialMonteCarlo(years=30, seed=4))
    assert cv.metric == "toy_load" and cv.converged, cv.note
    # bisection stops within the tolerance of the mean EENS: |dE| <= tol * target
    target = HOURS * (123.0 + cv.eens_with.mean / HOURS)
    assert abs(cv.value_kw - 123.0) * HOURS <= SPEC.tolerance * target + 1e-9
    assert cv.ci_low_kw <= 123.0 + 0.5 and cv.ci_high_kw >= 123.0 - 0.5
    over = search(AddedLoadToy(500.0), SPEC, SequentialMonteCarlo(years=30, seed=4))
    assert not over.converged and over.value_kw == SPEC.capacity_max_kw and "exceeds" in over.note


# ------------------------------------------------------------------------------- precision stopping rule
def copper_plate() -> System:
    """One bus, constant 1000 kW load, four conventional units summing to it and a 150 kW unit 'x' under test."""
    units = [{"id": f"g{i}", "type": "conventional", "bus": 1, "capacity_kw": c, "mttf_h": 950.0, "mttr_h": 50.0}
             for i, c in enumerate([300.0, 300.0, 200.0, 200.0, 150.0])]
    units[-1]["id"] = "x"
    data: dict[str, Any] = {
        "name": "copper_plate_precision", "gpl": None, "units": units,
        "network": {"base_kv": 10.0, "buses": [{"id": 1, "p_kw": 1000.0}], "branches": []},
        "load": {"shape": None, "series_kw": [1000.0] * 24, "hours": 8760},
        "ecc_reference": {"capacity_max_kw": 1000.0, "mttf_h": 1250.0, "mttr_h": 60.0, "tolerance": 0.01}}
    return build_system(instance_from_data(data))


def _ecc(system: System, rel: float, workers: int = 1, batch: int = 8) -> Any:
    mc = SequentialMonteCarlo(seed=11, min_years=4, max_years=200, ecc_rel_precision=rel)
    spec = CapacityValueSpec.from_system(system, resource="x", n_boot=200)
    return capacity_value(system, mc, spec, execution=Execution(workers=workers, batch_years=batch))


def test_precision_rule_stops_earlier_when_loose_later_when_tight_and_reaches_its_target() -> None:
    system = copper_plate()
    loose, tight = _ecc(system, 0.5), _ecc(system, 0.02)
    for cv, rel in ((loose, 0.5), (tight, 0.02)):
        assert cv.stopped_by == "ecc_rel_precision" and cv.converged, cv.note
        assert cv.value_kw > 0 and cv.half_width_kw <= rel * cv.value_kw
    assert loose.years == 4 < tight.years                 # the loose target holds on the first min_years
    # the year counts follow the method's schedule only: 4, 6, 9, 14, ...
    counts = [4]
    while counts[-1] < tight.years:
        counts.append(next_years(counts[-1], SequentialMonteCarlo(min_years=4, max_years=200)))
    assert tight.years in counts
    before = _ecc_exact(system, counts[counts.index(tight.years) - 1])
    assert before.half_width_kw > 0.02 * before.value_kw   # it did not stop one round too late
    # the same years give the same value with a fixed year count (the rule only chooses how many)
    assert _ecc_exact(system, tight.years).value_kw == tight.value_kw


def _ecc_exact(system: System, years: int) -> Any:
    spec = CapacityValueSpec.from_system(system, resource="x", n_boot=200)
    return capacity_value(system, SequentialMonteCarlo(seed=11, years=years), spec)


def test_precision_rule_is_identical_for_any_workers_or_batch_size() -> None:
    system = copper_plate()
    ref = _ecc(system, 0.02).to_dict()
    for workers, batch in ((1, 1), (2, 3)):
        got = _ecc(system, 0.02, workers, batch).to_dict()
        ref.pop("seconds", None), got.pop("seconds")
        assert got == ref, (workers, batch)


def test_precision_rule_validated_and_capped() -> None:
    with pytest.raises(Exception, match="ecc-rel-precision"):
        SequentialMonteCarlo(ecc_rel_precision=1.5)
    system = copper_plate()
    mc = SequentialMonteCarlo(seed=11, min_years=3, max_years=5, ecc_rel_precision=1e-4)
    cv = capacity_value(system, mc, CapacityValueSpec.from_system(system, resource="x", n_boot=100))
    assert cv.stopped_by == "max_years" and cv.years == 5
