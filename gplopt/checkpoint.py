"""Checkpoints for long runs: append-only JSONL journals of finished work units (sample years of an
``evaluate``, points of a ``sweep`` or ``paper``). A run killed at any moment loses at most the unit in flight;
restarted with the same journal it reads finished units back and ends with the same answer. The first line
identifies the run; a journal of another run is refused. A torn last line (killed mid-write) is ignored."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.adequacy import YearResult
from gplopt.errors import GploptError

SCALARS = ("year", "ens_kwh", "lol_hours", "lol_events", "v2g_kwh", "load_reduction_kwh", "deferred_kwh",
           "charging_kwh", "hours_screened", "hours_certified", "opf_solves", "opf_failed", "peak_shortfall_kw",
           "min_soc_seen")


class JsonlJournal:
    def __init__(self, path: str | Path, run_info: dict[str, Any]) -> None:
        self.path = Path(path)
        self.records: list[dict[str, Any]] = []
        info = json.loads(json.dumps(run_info, default=str))
        if self.path.exists():
            lines = self.path.read_text(encoding="utf-8").splitlines()
            for k, line in enumerate(lines):
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if k == 0:
                    if rec.get("run") != info:
                        raise GploptError(f"--journal {self.path}: must belong to this run (same instance, "
                                          "seed and settings), got a journal of another run")
                    continue
                self.records.append(rec)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write({"run": info})

    def _write(self, rec: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, default=_plain) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def _plain(o: Any) -> Any:
    if isinstance(o, np.integer | np.bool_):
        return o.item()
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


class YearJournal(JsonlJournal):
    """Finished sample years of ``assess``."""

    def __init__(self, path: str | Path, run_info: dict[str, Any]) -> None:
        super().__init__(path, run_info)
        self.years: dict[int, YearResult] = {}
        for rec in self.records:
            if "year" in rec:
                r = YearResult(**{k: rec[k] for k in SCALARS}, ens_by_bus_kwh=np.asarray(rec["ens_by_bus_kwh"]),
                               ens_kw=np.zeros(0), failed_hours=list(rec.get("failed_hours", [])))
                self.years[r.year] = r

    def append(self, r: YearResult) -> None:
        self._write({**{k: getattr(r, k) for k in SCALARS}, "ens_by_bus_kwh": r.ens_by_bus_kwh,
                     "failed_hours": r.failed_hours})
        self.years[r.year] = r


class PointJournal(JsonlJournal):
    """Finished study points keyed by their overrides."""

    def __init__(self, path: str | Path, run_info: dict[str, Any]) -> None:
        super().__init__(path, run_info)
        self.points = {rec["key"]: rec["row"] for rec in self.records if "key" in rec}

    @staticmethod
    def key(overrides: dict[str, Any]) -> str:
        return json.dumps(overrides, sort_keys=True, default=str)

    def append(self, key: str, row: dict[str, Any]) -> None:
        self._write({"key": key, "row": row})
        self.points[key] = row
