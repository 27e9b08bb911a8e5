"""Capacity value's year evaluations with branch outages (docs/distribution.md, "Capacity value").

When :func:`gplopt.distribution.active` holds, every year a capacity-value metric evaluates (the system without
the resource, with it, at every probe) goes through the distribution overlay, so a lot's (or a unit's) value
includes what it does in the islands branch outages cut off. The paired short-day re-evaluation stays exact:
the system without the resource is evaluated over the whole year; the days re-evaluated with the resource and at
every probe are its short days, every day with ENS and every day with a branch down. On any other day no branch
is down (the overlay changes nothing) and the intact network shed nothing without the resource, which the
resource or the reference unit (both only add supply when short) cannot change. A restricted year keeps the
outages' hour segments of the full year, moved onto the kept days' hour axis (every hour of a segment lies on a
kept day), and islands are re-simulated per day, so each kept day's numbers are those of the full year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gplopt import distribution
from gplopt.adequacy import YearResult, day_hours, evaluate_year
from gplopt.distribution import Segments
from gplopt.sampling import History
from gplopt.system import System

if TYPE_CHECKING:
    from gplopt.network.opf import SheddingOPF


def outage_days(segs: Segments) -> np.ndarray:
    """Days with a branch down in some hour."""
    if not segs:
        return np.zeros(0, int)
    return np.unique(np.concatenate([np.arange(h0, h1) for h0, h1, _ in segs]) // 24)


def on_days(segs: Segments, days: np.ndarray) -> Segments:
    """``segs`` on the hour axis of ``days`` laid end to end (every segment's hours lie on those days)."""
    idx = day_hours(days)
    out = []
    for h0, h1, cfg in segs:
        a, b = np.searchsorted(idx, [h0, h1 - 1])
        assert idx[a] == h0 and idx[b] == h1 - 1 and b - a == h1 - 1 - h0, "a segment outside the kept days"
        out.append((int(a), int(b) + 1, cfg))
    return out


def short_days(r: YearResult, segs: Segments) -> np.ndarray:
    """The days to re-evaluate with the resource and at every probe (module text)."""
    ens_days = np.flatnonzero(r.ens_kw > 0) // 24
    return np.union1d(np.union1d(r.short_days, ens_days), outage_days(segs)).astype(int)


def evaluate(system: System, hist: History, opf: SheddingOPF | None, *, v2g: bool, use_certificate: bool,
             segs: Segments | None = None, full: bool = False,
             known_normal: tuple[np.ndarray, np.ndarray] | None = None,
             known_result: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> YearResult:
    """The intact network's year (``segs`` None; ``known_*`` as :func:`gplopt.adequacy.evaluate_year`) or, with
    branch outages, the overlay of ``segs``: ``full`` for a whole year of ``system`` (as ``assess`` evaluates it),
    else a restriction or variant of one (hour by hour)."""
    if segs is None:
        return evaluate_year(system, hist, opf, v2g=v2g, use_certificate=use_certificate,
                             known_normal=known_normal, known_result=known_result)
    return distribution.evaluate_with_segments(system, hist, segs, opf, v2g=v2g, use_certificate=use_certificate,
                                               dense=not full)


def segments_of(system: System, seed: int, year: int) -> Segments | None:
    """Year ``year``'s branch-outage segments when branches fail, else None (customer counts alone change no
    ENS: the intact network's evaluation, with its short cuts, is kept)."""
    if distribution.active(system) and distribution.branch_model(system).n > 0:
        return distribution.year_segments(system, seed, year)
    return None
