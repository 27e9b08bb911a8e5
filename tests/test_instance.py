"""The instance schema: the three shipped instances, JSON Schema export, --set overrides, the RTS load series
and the generated docs/instance-format.md."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt.instance import Instance, load_instance, with_overrides
from gplopt.system import build_system

REF = Path(__file__).resolve().parent / "reference"


def _walk(node: Any):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


@pytest.mark.parametrize(("name", "n_bus", "n_units", "has_gpl"), [
    ("beijing", 33, 3, True), ("ieee33", 33, 1, False), ("rbts", 1, 11, False)])
def test_shipped_instances_load(root: Path, name: str, n_bus: int, n_units: int, has_gpl: bool) -> None:
    path = root / "instances" / f"{name}.json"
    inst = load_instance(path)
    assert isinstance(inst, Instance)
    system = build_system(inst, base_dir=path.parent)
    assert system.network.n_bus == n_bus
    assert system.units.n == n_units
    assert (system.fleet is not None) == has_gpl
    assert system.load_kw.size == inst.load.hours
    assert np.isfinite(system.load_kw).all() and (system.load_kw >= 0).all()
    assert system.network.p_share.sum() == pytest.approx(1.0)
    # the dump of a loaded instance is itself a valid instance that loads to the same thing
    again = Instance.model_validate(inst.model_dump(mode="json"))
    assert again == inst


def test_validate_cli_summary(run_cli) -> None:
    res = run_cli("validate", "instances/beijing.json", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["buses"], out["branches"], out["hours"]) == (33, 32, 8760)
    assert out["peak_kw"] == pytest.approx(13000.0)
    assert out["gpl"]["n_chargers"] == 300
    assert out["gpl"]["bus"] == 27


def test_schema_export_is_json_schema_with_units(run_cli) -> None:
    res = run_cli("schema")
    assert res.returncode == 0, res.stderr
    schema = json.loads(res.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"].startswith("gplopt instance")
    units = {n["x-unit"] for n in _walk(schema) if isinstance(n, dict) and "x-unit" in n}
    assert {"kW", "h", "kV", "pu"} <= units
    # the unit reaches the field itself: GPL.discharge_kw carries x-unit kW
    gpl = schema["$defs"]["GPL"]["properties"]
    assert gpl["discharge_kw"]["x-unit"] == "kW"
    assert "network" in schema["required"]


def test_schema_out_file(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "schema.json"
    res = run_cli("schema", "--out", out)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert json.loads(out.read_text())["title"].startswith("gplopt instance")


# ------------------------------------------------------------------------------------------ --set
def test_set_override_round_trip(run_cli, beijing_path: Path) -> None:
    before = beijing_path.read_bytes()
    res = run_cli("validate", "instances/beijing.json", "--json", "--set", "gpl.discharge_kw=2.5",
                  "--set", "units.gas_turbine.mttr_h=30")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["gpl"]["discharge_kw"] == 2.5
    assert out["gpl"]["charge_kw"] == 3.5
    units = {u["id"]: u for u in out["units"]}
    assert units["gas_turbine"]["mttr_h"] == 30.0
    assert units["wind"]["mttr_h"] == 80.0  # only the addressed item changes
    assert beijing_path.read_bytes() == before  # overrides never write the file


def test_set_by_position_equals_set_by_id(beijing_path: Path) -> None:
    by_id = load_instance(beijing_path, ["units.gas_turbine.mttr_h=30"])
    by_position = load_instance(beijing_path, ["units[1].mttr_h=30"])
    assert by_id == by_position
    assert by_id.units[1].mttr_h == 30.0


def test_numeric_segment_is_the_id_and_brackets_the_position(beijing_path: Path) -> None:
    """``network.buses.18`` is the bus whose id is 18 (like ``gpl.bus=18``); ``network.buses[18]`` the 19th."""
    base = load_instance(beijing_path)
    assert [b.id for b in base.network.buses][17:19] == [18, 19]
    by_id = load_instance(beijing_path, ["network.buses.18.p_kw=999"])
    by_pos = load_instance(beijing_path, ["network.buses[18].p_kw=999"])
    assert {b.id: b.p_kw for b in by_id.network.buses}[18] == 999.0
    assert {b.id: b.p_kw for b in by_id.network.buses}[19] == base.network.buses[18].p_kw
    assert {b.id: b.p_kw for b in by_pos.network.buses}[19] == 999.0
    assert load_instance(beijing_path, ["network.branches.25.rating_kva=4500"]) == \
        load_instance(beijing_path, ["network.branches[24].rating_kva=4500"])


def test_set_merges_into_a_block_left_at_its_defaults(beijing_path: Path) -> None:
    raw = json.loads(beijing_path.read_text())
    assert "sessions" not in raw["gpl"]
    inst = load_instance(beijing_path, ["gpl.sessions.arrival_h.std=2"])
    default = load_instance(beijing_path).gpl.sessions
    assert inst.gpl.sessions.arrival_h == default.arrival_h.model_copy(update={"std": 2.0})
    assert inst.gpl.sessions.departure_h == default.departure_h


def test_set_creates_absent_blocks_and_values(ieee33_path: Path) -> None:
    """A path may name any schema field, also one absent from the file (ieee33 has no simulation block)."""
    raw = json.loads(ieee33_path.read_text())
    assert "simulation" not in raw
    inst = load_instance(ieee33_path, ["simulation.seed=7", "name=renamed", "notes=[\"a\", \"b\"]"])
    assert inst.simulation.seed == 7
    assert inst.simulation.max_years == 500  # the rest of the block keeps its defaults
    assert inst.name == "renamed"
    assert inst.notes == ["a", "b"]


def test_with_overrides_library(beijing_path: Path) -> None:
    inst = load_instance(beijing_path)
    new = with_overrides(inst, {"gpl.n_chargers": 150, "incentive.price_per_kwh": 2.0})
    assert (new.gpl.n_chargers, new.incentive.price_per_kwh) == (150, 2.0)
    assert inst.gpl.n_chargers == 300  # frozen original untouched
    assert with_overrides(inst, ["gpl.n_chargers=150"]).gpl == new.gpl


# ------------------------------------------------------------------------------------------ RBTS / RTS
def test_copper_plate_rbts(run_cli) -> None:
    res = run_cli("validate", "instances/rbts.json", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["buses"], out["branches"], out["copper_plate"]) == (1, 0, True)
    assert out["installed_kw"] == pytest.approx(240000.0)
    assert out["gpl"] is None


def test_copper_plate_powerflow_is_trivial(run_cli) -> None:
    res = run_cli("powerflow", "instances/rbts.json", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["loss_kw"] == 0.0
    assert out["vmin_pu"] == out["vmax_pu"] == 1.0


def test_rts_load_series(rbts_path: Path) -> None:
    system = build_system(load_instance(rbts_path), base_dir=rbts_path.parent)
    ref = json.loads((REF / "rbts_hl1.json").read_text())["load"]
    load = system.load_kw
    assert load.size == 8736 == ref["stats"]["hours"]
    assert load.max() == 185000.0
    assert int(load.argmax()) == ref["stats"]["peak_hour_index"]
    assert load.sum() / 1000.0 == pytest.approx(ref["stats"]["annual_energy_mwh"], rel=1e-6)
    np.testing.assert_allclose(load, np.asarray(ref["mw"], float) * 1000.0, rtol=1e-9, atol=1e-9)


def test_rts_8760_appends_monday_of_week_52(rbts_path: Path) -> None:
    s8736 = build_system(load_instance(rbts_path)).load_kw
    s8760 = build_system(load_instance(rbts_path, ["load.hours=8760"])).load_kw
    assert s8760.size == 8760
    np.testing.assert_array_equal(s8760[:8736], s8736)
    np.testing.assert_array_equal(s8760[8736:], s8736[51 * 168: 51 * 168 + 24])


# ------------------------------------------------------------------------------------------ docs
def test_instance_format_doc_is_current(root: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_instance_doc", root / "tools" / "gen_instance_doc.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (root / "docs" / "instance-format.md").read_text(encoding="utf-8")
    assert committed == gen.render(), "docs/instance-format.md is stale: run python tools/gen_instance_doc.py"


def test_instance_format_doc_covers_every_field(root: Path) -> None:
    text = (root / "docs" / "instance-format.md").read_text(encoding="utf-8")
    from pydantic import BaseModel

    import gplopt.instance as mod

    models = [m for m in vars(mod).values() if isinstance(m, type) and issubclass(m, mod.Block)
              and m not in (mod.Block, mod.UnitBase) and issubclass(m, BaseModel)]
    for m in models:
        assert f"## {m.__name__}\n" in text
        for name in m.model_fields:
            assert f"| `{name}` |" in text, (m.__name__, name)
