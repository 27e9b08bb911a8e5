"""The GPL simulation in blocks of days (gplopt.fleet.BLOCK_SESSIONS) gives the same numbers, bit for bit, for
any block size: days are independent and every operation acts on one day's row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gplopt import fleet as fleet_mod
from gplopt.fleet import FleetYear, simulate_fleet
from gplopt.instance import load_instance, with_overrides
from gplopt.sampling import sample_fleet
from gplopt.system import build_system

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("charging_kw", "v2g_kw", "load_reduction_kw", "deferred_kw", "need_kw")


@pytest.mark.parametrize("overrides", [{"gpl.n_chargers": 90}, {"gpl.n_chargers": 70,
                                                                 "gpl.v2g_eligibility": "while_charging"}])
def test_blocks_of_days_are_bit_identical(monkeypatch: pytest.MonkeyPatch, overrides: dict[str, object]) -> None:
    s = build_system(with_overrides(load_instance(ROOT / "instances" / "beijing.json"), overrides),
                     base_dir=ROOT / "instances")
    assert s.fleet is not None
    cup, sess = sample_fleet(s.fleet, 3, 1, s.hours)

    def runs(block: int) -> list[FleetYear]:
        monkeypatch.setattr(fleet_mod, "BLOCK_SESSIONS", block)
        # a tight margin too: deficits on many days, so curtailment and V2G run in most blocks
        return [simulate_fleet(s.fleet, sess, cup, np.full(s.hours, level) - s.load_kw, v2g=v2g)
                for level, v2g in ((1e4, True), (8e3, True), (8e3, False))]

    whole = runs(1 << 30)                                    # the year as one block
    assert sum(float(r.v2g_kw.sum()) for r in whole) > 0 and sum(float(r.load_reduction_kw.sum()) for r in whole) > 0
    for block in (1, 90 * 7, 90 * 50 + 13):                  # one day per block, a week, an uneven split
        for a, b in zip(whole, runs(block), strict=True):
            for f in FIELDS:
                assert getattr(a, f).tobytes() == getattr(b, f).tobytes(), (block, f)
            assert a.min_soc_seen == b.min_soc_seen or (np.isnan(a.min_soc_seen) and np.isnan(b.min_soc_seen))
