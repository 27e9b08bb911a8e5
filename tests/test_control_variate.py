"""The capacity outage table (gplopt.copt) and the daily-peak-load control variate (gplopt.control_variate).

- The table reproduces the RBTS exact indices (1.0881 h/yr, 9.823 MWh/yr) and closed forms of small systems.
- Each year's control is what the dense per-hour arithmetic gives on the year's own unit chronologies, and its
  sample mean agrees with the table's exact mean (so E[C] is right).
- The control-variate estimator is centred on the exact value over many seeds (fast: a small system; slow: RBTS),
  its variance ratio on RBTS is well above 1, and it never changes the plain estimates or depends on workers,
  batch size or a journal.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt import hl1
from gplopt.adequacy import TOL_KW
from gplopt.control_variate import control_means, cv_cov_by_years, cv_estimate
from gplopt.copt import daily_peak, exact_indices, outage_table, unit_table
from gplopt.errors import GploptError, InstanceError
from gplopt.instance import Instance, instance_from_data, load_instance
from gplopt.reliability import Execution, SequentialMonteCarlo, assess
from gplopt.sampling import sample_year
from gplopt.system import System, build_system

ROOT = Path(__file__).resolve().parent.parent
RBTS_REF = json.loads((ROOT / "tests" / "reference" / "rbts_hl1.json").read_text(encoding="utf-8"))
H = 8760


def small(load_kw: list[float] | np.ndarray, units: list[tuple[float, float, float]]) -> Instance:
    """One bus, units (capacity kW, MTTF h, MTTR h), an hourly load series."""
    data: dict[str, Any] = {
        "name": "cv", "network": {"base_kv": 10.0, "buses": [{"id": 1, "p_kw": float(max(load_kw))}],
                                  "branches": []},
        "units": [{"id": f"g{i}", "type": "conventional", "bus": 1, "capacity_kw": c, "mttf_h": f, "mttr_h": r}
                  for i, (c, f, r) in enumerate(units)],
        "load": {"shape": None, "series_kw": [float(x) for x in load_kw], "hours": len(load_kw)},
        "gpl": None, "simulation": {"seed": 1},
    }
    return instance_from_data(data)


def daily_cycle(low: float, high: float) -> np.ndarray:
    """A load cycling once a day between ``low`` and ``high`` kW (peak in the evening)."""
    h = np.arange(H)
    return low + (high - low) * 0.5 * (1 - np.cos(2 * np.pi * ((h % 24) - 7) / 24))


THREE = small(daily_cycle(80.0, 190.0), [(100.0, 200.0, 20.0)] * 3)


@pytest.fixture(scope="module")
def rbts() -> System:
    return build_system(load_instance(ROOT / "instances" / "rbts.json"), base_dir=ROOT / "instances")


@pytest.fixture(scope="module")
def three() -> System:
    """Three 100 kW units (FOR 1/11) under a daily cycle between 80 and 190 kW: short whenever two are down
    above 100 kW, hundreds of loss-of-load hours a year, so a few years per seed suffice."""
    return build_system(THREE)


# ------------------------------------------------------------------------------------------ the table
def test_copt_reproduces_the_rbts_exact_indices(rbts: System) -> None:
    ref = RBTS_REF["reference"]["exact_with_for_from_mttf_mttr"]
    u = rbts.units
    table = unit_table(u.capacity_kw, u.mttf_h, u.mttr_h)
    assert table.prob.sum() == pytest.approx(1.0, abs=1e-12)
    lole, eens = exact_indices(table, rbts.load_kw)
    assert round(lole, 4) == round(float(ref["lole_h_per_yr"]), 4) == 1.0881
    assert round(eens / 1000.0, 3) == round(float(ref["eens_mwh_per_yr"]), 3) == 9.823
    # the engine's tolerance (shortfalls below 1e-6 kW count as none) changes nothing here
    assert exact_indices(table, rbts.load_kw, TOL_KW) == pytest.approx((lole, eens), rel=1e-12)


def test_copt_closed_forms() -> None:
    """Two units of 100 and 50 kW (FOR 0.1, 0.2) against loads 120 and 40 kW, by hand."""
    table = outage_table(np.array([100.0, 50.0]), np.array([0.1, 0.2]))
    np.testing.assert_allclose(table.levels_kw, [0.0, 50.0, 100.0, 150.0])
    np.testing.assert_allclose(table.prob, [0.72, 0.18, 0.08, 0.02])
    lole, eens = exact_indices(table, np.array([120.0, 40.0]))
    # 120 kW: short with 50 out (by 20), 100 out (by 70), 150 out (by 120); 40 kW: only with both out (by 40)
    assert lole == pytest.approx(0.18 + 0.08 + 0.02 + 0.02)
    assert eens == pytest.approx(0.18 * 20 + 0.08 * 70 + 0.02 * 120 + 0.02 * 40)
    # a load exactly equal to the available capacity is served (strict shortfall)
    assert exact_indices(table, np.array([100.0]))[0] == pytest.approx(0.08 + 0.02)


def test_copt_refuses_bad_input() -> None:
    with pytest.raises(GploptError, match="forced outage rates in"):
        outage_table(np.array([1.0]), np.array([1.5]))
    with pytest.raises(GploptError, match="one forced outage rate per unit"):
        outage_table(np.array([1.0, 2.0]), np.array([0.1]))


def test_daily_peak() -> None:
    load = np.arange(50.0)           # two full days and a partial one
    dp = daily_peak(load)
    assert dp.shape == load.shape
    assert (dp[:24] == 23).all() and (dp[24:48] == 47).all() and (dp[48:] == 49).all()


# ------------------------------------------------------------------------------------------ the control
def test_control_is_the_dense_daily_peak_shortfall(rbts: System) -> None:
    """Each year's control equals the per-hour arithmetic on the year's own chronologies (sample_year)."""
    years = [3, 4, 5, 11, 40, 41]
    got = {r.year: r for r in hl1.hl1_years(rbts, 2021, years, control=True)}
    dp = daily_peak(rbts.load_kw)
    for y in years:
        avail = (sample_year(rbts, 2021, y).unit_up * rbts.units.capacity_kw[:, None]).sum(axis=0)
        ens = np.maximum(dp - avail, 0.0)
        ens[ens < TOL_KW] = 0.0
        assert got[y].control[0] == pytest.approx(ens.sum(), rel=1e-12, abs=1e-9)
        assert got[y].control[1] == (ens > 0).sum()
        assert got[y].control[0] >= got[y].ens_kwh          # the daily peak is never below the hour's load
    # asking for the control leaves the year's own numbers alone
    plain = hl1.hl1_years(rbts, 2021, years)
    assert [r.ens_kwh for r in plain] == [got[y].ens_kwh for y in years]
    assert all(r.control.size == 0 for r in plain)


def test_control_mean_is_the_exact_one(three: System) -> None:
    years = hl1.hl1_years(three, 5, list(range(400)), control=True)
    c = np.array([r.control for r in years])
    eens_c, lole_c = control_means(three)
    for k, exact in ((0, eens_c), (1, lole_c)):
        se = c[:, k].std(ddof=1) / math.sqrt(c.shape[0])
        assert abs(c[:, k].mean() - exact) <= 3 * se, (k, c[:, k].mean(), exact, se)


def test_cv_estimate_arithmetic() -> None:
    rng = np.random.default_rng(0)
    c = rng.normal(size=2000)
    x = 3.0 + 2.0 * c + 0.1 * rng.normal(size=2000)
    e = cv_estimate(x, c, 0.0)
    assert e.beta == pytest.approx(2.0, abs=0.02)
    b_even = np.polyfit(c[0::2], x[0::2], 1)[0]        # each fold adjusted with the other fold's slope
    b_odd = np.polyfit(c[1::2], x[1::2], 1)[0]
    z = np.concatenate([x[0::2] - b_odd * c[0::2], x[1::2] - b_even * c[1::2]])
    assert e.estimate.mean == pytest.approx(z.mean(), rel=1e-12)
    assert e.estimate.stderr == pytest.approx(z.std(ddof=1) / math.sqrt(z.size), rel=1e-9)
    assert e.variance_ratio == pytest.approx(x.var(ddof=1) / z.var(ddof=1), rel=1e-9)
    assert e.variance_ratio > 100
    flat = cv_estimate(x, np.ones(2000), 1.0)           # a control that never varies: the plain estimate
    assert flat.beta == 0.0 and flat.estimate.mean == pytest.approx(x.mean())
    with pytest.raises(InstanceError, match="4 sample years"):
        cv_estimate(x[:3], c[:3], 0.0)


# ------------------------------------------------------------------------------------------ the estimator
def test_cv_unbiased_over_seeds_small_system(three: System) -> None:
    """Over 40 seeds of 20 years each, the CV estimates average to the table's exact EENS and LOLE within 3
    standard errors of that average (the betas estimated from each run's own years, cross-fitted)."""
    u = three.units
    lole, eens = exact_indices(unit_table(u.capacity_kw, u.mttf_h, u.mttr_h), three.load_kw, TOL_KW)
    est = []
    for seed in range(40):
        res = assess(three, SequentialMonteCarlo(years=20, seed=seed, control_variate=True))
        cv = res.control_variate
        assert cv is not None
        est.append((cv.eens_kwh_per_year.estimate.mean, cv.lole_h_per_year.estimate.mean))
    a = np.array(est)
    for k, exact in ((0, eens), (1, lole)):
        se = a[:, k].std(ddof=1) / math.sqrt(a.shape[0])
        assert abs(a[:, k].mean() - exact) <= 3 * se, (k, a[:, k].mean(), exact, se)


def test_variance_ratio_on_rbts_and_default_unchanged(rbts: System) -> None:
    mc = SequentialMonteCarlo(years=3000, seed=2021)
    plain = assess(rbts, mc, execution=Execution(batch_years=500))
    res = assess(rbts, SequentialMonteCarlo(years=3000, seed=2021, control_variate=True),
                 execution=Execution(batch_years=500))
    assert plain.control_variate is None and "eens_kwh_per_year_cv" not in plain.to_dict()
    assert res.eens_kwh_per_year == plain.eens_kwh_per_year and res.lole_h_per_year == plain.lole_h_per_year
    cv = res.control_variate
    assert cv is not None
    assert cv.eens_kwh_per_year.variance_ratio > 4 and cv.lole_h_per_year.variance_ratio > 2
    ratio = (plain.eens_kwh_per_year.stderr / cv.eens_kwh_per_year.estimate.stderr) ** 2
    assert ratio == pytest.approx(cv.eens_kwh_per_year.variance_ratio, rel=1e-2)
    d = res.to_dict()
    assert set(d["eens_kwh_per_year_cv"]) == {"mean", "stderr"}
    assert d["control_variate"]["variance_ratio"]["eens"] == cv.eens_kwh_per_year.variance_ratio
    ref = RBTS_REF["reference"]["exact_with_for_from_mttf_mttr"]
    for e, exact in ((cv.eens_kwh_per_year, float(ref["eens_mwh_per_yr"]) * 1000), (cv.lole_h_per_year,
                                                                                   float(ref["lole_h_per_yr"]))):
        assert abs(e.estimate.mean - exact) <= 3 * e.estimate.stderr, (e.estimate, exact)


def test_cv_same_for_any_batch_workers_or_journal(three: System, tmp_path: Path) -> None:
    mc = SequentialMonteCarlo(years=30, seed=9, control_variate=True)
    a = assess(three, mc, execution=Execution(batch_years=7))
    b = assess(three, mc, execution=Execution(batch_years=30, workers=2))
    assert a.control_variate == b.control_variate
    j = tmp_path / "j.jsonl"             # years read back from a journal carry no control: drawn again
    assess(three, mc, journal=j, instance=THREE)
    c = assess(three, mc, journal=j, instance=THREE)
    assert all(r.control.size == 0 for r in c.per_year)
    assert c.control_variate == a.control_variate


def test_cv_refused_off_the_hl1_path(root: Path, run_cli: Any) -> None:
    p = run_cli("evaluate", "instances/ieee33.json", "--years", "2", "--control-variate")
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("error: simulation.control_variate: must be used on a "
                                                        "copper plate"), p.stderr
    assert "Traceback" not in p.stderr
    ok = run_cli("evaluate", "instances/rbts.json", "--years", "50", "--control-variate", "--json")
    assert ok.returncode == 0, ok.stderr
    d = json.loads(ok.stdout)
    assert d["eens_kwh_per_year_cv"]["stderr"] > 0 and d["control_variate"]["control"] == "daily-peak load"
    text = run_cli("evaluate", "instances/rbts.json", "--years", "50", "--control-variate")
    assert text.returncode == 0, text.stderr
    assert "daily-peak load control variate" in text.stdout and "33,728" in text.stdout and "3.5161" in text.stdout
    assert "e+" not in text.stdout and max(len(line) for line in text.stdout.splitlines()) <= 80


@pytest.mark.slow
def test_cv_unbiased_over_seeds_rbts(rbts: System) -> None:
    """RBTS: 300 seeds of 500 years; the CV estimates average to 1.0881 h/yr and 9,823 kWh/yr within 3 s.e. (a
    first version on seeds 1000-1099 with the same-sample beta gave -3.7 s.e. on EENS, -2.7 cross-fitted: there
    the control's own mean came out one s.e. above its exact value; docs/method.md 7.1)."""
    ref = RBTS_REF["reference"]["exact_with_for_from_mttf_mttr"]
    est = []
    for seed in range(300):
        cv = assess(rbts, SequentialMonteCarlo(years=500, seed=seed, control_variate=True),
                    execution=Execution(batch_years=500)).control_variate
        assert cv is not None
        est.append((cv.eens_kwh_per_year.estimate.mean, cv.lole_h_per_year.estimate.mean))
    a = np.array(est)
    for k, exact in ((0, float(ref["eens_mwh_per_yr"]) * 1000), (1, float(ref["lole_h_per_yr"]))):
        se = a[:, k].std(ddof=1) / math.sqrt(a.shape[0])
        assert abs(a[:, k].mean() - exact) <= 3 * se, (k, a[:, k].mean(), exact, se)


def test_cv_cov_by_years_matches_cv_estimate(three: System) -> None:
    years = hl1.hl1_years(three, 3, list(range(60)), control=True)
    x = np.array([r.ens_kwh for r in years])
    c = np.array([r.control[0] for r in years])
    exact = control_means(three)[0]
    cov = cv_cov_by_years(x, c, exact)
    assert np.isnan(cov[:3]).all()
    for k in (4, 5, 17, 60):
        e = cv_estimate(x[:k], c[:k], exact).estimate
        assert cov[k - 1] == pytest.approx(e.stderr / abs(e.mean), rel=1e-9)
