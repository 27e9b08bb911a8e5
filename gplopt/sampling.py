"""The only module that draws random numbers: one ``History`` per sample year.

Every stream is ``SeedSequence(seed, spawn_key=(year, purpose, key))``: a unit's stream is keyed by a stable
hash of its id, a charger's by its index, and a charger's PEV sessions by the same index. So a result depends
only on (instance, seed), never on worker count or batch size; adding a charger adds streams without shifting
any other draw; and a higher incentive grade only moves the participation *threshold* that each session's
single uniform draw is compared with, so participants at a higher grade are a superset.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from gplopt.system import Fleet, System, Units

UNIT, WIND, GRID, CHARGER, SESSION = 0, 1, 2, 3, 4


def stream(seed: int, year: int, purpose: int, key: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(year, purpose, key)))


def unit_key(unit_id: str) -> int:
    return zlib.crc32(unit_id.encode("utf-8"))


def two_state_hourly(rng: np.random.Generator, mttf: float, mttr: float, hours: int) -> np.ndarray:
    """Up (True) / down chronology sampled at each hour's midpoint, from exponential up and down durations,
    starting in the stationary state (so every hour has the exact forced outage rate)."""
    up = np.ones(hours, bool)
    p_up = mttf / (mttf + mttr)
    state_up = rng.random() < p_up
    t = 0.0
    n_guess = int(2 * hours / (mttf + mttr)) + 8
    while t < hours:
        # draw alternating durations in blocks; the first duration of either state is exponential
        # (memoryless residual), so the start is stationary.
        means = np.empty(n_guess)
        means[0::2] = mttf if state_up else mttr
        means[1::2] = mttr if state_up else mttf
        d = rng.exponential(means)
        ends = t + np.cumsum(d)
        starts = np.concatenate(([t], ends[:-1]))
        down = slice(1, None, 2) if state_up else slice(0, None, 2)
        for s, e in zip(starts[down], ends[down], strict=True):
            if s >= hours:
                break
            lo, hi = int(np.ceil(s - 0.5)), int(np.floor(e - 0.5))
            if hi >= lo:
                up[max(lo, 0): min(hi, hours - 1) + 1] = False
        t = float(ends[-1])
        if n_guess % 2 == 1:
            state_up = not state_up
    return up


def truncnorm(rng: np.random.Generator, mean: float, std: float, lo: np.ndarray | float,
              hi: np.ndarray | float, size: int) -> np.ndarray:
    """Truncated Gaussian by inverse CDF (one uniform per draw; ``lo`` may vary per draw)."""
    a = ndtr((np.asarray(lo, float) - mean) / std)
    b = ndtr((np.asarray(hi, float) - mean) / std)
    u = rng.random(size)
    x = mean + std * ndtri(a + u * (b - a))
    return np.clip(x, lo, hi)


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
class History:
    year: int
    unit_up: np.ndarray            # (U, H) bool
    unit_avail_kw: np.ndarray      # (U, H) available active power (state x capacity x wind/grid factor)
    charger_up: np.ndarray | None  # (days, 24, n_chargers) bool
    sessions: Sessions | None


def sample_units(units: Units, seed: int, year: int, hours: int,
                 profiles: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    up = np.ones((units.n, hours), bool)
    avail = np.zeros((units.n, hours))
    for i in range(units.n):
        key = unit_key(units.ids[i])
        up[i] = two_state_hourly(stream(seed, year, UNIT, key), float(units.mttf_h[i]),
                                 float(units.mttr_h[i]), hours)
        factor: np.ndarray | float = 1.0
        if units.kind[i] == "wind":
            k, c, cin, rated, cout = units.wind[i]
            speed = c * stream(seed, year, WIND, key).weibull(k, hours)
            factor = wind_power_fraction(speed, cin, rated, cout)
        elif units.kind[i] == "external_grid":
            lo, hi = float(units.avail_low[i]), float(units.avail_high[i])
            factor = stream(seed, year, GRID, key).uniform(lo, hi, hours) if hi > lo else lo
        if profiles and units.ids[i] in profiles:   # a profiled unit: its series scales available power
            factor = factor * profiles[units.ids[i]][:hours]
        avail[i] = units.capacity_kw[i] * factor * up[i]
    return up, avail


def sample_fleet(fleet: Fleet, seed: int, year: int, hours: int) -> tuple[np.ndarray, Sessions]:
    days = hours // 24
    n, spd = fleet.n_chargers, fleet.sessions_per_day
    charger_up = np.ones((days, 24, n), bool)
    arr = np.empty((days, n * spd))
    dep = np.empty((days, n * spd))
    soc = np.empty((days, n * spd))
    will = np.empty((days, n * spd))
    sm, ss, slo, shi = fleet.soc_ini
    am, asd, alo, ahi = fleet.arrival
    dm, dsd, dlo, dhi = fleet.departure
    for k in range(n):
        up = two_state_hourly(stream(seed, year, CHARGER, k), fleet.charger_mttf_h, fleet.charger_mttr_h,
                              days * 24)
        charger_up[:, :, k] = up.reshape(days, 24)
        rng = stream(seed, year, SESSION, k)
        m = days * spd
        cols = slice(k * spd, (k + 1) * spd)
        a = truncnorm(rng, am, asd, alo, ahi, m)
        d = truncnorm(rng, dm, dsd, np.maximum(dlo, a), dhi, m)
        arr[:, cols] = a.reshape(days, spd)
        dep[:, cols] = d.reshape(days, spd)
        soc[:, cols] = truncnorm(rng, sm, ss, slo, shi, m).reshape(days, spd)
        will[:, cols] = rng.random(m).reshape(days, spd)
    charger = np.repeat(np.arange(n), spd)
    return charger_up, Sessions(arrival=arr, departure=dep, soc_ini=soc, willingness=will, charger=charger)


def sample_year(system: System, seed: int, year: int) -> History:
    """All random inputs of one sample year."""
    up, avail = sample_units(system.units, seed, year, system.hours, system.unit_profile)
    charger_up, sessions = (None, None)
    if system.fleet is not None and system.fleet.n_chargers > 0:
        charger_up, sessions = sample_fleet(system.fleet, seed, year, system.hours)
    return History(year=year, unit_up=up, unit_avail_kw=avail, charger_up=charger_up, sessions=sessions)
