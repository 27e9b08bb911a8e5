"""Counter-based random numbers: every uniform is a fixed function of (seed, purpose, component, year, index).

A component's stream is numpy's Philox4x64 keyed by ``SeedSequence(seed, spawn_key=(purpose, component))``.
Year ``y`` owns the fixed slice ``[y * per_year, (y + 1) * per_year)`` of that stream (``per_year`` is a multiple
of 4, so a year starts on a Philox counter block): the uniforms of years ``y0 .. y1`` are one contiguous
draw from counter ``y0 * per_year / 4``, and the same numbers as drawing each year alone. So a result depends
only on (instance, seed), draws are made in bulk over years (and over the components of a block), and no
component's draws depend on which other components exist.

Two-state chronologies take a fixed budget of uniforms per (component, year): one for the initial state, the
rest for exponential durations by inverse CDF. In the rare year whose budget does not reach the end of the
year, the chronology continues from an overflow stream keyed by (seed, purpose, component, year) alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

OVERFLOW = 1 << 20   # purpose offset of the overflow streams
# Every stream purpose by name (gplopt.sampling uses these numbers): a new kind of draw gets a new name here,
# never a hand-picked key at the call site. "bootstrap" draws the resample indices of capacity-value CIs,
# "branch" the branch outage chronologies, "design" the design loop's initial sample and tie-breaks (its value
# is the key that loop used before it was named, so seeded design runs are unchanged).
PURPOSES = {"unit": 0, "wind": 1, "grid": 2, "charger": 3, "session": 4, "branch": 5, "grid_day": 16,
            "grid_event": 17, "bootstrap": 18, "design": 2**31 - 2}
VERSION = 2          # of the sampling scheme: journals of another version are not resumed


@lru_cache(maxsize=1 << 16)
def stream_key(seed: int, purpose: int, component: int) -> tuple[int, int]:
    k = np.random.SeedSequence(seed, spawn_key=(purpose, component)).generate_state(2, np.uint64)
    return int(k[0]), int(k[1])


def uniforms(seed: int, purpose: int, component: int, year0: int, n_years: int, per_year: int,
             take: int | None = None, *, out: np.ndarray | None = None) -> np.ndarray:
    """(n_years, take) uniforms in [0, 1): the first ``take`` (default all) of each year's ``per_year``. With
    ``out`` (one year; a contiguous float array of ``take`` values, default its size), they are written there."""
    if per_year % 4:
        raise ValueError("per_year must be a multiple of 4")
    key = np.array(stream_key(seed, purpose, component), np.uint64)
    gen = np.random.Generator(np.random.Philox(key=key, counter=year0 * (per_year // 4)))
    if out is not None:
        if n_years != 1 or out.size > per_year or (take is not None and take != out.size):
            raise ValueError("out takes one year's first out.size <= per_year uniforms")
        gen.random(out=out)
        return out[None, :]
    take = per_year if take is None else take
    if n_years == 1:
        return gen.random(take)[None, :]
    return gen.random(n_years * per_year).reshape(n_years, per_year)[:, :take]


def purpose(name: str) -> int:
    return PURPOSES[name]


def purpose_rng(seed: int, name: str, component: int | None = 0) -> np.random.Generator:
    """A generator for draws that are not part of a sample year (e.g. bootstrap resamples), keyed by
    (seed, purpose name, component) alone; ``component=None`` keys by (seed, purpose) (the design loop)."""
    key = (PURPOSES[name],) if component is None else (PURPOSES[name], component)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def overflow_rng(seed: int, purpose: int, component: int, year: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(OVERFLOW + purpose, component, year)))


def chronology_budget(mttf: float, mttr: float, hours: int) -> int:
    """Uniforms per (component, year): the initial state plus the mean number of durations in a year plus
    6 standard deviations and 8 (a multiple of 4). Only speed depends on it: a year that needs more draws
    continues from its overflow stream."""
    n = 2.0 * hours / (mttf + mttr)
    return 4 * math.ceil((n + 6.0 * math.sqrt(n) + 9.0) / 4)


def down_intervals(u: np.ndarray, mttf: float, mttr: float, hours: int,
                   rows_rng: Callable[[int], np.random.Generator]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Down hours of independent stationary two-state chronologies, one per row of ``u`` (rows, budget).

    Returns (row, h0, h1): row ``row`` is down in hours ``h0 <= h < h1`` (its midpoint h + 1/2 inside a down
    duration). ``rows_rng(row)`` gives the overflow generator of a row whose budget ends before the year."""
    r_all, s_all, e_all = down_times(u, mttf, mttr, hours, rows_rng)
    h0 = hour_index(s_all, hours)
    h1 = hour_index(e_all, hours)
    keep = h1 > h0
    return r_all[keep], h0[keep], h1[keep]


def hour_index(t: np.ndarray, hours: int) -> np.ndarray:
    """First hour whose midpoint h + 1/2 is at or after time ``t`` (clipped to [0, hours])."""
    return np.clip(np.ceil(t - 0.5), 0, hours).astype(np.int64)


def down_times(u: np.ndarray, mttf: float, mttr: float, hours: int,
               rows_rng: Callable[[int], np.random.Generator]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start, end) in continuous hours of every down duration starting before ``hours`` (the chronologies
    of :func:`down_intervals`, before their discretization to hours)."""
    p_up = mttf / (mttf + mttr)
    up0 = u[:, 0] < p_up
    k = u.shape[1] - 1
    odd = (np.arange(k) % 2 == 1)[None, :]
    first = np.where(up0, mttf, mttr)[:, None]
    second = np.where(up0, mttr, mttf)[:, None]
    ends = np.cumsum(-np.log1p(-u[:, 1:]) * np.where(odd, second, first), axis=1)
    starts = np.empty_like(ends)
    starts[:, 0] = 0.0
    starts[:, 1:] = ends[:, :-1]
    down = odd == up0[:, None]
    r, j = np.nonzero(down & (starts < hours))
    rows, s, e = [r], [starts[r, j]], [ends[r, j]]
    for row in np.flatnonzero(ends[:, -1] < hours):
        ss, ee = _continue(rows_rng(int(row)), float(ends[row, -1]), bool(k % 2 == 1) == bool(up0[row]),
                               mttf, mttr, hours)
        rows.append(np.full(ss.size, row))
        s.append(ss)
        e.append(ee)
    return np.concatenate(rows), np.concatenate(s), np.concatenate(e)


def _continue(rng: np.random.Generator, t: float, down: bool, mttf: float, mttr: float,
              hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Down durations of one chronology from time ``t`` (state ``down`` next) to the end of the year."""
    s: list[float] = []
    e: list[float] = []
    while t < hours:
        d = rng.exponential(mttr if down else mttf)
        if down:
            s.append(t)
            e.append(t + d)
        t += d
        down = not down
    return np.array(s, float), np.array(e, float)


def interval_positions(row: np.ndarray, h0: np.ndarray, h1: np.ndarray, width: int) -> np.ndarray:
    """Flat indices ``row * width + h`` of every hour in the intervals (for dense up/down arrays)."""
    lengths = h1 - h0
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    starts = row * width + h0
    offs = np.cumsum(lengths) - lengths
    return np.repeat(starts - offs, lengths) + np.arange(total)


def chronology_up(u: np.ndarray, mttf: float, mttr: float, hours: int,
                  rows_rng: Callable[[int], np.random.Generator]) -> np.ndarray:
    """(rows, hours) bool up/down of the chronologies of ``down_intervals``."""
    r, h0, h1 = down_intervals(u, mttf, mttr, hours, rows_rng=rows_rng)
    up = np.ones((u.shape[0], hours), bool)
    up.reshape(-1)[interval_positions(r, h0, h1, hours)] = False
    return up


def chronology_up_by_hour(u: np.ndarray, mttf: float, mttr: float, hours: int,
                          rows_rng: Callable[[int], np.random.Generator]) -> np.ndarray:
    """(hours, rows) bool: :func:`chronology_up` transposed, built in that layout (the down hours are set in
    place, so no (rows, hours) array is built and copied)."""
    r, h0, h1 = down_intervals(u, mttf, mttr, hours, rows_rng=rows_rng)
    n = u.shape[0]
    up = np.ones((hours, n), bool)
    hrs = interval_positions(np.zeros_like(h0), h0, h1, 0)
    up.reshape(-1)[hrs * n + np.repeat(r, h1 - h0)] = False
    return up
