"""Estimates with their errors, and the stopping rule."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MeanEstimate:
    """Sample mean of per-year values and its standard error, printed ``1.59±0.02``."""
    mean: float
    stderr: float

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> MeanEstimate:
        x = np.asarray(values, float)
        if x.size == 0:
            return cls(float("nan"), float("nan"))
        se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("inf")
        return cls(float(x.mean()), se)

    @property
    def cov(self) -> float:
        return self.stderr / abs(self.mean) if self.mean else float("inf")

    def scaled(self, k: float) -> MeanEstimate:
        return MeanEstimate(self.mean * k, self.stderr * abs(k))

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "stderr": self.stderr}

    def __str__(self) -> str:
        if not math.isfinite(self.stderr) or self.stderr == 0:
            return f"{self.mean:.4g}"
        digits = max(0, -int(math.floor(math.log10(self.stderr))) + 1)
        return f"{self.mean:.{digits}f}±{self.stderr:.{digits}f}"


def stopping_year(eens_by_year: Sequence[float] | np.ndarray, target_cov: float, min_years: int,
                  max_years: int) -> tuple[int, str] | None:
    """The first year count n >= min_years at which stderr/mean of EENS over years 1..n <= target_cov
    (checked year by year, so it never depends on batch size), or the cap. None while undecided."""
    x = np.asarray(eens_by_year, float)
    n = x.size
    if n < min_years:
        return None
    csum = np.cumsum(x)
    csq = np.cumsum(x * x)
    k = np.arange(1, n + 1)
    mean = csum / k
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(csq - k * mean**2, 0.0) / np.maximum(k - 1, 1)
        cov = np.sqrt(var / k) / mean
    ok = (k >= min_years) & (mean > 0) & (cov <= target_cov)
    hits = np.flatnonzero(ok)
    if hits.size:
        return int(hits[0] + 1), "target_cov"
    if n >= max_years:
        return max_years, "max_years"
    return None
