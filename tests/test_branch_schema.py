"""Schema and validation of branch outage data, tie lines and customer counts (issue 14)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gplopt.branch_checks import branch_times
from gplopt.errors import InstanceError
from gplopt.instance import instance_from_data
from gplopt.system import build_network

ROOT = Path(__file__).resolve().parent.parent
IEEE33 = json.loads((ROOT / "instances" / "ieee33.json").read_text())


def case(branch0: dict[str, Any] | None = None, extra: list[dict[str, Any]] | None = None,
         bus1: dict[str, Any] | None = None) -> dict[str, Any]:
    d = copy.deepcopy(IEEE33)
    d["network"]["branches"][0].update(branch0 or {})
    d["network"]["buses"][1].update(bus1 or {})
    d["network"]["branches"] += extra or []
    return d


def bad(data: dict[str, Any], path: str, rule: str) -> None:
    with pytest.raises(InstanceError) as exc:
        instance_from_data(data)
    assert exc.value.path == path, str(exc.value)
    assert rule in exc.value.rule, str(exc.value)


def test_three_ways_of_giving_outage_data_convert_to_mttf_mttr() -> None:
    inst = instance_from_data(case({"mttf_h": 4380.0, "mttr_h": 5.0}))
    assert branch_times(inst.network.branches[0]) == (4380.0, 5.0)
    inst = instance_from_data(case({"failure_rate_per_year": 0.5, "mttr_h": 4.0}))
    assert branch_times(inst.network.branches[0]) == (17520.0, 4.0)
    inst = instance_from_data(case({"failure_rate_per_km_year": 0.065, "length_km": 2.0, "repair_h": 5.0}))
    mttf, mttr = branch_times(inst.network.branches[0])  # type: ignore[misc]
    assert mttf == pytest.approx(8760.0 / 0.13) and mttr == 5.0
    assert branch_times(inst.network.branches[1]) is None   # no data: never fails
    assert inst.network.sectioning_h == 1.0 and inst.network.branches[0].protection == "device"


@pytest.mark.parametrize(("branch0", "path", "rule"), [
    ({"mttf_h": 100.0}, "network.branches[0].mttr_h", "required with mttf_h"),
    ({"mttr_h": 5.0}, "network.branches[0].mttf_h", "required with mttr_h"),
    ({"failure_rate_per_km_year": 0.1, "repair_h": 5.0}, "network.branches[0].length_km", "required"),
    ({"failure_rate_per_km_year": 0.1, "length_km": 1.0}, "network.branches[0].repair_h", "required"),
    ({"repair_h": 5.0}, "network.branches[0].failure_rate_per_km_year", "required with repair_h"),
    ({"mttf_h": 0.0, "mttr_h": 5.0}, "network.branches[0].mttf_h", "in (0, 1e12]"),
    ({"mttf_h": 100.0, "mttr_h": -1.0}, "network.branches[0].mttr_h", "in [0.01, 1e6]"),
    ({"failure_rate_per_km_year": 0.1, "length_km": 1.0, "repair_h": 0.0}, "network.branches[0].repair_h",
     "in [0.01, 1e6]"),
    ({"mttf_h": 100.0, "mttr_h": 5.0, "failure_rate_per_year": 1.0}, "network.branches[0]", "one of"),
    ({"protection": "fuse"}, "network.branches[0].protection", "'device' or 'none'"),
])
def test_incomplete_or_bad_branch_data_is_refused(branch0: dict[str, Any], path: str, rule: str) -> None:
    bad(case(branch0), path, rule)


@pytest.mark.parametrize(("value", "rule"), [(-1, "in [0, 1e9]"), (2.5, "integer"), ("ten", "integer")])
def test_customers_negative_or_non_integer_is_refused(value: Any, rule: str) -> None:
    bad(case(bus1={"customers": value}), "network.buses[1].customers", rule)


def test_sectioning_time_non_negative() -> None:
    d = case()
    d["network"]["sectioning_h"] = -0.5
    bad(d, "network.sectioning_h", "in [0, 1e4]")


def tie(a: int, b: int, **kw: Any) -> dict[str, Any]:
    return {"id": 99, "from_bus": a, "to_bus": b, "r_ohm": 0.5, "x_ohm": 0.5, "normally_open": True, **kw}


def test_tie_line_is_not_part_of_the_radial_network() -> None:
    inst = instance_from_data(case(extra=[tie(18, 33)]))
    net = build_network(inst)
    assert 99 not in set(net.branch_ids.tolist()) and net.n_bus == 33


@pytest.mark.parametrize("ends", [(5, 5), (1, 2), (2, 1)])
def test_tie_line_must_join_two_otherwise_radial_parts(ends: tuple[int, int]) -> None:
    bad(case(extra=[tie(*ends)]), "network.branches[32]", "normally_open tie line")


def test_closed_loop_is_still_refused() -> None:
    t = tie(18, 33)
    t["normally_open"] = False
    bad(case(extra=[t]), "network.branches", "a radial tree")
