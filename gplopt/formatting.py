"""How numbers are written for people, in the terminal and in reports alike: thousands separators, no
e-notation, ``value ± standard error`` with the s.e. at two significant figures. No dependency beyond the standard
library, so every layer (report, cli) can use it."""

from __future__ import annotations

import math
from typing import Any

SE = "± = standard error"
Z90 = 1.6448536269514722       # a 90 % two-sided normal interval is ± 1.645 s.e.


def num(x: Any, digits: int | None = None) -> str:
    """A number for people: thousands separators, no e-notation, 3-4 significant figures unless told."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if isinstance(x, int) and digits is None:
        return f"{x:,d}"
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 100 or float(x).is_integer() else 1 if a >= 10 else 2 if a >= 1 else 3
        text = f"{x:,.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{x:,.{digits}f}"


def pm(mean: float, se: float | None, scale: float = 1.0) -> str:
    """``mean ± se`` rounded so the s.e. keeps two significant figures (``466,000 ± 11,000``)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    m = mean * scale
    if se is None or not math.isfinite(se) or se <= 0:
        return num(m)
    s = se * scale
    exp = int(math.floor(math.log10(s))) - 1      # keep two significant figures of the s.e.
    if exp >= 0:
        q = 10.0 ** exp
        return f"{round(m / q) * q:,.0f} ± {round(s / q) * q:,.0f}"
    return f"{m:,.{-exp}f} ± {s:,.{-exp}f}"


def se_from_ci(lo: float, hi: float, level: float = 0.90) -> float:
    """A standard error from a two-sided interval (results written before s.e. columns existed)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    return (hi - lo) / (2 * z)


def row_se(r: Any, se_key: str, lo_key: str, hi_key: str) -> float:
    """A row's s.e. column, or one derived from its 90 % interval when the column is absent or empty."""
    v = r.get(se_key) if hasattr(r, "get") else None
    if v is not None and isinstance(v, int | float) and math.isfinite(v):
        return float(v)
    lo, hi = r.get(lo_key), r.get(hi_key)
    return se_from_ci(float(lo), float(hi)) if lo is not None and hi is not None else float("nan")
