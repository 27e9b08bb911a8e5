"""The external grid's ``availability.resample``: hour (bit-identical to before the option), day, event."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_harness import assert_one_line_error, run_main
from scipy import stats

from gplopt.instance import load_instance
from gplopt.sampling import grid_uniforms, sample_units, unit_key
from gplopt.system import build_system

ROOT = Path(__file__).resolve().parent.parent
BEIJING = ROOT / "instances" / "beijing.json"
SET = "units.substation.availability"
HOURS = 8736
KEY = unit_key("substation")

# sample_units on beijing.json computed on main before the option existed (sum of the grid row, hash of all rows)
PINNED = {(1, 0): ("0x1.2c9894896c50cp+26", "0939f79b71f8d947421da786beb1cf7c1d32a764dac903e295b53ae4dedf1001"),
          (7, 3): ("0x1.2bcc743350484p+26", "466c97374ece27285d9d19fb203aa54b4b02ed70fc2eb6b968102e5b8c608b5a")}


@pytest.mark.parametrize("seed_year", sorted(PINNED))
def test_hour_is_bit_identical_to_before(seed_year: tuple[int, int]) -> None:
    system = build_system(load_instance(BEIJING))
    assert system.units.avail_resample[system.units.ids.index("substation")] == "hour"
    up, avail = sample_units(system.units, *seed_year, system.hours, system.unit_profile)
    i = system.units.kind.index("external_grid")
    assert (float(avail[i].sum()).hex(), hashlib.sha256(avail.tobytes()).hexdigest()) == PINNED[seed_year]


def test_day_holds_24_equal_values_per_day() -> None:
    u = grid_uniforms("day", 24.0, 5, KEY, 2, HOURS)
    days = u.reshape(-1, 24)
    assert (days == days[:, :1]).all()
    assert np.unique(days[:, 0]).size == days.shape[0]          # a fresh draw each day
    assert not np.array_equal(u, grid_uniforms("day", 24.0, 5, KEY, 3, HOURS))   # and each year
    np.testing.assert_array_equal(u, grid_uniforms("day", 24.0, 5, KEY, 2, HOURS))  # deterministic


def _held_values(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(run lengths, value of each run) of a piecewise-constant series."""
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
    return np.diff(np.r_[starts, u.size]), u[starts]


@pytest.mark.parametrize("mean_h", [3.0, 24.0])
def test_event_run_lengths_match_the_mean_holding_time(mean_h: float) -> None:
    """Exponential holding times seen at hour midpoints: a value changes between two hours with probability
    p = 1 - exp(-1/mean), so the observed runs are geometric with mean 1/p (= mean + ~1/2)."""
    runs = np.concatenate([_held_values(grid_uniforms("event", mean_h, 11, KEY, y, HOURS))[0][1:-1]
                           for y in range(6)])
    p = 1.0 - math.exp(-1.0 / mean_h)
    se = math.sqrt((1.0 - p) / p ** 2 / runs.size)
    assert abs(runs.mean() - 1.0 / p) < 4.0 * se, (runs.mean(), 1.0 / p, se)


@pytest.mark.parametrize("mode", ["hour", "day", "event"])
def test_all_modes_have_the_same_uniform_marginal(mode: str) -> None:
    lo, hi = 0.8, 1.0
    held = np.concatenate([_held_values(grid_uniforms(mode, 12.0, 21, KEY, y, HOURS))[1] for y in range(4)])
    assert held.size > 1000
    assert stats.kstest(lo + (hi - lo) * held, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3


def test_held_draws_shift_no_other_draw() -> None:
    system = build_system(load_instance(BEIJING))
    day = build_system(load_instance(BEIJING, [f"{SET}.resample=day"]))
    up0, av0 = sample_units(system.units, 4, 1, system.hours, system.unit_profile)
    up1, av1 = sample_units(day.units, 4, 1, day.hours, day.unit_profile)
    i = system.units.kind.index("external_grid")
    np.testing.assert_array_equal(up0, up1)
    np.testing.assert_array_equal(np.delete(av0, i, 0), np.delete(av1, i, 0))
    assert not np.array_equal(av0[i], av1[i])


def test_resample_from_the_instance_file(tmp_path: Path) -> None:
    data = json.loads(BEIJING.read_text())
    grid = next(u for u in data["units"] if u["type"] == "external_grid")
    grid["availability"].update(resample="event", event_mean_h=6.0)
    path = tmp_path / "beijing_event.json"
    path.write_text(json.dumps(data))
    system = build_system(load_instance(path))
    i = system.units.ids.index("substation")
    assert system.units.avail_resample[i] == "event" and system.units.avail_event_h[i] == 6.0


@pytest.mark.parametrize(("setting", "needles"), [
    ("resample=weekly", ("availability.resample", "'hour', 'day' or 'event'", "weekly")),
    ("event_mean_h=0", ("availability.event_mean_h", "(0, 1e6]", "0")),
    ("event_mean_h=-3", ("availability.event_mean_h", "(0, 1e6]", "-3")),
])
def test_bad_values_exit_2(setting: str, needles: tuple[str, ...]) -> None:
    assert_one_line_error(run_main("evaluate", BEIJING, "--years", "1", "--set", f"{SET}.{setting}"), *needles)


def _evaluate(*extra: str) -> dict[str, Any]:
    res = run_main("evaluate", BEIJING, "--years", "4", "--seed", "3", "--json", *extra, limit_s=120)
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_day_changes_lolf_but_not_eens_on_beijing() -> None:
    """Holding the substation's draw for a day merges the hourly shortfalls around each daily peak into one
    event: LOLF falls well beyond its standard errors, while each hour's shortfall probability (so EENS and
    LOLE) is unchanged in expectation."""
    hour, day = _evaluate(), _evaluate("--set", f"{SET}.resample=day")
    assert day["lolf_per_year"]["mean"] < hour["lolf_per_year"]["mean"] - 4.0 * math.hypot(
        day["lolf_per_year"]["stderr"], hour["lolf_per_year"]["stderr"])
    for key in ("eens_kwh_per_year", "lole_h_per_year"):
        se = math.hypot(day[key]["stderr"], hour[key]["stderr"])
        assert abs(day[key]["mean"] - hour[key]["mean"]) < 4.0 * se, (key, day[key], hour[key])
