"""Journals that could lie (issue 10): every tampering either refuses (exit 2, one line, no traceback) or gives
exactly the fresh run's answer. The CLI cases reproduce the issue's reports; the Hypothesis tests mutate valid
journals of every command (evaluate's years, sweep/paper points, design evaluations) byte by byte and line by
line and read them back in-process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gplopt import build_system, load_instance
from gplopt.adequacy import YearResult
from gplopt.checkpoint import SCALARS, PointJournal, YearJournal, checksum
from gplopt.design.evaluate import Evaluation
from gplopt.design.journal import Journal, eval_key
from gplopt.design.loop import DesignSpec, optimize
from gplopt.design.space import Design
from gplopt.errors import GploptError
from gplopt.reliability import Execution, SequentialMonteCarlo, assess
from gplopt.studies import point_run_info

Run = Callable[..., subprocess.CompletedProcess[str]]
ROOT = Path(__file__).resolve().parent.parent
EVAL = ["evaluate", "instances/beijing.json", "--years", "2", "--json"]
TINY_SETS = ["design.incentive_grades=[1.0,2.0]", 'design.n_chargers={"values":[300]}',
             'design.discharge_kw={"values":[3.5]}', 'design.soc_threshold={"values":[0.9]}']


def _refused(r: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2, one line on stderr naming ``words``, no traceback, nothing on stdout."""
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _answer(r: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert r.returncode == 0, r.stderr[-2000:]
    return {k: v for k, v in json.loads(r.stdout).items() if k != "seconds"}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _put(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _resign(rec: dict[str, Any]) -> str:
    """A record edited *and* given a matching checksum: only the record's own checks can catch it."""
    rec = {k: v for k, v in rec.items() if k != "sum"}
    return json.dumps({**rec, "sum": checksum(rec)})


VIA = ["api", pytest.param("cli", marks=pytest.mark.slow)]   # the CLI variants of in-process cases are slow


@pytest.fixture(scope="module")
def beijing_system(beijing_path: Path) -> Any:
    return build_system(load_instance(beijing_path), base_dir=beijing_path.parent)   # as the CLI builds it


def _evaluate_refused(via: str, journal: Path, seed: int, run_cli: Run, system: Any, *words: str) -> None:
    """``evaluate --years 2 --seed S --journal J`` refuses, through the CLI or the API (the same check)."""
    before = journal.read_bytes() if journal.is_file() else None
    if via == "cli":
        _refused(run_cli(*EVAL, "--seed", str(seed), "--journal", journal), *words)
    else:
        with pytest.raises(GploptError) as exc:
            assess(system, SequentialMonteCarlo(years=2, seed=seed), journal=journal,
                   instance=load_instance(ROOT / "instances" / "beijing.json"))
        assert "\n" not in str(exc.value)
        for w in words:
            assert w in str(exc.value), (w, str(exc.value))
    if before is not None:
        assert journal.read_bytes() == before                 # a refused journal is left as it was


@pytest.fixture(scope="module")
def seed1(run_cli: Run, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """``touch J`` then ``evaluate --seed 1 --journal J``: an empty pre-existing journal is treated as new."""
    j = tmp_path_factory.mktemp("journal") / "seed1.jsonl"
    j.touch()
    r = run_cli(*EVAL, "--seed", "1", "--journal", j)
    head = json.loads(_lines(j)[0])
    assert head["kind"] == "run" and head["info"]["seed"] == 1 and head["sum"] == checksum(head)
    assert len(_lines(j)) == 3
    return j, _answer(r)


def test_empty_journal_resumes_its_own_run(seed1: tuple[Path, dict[str, Any]], run_cli: Run,
                                           tmp_path: Path) -> None:
    j, fresh = seed1
    copy = Path(shutil.copy(j, tmp_path / "j.jsonl"))
    assert _answer(run_cli(*EVAL, "--seed", "1", "--journal", copy)) == fresh
    assert copy.read_bytes() == j.read_bytes()          # read back, nothing re-run or re-appended


def test_seed_2_refuses_seed_1_journal(seed1: tuple[Path, dict[str, Any]], run_cli: Run) -> None:
    j, _ = seed1
    before = j.read_bytes()
    _refused(run_cli(*EVAL, "--seed", "2", "--journal", j), str(j), "another run", "seed 1 in the journal, 2 now")
    assert j.read_bytes() == before


def test_number_edited_mid_journal_refuses(seed1: tuple[Path, dict[str, Any]], run_cli: Run,
                                           tmp_path: Path) -> None:
    head, y0, y1 = _lines(seed1[0])
    rec = json.loads(y0)
    edited = y0.replace(json.dumps(rec["ens_kwh"]), json.dumps(rec["ens_kwh"] / 2), 1)
    assert edited != y0
    bad = _put(tmp_path / "edited.jsonl", [head, edited, y1])
    _refused(run_cli(*EVAL, "--seed", "1", "--journal", bad), f"{bad}:2", "checksum")


@pytest.mark.slow   # fast in-process: test_hardening.py::test_journal_resume_equals_uninterrupted
def test_torn_last_line_is_dropped_and_recomputed(seed1: tuple[Path, dict[str, Any]], run_cli: Run,
                                                  tmp_path: Path) -> None:
    j, fresh = seed1
    head, y0, y1 = _lines(j)
    torn = tmp_path / "torn.jsonl"
    torn.write_text(f"{head}\n{y0}\n{y1[: len(y1) // 2]}", encoding="utf-8")   # killed while writing year 1
    r = run_cli(*EVAL, "--seed", "1", "--journal", torn)
    assert _answer(r) == fresh
    assert "line 3 is torn" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert torn.read_bytes() == j.read_bytes()          # the torn tail was cut, year 1 written again


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("case", ["header_edited", "header_torn", "header_missing", "old_format"])
def test_missing_torn_or_edited_header_refuses(case: str, via: str, seed1: tuple[Path, dict[str, Any]], run_cli: Run,
                                               beijing_system: Any, tmp_path: Path) -> None:
    head, y0, y1 = _lines(seed1[0])
    lines = {"header_edited": [head.replace('"seed": 1', '"seed": 2'), y0, y1],
             "header_torn": [head[:50], y0, y1],
             "header_missing": [y0, y1],
             # main's journals: a header without checksum, or (mktemp) records and no header at all
             "old_format": [json.dumps({"run": json.loads(head)["info"]}), y0, y1]}[case]
    assert lines[0] != head
    bad = _put(tmp_path / "bad.jsonl", lines)
    _evaluate_refused(via, bad, 2 if case == "header_edited" else 1, run_cli, beijing_system, f"{bad}:1", "header")


def test_changed_participation_curve_in_gplopt_models_refuses(seed1: tuple[Path, dict[str, Any]], root: Path,
                                                               tmp_path: Path) -> None:
    curve = json.loads((root / "models/participation/beijing_assumed.json").read_text(encoding="utf-8"))
    for g in curve["grades"]:
        g["v2g"] *= 0.2
    (tmp_path / "models/participation").mkdir(parents=True)
    (tmp_path / "models/participation/beijing_assumed.json").write_text(json.dumps(curve), encoding="utf-8")
    env = {**os.environ, "GPLOPT_MODELS": str(tmp_path / "models"), "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run([sys.executable, "-m", "gplopt", *EVAL, "--seed", "1", "--journal", str(seed1[0])],
                       cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)
    _refused(r, "another run", "models_sha256")


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("case", ["missing_field", "wrong_length", "wrong_type", "json_list"])
def test_bad_record_with_a_valid_checksum_refuses(case: str, via: str, seed1: tuple[Path, dict[str, Any]],
                                                  run_cli: Run, beijing_system: Any, tmp_path: Path) -> None:
    head, y0, y1 = _lines(seed1[0])
    rec = json.loads(y0)
    if case == "missing_field":
        del rec["lol_hours"]
    elif case == "wrong_length":
        rec["ens_by_bus_kwh"] = rec["ens_by_bus_kwh"][:-1]
    elif case == "wrong_type":
        rec["opf_solves"] = "21"
    line = json.dumps([rec]) if case == "json_list" else _resign(rec)
    bad = _put(tmp_path / "bad.jsonl", [head, line, y1])
    field = {"missing_field": "lol_hours", "wrong_length": "ens_by_bus_kwh", "wrong_type": "opf_solves",
             "json_list": "checksum"}[case]
    _evaluate_refused(via, bad, 1, run_cli, beijing_system, f"{bad}:2", field)


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("case", ["directory", "under_a_file", "not_utf8"])
def test_unusable_journal_path_refuses(case: str, via: str, run_cli: Run, beijing_system: Any,
                                       tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    if case == "directory":
        path.mkdir()
    elif case == "under_a_file":
        (tmp_path / "file").write_text("x", encoding="utf-8")
        path = tmp_path / "file" / "j.jsonl"
    else:
        path.write_bytes(b"\xff\xfe\x00garbage\n\x80\x81\n")
    _evaluate_refused(via, path, 1, run_cli, beijing_system, str(path))


def test_two_different_records_of_one_unit_refuse(tmp_path: Path) -> None:
    j = tmp_path / "years.jsonl"
    yj = YearJournal(j, INFO, N_BUS)
    yj.append(_year(0, N_BUS))
    head, y0 = _lines(j)
    _put(j, [head, y0, y0])                                   # the same record twice: harmless
    assert list(YearJournal(j, INFO, N_BUS).years) == [0]
    rec = json.loads(y0)
    rec["ens_kwh"] += 1e-9
    _put(j, [head, y0, _resign(rec)])
    with pytest.raises(GploptError, match=r"years.jsonl:3: 0: must be recorded once .*see line 2"):
        YearJournal(j, INFO, N_BUS)


def _design_spec(journal: Path, **kw: Any) -> DesignSpec:
    return DesignSpec(**{"budget": 2, "years": 2, "seed": 11, "confirm_top": 1, "confirm_years": 2,
                         "journal": str(journal), **kw})


@pytest.mark.parametrize("via", VIA)
def test_design_with_other_economics_refuses_the_old_runs_journal(via: str, beijing_path: Path, run_cli: Run,
                                                                  tmp_path: Path) -> None:
    """The old run's journal (its header and 4 evaluations) against a run with other economics."""
    old = load_instance(beijing_path, TINY_SETS)
    j = tmp_path / "design.jsonl"
    jr = Journal(j, _design_spec(j).run_info(old))
    for ev in _evaluations(4):
        jr.finish(eval_key(ev.design.key(), ev.seed, ev.first_year, ev.years), ev)
    before = j.read_bytes()
    if via == "cli":
        sets = [a for s in [*TINY_SETS, "economics.storage_hours=4"] for a in ("--set", s)]
        r = run_cli("design", "instances/beijing.json", *sets, "--budget", "2", "--years", "2", "--seed", "11",
                    "--journal", j, "--json")
        _refused(r, str(j), "another run", "instance_sha256")
    else:
        with pytest.raises(GploptError, match="another run: instance_sha256"):
            optimize(load_instance(beijing_path, [*TINY_SETS, "economics.storage_hours=4"]), _design_spec(j))
    assert j.read_bytes() == before


def test_point_journal_identity_covers_instance_seed_method_and_models(beijing_path: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    inst = load_instance(beijing_path)
    mc = SequentialMonteCarlo(years=2, seed=1)
    j = tmp_path / "points.jsonl"
    PointJournal(j, point_run_info(inst, mc)).append("{}", {"ecc_kw": 1.0, "net_benefit": 2.0,
                                                             "ecc_per_cost": 0.5, "years": 2})
    assert PointJournal(j, point_run_info(inst, mc, Execution(workers=2, batch_years=1))).points["{}"]["ecc_kw"] == 1.0
    for other, field in ((point_run_info(inst, replace(mc, seed=2)), "seed"),
                         (point_run_info(inst, replace(mc, years=3)), "method"),
                         (point_run_info(load_instance(beijing_path, ["economics.storage_hours=4"]), mc),
                          "instance_sha256")):
        with pytest.raises(GploptError, match=f"another run: .*{field}"):
            PointJournal(j, other)
    models = tmp_path / "models" / "ev"
    models.mkdir(parents=True)
    ev = json.loads((ROOT / "models/ev/baic_ec200.json").read_text(encoding="utf-8"))
    ev["battery_kwh"] = ev["battery_kwh"] + 1
    (models / "baic_ec200.json").write_text(json.dumps(ev), encoding="utf-8")
    monkeypatch.setenv("GPLOPT_MODELS", str(tmp_path / "models"))
    with pytest.raises(GploptError, match="another run: models_sha256"):
        PointJournal(j, point_run_info(inst, mc))


def _design_cli(run_cli: Run, journal: Path, *sets: str) -> subprocess.CompletedProcess[str]:
    args = [a for s in [*TINY_SETS, *sets] for a in ("--set", s)]
    return run_cli("design", "instances/beijing.json", *args, "--budget", "2", "--years", "2", "--seed", "11",
                   "--journal", journal, "--json", timeout=900)


@pytest.mark.slow
def test_design_reproduction_mktemp_journal_other_economics(run_cli: Run, tmp_path: Path) -> None:
    """The issue's report, end to end: a design run on a ``mktemp`` journal, then one with other economics."""
    j = tmp_path / "tmp.XXXX"
    j.touch()
    first = _answer(_design_cli(run_cli, j))
    _refused(_design_cli(run_cli, j, "economics.storage_hours=4"), "another run", "instance_sha256")
    again = _answer(_design_cli(run_cli, j))
    # read back: the search's evaluations, the confirmations, and the chosen design's reported re-evaluation
    assert first["resumed"] == 0 and again["resumed"] == first["evaluations"] + len(first["confirmations"]) + 1 == 5
    assert again["best"] == first["best"] and again["confirmations"] == first["confirmations"]


@pytest.mark.slow
def test_sweep_journal_empty_then_other_seed_then_edited(run_cli: Run, tmp_path: Path) -> None:
    j = tmp_path / "sweep.jsonl"
    j.touch()
    args = ["sweep", "instances/beijing.json", "--param", "gpl.discharge_kw", "--values", "2,5", "--years", "2",
            "--json"]
    first = _answer(run_cli(*args, "--journal", j, timeout=900))
    _refused(run_cli(*args, "--seed", "2", "--journal", j), "another run", "seed")
    assert _answer(run_cli(*args, "--journal", j)) == first
    head, p1, p2 = _lines(j)
    rec = json.loads(p1)
    edited = p1.replace(json.dumps(rec["row"]["ecc_kw"]), json.dumps(rec["row"]["ecc_kw"] + 1), 1)
    _refused(run_cli(*args, "--journal", _put(j, [head, edited, p2])), f"{j}:2", "checksum")


# ----------------------------------------------------------------------------------- mutation fuzzing
def _year(y: int, n_bus: int) -> YearResult:
    rng = np.random.default_rng(y)
    vals: dict[str, Any] = {k: float(rng.random() * 1e5) for k in SCALARS}
    vals.update(year=y, lol_hours=int(rng.integers(500)), lol_events=3, hours_screened=8000, hours_certified=7,
                opf_solves=21, opf_failed=0)
    return YearResult(**vals, ens_by_bus_kwh=rng.random(n_bus) * 1e4, ens_kw=np.zeros(0), failed_hours=[5, 9])


def _evaluations(n: int) -> list[Evaluation]:
    return [Evaluation(design=Design(1.0 + k, 300, 3.5, 0.9), seed=11, first_year=0, years=2, ecc_kw=100.0 / 3 * k,
                       ecc_ci=(1.0, 2.0), annual_cost=1e6 + k, ecc_per_cost=0.1 * k, ecc_per_cost_sd=0.01,
                       net_benefit=-5.0, net_benefit_sd=1.0, eens_kwh_per_year=4e5, v2g_kwh_per_year=1e4,
                       seconds=1.5) for k in range(n)]


INFO = {"instance_sha256": "0123456789abcdef", "seed": 1, "method": {"v2g": True}}
N_BUS = 5


def _valid(kind: str, path: Path) -> dict[Any, Any]:
    """Write a valid journal of ``kind`` at ``path``; returns what it holds."""
    if kind == "years":
        yj = YearJournal(path, INFO, N_BUS)
        for y in range(3):
            yj.append(_year(y, N_BUS))
        return _open(kind, path)
    if kind == "points":
        pj = PointJournal(path, INFO)
        for k in range(3):
            pj.append(PointJournal.key({"gpl.discharge_kw": k}), {"ecc_kw": k / 3, "net_benefit": 1.0,
                                                                  "ecc_per_cost": 0.5, "years": 2, "note": ""})
        return _open(kind, path)
    dj = Journal(path, INFO)
    for ev in _evaluations(3):
        key = eval_key(ev.design.key(), ev.seed, ev.first_year, ev.years)
        dj.start(key)
        dj.finish(key, ev)
    return _open(kind, path)


def _open(kind: str, path: Path) -> dict[Any, Any]:
    """What a resuming run would take from the journal, as exact JSON text per unit."""
    if kind == "years":
        return {y: json.dumps({**{k: getattr(r, k) for k in SCALARS}, "bus": r.ens_by_bus_kwh.tolist(),
                               "failed": r.failed_hours}) for y, r in YearJournal(path, INFO, N_BUS).years.items()}
    if kind == "points":
        return {k: json.dumps(v, sort_keys=True) for k, v in PointJournal(path, INFO).points.items()}
    return {k: json.dumps(v.to_dict()) for k, v in Journal(path, INFO).done.items()}


def _mutate(data: bytes, op: str, a: int, b: int, blob: bytes) -> bytes:
    lines = data.split(b"\n")
    i, k = a % max(1, len(lines)), b % max(1, len(lines))
    n = max(1, len(data))
    if op == "flip":
        return data[: a % n] + bytes([blob[0] if blob else 0]) + data[a % n + 1:]
    if op == "delete_bytes":
        return data[: a % n] + data[a % n + 1 + b % 40:]
    if op == "insert_bytes":
        return data[: a % n] + blob + data[a % n:]
    if op == "truncate":
        return data[: a % n]
    if op == "delete_line":
        return b"\n".join(lines[:i] + lines[i + 1:])
    if op == "duplicate_line":
        return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])
    if op == "swap_lines":
        lines[i], lines[k] = lines[k], lines[i]
        return b"\n".join(lines)
    if op == "replace_line":
        lines[i] = blob
        return b"\n".join(lines)
    return data + blob   # append


OPS = ("flip", "delete_bytes", "insert_bytes", "truncate", "delete_line", "duplicate_line", "swap_lines",
       "replace_line", "append")
BLOBS = st.one_of(st.binary(max_size=12), st.sampled_from([b"[]", b"[{}]", b"{}", b"null", b"\xff\xfe", b"\n",
                                                           b'{"kind": "year"}', b"1e400", b"[" * 3000]))


def _check_mutation(kind: str, tmp: Path, ops: list[tuple[str, int, int, bytes]],
                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp / f"{kind}.jsonl"
    path.unlink(missing_ok=True)
    genuine = _valid(kind, path)
    data = path.read_bytes()
    for op, a, b, blob in ops:
        data = _mutate(data, op, a, b, blob)
    path.write_bytes(data)
    capsys.readouterr()
    try:
        got = _open(kind, path)
    except GploptError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        assert path.read_bytes() == data                  # a refused journal is left exactly as it was
        event("refused")
        return
    # accepted: every unit read back is a genuine one, bit for bit (the rest is recomputed: the fresh answer)
    assert all(k in genuine and genuine[k] == v for k, v in got.items()), (got, genuine)
    err = capsys.readouterr().err
    event(f"accepted, {len(got)} of {len(genuine)} units read back" + (", torn tail dropped" if err else ""))
    assert err.count("\n") <= 1 and ("torn" in err or err == "")
    assert _open(kind, path) == got                       # the repaired file reads back the same, silently
    assert capsys.readouterr().err == ""


MUTATIONS = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6), BLOBS),
                     min_size=1, max_size=3)


@pytest.mark.parametrize("kind", ["years", "points", "design"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=MUTATIONS)
def test_mutated_journal_refuses_or_reads_back_genuine_units(kind: str, ops: list[tuple[str, int, int, bytes]],
                                                             tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    _check_mutation(kind, tmp_path, ops, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["years", "points", "design"])
@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=MUTATIONS)
def test_mutated_journal_refuses_or_reads_back_genuine_units_many(kind: str, ops: list[tuple[str, int, int, bytes]],
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _check_mutation(kind, tmp_path, ops, capsys)
