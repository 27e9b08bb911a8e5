"""A control variate for the EENS and LOLE of copper-plate systems of two-state units (opt-in).

Per sample year y the engine measures X_y (ENS, or loss-of-load hours) under the hourly load. From the *same*
year's unit availability it also measures C_y, the ENS (or loss-of-load hours) the system would have if every
hour carried its day's peak load: the classical daily-peak load model of HL-I studies. Its expectation is known
exactly: the hours' availability has the stationary law of independent two-state units, so E[C] is the capacity
outage table's expectation under the daily-peak load (:mod:`gplopt.copt`). C >= X hour by hour and both are
driven by the same outages, so they are strongly correlated (on RBTS, 20,000 years: 0.955 for ENS, 0.89 for
loss-of-load hours). The estimator is

    X_cv = mean(X) - beta (mean(C) - E[C]),   beta = cov(X, C) / var(C) estimated on the same years,

with standard error sqrt(s_res^2 / n), s_res^2 the residual variance of X - beta C with n - 2 degrees of freedom.
Its variance ratio var(X) / var(X - beta C) is reported. With beta estimated on the same years the estimator
has a bias of order 1/n (from cov(beta_hat, mean(C))), against a standard error of order 1/sqrt(n): at the
hundreds of years the estimator is meant for, the bias is a small fraction of a standard error (docs/method.md
section 7.1; ``tests/test_control_variate.py`` checks the mean over many seeds against the exact value).

The plain estimates and the stopping rule are untouched: the control variate is reported beside them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gplopt import hl1
from gplopt.adequacy import TOL_KW, YearResult
from gplopt.copt import daily_peak, exact_indices, unit_table
from gplopt.errors import InstanceError
from gplopt.metrics import MeanEstimate
from gplopt.system import System

CONTROL = "daily-peak load"


@dataclass(frozen=True)
class CvEstimate:
    """One control-variate estimate: the adjusted mean with its standard error, beta, the variance ratio, and
    the control's exact and sample means."""
    estimate: MeanEstimate
    beta: float
    variance_ratio: float
    control_exact: float
    control_mean: float


@dataclass(frozen=True)
class ControlVariateResult:
    eens_kwh_per_year: CvEstimate
    lole_h_per_year: CvEstimate

    def to_dict(self) -> dict[str, Any]:
        """The keys ``evaluate --json`` adds beside the plain estimates."""
        e, lo = self.eens_kwh_per_year, self.lole_h_per_year
        return {"eens_kwh_per_year_cv": e.estimate.to_dict(), "lole_h_per_year_cv": lo.estimate.to_dict(),
                "control_variate": {
                    "control": CONTROL,
                    "variance_ratio": {"eens": e.variance_ratio, "lole": lo.variance_ratio},
                    "beta": {"eens": e.beta, "lole": lo.beta},
                    "control_exact": {"eens_kwh_per_year": e.control_exact, "lole_h_per_year": lo.control_exact},
                    "control_mean": {"eens_kwh_per_year": e.control_mean, "lole_h_per_year": lo.control_mean}}}


def check_eligible(system: System) -> None:
    """The control variate needs the event-based HL-I path (a copper plate of two-state units, no chargers)."""
    if not hl1.eligible(system):
        raise InstanceError("simulation.control_variate",
                            "used on a copper plate of two-state units without chargers (the HL-I path)", True)


def control_means(system: System) -> tuple[float, float]:
    """Exact E[C] for ENS (kWh/yr) and loss-of-load hours: the outage table under the daily-peak load."""
    u = system.units
    lole, eens = exact_indices(unit_table(u.capacity_kw, u.mttf_h, u.mttr_h), daily_peak(system.load_kw), TOL_KW)
    return eens, lole


def cv_estimate(x: np.ndarray, c: np.ndarray, exact: float) -> CvEstimate:
    """mean(x) - beta (mean(c) - exact) with beta from the same samples; beta = 0 when c does not vary."""
    x, c = np.asarray(x, float), np.asarray(c, float)
    n = x.size
    if n < 3:
        raise InstanceError("simulation.control_variate", "needs >= 3 sample years", n)
    dx, dc = x - x.mean(), c - c.mean()
    scc = float(dc @ dc)
    beta = float(dx @ dc) / scc if scc > 0 else 0.0
    res = dx - beta * dc
    var_res = float(res @ res) / (n - 2)
    var_x = float(dx @ dx) / (n - 1)
    ratio = var_x / var_res if var_res > 0 else math.inf
    mean = float(x.mean()) - beta * (float(c.mean()) - exact)
    return CvEstimate(MeanEstimate(mean, math.sqrt(var_res / n)), beta, ratio, exact, float(c.mean()))


def controls(system: System, seed: int, per_year: list[YearResult]) -> np.ndarray:
    """(years, 2) controls of ``per_year``: carried by the years, or drawn again (the same draws) for years
    that come without them (read back from a journal)."""
    missing = [r.year for r in per_year if r.control.size != 2]
    again = {r.year: r.control for r in hl1.hl1_years(system, seed, missing, control=True)} if missing else {}
    return np.array([r.control if r.control.size == 2 else again[r.year] for r in per_year], float)


def control_variate(system: System, seed: int, per_year: list[YearResult]) -> ControlVariateResult:
    """EENS and LOLE with the daily-peak-load control variate over the run's sample years."""
    check_eligible(system)
    c = controls(system, seed, per_year)
    eens_c, lole_c = control_means(system)
    return ControlVariateResult(
        eens_kwh_per_year=cv_estimate(np.array([r.ens_kwh for r in per_year]), c[:, 0], eens_c),
        lole_h_per_year=cv_estimate(np.array([r.lol_hours for r in per_year], float), c[:, 1], lole_c))


def cv_cov_by_years(x: np.ndarray, c: np.ndarray, exact: float) -> np.ndarray:
    """CoV (standard error over mean) of the control-variate estimate on the first k years, for every k
    (NaN for k < 3): what :func:`cv_estimate` gives on each prefix, from running sums in one pass."""
    x, c = np.asarray(x, float), np.asarray(c, float)
    k = np.arange(1, x.size + 1, dtype=float)
    # centre on the first year's values: the running sums then lose no digits to large means
    x0, c0 = x - x[:1], c - c[:1]
    sx, sc = np.cumsum(x0), np.cumsum(c0)
    sxx, scc, sxc = np.cumsum(x0 * x0) - sx * sx / k, np.cumsum(c0 * c0) - sc * sc / k, np.cumsum(x0 * c0) - sx * sc / k
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(scc > 0, sxc / np.where(scc > 0, scc, 1.0), 0.0)
        var_res = np.maximum(sxx - beta * sxc, 0.0) / (k - 2)
        mean = (sx / k + x[:1]) - beta * (sc / k + c[:1] - exact)
        cov = np.sqrt(var_res / k) / np.abs(mean)
    cov[:2] = np.nan
    return cov  # type: ignore[no-any-return]
