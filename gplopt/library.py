"""The model library: equipment and behaviour data in ``models/`` that instances reference by name.

Looked up, in order, in ``$GPLOPT_MODELS``, ``models/`` in the instance's folder and in its parent, and the
models bundled in the package (``gplopt/models/``, shipped in the wheel; the checkout's top-level ``models/``
is a link to it). Files are ``models/<kind>/<name>.json`` (participation curves may also be ``.csv`` with
columns ``price_per_kwh,v2g,load_reduction``); each is validated against its schema in
:mod:`gplopt.model_schemas` when it is read.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from gplopt.currency import rename_keys
from gplopt.errors import InstanceError
from gplopt.instance import read_json

KINDS = ("ev", "chargers", "participation", "reliability", "costs", "load_shapes")
BUNDLED = Path(__file__).resolve().parent / "models"   # package data: found the same way editable or installed


def model_dirs(base_dir: Path | None = None) -> list[Path]:
    dirs: list[Path] = []
    if os.environ.get("GPLOPT_MODELS"):
        dirs.append(Path(os.environ["GPLOPT_MODELS"]))
    if base_dir is not None:
        dirs += [base_dir / "models", base_dir.parent / "models"]
    dirs.append(BUNDLED)
    return [d for d in dirs if d.is_dir()]


def available(kind: str, base_dir: Path | None = None) -> list[str]:
    names: set[str] = set()
    for d in model_dirs(base_dir):
        if (d / kind).is_dir():
            names |= {p.stem for p in (d / kind).iterdir() if p.suffix in (".json", ".csv")}
    return sorted(names)


def find(kind: str, name: str, base_dir: Path | None = None) -> Path | None:
    for d in model_dirs(base_dir):
        for ext in (".json", ".csv"):
            p = d / kind / f"{name}{ext}"
            if p.is_file():
                return p
    return None


def load_model(kind: str, name: str, path: str = "", base_dir: Path | None = None) -> dict[str, Any]:
    """The named model as a dict, checked against its schema, or an InstanceError naming the field (or the
    model file, its field and rule) and the known names."""
    p = find(kind, name, base_dir)
    if p is None:
        known = ", ".join(available(kind, base_dir)) or "none"
        raise InstanceError(path or f"models/{kind}", f"a model in models/{kind} (known: {known})", name)
    return _read(kind, str(p), p.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _read(kind: str, p: str, mtime_ns: int) -> dict[str, Any]:
    """One model file, parsed and validated (cached per path and modification time)."""
    from gplopt.model_schemas import validate_model

    try:
        data = _read_csv(p) if p.endswith(".csv") else read_json(p)
    except InstanceError as exc:   # strict-JSON rules name a field; say which file it is in
        if exc.path.startswith(p):
            raise
        raise InstanceError(f"{p}: {exc.path}", exc.rule, exc.value) from None
    return validate_model(kind, rename_keys(data, f"{p}: "), p)   # old money names: read as new, with a notice


def _read_csv(p: str) -> dict[str, Any]:
    """A participation curve as CSV: a header ``price_per_kwh,v2g,load_reduction`` and one row per grade."""
    cols = ("price_per_kwh", "v2g", "load_reduction")
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            reader.fieldnames = list(rename_keys(dict.fromkeys(reader.fieldnames or []), f"{p}: header "))
            rows = list(reader)
    except UnicodeDecodeError:
        raise InstanceError(p, "UTF-8 text", "binary data") from None
    grades = []
    for i, r in enumerate(rows):
        grade: dict[str, float] = {}
        for c in cols:
            try:
                grade[c] = float(r[c])
            except KeyError:
                raise InstanceError(f"{p}: header", f"the columns {','.join(cols)}", list(r)) from None
            except (TypeError, ValueError):
                raise InstanceError(f"{p}: row {i + 2} {c}", "a number", r[c]) from None
        grades.append(grade)
    return {"name": Path(p).stem, "grades": grades}
