"""Hourly time series from CSV or Parquet: named per-unit profiles and bus x hour tables.

Rules (stated in docs/import.md): a series has 8760 hourly values, or 35040 quarter-hourly values that are
averaged to hourly energy (four quarters -> one hour); a leap year's series (8784 or 35136 values) drops
29 February (hours 1416-1439 of the year). Series are read as given, in the local standard time of their
source: a DST-shifted series has 8759 or 8761 hours and is rejected by the length rule.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.errors import GploptError, InstanceError

HOURS = 8760
LEAP_DAY = slice(59 * 24, 60 * 24)   # 29 February: day 60 of a leap year
LENGTHS = "8760 hourly or 35040 quarter-hourly values (8784 or 35136 in a leap year)"


def missing_extra(extra: str, module: str) -> GploptError:
    return GploptError(f"{module} is not installed: this needs the optional extra, "
                       f"run: pip install 'gplopt[{extra}]'")


def resolve(path: str, base_dir: Path | None) -> Path:
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else base_dir / p


def to_hourly(values: np.ndarray, path: str) -> np.ndarray:
    """8760 hourly values from hourly or quarter-hourly data (leap day dropped); bad lengths are errors."""
    v = np.array(values, float)        # a copy: the file cache is never shared with callers
    if v.size in (35040, 35136):
        v = v.reshape(-1, 4).mean(axis=1)
    if v.size == 8784:
        v = np.concatenate([v[: LEAP_DAY.start], v[LEAP_DAY.stop:]])
    if v.size != HOURS:
        raise InstanceError(path, LENGTHS, v.size)
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise InstanceError(f"{path}[{int(bad[0])}]", "a finite number", float(v[bad[0]]))
    return v


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> dict[str, np.ndarray]:
    import pandas as pd

    p = Path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise missing_extra("parquet", "pyarrow") from None
        df = pd.read_parquet(p)
    else:
        try:
            df = pd.read_csv(p)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InstanceError(str(p), "a CSV table with a header row", str(exc).splitlines()[0]) from None
    out: dict[str, np.ndarray] = {}
    for col in df.columns:
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        if str(col).lower() in ("time", "timestamp", "hour", "datetime") or np.isnan(vals).all():
            continue   # an index column, not a series
        out[str(col)] = vals
    return out


def read_columns(path: str, base_dir: Path | None, field: str) -> dict[str, np.ndarray]:
    """Every numeric column of a CSV/Parquet file, raw (not yet made hourly). Cached by path and mtime."""
    p = resolve(path, base_dir)
    if not p.is_file():
        raise InstanceError(field, "an existing CSV or Parquet file", str(p))
    return _read(str(p.resolve()), p.stat().st_mtime)


def hourly_column(columns: dict[str, np.ndarray], name: str, field: str, file: str) -> np.ndarray:
    """The named column as 8760 hourly values; a missing column names the field and the file."""
    if name not in columns:
        raise InstanceError(field, f"a column of {file} (a missing profile)", name)
    return to_hourly(columns[name], f"{field} ({file}:{name})")


def write_table(columns: dict[str, np.ndarray], path: Path) -> None:
    """Write named series as CSV or Parquet (by suffix), atomically (a temporary file, then rename)."""
    import pandas as pd

    df = pd.DataFrame(columns)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise missing_extra("parquet", "pyarrow") from None
        df.to_parquet(tmp, index=False)
    else:
        gz = "gzip" if path.name.endswith(".gz") else None
        df.to_csv(tmp, index=False, float_format="%.5g", compression=gz)
    tmp.replace(path)


def rts79_series(tables: dict[str, Any], hours: int = 8736) -> np.ndarray:
    """IEEE RTS-79 per-unit chronological load (52 weeks x 7 days x 24 h, week 1 starting on Monday).

    For 8,760 hours a 365th day is appended: the Monday of week 52 (the table has no 53rd week).
    """
    weekly = np.asarray(tables["weekly_pct_of_annual_peak"], float) / 100.0
    daily = np.asarray(tables["daily_pct_of_weekly_peak_mon_to_sun"], float) / 100.0
    prof = tables["hourly_pct_of_daily_peak"]
    season_of = {}
    for name, key in (("winter", "winter_weeks"), ("summer", "summer_weeks"),
                      ("spring_fall", "spring_fall_weeks")):
        for w in tables[key]:
            season_of[int(w)] = name
    out = np.empty((52, 7, 24))
    for w in range(52):
        s = season_of[w + 1]
        for d in range(7):
            kind = "weekend" if d >= 5 else "weekday"
            out[w, d] = weekly[w] * daily[d] * np.asarray(prof[f"{s}_{kind}"], float) / 100.0
    series = out.reshape(-1)
    if hours == 8760:
        series = np.concatenate([series, out[51, 0]])
    return series
