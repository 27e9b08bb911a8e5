"""Studies and reports: sweep -> report end to end, the ledger's arithmetic, phase scenarios, tornado."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gplopt import build_system, load_instance
from gplopt.capacity_value import capacity_value
from gplopt.economics import economics, ledger
from gplopt.errors import GploptError
from gplopt.reliability import SequentialMonteCarlo
from gplopt.report import build_report
from gplopt.studies import PhaseScenario, sweep, tornado

ROOT = Path(__file__).resolve().parent.parent


def test_sweep_then_report_writes_markdown_and_self_contained_html(run_cli: Any, tmp_path: Path) -> None:
    d, r = tmp_path / "D", tmp_path / "R"
    p = run_cli("sweep", "instances/beijing.json", "--param", "gpl.discharge_kw", "--values", "2,5", "--years", "3",
                "--workers", "1", "--out", str(d), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    pts = out["points"]
    assert [x["value"] for x in pts] == [2, 5]
    assert pts[0]["ecc_kw"] < pts[1]["ecc_kw"]                      # common random numbers: a clean pair
    # the paired difference to the previous point: none for the first, ECC(5) - ECC(2) with its paired CI
    assert pts[0]["d_ecc_kw"] is None or pts[0]["d_ecc_kw"] != pts[0]["d_ecc_kw"]
    assert pts[1]["d_ecc_kw"] == pytest.approx(pts[1]["ecc_kw"] - pts[0]["ecc_kw"], rel=1e-12)
    assert pts[1]["d_ecc_se_kw"] > 0 and pts[1]["d_ecc_ci_low_kw"] < pts[1]["d_ecc_ci_high_kw"]
    assert not any(k.startswith("_") for k in pts[0])                # bootstrap replicates are not written
    for x in pts:
        assert x["ci_low_kw"] <= x["ci_high_kw"] and "ecc_per_cost" in x and "net_benefit" in x
    assert {"points.csv", "per_year.csv", "worst_day.csv", "result.json"} <= {f.name for f in d.iterdir()}
    p = run_cli("report", str(d), "--out", str(r), "--json")
    assert p.returncode == 0, p.stderr
    md = (r / "report.md").read_text()
    page = (r / "report.html").read_text()
    assert "![" in md and "Key assumptions" in md and "Validation status" in md
    assert "previous point, paired" in md
    assert page.count("data:image/png;base64,") >= 4                # figures embedded, no external files
    assert "<table>" in page and "src=\"http" not in page
    # reports never overwrite without --force
    p = run_cli("report", str(d), "--out", str(r))
    assert p.returncode == 2 and "--force" in p.stderr


def test_report_of_a_non_result_directory_is_a_clear_error(run_cli: Any, tmp_path: Path) -> None:
    with pytest.raises(GploptError, match="result.json"):
        build_report(tmp_path)
    p = run_cli("report", str(tmp_path / "missing"), "--out", str(tmp_path / "R"))
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_ledger_adds_up(beijing_path: Path) -> None:
    system = build_system(load_instance(beijing_path))
    cv = capacity_value(system, SequentialMonteCarlo(years=3, seed=2))
    eco = economics(system, cv)
    led = ledger(system, cv, eco)
    u, o, w = led.utility, led.operator, led.owners
    assert u["net"] == pytest.approx(u["avoided_storage"] + u["v2g_payments"] + u["load_reduction_payments"])
    assert -u["v2g_payments"] == pytest.approx(w["v2g_income"])          # what the utility pays, owners get
    assert -u["load_reduction_payments"] == pytest.approx(w["load_reduction_income"])
    assert o["charger_cost"] == pytest.approx(-system.fleet.n_chargers * system.fleet.charger_cost_per_year)
    margin = system.settings.economics.charging_margin_per_kwh * cv.charging_kwh_per_year.mean
    assert o["charging_margin"] == pytest.approx(margin) and o["net"] == pytest.approx(o["charger_cost"] + margin)
    assert w["participating_owners"] == pytest.approx(300 * system.fleet.rate_lr)


def test_phase_scenario_follows_the_s_curve() -> None:
    sc = PhaseScenario()
    cases = sc.cases()
    ups = [c[1] for c in cases]
    assert ups == sorted(ups) and ups[0] < 0.1 and ups[-1] > 0.9
    assert [c[3]["gpl.n_chargers"] for c in cases] == sorted(c[3]["gpl.n_chargers"] for c in cases)
    assert cases[0][2].startswith("Phase 1") and cases[0][3]["gpl.v2g_enabled"] is False
    assert cases[-1][2].startswith("Phase 3")
    custom = PhaseScenario.from_dict({"years": [2030, 2040], "midpoint": 2035, "max_chargers": 100,
                                      "phases": [{"name": "only", "until_uptake": 2, "overrides": {}}]})
    assert [c[3]["gpl.n_chargers"] for c in custom.cases()] == [5, 95]   # 100 / (1 + e^(-+0.6*5))


@pytest.mark.slow
def test_tornado_and_two_way_sweep(beijing_path: Path) -> None:
    inst = load_instance(beijing_path)
    mc = SequentialMonteCarlo.from_instance(inst, years=3)
    t = tornado(inst, mc, params=(("gpl.discharge_kw", 2.0, 5.0), ("economics.storage_hours", 1.0, 4.0)))
    e = t[t.metric == "ecc_kw"].set_index("param")
    assert e.loc["gpl.discharge_kw", "at_low"] < e.loc["gpl.discharge_kw", "at_high"]
    assert e.loc["economics.storage_hours", "swing"] == 0                  # economics only: same ECC
    two = sweep(inst, "gpl.discharge_kw", [2.0, 5.0], mc, "incentive.price_per_kwh", [1.0, 2.0])
    assert isinstance(two, pd.DataFrame) and len(two) == 4
    assert two.set_index(["value", "value2"]).loc[(5.0, 2.0), "ecc_kw"] > \
        two.set_index(["value", "value2"]).loc[(2.0, 1.0), "ecc_kw"]


def test_design_result_renders(beijing_path: Path, tmp_path: Path) -> None:
    """A design result directory renders with its convergence and Pareto figures (replayed evaluations)."""
    from gplopt.design.evaluate import Evaluation
    from gplopt.design.loop import DesignSpec, optimize, write_results
    from gplopt.instance import with_overrides
    from gplopt.report import render

    inst = with_overrides(load_instance(beijing_path), {"design.incentive_grades": [1.0, 2.0],
                                                        "design.n_chargers": {"values": [100, 300]},
                                                        "design.discharge_kw": {"values": [2.0, 5.0]},
                                                        "design.soc_threshold": {"values": [0.9]}})

    def fake(design: Any, first_year: int, years: int) -> Evaluation:
        ecc = 10.0 * design.discharge_kw + 0.1 * design.n_chargers * design.price_per_kwh
        cost = 1000.0 * design.n_chargers + 5e4 * design.price_per_kwh
        return Evaluation(design=design, seed=1, first_year=first_year, years=years, ecc_kw=ecc,
                          ecc_ci=(0.9 * ecc, 1.1 * ecc), annual_cost=cost, ecc_per_cost=ecc / cost * 1e6,
                          ecc_per_cost_sd=1.0, net_benefit=0.0, net_benefit_sd=1.0, eens_kwh_per_year=1.0,
                          v2g_kwh_per_year=1.0, seconds=0.0)

    res = optimize(inst, DesignSpec(budget=6, seed=1, confirm_top=2, confirm_years=10), evaluator=fake)
    d = tmp_path / "design"
    d.mkdir()
    write_results(res, d, {"instance": inst.name, "notes": inst.notes})
    md, page = render(d, tmp_path / "R")
    text = md.read_text()
    assert "convergence.png" in text and "pareto.png" in text and "Recommended design" in text
    assert page.read_text().count("data:image/png;base64,") == 2
