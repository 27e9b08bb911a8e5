"""Do the intervals gplopt reports hold up? Coverage of the 90 % intervals over many independent seeds.

A reported interval is honest when, over many independent runs, it covers the true value in about the stated
share of runs. Each test runs a case whose true value is known exactly, once per seed, and checks that the
share of intervals covering it is within three binomial standard errors of the nominal level:

- ECC: a unit identical (capacity, MTTF, MTTR, bus) to the ECC reference unit has ECC equal to its capacity
  in expectation, since the reference unit at that capacity has the same EENS distribution.
- EENS and LOLE: the RBTS generating system, whose exact indices follow from its capacity-outage table
  (LOLE 1.0881 h/yr, EENS 9,823 kWh/yr; docs/validation.md); the interval is mean +/- 1.645 standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt.capacity_value import CapacityValueSpec, capacity_value
from gplopt.instance import instance_from_data, load_instance
from gplopt.reliability import SequentialMonteCarlo, assess
from gplopt.system import build_system

NOMINAL = 0.90
Z90 = 1.6448536269514722


def _within_binomial(covered: np.ndarray, nominal: float = NOMINAL) -> tuple[float, float]:
    share = float(np.mean(covered))
    return share, 3.0 * math.sqrt(nominal * (1.0 - nominal) / covered.size)


def identical_unit_system(capacity_kw: float) -> Any:
    units = [{"id": f"g{i}", "type": "conventional", "bus": 1, "capacity_kw": c, "mttf_h": 950.0, "mttr_h": 50.0}
             for i, c in enumerate([300.0, 300.0, 200.0, 200.0])]
    units.append({"id": "gen", "type": "conventional", "bus": 1, "capacity_kw": capacity_kw, "mttf_h": 500.0,
                  "mttr_h": 50.0})
    data = {
        "name": "coverage_identical_unit",
        "network": {"base_kv": 10.0, "buses": [{"id": 1, "p_kw": 1000.0}], "branches": []},
        "units": units, "load": {"shape": None, "series_kw": [1000.0] * 24, "hours": 8760}, "gpl": None,
        "ecc_reference": {"capacity_max_kw": 1000.0, "mttf_h": 500.0, "mttr_h": 50.0, "tolerance": 0.005},
    }
    return build_system(instance_from_data(data))


@pytest.mark.slow
def test_ecc_interval_covers_the_exact_answer_at_its_nominal_rate() -> None:
    c = 250.0
    system = identical_unit_system(c)
    spec = CapacityValueSpec.from_system(system, resource="gen")
    covered, values = [], []
    for seed in range(80):
        cv = capacity_value(system, SequentialMonteCarlo(years=30, seed=1000 + seed), spec)
        assert cv.ci_level == pytest.approx(NOMINAL)
        covered.append(cv.ci_low_kw <= c <= cv.ci_high_kw)
        values.append(cv.value_kw)
    share, tol = _within_binomial(np.array(covered))
    assert abs(share - NOMINAL) <= tol, (share, tol)
    # and the estimator itself is unbiased: its mean over seeds is within 3 standard errors of C
    v = np.array(values)
    assert abs(v.mean() - c) <= 3 * v.std(ddof=1) / math.sqrt(v.size), (v.mean(), v.std(ddof=1))


@pytest.mark.slow
def test_eens_and_lole_intervals_cover_the_exact_rbts_indices(root: Path) -> None:
    system = build_system(load_instance(root / "instances" / "rbts.json"))
    exact = {"eens_kwh_per_year": 9823.0, "lole_h_per_year": 1.0881}
    covered: dict[str, list[bool]] = {k: [] for k in exact}
    for seed in range(100):
        res = assess(system, SequentialMonteCarlo(years=400, seed=5000 + seed))
        for key, truth in exact.items():
            est = getattr(res, key)
            covered[key].append(abs(est.mean - truth) <= Z90 * est.stderr)
    for key, cov in covered.items():
        share, tol = _within_binomial(np.array(cov))
        assert abs(share - NOMINAL) <= tol, (key, share, tol)
