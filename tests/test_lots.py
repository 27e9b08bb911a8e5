"""Many parking lots: the gpl shorthand, per-lot streams, the OPF's dispatch among lots, joint vs separate."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt.capacity_value import CapacityValueSpec, capacity_value
from gplopt.errors import InstanceError
from gplopt.instance import instance_from_data, load_instance, with_overrides
from gplopt.network.opf import SheddingOPF
from gplopt.reliability import SequentialMonteCarlo, assess
from gplopt.sampling import sample_year
from gplopt.system import System, build_system

ROOT = Path(__file__).resolve().parent.parent
BEIJING = json.loads((ROOT / "instances" / "beijing.json").read_text(encoding="utf-8"))
TWO = ROOT / "instances" / "beijing_two_lots.json"


def as_list(data: dict[str, Any]) -> dict[str, Any]:
    """The same case with its lot written as a one-element gpls list."""
    out = copy.deepcopy(data)
    out["gpls"] = [{"id": "gpl", **out.pop("gpl")}]
    return out


# ------------------------------------------------------------------------------------------ data model
def test_shorthand_and_one_lot_list_are_the_same_instance() -> None:
    a = instance_from_data(copy.deepcopy(BEIJING), base_dir=ROOT / "instances")
    b = instance_from_data(as_list(BEIJING), base_dir=ROOT / "instances")
    assert a == b and [g.id for g in a.gpls] == ["gpl"] and a.gpl is a.gpls[0]


def test_shorthand_and_one_lot_list_give_the_same_eens() -> None:
    mc = SequentialMonteCarlo(years=2, seed=7)
    ra = assess(build_system(instance_from_data(copy.deepcopy(BEIJING), base_dir=ROOT / "instances")), mc)
    rb = assess(build_system(instance_from_data(as_list(BEIJING), base_dir=ROOT / "instances")), mc)
    assert [r.ens_kwh for r in ra.per_year] == [r.ens_kwh for r in rb.per_year]
    assert ra.eens_kwh_per_year.mean > 0
    assert ra.v2g_kwh_per_year_by_lot["gpl"].mean == ra.v2g_kwh_per_year.mean > 0


@pytest.mark.slow
def test_shorthand_and_one_lot_list_give_the_same_ecc() -> None:
    mc = SequentialMonteCarlo(years=3, seed=7)
    out = []
    for data in (copy.deepcopy(BEIJING), as_list(BEIJING)):
        system = build_system(instance_from_data(data, base_dir=ROOT / "instances"))
        out.append(capacity_value(system, mc, CapacityValueSpec.from_system(system)))
    assert out[0].value_kw == out[1].value_kw > 0
    assert out[0].ci_low_kw == out[1].ci_low_kw


def test_gpl_and_gpls_together_are_rejected() -> None:
    data = as_list(BEIJING)
    data["gpl"] = BEIJING["gpl"]
    with pytest.raises(InstanceError, match="gpl: must be absent when 'gpls' is given"):
        instance_from_data(data)


def test_lot_ids_are_unique() -> None:
    data = json.loads(TWO.read_text(encoding="utf-8"))
    data["gpls"][1]["id"] = "north"
    with pytest.raises(InstanceError, match=r"gpls\[1\]\.id: must be unique, got 'north'"):
        instance_from_data(data, base_dir=ROOT / "instances")


def test_shorthand_errors_name_the_field_written() -> None:
    data = copy.deepcopy(BEIJING)
    data["gpl"]["n_chargers"] = -1
    with pytest.raises(InstanceError, match=r"^gpl\.n_chargers: must be in \[0, 5000\]"):
        instance_from_data(data, base_dir=ROOT / "instances")


def test_set_gpl_addresses_the_only_lot_and_gpls_id_addresses_a_lot() -> None:
    one = load_instance(ROOT / "instances" / "beijing.json", ["gpl.discharge_kw=2.5"])
    assert one.gpls[0].discharge_kw == 2.5
    assert with_overrides(one, ["gpl.n_chargers=120"]).gpls[0].n_chargers == 120     # on dumped (gpls) data
    assert load_instance(ROOT / "instances" / "beijing.json", ["gpls.gpl.bus=18"]).gpls[0].bus == 18
    two = load_instance(TWO, ["gpls.east.n_chargers=10"])
    assert [g.n_chargers for g in two.gpls] == [150, 10]
    with pytest.raises(InstanceError, match="several lots"):
        load_instance(TWO, ["gpl.n_chargers=10"])


def test_resource_names_a_lot_gpls_or_a_unit() -> None:
    system = build_system(load_instance(TWO))
    for ok in ("north", "east", "gpls", "gas_turbine"):
        assert CapacityValueSpec.from_system(system, resource=ok).resource == ok
    with pytest.raises(InstanceError, match=r"--resource: must be a lot id, 'gpls'.*north, east"):
        CapacityValueSpec.from_system(system, resource="west")


# ------------------------------------------------------------------------------------------ streams
def test_adding_a_lot_or_a_charger_shifts_no_other_draws() -> None:
    two = build_system(load_instance(TWO))
    north_only = two.replace(lots=two.lots[:1])
    h2, h1 = sample_year(two, 11, 3), sample_year(north_only, 11, 3)
    a, b = h2.lots[0], h1.lots[0]
    assert a is not None and b is not None
    assert np.array_equal(a.charger_up, b.charger_up)
    for f in ("arrival", "departure", "soc_ini", "willingness"):
        assert np.array_equal(getattr(a.sessions, f), getattr(b.sessions, f))
    east = h2.lots[1]
    assert east is not None and not np.array_equal(east.sessions.arrival, a.sessions.arrival)   # own streams
    # a charger more at 'east' leaves its first 150 chargers' draws as they were
    more = two.replace(lots=(two.lots[0], dataclasses.replace(two.lots[1], n_chargers=151)))
    e2 = sample_year(more, 11, 3).lots[1]
    assert e2 is not None
    assert np.array_equal(e2.charger_up[:, :, :150], east.charger_up)
    assert np.array_equal(e2.sessions.arrival[:, :150], east.sessions.arrival)


# ------------------------------------------------------------------------------------------ dispatch
FULL = {"soc_ini": {"mean": 0.95, "std": 0.05, "min": 0.9, "max": 1.0}}   # PEVs arrive ready for V2G


def lots_net(rating_kva: float | None, lots: list[dict[str, Any]], *, mttf: float = 950.0,
             hours: int = 8760) -> System:
    """Generation at bus 1, 1000 kW of load at bus 2, the lots at bus 3 (no load) behind branch 2-3; sample
    years of ``hours`` (the first hours of the year) to keep the test short."""
    units = [{"id": f"g{i}", "type": "conventional", "bus": 1, "capacity_kw": c, "mttf_h": mttf, "mttr_h": 50.0}
             for i, c in enumerate([300.0, 300.0, 200.0, 200.0])]
    data = {
        "name": "lots_test",
        "network": {"base_kv": 10.0, "slack_bus": 1, "vmin_pu": 0.5, "vmax_pu": 1.5,
                    "buses": [{"id": 1, "p_kw": 0.0}, {"id": 2, "p_kw": 1000.0, "q_kvar": 0.0},
                              {"id": 3, "p_kw": 0.0}],
                    "branches": [{"id": 1, "from_bus": 1, "to_bus": 2, "r_ohm": 0.01, "x_ohm": 0.01},
                                 {"id": 2, "from_bus": 2, "to_bus": 3, "r_ohm": 0.01, "x_ohm": 0.01,
                                  "rating_kva": rating_kva}]},
        "units": units,
        "load": {"shape": None, "series_kw": [1000.0] * 24, "hours": 8760},
        "gpls": [{"bus": 3, "n_chargers": 30, "charge_kw": 0.2, "discharge_kw": 10.0,
                  **lot, "sessions": {**FULL, **lot.get("sessions", {})}} for lot in lots],
        "incentive": {"price_per_kwh": 2.0},
        "ecc_reference": {"capacity_max_kw": 500.0, "tolerance": 0.01},
    }
    system = build_system(instance_from_data(data))
    return system.replace(load_kw=system.load_kw[:hours])


def test_dispatch_among_lots_is_unique_least_v2g_then_lot_order() -> None:
    system = lots_net(None, [{"id": "a"}, {"id": "b"}])
    net, units = system.network, system.units
    p = np.array([0.0, 1000.0, 0.0])
    pmax = np.array([300.0, 300.0, 200.0, 100.0])       # 900 kW of 1000: 100 kW short
    opf = SheddingOPF(net, units, tuple(f.bus for f in system.lots))
    res = opf.solve(p, p * 0, pmax, pmax * 0, np.full(4, 1e3), np.array([150.0, 150.0]), int(net.root))
    assert res.ok and res.total_kw == pytest.approx(0.0, abs=1e-6)
    v2g = opf._sol["pgpl"] * opf.net.base_kva
    assert v2g == pytest.approx([100.0, 0.0], abs=1e-6)   # least V2G (100 kW, not more), the earlier lot first
    res2 = opf.solve(p, p * 0, pmax, pmax * 0, np.full(4, 1e3), np.array([60.0, 150.0]), int(net.root))
    assert res2.ok and opf._sol["pgpl"] * opf.net.base_kva == pytest.approx([60.0, 40.0], abs=1e-6)


# ------------------------------------------------------------------------------------------ joint vs sum
def _delta(system: System, mc: SequentialMonteCarlo) -> np.ndarray:
    """Per-year EENS reduction by the lots' V2G (common random numbers)."""
    off = assess(system, dataclasses.replace(mc, v2g=False))
    on = assess(system, mc)
    return np.array([a.ens_kwh - b.ens_kwh for a, b in zip(off.per_year, on.per_year, strict=True)])


MORNING = {"id": "morning", "sessions": {"arrival_h": {"mean": 1, "std": 0.5, "min": 0, "max": 2},
                                         "departure_h": {"mean": 8, "std": 0.5, "min": 7, "max": 9}}}
EVENING = {"id": "evening", "sessions": {"arrival_h": {"mean": 14, "std": 0.5, "min": 13, "max": 15},
                                         "departure_h": {"mean": 22, "std": 0.5, "min": 21, "max": 23}}}


def test_lots_that_cannot_interact_add_up() -> None:
    """Lots present in disjoint hours of the day never act in the same hour (days are independent), so with no
    binding network limit the joint EENS reduction is exactly the sum of each lot's, year by year."""
    mc = SequentialMonteCarlo(years=3, seed=5)
    joint = lots_net(None, [MORNING, EVENING], hours=24 * 120)
    d_joint = _delta(joint, mc)
    d_m = _delta(joint.replace(lots=joint.lots[:1]), mc)
    d_e = _delta(joint.replace(lots=joint.lots[1:]), mc)
    assert (d_m > 0).all() and (d_e > 0).all()
    assert d_joint == pytest.approx(d_m + d_e, rel=1e-9)


def test_lots_behind_one_tight_branch_do_not_add_up() -> None:
    """Both lots inject through branch 2-3 (15 kVA): each alone already fills it in a deficit hour, so
    together they reduce EENS far less than the sum of their separate reductions."""
    mc = SequentialMonteCarlo(years=2, seed=5)
    joint = lots_net(15.0, [{"id": "a"}, {"id": "b"}], mttf=2950.0, hours=24 * 120)
    d_joint = _delta(joint, mc)
    d_a = _delta(joint.replace(lots=joint.lots[:1]), mc)
    d_b = _delta(joint.replace(lots=joint.lots[1:]), mc)
    assert (d_a > 0).all() and (d_b > 0).all()
    assert (d_joint < 0.75 * (d_a + d_b)).all()


def _se(cv: Any) -> float:
    """Standard error of a capacity value from its bootstrap replicates."""
    return float(np.std(cv.boot_values, ddof=1))


def test_joint_ecc_of_lots_that_cannot_interact_is_the_sum() -> None:
    """ECC per lot (--resource <id>) and jointly (--resource gpls) on common random numbers: where the lots
    cannot interact the joint ECC equals the sum within standard errors (the reference unit's EENS curve is
    nearly linear over these few kW), and each is well above zero."""
    system = lots_net(None, [MORNING, EVENING], hours=24 * 120)
    mc = SequentialMonteCarlo(years=6, seed=5)
    cv = {r: capacity_value(system, mc, CapacityValueSpec.from_system(system, resource=r))
          for r in ("morning", "evening", "gpls")}
    assert all(c.converged and c.value_kw > 3 * _se(c) for c in cv.values()), {r: c.note for r, c in cv.items()}
    total = cv["morning"].value_kw + cv["evening"].value_kw
    se = float(np.sqrt(sum(_se(c) ** 2 for c in cv.values())))
    assert abs(cv["gpls"].value_kw - total) <= 3 * se, (cv["gpls"].value_kw, total, se)


@pytest.mark.slow
def test_joint_ecc_of_lots_behind_one_tight_branch_is_not_the_sum() -> None:
    system = lots_net(15.0, [{"id": "a"}, {"id": "b"}], mttf=2950.0, hours=24 * 120)
    mc = SequentialMonteCarlo(years=4, seed=5)
    cv = {r: capacity_value(system, mc, CapacityValueSpec.from_system(system, resource=r)) for r in ("a", "b", "gpls")}
    se = float(np.sqrt(sum(_se(c) ** 2 for c in cv.values())))
    # a lot's own ECC is its marginal value with the other lot in service: either lot alone already fills the
    # branch, so each adds ~nothing to the other, while the two together are worth several kW
    assert cv["gpls"].value_kw > cv["a"].value_kw + cv["b"].value_kw + 3 * se
    assert cv["gpls"].value_kw > 3 * _se(cv["gpls"])


def test_evaluate_json_reports_v2g_by_lot(run_cli: Any) -> None:
    res = run_cli("evaluate", str(TWO), "--years", "1", "--seed", "3", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    by_lot = {k: v["v2g_kwh_per_year"]["mean"] for k, v in d["by_lot"].items()}
    assert list(by_lot) == ["north", "east"] and all(v > 0 for v in by_lot.values())
    assert sum(by_lot.values()) == pytest.approx(d["v2g_kwh_per_year"]["mean"], rel=1e-12)


def test_set_the_whole_shorthand_replaces_the_lot_set(beijing_path: Path) -> None:
    """``--set gpl=null`` (the 1.0 way to remove the lot) and ``--set gpl={...}`` keep working on 1.1 data."""
    from gplopt.instance import load_instance

    assert load_instance(beijing_path, ["gpl=null"]).gpls == []
    one = load_instance(beijing_path, ['gpl={"bus": 18, "n_chargers": 40}'])
    assert [(lot.id, lot.bus, lot.n_chargers) for lot in one.gpls] == [("gpl", 18, 40)]
    two = ROOT / "instances" / "beijing_two_lots.json"
    assert load_instance(two, ["gpl=null"]).gpls == []


def test_set_gpl_fields_places_a_lot_on_an_instance_without_one(root: Path) -> None:
    """``--set gpl.bus=12 --set gpl.n_chargers=200`` on a ``gpl: null`` instance places one lot, as on 1.0."""
    from gplopt.instance import load_instance

    inst = load_instance(root / "instances" / "ieee33.json", ["gpl.bus=12", "gpl.n_chargers=200"])
    assert [(lot.id, lot.bus, lot.n_chargers) for lot in inst.gpls] == [("gpl", 12, 200)]
