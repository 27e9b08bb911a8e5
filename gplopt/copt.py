"""The capacity outage probability table (COPT) of independent two-state units, and the exact HL-I indices.

A unit of capacity c_i is down in any given hour with probability q_i = MTTR / (MTTF + MTTR) (the stationary
probability of the chronologies :mod:`gplopt.sampling` draws: stationary start, states at hour midpoints), and
units are independent. The outaged capacity O of a copper plate of such units therefore has a discrete law
that one convolution per unit gives exactly (:func:`outage_table`). An hour with load L is short by
L - (total - O) whenever that is positive, so its expected loss of load and energy not served follow from the
table's upper tail (:func:`exact_indices`), vectorized over the hours with one sorted search.

This is the classical analytic HL-I evaluation (Billinton & Allan, *Reliability Evaluation of Power Systems*,
ch. 2). It gives the exact LOLE and EENS of the systems :mod:`gplopt.hl1` simulates, and the exact mean of the
control variate of :mod:`gplopt.control_variate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gplopt.errors import GploptError

MAX_LEVELS = 1 << 20     # distinct outage levels kept (tens of units of a few sizes need far fewer)
DIGITS = 6               # outage levels are merged when equal to 1e-6 kW


@dataclass(frozen=True)
class Copt:
    """Outage levels (kW, increasing) and their probabilities, with the installed total."""
    levels_kw: np.ndarray
    prob: np.ndarray
    total_kw: float


def outage_table(capacity_kw: np.ndarray, q: np.ndarray) -> Copt:
    """The exact law of the outaged capacity of independent two-state units (capacity, forced outage rate)."""
    cap = np.asarray(capacity_kw, float)
    qs = np.asarray(q, float)
    if cap.shape != qs.shape or cap.ndim != 1:
        raise GploptError(f"outage_table: one forced outage rate per unit, got {cap.shape} and {qs.shape}")
    if ((qs < 0) | (qs > 1)).any() or (cap < 0).any():
        raise GploptError("outage_table: capacities >= 0 and forced outage rates in [0, 1], got "
                          f"{cap.tolist()} and {qs.tolist()}")
    levels: np.ndarray = np.zeros(1)
    prob: np.ndarray = np.ones(1)
    for c, qi in zip(cap, qs, strict=True):
        merged, inv = np.unique(np.round(np.concatenate([levels, levels + c]), DIGITS), return_inverse=True)
        prob = np.bincount(inv, np.concatenate([prob * (1.0 - qi), prob * qi]), minlength=merged.size)
        levels = merged
        if levels.size > MAX_LEVELS:
            raise GploptError(f"outage_table: more than {MAX_LEVELS:,} distinct outage levels; the units' "
                              "capacities are too many and too varied for an exact table")
    return Copt(levels, prob, float(cap.sum()))


def unit_table(capacity_kw: np.ndarray, mttf_h: np.ndarray, mttr_h: np.ndarray) -> Copt:
    """:func:`outage_table` with each unit's stationary forced outage rate MTTR / (MTTF + MTTR)."""
    mttf, mttr = np.asarray(mttf_h, float), np.asarray(mttr_h, float)
    return outage_table(capacity_kw, mttr / (mttf + mttr))


def hourly_indices(table: Copt, load_kw: np.ndarray, tol_kw: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per hour: probability of loss of load and expected ENS (kW), counting a shortfall only when it is
    >= ``tol_kw`` (the engine zeroes smaller ones, ``gplopt.adequacy.TOL_KW``; with 0, any positive one)."""
    load = np.asarray(load_kw, float)
    tail_p = np.concatenate([np.cumsum(table.prob[::-1])[::-1], [0.0]])
    tail_po = np.concatenate([np.cumsum((table.prob * table.levels_kw)[::-1])[::-1], [0.0]])
    # short by load - total + O; counted when O >= total - load + tol (strictly above total - load if tol = 0)
    edge = table.total_kw - load + tol_kw
    idx = np.searchsorted(table.levels_kw, edge, side="left" if tol_kw > 0 else "right")
    p = tail_p[idx]
    return p, tail_po[idx] + (load - table.total_kw) * p


def exact_indices(table: Copt, load_kw: np.ndarray, tol_kw: float = 0.0) -> tuple[float, float]:
    """Exact (LOLE h/yr, EENS kWh/yr) of a copper plate with outage table ``table`` under the hourly load."""
    p, e = hourly_indices(table, load_kw, tol_kw)
    return float(p.sum()), float(e.sum())


def daily_peak(load_kw: np.ndarray) -> np.ndarray:
    """Each hour's load replaced by its day's peak (the classical daily-peak load model); a last partial day
    takes its own peak."""
    load = np.asarray(load_kw, float)
    n = load.size
    days = -(-n // 24)
    padded = np.full(days * 24, -np.inf)
    padded[:n] = load
    return np.repeat(padded.reshape(days, 24).max(axis=1), 24)[:n]
