"""Reliability results as pandas DataFrames (per year, per bus, per hour of day) and as CSV/Parquet files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gplopt.adequacy import by_hour_of_day
from gplopt.errors import GploptError

if TYPE_CHECKING:
    import pandas as pd

    from gplopt.reliability import ReliabilityResult

KINDS = ("year", "bus", "hour_of_day")
WRITTEN = ("year", "bus", "hour_of_day")
YEAR_COLUMNS = ("ens_kwh", "lol_hours", "lol_events", "v2g_kwh", "load_reduction_kwh", "charging_kwh",
                "peak_shortfall_kw", "opf_solves", "opf_failed")


def reliability_frame(res: ReliabilityResult, kind: str = "year") -> pd.DataFrame:
    """``year``: one row per sample year; ``bus``: EENS by bus (mean, stderr, kWh/yr); ``hour_of_day``: mean
    ENS per year falling in each hour of the day (kWh/yr) and the loss-of-load hours there (h/yr)."""
    import pandas as pd

    if kind == "year":
        return pd.DataFrame([{"year": r.year, **{c: getattr(r, c) for c in YEAR_COLUMNS}} for r in res.per_year])
    if kind == "bus":
        ci = res.customer.by_bus if res.customer is not None else {}   # customer indices when customers are given
        return pd.DataFrame([{"bus": b, "eens_kwh_per_year": e.mean, "stderr": e.stderr, **(
            {"customers": ci[b].customers, "interruptions_per_year": ci[b].frequency.mean,
             "interruptions_stderr": ci[b].frequency.stderr, "interrupted_h_per_year": ci[b].duration_h.mean,
             "interrupted_h_stderr": ci[b].duration_h.stderr} if b in ci else {})}
            for b, e in res.ens_by_bus_kwh_per_year.items()])
    if kind == "hour_of_day":
        ens = np.zeros(24)
        lol = np.zeros(24)
        for r in res.per_year:
            if r.ens_by_hour_of_day_kwh.size == 24:        # kept by assess() for every year
                ens += r.ens_by_hour_of_day_kwh
                lol += r.lol_by_hour_of_day
            elif r.ens_kw.size == r.hours.size and not (r.ens_kw.size == 0 and r.ens_kwh > 0):
                e, n_ = by_hour_of_day(r.hours, r.ens_kw)   # a YearResult straight from evaluate_year
                ens += e
                lol += n_
            else:
                raise GploptError(f"to_frame('hour_of_day'): year {r.year} has no hour-of-day profile (a result "
                                  "resumed from a journal written before gplopt kept it)")
        n = max(len(res.per_year), 1)
        return pd.DataFrame({"hour": np.arange(24), "ens_kwh_per_year": ens / n, "lol_h_per_year": lol / n})
    raise GploptError(f"to_frame: kind must be one of {', '.join(KINDS)}, got {kind!r}")


def write_frames(res: ReliabilityResult, out: Path, fmt: str = "csv") -> list[Path]:
    """``out/reliability_year.<fmt>``, ``out/reliability_bus.<fmt>`` and ``out/reliability_hour_of_day.<fmt>``,
    each written to a temporary name then renamed."""
    from gplopt.importers.profiles import missing_extra

    if fmt not in ("csv", "parquet"):
        raise GploptError(f"--out-format: must be csv or parquet, got {fmt!r}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise missing_extra("parquet", "pyarrow") from None
    out.mkdir(parents=True, exist_ok=True)
    frames: dict[str, Any] = {k: reliability_frame(res, k) for k in WRITTEN}
    written = []
    for kind, df in frames.items():
        path = out / f"reliability_{kind}.{fmt}"
        tmp = path.with_name(path.name + ".tmp")
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        tmp.replace(path)
        written.append(path)
    return written
