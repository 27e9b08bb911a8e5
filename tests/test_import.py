"""Bring your own feeder: pandapower / MATPOWER / SimBench import, hourly profiles, result frames."""

from __future__ import annotations

import copy
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt.errors import GploptError, InstanceError
from gplopt.importers.profiles import to_hourly
from gplopt.instance import load_instance
from gplopt.network.snapshot import peak_hour, snapshot
from gplopt.system import build_system

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pp_compare import peak_voltage_gap  # noqa: E402

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")


@pytest.fixture(scope="module")
def case33bw_net() -> Any:
    return pn.case33bw()


def quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def import_net(net: Any, out: Path, **kw: Any) -> dict[str, Any]:
    from gplopt.importers.pandapower import net_to_instance
    from gplopt.importers.write import write_imported

    return write_imported(quiet(net_to_instance, net, name=out.stem), out, **kw)


# ------------------------------------------------------------------------------------------ acceptance
def test_case33bw_json_import_gives_ieee33_powerflow(tmp_path: Path, ieee33_path: Path, case33bw_net: Any) -> None:
    src = tmp_path / "case33bw_pp.json"
    quiet(pp.to_json, case33bw_net, str(src))
    from gplopt.importers.pandapower import read_pandapower_json

    summary = import_net(quiet(read_pandapower_json, src), tmp_path / "c33.json")
    dropped = [e["element"] for e in summary["report"]["entries"] if e["rule"] == "out of service"]
    assert len(dropped) == 5 and all(d.startswith("line ") for d in dropped)   # the five open tie lines
    ours = build_system(load_instance(tmp_path / "c33.json"), base_dir=tmp_path)
    ref = build_system(load_instance(ieee33_path), base_dir=ieee33_path.parent)
    a, b = snapshot(ours, peak_hour(ours)).result, snapshot(ref, peak_hour(ref)).result
    np.testing.assert_allclose(a.vm_pu, b.vm_pu, atol=1e-12)
    np.testing.assert_allclose([a.loss_kw[0], a.loss_kvar[0]], [b.loss_kw[0], b.loss_kvar[0]], rtol=1e-12)
    assert abs(a.loss_kw[0] - 202.67) < 0.01                    # the published Baran & Wu losses


def test_cli_reimport_over_a_file_needs_force_and_works_with_it(tmp_path: Path, case33bw_net: Any,
                                                                run_cli: Any) -> None:
    """``gplopt import``'s --out is a file (not a result directory): refused without --force, replaced with it."""
    src = tmp_path / "case33bw_pp.json"
    quiet(pp.to_json, case33bw_net, str(src))
    out = tmp_path / "c33.json"
    assert run_cli("import", "pandapower", src, "--out", out, "--json").returncode == 0
    again = run_cli("import", "pandapower", src, "--out", out, "--json")
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    forced = run_cli("import", "pandapower", src, "--out", out, "--force", "--json")
    assert forced.returncode == 0, forced.stderr


def test_cigre_mv_peak_voltages_agree_with_pandapower(tmp_path: Path) -> None:
    net = quiet(pn.create_cigre_network_mv, with_der="pv_wind")
    summary = import_net(net, tmp_path / "cigre.json")
    cut = [e["element"] for e in summary["report"]["entries"] if e["rule"].startswith("an open switch")]
    assert sorted(cut) == ["line 12 'Line 6-7'", "line 13 'Line 11-4'", "line 14 'Line 14-8'"]
    kept = [e["element"] for e in summary["report"]["entries"] if "charging kept at the closed end" in e["rule"]]
    assert len(kept) == 3                                          # open lines still charge from one end
    buses = json.loads((tmp_path / "cigre.json").read_text())["network"]["buses"]
    charging = (2 * np.pi * 50 * net.line.c_nf_per_km * 1e-9 * net.line.length_km).sum() * 20.0**2 * 1000.0
    assert sum(b.get("shunt_b_kvar", 0.0) for b in buses) == pytest.approx(charging, rel=1e-3)  # kvar at 1 pu
    gap, n = peak_voltage_gap(net, tmp_path / "cigre.json")        # pandapower's net unmodified
    assert n == 15 and gap < 1e-4
    stripped, _ = peak_voltage_gap(net, tmp_path / "cigre.json", strip_shunts=True)
    assert stripped > 1e-3                                         # the comparison sees the charging


def test_magnetizing_and_shunt_elements_match_pandapower(tmp_path: Path) -> None:
    """Transformer no-load branches (T model, unequal leakage split) and capacitor/reactor banks at another
    rated voltage: bus voltages and the substation's power as pandapower.runpp computes them."""
    net = quiet(pn.create_cigre_network_mv, with_der="pv_wind")
    net.trafo.loc[0, ["pfe_kw", "i0_percent"]] = [40.0, 0.6]
    net.trafo.loc[1, ["pfe_kw", "i0_percent"]] = [25.0, 0.3]
    net.trafo["leakage_resistance_ratio_hv"] = [0.5, 0.2]
    net.trafo["leakage_reactance_ratio_hv"] = [0.5, 0.8]
    pp.create_shunt(net, bus=5, q_mvar=-1.2, p_mw=0.004, name="cap bank", step=2, max_step=2)
    pp.create_shunt(net, bus=9, q_mvar=0.4, vn_kv=21.0, name="reactor")
    summary = import_net(net, tmp_path / "cigre.json")
    assert summary["report"]["kept"]["shunt"] == 2
    gap, n, slack_gap = peak_voltage_gap(net, tmp_path / "cigre.json", slack=True)
    assert n == 15 and gap < 1e-4 and slack_gap < 1e-3             # kW: losses and no-load losses included


# ------------------------------------------------------------------------------------------ bad input
def test_meshed_network_names_the_loop(tmp_path: Path, case33bw_net: Any) -> None:
    net = copy.deepcopy(case33bw_net)
    net.line.loc[net.line.index[-1], "in_service"] = True          # close tie line 33 (bus 25-29 in 1-based)
    with pytest.raises(InstanceError) as exc:
        import_net(net, tmp_path / "x.json")
    msg = str(exc.value)
    assert "radial in operation" in msg and f"line {net.line.index[-1]}" in msg and "open" in msg
    assert not (tmp_path / "x.json").exists()


def test_unmodellable_element_is_named(tmp_path: Path, case33bw_net: Any) -> None:
    net = copy.deepcopy(case33bw_net)
    pp.create_ward(net, bus=5, ps_mw=0.1, qs_mvar=0.0, pz_mw=0.0, qz_mvar=0.0, name="equivalent")
    with pytest.raises(InstanceError, match=r"ward 0 'equivalent': must be an element type gplopt can model"):
        import_net(net, tmp_path / "x.json")


def test_corrupt_matpower_file_is_one_error(tmp_path: Path) -> None:
    from gplopt.importers.matpower import read_matpower

    bad = tmp_path / "case.mat"
    bad.write_bytes(b"MATLAB 5.0 MAT-file, this is not one\x00\x01")
    with pytest.raises(InstanceError, match="a MATPOWER case version 2"):
        quiet(read_matpower, bad)


def test_matpower_m_case_imports_with_its_shunts_and_matches_pandapower(tmp_path: Path, root: Path,
                                                                         run_cli: Any) -> None:
    """A real MATPOWER version-2 ``.m`` case through pandapower's converter: line charging (branch b) and the
    capacitor bank (bus Bs) become bus shunts, and the power flow agrees with pandapower.runpp."""
    pytest.importorskip("matpowercaseframes")
    from gplopt.importers.matpower import read_matpower

    case = root / "tests" / "data" / "case5_radial.m"
    out = tmp_path / "case5.json"
    r = run_cli("import", "matpower", case, "--out", out, "--json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    summary = json.loads(r.stdout)
    assert summary["buses"] == 5 and summary["branches"] == 4 and summary["report"]["kept"]["shunt"] == 1
    buses = {b["id"]: b for b in json.loads(out.read_text())["network"]["buses"]}
    assert buses[4]["shunt_b_kvar"] == pytest.approx(150.0)        # Bs = 0.15 Mvar at 1 pu
    assert buses[2]["shunt_b_kvar"] == pytest.approx(10.0)                  # half of b = 0.002 pu x 10 MVA
    assert buses[3]["shunt_b_kvar"] == pytest.approx(10.0)
    assert [b["p_kw"] for b in buses.values()] == [0.0, 400.0, 600.0, 500.0, 300.0]
    gap, n = peak_voltage_gap(read_matpower(case), out)
    assert n == 5 and gap < 1e-9


@pytest.mark.parametrize(("text", "problem"), [
    ("function mpc = case_bad\nmpc.bus = [1 3 0 0;\n  2 1 oops\n",               # unterminated matrix
     "got 'unreadable: mpc.baseMVA, mpc.bus, mpc.gen, mpc.branch'"),
    ("function mpc = case_bad\nmpc.version = '2';\nmpc.baseMVA = 10;\n"
     "mpc.bus = [1 3 0 0 0 0 1 1 0 12.66 1 1.1 0.9;\n 2 1 0.4 0.2 0 0 1 1 0 12.66 1 1.1 0.9];\n"
     "mpc.gen = [1 0 0 10 -10 1 10 1 10];\n"                                   # 9 columns
     "mpc.branch = [1 2 0.01 0.01 0 0 0 0 0 0 1 -360 360];\n",
     "mpc.gen: must be at least 10 columns (MATPOWER case format version 2), got 9"),
])
def test_matpower_syntax_error_exits_2_with_one_line(tmp_path: Path, run_cli: Any, text: str, problem: str) -> None:
    pytest.importorskip("matpowercaseframes")
    bad = tmp_path / "case_bad.m"
    bad.write_text(text)
    r = run_cli("import", "matpower", bad, "--out", tmp_path / "x.json")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"error: {bad}") and problem in lines[0], lines[0]
    assert not (tmp_path / "x.json").exists()


def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from gplopt.importers.pandapower import pandapower_module

    monkeypatch.setitem(sys.modules, "pandapower", None)
    with pytest.raises(GploptError, match=r"pip install 'gplopt\[import\]'"):
        pandapower_module()


# ------------------------------------------------------------------------------------------ profiles
def test_quarter_hours_become_hourly_energy_and_leap_day_is_dropped() -> None:
    q = np.arange(35136, dtype=float)                   # a leap year of 15-minute values
    h = to_hourly(q, "p")
    assert h.size == 8760
    assert h[0] == pytest.approx(1.5)                   # mean of quarters 0..3
    assert h[59 * 24] == pytest.approx(60 * 96 + 1.5)  # 1 March follows 28 February
    with pytest.raises(InstanceError, match=r"p: must be 8760 hourly or 35040 quarter-hourly"):
        to_hourly(np.ones(8761), "p")


def profiled_case(tmp: Path, ieee33_path: Path, *, hours: int = 8760, column: str = "res") -> Path:
    data = json.loads(ieee33_path.read_text())
    t = np.arange(hours)
    res = 0.6 + 0.4 * np.sin(2 * np.pi * t / 24.0) ** 2
    pv = np.clip(np.sin(2 * np.pi * (t % 24 - 6) / 24.0), 0, None)
    (tmp / "prof.csv").write_text("res,pv\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in zip(res, pv, strict=True)))
    data["profiles"] = {"file": "prof.csv"}
    data["load"] = {"shape": None, "bus_profiles": {str(b["id"]): column for b in data["network"]["buses"]
                                                    if b["p_kw"] > 0}}
    data["units"].append({"id": "pv18", "type": "profile", "profile": "pv", "bus": 18, "capacity_kw": 300.0,
                          "mttf_h": 1000.0, "mttr_h": 50.0})
    out = tmp / "case.json"
    out.write_text(json.dumps(data))
    return out


def test_bus_profiles_and_profiled_unit_drive_the_engine(tmp_path: Path, ieee33_path: Path) -> None:
    from gplopt.sampling import sample_year

    inst = load_instance(profiled_case(tmp_path, ieee33_path))
    system = build_system(inst, base_dir=tmp_path)
    prof = system.unit_profile["pv18"]
    buses = inst.network.buses
    j = system.network.index(18)
    res = 0.6 + 0.4 * np.sin(2 * np.pi * np.arange(8760) / 24.0) ** 2
    np.testing.assert_allclose(system.bus_load_kw[:, j], buses[j].p_kw * res, rtol=1e-5)
    np.testing.assert_allclose(system.load_kw, 3715.0 * res, rtol=1e-5)
    hist = sample_year(system, 7, 0)
    k = system.units.ids.index("pv18")
    np.testing.assert_allclose(hist.unit_avail_kw[k], 300.0 * prof * hist.unit_up[k])
    assert hist.unit_avail_kw[k][np.arange(8760) % 24 < 6].max() == 0.0          # no sun at night
    snap = snapshot(system, 12)                                                   # noon: PV at its profile
    assert snap.generation_kw["pv18"] == pytest.approx(300.0 * prof[12])


@pytest.mark.parametrize(("kw", "pattern"), [
    ({"column": "wind"}, r"load\.bus_profiles\.2: must be a column of prof\.csv \(a missing profile\), got 'wind'"),
    ({"hours": 8000}, r"must be 8760 hourly or 35040 quarter-hourly values .*got 8000"),
])
def test_bad_profiles_exit_2_with_one_line(tmp_path: Path, ieee33_path: Path, run_cli: Any, kw: dict[str, Any],
                                           pattern: str) -> None:
    case = profiled_case(tmp_path, ieee33_path, **kw)
    r = run_cli("validate", case)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    import re

    assert re.search(pattern, lines[0]), lines[0]


# ------------------------------------------------------------------------------------------ frames
def test_result_frames_and_evaluate_out(tmp_path: Path, rbts_path: Path, run_cli: Any) -> None:
    from gplopt.reliability import SequentialMonteCarlo, assess

    system = build_system(load_instance(rbts_path), base_dir=rbts_path.parent)
    res = assess(system, SequentialMonteCarlo(years=2, seed=5))
    years = res.to_frame("year")
    assert list(years["year"]) == [0, 1]
    assert years["ens_kwh"].mean() == pytest.approx(res.eens_kwh_per_year.mean)
    by_bus = res.to_frame("bus")
    assert by_bus["eens_kwh_per_year"].sum() == pytest.approx(res.eens_kwh_per_year.mean)
    with pytest.raises(GploptError, match="kind must be one of"):
        res.to_frame("month")
    hod = res.to_frame("hour_of_day")              # the copper-plate (event) path keeps the clock-hour profile
    assert list(hod["hour"]) == list(range(24))
    assert hod["ens_kwh_per_year"].sum() == pytest.approx(res.eens_kwh_per_year.mean)
    assert hod["lol_h_per_year"].sum() == pytest.approx(res.lole_h_per_year.mean)
    r = run_cli("evaluate", rbts_path, "--years", "2", "--seed", "5", "--workers", "1", "--json",
                "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    import pandas as pd

    written = pd.read_csv(tmp_path / "out" / "reliability_year.csv")
    np.testing.assert_allclose(written["ens_kwh"], years["ens_kwh"])
    assert (tmp_path / "out" / "reliability_bus.csv").is_file()
    assert pd.read_csv(tmp_path / "out" / "reliability_hour_of_day.csv")["ens_kwh_per_year"].sum() == \
        pytest.approx(res.eens_kwh_per_year.mean)


def test_hour_of_day_frame_on_a_network_sums_to_eens(beijing_path: Path) -> None:
    """The network path (OPF, lots) keeps each year's clock-hour profile too: it adds up to EENS and LOLE."""
    from gplopt.reliability import SequentialMonteCarlo, assess

    res = assess(build_system(load_instance(beijing_path)), SequentialMonteCarlo(years=2, seed=5))
    hod = res.to_frame("hour_of_day")
    assert hod["ens_kwh_per_year"].sum() == pytest.approx(res.eens_kwh_per_year.mean, rel=1e-9)
    assert hod["lol_h_per_year"].sum() == pytest.approx(res.lole_h_per_year.mean)
    assert hod["ens_kwh_per_year"].iloc[2] < hod["ens_kwh_per_year"].max()   # not flat: night is not the peak


# ------------------------------------------------------------------------------------------ SimBench (slow)
@pytest.mark.slow
def test_simbench_mv_imports_validates_and_runs(tmp_path: Path, run_cli: Any) -> None:
    sb = pytest.importorskip("simbench")
    out = tmp_path / "sb.json"
    r = run_cli("import", "simbench", "1-MV-semiurb--0-sw", "--out", out, "--json", timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["buses"] == 115 and summary["branches"] == 114 and (tmp_path / "sb_profiles.csv").is_file()
    net = quiet(sb.get_simbench_net, "1-MV-semiurb--0-sw")
    gap, n = peak_voltage_gap(net, out)
    assert n == 115 and gap < 1e-4
    assert run_cli("validate", out).returncode == 0
    ev = run_cli("evaluate", out, "--years", "2", "--workers", "1", "--json", timeout=600)
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["years"] == 2
    ecc = run_cli("ecc", out, "--set", "gpl.bus=60", "--set", "gpl.n_chargers=200", "--years", "2",
                  "--workers", "1", "--json", timeout=600)
    assert ecc.returncode == 0, ecc.stderr
    cv = json.loads(ecc.stdout)
    assert cv["eens_base_kwh_per_year"]["mean"] > 0 and cv["ecc_kw"] >= 0   # substation outages shed load


@pytest.mark.slow
def test_cigre_mv_evaluate_and_ecc_run(tmp_path: Path, run_cli: Any) -> None:
    src = tmp_path / "cigre_pp.json"
    quiet(pp.to_json, quiet(pn.create_cigre_network_mv, with_der="pv_wind"), str(src))
    out = tmp_path / "cigre.json"
    assert run_cli("import", "pandapower", src, "--out", out).returncode == 0
    ev = run_cli("evaluate", out, "--years", "2", "--workers", "1", "--json", timeout=600)
    assert ev.returncode == 0, ev.stderr
    ecc = run_cli("ecc", out, "--set", "gpl.bus=12", "--set", "gpl.n_chargers=200", "--years", "2",
                  "--workers", "1", "--json", timeout=600)
    assert ecc.returncode == 0, ecc.stderr


@pytest.mark.slow
def test_instances_simbench_example_matches_a_fresh_import(tmp_path: Path, root: Path, run_cli: Any) -> None:
    out = tmp_path / "simbench_mv_semiurb.json"
    r = run_cli("import", "simbench", "1-MV-semiurb--0-sw", "--out", out, "--profiles-format", "csv.gz",
                "--name", "SimBench 1-MV-semiurb--0-sw (imported)", timeout=600)
    assert r.returncode == 0, r.stderr
    fresh = json.loads(out.read_text())
    shipped = json.loads((root / "instances" / "simbench_mv_semiurb.json").read_text())
    assert fresh == shipped
