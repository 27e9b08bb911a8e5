"""The IEEE RTS-79 generating system at HL-I (instances/ieee_rts79.json, 32 units): a second published reference
beside the RBTS, with ten times its loss of load and three times its units.

* The instance's exact capacity outage table gives the published indices (IEEE RTS-79 / RTS-96 reports, Billinton
  & Allan): LOLE 9.3942 h/yr and EENS 1,176 MWh/yr on the hourly load, 1.3689 d/yr on the daily peaks. This
  checks the transcription of the units and the load model before the Monte Carlo is tested against it.
* Sequential Monte Carlo within 3 standard errors of those numbers.
* The event-based HL-I path (with its per-segment range maximum of the load) gives the dense per-hour path's
  numbers on RTS-79 years, and the range maximum is exact against brute force.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gplopt import hl1
from gplopt.adequacy import evaluate_year
from gplopt.copt import daily_peak, exact_indices, unit_table
from gplopt.instance import load_instance
from gplopt.reliability import Execution, SequentialMonteCarlo, assess
from gplopt.sampling import sample_year
from gplopt.system import System, build_system

ROOT = Path(__file__).resolve().parent.parent
LOLE, EENS_KWH, LOLE_DAYS = 9.3942, 1_176_000.0, 1.3689     # published, to their printed digits


@pytest.fixture(scope="module")
def rts() -> System:
    return build_system(load_instance(ROOT / "instances" / "ieee_rts79.json"), base_dir=ROOT / "instances")


def test_exact_table_gives_the_published_indices(rts: System) -> None:
    assert rts.units.n == 32 and rts.units.capacity_kw.sum() == 3_405_000.0 and rts.hours == 8736
    table = unit_table(rts.units.capacity_kw, rts.units.mttf_h, rts.units.mttr_h)
    lole, eens = exact_indices(table, rts.load_kw)
    assert round(lole, 4) == LOLE
    assert round(eens, -3) == EENS_KWH
    days = exact_indices(table, daily_peak(rts.load_kw))[0] / 24      # the hourly series of each day's peak
    assert round(days, 4) == LOLE_DAYS


def test_monte_carlo_within_three_standard_errors(rts: System) -> None:
    table = unit_table(rts.units.capacity_kw, rts.units.mttf_h, rts.units.mttr_h)
    lole, eens = exact_indices(table, rts.load_kw)
    res = assess(rts, SequentialMonteCarlo(years=3000, seed=2021), execution=Execution(batch_years=500))
    for est, exact in ((res.lole_h_per_year, lole), (res.eens_kwh_per_year, eens)):
        assert abs(est.mean - exact) <= 3 * est.stderr, (est, exact)
        assert est.stderr < 0.05 * exact          # the test can fail: 3 s.e. is a few per cent


def test_event_path_equals_the_dense_path(rts: System) -> None:
    fast = hl1.hl1_years(rts, 11, list(range(40)))
    short = 0
    for r in fast:
        d = evaluate_year(rts, sample_year(rts, 11, r.year), None)
        assert (d.lol_hours, d.lol_events) == (r.lol_hours, r.lol_events), r.year
        assert d.ens_kwh == pytest.approx(r.ens_kwh, rel=1e-12, abs=1e-6)
        assert max(d.peak_shortfall_kw, 0.0) == pytest.approx(r.peak_shortfall_kw, rel=1e-12, abs=1e-6)
        short += r.lol_hours > 0
    assert short >= 20


def test_segment_max_is_the_brute_force_maximum() -> None:
    rng = np.random.default_rng(1)
    load = rng.random(8736) * 100
    start, length = rng.integers(0, 10**6, 5000), rng.integers(1, 20000, 5000)
    length[:60] = 2 ** rng.integers(0, 14, 60)          # powers of two: the sparse table's exact levels
    want = [load[np.arange(a, a + min(n, 8736)) % 8736].max() for a, n in zip(start, length, strict=True)]
    assert np.array_equal(hl1.segment_max(load, start, length), want)


@pytest.mark.parametrize("top", [10**6, 2**61])
def test_stable_order_is_argsort(top: int) -> None:
    """Packed (time, index) keys when they fit in an int64, argsort when they do not: the same order."""
    rng = np.random.default_rng(3)
    t = np.concatenate([np.sort(rng.integers(0, top, 700)) for _ in range(9)] + [np.array([top - 1, 0])])
    t[5:40] = t[5]                                  # ties keep their index order
    order, sorted_t = hl1.stable_order(t)
    assert np.array_equal(order, np.argsort(t, kind="stable")) and np.array_equal(sorted_t, np.sort(t))
