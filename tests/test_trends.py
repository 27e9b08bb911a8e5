"""An ECC trend in the default suite: a sign that must hold, tested as a paired difference on common random
numbers (few years, so the test stays fast; the paper tables at >= 30 years are in docs/validation.md).

A higher incentive grade only raises the participation rates that each session's single willingness draw is
compared with (gplopt/sampling.py), so on the same seed and years the V2G and load-reduction participants at
grade 2.0 are a superset of those at grade 1.0, with identical arrivals, departures and SoCs. More PEVs able to
discharge, nothing else changed: the system with V2G can only be more adequate, and its ECC larger.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gplopt.adequacy import YearResult, evaluate_year
from gplopt.capacity_value import capacity_value
from gplopt.instance import load_instance, with_overrides
from gplopt.network.opf import SheddingOPF
from gplopt.paired import paired_difference
from gplopt.reliability import SequentialMonteCarlo
from gplopt.sampling import sample_fleet, sample_year
from gplopt.system import System, build_system

YEARS = 3
GRADE = "incentive.price_per_kwh"


def year_of(system: System, seed: int, year: int) -> YearResult:
    """One sample year evaluated directly (each system gets its own OPF)."""
    fleet = system.fleet
    opf = None if system.network.copper_plate else SheddingOPF(
        system.network, system.units, fleet.bus if fleet else None, "highs")
    return evaluate_year(system, sample_year(system, seed, year), opf)


def test_higher_incentive_grade_raises_ecc_on_paired_years(beijing_path: Path) -> None:
    inst = load_instance(beijing_path)
    lo, hi = (build_system(with_overrides(inst, {GRADE: g})) for g in (1.0, 2.0))
    assert lo.fleet is not None and hi.fleet is not None
    # the construction: same draws, higher thresholds -> a superset of participants
    assert hi.fleet.rate_v2g > lo.fleet.rate_v2g and hi.fleet.rate_lr >= lo.fleet.rate_lr
    s_lo, s_hi = (sample_fleet(s.fleet, inst.simulation.seed, 0, s.hours)[1] for s in (lo, hi) if s.fleet)
    np.testing.assert_array_equal(s_lo.willingness, s_hi.willingness)
    in_lo, in_hi = s_lo.willingness < lo.fleet.rate_v2g, s_hi.willingness < hi.fleet.rate_v2g
    assert np.all(in_hi[in_lo]) and in_hi.sum() > in_lo.sum()

    mc = SequentialMonteCarlo.from_instance(inst, years=YEARS)
    # per sample year (paired): a superset of participants never sheds more and delivers more V2G
    for year in range(YEARS):
        ya, yb = (year_of(s, mc.seed, year) for s in (lo, hi))
        assert yb.ens_kwh <= ya.ens_kwh + 1e-6, (year, ya.ens_kwh, yb.ens_kwh)
        assert yb.v2g_kwh > ya.v2g_kwh, (year, ya.v2g_kwh, yb.v2g_kwh)

    # ECC: the difference and its paired-bootstrap CI (same resampled years at both grades) exclude zero
    cv_lo, cv_hi = capacity_value(lo, mc), capacity_value(hi, mc)
    assert cv_lo.converged and cv_hi.converged
    d = paired_difference(cv_hi.value_kw, cv_lo.value_kw, cv_hi.boot_values, cv_lo.boot_values)
    assert d["d_ecc_kw"] > 0 and d["d_ecc_ci_low_kw"] > 0, d
    # pairing pays: the difference's s.e. is below the unpaired one (the two errors added in quadrature)
    se_lo, se_hi = (float(np.std(c.boot_values, ddof=1)) for c in (cv_lo, cv_hi))
    assert d["d_ecc_se_kw"] < float(np.hypot(se_lo, se_hi))
