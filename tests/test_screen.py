"""Portfolio screening (gplopt/screen.py, ``gplopt screen``): six feeders (the bundled instances, the imported
SimBench feeder and two generated Beijing variants: the lot moved, the lot removed), ranked by ECC per cost;
identical results for 1 and 2 workers; the journal resumes (also after SIGKILL); a report renders; bad input
exits 2 naming what is wrong."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_harness import assert_one_line_error, run_main, strict_json

from gplopt.capacity_value import CapacityValueSpec, capacity_value
from gplopt.instance import load_instance, with_overrides
from gplopt.reliability import SequentialMonteCarlo, assess
from gplopt.screen import PLACEMENT_YEARS, Z_DISTINCT, ScreenSpec, feeder_files, screen, write_result
from gplopt.system import build_system

ROOT = Path(__file__).resolve().parent.parent
YEARS = 2


def _write(inst: Any, path: Path) -> Path:
    path.write_text(json.dumps(inst.model_dump(mode="json")))
    return path


@pytest.fixture(scope="module")
def feeders(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("feeders")
    bj = load_instance(ROOT / "instances" / "beijing.json")
    moved = _write(with_overrides(bj, {"name": "beijing_bus18", "gpl.bus": 18, "gpl.n_chargers": 150}),
                   d / "beijing_bus18.json")
    bare = _write(with_overrides(bj, {"name": "beijing_nolot", "gpl": None}), d / "beijing_nolot.json")
    inst = ROOT / "instances"
    return [inst / "beijing.json", inst / "ieee33.json", inst / "rbts.json", inst / "simbench_mv_semiurb.json",
            moved, bare]


@pytest.fixture(scope="module")
def screened(feeders: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    j = tmp_path_factory.mktemp("journal") / "screen.jsonl"
    return screen(feeders, ScreenSpec(years=YEARS), workers=1, journal=j), j


def test_ranks_every_feeder_by_ecc_per_cost(screened: tuple[Any, Path], feeders: list[Path]) -> None:
    res, _ = screened
    rows = res.ranking
    assert len(rows) == len(feeders) >= 5
    assert [r["status"] for r in rows] == ["ok"] * len(feeders)
    assert [r["rank"] for r in rows] == list(range(1, len(feeders) + 1))
    assert sorted(r["file"] for r in rows) == sorted(str(f) for f in feeders)
    per_cost = [r["ecc_per_cost"] for r in rows]
    assert per_cost == sorted(per_cost, reverse=True)
    by = {Path(r["file"]).stem: r for r in rows}
    assert by["beijing"]["lot"] == "given" and by["beijing"]["lot_bus"] == 27
    assert by["beijing_bus18"]["lot"] == "given" and by["beijing_bus18"]["n_chargers"] == 150
    assert {by[k]["lot"] for k in ("ieee33", "rbts", "simbench_mv_semiurb", "beijing_nolot")} == {"placed"}
    assert by["beijing"]["ecc_kw"] > 3 * by["beijing"]["ecc_se_kw"] > 0     # the Beijing lot is worth capacity
    for a, b in zip(rows, rows[1:], strict=False):                          # neighbours compared in s.e.
        se = math.hypot(a["ecc_per_cost_se"], b["ecc_per_cost_se"])
        if se > 0:
            assert a["z_next"] == pytest.approx((a["ecc_per_cost"] - b["ecc_per_cost"]) / se)
            assert a["vs_next"] == ("distinct" if a["z_next"] >= Z_DISTINCT else "indistinguishable")
    assert rows[-1]["z_next"] is None


def test_a_given_lot_is_evaluated_as_given(screened: tuple[Any, Path]) -> None:
    """The screening's numbers for Beijing are those of `capacity_value` on the instance itself."""
    res, _ = screened
    row = next(r for r in res.ranking if Path(r["file"]).stem == "beijing")
    inst = load_instance(ROOT / "instances" / "beijing.json")
    system = build_system(inst)
    cv = capacity_value(system, SequentialMonteCarlo.from_instance(inst, years=YEARS),
                        CapacityValueSpec.from_system(system))
    assert row["ecc_kw"] == cv.value_kw and row["seed"] == inst.simulation.seed


def test_a_lot_is_placed_at_the_bus_with_most_unserved_energy(screened: tuple[Any, Path]) -> None:
    res, _ = screened
    row = next(r for r in res.ranking if Path(r["file"]).stem == "beijing_nolot")
    inst = with_overrides(load_instance(ROOT / "instances" / "beijing.json"), {"gpl": None})
    base = assess(build_system(inst), SequentialMonteCarlo.from_instance(inst, years=PLACEMENT_YEARS))
    ens = {b: e.mean for b, e in base.ens_by_bus_kwh_per_year.items()}
    assert ens[row["lot_bus"]] == max(ens.values()) > 0
    assert row["n_chargers"] == 250                       # the median of the default design grid 100..400


def test_two_workers_give_the_same_rows(screened: tuple[Any, Path], feeders: list[Path]) -> None:
    """Three of the feeders on two worker processes: the same numbers as on one worker (in-process)."""
    some = [feeders[1], feeders[2], feeders[4]]
    one = screen(some, ScreenSpec(years=YEARS), workers=2)
    relative = ("rank", "z_next", "vs_next")              # these depend on which feeders are screened together
    two = {r["file"]: {k: v for k, v in r.items() if k not in relative} for r in screened[0].ranking}
    assert {r["file"]: {k: v for k, v in r.items() if k not in relative} for r in one.ranking} == \
        {str(f): two[str(f)] for f in some}


@pytest.mark.slow
def test_identical_rankings_for_one_and_two_workers(screened: tuple[Any, Path], feeders: list[Path]) -> None:
    assert screen(feeders, ScreenSpec(years=YEARS), workers=2).ranking == screened[0].ranking


def test_journal_resumes_without_redoing_feeders(screened: tuple[Any, Path], feeders: list[Path],
                                                 tmp_path: Path) -> None:
    res, j = screened
    lines = j.read_text().splitlines()
    assert len(lines) == 1 + len(feeders)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])   # the last line torn
    again = screen(feeders, ScreenSpec(years=YEARS), workers=1, journal=cut)
    assert again.resumed == len(feeders) - 1 and again.ranking == res.ranking
    full = screen(feeders, ScreenSpec(years=YEARS), workers=1, journal=j)
    assert full.resumed == len(feeders) and full.ranking == res.ranking


def test_journal_of_other_settings_is_refused(screened: tuple[Any, Path], feeders: list[Path]) -> None:
    from gplopt.errors import GploptError

    with pytest.raises(GploptError, match="journal of this run"):
        screen(feeders, ScreenSpec(years=YEARS + 1), workers=1, journal=screened[1])


def test_report_renders_a_screen_directory(screened: tuple[Any, Path], feeders: list[Path],
                                           tmp_path: Path) -> None:
    from gplopt.report import render

    out = tmp_path / "result"
    out.mkdir()
    write_result(out, screened[0], [load_instance(f) for f in feeders])
    ranking = (out / "ranking.csv").read_text().splitlines()
    assert len(ranking) == 1 + len(feeders) and ranking[0].startswith("rank,file,feeder")
    md, page = render(out, tmp_path / "report")
    text = md.read_text()
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads[0] == "## Summary" and heads[-1] == "## Provenance" and "## Ranking of feeders" in heads
    top = Path(screened[0].ranking[0]["file"]).stem
    assert f"{top} ranks first" in text.replace(top.capitalize(), top)
    assert (tmp_path / "report" / "screen_ranking.png").stat().st_size > 1000
    _shows_in_chromium(page, tmp_path)


def _shows_in_chromium(page: Path, tmp_path: Path) -> None:
    """The screen report in a real browser too, like every other report kind (tests/test_report_browser.py);
    where Chromium is absent (it is installed in CI) this part is not run."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshot_report", ROOT / "tools" / "screenshot_report.py")
    assert spec is not None and spec.loader is not None
    shot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shot)
    if shot.chromium() is None:
        return
    sd, inked = shot.ink(shot.screenshot(page, tmp_path / "screen.png", height=1400))
    assert sd > 0.05 and inked > 0.02, f"screen report: the screenshot looks blank (s.d. {sd:.3f}, {inked:.1%})"


# ------------------------------------------------------------------------------------------ the command
def test_cli_json_and_out(tmp_path: Path) -> None:
    res = run_main("screen", ROOT / "instances" / "beijing.json", ROOT / "instances" / "rbts.json", "--years", 2,
                   "--workers", 1, "--json", "--out", tmp_path / "o", limit_s=120)
    assert res.code == 0, res.err
    d = strict_json(res.out)
    assert d["kind"] == "screen" and [Path(r["file"]).stem for r in d["ranking"]] == ["beijing", "rbts"]
    assert json.loads((tmp_path / "o" / "result.json").read_text())["ranking"] == d["ranking"]


def test_bad_input_exits_2(tmp_path: Path) -> None:
    assert_one_line_error(run_main("screen"), "FEEDERS", "at least one instance")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run_main("screen", empty), str(empty), "instance files")
    bad = tmp_path / "bad.json"
    bj = json.loads((ROOT / "instances" / "beijing.json").read_text())
    bj["gpl"]["n_chargers"] = -3
    bad.write_text(json.dumps(bj))
    t0 = time.perf_counter()
    err = assert_one_line_error(run_main("screen", ROOT / "instances" / "rbts.json", bad, "--journal",
                                         tmp_path / "j.jsonl"), str(bad), "n_chargers")
    assert time.perf_counter() - t0 < 10 and "-3" in err
    assert not (tmp_path / "j.jsonl").exists()            # refused before anything ran or was written
    assert_one_line_error(run_main("screen", tmp_path / "missing.json"), "missing.json", "no such path")
    assert_one_line_error(run_main("screen", bad.with_name("x"), "--years", 1), "--years")


def test_feeder_files_expand_directories_once(tmp_path: Path) -> None:
    for n in ("b.json", "a.json", "notes.txt"):
        (tmp_path / n).write_text("{}")
    files = feeder_files([tmp_path, tmp_path / "a.json"])
    assert [f.name for f in files] == ["a.json", "b.json"]


@pytest.mark.slow
def test_sigkill_resume(feeders: list[Path], screened: tuple[Any, Path], tmp_path: Path) -> None:
    """A screening killed with SIGKILL mid-run resumes from its journal without redoing finished feeders, and
    ends with the same ranking as an uninterrupted run."""
    j = tmp_path / "kill.jsonl"
    args = [sys.executable, "-m", "gplopt", "screen", *map(str, feeders), "--years", str(YEARS), "--workers", "1",
            "--journal", str(j), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not j.exists() or j.read_text().count('"kind": "feeder"') < 2):
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    done = j.read_text().count('"kind": "feeder"')
    assert 2 <= done < len(feeders)
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    d = strict_json(out.stdout)
    assert d["resumed"] == done
    assert d["ranking"] == json.loads(json.dumps(screened[0].ranking))


@pytest.mark.slow
def test_budget_runs_a_design_search_per_feeder() -> None:
    """--budget N: the design loop's recommendation is the lot evaluated and ranked."""
    res = screen([ROOT / "instances" / "beijing.json"], ScreenSpec(years=YEARS, budget=3), workers=1)
    r = res.ranking[0]
    assert r["lot"] == "given+design" and r["status"] == "ok"
    assert r["design"] == (f"p{r['price_per_kwh']:g}_n{r['n_chargers']}_d{r['discharge_kw']:g}"
                           f"_s{r['soc_threshold']:g}")
