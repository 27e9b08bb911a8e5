"""Economics arithmetic: battery wear from V2G throughput, and the storage duration at which E_G breaks even.

Economics is plain arithmetic on a capacity-value result, so these tests build the result by hand and check the
formulas against independent restatements (the avoided storage's cost from ``storage_annual_cost``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gplopt.capacity_value import CapacityValueResult
from gplopt.economics import economics, ledger, storage_annual_cost
from gplopt.errors import InstanceError
from gplopt.instance import load_instance
from gplopt.metrics import MeanEstimate
from gplopt.system import build_system


def _cv(ecc_kw: float, v2g_kwh: float) -> CapacityValueResult:
    return CapacityValueResult(
        metric="ecc", resource="gpl", value_kw=ecc_kw, lower_kw=ecc_kw, upper_kw=None, ci_low_kw=ecc_kw * 0.9,
        ci_high_kw=ecc_kw * 1.1, ci_level=0.9, eens_base=MeanEstimate(5e5, 1e4), eens_with=MeanEstimate(4.6e5, 1e4),
        probes=[], years=10, converged=True, note="", v2g_kwh_per_year=MeanEstimate(v2g_kwh, 0.05 * v2g_kwh),
        load_reduction_kwh_per_year=MeanEstimate(1e5, 1e3), seconds=0.0, evaluated_day_fraction=1.0,
        charging_kwh_per_year=MeanEstimate(7e5, 1e3), boot_values=np.array([0.9, 1.0, 1.1]) * ecc_kw)


@pytest.fixture(scope="module")
def beijing(beijing_path: Path):  # type: ignore[no-untyped-def]
    return build_system(load_instance(beijing_path), base_dir=beijing_path.parent)


def test_net_benefit_is_zero_at_the_break_even_storage_duration(beijing_path: Path, beijing) -> None:
    cv = _cv(ecc_kw=80.0, v2g_kwh=40_000.0)
    eco = economics(beijing, cv)
    h = eco.break_even_storage_hours
    assert h is not None and h > 0
    at_h = build_system(load_instance(beijing_path, [f"economics.storage_hours={h!r}"]),
                        base_dir=beijing_path.parent)
    capex, om = storage_annual_cost(at_h, cv.value_kw)
    assert float(capex + om) - eco.v2g_payments == pytest.approx(0.0, abs=1e-6)
    # longer storage is worth more: E_G is negative below h and positive above
    assert economics(at_h, cv).net_benefit == pytest.approx(0.0, abs=1e-6)
    longer = build_system(load_instance(beijing_path, [f"economics.storage_hours={h + 1!r}"]),
                          base_dir=beijing_path.parent)
    assert economics(longer, cv).net_benefit > 0


def test_break_even_is_none_without_capacity_value_and_zero_when_power_alone_pays(beijing) -> None:
    assert economics(beijing, _cv(ecc_kw=0.0, v2g_kwh=40_000.0)).break_even_storage_hours is None
    # payments below the avoided power cost alone (200 CNY/kW/yr): E_G > 0 at any duration
    assert economics(beijing, _cv(ecc_kw=100.0, v2g_kwh=1_000.0)).break_even_storage_hours == 0.0


def test_battery_wear_enters_the_annual_cost_and_the_owners_ledger(beijing_path: Path, beijing) -> None:
    worn = build_system(load_instance(beijing_path, ["gpl.battery_wear=battery_wear_nmc"]),
                        base_dir=beijing_path.parent)
    model = json.loads((beijing_path.parent.parent / "models" / "costs" / "battery_wear_nmc.json").read_text())
    rate = model["battery_price_per_kwh"] / (model["cycle_life_cycles"] * model["cycle_life_dod"]) / 0.95
    assert worn.fleet is not None and worn.fleet.wear_cost_per_kwh == pytest.approx(rate)
    cv = _cv(ecc_kw=80.0, v2g_kwh=40_000.0)
    plain, with_wear = economics(beijing, cv), economics(worn, cv)
    assert plain.battery_wear_cost == 0.0
    assert with_wear.battery_wear_cost == pytest.approx(rate * 40_000.0)
    assert with_wear.annual_cost - plain.annual_cost == pytest.approx(rate * 40_000.0)
    assert with_wear.ecc_per_cost < plain.ecc_per_cost
    owners = ledger(worn, cv, with_wear).owners
    assert owners["net"] == pytest.approx(owners["total"] - rate * 40_000.0)
    assert owners["battery_wear"] == pytest.approx(-rate * 40_000.0)


def test_a_bad_wear_model_is_refused_naming_the_field(tmp_path: Path, beijing_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "costs").mkdir()
    (tmp_path / "costs" / "bad_wear.json").write_text(json.dumps(
        {"battery_price_per_kwh": 1000.0, "cycle_life_cycles": 2000.0, "cycle_life_dod": 1.5}))
    monkeypatch.setenv("GPLOPT_MODELS", str(tmp_path))
    with pytest.raises(InstanceError, match=r"bad_wear\.json: cycle_life_dod: must be <= 1, got 1\.5"):
        load_instance(beijing_path, ["gpl.battery_wear=bad_wear"])
