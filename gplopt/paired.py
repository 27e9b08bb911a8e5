"""Paired differences between adjacent points of a study on common random numbers.

Every point of a study uses the same seed and the same sample years, and the capacity value's bootstrap
resamples the same years at every point (its resample indices depend only on the seed and the number of
years). So bootstrap replicate ``b`` of point ``k`` and of point ``k - 1`` come from the same resampled years,
and ``boot_k - boot_(k-1)`` is the bootstrap distribution of the *paired* difference: its standard deviation
is the difference's standard error over the paired years, much smaller than either point's own error when the
points share most of their shortfall. A trend claim ("ECC rises with X") is supported between two adjacent
points when the paired difference's CI excludes zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gplopt.checkpoint import BOOT_KEY as BOOT  # row key of a point's bootstrap replicates (never in a frame)

DIFF_COLS = ("d_ecc_kw", "d_ecc_se_kw", "d_ecc_ci_low_kw", "d_ecc_ci_high_kw")


def pop_boots(rows: list[dict[str, Any]]) -> list[np.ndarray | None]:
    """Remove each row's bootstrap replicates and return them (None for a row without them, e.g. a point
    read back from a journal written before they were kept)."""
    return [None if (b := r.pop(BOOT, None)) is None else np.asarray(b, float) for r in rows]


def paired_difference(ecc: float, ecc_prev: float, boot: np.ndarray | None, boot_prev: np.ndarray | None,
                      ci_level: float = 0.90) -> dict[str, float]:
    """ECC(k) - ECC(k-1) with its paired-bootstrap standard error and percentile CI."""
    out = {"d_ecc_kw": float(ecc - ecc_prev), "d_ecc_se_kw": float("nan"), "d_ecc_ci_low_kw": float("nan"),
           "d_ecc_ci_high_kw": float("nan")}
    if boot is None or boot_prev is None or boot.size < 2 or boot.size != boot_prev.size:
        return out
    d = boot - boot_prev
    a = (1.0 - ci_level) / 2.0
    out.update(d_ecc_se_kw=float(np.std(d, ddof=1)), d_ecc_ci_low_kw=float(np.quantile(d, a)),
               d_ecc_ci_high_kw=float(np.quantile(d, 1.0 - a)))
    return out


def add_paired_columns(df: pd.DataFrame, boots: list[np.ndarray | None], group: list[Any]) -> pd.DataFrame:
    """Add the paired difference to the previous row of the same group (NaN on a group's first row).
    ``df`` rows, ``boots`` and ``group`` are aligned; a group's rows are in sweep order."""
    cols: dict[str, list[float]] = {c: [] for c in DIFF_COLS}
    last: dict[Any, int] = {}
    ecc = df["ecc_kw"].to_numpy(float) if len(df) else np.zeros(0)
    for k, g in enumerate(group):
        j = last.get(g)
        d = (paired_difference(ecc[k], ecc[j], boots[k], boots[j]) if j is not None
             else dict.fromkeys(DIFF_COLS, float("nan")))
        for c in DIFF_COLS:
            cols[c].append(d[c])
        last[g] = k
    out = df.copy()
    for c in DIFF_COLS:
        out[c] = cols[c]
    return out
