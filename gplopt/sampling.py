"""The only module that draws random numbers (through :mod:`gplopt.streams`): one ``History`` per sample year.

Every uniform is a fixed function of (seed, purpose, component, year, index) (counter-based Philox streams,
see :mod:`gplopt.streams` and docs/method.md section 1). A unit's component is a stable hash of its id; chargers
are drawn in fixed blocks of ``CHARGER_BLOCK`` (component = block index), each charger owning a fixed slice of
its block's draws. So a result depends only on (instance, seed), never on worker count or batch size; adding a
unit or a charger shifts no other draw; and a higher incentive grade only moves the participation *threshold*
that each session's single uniform draw is compared with, so participants at a higher grade are a superset.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from gplopt.streams import (
    chronology_budget,
    chronology_up,
    chronology_up_by_hour,
    down_intervals,
    overflow_rng,
    purpose_rng,
    uniforms,
)
from gplopt.system import Fleet, System, Units

UNIT, WIND, GRID, CHARGER, SESSION = 0, 1, 2, 3, 4
GRID_DAY, GRID_EVENT = 16, 17   # held external-grid draws: own purposes, so the hourly GRID stream is untouched
CHARGER_BLOCK = 64
LOT_STRIDE = 1 << 32     # a lot's charger/session components: lot_base(id) + block (blocks < 2**32)


def unit_key(unit_id: str) -> int:
    return zlib.crc32(unit_id.encode("utf-8"))


def lot_base(lot_id: str) -> int:
    """First stream component of a lot's chargers and sessions. The lot ``gpl`` (the 1.0 shorthand's lot)
    keeps component = block as before lots existed, so one-lot numbers are unchanged; any other lot's
    components are keyed by a hash of its id, so adding, removing or reordering lots shifts no other lot's draws."""
    return 0 if lot_id == "gpl" else LOT_STRIDE * (zlib.crc32(lot_id.encode("utf-8")) + 1)


def _overflow(seed: int, purpose: int, component: int, year0: int) -> Callable[[int], np.random.Generator]:
    return lambda row: overflow_rng(seed, purpose, component, year0 + row)


def unit_up(seed: int, purpose: int, key: int, year: int, mttf: float, mttr: float, hours: int) -> np.ndarray:
    """(hours,) up/down chronology of one two-state component in one sample year."""
    k = chronology_budget(mttf, mttr, hours)
    return chronology_up(uniforms(seed, purpose, key, year, 1, k), mttf, mttr, hours,
                         _overflow(seed, purpose, key, year))[0]


def unit_outages(seed: int, key: int, year0: int, n_years: int, mttf: float, mttr: float,
                 hours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Down intervals (year offset, h0, h1) of unit ``key`` in years ``year0 .. year0 + n_years - 1``: the
    same chronologies as :func:`unit_up` year by year, drawn in one bulk call."""
    k = chronology_budget(mttf, mttr, hours)
    return down_intervals(uniforms(seed, UNIT, key, year0, n_years, k), mttf, mttr, hours,
                          _overflow(seed, UNIT, key, year0))


def _per_year(n: int) -> int:
    return 4 * -(-n // 4)


def truncnorm(u: np.ndarray, mean: float, std: float, lo: np.ndarray | float,
              hi: np.ndarray | float) -> np.ndarray:
    """Truncated Gaussian by inverse CDF of the uniforms ``u`` (``lo`` may vary per draw)."""
    a = _cdf_bound(lo, mean, std)
    b = _cdf_bound(hi, mean, std)
    x = mean + std * ndtri(a + u * (b - a))
    return np.clip(x, lo, hi)


def _cdf_bound(bound: np.ndarray | float, mean: float, std: float) -> np.ndarray:
    """``ndtr((bound - mean) / std)``, evaluated once for the draws whose bound is the smallest (e.g. the
    departures of sessions that arrived before the lower departure bound): the same numbers, fewer calls."""
    x = np.asarray(bound, float)
    if x.ndim == 0 or x.size == 0:
        return ndtr((x - mean) / std)  # type: ignore[no-any-return]
    floor = x.min()
    out = np.full(x.shape, ndtr((floor - mean) / std))
    rest = x != floor
    out[rest] = ndtr((x[rest] - mean) / std)
    return out


def wind_power_fraction(speed: np.ndarray, cut_in: float, rated: float, cut_out: float) -> np.ndarray:
    """Standard power curve: 0 below cut-in, linear to 1 at rated, 1 to cut-out, 0 above."""
    f = np.clip((speed - cut_in) / (rated - cut_in), 0.0, 1.0)
    f[(speed < cut_in) | (speed >= cut_out)] = 0.0
    return f


@dataclass(frozen=True)
class Sessions:
    """PEV sessions of one year, shape (days, sessions per day); hours of day, SoC as fractions."""
    arrival: np.ndarray
    departure: np.ndarray
    soc_ini: np.ndarray
    willingness: np.ndarray        # uniform draw; participant if < participation rate
    charger: np.ndarray            # (sessions per day,) charger index of each session column


@dataclass(frozen=True)
class LotDraws:
    charger_up: np.ndarray         # (days, 24, n_chargers) bool
    sessions: Sessions

    def on_days(self, days: np.ndarray) -> LotDraws:
        """The draws of ``days`` only, laid end to end."""
        s = self.sessions
        return LotDraws(self.charger_up[days], Sessions(
            arrival=s.arrival[days], departure=s.departure[days], soc_ini=s.soc_ini[days],
            willingness=s.willingness[days], charger=s.charger))


@dataclass(frozen=True)
class History:
    year: int
    unit_up: np.ndarray            # (U, H) bool
    unit_avail_kw: np.ndarray      # (U, H) available active power (state x capacity x wind/grid factor)
    lots: tuple[LotDraws | None, ...] = ()   # per lot of the system, in order (None: a lot without chargers)

    @property
    def charger_up(self) -> np.ndarray | None:
        """The first lot's charger chronologies (single-lot code and tests)."""
        return self.lots[0].charger_up if self.lots and self.lots[0] is not None else None

    @property
    def sessions(self) -> Sessions | None:
        return self.lots[0].sessions if self.lots and self.lots[0] is not None else None


def grid_uniforms(mode: str, event_mean_h: float, seed: int, key: int, year: int, hours: int) -> np.ndarray:
    """(hours,) uniforms of the external grid's available fraction: a fresh one each hour ('hour', the GRID
    stream as always), one per day held 24 h ('day'), or one per event held for an exponential holding time of
    mean ``event_mean_h`` ('event'; hour h takes the event covering its midpoint h + 1/2, the first event starts
    at hour 0, memoryless so stationary)."""
    if mode == "hour":
        return uniforms(seed, GRID, key, year, 1, _per_year(hours), hours)[0]
    if mode == "day":
        days = -(-hours // 24)
        return np.repeat(uniforms(seed, GRID_DAY, key, year, 1, _per_year(days), days)[0], 24)[:hours]
    k = chronology_budget(event_mean_h, event_mean_h, hours)      # (duration, value) pairs per year
    u = uniforms(seed, GRID_EVENT, key, year, 1, 2 * k)[0].reshape(k, 2)
    ends = np.cumsum(-np.log1p(-u[:, 0]) * event_mean_h)
    values = u[:, 1]
    if ends[-1] < hours:            # rare: the budget ends before the year, continue from the overflow stream
        rng = overflow_rng(seed, GRID_EVENT, key, year)
        while ends[-1] < hours:
            more = rng.random((k, 2))
            ends = np.concatenate([ends, ends[-1] + np.cumsum(-np.log1p(-more[:, 0]) * event_mean_h)])
            values = np.concatenate([values, more[:, 1]])
    return values[np.searchsorted(ends, np.arange(hours) + 0.5, side="right")]


def sample_units(units: Units, seed: int, year: int, hours: int,
                 profiles: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    up = np.ones((units.n, hours), bool)
    avail = np.zeros((units.n, hours))
    for i in range(units.n):
        key = unit_key(units.ids[i])
        up[i] = unit_up(seed, UNIT, key, year, float(units.mttf_h[i]), float(units.mttr_h[i]), hours)
        factor: np.ndarray | float = 1.0
        if units.kind[i] == "wind":
            k, c, cin, rated, cout = units.wind[i]
            u = uniforms(seed, WIND, key, year, 1, _per_year(hours), hours)[0]
            speed = c * (-np.log1p(-u)) ** (1.0 / k)          # Weibull(k, c) by inverse CDF
            factor = wind_power_fraction(speed, cin, rated, cout)
        elif units.kind[i] == "external_grid":
            lo, hi = float(units.avail_low[i]), float(units.avail_high[i])
            factor = lo + (hi - lo) * grid_uniforms(units.avail_resample[i], float(units.avail_event_h[i]),
                                                    seed, key, year, hours) if hi > lo else lo
        if profiles and units.ids[i] in profiles:   # a profiled unit: its series scales available power
            factor = factor * profiles[units.ids[i]][:hours]
        avail[i] = units.capacity_kw[i] * factor * up[i]
    return up, avail


def _charger_blocks(fleet: Fleet, seed: int, year: int, purpose: int, per_charger: int) -> np.ndarray:
    """(n_chargers, per_charger) uniforms: charger k owns slice k % CHARGER_BLOCK of block k // CHARGER_BLOCK.
    Each block's uniforms are drawn straight into its rows (the first ``m * per_charger`` of the block's year,
    as :func:`gplopt.streams.uniforms` would return them), with no copy."""
    n, base = fleet.n_chargers, lot_base(fleet.id)
    out = np.empty((n, per_charger))
    for b in range(0, n, CHARGER_BLOCK):
        m = min(CHARGER_BLOCK, n - b)
        uniforms(seed, purpose, base + b // CHARGER_BLOCK, year, 1, CHARGER_BLOCK * per_charger,
                 out=out[b:b + m].reshape(-1))
    return out


def sample_fleet(fleet: Fleet, seed: int, year: int, hours: int) -> tuple[np.ndarray, Sessions]:
    """Charger chronologies and PEV sessions of one year, drawn in bulk over all chargers."""
    days = hours // 24
    n, spd = fleet.n_chargers, fleet.sessions_per_day
    mttf, mttr = fleet.charger_mttf_h, fleet.charger_mttr_h
    k = chronology_budget(mttf, mttr, days * 24)
    base = lot_base(fleet.id)
    charger_up = chronology_up_by_hour(_charger_blocks(fleet, seed, year, CHARGER, k), mttf, mttr, days * 24,
                                       lambda row: overflow_rng(seed, CHARGER, base + row, year)).reshape(days, 24, n)
    m = days * spd
    u = _charger_blocks(fleet, seed, year, SESSION, 4 * m).reshape(n, 4, m)
    sm, ss, slo, shi = fleet.soc_ini
    am, asd, alo, ahi = fleet.arrival
    dm, dsd, dlo, dhi = fleet.departure
    a = truncnorm(u[:, 0], am, asd, alo, ahi)
    d = truncnorm(u[:, 1], dm, dsd, np.maximum(dlo, a), dhi)

    def lay(x: np.ndarray) -> np.ndarray:   # (n, days * spd) -> (days, n * spd), charger-major columns
        return np.ascontiguousarray(x.reshape(n, days, spd).transpose(1, 0, 2).reshape(days, n * spd))

    sessions = Sessions(arrival=lay(a), departure=lay(d), soc_ini=lay(truncnorm(u[:, 2], sm, ss, slo, shi)),
                        willingness=lay(u[:, 3]), charger=np.repeat(np.arange(n), spd))
    return charger_up, sessions


def sample_year(system: System, seed: int, year: int) -> History:
    """All random inputs of one sample year."""
    up, avail = sample_units(system.units, seed, year, system.hours, system.unit_profile)
    lots = tuple(LotDraws(*sample_fleet(f, seed, year, system.hours)) if f.n_chargers > 0 else None
                 for f in system.lots)
    return History(year=year, unit_up=up, unit_avail_kw=avail, lots=lots)


# ------------------------------------------------------------------------------------------ capacity value
REFERENCE_ID = "ecc_reference"   # the ECC reference unit's id: its chronology is a unit stream keyed by it


def reference_unit_up(seed: int, year: int, mttf: float, mttr: float, hours: int) -> np.ndarray:
    """(hours,) up/down of the ECC reference unit in one sample year: the stream of a unit with id
    ``REFERENCE_ID`` (the same draws it always had), so a probe's capacity scales one fixed chronology."""
    return unit_up(seed, UNIT, unit_key(REFERENCE_ID), year, mttf, mttr, hours)


def bootstrap_indices(seed: int, n_years: int, n_boot: int) -> np.ndarray:
    """(n_boot, n_years) sample-year indices of the capacity-value bootstrap, from the "bootstrap" stream. They
    depend only on (seed, n_years, n_boot), so every point of a study resamples the same years (paired CIs)."""
    return purpose_rng(seed, "bootstrap").integers(0, n_years, size=(n_boot, n_years))
