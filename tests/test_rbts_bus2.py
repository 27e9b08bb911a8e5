"""RBTS Bus 2 (Allan et al. 1991): the shipped case is what its generator builds from the data table, the data
reproduce the published indices in closed form, and gplopt's Monte Carlo reproduces the closed form of the
instance within 3 standard errors (slow)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from gplopt.instance import instance_from_data, load_instance

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "benchmarks" / "data" / "rbts_bus2_reference.json").read_text(encoding="utf-8"))


def _tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


fmea = _tool("radial_fmea")
make = _tool("make_rbts_bus2")


def test_shipped_files_are_what_the_generator_builds() -> None:
    for name, kw in (("rbts_bus2.json", {}), ("rbts_bus2_lot.json", {"lot": True})):
        shipped = json.loads((ROOT / "instances" / name).read_text(encoding="utf-8"))
        assert shipped == make.build(**kw), f"instances/{name} is stale: run python tools/make_rbts_bus2.py"
    assert json.loads(json.dumps(make.reference(make.load_data()))) == REF, "rerun tools/make_rbts_bus2.py"


def test_instance_matches_the_papers_tables() -> None:
    inst = load_instance(ROOT / "instances" / "rbts_bus2.json")
    buses = {b.id: b for b in inst.network.buses}
    assert sum(b.customers or 0 for b in buses.values()) == 1908
    assert sum(b.p_kw for b in buses.values()) == pytest.approx(12291.0)
    lines = [b for b in inst.network.branches if b.kind == "line" and not b.normally_open]
    assert sorted(b.id for b in lines) == list(range(1, 37))
    assert sum(b.length_km or 0 for b in lines) == pytest.approx(10 * 0.6 + 13 * 0.75 + 13 * 0.8)
    assert len([b for b in inst.network.branches if b.kind == "transformer"]) == 20
    assert len([b for b in inst.network.branches if b.normally_open]) == 2
    assert inst.network.sectioning_h == 1.0


@pytest.mark.parametrize("case", ["repair", "replacement"])
def test_closed_form_of_the_papers_assumptions_reproduces_the_published_indices(case: str) -> None:
    """The transcription check: with the paper's switch arrangement (one disconnect per main section) the data
    give the published SAIFI, CAIDI and ENS within 0.5 % (SAIFI and ENS within 0.1 %); the quoted 10 h SAIDI of
    0.77 disagrees with its own SAIFI x CAIDI, which the closed form matches."""
    pub = REF["published"][case]
    got = REF["closed_form"][f"{case}_ties"]["sending_end"]
    assert got["saifi"] == pytest.approx(pub["saifi"], rel=1e-3)
    assert got["ens_mwh_per_year"] == pytest.approx(pub["ens_mwh_per_year"], rel=1e-3)
    assert got["caidi_h"] == pytest.approx(pub["caidi_h"], rel=5e-3)
    assert got["saidi_h"] == pytest.approx(pub["saifi"] * pub["caidi_h"], rel=5e-3)
    if case == "repair":
        assert got["saidi_h"] == pytest.approx(pub["saidi_h"], rel=5e-3)
        assert got["asai"] == pytest.approx(pub["asai"], abs=5e-7)


def test_switch_arrangements_differ_only_with_ties() -> None:
    for case in ("repair", "replacement"):
        no_ties = REF["closed_form"][f"{case}_no_ties"]
        assert no_ties["branch"] == no_ties["sending_end"]
        ties = REF["closed_form"][f"{case}_ties"]
        assert ties["branch"]["saifi"] == ties["sending_end"]["saifi"]
        assert ties["branch"]["saidi_h"] < ties["sending_end"]["saidi_h"] < no_ties["branch"]["saidi_h"]


def test_variants_validate() -> None:
    for transformer in ("repair", "replacement"):
        for ties in (True, False):
            inst = instance_from_data(make.build(transformer, ties))
            hours = {b.mttr_h for b in inst.network.branches if b.kind == "transformer"}
            assert hours == {200.0 if transformer == "repair" else 10.0}
            assert any(b.normally_open for b in inst.network.branches) is ties
