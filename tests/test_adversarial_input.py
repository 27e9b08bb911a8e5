"""Adversarial instances and overrides (issue 10): each is rejected at once with one line naming the field, the
rule and the value, or, for the OPF, an answer that breaks its own constraints is never trusted.

A few cases run the real command line (exit code 2, one line on stderr, no traceback, seconds); the rest call
``load_instance`` / ``instance_from_data`` / ``apply_override`` in-process.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt import build_system, load_instance
from gplopt.errors import InstanceError
from gplopt.instance import apply_override, instance_from_data, json_schema, read_json
from gplopt.network.opf import SheddingOPF
from gplopt.network.opf_check import verify_answer
from gplopt.system import bus_loads_kw

ROOT = Path(__file__).resolve().parent.parent
BEIJING = json.loads((ROOT / "instances" / "beijing.json").read_text())
IEEE33 = json.loads((ROOT / "instances" / "ieee33.json").read_text())
CLI_TIMEOUT = 60.0   # generous: each case takes ~2 s; a hang or a 65 GiB allocation would not


def one_line_error(res: subprocess.CompletedProcess[str], *needles: str) -> str:
    err = res.stderr
    assert res.returncode == 2, (res.returncode, err[-2000:])
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("error: "), err[-2000:]
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def rejects(data: dict[str, Any], *needles: str, overrides: tuple[str, ...] = ()) -> InstanceError:
    data = copy.deepcopy(data)
    with pytest.raises(InstanceError) as info:
        for ov in overrides:
            apply_override(data, ov)
        instance_from_data(data, base_dir=ROOT / "instances")
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))
    return info.value


# ------------------------------------------------------------------------ through the command line
def test_deeply_nested_json_is_one_line(run_cli, tmp_path: Path) -> None:
    text = json.dumps(IEEE33)[:-1] + ', "notes": ' + "[" * 3000 + "]" * 3000 + "}"
    (tmp_path / "deep.json").write_text(text)
    one_line_error(run_cli("validate", tmp_path / "deep.json", timeout=CLI_TIMEOUT), "nested at most 32 levels")


def test_5000_digit_integer_is_rejected_naming_the_field(tmp_path: Path) -> None:
    text = json.dumps(IEEE33).replace('"p_kw": 100.0', '"p_kw": ' + "7" * 5000, 1)
    (tmp_path / "big.json").write_text(text)
    with pytest.raises(InstanceError) as info:
        load_instance(tmp_path / "big.json")
    assert (info.value.path, info.value.value) == ("network.buses[1].p_kw", "5000 digits")
    assert "at most 15 digits" in info.value.rule


def test_lone_surrogate_is_rejected_naming_the_field(tmp_path: Path) -> None:
    data = {k: v for k, v in IEEE33.items() if k != "name"}
    (tmp_path / "s.json").write_text(json.dumps(data)[:-1] + ', "name": "\\ud800"}')
    with pytest.raises(InstanceError) as info:
        load_instance(tmp_path / "s.json")
    assert (info.value.path, info.value.value) == ("name", "\\ud800")
    assert "lone surrogate" in info.value.rule


@pytest.mark.parametrize(("command", "assignment", "needles"), [
    ("validate", "load.shape=../ev/baic_ec200", ("load.shape", "plain model name", "'../ev/baic_ec200'")),
    ("validate", "units.substation.mttf_h=1e-6", ("units[0].mttf_h", "in [1, 1e12] h", "1e-06")),
    ("evaluate", "load.peak_kw=1e308", ("load.peak_kw", "in (0, 1e8] kW", "1e+308")),
    ("validate", 'design.n_chargers={"low": 0, "high": 5000, "step": 1}\n'
     'design.discharge_kw={"low": 10, "high": 1000, "step": 10}',   # 5 x 5,001 x 100 x 5 = 1.25e7 points
     ("design", "at most 100,000 points", "1.25e+07 points")),
])
def test_absurd_overrides_exit_2_at_once(run_cli, command: str, assignment: str, needles: tuple[str, ...]) -> None:
    sets = [arg for a in assignment.split("\n") for arg in ("--set", a)]
    one_line_error(run_cli(command, "instances/beijing.json", *sets, timeout=CLI_TIMEOUT), *needles)


# ------------------------------------------------------------------------------- in-process: JSON
def test_duplicate_keys_are_rejected_naming_the_key(tmp_path: Path) -> None:
    text = json.dumps(IEEE33).replace('"base_kv"', '"base_kv": 11.0, "base_kv"', 1)
    (tmp_path / "dup.json").write_text(text)
    with pytest.raises(InstanceError) as info:
        read_json(tmp_path / "dup.json")
    assert (info.value.path, info.value.value) == ("network.base_kv", "base_kv")
    assert "duplicate JSON keys" in info.value.rule


def test_bools_are_not_numbers_in_files_and_in_set() -> None:
    data = copy.deepcopy(BEIJING)
    data["gpl"]["n_chargers"] = True
    err = rejects(data, "gpl.n_chargers", "not true/false", "True")
    assert err.path == "gpl.n_chargers"
    rejects(BEIJING, "gpl.n_chargers", "not true/false", overrides=("gpl.n_chargers=true",))
    rejects(BEIJING, "design.incentive_grades[1]", "not true/false", overrides=("design.incentive_grades=[1, false]",))
    assert instance_from_data(copy.deepcopy(BEIJING), base_dir=ROOT / "instances").gpl.v2g_enabled is True


@pytest.mark.parametrize(("assignment", "needles"), [
    ("simulation.seed=" + "9" * 40, ("--set simulation.seed", "at most 15 digits", "40 digits")),
    ('name="\\ud800"', ("--set name", "lone surrogate")),
    ("notes=" + "[" * 3000 + "]" * 3000, ("--set notes", "nested at most 32 levels")),
    ('gpl.sessions.arrival_h={"mean": 8, "mean": 9, "std": 3, "min": 5, "max": 17}',
     ("--set gpl.sessions.arrival_h.mean", "duplicate JSON keys", "'mean'")),
])
def test_set_values_are_strict_json(assignment: str, needles: tuple[str, ...]) -> None:
    rejects(BEIJING, *needles, overrides=(assignment,))


# ---------------------------------------------------------------------- in-process: physical rules
@pytest.mark.parametrize(("assignment", "needles"), [
    ("network.base_kv=1e-6", ("network.base_kv", "in [0.1, 1000] kV", "1e-06")),
    ("network.branches.1.r_ohm=1e20", ("network.branches[0].r_ohm", "in [0, 1e6] ohm", "1e+20")),
    ("units.substation.mttr_h=1e-6", ("units[0].mttr_h", "in [1, 1e12] h")),
    ("gpl.charger_mttf_h=0.5", ("gpl.charger_mttf_h", "in [1, 1e12] h")),
    ("network.base_mva=1e9", ("network.base_mva", "in [0.01, 10000] MVA")),
    ("network.vmin_pu=0.1", ("network.vmin_pu", "in [0.5, 1] pu")),
    ("network.buses.5.p_kw=1e9", ("network.buses[4].p_kw", "in [0, 1e8] kW")),
    ("gpl.charge_kw=1e6", ("gpl.charge_kw", "in (0, 1000] kW")),
    ("network.branches.3.x_ohm=5000", ("network.branches[2].x_ohm", "at most 10 pu on the feeder base")),
    ("gpl.sessions.arrival_h.mean=200", ("gpl.sessions.arrival_h.mean", "within 5 std of [min, max]")),
    ('design.n_chargers={"values": [100, 1e300]}', ("design.n_chargers", "in [0, 5000]", "1e+300")),
])
def test_physically_absurd_values_are_rejected(assignment: str, needles: tuple[str, ...]) -> None:
    rejects(BEIJING, *needles, overrides=(assignment,))


def test_allowed_intervals_are_in_the_schema() -> None:
    unit_base = json_schema()["$defs"]["ConventionalUnit"]["properties"]
    assert unit_base["mttr_h"]["x-allowed"] == "[1, 1e12]"
    assert "allowed [1, 1e12]" in unit_base["mttr_h"]["description"]


@pytest.mark.parametrize("window", [
    {"mean": 6, "std": 2, "min": 1, "max": 4},       # departures end before the first arrival
    {"mean": 12, "std": 3, "min": 6, "max": 15},     # ... or before the last (arrivals up to 17 h)
])
def test_departure_window_ending_before_arrivals_is_rejected(window: dict[str, float]) -> None:
    rejects(BEIJING, "gpl.sessions.departure_h.max", "> arrival_h.max (17)",
            overrides=(f"gpl.sessions.departure_h={json.dumps(window)}",))


# --------------------------------------------------------------------------- in-process: --set paths
def test_numeric_segment_is_the_bus_id_like_gpl_bus() -> None:
    data = copy.deepcopy(BEIJING)
    apply_override(data, "network.buses.18.p_kw=999")
    changed = [b["id"] for b, b0 in zip(data["network"]["buses"], BEIJING["network"]["buses"], strict=True)
               if b != b0]
    assert changed == [18]
    apply_override(data, "network.buses[18].p_kw=777")   # [i] is the position: the 19th bus, id 19
    assert data["network"]["buses"][18]["id"] == 19 and data["network"]["buses"][18]["p_kw"] == 777


@pytest.mark.parametrize(("assignment", "needles"), [
    ("network.buses.99.p_kw=1", ("--set network.buses.99.p_kw", "an existing id in 'network.buses'", "'99'")),
    ("network.buses[99].p_kw=1", ("--set network.buses[99].p_kw", "a position < 33", "'[99]'")),
    ("network.buses.5.p_kw=1", ("--set network.buses.5.p_kw", "ambiguous", "'5'")),
    ("network.buses[-1].p_kw=1", ("a position [i] with i a whole number", "'[-1]'")),
    ("network..p_kw=1", ("dotted keys, ids or [position]", "''")),
])
def test_missing_or_ambiguous_paths_are_errors(assignment: str, needles: tuple[str, ...]) -> None:
    data = copy.deepcopy(IEEE33)
    data["network"]["buses"][7]["id"] = 5     # two buses with id 5 make "buses.5" ambiguous
    with pytest.raises(InstanceError) as info:
        apply_override(data, assignment)
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))


def test_set_inside_a_default_block_merges() -> None:
    data = copy.deepcopy(BEIJING)
    assert "sessions" not in data["gpl"]
    apply_override(data, "gpl.sessions.arrival_h.std=2")
    inst = instance_from_data(data, base_dir=ROOT / "instances")
    assert (inst.gpl.sessions.arrival_h.mean, inst.gpl.sessions.arrival_h.std) == (8.0, 2.0)
    assert inst.gpl.sessions.soc_ini.mean == 0.5


# ------------------------------------------------------------------------------- the OPF's answers
@pytest.fixture(scope="module")
def beijing_system() -> Any:
    return build_system(load_instance(ROOT / "instances" / "beijing.json"))


def peak_hour(system: Any, load_kw: float = 12000.0) -> tuple[np.ndarray, ...]:
    p = bus_loads_kw(system.network, np.array([load_kw]))[0][0]
    units = system.units
    grid = np.array([k == "external_grid" for k in units.kind])
    return p, p * system.network.q_over_p, units.capacity_kw.copy(), np.where(grid, -units.capacity_kw, 0.0), \
        units.q_max_kvar.copy()


def test_badly_conditioned_opf_answer_fails_verification(beijing_system: Any) -> None:
    """A 1e20-ohm branch (what --set once let through): HiGHS says optimal, the answer breaks the power balance,
    so it is a failed hour, never a small ENS."""
    net = beijing_system.network
    j = int(np.flatnonzero(net.branch_ids == 1)[0])
    r = net.r_pu.copy()
    r[j] = 1e20 / (net.base_kv**2 / (net.base_kva / 1000.0))
    bad = dataclasses.replace(net, r_pu=r)
    hour = peak_hour(beijing_system)
    res = SheddingOPF(bad, beijing_system.units, beijing_system.fleet.bus).solve(*hour, 0.0, int(net.root))
    assert not res.ok and res.status.startswith("unverified answer: P balance"), res.status
    good = SheddingOPF(net, beijing_system.units, beijing_system.fleet.bus).solve(*hour, 0.0, int(net.root))
    assert good.ok and good.status == "optimal"


def test_verify_answer_catches_a_tampered_point(beijing_system: Any) -> None:
    net = beijing_system.network
    opf = SheddingOPF(net, beijing_system.units, beijing_system.fleet.bus)
    assert opf.solve(*peak_hour(beijing_system, 15000.0), 0.0, int(net.root)).ok
    sol, args = {k: v.copy() for k, v in opf._sol.items()}, (opf._last, opf._gplmax)
    assert verify_answer(net, beijing_system.units.bus, opf.lot_buses, sol, *args) is None
    leaf = int(np.flatnonzero(net.parent >= 0)[-1])
    sol["v2"][leaf] += 1e-3
    assert "voltage drop" in str(verify_answer(net, beijing_system.units.bus, opf.lot_buses, sol, *args))
    sol = {k: v.copy() for k, v in opf._sol.items()}
    sol["shed"][leaf] -= 1e-3
    assert "balance" in str(verify_answer(net, beijing_system.units.bus, opf.lot_buses, sol, *args))


def test_lp_power_base_does_not_change_the_answer(beijing_system: Any) -> None:
    """With base_mva = 5,000 (same ohms, so the same physics) the LP is rescaled to the sources' size; the shed
    is the same to 1e-6 kW."""
    inst = load_instance(ROOT / "instances" / "beijing.json", ["network.base_mva=5000"])
    far = build_system(inst)
    hour = peak_hour(beijing_system, 15000.0)
    opf = SheddingOPF(far.network, far.units, far.fleet.bus)
    assert opf.net.base_kva == 1e4 != far.network.base_kva
    a = opf.solve(*hour, 0.0, int(far.network.root))
    b = SheddingOPF(beijing_system.network, beijing_system.units, beijing_system.fleet.bus).solve(
        *hour, 0.0, int(beijing_system.network.root))
    assert a.ok and b.ok and a.total_kw > 0
    np.testing.assert_allclose(a.shed_kw, b.shed_kw, atol=1e-6)
