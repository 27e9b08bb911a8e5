"""Output a planner can sign: the design result's advice fields, the adaptive lattice, reports that open with a
Summary and end with Provenance for every kind, one-line errors on malformed result directories, terminal
tables in one uncertainty convention at 80 columns, and progress lines when stderr is not a terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import report_fixtures as rf

from gplopt import __version__, load_instance
from gplopt.cli.format import progress, setup_logging
from gplopt.design.space import DesignSpace
from gplopt.errors import GploptError, InstanceError
from gplopt.formatting import num, pm, se_from_ci
from gplopt.provenance import fingerprint
from gplopt.report import render

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "results"
KINDS = rf.KINDS
small, synthetic_design, result_dirs = rf.small, rf.synthetic_design, rf.result_dirs   # shared fixtures


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GPLOPT_MODELS"}
    env.update({"PYTHONIOENCODING": "utf-8", "COLUMNS": "80", **extra})
    return env


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gplopt", *args], cwd=ROOT, env=_env(**env), capture_output=True,
                          text=True, timeout=300, check=False)


# ------------------------------------------------------------------------------------------ design advice
def test_design_names_variables_at_a_bound_and_compares_with_storage(small: Any, synthetic_design: Any) -> None:
    res = synthetic_design
    d = res.to_dict()
    space = DesignSpace.from_instance(small)
    best = res.best.design
    expected = [n for n, axis in zip(("price_per_kwh", "n_chargers", "discharge_kw", "soc_threshold"),
                                     space.axes, strict=True) if float(getattr(best, n)) in (min(axis), max(axis))]
    assert d["best"]["at_bound"] == expected
    for b in d["bounds"]:
        assert b["edge"] in ("lower", "upper") and (b["widen"] == "" or b["widen"].startswith("--set "))
        if b["name"] == "soc_threshold" and b["edge"] == "upper":
            assert b["widen"] == "--set 'design.soc_threshold.values=[0.8,0.9,1]'"
    e = small.economics   # eqs. 5-2, 5-3 per kW: (C_P + C_E h) / life + C_m h
    per_kw = (e.storage_power_cost_per_kw + e.storage_energy_cost_per_kwh * e.storage_hours) / \
        e.storage_life_years + e.storage_om_per_kwh_year * e.storage_hours
    c = d["comparison"]
    assert c["storage_cost_per_kw"] == pytest.approx(per_kw)
    assert c["gpl_cost_per_kw"] == pytest.approx(res.best.annual_cost / res.best.ecc_kw)
    assert c["cheaper"] == ("gpl" if c["gpl_cost_per_kw"] < per_kw else "storage")
    assert "budget 12" in d["budget_note"]


def test_design_grid_adapts_to_the_instance(beijing_path: Path) -> None:
    inst = load_instance(beijing_path, ['design.discharge_kw={"values":[3.5,7,9]}', "gpl.v2g_min_soc=0.84"])
    space = DesignSpace.from_instance(inst)
    assert space.discharge == (3.5, 7.0)            # the charger type's largest rating is 7 kW
    assert space.thresholds == (0.85, 0.87, 0.9)     # a threshold must exceed the V2G floor
    assert any("design.discharge_kw=9" in x for x in space.dropped)
    with pytest.raises(InstanceError, match="design.discharge_kw"):
        DesignSpace.from_instance(load_instance(beijing_path, ['design.discharge_kw={"values":[8,9]}']))


# ------------------------------------------------------------------------------------------ reports
@pytest.mark.parametrize("kind", KINDS)
def test_every_report_opens_with_summary_and_ends_with_provenance(result_dirs: dict[str, Path], kind: str,
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # rendered as `gplopt report DIR --out R` would be (in-process, so the command line is set here)
    monkeypatch.setattr(sys, "argv", ["/usr/bin/gplopt", "report", str(result_dirs[kind]), "--out", str(tmp_path)])
    md_path, html_path = render(result_dirs[kind], tmp_path)
    md, page = md_path.read_text(encoding="utf-8"), html_path.read_text(encoding="utf-8")
    heads = re.findall(r"^## (.+)$", md, flags=re.M)
    assert heads[0] == "Summary" and heads[-1] == "Provenance"
    h2 = re.findall(r"<h2>(.+?)</h2>", page)
    assert h2[0] == "Summary" and h2[-1] == "Provenance"
    prov = md.split("## Provenance", 1)[1]
    assert f"gplopt {__version__}" in prov and "`gplopt" in prov and "report" in prov   # the rendering command
    summary = md.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert "**Answer.**" in summary and "±" in summary and "storage" in summary
    assert summary.count("\n- ") == 3                                          # the three assumptions
    assert "DESIGN" not in md
    if kind == "paper":                                        # 8 sample years: too few for a histogram
        assert "ens_distribution.png" not in md and "too few to show a distribution" in md


def test_report_provenance_and_assumptions_come_from_the_run(result_dirs: dict[str, Path], small: Any,
                                                             tmp_path: Path) -> None:
    md = render(result_dirs["design"], tmp_path)[0].read_text(encoding="utf-8")
    assert fingerprint(small) in md and "baic_ec200" in md and "| 27 |" in md    # lot bus, EV type
    assert "models/participation/beijing_assumed.json" in md


BAD = {"list": b"[1, 2]", "no_keys": b'{"kind": "sweep"}', "empty_points": b'{"kind": "tornado", "points": []}',
       "not_utf8": b'{"kind": "sweep", "instance": "\xff\xfe"}', "bad_kind": b'{"kind": "nope"}'}


@pytest.mark.parametrize("case", sorted(BAD))
def test_report_of_a_malformed_result_is_a_clear_error(case: str, tmp_path: Path) -> None:
    d = tmp_path / "D"
    d.mkdir()
    (d / "result.json").write_bytes(BAD[case])
    with pytest.raises(GploptError, match=r"result\.json: must be .*, got ") as exc:
        render(d, tmp_path / "R")
    assert "\n" not in str(exc.value) and not (tmp_path / "R" / "report.html").exists()


def test_report_cli_error_is_one_line(tmp_path: Path) -> None:
    d = tmp_path / "D"
    d.mkdir()
    (d / "result.json").write_bytes(BAD["not_utf8"])
    p = _cli("report", str(d), "--out", str(tmp_path / "R"))
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "UTF-8" in p.stderr


# ------------------------------------------------------------------------------------------ terminal
def test_number_formats() -> None:
    assert pm(466_012.0, 11_204.0) == "466,000 ± 11,000"
    assert pm(1.5912, 0.0213) == "1.591 ± 0.021"
    assert num(12_345_678.9) == "12,345,679" and "e" not in num(1.2e7)
    assert se_from_ci(90.0, 110.0) == pytest.approx(10 / 1.6449, rel=1e-4)


@pytest.mark.parametrize("kind", ["phases", "tornado"])
def test_study_tables_fit_80_columns_without_wrapping(kind: str, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from gplopt.cli import studies

    monkeypatch.setenv("COLUMNS", "80")
    df = pd.read_csv(RESULTS / kind / "points.csv")
    studies.print_sweep("beijing", kind, df, 8)
    out = capsys.readouterr().out
    assert max(len(x) for x in out.splitlines()) <= 80 and "± = standard error" in out
    values = df["year"] if kind == "phases" else df["param"].map(studies.short)
    for v in values:      # one line per row: every row's first cell starts a line holding an estimate
        assert re.search(rf"^ *{re.escape(str(v))} .*(±|\b0\b)", out, flags=re.M), v


def test_validate_prints_tables_at_80_columns() -> None:
    p = _cli("validate", "instances/beijing.json")
    assert p.returncode == 0, p.stderr
    assert "{" not in p.stdout and "13,000 kW" in p.stdout and "gas_turbine" in p.stdout
    assert max(len(line) for line in p.stdout.splitlines()) <= 80


def test_evaluate_states_the_convention_and_logs_progress(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    p = _cli("--log-file", str(log), "evaluate", "instances/beijing.json", "--years", "2", "--workers", "1",
             GPLOPT_PROGRESS_SECONDS="0")
    assert p.returncode == 0, p.stderr
    assert "± = standard error" in p.stdout and max(len(x) for x in p.stdout.splitlines()) <= 80
    assert re.search(r"EENS +[\d,]+ ± [\d,]+ +kWh/yr", p.stdout)
    lines = [x for x in p.stderr.splitlines() if x.startswith("evaluate:")]
    assert lines and all("elapsed" in x and "done" in x for x in lines) and "2/2 done" in lines[-1]
    assert "2/2 done" in log.read_text(encoding="utf-8")


def test_quiet_silences_progress_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPLOPT_PROGRESS_SECONDS", "0")
    for quiet, seen in ((False, True), (True, False)):
        setup_logging(quiet=quiet)
        with progress("design") as bar:          # stderr is captured: not a terminal
            assert bar is not None
            bar.update(3, 10, "best 1.5 CNY/kWh")
        assert ("design: 3/10 done" in capsys.readouterr().err) is seen
    setup_logging()


@pytest.mark.slow
def test_design_cli_json_and_table(tmp_path: Path) -> None:
    """The real CLI on a 2-design lattice: --json carries the advice fields; the table says what to do next."""
    sets = ["design.incentive_grades=[1.0,2.0]", 'design.n_chargers={"values":[300]}',
            'design.discharge_kw={"values":[3.5,9]}', 'design.soc_threshold={"values":[0.9]}']
    args = [a for s in sets for a in ("--set", s)] + ["--budget", "2", "--years", "2", "--workers", "1"]
    journal = tmp_path / "run.jsonl"
    p = _cli("design", "instances/beijing.json", *args, "--journal", str(journal), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["best"]["at_bound"] == ["price_per_kwh"]           # the only axis with two values
    assert d["comparison"]["storage_cost_per_kw"] == pytest.approx(500.1)   # (2000 + 2 x 1500) / 10 + 0.05 x 2
    assert any("design.discharge_kw=9" in x for x in d["grid_values_dropped"])
    t = _cli("design", "instances/beijing.json", *args, "--journal", str(journal))   # replayed from the journal
    assert t.returncode == 0, t.stderr
    assert "next:" in t.stdout and "warning: price_per_kwh" in t.stdout and "Pareto front" in t.stdout
    assert "--set 'design.incentive_grades=[" in t.stdout and max(len(x) for x in t.stdout.splitlines()) <= 80
