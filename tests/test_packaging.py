"""Packaging and the model library: the bundled models ship in the package (one copy), model files are checked
against their schemas (docs/model-format.md is generated from them), models beside an instance are found by
every command and by the API, and ``paper`` runs to the end. The wheel-install test is ``slow``; .ci/run also
installs the wheel with its dependencies into a fresh virtual environment."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_bad_input import assert_bad

from gplopt import build_system, load_instance, with_overrides
from gplopt.errors import InstanceError
from gplopt.library import BUNDLED, KINDS, load_model
from gplopt.model_schemas import SCHEMAS, validate_model

ROOT = Path(__file__).resolve().parent.parent
BEIJING = json.loads((ROOT / "instances" / "beijing.json").read_text(encoding="utf-8"))
MY_EV = {"name": "my EV", "source": "test", "battery_kwh": 40.0}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GPLOPT_MODELS", "PYTHONPATH")}
    return {**env, "PYTHONIOENCODING": "utf-8", **extra}


def _gplopt(*args: str | Path, cwd: Path, timeout: float = 240.0, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line of the checkout (PYTHONPATH=ROOT) unless ``env`` says otherwise, run from ``cwd``."""
    return subprocess.run([sys.executable, "-m", "gplopt", *map(str, args)], cwd=cwd,
                          env=_env(**({"PYTHONPATH": str(ROOT)} | env)), capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture
def my_feeder(tmp_path: Path) -> Path:
    """``my_feeder/inst.json`` naming ``my_ev``, a model that exists only in ``my_feeder/models/ev/``."""
    folder = tmp_path / "my_feeder"
    (folder / "models" / "ev").mkdir(parents=True)
    (folder / "models" / "ev" / "my_ev.json").write_text(json.dumps(MY_EV), encoding="utf-8")
    data = json.loads(json.dumps(BEIJING))
    data["gpl"]["ev_type"] = "my_ev"
    (folder / "inst.json").write_text(json.dumps(data), encoding="utf-8")
    return folder / "inst.json"


# ------------------------------------------------------------------------------------------ the library
def test_bundled_models_are_package_data_with_one_copy() -> None:
    assert BUNDLED == ROOT / "gplopt" / "models"
    assert (ROOT / "models").resolve() == BUNDLED    # the documented top-level library is the package's copy
    for kind in KINDS:
        files = sorted((BUNDLED / kind).glob("*.json"))
        assert files, kind
        for f in files:                               # every shipped model file satisfies its schema
            validate_model(kind, json.loads(f.read_text(encoding="utf-8")), str(f))
    assert set(SCHEMAS) == set(KINDS)


def test_model_doc_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("gen_model_doc", ROOT / "tools" / "gen_model_doc.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "docs" / "model-format.md").read_text(encoding="utf-8")
    assert committed == gen.render(), "docs/model-format.md is stale: run python tools/gen_model_doc.py"
    for schema in SCHEMAS.values():
        assert f"## {schema.__name__}" in committed


def test_edited_model_file_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "models" / "ev").mkdir(parents=True)
    f = tmp_path / "models" / "ev" / "e.json"
    f.write_text(json.dumps({"battery_kwh": 30}), encoding="utf-8")
    assert load_model("ev", "e", base_dir=tmp_path)["battery_kwh"] == 30
    f.write_text(json.dumps({"battery_kwh": 31, "notes": ["edited"]}), encoding="utf-8")
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    assert load_model("ev", "e", base_dir=tmp_path)["battery_kwh"] == 31


@pytest.mark.parametrize(("kind", "name", "content", "needles"), [
    ("ev", "my_ev", {"battery_kwh": -1}, ("my_ev.json: battery_kwh", "must be > 0", "got -1")),
    ("ev", "my_ev", {"name": "no battery"}, ("my_ev.json: battery_kwh", "required", "missing")),
    ("ev", "my_ev", {"battery_kwh": 20, "battery_kw": 20}, ("my_ev.json: battery_kw", "unknown fields", "20")),
    ("ev", "my_ev", "{\"battery_kwh\": NaN}", ("my_ev.json: battery_kwh", "finite number", "nan")),
    ("ev", "my_ev", "{\"battery_kwh\": ", ("my_ev.json:1:", "valid JSON")),
    ("ev", "my_ev", [1, 2], ("my_ev.json: <root>", "valid dictionary", "[1, 2]")),
    ("chargers", "my_ch", {"capital_fixed": 1, "capital_per_kw": 1, "life_years": 0, "discount_rate": 0},
     ("my_ch.json: life_years", "must be > 0", "got 0")),
    ("participation", "my_pc", {"grades": [{"price_per_kwh": 1, "v2g": 1.5, "load_reduction": 0.5}]},
     ("my_pc.json: grades[0].v2g", "must be <= 1", "got 1.5")),
    ("participation", "my_pc", {"grades": []}, ("my_pc.json: grades", "must be 1 or more items", "got []")),
])
def test_bad_model_file(tmp_path: Path, kind: str, name: str, content: Any, needles: tuple[str, ...]) -> None:
    """A bad model file: an InstanceError naming the file, the field, the rule and the value."""
    (tmp_path / "models" / kind).mkdir(parents=True)
    text = content if isinstance(content, str) else json.dumps(content)
    (tmp_path / "models" / kind / f"{name}.json").write_text(text, encoding="utf-8")
    with pytest.raises(InstanceError) as exc:
        load_model(kind, name, base_dir=tmp_path)
    for needle in needles:
        assert needle in str(exc.value), (needle, str(exc.value))


def test_bad_model_file_beside_instance_exit_2(run_cli: Any, tmp_path: Path) -> None:
    """Through the CLI: exit 2 and one line, before any simulation."""
    (tmp_path / "models" / "ev").mkdir(parents=True)
    (tmp_path / "models" / "ev" / "my_ev.json").write_text(json.dumps({"battery_kwh": -1}), encoding="utf-8")
    (tmp_path / "inst.json").write_text(json.dumps(BEIJING), encoding="utf-8")
    assert_bad(run_cli("evaluate", tmp_path / "inst.json", "--set", "gpl.ev_type=my_ev"),
               f"{tmp_path / 'models' / 'ev' / 'my_ev.json'}: battery_kwh: must be > 0, got -1")


def test_bad_participation_csv(tmp_path: Path) -> None:
    (tmp_path / "models" / "participation").mkdir(parents=True)
    f = tmp_path / "models" / "participation" / "survey.csv"
    f.write_text("price_per_kwh,v2g,load_reduction\n1.0,0.2,0.4\n1.5,lots,0.5\n", encoding="utf-8")
    with pytest.raises(InstanceError, match=r"survey\.csv: row 3 v2g: must be a number, got 'lots'"):
        load_model("participation", "survey", base_dir=tmp_path)
    f.write_text("price,v2g\n1.0,0.2\n", encoding="utf-8")
    with pytest.raises(InstanceError, match=r"survey\.csv: header: must be the columns"):
        load_model("participation", "survey", base_dir=tmp_path)
    f.write_text("price_per_kwh,v2g,load_reduction\n1.0,0.2,0.4\n2.0,0.3,0.6\n", encoding="utf-8")
    assert load_model("participation", "survey", base_dir=tmp_path)["grades"][1]["v2g"] == 0.3


# ------------------------------------------------------------------------------------------ models beside an instance
def test_custom_model_api(my_feeder: Path) -> None:
    """``build_system(load_instance(path))``: no base_dir argument needed, and derived instances keep it."""
    inst = load_instance(my_feeder)
    assert inst.base_dir == my_feeder.parent
    assert build_system(inst).fleet.battery_kwh == 40.0  # type: ignore[union-attr]
    derived = with_overrides(inst, {"gpl.n_chargers": 120})
    assert derived.base_dir == my_feeder.parent
    assert build_system(derived).fleet.battery_kwh == 40.0  # type: ignore[union-attr]
    shipped = pickle.loads(pickle.dumps(derived))         # what a worker process receives
    assert shipped.base_dir == my_feeder.parent and shipped == derived


def test_custom_model_design(my_feeder: Path) -> None:
    from gplopt.design.loop import DesignSpec, optimize

    tiny = ["design.incentive_grades=[1.0,2.0]", 'design.n_chargers={"values":[300]}',
            'design.discharge_kw={"values":[3.5]}', 'design.soc_threshold={"values":[0.9]}']
    res = optimize(load_instance(my_feeder, tiny), DesignSpec(budget=2, years=2, seed=3, confirm_top=1,
                                                               confirm_years=2))
    assert len(res.evaluations) == 2 and res.best.ecc_kw >= 0


def test_custom_model_sweep_cli(my_feeder: Path) -> None:
    res = _gplopt("sweep", my_feeder, "--param", "gpl.discharge_kw", "--values", "3", "--years", "1", "--json",
                  cwd=my_feeder.parent)
    assert res.returncode == 0, res.stderr
    points = json.loads(res.stdout)["points"]
    assert [p["value"] for p in points] == [3] and points[0]["ecc_kw"] >= 0


def test_paper_smoke_custom_model(my_feeder: Path, tmp_path: Path) -> None:
    """``gplopt paper`` (1 sample year) runs to the end and writes every table; the base point, shared by
    Tables 5, 6 and Fig. 6, is computed once and labelled in each (it once crashed with IndexError)."""
    out = tmp_path / "paper"
    res = _gplopt("paper", my_feeder, "--years", "1", "--out", out, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert [len(result[t]) for t in ("table4", "table5", "table6", "fig6")] == [2, 7, 5, 5]
    base = {t: next(r for r in result[t] if r["value"] == v)
            for t, v in (("table5", 3.5), ("table6", 0.9), ("fig6", 1.5))}
    assert {t: r["table"] for t, r in base.items()} == {t: t for t in base}
    assert len({r["ecc_kw"] for r in base.values()}) == 1
    for t in ("table5", "table6", "fig6"):
        assert all(r["table"] == t for r in result[t])
    from gplopt.causes import ENTRIES
    from gplopt.report import render

    by_cause = result["table4_by_cause"]                   # Table 4 split by cause, paired (gplopt/causes.py)
    assert [r["cause"] for r in by_cause] == list(ENTRIES)
    t4 = {r["strategy"]: r["eens_kwh_per_year"] for r in result["table4"]}
    assert sum(r["reduction_kwh"] for r in by_cause) == pytest.approx(t4["No V2G"] - t4["V2G"], rel=1e-9, abs=1e-6)
    md, _ = render(out, tmp_path / "report")
    assert "Table 4 by cause" in md.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ the wheel
@pytest.mark.slow
def test_wheel_install(tmp_path: Path) -> None:
    """Build the wheel, check it carries the models, install it with --target and run it from elsewhere on an
    instance copied away from the checkout (the bundled models must be found in the installed package)."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copytree(ROOT / "gplopt", src / "gplopt", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(src)], check=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("gplopt-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for f in BUNDLED.rglob("*.json"):
        assert f"gplopt/models/{f.relative_to(BUNDLED).as_posix()}" in names
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(ROOT / "instances" / "beijing.json", work / "case.json")
    where = subprocess.run([sys.executable, "-c", "import gplopt; print(gplopt.__file__)"], cwd=work,
                           env=_env(PYTHONPATH=str(site)), capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(site)
    ok = _gplopt("validate", "case.json", "--json", cwd=work, PYTHONPATH=str(site))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["name"] == "beijing"
    ev = _gplopt("evaluate", "case.json", "--years", "2", "--json", cwd=work, PYTHONPATH=str(site))
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["eens_kwh_per_year"]["mean"] > 0
