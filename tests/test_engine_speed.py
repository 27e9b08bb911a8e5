"""Issue 11, second round: faster paths that must give the same numbers as the straightforward ones.

* Charger chronologies built hour-major are the transpose of the unit-major chronologies, bit for bit.
* Truncated Gaussians with a per-draw lower bound equal draw-by-draw evaluation (the CDF of the smallest bound
  is evaluated once).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from gplopt.fleet import EPS, simulate_fleet
from gplopt.instance import load_instance, with_overrides
from gplopt.sampling import Sessions, sample_year, truncnorm
from gplopt.streams import chronology_up, chronology_up_by_hour, overflow_rng, uniforms
from gplopt.system import Fleet, build_system

ROOT = Path(__file__).resolve().parents[1]


def test_hour_major_chronology_is_the_transpose() -> None:
    u = uniforms(5, 3, 0, 7, 1, 64 * 12)[0].reshape(64, 12)   # short budget: overflow streams are used too
    mttf, mttr, hours = 300.0, 20.0, 24 * 30
    rng = lambda row: overflow_rng(5, 3, row, 7)  # noqa: E731
    dense = chronology_up(u, mttf, mttr, hours, rng)
    assert not dense.all() and dense.any()
    assert np.array_equal(chronology_up_by_hour(u, mttf, mttr, hours, rng), dense.T)


def test_truncnorm_with_per_draw_bound_equals_one_by_one() -> None:
    rng = np.random.default_rng(11)
    u = rng.random(2000)
    arrival = truncnorm(rng.random(2000), 8.0, 3.0, 5.0, 17.0)
    lo = np.maximum(11.0, arrival)
    assert (lo == 11.0).any() and (lo > 11.0).any()
    x = truncnorm(u, 16.0, 3.0, lo, 24.0)
    a = np.array([ndtr((v - 16.0) / 3.0) for v in lo])
    b = ndtr((24.0 - 16.0) / 3.0)
    one_by_one = np.clip(16.0 + 3.0 * ndtri(a + u * (b - a)), lo, 24.0)
    assert np.array_equal(x, one_by_one)
    assert (x >= lo).all() and (x <= 24.0).all()


def test_uniforms_written_into_out_are_the_first_of_the_year() -> None:
    """Fourth round: a block's uniforms drawn straight into its rows are the first ``out.size`` of the year's
    slice, as the copying path returns them; anything but one year's prefix is refused."""
    want = uniforms(4, 4, 9, 3, 1, 64 * 40, 10 * 40)[0]
    out = np.full((10, 40), np.nan)
    uniforms(4, 4, 9, 3, 1, 64 * 40, out=out.reshape(-1))
    assert np.array_equal(out.reshape(-1), want)
    for n_years, take in ((2, None), (1, 7)):
        with pytest.raises(ValueError, match="one year"):
            uniforms(4, 4, 9, 3, n_years, 64 * 40, take, out=np.empty(400))


# ---- the GPL's hour loop as it was before the fourth round (commit f81f46c), kept as the straightforward reference
def _ref_overlap(t0: np.ndarray, t1: np.ndarray, h: int) -> np.ndarray:
    x = np.minimum(t1, h + 1.0)
    x -= np.maximum(t0, h)
    return np.clip(x, 0.0, 1.0, out=x)

def _reference_days(fleet: Fleet, sessions: Sessions, charger_up: np.ndarray, margin: np.ndarray, v2g: bool,
                   out: dict[str, np.ndarray]) -> float:
    """The 24 hours of a block of days (rows of ``sessions``, ``charger_up`` and ``margin``), written into the
    block's (days, 24) views ``out``; returns the lowest SoC after a V2G hour (inf if none)."""
    e_kwh, eta = fleet.battery_kwh, fleet.eta
    target = fleet.soc_threshold
    soc = sessions.soc_ini.copy()
    reached = soc >= target - EPS
    v2g_ok = sessions.willingness < fleet.rate_v2g
    if not (v2g and fleet.v2g_dispatched):
        v2g_ok = np.zeros_like(v2g_ok)
    lr_ok, pre = sessions.willingness < fleet.rate_lr, v2g_ok & fleet.v2g_while_charging
    min_soc = np.inf
    identity = np.array_equal(sessions.charger, np.arange(sessions.charger.size))
    arr, dep = sessions.arrival.reshape(-1), sessions.departure.reshape(-1)
    soc_f = soc.reshape(-1)                      # a view: updates reach ``soc``
    want = np.zeros_like(soc)
    for h in range(24):
        here = (arr < h + 1.0) & (dep > h)      # present in the hour (overlap > 0)
        if not here.any():
            out["need"][:, h] = -margin[:, h]
            continue
        up_h = charger_up[:, h, :] if identity else charger_up[:, h, sessions.charger]
        # only PEVs present and below the threshold wish to charge; every other wish is exactly 0
        c = np.flatnonzero(here & (soc_f < target))
        want.fill(0.0)
        want_f = want.reshape(-1)
        working_c = _ref_overlap(arr[c], dep[c], h) * up_h.reshape(-1)[c]
        want_f[c] = np.minimum(fleet.charge_kw * working_c, np.maximum(target - soc_f[c], 0.0) * e_kwh / eta)
        want_sum = want.sum(axis=1)
        need = want_sum - margin[:, h]
        rows = np.flatnonzero(need > 0)
        soc_rows = soc[rows]
        soc_f[c] = soc_f[c] + (want_f[c] * eta) / e_kwh    # no discharge: charging is the wish
        out["ch"][:, h] = want_sum
        if rows.size:
            working = _ref_overlap(sessions.arrival[rows], sessions.departure[rows], h) * up_h[rows]
            t = _RefTight(want[rows], working, soc_rows, reached[rows] & v2g_ok[rows], lr_ok[rows], need[rows],
                          pre[rows])
            charge, dis, give, cut_def, cut_lr, need[rows] = _reference_dispatch(fleet, t)
            soc[rows] = soc_rows + (charge * eta - dis / eta) / e_kwh
            reached[rows] |= soc[rows] >= target - EPS
            out["ch"][rows, h] = charge.sum(axis=1)
            out["v2g"][rows, h], out["lr"][rows, h], out["def"][rows, h] = give, cut_lr, cut_def
            if give.any():
                min_soc = min(min_soc, float(soc[rows][dis > 0].min()))
        reached.reshape(-1)[c] |= soc_f[c] >= target - EPS
        out["need"][:, h] = need
    return min_soc


@dataclass(frozen=True)
class _RefTight:
    want: np.ndarray
    working: np.ndarray
    soc: np.ndarray
    v2g: np.ndarray                # reached the threshold and willing (and V2G dispatched)
    lr_ok: np.ndarray
    need: np.ndarray
    pre: np.ndarray                # may discharge before the threshold: willing and dispatched under
                                   # v2g_eligibility 'while_charging', all False under 'after_target'


def _reference_dispatch(fleet: Fleet, t: _RefTight) -> tuple[np.ndarray, ...]:
    """Steps 2-3 on the tight rows: (charge, discharge per PEV, V2G, load reduction, deferred, need left)."""
    floor = fleet.v2g_min_soc
    deferrable = t.want * t.v2g                      # recharge after V2G
    reducible = t.want * (~t.v2g & (t.lr_ok | t.pre))     # willing owners' charging
    need = t.need
    cut_def = np.clip(need, 0.0, deferrable.sum(axis=1))
    need = need - cut_def
    cut_lr = np.clip(need, 0.0, reducible.sum(axis=1))
    need = need - cut_lr
    charge = (t.want - deferrable * _reference_share(cut_def, deferrable)
              - reducible * _reference_share(cut_lr, reducible))
    can = t.working * (t.v2g | t.pre) * (t.soc > floor + EPS)
    avail = np.minimum(fleet.discharge_kw * can, np.maximum(t.soc - floor, 0.0) * fleet.battery_kwh * fleet.eta)
    give = np.clip(need, 0.0, avail.sum(axis=1))
    need = need - give
    return charge, avail * _reference_share(give, avail), give, cut_def, cut_lr, need


def _reference_share(amount: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Per-element fraction taken when ``amount`` (per day) is shared in proportion to ``parts``."""
    total = parts.sum(axis=1)
    frac = np.divide(amount, total, out=np.zeros_like(amount), where=total > EPS)
    return frac[:, None]


def _reference_fleet(fleet: Fleet, sessions: Sessions, up: np.ndarray, margin_kw: np.ndarray, v2g: bool) -> list:
    days = sessions.arrival.shape[0]
    out = {k: np.zeros((days, 24)) for k in ("ch", "v2g", "lr", "def", "need")}
    low = _reference_days(fleet, sessions, up, margin_kw[: days * 24].reshape(days, 24), v2g, out)
    return [out[k].reshape(-1) for k in ("ch", "v2g", "lr", "def", "need")] + [low]


@pytest.mark.parametrize("sets", [["gpl.sessions_per_charger_per_day=2"],
                                  ["gpl.v2g_eligibility=while_charging", "load.peak_kw=16000",
                                   "gpl.soc_threshold=0.8"],
                                  ["load.peak_kw=15000", "gpl.n_chargers=200"]])
def test_fleet_hour_loop_equals_the_straightforward_one(sets: list[str]) -> None:
    """Fourth round: fewer passes in the GPL's hour (one SoC gather, int8 presence, skipped zero terms, no
    np.clip) and blocks of 2^17 sessions give the straightforward loop's numbers byte for byte, with and
    without V2G, on variants with many tight hours."""
    system = build_system(with_overrides(load_instance(ROOT / "instances" / "beijing.json"), sets),
                          base_dir=ROOT / "instances")
    hist = sample_year(system, 13, 2)
    d = hist.lots[0]
    assert d is not None
    margin = hist.unit_avail_kw.sum(axis=0) - system.load_kw
    tight = 0
    for v2g in (True, False):
        fy = simulate_fleet(system.lots[0], d.sessions, d.charger_up, margin, v2g=v2g)
        ref = _reference_fleet(system.lots[0], d.sessions, d.charger_up, margin, v2g)
        days = d.sessions.arrival.shape[0]
        got = [fy.charging_kw, fy.v2g_kw, fy.load_reduction_kw, fy.deferred_kw, fy.need_kw]
        for a, b in zip(got, ref[:5], strict=True):
            assert a[: days * 24].tobytes() == b.tobytes()
        assert fy.min_soc_seen == ref[5] or (np.isnan(fy.min_soc_seen) and not np.isfinite(ref[5]))
        tight += int((ref[1] > 0).sum())
    assert tight > 50          # V2G acted in many hours: the tight path was exercised
