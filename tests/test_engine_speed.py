"""Issue 11, second round: faster paths that must give the same numbers as the straightforward ones.

* Charger chronologies built hour-major are the transpose of the unit-major chronologies, bit for bit.
* Truncated Gaussians with a per-draw lower bound equal draw-by-draw evaluation (the CDF of the smallest bound
  is evaluated once).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from gplopt.sampling import truncnorm
from gplopt.streams import chronology_up, chronology_up_by_hour, overflow_rng, uniforms


def test_hour_major_chronology_is_the_transpose() -> None:
    u = uniforms(5, 3, 0, 7, 1, 64 * 12)[0].reshape(64, 12)   # short budget: overflow streams are used too
    mttf, mttr, hours = 300.0, 20.0, 24 * 30
    rng = lambda row: overflow_rng(5, 3, row, 7)  # noqa: E731
    dense = chronology_up(u, mttf, mttr, hours, rng)
    assert not dense.all() and dense.any()
    assert np.array_equal(chronology_up_by_hour(u, mttf, mttr, hours, rng), dense.T)


def test_truncnorm_with_per_draw_bound_equals_one_by_one() -> None:
    rng = np.random.default_rng(11)
    u = rng.random(2000)
    arrival = truncnorm(rng.random(2000), 8.0, 3.0, 5.0, 17.0)
    lo = np.maximum(11.0, arrival)
    assert (lo == 11.0).any() and (lo > 11.0).any()
    x = truncnorm(u, 16.0, 3.0, lo, 24.0)
    a = np.array([ndtr((v - 16.0) / 3.0) for v in lo])
    b = ndtr((24.0 - 16.0) / 3.0)
    one_by_one = np.clip(16.0 + 3.0 * ndtri(a + u * (b - a)), lo, 24.0)
    assert np.array_equal(x, one_by_one)
    assert (x >= lo).all() and (x <= 24.0).all()
