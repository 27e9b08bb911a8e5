"""Siting and multi-lot design: per-lot candidate buses and charger grids, the shared budget as a constraint of
the lattice, bus encodings, per-lot and joint ECC of the recommendation (docs/design.md, "Siting")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt.design.evaluate import Evaluation
from gplopt.design.loop import DesignSpec, optimize
from gplopt.design.sites import path_features
from gplopt.design.space import Design, DesignSpace
from gplopt.errors import InstanceError
from gplopt.instance import load_instance, with_overrides
from gplopt.library import load_model
from gplopt.system import charger_annual_cost

ROOT = Path(__file__).resolve().parent.parent
TWO = ROOT / "instances" / "beijing_two_lots.json"
# the fast corner of the two-lot lattice: no lot behind a 500 kVA branch (no OPF-heavy hours)
FAST = ["design.lots.north.bus=[27,30]", "design.lots.east.bus=[27,30]",
        'design.lots.east.n_chargers={"values":[100]}']


def _fake(record: list[Design]) -> Any:
    """A cheap evaluator: value falls with chargers behind the 500 kVA branches (buses 18 and 22)."""
    def ev(d: Design, fy: int, ny: int) -> Evaluation:
        record.append(d)
        v = 100.0 - 0.1 * sum(max(0, s.n_chargers - 100) for s in d.sites if s.bus in (18, 22))
        v += float(np.random.default_rng([fy, ny, d.n_chargers]).normal())
        return Evaluation(d, 1, fy, ny, v, (v - 2, v + 2), 1e6, v, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    return ev


def test_the_two_lot_lattice_is_every_siting_within_the_shared_budget() -> None:
    inst = load_instance(TWO)
    lattice = DesignSpace.from_instance(inst).lattice()
    assert len(lattice) == 16 * 3 == len(set(lattice))     # bus pairs x (100,100), (100,200), (200,100)
    assert all(d.n_chargers == sum(s.n_chargers for s in d.sites) <= 300 for d in lattice)
    assert {(s.id, s.bus) for d in lattice for s in d.sites} == {(i, b) for i in ("north", "east")
                                                                 for b in (18, 22, 27, 30)}
    d = lattice[0]
    ov = d.overrides()
    assert ov["gpls.north.bus"] == d.sites[0].bus and ov["gpls.east.n_chargers"] == d.sites[1].n_chargers
    built = with_overrides(inst, ov)
    assert [(g.bus, g.n_chargers, g.discharge_kw) for g in built.gpls] == [(s.bus, s.n_chargers, 5.0) for s in d.sites]
    assert Design.from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_a_charger_cost_budget_leaves_out_exactly_the_designs_over_it() -> None:
    model = load_model("chargers", "bidirectional_ac", "x")
    per = charger_annual_cost(model, 5.0)
    inst = load_instance(TWO, [f"design.shared_budget.max_charger_cost_per_year={250 * per}",
                               "design.shared_budget.max_total_chargers=null"])
    lattice = DesignSpace.from_instance(inst).lattice()
    assert len(lattice) == 16 and all(d.n_chargers == 200 for d in lattice)


def test_designs_over_the_budget_are_never_evaluated() -> None:
    inst = load_instance(TWO, ["design.shared_budget.max_total_chargers=200"])
    for backend in ("gp", "random", "optuna"):
        seen: list[Design] = []
        res = optimize(inst, DesignSpec(budget=10, backend=backend, seed=3), evaluator=_fake(seen))
        assert seen and all(d.n_chargers <= 200 for d in seen), backend
        assert res.best.design.n_chargers <= 200


def test_a_budget_no_design_meets_is_a_clear_error(run_cli: Any) -> None:
    inst = load_instance(TWO, ["design.shared_budget.max_total_chargers=150"])
    with pytest.raises(InstanceError, match=r"^design.shared_budget: must be a limit that at least one design"):
        DesignSpace.from_instance(inst)
    res = run_cli("design", str(TWO), "--set", "design.shared_budget.max_total_chargers=150")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "design.shared_budget" in res.stderr


@pytest.mark.parametrize(("setting", "path"), [
    ("design.lots.south.bus=[3]", "design.lots.south"),
    ("design.lots.north.bus=[3,99]", "design.lots.north.bus"),
    ("design.lots.north.bus=[3,3]", "design.lots.north.bus"),
    ('design.lots.north.n_chargers={"values":[6000]}', "design.lots.north.n_chargers"),
])
def test_bad_design_lots_name_the_field(setting: str, path: str) -> None:
    with pytest.raises(InstanceError) as exc:
        load_instance(TWO, [setting])
    assert exc.value.path == path


def test_bus_encodings_follow_the_feeder() -> None:
    inst = load_instance(TWO)
    dist, head = path_features(inst)
    assert dist[18] > dist[30] > dist[27] and dist[1] == 0.0     # resistance to the substation grows outward
    assert head[18] == head[22] == pytest.approx(500.0) and head[27] > head[30] > 500.0
    by = {}
    for enc in ("distance", "headroom", "onehot"):
        space = DesignSpace.from_instance(inst, enc)
        x = space.encode(space.lattice())
        by[enc] = x
        assert x.min() >= 0.0 and x.max() <= 1.0 + 1e-12
    lat = DesignSpace.from_instance(inst).lattice()
    i18 = next(i for i, d in enumerate(lat) if d.sites[0].bus == 18 and d.sites[1] == lat[0].sites[1]
               and d.sites[0].n_chargers == lat[0].sites[0].n_chargers)
    i22 = next(i for i, d in enumerate(lat) if d.sites[0].bus == 22 and d.sites[1] == lat[i18].sites[1]
               and d.sites[0].n_chargers == lat[i18].sites[0].n_chargers)
    # one-hot: two different buses are at distance 1, as the two ends of an ordinal axis
    assert np.linalg.norm(by["onehot"][i18] - by["onehot"][i22]) == pytest.approx(1.0)
    # headroom sees 18 and 22 alike (both behind 500 kVA); distance puts them at the two ends
    assert np.allclose(by["headroom"][i18], by["headroom"][i22])
    assert not np.allclose(by["distance"][i18], by["distance"][i22])


def test_one_lot_siting_through_design_lots() -> None:
    inst = load_instance(ROOT / "instances" / "beijing.json", ["design.lots.gpl.bus=[18,27]"])
    space = DesignSpace.from_instance(inst)
    plain = DesignSpace.from_instance(load_instance(ROOT / "instances" / "beijing.json"))
    assert space.size == 2 * plain.size and {s.bus for d in space.lattice() for s in d.sites} == {18, 27}
    assert not plain.sites and plain.encode(plain.lattice()[:1]).shape == (1, 4)   # the one-lot block unchanged


def test_design_recommends_a_siting_end_to_end(run_cli: Any, tmp_path: Path) -> None:
    """CLI (--json, journal, result directory) and the Python API on the real inner evaluator, few years."""
    journal = tmp_path / "j.jsonl"
    args = ["design", str(TWO), "--budget", "2", "--years", "2", "--confirm-top", "1", "--confirm-years", "2",
            "--workers", "1", "--journal", str(journal), "--json", *[a for s in FAST for a in ("--set", s)]]
    res = run_cli(*args, "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    b = d["best"]
    assert [s["bus"] in (27, 30) for s in b["sites"]] == [True, True] and b["siting"]
    assert set(b["per_lot"]) == {"north", "east", "gpls"}
    for r in b["per_lot"].values():
        assert r["ci_low_kw"] <= r["value_kw"] <= r["ci_high_kw"] and r["se_kw"] > 0
    assert b["per_lot"]["gpls"]["value_kw"] == pytest.approx(b["ecc_kw"], rel=1e-12)   # the joint ECC is the ECC
    assert b["ecc_per_cost_ci"][0] <= b["ecc_per_cost"] <= b["ecc_per_cost_ci"][1]
    assert d["pareto"] and all("sites" in p for p in d["pareto"])
    assert "north_bus" in (tmp_path / "out" / "evaluations.csv").read_text().splitlines()[0]
    # the journal holds every evaluation (the reported one with its per-lot values): a rerun evaluates nothing
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    d2 = json.loads(again.stdout)
    assert d2["resumed"] == 4 and d2["best"] == d["best"]
    # the Python API on the same instance and seed gives the same recommendation
    api = optimize(load_instance(TWO, FAST), DesignSpec(budget=2, years=2, confirm_top=1, confirm_years=2,
                                                        journal=str(journal)))
    assert api.best.design.to_dict() == {k: b[k] for k in ("price_per_kwh", "n_chargers", "discharge_kw",
                                                             "soc_threshold", "sites")}
    assert api.best.lots is not None and api.best.lots["gpls"]["value_kw"] == b["ecc_kw"]


def test_validate_prints_every_lot(run_cli: Any) -> None:
    res = run_cli("validate", str(TWO))
    assert res.returncode == 0, res.stderr
    assert "parking lots (GPLs): 2" in res.stdout and "north" in res.stdout and "east" in res.stdout
    rows = [ln.split() for ln in res.stdout.splitlines() if ln.strip().startswith("bus ")]
    assert rows and rows[-1][-2:] == ["18", "27"]


def test_the_recorded_siting_truth_is_the_instance_lattice() -> None:
    """benchmarks/data/design_siting_truth.json (the siting benchmark's ground truth) holds one evaluation of
    every design of the two-lot instance's lattice, in lattice order, on the same seed and years: a change to
    the instance's design block that makes it stale fails here."""
    truth = json.loads((ROOT / "benchmarks" / "data" / "design_siting_truth.json").read_text())
    lattice = DesignSpace.from_instance(load_instance(TWO)).lattice()
    assert [Design.from_dict(e["design"]) for e in truth["evaluations"]] == lattice
    assert {(e["seed"], e["first_year"], e["years"]) for e in truth["evaluations"]} == {(truth["seed"], 0,
                                                                                          truth["years"])}


@pytest.mark.slow
def test_design_over_candidate_buses_avoids_the_overloaded_branches() -> None:
    """The whole two-lot lattice, real evaluator: the recommended siting puts no 200-charger lot behind a
    500 kVA branch (buses 18, 22), whose V2G the branch caps (ECC per cost a fraction of the others')."""
    res = optimize(load_instance(TWO), DesignSpec(years=2, budget=9, confirm_top=2, confirm_years=4))
    assert not any(s.bus in (18, 22) and s.n_chargers == 200 for s in res.best.design.sites)
    assert res.best.lots is not None and set(res.best.lots) == {"north", "east", "gpls"}


def test_a_lot_at_the_edge_of_its_charger_grid_is_flagged_unless_the_budget_stops_it() -> None:
    from gplopt.design.advice import bounds_hit

    inst = load_instance(TWO, ['design.lots.north.n_chargers={"values":[50,100]}'])
    space = DesignSpace.from_instance(inst)
    lat = space.lattice()
    pick = {(d.sites[0].n_chargers, d.sites[1].n_chargers): d for d in lat}
    flagged = {b.name: b for b in bounds_hit(space, pick[(100, 100)], inst)}
    assert flagged["north.n_chargers"].edge == "upper" and "[50,100,150]" in flagged["north.n_chargers"].widen
    assert "north.n_chargers" not in {b.name for b in bounds_hit(space, pick[(100, 200)], inst)}   # budget 300
    assert "north.n_chargers" not in {b.name for b in bounds_hit(space, pick[(50, 100)], inst)}    # 0 below
