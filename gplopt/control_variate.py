"""A control variate for the EENS and LOLE of copper-plate systems of two-state units (opt-in).

Per sample year y the engine measures X_y (ENS, or loss-of-load hours) under the hourly load. From the *same*
year's unit availability it also measures C_y, the ENS (or loss-of-load hours) the system would have if every
hour carried its day's peak load: the classical daily-peak load model of HL-I studies. Its expectation is known
exactly: the hours' availability has the stationary law of independent two-state units, so E[C] is the capacity
outage table's expectation under the daily-peak load (:mod:`gplopt.copt`). C >= X hour by hour and both are
driven by the same outages, so they are strongly correlated (on RBTS, 20,000 years: 0.955 for ENS, 0.89 for
loss-of-load hours). The estimator is cross-fitted:

    z_y = X_y - beta_other (C_y - E[C]),   X_cv = mean(z),   standard error sd(z) / sqrt(n),

where the years in even positions of the run take the slope cov(X, C) / var(C) of the odd ones and vice
versa. Each beta is independent of the years it adjusts (years are independent), so E[z_y] = E[X] exactly. The
textbook estimator with beta from the same years has a bias of order 1/n, -cov(beta_hat, mean(C)); ENS is
heavy-tailed (a rare year with a long double outage moves X, C and beta_hat together), and on RBTS at 500 years
that bias was 12 % of a standard error, so it is not used. The variance ratio var(X) / var(z) is reported
(docs/method.md section 7.1; ``tests/test_control_variate.py`` checks the mean over many seeds against the
exact value).

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


def _beta(x: np.ndarray, c: np.ndarray) -> float:
    """Least-squares slope of x on c (0 when c does not vary)."""
    dc = c - c.mean()
    scc = float(dc @ dc)
    return float((x - x.mean()) @ dc) / scc if scc > 0 else 0.0


def cv_estimate(x: np.ndarray, c: np.ndarray, exact: float) -> CvEstimate:
    """The cross-fitted control-variate estimate: the years in even positions are adjusted with the beta of the
    odd ones and vice versa, z_y = x_y - beta_other (c_y - exact); the estimate is mean(z), its standard error
    sd(z) / sqrt(n). Each beta is independent of the years it adjusts, so E[z_y] = E[x] exactly."""
    x, c = np.asarray(x, float), np.asarray(c, float)
    n = x.size
    if n < 4:
        raise InstanceError("simulation.control_variate", "needs >= 4 sample years (two per fold)", n)
    b_even, b_odd = _beta(x[0::2], c[0::2]), _beta(x[1::2], c[1::2])
    z = x.copy()
    z[0::2] -= b_odd * (c[0::2] - exact)
    z[1::2] -= b_even * (c[1::2] - exact)
    var_z, var_x = float(z.var(ddof=1)), float(x.var(ddof=1))
    ratio = var_x / var_z if var_z > 0 else math.inf
    return CvEstimate(MeanEstimate(float(z.mean()), math.sqrt(var_z / n)), (b_even + b_odd) / 2, ratio, exact,
                      float(c.mean()))


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
    """CoV (standard error over mean) of :func:`cv_estimate` on the first k years, for every k (NaN for k < 4),
    from running sums of each fold in one pass."""
    x, c = np.asarray(x, float), np.asarray(c - exact, float)
    n = x.size
    k = np.arange(1, n + 1)
    sums = {}
    for fold in (0, 1):
        on = (np.arange(n) % 2 == fold).astype(float)
        sums[fold] = [np.cumsum(on * v) for v in (on, x, c, x * x, c * c, x * c)]
    z1 = np.zeros(n)
    z2 = np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        for fold, other in ((0, 1), (1, 0)):
            m, sx, sc, _, scc, sxc = sums[other]
            var_c = scc - sc * sc / m
            beta = np.where(var_c > 0, (sxc - sx * sc / m) / np.where(var_c > 0, var_c, 1.0), 0.0)
            _, tx, tc, txx, tcc, txc = sums[fold]
            z1 += tx - beta * tc
            z2 += txx - 2 * beta * txc + beta * beta * tcc
        mean = z1 / k
        se = np.sqrt(np.maximum(z2 - k * mean * mean, 0.0) / (k - 1) / k)
        cov = se / np.abs(mean)
    cov[:3] = np.nan
    return cov  # type: ignore[no-any-return]
