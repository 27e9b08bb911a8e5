"""The model library: equipment and behaviour data in ``models/`` that instances reference by name.

Looked up, in order, in ``$GPLOPT_MODELS``, ``models/`` beside the instance's folder, and the ``models/``
folder of the gplopt source tree. Files are ``models/<kind>/<name>.json`` (participation curves may also be
``.csv`` with columns ``price_cny_per_kwh,v2g,load_reduction``).
"""

from __future__ import annotations

import csv
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from gplopt.errors import InstanceError

KINDS = ("ev", "chargers", "participation", "reliability", "costs", "load_shapes")


def model_dirs(base_dir: Path | None = None) -> list[Path]:
    dirs: list[Path] = []
    if os.environ.get("GPLOPT_MODELS"):
        dirs.append(Path(os.environ["GPLOPT_MODELS"]))
    if base_dir is not None:
        dirs += [base_dir / "models", base_dir.parent / "models"]
    dirs.append(Path(__file__).resolve().parent.parent / "models")
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
    """The named model as a dict, or an InstanceError naming the field and the known names."""
    p = find(kind, name, base_dir)
    if p is None:
        known = ", ".join(available(kind, base_dir)) or "none"
        raise InstanceError(path or f"models/{kind}", f"a model in models/{kind} (known: {known})", name)
    return _read(str(p))


@lru_cache(maxsize=64)
def _read(p: str) -> dict[str, Any]:
    if p.endswith(".csv"):
        with open(p, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return {
            "name": Path(p).stem,
            "grades": [
                {"price_cny_per_kwh": float(r["price_cny_per_kwh"]), "v2g": float(r["v2g"]),
                 "load_reduction": float(r["load_reduction"])}
                for r in rows
            ],
        }
    with open(p, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]
