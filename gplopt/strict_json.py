"""Strict JSON (RFC 8259): no NaN or Infinity ever. A non-finite number becomes ``null`` and the object that
holds it gets a ``<key>_null_reason`` field saying what it was, so a reader can tell "undefined" from "absent"."""

from __future__ import annotations

import json
import math
from typing import Any


def _plain(o: Any) -> Any:
    """numpy scalars and arrays, and objects with ``to_dict`` (results), as plain Python."""
    import numpy as np

    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def _reason(x: float) -> str:
    if math.isnan(x):
        return "NaN (undefined, e.g. 0/0 or no data)"
    return f"{'+' if x > 0 else '-'}Infinity (e.g. a ratio with a zero denominator)"


def _bad_reason(value: Any) -> str | None:
    """Why ``value`` (after cleaning) would hold non-finite numbers, or None if it holds none directly."""
    if isinstance(value, float) and not math.isfinite(value):
        return _reason(value)
    if isinstance(value, list | tuple):
        bad = [i for i, v in enumerate(value) if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            return f"items {bad}: {_reason(value[bad[0]])}"
    return None


def clean(obj: Any) -> Any:
    """A copy of ``obj`` with every non-finite float replaced by None and a ``<key>_null_reason`` beside it."""
    obj = _to_plain(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            v = _to_plain(v)
            why = _bad_reason(v)
            out[k] = clean(v)
            if why is not None:
                out[f"{k}_null_reason"] = why
        return out
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    return obj


def _to_plain(v: Any) -> Any:
    if isinstance(v, str | int | float | bool | dict | list | tuple | type(None)):
        return v
    return _plain(v)


def dumps(obj: Any, indent: int | None = 1) -> str:
    """``json.dumps`` that never writes NaN or Infinity (``allow_nan=False`` after :func:`clean`)."""
    return json.dumps(clean(obj), indent=indent, allow_nan=False)
