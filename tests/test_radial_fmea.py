"""The closed-form FMEA of tools/radial_fmea.py on a two-branch feeder whose indices are worked out by hand: the
reference the RBTS Bus 2 Monte Carlo is checked against must itself be right."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("radial_fmea", ROOT / "tools" / "radial_fmea.py")
assert _spec is not None and _spec.loader is not None
fmea = importlib.util.module_from_spec(_spec)
sys.modules["radial_fmea"] = fmea
_spec.loader.exec_module(fmea)


def feeder(tie: bool) -> dict[str, Any]:
    """Bus 1 (slack) -b1 (breaker, 0.1/yr, 5 h)- bus 2 (10 customers) -b2 (no device, 0.2/yr, 4 h)- bus 3 (20
    customers), optionally a tie from bus 3 back to bus 1."""
    branches: list[dict[str, Any]] = [
        {"id": 1, "from_bus": 1, "to_bus": 2, "failure_rate_per_year": 0.1, "mttr_h": 5.0, "protection": "device"},
        {"id": 2, "from_bus": 2, "to_bus": 3, "failure_rate_per_year": 0.2, "mttr_h": 4.0, "protection": "none"}]
    if tie:
        branches.append({"id": 3, "from_bus": 3, "to_bus": 1, "normally_open": True})
    return {"network": {"slack_bus": 1, "buses": [{"id": 1}, {"id": 2, "customers": 10}, {"id": 3, "customers": 20}],
                        "branches": branches}}


@pytest.mark.parametrize(("tie", "switches", "u2", "u3"), [
    (False, "branch", 0.1 * 5 + 0.2 * 1, 0.1 * 5 + 0.2 * 4),       # no tie: downstream waits for the repair
    (True, "branch", 0.1 * 1 + 0.2 * 1, 0.1 * 1 + 0.2 * 1),         # the tie re-feeds everything below the fault
    (True, "sending_end", 0.1 * 5 + 0.2 * 1, 0.1 * 1 + 0.2 * 4),    # the faulted branch's far node goes with it
])
def test_hand_worked_feeder(tie: bool, switches: str, u2: float, u3: float) -> None:
    fd = fmea.feeder_from_instance(feeder(tie), {2: 100.0, 3: 50.0})
    per_bus = fmea.bus_indices(fd, switches=switches)
    assert per_bus[2] == pytest.approx((0.3, u2))   # both faults trip the breaker of b1: two interruptions
    assert per_bus[3] == pytest.approx((0.3, u3))
    idx = fmea.system_indices(fd, per_bus)
    assert idx["saifi"] == pytest.approx(0.3)
    assert idx["saidi_h"] == pytest.approx((10 * u2 + 20 * u3) / 30)
    assert idx["caidi_h"] == pytest.approx(idx["saidi_h"] / 0.3)
    assert idx["asai"] == pytest.approx(1 - idx["saidi_h"] / 8760)
    assert idx["ens_kwh_per_year"] == pytest.approx(100 * u2 + 50 * u3)


def test_device_on_the_faulted_branch_interrupts_only_below_it() -> None:
    data = feeder(False)
    data["network"]["branches"][1]["protection"] = "device"
    per_bus = fmea.bus_indices(fmea.feeder_from_instance(data, {}))
    assert per_bus[2] == pytest.approx((0.1, 0.5))
    assert per_bus[3] == pytest.approx((0.3, 0.5 + 0.8))


def test_simulation_conventions() -> None:
    """``min``: service returns at the repair if it comes before the sectioning time (E[min(R, s)] for an
    exponential R); ``cycle``: failures per calendar year of an up/down component, 8760 / (MTTF + MTTR)."""
    fd = fmea.feeder_from_instance(feeder(False), {})
    per_bus = fmea.bus_indices(fd, durations="min", frequency="cycle")
    f1, f2 = 8760 / (8760 / 0.1 + 5), 8760 / (8760 / 0.2 + 4)
    assert per_bus[2] == pytest.approx((f1 + f2, f1 * 5 + f2 * 4 * (1 - math.exp(-1 / 4))))
    assert per_bus[3] == pytest.approx((f1 + f2, f1 * 5 + f2 * 4))


def test_rate_and_repair_in_every_schema_form() -> None:
    assert fmea.branch_rate_repair({"mttf_h": 876.0, "mttr_h": 2.0}) == pytest.approx((10.0, 2.0))
    assert fmea.branch_rate_repair({"failure_rate_per_year": 0.5, "mttr_h": 3.0}) == (0.5, 3.0)
    per_km = {"failure_rate_per_km_year": 0.065, "length_km": 0.8, "repair_h": 5.0}
    assert fmea.branch_rate_repair(per_km) == pytest.approx((0.052, 5.0))
    assert fmea.branch_rate_repair({"failure_rate_per_year": 0.0, "mttr_h": 3.0}) is None
    assert fmea.branch_rate_repair({"r_ohm": 0.1}) is None


def test_hourly_counting_sees_an_interruption_with_probability_min_of_its_duration_and_one_hour() -> None:
    """On the hourly grid an interruption of duration D covers an hour's midpoint with probability min(D, 1):
    exponential repairs of mean r are seen E[min(R, 1)] = r (1 - exp(-1/r)) times per fault; hours unchanged."""
    fd = fmea.feeder_from_instance(feeder(False), {})
    event = fmea.bus_indices(fd, durations="min")
    hourly = fmea.bus_indices(fd, durations="min", counting="hourly")
    seen5, seen4 = 5 * (1 - math.exp(-1 / 5)), 4 * (1 - math.exp(-1 / 4))
    for bus in (2, 3):   # bus 2 waits for b1's repair and is re-fed at b2's sectioning; bus 3 waits for both
        assert hourly[bus][0] == pytest.approx(0.1 * seen5 + 0.2 * seen4)
        assert hourly[bus][1] == event[bus][1]
