"""The lot option ``v2g_eligibility``: 'after_target' (eq. 4-8, default) or 'while_charging' (a willing PEV may
also discharge while still charging toward the threshold)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_harness import run_main

from gplopt.instance import load_instance, with_overrides
from gplopt.reliability import SequentialMonteCarlo, assess
from gplopt.system import build_system

ROOT = Path(__file__).resolve().parent.parent
BEIJING = ROOT / "instances" / "beijing.json"


def test_while_charging_gives_at_least_the_v2g_of_after_target_every_year() -> None:
    """Paired on common random numbers: each year, V2G energy under 'while_charging' >= 'after_target', and
    EENS <= (V2G only covers deficits). Not a theorem (once a PEV discharges early its SoC path differs), but
    at equal SoC every PEV that may discharge under 'after_target' may under 'while_charging'."""
    inst = load_instance(BEIJING)
    spec = SequentialMonteCarlo(seed=6, years=3)
    after = assess(build_system(inst), spec)
    early = assess(build_system(with_overrides(inst, {"gpl.v2g_eligibility": "while_charging"})), spec)
    v_a = np.array([r.v2g_kwh for r in after.per_year])
    v_w = np.array([r.v2g_kwh for r in early.per_year])
    assert (v_w >= v_a).all(), (v_w, v_a)
    assert (v_w - v_a).mean() > 0.1 * v_a.mean()         # a material difference on Beijing's morning deficits
    assert all(w.ens_kwh <= a.ens_kwh + 1e-6 for w, a in zip(early.per_year, after.per_year, strict=True))


def test_default_is_after_target() -> None:
    inst = load_instance(BEIJING)
    system = build_system(inst)
    assert inst.gpls[0].v2g_eligibility == "after_target"
    assert system.lots[0].v2g_while_charging is False


@pytest.mark.parametrize("path", ["gpl.v2g_eligibility", "gpls.gpl.v2g_eligibility", "gpls[0].v2g_eligibility"])
def test_set_paths(path: str) -> None:
    inst = load_instance(BEIJING, [f"{path}=while_charging"])
    assert build_system(inst).lots[0].v2g_while_charging is True


def test_from_the_instance_file_per_lot_and_shorthand(tmp_path: Path) -> None:
    data = json.loads((ROOT / "instances" / "beijing_two_lots.json").read_text(encoding="utf-8"))
    data["gpls"][1]["v2g_eligibility"] = "while_charging"
    f = tmp_path / "two.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    assert [lot.v2g_while_charging for lot in build_system(load_instance(f)).lots] == [False, True]
    one = json.loads(BEIJING.read_text(encoding="utf-8"))
    one["gpl"]["v2g_eligibility"] = "while_charging"
    g = tmp_path / "one.json"
    g.write_text(json.dumps(one), encoding="utf-8")
    assert build_system(load_instance(g)).lots[0].v2g_while_charging is True


@pytest.mark.parametrize("args", [["--set", "gpl.v2g_eligibility=sometimes"],
                                  ["--set", "gpls.gpl.v2g_eligibility=1"]])
def test_bad_value_exits_2_naming_field_rule_value(args: list[str]) -> None:
    out = run_main("evaluate", BEIJING, "--years", "1", *args)
    assert out.code == 2
    line = out.err.strip()
    assert "\n" not in line and "Traceback" not in out.err
    assert "v2g_eligibility" in line and "'after_target' or 'while_charging'" in line
    assert args[1].split("=")[1] in line
