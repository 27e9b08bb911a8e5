"""``by_cause`` (gplopt/causes.py): EENS, LOLE and V2G of every sample year split by cause.

The split must be exact (the causes' EENS sum to the year's EENS, every loss-of-load hour and every kWh of V2G
counted once), give everything to the one cause that is active when only one is, not depend on the batch size,
and travel through JSON and journals."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt import causes
from gplopt.adequacy import YearResult
from gplopt.causes import CAUSES, ENTRIES, METRICS
from gplopt.instance import instance_from_data, load_instance, with_overrides
from gplopt.reliability import Execution, ReliabilityResult, SequentialMonteCarlo, assess
from gplopt.system import System, build_system

ROOT = Path(__file__).resolve().parent.parent
NEVER = {"mttf_h": 1e12, "mttr_h": 1.0}            # a unit that is (to 1e-12) always up


def grid(cap: float, *, low: float = 1.0, mttf: float = 1e12, mttr: float = 1.0, bus: int = 1) -> dict[str, Any]:
    return {"id": "grid", "type": "external_grid", "bus": bus, "capacity_kw": cap, "mttf_h": mttf, "mttr_h": mttr,
            "availability": {"low": low, "high": 1.0}}


def conventional(uid: str, cap: float, mttf: float, mttr: float) -> dict[str, Any]:
    return {"id": uid, "type": "conventional", "bus": 1, "capacity_kw": cap, "mttf_h": mttf, "mttr_h": mttr}


def plate(units: list[dict[str, Any]], load_kw: float, gpl: dict[str, Any] | None = None,
          hours: int | None = None) -> System:
    """One bus, a constant load (and optionally a GPL)."""
    return plate_inst(units, load_kw, gpl, hours)[1]


def plate_inst(units: list[dict[str, Any]], load_kw: float, gpl: dict[str, Any] | None = None,
               hours: int | None = None) -> tuple[Any, System]:
    """The instance and the System of :func:`plate` (a journal fingerprints the instance)."""
    data = {"name": "causes", "network": {"base_kv": 10.0, "buses": [{"id": 1, "p_kw": load_kw}], "branches": []},
            "units": units, "load": {"shape": None, "series_kw": [load_kw], "hours": 8760},
            "gpl": gpl, "incentive": {"price_per_kwh": 2.0}, "simulation": {"seed": 1}}
    inst = instance_from_data(data)
    system = build_system(inst)
    return inst, system if hours is None else system.replace(load_kw=system.load_kw[:hours])


FULL = {"soc_ini": {"mean": 0.95, "std": 0.05, "min": 0.9, "max": 1.0}}
# a lot whose chargers fail often, at a bus short every day (derated supply), PEVs ready for V2G
FLAKY_LOT = {"bus": 1, "n_chargers": 40, "charge_kw": 1.0, "discharge_kw": 5.0, "charger_mttf_h": 20.0,
             "charger_mttr_h": 5.0, "soc_threshold": 0.8, "sessions": FULL}


def run(system: System, years: int = 3, **kw: Any) -> ReliabilityResult:
    return assess(system, SequentialMonteCarlo(seed=4, years=years), execution=Execution(**kw))


def assert_exact(res: ReliabilityResult) -> None:
    """Per sample year: causes' ENS sum to the ENS, LOL hours to the LOL hours, V2G entries to the V2G."""
    for r in res.per_year:
        ens, lol, v2g = r.by_cause
        assert r.by_cause.shape == (3, len(ENTRIES))
        assert ens.sum() == pytest.approx(r.ens_kwh, rel=1e-12, abs=1e-9)
        assert lol.sum() == r.lol_hours
        assert v2g.sum() == pytest.approx(r.v2g_kwh, rel=1e-12, abs=1e-9)
        assert (r.by_cause >= 0).all()
        assert ens[-1] == lol[-1] == 0.0                      # no_shortfall sheds nothing


def only(res: ReliabilityResult, cause: str) -> None:
    """Every year's ENS and LOL hours are ``cause``'s alone (and there are some)."""
    assert_exact(res)
    j = ENTRIES.index(cause)
    assert res.eens_kwh_per_year.mean > 0
    for r in res.per_year:
        assert r.by_cause[0, j] == pytest.approx(r.ens_kwh, rel=1e-12)
        assert r.by_cause[1, j] == r.lol_hours


def test_upstream_outage_alone() -> None:
    only(run(plate([grid(1000.0, mttf=90.0, mttr=10.0)], 600.0)), "upstream_outage")


def test_upstream_derating_alone() -> None:
    only(run(plate([grid(1000.0, low=0.5)], 800.0)), "upstream_derating")


def test_local_generation_alone_with_an_always_available_upstream() -> None:
    only(run(plate([grid(500.0), conventional("gen", 500.0, 90.0, 10.0)], 800.0)), "local_generation")


def test_load_above_every_rating() -> None:
    res = run(plate([grid(500.0)], 600.0), years=2)
    only(res, "load_above_capacity")
    assert res.eens_kwh_per_year.mean == pytest.approx(100.0 * 8760)


def _year(ens_kwh: float, lol: int) -> YearResult:
    return YearResult(year=0, ens_kwh=ens_kwh, lol_hours=lol, lol_events=1, ens_by_bus_kwh=np.zeros(1),
                      v2g_kwh=0.0, load_reduction_kwh=0.0, deferred_kwh=0.0, charging_kwh=0.0, hours_screened=0,
                      hours_certified=0, opf_solves=0, opf_failed=0, peak_shortfall_kw=0.0, min_soc_seen=0.0,
                      ens_kw=np.zeros(0))


def test_the_chain_in_one_hour_follows_the_documented_order() -> None:
    """Hand-made hours: (a) 800 kW short with the grid down (500 kW) and a local unit out (500 kW): the grid
    takes its 500 first, local generation the other 300; (b) 300 kW shed of which 250 copper-plate, derating
    and local gaps of 100 each: 100, 100, 50 above every rating, 50 network; (c) a tie (100 + 100): the LOL
    hour goes to the cause listed first. V2G goes to each hour's LOL cause."""
    ens = np.array([800.0, 300.0, 200.0])
    d = np.array([800.0, 250.0, 200.0])
    gaps = np.array([[500.0, 0.0, 100.0], [0.0, 100.0, 0.0], [500.0, 100.0, 100.0]])
    plan = causes.Plan(result=_year(1300.0, 3), idx=np.arange(3), ens=ens, cp=np.minimum(ens, d), shortfall=d,
                       gaps=gaps, v2g_kw=np.array([1.0, 2.0, 4.0]), v2g_rest_kwh=8.0, days=np.zeros(0, int),
                       draws=(), margin=np.zeros(0), branch=np.zeros(3))
    parts = causes.hour_parts(plan)
    want = {"upstream_outage": [500, 0, 100], "upstream_derating": [0, 100, 0], "local_generation": [300, 100, 100],
            "load_above_capacity": [0, 50, 0], "network_limit": [0, 50, 0], "charger_outage": [0, 0, 0]}
    for c, v in want.items():
        assert parts[CAUSES.index(c)] == pytest.approx(v), c
    causes.finish_causes(plate([grid(1.0)], 1.0), [plan], v2g=True)
    by = dict(zip(ENTRIES, plan.result.by_cause.T, strict=True))
    assert by["upstream_outage"].tolist() == [600.0, 2.0, 5.0]       # hours (a) and (c): the tie goes first
    assert by["upstream_derating"].tolist() == [100.0, 1.0, 2.0]     # hour (b): ties local at 100, listed first
    assert by["no_shortfall"].tolist() == [0.0, 0.0, 8.0]


def test_network_limit_beyond_the_copper_plate() -> None:
    """1000 kW at bus 2 behind a 700 kVA branch, an always-available 2 MW grid: no copper-plate deficit, and
    the OPF sheds 300 kW every hour, all network_limit."""
    data = {"name": "net", "network": {"base_kv": 10.0, "slack_bus": 1, "vmin_pu": 0.5, "vmax_pu": 1.5,
                                       "buses": [{"id": 1, "p_kw": 0.0}, {"id": 2, "p_kw": 1000.0}],
                                       "branches": [{"id": 1, "from_bus": 1, "to_bus": 2, "r_ohm": 0.01,
                                                     "x_ohm": 0.01, "rating_kva": 700.0}]},
            "units": [grid(2000.0)], "load": {"shape": None, "series_kw": [1000.0], "hours": 8760}, "gpl": None}
    system = build_system(instance_from_data(data))
    res = run(system.replace(load_kw=system.load_kw[:24]), years=2)
    only(res, "network_limit")
    assert res.per_year[0].ens_kwh > 24 * 250


def test_charger_outage_and_v2g_split() -> None:
    """Flaky chargers on a lot that discharges every day: charger_outage > 0, V2G split over hours that shed
    (by cause) and hours V2G left without shedding."""
    res = run(plate([grid(1000.0, low=0.6)], 900.0, gpl=FLAKY_LOT), years=2)
    assert_exact(res)
    by = res.by_cause
    assert by is not None
    assert by["charger_outage"]["eens_kwh_per_year"].mean > 0
    assert by["upstream_derating"]["v2g_kwh_per_year"].mean > 0
    assert by["no_shortfall"]["v2g_kwh_per_year"].mean > 0


def test_only_days_where_an_outage_can_matter_are_resimulated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping days without a V2G participant's charger down (before the day's last shedding hour, while its
    PEV was present) changes nothing: re-simulating every shedding day gives the same split to the bit."""
    system = plate([grid(1000.0, low=0.6)], 900.0, gpl=FLAKY_LOT)
    fast = run(system, years=2)
    monkeypatch.setattr(causes, "outage_matters", lambda d, w, days, last: np.ones(days.size, bool))
    slow = run(system, years=2)
    for a, b in zip(fast.per_year, slow.per_year, strict=True):
        assert np.array_equal(a.by_cause, b.by_cause)


def test_split_does_not_depend_on_the_batch_size() -> None:
    system = plate([grid(1000.0, low=0.6)], 900.0, gpl=FLAKY_LOT)
    one = run(system, years=4, batch_years=1)
    four = run(system, years=4, batch_years=4)
    assert [r.by_cause.tolist() for r in one.per_year] == [r.by_cause.tolist() for r in four.per_year]


def test_hl1_path_is_all_local_generation() -> None:
    rbts = build_system(load_instance(ROOT / "instances" / "rbts.json"))
    res = assess(rbts, SequentialMonteCarlo(seed=3, years=300))
    only(res, "local_generation") if res.eens_kwh_per_year.mean > 0 else assert_exact(res)


def test_hl1_path_with_load_above_every_rating_is_split_hour_by_hour() -> None:
    from gplopt import hl1

    system = plate([conventional("a", 300.0, 90.0, 10.0), conventional("b", 300.0, 90.0, 10.0)], 650.0)
    assert hl1.eligible(system)
    res = run(system, years=2)
    assert_exact(res)
    by = res.by_cause
    assert by is not None
    assert by["load_above_capacity"]["eens_kwh_per_year"].mean == pytest.approx(50.0 * 8760)
    assert by["local_generation"]["eens_kwh_per_year"].mean > 0


def test_beijing_json_shape_and_sums() -> None:
    system = build_system(load_instance(ROOT / "instances" / "beijing.json"))
    res = run(system, years=2)
    assert_exact(res)
    d = json.loads(json.dumps(res.to_dict()))
    assert list(d["by_cause"]) == list(ENTRIES)
    for entry in d["by_cause"].values():
        assert list(entry) == list(METRICS)
        assert all(set(m) == {"mean", "stderr"} for m in entry.values())
    for metric, total in (("eens_kwh_per_year", "eens_kwh_per_year"), ("lole_h_per_year", "lole_h_per_year"),
                          ("v2g_kwh_per_year", "v2g_kwh_per_year")):
        s = sum(e[metric]["mean"] for e in d["by_cause"].values())
        assert s == pytest.approx(d[total]["mean"], rel=1e-12)
    assert d["by_cause"]["upstream_derating"]["eens_kwh_per_year"]["mean"] > 0


def test_a_year_without_a_split_gives_null_with_a_reason() -> None:
    assert causes.cause_estimates([_year(1.0, 1)]) is None
    d = causes.causes_to_dict(None)
    assert d["by_cause"] is None and "journal" in d["by_cause_null_reason"]


def test_journal_carries_the_split(tmp_path: Path) -> None:
    inst, system = plate_inst([grid(1000.0, low=0.6)], 900.0, gpl=FLAKY_LOT)
    spec = SequentialMonteCarlo(seed=4, years=3)
    j = tmp_path / "j.jsonl"
    assess(system, dataclasses.replace(spec, years=2), journal=j, instance=inst)
    resumed = assess(system, spec, journal=j, instance=inst)
    fresh = assess(system, spec)
    assert resumed.to_dict()["by_cause"] == fresh.to_dict()["by_cause"]


def test_journal_refuses_a_split_missing_a_cause(tmp_path: Path) -> None:
    from gplopt.checkpoint import checksum
    from gplopt.errors import InstanceError

    inst, system = plate_inst([grid(1000.0, low=0.6)], 900.0)
    spec = SequentialMonteCarlo(seed=4, years=2)
    j = tmp_path / "j.jsonl"
    assess(system, spec, journal=j, instance=inst)
    lines = j.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[1])
    rec.pop("sum")
    del rec["by_cause"]["network_limit"]
    lines[1] = json.dumps({**rec, "sum": checksum(rec)})
    j.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InstanceError, match="by_cause.*one entry per cause"):
        assess(system, spec, journal=j, instance=inst)


def test_paired_reduction_by_cause() -> None:
    inst = load_instance(ROOT / "instances" / "beijing.json")
    system = build_system(with_overrides(inst, {}))
    spec = SequentialMonteCarlo(seed=4, years=2)
    off, on = assess(system, dataclasses.replace(spec, v2g=False)), assess(system, spec)
    rows = {r["cause"]: r for r in causes.paired_reduction(off.per_year, on.per_year)}
    total = off.eens_kwh_per_year.mean - on.eens_kwh_per_year.mean
    assert sum(r["reduction_kwh"] for r in rows.values()) == pytest.approx(total, rel=1e-9)
    assert rows["upstream_derating"]["reduction_kwh"] > 0


def radial(lot: bool) -> System:
    """A radial feeder 1-2-3 (bus 3 at the end of a failing branch, 100 kW each at buses 2 and 3) on a derated
    external grid (175-250 kW, short of the 200 kW load a third of the time); optionally a lot at bus 3."""
    buses = [{"id": 1, "p_kw": 0.0}, {"id": 2, "p_kw": 100.0}, {"id": 3, "p_kw": 100.0}]
    branches = [{"id": 1, "from_bus": 1, "to_bus": 2, "r_ohm": 0.1, "x_ohm": 0.1},
                {"id": 2, "from_bus": 2, "to_bus": 3, "r_ohm": 0.1, "x_ohm": 0.1, "mttf_h": 300.0, "mttr_h": 8.0}]
    data = {"name": "radial", "network": {"base_kv": 11.0, "buses": buses, "branches": branches},
            "units": [grid(250.0, low=0.7)], "load": {"shape": None, "series_kw": [200.0], "hours": 8760},
            "gpls": [{"id": "lot", **FLAKY_LOT, "bus": 3, "n_chargers": 10}] if lot else []}
    return build_system(instance_from_data(data))


@pytest.mark.parametrize("lot", [False, True])
def test_branch_outage_split_on_a_radial_feeder(lot: bool) -> None:
    """The distribution path (branch outages) splits too: the ENS at buses cut off by a branch outage is
    branch_outage, the rest follows the rule (derating here); every year's parts sum to its ENS exactly."""
    from gplopt import distribution

    system = radial(lot)
    assert distribution.active(system)
    res = run(system, years=2)
    assert_exact(res)
    by = res.by_cause
    assert by is not None
    for r in res.per_year:
        assert r.by_cause[0, ENTRIES.index("branch_outage")] == pytest.approx(r.branch_ens_kwh, rel=1e-12)
    assert by["branch_outage"]["eens_kwh_per_year"].mean > 0
    assert by["upstream_derating"]["eens_kwh_per_year"].mean > 0
    assert by["branch_outage"]["lole_h_per_year"].mean > 0
    one = run(system, years=2, batch_years=1)
    assert [r.by_cause.tolist() for r in one.per_year] == [r.by_cause.tolist() for r in res.per_year]


def test_journal_written_before_branch_outage_reads_as_zero(tmp_path: Path) -> None:
    """A year journaled before the cause existed (no branch_outage entry) is read back with branch_outage 0:
    only years without branch outages had a split then, and the resumed split equals a fresh one."""
    from gplopt.checkpoint import checksum

    inst, system = plate_inst([grid(1000.0, low=0.6)], 900.0)
    spec = SequentialMonteCarlo(seed=4, years=2)
    j = tmp_path / "j.jsonl"
    assess(system, dataclasses.replace(spec, years=1), journal=j, instance=inst)
    lines = j.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[1])
    rec.pop("sum")
    assert rec["by_cause"].pop("branch_outage") == [0.0, 0.0, 0.0]
    lines[1] = json.dumps({**rec, "sum": checksum(rec)})
    j.write_text("\n".join(lines) + "\n", encoding="utf-8")
    resumed = assess(system, spec, journal=j, instance=inst)
    assert resumed.to_dict()["by_cause"] == assess(system, spec).to_dict()["by_cause"]
