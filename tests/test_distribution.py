"""Branch outages and customer indices against closed forms on small radial feeders (issue 14).

Exact expectations (docs/distribution.md): a branch is a stationary two-state chronology (rates l = 1/mttf,
m = 1/mttr) sampled at hour midpoints, so P(down in an hour) = U = mttr / (mttf + mttr) exactly, and
P(up in hour h, down in h + 1) = (1 - U) q with q = l / (l + m) (1 - exp(-(l + m))). A bus behind branches K is
interrupted in an hour unless all are up; a new interruption starts in an hour whose predecessor was supplied
(hour 0 counts when interrupted), and a fault whose interruption covers no midpoint is counted from its times
(:func:`unseen_rate`). Every Monte Carlo figure is checked within 3 standard errors.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from gplopt.instance import instance_from_data
from gplopt.reliability import Execution, ReliabilityResult, SequentialMonteCarlo, assess
from gplopt.system import System, build_system

H = 8760


def feeder(edges: list[tuple[int, int, dict[str, Any]]], n_bus: int, **net: Any) -> dict[str, Any]:
    """Buses 1..n (1 = substation, no load), 100 kW and 10 customers elsewhere; a firm external grid."""
    buses = [{"id": i, "p_kw": 0.0 if i == 1 else 100.0, "customers": 0 if i == 1 else 10}
             for i in range(1, n_bus + 1)]
    branches = [{"id": k + 1, "from_bus": a, "to_bus": b, "r_ohm": 0.1, "x_ohm": 0.1, **kw}
                for k, (a, b, kw) in enumerate(edges)]
    return {"name": "feeder", "network": {"base_kv": 11.0, "buses": buses, "branches": branches, **net},
            "units": [{"id": "grid", "type": "external_grid", "bus": 1, "capacity_kw": 1e5, "mttf_h": 1e12,
                       "mttr_h": 1.0}],
            "load": {"shape": None, "series_kw": [100.0 * (n_bus - 1)]}}


def run(data: dict[str, Any], years: int, seed: int = 3, **kw: Any) -> tuple[System, ReliabilityResult]:
    system = build_system(instance_from_data(data))
    ex = {k: kw.pop(k) for k in ("workers", "batch_years", "scheduler", "solver", "use_certificate") if k in kw}
    return system, assess(system, SequentialMonteCarlo(seed=seed, years=years, **kw), execution=Execution(**ex))


def per_bus(res: ReliabilityResult, key: str) -> np.ndarray:
    return np.array([getattr(r, key) for r in res.per_year])


def within(values: np.ndarray, exact: float, k: float = 3.0) -> None:
    mean, se = float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))
    assert abs(mean - exact) <= k * se + 1e-12, (mean, se, exact)


def q_fail(mttf: float, mttr: float) -> float:
    lam, mu = 1.0 / mttf, 1.0 / mttr
    return lam / (lam + mu) * (1.0 - math.exp(-(lam + mu)))


def exact_series(times: list[tuple[float, float]]) -> tuple[float, float]:
    """(interrupted hours, interruptions) per year of a bus behind branches with these (mttf, mttr)."""
    p_up = math.prod(f / (f + r) for f, r in times)
    both_up = math.prod(f / (f + r) * (1.0 - q_fail(f, r)) for f, r in times)
    seen = (1.0 - p_up) + (H - 1) * (p_up - both_up)      # on the hour grid: up at h - 1, down at h
    return H * (1.0 - p_up), seen + H * sum(unseen_rate(times, k) for k in range(len(times)))


def unseen_rate(times: list[tuple[float, float]], k: int) -> float:
    """Per hour: faults of branch k that cover no hour midpoint (counted from their continuous times,
    gplopt.branches.unseen) while every other branch is up at both midpoints around them. Branch k fails at
    rate 1/mttf while up; an outage of exponential length placed uniformly between two midpoints covers
    neither with probability 1 - (1 - exp(-mu)) / mu. Terms of order (1 / mttf)^2 (a second fault within the
    hour) are left out: far below the tests' standard errors."""
    f, r = times[k]
    mu = 1.0 / r
    others = math.prod(g / (g + s) * (1.0 - q_fail(g, s)) for i, (g, s) in enumerate(times) if i != k)
    return f / (f + r) / f * (1.0 - (1.0 - math.exp(-mu)) / mu) * others


SERIES = [(2000.0, 20.0), (3000.0, 8.0), (1500.0, 30.0)]


def test_series_feeder_matches_the_closed_form() -> None:
    edges = [(i + 1, i + 2, {"mttf_h": f, "mttr_h": r}) for i, (f, r) in enumerate(SERIES)]
    system, res = run(feeder(edges, 4), years=150)
    hours, counts = per_bus(res, "interrupted_h_by_bus"), per_bus(res, "interruptions_by_bus")
    for j in range(1, 4):
        dur, freq = exact_series(SERIES[:j])
        within(hours[:, j], dur)
        within(counts[:, j], freq)
    assert np.all(hours[:, 0] == 0)
    # every interruption here is a whole-bus cut: 100 kW for each interrupted hour
    assert np.allclose(per_bus(res, "ens_by_bus_kwh")[:, 1:], 100.0 * hours[:, 1:])
    ci = res.customer
    assert ci is not None
    assert ci.saidi_h.mean == pytest.approx(hours[:, 1:].sum(axis=1).mean() / 3)
    assert ci.caidi_h.mean == pytest.approx(ci.saidi_h.mean / ci.saifi.mean)
    assert ci.asai.mean == pytest.approx(1.0 - ci.saidi_h.mean / H)
    assert ci.branch_ens_kwh.mean == pytest.approx(res.eens_kwh_per_year.mean)
    frame = res.to_frame("bus")
    assert list(frame["customers"]) == [0, 10, 10, 10]
    assert np.allclose(frame["interrupted_h_per_year"], hours.mean(axis=0))
    for r in res.per_year:       # the per-hour branch-outage ENS (for an EENS-by-cause split) adds up
        assert r.branch_kw.sum() == pytest.approx(r.branch_ens_kwh) and r.branch_hours.size == r.lol_hours


def test_a_lateral_fault_does_not_interrupt_the_other_lateral() -> None:
    lat = (1000.0, 10.0)
    edges = [(1, 2, {}), (2, 3, {"mttf_h": lat[0], "mttr_h": lat[1]}), (2, 4, {})]
    _, res = run(feeder(edges, 4), years=40)
    hours = per_bus(res, "interrupted_h_by_bus")
    assert np.all(hours[:, [1, 3]] == 0) and hours[:, 2].min() > 0
    within(hours[:, 2], exact_series([lat])[0])


def test_laterals_with_a_failing_main_section() -> None:
    main, la, lb = (2500.0, 6.0), (1200.0, 12.0), (1800.0, 4.0)
    edges = [(1, 2, dict(zip(("mttf_h", "mttr_h"), main, strict=True))),
             (2, 3, dict(zip(("mttf_h", "mttr_h"), la, strict=True))),
             (2, 4, dict(zip(("mttf_h", "mttr_h"), lb, strict=True)))]
    _, res = run(feeder(edges, 4), years=120)
    hours, counts = per_bus(res, "interrupted_h_by_bus"), per_bus(res, "interruptions_by_bus")
    for j, path in ((1, [main]), (2, [main, la]), (3, [main, lb])):
        within(hours[:, j], exact_series(path)[0])
        within(counts[:, j], exact_series(path)[1])


def sectioned_hours(mttf: float, mttr: float, s: float) -> float:
    """Expected hours per year upstream customers wait for sectioning: failures/yr x E[min(s, repair)]."""
    return H / (mttf + mttr) * mttr * (1.0 - math.exp(-s / mttr))


def test_unprotected_section_interrupts_upstream_customers_for_the_sectioning_time() -> None:
    mttf, mttr = 800.0, 10.0
    edges = [(1, 2, {}), (2, 3, {"mttf_h": mttf, "mttr_h": mttr, "protection": "none"})]
    _, res = run(feeder(edges, 3, sectioning_h=1.0), years=60)
    hours, counts = per_bus(res, "interrupted_h_by_bus"), per_bus(res, "interruptions_by_bus")
    # every fault interrupts the upstream customers once, for min(sectioning, repair): the grid sees those that
    # cover a midpoint (one hour each), the rest are counted from their times, so counts >= hours
    assert np.all(counts[:, 1] >= hours[:, 1]) and (counts[:, 1] > hours[:, 1]).any()
    within(counts[:, 1], H / (mttf + mttr))
    within(hours[:, 1], sectioned_hours(mttf, mttr, 1.0))
    within(hours[:, 2], exact_series([(mttf, mttr)])[0])
    _, dev = run(feeder([(1, 2, {}), (2, 3, {"mttf_h": mttf, "mttr_h": mttr})], 3), years=60)
    assert np.all(per_bus(dev, "interrupted_h_by_bus")[:, 1] == 0)   # with a device: upstream never cut
    assert np.array_equal(per_bus(dev, "interrupted_h_by_bus")[:, 2], hours[:, 2])


def tie_feeder(rating: float | None) -> dict[str, Any]:
    tie = {"normally_open": True, **({"rating_kva": rating} if rating else {})}
    edges = [(1, 2, {"mttf_h": 900.0, "mttr_h": 15.0}), (2, 3, {}), (1, 4, {}), (3, 4, tie)]
    return feeder(edges, 4, sectioning_h=2.0)


def test_tie_line_restores_the_cut_off_part_after_sectioning() -> None:
    _, res = run(tie_feeder(None), years=60)
    hours = per_bus(res, "interrupted_h_by_bus")
    assert np.all(hours[:, 3] == 0)
    assert np.array_equal(hours[:, 1], hours[:, 2])
    within(hours[:, 1], sectioned_hours(900.0, 15.0, 2.0))
    _, small = run(tie_feeder(150.0), years=60)       # 200 kW to restore through a 150 kVA tie: no transfer
    within(per_bus(small, "interrupted_h_by_bus")[:, 1], exact_series([(900.0, 15.0)])[0])
    assert np.all(per_bus(small, "interrupted_h_by_bus")[:, 1] >= hours[:, 1])


def test_same_numbers_for_any_batch_size_and_worker_count() -> None:
    edges = [(i + 1, i + 2, {"mttf_h": f, "mttr_h": r}) for i, (f, r) in enumerate(SERIES)]
    _, a = run(feeder(edges, 4), years=6, batch_years=1)
    _, b = run(feeder(edges, 4), years=6, batch_years=4, workers=2)
    assert a.customer is not None and b.customer is not None
    assert json.dumps(a.customer.to_dict()) == json.dumps(b.customer.to_dict())   # nan where no customers
    assert np.array_equal(per_bus(a, "interruptions_by_bus"), per_bus(b, "interruptions_by_bus"))
    assert np.array_equal(per_bus(a, "by_cause"), per_bus(b, "by_cause"))    # the split by cause too


def test_adding_a_branch_shifts_no_other_branch_draw() -> None:
    edges = [(1, 2, {"mttf_h": 2000.0, "mttr_h": 20.0}), (2, 3, {})]
    _, a = run(feeder(edges, 3), years=5)
    edges[1] = (2, 3, {"mttf_h": 500.0, "mttr_h": 5.0})
    _, b = run(feeder(edges, 3), years=5)
    assert np.array_equal(per_bus(a, "interrupted_h_by_bus")[:, 1], per_bus(b, "interrupted_h_by_bus")[:, 1])


def lot_feeder() -> dict[str, Any]:
    """A lateral (bus 3: 40 kW and a 40-charger lot) behind a failing branch, no local generation."""
    d = feeder([(1, 2, {}), (2, 3, {"mttf_h": 300.0, "mttr_h": 6.0})], 3)
    d["network"]["buses"][2]["p_kw"] = 40.0
    d["load"]["series_kw"] = [140.0]
    d["gpls"] = [{"id": "lot", "bus": 3, "n_chargers": 40, "charge_kw": 7.0}]
    return d


def test_a_lot_in_the_islanded_part_lowers_saidi_paired() -> None:
    from gplopt.reliability_effect import reliability_effect

    system = build_system(instance_from_data(lot_feeder()))
    eff = reliability_effect(system, SequentialMonteCarlo(seed=5), "lot", 10)
    assert eff is not None
    for key in ("d_saidi_h", "d_saifi", "d_eens_kwh"):
        assert eff[key]["mean"] < -3 * eff[key]["stderr"], (key, eff[key])
    assert eff["saidi_with_h"]["mean"] < eff["saidi_without_h"]["mean"]


def test_no_customers_no_indices_and_no_effect() -> None:
    d = feeder([(1, 2, {"mttf_h": 500.0, "mttr_h": 5.0})], 2)
    for b in d["network"]["buses"]:
        del b["customers"]
    system, res = run(d, years=3)
    assert res.customer is None and "saifi" not in res.to_dict()
    assert res.eens_kwh_per_year.mean > 0              # the branch still fails
    from gplopt.reliability_effect import reliability_effect

    assert reliability_effect(system, SequentialMonteCarlo(seed=1), "grid", 2) is None


def test_evaluate_json_and_table_report_the_indices(run_cli: Any, tmp_path: Any) -> None:
    path = tmp_path / "feeder.json"
    path.write_text(json.dumps(feeder([(1, 2, {"mttf_h": 500.0, "mttr_h": 5.0}), (2, 3, {})], 3)))
    r = run_cli("evaluate", path, "--years", "3", "--workers", "1", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for key in ("saifi", "saidi_h", "caidi_h", "asai"):
        assert set(d[key]) == {"mean", "stderr"}
    assert d["saidi_h"]["mean"] > 0 and 0 < d["asai"]["mean"] < 1
    assert d["customer_indices_by_bus"]["3"]["customers"] == 10
    # both load buses sit behind the one failing branch: the same interruptions
    assert d["customer_indices_by_bus"]["2"]["interruptions_per_year"]["mean"] == pytest.approx(d["saifi"]["mean"])
    t = run_cli("evaluate", path, "--years", "3", "--workers", "1")
    assert t.returncode == 0 and "SAIDI" in t.stdout and "by bus" in t.stdout, t.stderr


def test_bad_branch_data_exits_2_with_one_line(run_cli: Any, tmp_path: Any) -> None:
    path = tmp_path / "feeder.json"
    path.write_text(json.dumps(feeder([(1, 2, {"failure_rate_per_km_year": 0.1, "repair_h": 4.0})], 2)))
    r = run_cli("validate", path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert "network.branches[0].length_km" in r.stderr and "required with failure_rate_per_km_year" in r.stderr
    r = run_cli("validate", "instances/ieee33.json", "--set", "network.buses.5.customers=-3")
    assert r.returncode == 2 and "network.buses[4].customers" in r.stderr and "-3" in r.stderr, r.stderr


@pytest.mark.slow
def test_ecc_json_reports_the_paired_reliability_effect(run_cli: Any, tmp_path: Any) -> None:
    path = tmp_path / "lot.json"
    path.write_text(json.dumps(lot_feeder()))
    r = run_cli("ecc", path, "--years", "8", "--workers", "1", "--json", timeout=600)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    eff = out["reliability_effect"]
    assert eff["years"] == 8 and eff["d_saidi_h"]["mean"] < -3 * eff["d_saidi_h"]["stderr"]
    assert "note" not in eff and out["ecc_kw"] > 0      # the capacity value includes branch outages too


def test_journal_keeps_the_interruption_counts(tmp_path: Any) -> None:
    edges = [(i + 1, i + 2, {"mttf_h": f, "mttr_h": r}) for i, (f, r) in enumerate(SERIES)]
    inst = instance_from_data(feeder(edges, 4))
    system = build_system(inst)
    journal = tmp_path / "run.jsonl"
    first = assess(system, SequentialMonteCarlo(seed=4, years=3), journal=journal, instance=inst)
    again = assess(system, SequentialMonteCarlo(seed=4, years=3), journal=journal, instance=inst)  # all read back
    assert first.customer is not None and again.customer is not None
    assert first.customer is not None
    assert json.dumps(first.customer.to_dict()) == json.dumps(again.customer.to_dict())
    assert [r.branch_ens_kwh for r in first.per_year] == [r.branch_ens_kwh for r in again.per_year]


@pytest.mark.parametrize("variable", [False, True])
def test_event_driven_path_gives_the_dense_answer(variable: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without chargers only days with a unit down (or, with variable availability, days the all-minimum
    reference sheds in) are evaluated; every year's numbers equal evaluating every hour."""
    from gplopt import distribution

    d = feeder([(1, 2, {"mttf_h": 900.0, "mttr_h": 9.0}), (2, 3, {}), (2, 4, {"mttf_h": 700.0, "mttr_h": 4.0})],
               4)
    d["load"] = {"shape": "ieee_rts79", "peak_kw": 300.0}
    d["units"][0].update(capacity_kw=290.0, mttf_h=400.0, mttr_h=10.0)
    d["units"].append({"id": "gen", "type": "wind" if variable else "conventional", "bus": 4,
                       "capacity_kw": 60.0, "mttf_h": 300.0, "mttr_h": 20.0})
    if variable:
        d["units"][0]["availability"] = {"low": 0.8, "high": 1.0}
    system = build_system(instance_from_data(d))
    fast = assess(system, SequentialMonteCarlo(seed=9, years=3))
    monkeypatch.setattr(distribution, "_fast", lambda s: False)
    distribution._CACHE.clear()
    dense = assess(system, SequentialMonteCarlo(seed=9, years=3))
    distribution._CACHE.clear()
    assert fast.eens_kwh_per_year.mean > 0
    for a, b in zip(fast.per_year, dense.per_year, strict=True):
        assert a.ens_kwh == pytest.approx(b.ens_kwh, rel=1e-9, abs=1e-6)
        assert (a.lol_hours, a.lol_events) == (b.lol_hours, b.lol_events)
        assert np.allclose(a.ens_by_bus_kwh, b.ens_by_bus_kwh, rtol=1e-9, atol=1e-6)
        assert np.allclose(a.interruptions_by_bus, b.interruptions_by_bus, atol=1e-9)
        assert np.allclose(a.interrupted_h_by_bus, b.interrupted_h_by_bus, atol=1e-9)


def test_unseen_faults_are_the_interruptions_between_two_midpoints() -> None:
    """gplopt.branches.unseen on a feeder 1-2-3 with an unprotected section 2-3 (its fault trips the breaker of
    1-2, so bus 2 waits for sectioning), and the same with a local unit at bus 3 (the faulted section's far end
    is its own island, which holds the unit and is left to the grid's count; bus 2's island is not)."""
    from gplopt.branches import build_branch_model, unseen
    from gplopt.distribution import local_buses

    data = feeder([(1, 2, {}), (2, 3, {"mttf_h": 900.0, "mttr_h": 5.0, "protection": "none"})], 3,
                  sectioning_h=1.0)
    system = build_system(instance_from_data(data))
    model = build_branch_model(system.grid, system.network)
    local = local_buses(system)
    k = np.array([0, 0, 0])
    s, e = np.array([10.6, 20.6, 30.2]), np.array([10.9, 25.0, 40.0])
    got = unseen(model, k, s, e, H, local)
    # 10.6-10.9 covers no midpoint: buses 2 and 3 (the breaker's zone) are interrupted unseen; 20.6-25.0 is
    # sectioned at 21.6, after the midpoint 21.5: seen; 30.2 + 1 h of sectioning covers 30.5: seen
    assert [h for h, _ in got] == [11]
    assert got[0][1].tolist() == [False, True, True]
    s2, e2 = np.array([10.6]), np.array([13.0])           # the sectioning 10.6-11.6 covers 11.5: seen
    assert unseen(model, np.array([0]), s2, e2, H, local) == []
    data["units"].append({"id": "dg", "type": "conventional", "bus": 3, "capacity_kw": 50.0, "mttf_h": 1e9,
                          "mttr_h": 1.0})
    with_dg = build_system(instance_from_data(data))
    got = unseen(model, k, s, e, H, local_buses(with_dg))
    assert [h for h, _ in got] == [11] and got[0][1].tolist() == [False, True, False]
