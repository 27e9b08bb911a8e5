"""instances/beijing_calibrated.json is instances/beijing.json with only its load level changed, and it is the
instance tools/make_instances.py derives from the calibration figures it records (no MC here: the calibration
and its independent-seed check are in docs/validation.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from gplopt.instance import load_instance

ROOT = Path(__file__).resolve().parent.parent


def make_instances() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_instances", ROOT / "tools" / "make_instances.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_calibrated_instance_differs_from_beijing_only_in_its_load_level() -> None:
    base = json.loads((ROOT / "instances" / "beijing.json").read_text())
    cal = json.loads((ROOT / "instances" / "beijing_calibrated.json").read_text())
    mi = make_instances()
    assert cal["load"]["peak_kw"] == mi.CALIBRATED_PEAK_KW
    assert 9000.0 < cal["load"]["peak_kw"] < base["load"]["peak_kw"]
    assert cal["name"] == "beijing_calibrated"
    same = {k: v for k, v in cal.items() if k not in ("name", "notes", "load")}
    assert same == {k: v for k, v in base.items() if k not in ("name", "notes", "load")}
    assert {k: v for k, v in cal["load"].items() if k != "peak_kw"} == \
        {k: v for k, v in base["load"].items() if k != "peak_kw"}
    # the notes carry the method and the calibration figures
    text = " ".join(cal["notes"])
    c = mi.CALIBRATION
    for figure in (f"{mi.CALIBRATED_PEAK_KW:,.1f} kW", f"{c['eens_kwh'] / 1000:.1f} +/- ",
                   f"{c['peak_stderr_kw']:.0f} kW", f"seed {c['check_seed']}", "259.8 MWh/yr"):
        assert figure in text, figure
    assert c["eens_stderr_kwh"] > 0 and c["peak_stderr_kw"] > 0
    assert abs(c["eens_kwh"] - 259_800.0) <= 0.005 * 259_800.0          # the tool's 0.5 % tolerance
    # the independent seed agrees with the target within its sampling error (3 s.e.)
    assert abs(c["check_eens_kwh"] - 259_800.0) <= 3.0 * c["check_eens_stderr_kwh"]
    # it loads, with the same bus shares: bus loads scale with the peak
    a, b = load_instance(ROOT / "instances" / "beijing.json"), load_instance(ROOT / "instances" /
                                                                             "beijing_calibrated.json")
    assert a.network == b.network and a.gpl == b.gpl and a.units == b.units
