"""Bad input through the real command line: exit code 2, one line on stderr naming the JSON path and the
value, never a traceback, and nothing written.

The rule for ``--set`` paths: a path may name any field the schema knows, also one absent from the file
(missing blocks are created and take their defaults); list items with an ``id`` are addressed by id
(``units.gas_turbine``, ``network.buses.18``), any item by position with ``[i]``. An unknown key is then
rejected by the schema, whose message names the first unknown key by its full dotted path; a list item that
does not exist is rejected by ``--set`` itself.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
IEEE33 = json.loads((ROOT / "instances" / "ieee33.json").read_text())
BEIJING = json.loads((ROOT / "instances" / "beijing.json").read_text())


def assert_bad(res: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 2, exactly one line on stderr (``error: PATH: must be RULE, got VALUE``), no traceback."""
    err = res.stderr
    assert res.returncode == 2, (res.returncode, err)
    assert "Traceback" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("error: "), err
    assert res.stdout == "", res.stdout
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def write(tmp_path: Path, data: dict[str, Any], name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1))
    return path


# ------------------------------------------------------------------------------------------ the file
def test_file_not_found(run_cli, tmp_path: Path) -> None:
    assert_bad(run_cli("validate", tmp_path / "nosuch.json"), "nosuch.json", "existing file", "not found")


def test_malformed_json(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n "name": "x",\n "network": {"base_kv": 10.0,,}\n}\n')
    assert_bad(run_cli("validate", path), "broken.json:3:", "valid JSON")


def test_not_an_object(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]\n")
    assert_bad(run_cli("validate", path), "<root>", "JSON object", "list")


def test_missing_required_field(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)
    del data["network"]["base_kv"]
    assert_bad(run_cli("validate", write(tmp_path, data)), "network.base_kv", "required", "missing")


def test_wrong_type(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)
    data["units"][0]["capacity_kw"] = "lots"
    err = assert_bad(run_cli("validate", write(tmp_path, data)), "units[0].capacity_kw", "'lots'")
    assert "must be a valid number" in err


def test_unknown_field_in_file(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)
    data["network"]["buses"][3]["p_mw"] = 1.0
    assert_bad(run_cli("validate", write(tmp_path, data)), "network.buses[3].p_mw", "unknown fields", "1.0")


def test_unknown_unit_type(run_cli) -> None:
    err = assert_bad(run_cli("validate", "instances/ieee33.json", "--set", "units[0].type=nuclear"),
                     "units[0].type", "'nuclear'")
    assert "'external_grid'" in err


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nonfinite_literal_in_file(run_cli, tmp_path: Path, literal: str) -> None:
    text = json.dumps(IEEE33, indent=1).replace('"capacity_kw": 100000.0', f'"capacity_kw": {literal}')
    assert literal in text
    path = tmp_path / "nan.json"
    path.write_text(text)
    shown = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}[literal]
    assert_bad(run_cli("validate", path), "units[0].capacity_kw", "finite", f"got {shown}")


def test_nan_by_set(run_cli) -> None:
    assert_bad(run_cli("validate", "instances/beijing.json", "--set", "units[0].capacity_kw=NaN"),
               "units[0].capacity_kw", "finite", "nan")


# ------------------------------------------------------------------------------------------ the network
def test_extra_branch_closes_a_loop(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)  # tie line 21-8 of Baran & Wu closed
    data["network"]["branches"].append({"id": 33, "from_bus": 21, "to_bus": 8, "r_ohm": 2.0, "x_ohm": 2.0})
    assert_bad(run_cli("validate", write(tmp_path, data)), "network.branches", "radial", "32 branches", "33")


def test_loop_with_tree_branch_count(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)  # branch 2-19 moved to a second 3-23 path: a loop, and 19..22 cut off
    k = next(i for i, b in enumerate(data["network"]["branches"]) if b["to_bus"] == 19)
    data["network"]["branches"][k].update(from_bus=3, to_bus=23)
    assert_bad(run_cli("validate", write(tmp_path, data)), "network.branches[", "closes a loop", "'3-23'")


def test_removed_branch_disconnects(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)
    del data["network"]["branches"][10]
    assert_bad(run_cli("validate", write(tmp_path, data)), "network.branches", "32 branches for 33 buses",
               "got 31")


def test_isolated_new_bus(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)  # the last branch now feeds a new bus 34, leaving bus 33 isolated
    data["network"]["buses"].append({"id": 34, "p_kw": 10.0, "q_kvar": 5.0})
    data["network"]["branches"][-1]["to_bus"] = 34
    assert_bad(run_cli("validate", write(tmp_path, data)), "network.branches", "33 branches for 34 buses",
               "got 32")


def test_branch_to_unknown_bus(run_cli) -> None:
    assert_bad(run_cli("validate", "instances/ieee33.json", "--set", "network.branches[31].to_bus=99"),
               "network.branches[31].to_bus", "existing bus id", "99")


def test_duplicated_bus_id(run_cli, tmp_path: Path) -> None:
    data = copy.deepcopy(IEEE33)
    data["network"]["buses"][5]["id"] = 5
    assert_bad(run_cli("validate", write(tmp_path, data)), "network.buses[5].id", "unique", "got 5")


# ------------------------------------------------------------------------------------------ rules
def test_negative_mttr(run_cli) -> None:
    assert_bad(run_cli("validate", "instances/beijing.json", "--set", "units.gas_turbine.mttr_h=-5"),
               "units[1].mttr_h", "in [1, 1e12] h", "-5")


def test_soc_bounds_unordered(run_cli) -> None:
    assert_bad(run_cli("validate", "instances/beijing.json", "--set", "gpl.v2g_min_soc=0.9"),
               "gpl.v2g_min_soc", "< soc_threshold", "0.9")


def test_unknown_model_name(run_cli) -> None:
    err = assert_bad(run_cli("validate", "instances/beijing.json", "--set", "gpl.ev_type=tesla"),
                     "gpl.ev_type", "'tesla'")
    assert "baic_ec200" in err  # the known names are listed


def test_participation_curve_decreasing(run_cli, tmp_path: Path) -> None:
    """A curve in models/ beside the instance's folder is found by name, and a falling rate is refused."""
    inst_dir = tmp_path / "inst"
    inst_dir.mkdir()
    write(inst_dir, BEIJING, "beijing.json")
    curve = {"name": "bad", "grades": [
        {"price_per_kwh": 1.0, "v2g": 0.30, "load_reduction": 0.40},
        {"price_per_kwh": 1.5, "v2g": 0.40, "load_reduction": 0.50},
        {"price_per_kwh": 2.0, "v2g": 0.35, "load_reduction": 0.60}]}
    (tmp_path / "models" / "participation").mkdir(parents=True)
    (tmp_path / "models" / "participation" / "bad.json").write_text(json.dumps(curve))
    good = run_cli("validate", inst_dir / "beijing.json", "--set", "gpl.participation=beijing_assumed")
    assert good.returncode == 0, good.stderr
    assert_bad(run_cli("validate", inst_dir / "beijing.json", "--set", "gpl.participation=bad"),
               "models/participation/bad.grades[2].v2g", "non-decreasing in price", "0.35")


# ------------------------------------------------------------------------------------------ options
@pytest.mark.parametrize(("assignment", "needles"), [
    ("nosuch.path.x=1", ("nosuch", "unknown fields", "'x': 1")),
    ("gpl.nosuch=1", ("gpl.nosuch", "unknown fields", "got 1")),
    ("units[9].mttr_h=3", ("--set units[9].mttr_h", "a position < 3 in 'units'", "'[9]'")),
    ("units.9.mttr_h=3", ("--set units.9.mttr_h", "an existing id in 'units'", "'9'")),
    ("network.buses.0.p_kw=3", ("--set network.buses.0.p_kw", "an existing id in 'network.buses'", "'0'")),
    ("units.no_such_unit.mttr_h=3", ("--set units.no_such_unit.mttr_h", "'no_such_unit'")),
    ("units[x].mttr_h=3", ("--set units[x].mttr_h", "a position [i]", "'[x]'")),
    ("gpl.discharge_kw.x=3", ("--set gpl.discharge_kw.x", "to be a list or an object", "3.5")),
    ("gpl.discharge_kw", ("--set", "PATH=VALUE", "'gpl.discharge_kw'")),
    ("=3", ("--set", "non-empty dotted path", "''")),
])
def test_bad_set(run_cli, beijing_path: Path, assignment: str, needles: tuple[str, ...]) -> None:
    before = beijing_path.read_bytes()
    assert_bad(run_cli("validate", "instances/beijing.json", "--set", assignment), *needles)
    assert beijing_path.read_bytes() == before


def test_failing_set_leaves_file_unchanged(run_cli, tmp_path: Path) -> None:
    path = write(tmp_path, IEEE33)
    before = path.read_bytes()
    assert_bad(run_cli("powerflow", path, "--set", "units.substation.mttr_h=-1", "--json"), "units[0].mttr_h")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json"]


@pytest.mark.parametrize(("hour", "needles"), [
    ("99999", ("--hour", "[0, 8759]", "99999")),
    ("-1", ("--hour", "[0, 8759]", "-1")),
    ("noon", ("--hour", "integer or 'peak'", "'noon'")),
])
def test_bad_hour(run_cli, hour: str, needles: tuple[str, ...]) -> None:
    assert_bad(run_cli("powerflow", "instances/beijing.json", "--hour", hour), *needles)


def test_message_with_brackets_is_printed_verbatim(run_cli) -> None:
    assert_bad(run_cli("validate", "instances/beijing.json", "--set", "gpl.ev_type=[/x]"), "'[/x]'")
