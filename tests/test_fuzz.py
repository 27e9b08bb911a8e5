"""Fuzzed bad input: mutations of valid instances and of --set overrides are either valid or rejected with an
InstanceError (exit code 2 at the CLI) naming a path; never any other exception.

The mutations include the adversarial classes of issue 10: bools where numbers belong, integers of thousands
of digits, nesting thousands deep, lone surrogates, duplicate JSON keys (in the file's text) and path-like model
names."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gplopt import jsonstrict
from gplopt.errors import GploptError
from gplopt.instance import apply_override, instance_from_data
from gplopt.system import build_system

ROOT = Path(__file__).resolve().parent.parent
BASES = {name: json.loads((ROOT / "instances" / f"{name}.json").read_text()) for name in ("beijing", "rbts",
                                                                                        "ieee33")}
N_DEFAULT = int(os.environ.get("GPLOPT_FUZZ_EXAMPLES", "300"))
COUNTS: dict[str, int] = {"valid": 0, "rejected": 0}



def deep(levels: int) -> list[Any]:
    out: list[Any] = []
    for _ in range(levels):
        out = [out]
    return out


ADVERSARIAL = st.one_of(
    st.sampled_from([10**5000, -(10**40), "\ud800", "a\udfffb", "../ev/baic_ec200", "/etc/passwd", "ev/x",
                     "..", "C:\\models\\x", [True, 1.0], True, False]),
    st.sampled_from([40, 3000]).map(deep),
)
ODD_VALUES = st.one_of(
    st.sampled_from([None, True, False, "", "x", [], {}, [1, 2], {"a": 1}, 0, -1, 1e308, -1e308, 1e-300,
                     float("nan"), float("inf"), -float("inf"), 10**12, -(10**12), 0.5, 2, 9999999]),
    ADVERSARIAL,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.text(max_size=8),
)


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:6]):   # the first items are enough to reach every kind of field
            out += paths(v, (*prefix, i))
    return out


PATHS = {name: paths(d) for name, d in BASES.items()}


def get_parent(obj: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    for p in path[:-1]:
        obj = obj[p]
    return obj, path[-1]


def with_duplicate_key(data: dict[str, Any], path: tuple[Any, ...]) -> str | None:
    """The JSON text of ``data`` with one key of the object at (or holding) ``path`` given twice."""
    try:
        parent, _ = get_parent(data, path) if path else (data, None)
        if not isinstance(parent, dict) or not parent:
            return None
        key = next(iter(parent))
        parent["\x00dup\x00"] = parent[key]
        text = json.dumps(data)
        del parent["\x00dup\x00"]
    except (KeyError, IndexError, TypeError, ValueError, RecursionError):
        return None
    return text.replace(json.dumps("\x00dup\x00"), json.dumps(key), 1)


@st.composite
def mutated(draw: Any) -> dict[str, Any] | str:
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS[name]))
        try:
            parent, key = get_parent(data, path)
            action = draw(st.sampled_from(["value", "delete", "extra", "scale", "topology"]))
            if action == "value":
                parent[key] = draw(ODD_VALUES)
            elif action == "delete":
                del parent[key]
            elif action == "extra":
                if isinstance(parent, dict):
                    parent["unexpected_field"] = 1
            elif action == "scale" and isinstance(parent[key], int | float) and not isinstance(parent[key], bool):
                parent[key] = parent[key] * draw(st.sampled_from([-1, 0, 1e6, 1e-6, 1e12]))
            elif action == "topology" and data["network"]["branches"]:
                br = draw(st.sampled_from(data["network"]["branches"]))
                kind = draw(st.sampled_from(["loop", "dangling", "self", "dup"]))
                if kind == "loop":
                    br["to_bus"] = data["network"]["branches"][0]["from_bus"]
                elif kind == "dangling":
                    br["to_bus"] = 10**6
                elif kind == "self":
                    br["to_bus"] = br["from_bus"]
                else:
                    data["network"]["branches"].append(dict(br))
        except (KeyError, IndexError, TypeError, OverflowError):   # 10**5000 scaled by a float
            continue
    if draw(st.integers(0, 9)) == 0:   # now and then, as text with a duplicated key
        text = with_duplicate_key(data, draw(st.sampled_from(PATHS[name])))
        if text is not None:
            return text
    return data


def check_one(data: Any) -> None:
    try:
        if isinstance(data, str):
            data = jsonstrict.loads(data, "<fuzz>")
            raise AssertionError("a duplicate key was accepted")
        inst = instance_from_data(data, base_dir=ROOT / "instances")
        system = build_system(inst, base_dir=ROOT / "instances")
        assert system.hours in (8736, 8760)
        COUNTS["valid"] += 1
    except GploptError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and ": must be " in msg, msg
        COUNTS["rejected"] += 1


@settings(max_examples=N_DEFAULT, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_instances_are_valid_or_rejected_clearly(data: dict[str, Any]) -> None:
    check_one(data)


SET_PATHS = st.sampled_from(["gpl.discharge_kw", "gpl.n_chargers", "units[0].mttr_h", "units.gas_turbine.mttf_h",
                             "network.vmin_pu", "network.branches.3.r_ohm", "load.peak_kw", "simulation.seed",
                             "gpl.sessions.arrival_h.min", "incentive.price_per_kwh", "nosuch.x",
                             "units.99.bus", "gpl", "network.buses.0", "design.n_chargers.step", "", ".", "a..b",
                             "units.0.mttr_h", "network.buses.18.p_kw", "network.buses[18].p_kw", "units[9].bus",
                             "units[-1].bus", "units[x].bus", "gpl.sessions.arrival_h.std", "load.shape",
                             "gpl.ev_type", "network.base_kv", "design.n_chargers.high", "name"])
SET_VALUES = st.sampled_from(["2.5", "-1", "0", "NaN", "Infinity", "1e999", "null", "true", "[1,2]", "{}",
                              "abc", '"3"', "1e-12", "300000000", "9" * 5000, '"\\ud800"', "\udcff",
                              "[" * 3000 + "]" * 3000, '"../ev/baic_ec200"', "a/b", '{"a": 1, "a": 2}', "1e308",
                              "1e-6", "false"])


@settings(max_examples=N_DEFAULT, deadline=None)
@given(SET_PATHS, SET_VALUES)
def test_set_overrides_are_valid_or_rejected_clearly(path: str, value: str) -> None:
    data = copy.deepcopy(BASES["beijing"])
    try:
        apply_override(data, f"{path}={value}")
    except GploptError as exc:
        assert ": must be " in str(exc)
        return
    check_one(data)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_instances_slow(data: dict[str, Any]) -> None:
    check_one(data)


def test_nan_is_never_accepted() -> None:
    data = copy.deepcopy(BASES["beijing"])
    data["gpl"]["charge_kw"] = math.nan
    with pytest.raises(GploptError, match="gpl.charge_kw"):
        instance_from_data(data)
