"""The engine's fast paths give the reference answers: bulk draws equal year-by-year draws, the event-based HL-I
path equals the dense per-hour path, ELCC and EFC spread over workers with identical numbers.

Seeds are fixed, so every test is deterministic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt import hl1
from gplopt.adequacy import evaluate_year
from gplopt.capacity_value import CapacityValueSpec, capacity_value
from gplopt.instance import instance_from_data, load_instance
from gplopt.reliability import Execution, SequentialMonteCarlo, assess
from gplopt.sampling import CHARGER_BLOCK, UNIT, sample_year, unit_key, unit_outages, unit_up
from gplopt.streams import chronology_budget, uniforms
from gplopt.system import System, build_system

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rbts() -> System:
    return build_system(load_instance(ROOT / "instances" / "rbts.json"), base_dir=ROOT / "instances")


def tiny(units: list[tuple[str, float, float, float]], load_kw: float, hours: int = 8760) -> System:
    data: dict[str, Any] = {
        "name": "tiny", "network": {"base_kv": 10.0, "buses": [{"id": 1, "p_kw": load_kw}], "branches": []},
        "units": [{"id": u, "type": "conventional", "bus": 1, "capacity_kw": c, "mttf_h": f, "mttr_h": r}
                  for u, c, f, r in units],
        "load": {"shape": None, "series_kw": [load_kw], "hours": hours}, "gpl": None, "simulation": {"seed": 1},
    }
    return build_system(instance_from_data(data))


def dense(row: np.ndarray, h0: np.ndarray, h1: np.ndarray, k: int, hours: int) -> np.ndarray:
    up = np.ones(hours, bool)
    for a, b in zip(h0[row == k], h1[row == k], strict=True):
        up[a:b] = False
    return up


def test_bulk_years_equal_year_by_year_draws() -> None:
    """A unit's chronologies of years 10..59 drawn in one call are the ones drawn one year at a time, also
    when a year's budget of uniforms runs out (MTTF + MTTR = 4 h: hundreds of overflow years)."""
    for mttf, mttr in ((90.0, 10.0), (3.0, 1.0)):
        row, h0, h1 = unit_outages(7, 123, 10, 50, mttf, mttr, 8760)
        for k in (0, 17, 49):
            np.testing.assert_array_equal(dense(row, h0, h1, k, 8760),
                                          unit_up(7, UNIT, 123, 10 + k, mttf, mttr, 8760))
    # the layout: year y's uniforms are the slice [y K, (y + 1) K) of one stream
    k = chronology_budget(90.0, 10.0, 8760)
    whole = uniforms(3, UNIT, 5, 0, 6, k)
    np.testing.assert_array_equal(whole[4], uniforms(3, UNIT, 5, 4, 1, k)[0])


def test_overflow_chronology_keeps_the_forced_outage_rate() -> None:
    """Short cycles exhaust the per-year budget in most years; the continued chronology keeps q per hour."""
    mttf, mttr = 3.0, 1.0
    row, h0, h1 = unit_outages(11, 9, 0, 40, mttf, mttr, 8760)
    down = (h1 - h0).sum() / (40 * 8760)
    assert abs(down - 0.25) <= 3 * np.sqrt(0.25 * 0.75 / (40 * 8760) * 8)   # ~8 h of correlation


def test_hl1_events_equal_the_dense_path(rbts: System) -> None:
    """Every year with loss of load, and every 7th year, evaluated densely from ``sample_year``."""
    fast = hl1.hl1_years(rbts, 5, list(range(400)))
    checked = 0
    for r in fast:
        if r.lol_hours or r.year % 7 == 0:
            d = evaluate_year(rbts, sample_year(rbts, 5, r.year), None)
            assert (d.lol_hours, d.lol_events) == (r.lol_hours, r.lol_events), r.year
            assert d.ens_kwh == pytest.approx(r.ens_kwh, rel=1e-12, abs=1e-9)
            assert d.peak_shortfall_kw == pytest.approx(r.peak_shortfall_kw, rel=1e-12, abs=1e-9)
            checked += r.lol_hours > 0
    assert checked >= 20


def test_hl1_any_batch_and_order(rbts: System) -> None:
    ref = hl1.hl1_years(rbts, 2, list(range(60)))
    for years in ([5, 6, 7, 40, 41], [41, 7, 5, 40, 6], list(range(30, 60))):
        got = hl1.hl1_years(rbts, 2, years)
        assert [(r.year, r.ens_kwh, r.lol_events) for r in got] == \
            [(ref[y].year, ref[y].ens_kwh, ref[y].lol_events) for y in years]


def test_hl1_eligibility(rbts: System) -> None:
    assert hl1.eligible(rbts)
    beijing = build_system(load_instance(ROOT / "instances" / "beijing.json"), base_dir=ROOT / "instances")
    assert not hl1.eligible(beijing)


def test_adding_a_unit_shifts_no_other_chronology() -> None:
    a = sample_year(tiny([("a", 100, 45, 5)], 60), 4, 2)
    b = sample_year(tiny([("z", 50, 300, 20), ("a", 100, 45, 5)], 60), 4, 2)
    np.testing.assert_array_equal(a.unit_up[0], b.unit_up[1])
    np.testing.assert_array_equal(a.unit_up[0], unit_up(4, UNIT, unit_key("a"), 2, 45.0, 5.0, 8760))


def test_charger_blocks_shift_no_draw() -> None:
    """Chargers beyond a block boundary: the first 70 chargers of a 140-charger lot keep their draws."""
    inst = load_instance(ROOT / "instances" / "beijing.json")
    from gplopt.instance import with_overrides

    small = build_system(with_overrides(inst, {"gpl.n_chargers": CHARGER_BLOCK + 6}), base_dir=ROOT / "instances")
    big = build_system(with_overrides(inst, {"gpl.n_chargers": 2 * CHARGER_BLOCK + 12}), base_dir=ROOT / "instances")
    a, b = sample_year(small, 9, 1), sample_year(big, 9, 1)
    assert a.sessions is not None and b.sessions is not None and a.charger_up is not None
    assert b.charger_up is not None
    n = CHARGER_BLOCK + 6
    np.testing.assert_array_equal(a.charger_up, b.charger_up[:, :, :n])
    np.testing.assert_array_equal(a.sessions.arrival, b.sessions.arrival[:, :n])
    np.testing.assert_array_equal(a.sessions.willingness, b.sessions.willingness[:, :n])
    assert not np.array_equal(b.sessions.arrival[:, :6], b.sessions.arrival[:, n:n + 6])


def test_assess_uses_the_event_path_with_identical_numbers_any_batch(rbts: System) -> None:
    mc = SequentialMonteCarlo(years=300, seed=8)
    ref = assess(rbts, mc, execution=Execution(batch_years=300)).to_dict()
    for kw in ({"batch_years": 7}, {"batch_years": 64}):   # workers: test_stop_year_is_batch_and_worker_independent
        got = assess(rbts, mc, execution=Execution(**kw)).to_dict()
        got.pop("seconds")
        assert got == {k: v for k, v in ref.items() if k != "seconds"}, kw


def test_elcc_identical_for_any_workers() -> None:
    """ELCC spreads its (probe, year) tasks over workers (ECC: tests/test_hardening.py)."""
    system = tiny([("a", 100, 450, 50), ("b", 100, 450, 50), ("c", 60, 900, 100)], 150.0, hours=8736)
    spec = CapacityValueSpec.from_system(system, metric="elcc", resource="c", capacity_max_kw=200.0, n_boot=50)
    mc = SequentialMonteCarlo(years=6, seed=3)
    one = capacity_value(system, mc, spec)
    two = capacity_value(system, mc, spec, execution=Execution(workers=2))
    assert one.value_kw > 0
    d1, d2 = one.to_dict(), two.to_dict()
    d1.pop("seconds"), d2.pop("seconds")
    assert d1 == d2


def test_default_workers_one_on_the_hl1_event_path(rbts: System) -> None:
    """The CLI's default worker count: 1 where a year costs less than sending it between processes (the
    copper-plate event path), the number of cores elsewhere; an explicit --workers is always honoured."""
    import os

    from gplopt.cli.common import n_workers

    beijing = build_system(load_instance(ROOT / "instances" / "beijing.json"), base_dir=ROOT / "instances")
    assert n_workers(None, rbts) == 1
    assert n_workers(None, beijing) == (os.cpu_count() or 1)
    assert n_workers(None) == (os.cpu_count() or 1)
    assert n_workers(2, rbts) == 2
