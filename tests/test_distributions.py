"""Distribution tests of gplopt.sampling against the laws the instance states (GPL paper eqs. 4-2...4-4 and the
external grid's hourly availability draw).

One sample year of the Beijing lot (300 chargers x 365 days = 109,500 sessions) and 8,760 grid hours. Each law
is checked by a Kolmogorov-Smirnov test against scipy.stats' truncated normal / uniform with the instance's
parameters; the departure, drawn given the arrival (truncated below at max(min, arrival)), is checked through
its conditional probability integral transform, which is U(0, 1) exactly when the conditional law is right.
Each test also shows the KS test has the power to see a small error (a mean shifted by 0.05 s.d., or a
uniform on [0.8, 0.994]): a test that could not fail would prove nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from gplopt.instance import load_instance
from gplopt.sampling import Sessions, sample_fleet, sample_units
from gplopt.system import Fleet, System, build_system

SEED, YEAR = 2021, 3
ALPHA = 1e-3          # fixed seed: deterministic; a p-value this small would mean the law is wrong


@pytest.fixture(scope="module")
def system(beijing_path: Path) -> System:
    return build_system(load_instance(beijing_path))


@pytest.fixture(scope="module")
def fleet_sessions(system: System) -> tuple[Fleet, Sessions]:
    fleet = system.fleet
    assert fleet is not None
    return fleet, sample_fleet(fleet, SEED, YEAR, system.hours)[1]


def truncnorm_law(params: tuple[float, float, float, float], shift_sd: float = 0.0) -> stats.rv_continuous:
    mean, sd, lo, hi = params
    mean += shift_sd * sd
    return stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)


@pytest.mark.parametrize("field", ["arrival", "soc_ini"])
def test_arrival_and_initial_soc_follow_their_truncated_gaussians(
        fleet_sessions: tuple[Fleet, Sessions], field: str) -> None:
    fleet, s = fleet_sessions
    params = getattr(fleet, field)
    x = getattr(s, field).ravel()
    assert x.size == fleet.n_chargers * 365 * fleet.sessions_per_day
    assert params[2] <= x.min() and x.max() <= params[3]
    assert stats.kstest(x, truncnorm_law(params).cdf).pvalue > ALPHA
    assert stats.kstest(x, truncnorm_law(params, 0.05).cdf).pvalue < ALPHA      # power: a 0.05 s.d. shift


def conditional_pit(dep: np.ndarray, arr: np.ndarray, params: tuple[float, float, float, float],
                    shift_sd: float = 0.0) -> np.ndarray:
    """F(departure | arrival) under a Gaussian truncated to [max(min, arrival), max]."""
    mean, sd, lo, hi = params
    mean += shift_sd * sd
    lower = np.maximum(lo, arr)
    fa, fb = stats.norm.cdf((lower - mean) / sd), stats.norm.cdf((hi - mean) / sd)
    return np.asarray((stats.norm.cdf((dep - mean) / sd) - fa) / (fb - fa))


def test_departure_given_arrival_follows_its_conditional_truncated_gaussian(
        fleet_sessions: tuple[Fleet, Sessions]) -> None:
    fleet, s = fleet_sessions
    arr, dep = s.arrival.ravel(), s.departure.ravel()
    assert np.all(dep >= arr) and dep.max() <= fleet.departure[3]
    pit = conditional_pit(dep, arr, fleet.departure)
    assert stats.kstest(pit, "uniform").pvalue > ALPHA
    # and in arrival bins: the conditional law holds for early and for late arrivals alike
    for lo_q, hi_q in ((0.0, 0.25), (0.75, 1.0)):
        sel = (arr >= np.quantile(arr, lo_q)) & (arr <= np.quantile(arr, hi_q))
        assert stats.kstest(pit[sel], "uniform").pvalue > ALPHA
    assert stats.kstest(conditional_pit(dep, arr, fleet.departure, 0.05), "uniform").pvalue < ALPHA
    # the unconditional truncated Gaussian is not the law of a departure drawn after its arrival
    # whenever arrivals can exceed the departure's lower bound
    if fleet.arrival[3] > fleet.departure[2]:
        assert stats.kstest(pit, "uniform").statistic < stats.kstest(
            dep, truncnorm_law(fleet.departure).cdf).statistic


def test_external_grid_hourly_availability_is_uniform(system: System) -> None:
    units = system.units
    g = [i for i in range(units.n) if units.kind[i] == "external_grid"]
    assert len(g) == 1
    i = g[0]
    lo, hi = float(units.avail_low[i]), float(units.avail_high[i])
    assert (lo, hi) == (0.8, 1.0)
    xs = []
    for year in (YEAR, YEAR + 1):
        up, avail = sample_units(units, SEED, year, system.hours)
        xs.append(avail[i, up[i]] / float(units.capacity_kw[i]))
    x = np.concatenate(xs)
    assert x.size > 0.99 * 2 * system.hours       # the transformer is up > 99 % of hours (MTTF 3500 h, MTTR 7 h)
    law = stats.uniform(loc=lo, scale=hi - lo)
    assert stats.kstest(x, law.cdf).pvalue > ALPHA
    assert stats.kstest(x, stats.uniform(loc=lo, scale=0.97 * (hi - lo)).cdf).pvalue < ALPHA
    # hour to hour independent: lag-1 correlation within its sampling error (1 / sqrt(n))
    r = np.corrcoef(xs[0][:-1], xs[0][1:])[0, 1]
    assert abs(r) < 4.0 / np.sqrt(xs[0].size)
