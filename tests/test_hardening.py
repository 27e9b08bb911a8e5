"""Solver faults, atomic output, result-directory protection, Dask determinism and resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt import build_system, load_instance
from gplopt.adequacy import evaluate_year
from gplopt.errors import GploptError, SolverError
from gplopt.io import prepare_out_dir, write_text_atomic
from gplopt.network import opf as opf_mod
from gplopt.network.opf import SheddingOPF, make_solver
from gplopt.reliability import Execution, SequentialMonteCarlo, assess
from gplopt.sampling import sample_year

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def beijing() -> Any:
    return build_system(load_instance(ROOT / "instances" / "beijing.json"))


def first_opf_year(system: Any) -> tuple[Any, Any]:
    """A sample year whose evaluation needs at least one OPF solve, and its clean result."""
    opf = SheddingOPF(system.network, system.units, system.fleet.bus)
    for y in range(10):
        hist = sample_year(system, 3, y)
        r = evaluate_year(system, hist, opf)
        if r.opf_solves:
            return hist, r
    raise AssertionError("no year with an OPF solve")


class FlakySolver:
    """A solver whose every solve raises (an injected HiGHS fault)."""

    def __init__(self) -> None:
        self.calls = 0

    def solve(self, model: Any) -> Any:
        self.calls += 1
        raise RuntimeError("injected HiGHS fault")


def test_failed_solves_are_reported_and_never_zero(beijing: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hist, clean = first_opf_year(beijing)
    opf = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    monkeypatch.setattr(opf_mod, "make_solver", lambda name: FlakySolver())
    opf.solver = FlakySolver()
    r = evaluate_year(beijing, hist, opf)
    assert r.opf_failed == clean.opf_solves > 0
    assert len(r.failed_hours) == r.opf_failed
    # a failed hour counts its whole load: more ENS than the clean answer, never less
    assert r.ens_kwh > clean.ens_kwh
    for h in r.failed_hours:
        assert r.ens_kw[h] > 0


def test_transient_fault_is_retried_with_a_fresh_solver(beijing: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hist, clean = first_opf_year(beijing)
    opf = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    real = make_solver("highs")

    class OnceBad:
        def solve(self, model: Any) -> Any:
            raise RuntimeError("injected transient fault")

    opf.solver = OnceBad()
    monkeypatch.setattr(opf_mod, "make_solver", lambda name: real)
    r = evaluate_year(beijing, hist, opf)
    assert r.opf_failed == 0
    assert r.ens_kwh == pytest.approx(clean.ens_kwh, abs=1e-6)


def test_failed_hours_are_counted_in_the_result(beijing: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SheddingOPF, "_run", lambda self: "error: injected")
    # seed 48: years with islanded hours that no certificate split decides (most years need no OPF solve)
    res = assess(beijing, SequentialMonteCarlo(years=3, seed=48))
    assert res.opf_failed_hours > 0
    assert res.to_dict()["opf_failed_hours"] == res.opf_failed_hours


def test_gurobi_unavailable_is_a_clear_error() -> None:
    # gurobipy is not a dependency here; when absent (or unlicensed) the request is a clear SolverError
    with pytest.raises(SolverError, match="--solver gurobi"):
        make_solver("gurobi")
    with pytest.raises(SolverError, match="must be one of"):
        make_solver("cplex")


def test_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "result.json"
    write_text_atomic(target, "old")

    def boom(src: Any, dst: Any) -> None:
        raise OSError("disk full (injected)")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_text_atomic(target, "new" * 1000)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_result_directory_is_never_overwritten_without_force(tmp_path: Path) -> None:
    d = tmp_path / "out"
    d.mkdir()
    (d / "keep.csv").write_text("x")
    with pytest.raises(GploptError, match="--force"):
        prepare_out_dir(d)
    assert (d / "keep.csv").read_text() == "x"
    assert prepare_out_dir(d, force=True) == d


def test_cli_refuses_non_empty_out_dir(tmp_path: Path) -> None:
    d = tmp_path / "out"
    d.mkdir()
    (d / "keep.csv").write_text("x")
    p = subprocess.run([sys.executable, "-m", "gplopt", "sweep", "instances/beijing.json", "--param",
                        "gpl.discharge_kw", "--values", "2", "--years", "2", "--out", str(d)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and "--force" in p.stderr
    assert (d / "keep.csv").read_text() == "x"


def _strip(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "seconds"}


def test_dask_local_cluster_gives_identical_numbers(beijing: Any) -> None:
    pytest.importorskip("dask.distributed")
    a = assess(beijing, SequentialMonteCarlo(years=3, seed=9)).to_dict()
    b = assess(beijing, SequentialMonteCarlo(years=3, seed=9),
               execution=Execution(workers=2, scheduler="local")).to_dict()
    assert _strip(a) == _strip(b)


def test_journal_resume_equals_uninterrupted(beijing: Any, tmp_path: Path) -> None:
    spec = SequentialMonteCarlo(years=5, seed=4)
    ref = assess(beijing, spec, execution=Execution(batch_years=2)).to_dict()
    j = tmp_path / "j.jsonl"
    inst = load_instance(ROOT / "instances" / "beijing.json")
    assess(beijing, SequentialMonteCarlo(years=3, seed=4), journal=j, instance=inst)   # "killed" after 3 years
    lines = j.read_text().splitlines()
    j.write_text("\n".join(lines) + '\n{"year": 99, "ens_k')            # and a torn last line
    with pytest.raises(GploptError, match="another run"):
        assess(beijing, SequentialMonteCarlo(years=5, seed=5), journal=tmp_path / "j.jsonl", instance=inst)
    got = assess(beijing, SequentialMonteCarlo(years=5, seed=4), journal=j, instance=inst,
                 execution=Execution(batch_years=2)).to_dict()
    assert _strip(got) == _strip(ref)


def _run_killed(args: list[str], journal: Path, min_lines: int, timeout: float = 240) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "gplopt", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    try:
        while time.time() - t0 < timeout:
            if journal.exists() and len(journal.read_text().splitlines()) >= min_lines:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()


def test_evaluate_killed_with_sigkill_resumes_to_the_same_answer(tmp_path: Path) -> None:
    j = tmp_path / "eval.jsonl"
    args = ["evaluate", "instances/beijing.json", "--years", "8", "--seed", "5", "--json"]
    _run_killed([*args, "--journal", str(j)], j, min_lines=4)
    done_before = len(j.read_text().splitlines()) - 1
    assert 0 < done_before < 8, "the kill should land mid-run"
    resumed = subprocess.run([sys.executable, "-m", "gplopt", *args, "--journal", str(j)], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    fresh = subprocess.run([sys.executable, "-m", "gplopt", *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert resumed.returncode == 0 and fresh.returncode == 0, resumed.stderr
    assert _strip(json.loads(resumed.stdout)) == _strip(json.loads(fresh.stdout))


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_to_the_same_answer(tmp_path: Path) -> None:
    j = tmp_path / "sweep.jsonl"
    args = ["sweep", "instances/beijing.json", "--param", "gpl.discharge_kw", "--values", "2,3,4,5", "--years",
            "3", "--json"]
    _run_killed([*args, "--journal", str(j)], j, min_lines=2)
    resumed = subprocess.run([sys.executable, "-m", "gplopt", *args, "--journal", str(j)], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
    fresh = subprocess.run([sys.executable, "-m", "gplopt", *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    a, b = json.loads(resumed.stdout)["points"], json.loads(fresh.stdout)["points"]
    assert [np.round(r["ecc_kw"], 9) for r in a] == [np.round(r["ecc_kw"], 9) for r in b]


def test_ecc_is_identical_for_any_number_of_workers(beijing: Any) -> None:
    from gplopt.capacity_value import capacity_value

    a = capacity_value(beijing, SequentialMonteCarlo(years=3, seed=6)).to_dict()
    b = capacity_value(beijing, SequentialMonteCarlo(years=3, seed=6), execution=Execution(workers=2)).to_dict()
    assert _strip(a) == _strip(b)
