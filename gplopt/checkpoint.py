"""Self-certifying checkpoints for long runs: append-only JSONL journals of finished work units (sample years of
``evaluate``, points of ``sweep``/``paper``, evaluations of ``design``). One implementation for every command.

Line 1 is a header that fingerprints everything the answer depends on (the instance after overrides, the
contents of the model files it names, the built System for ``evaluate``, the seed, the method settings and the
gplopt version); it is written atomically (temp file + rename) before the first record. Every line carries
``"sum"``: the first 16 hex digits of the sha256 of the line's canonical JSON without ``"sum"``.

Reading back: a line that does not parse or fails its checksum is the torn tail of a killed write if it is the
last line (dropped with a one-line warning, the file truncated to its last good line, the unit recomputed) and
corruption anywhere else (refused). A missing, torn or foreign header is refused, naming what differs. A run
killed at any moment loses at most the unit in flight and, restarted, ends with the same answer.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.adequacy import YearResult
from gplopt.causes import ENTRIES
from gplopt.errors import GploptError, InstanceError
from gplopt.instance import Instance
from gplopt.io import write_text_atomic

# 3: money keys lost "cny" (gplopt.currency.RENAMED) and instances gained `currency`. A format-2 journal is
# refused by its format before its fingerprint is compared, so records with the old keys are never read back.
FORMAT = 3
SUM_HEX = 16
SCALARS = ("year", "ens_kwh", "lol_hours", "lol_events", "v2g_kwh", "load_reduction_kwh", "deferred_kwh",
           "charging_kwh", "hours_screened", "hours_certified", "opf_solves", "opf_failed", "peak_shortfall_kw",
           "min_soc_seen")
INTS = ("year", "lol_hours", "lol_events", "hours_screened", "hours_certified", "opf_solves", "opf_failed")
MODEL_FIELDS = (("load", "shape", "load_shapes"), ("gpl", "ev_type", "ev"), ("gpl", "participation", "participation"),
                ("gpl", "charger_type", "chargers"), ("economics", "costs_model", "costs"))


# ------------------------------------------------------------------------------------------ fingerprints
def _plain(o: Any) -> Any:
    if isinstance(o, np.integer | np.bool_):
        return o.item()
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_plain)


def checksum(rec: dict[str, Any]) -> str:
    """The checksum of one journal line: sha256 of its canonical JSON without ``"sum"``, 16 hex digits."""
    return hashlib.sha256(canonical({k: v for k, v in rec.items() if k != "sum"}).encode()).hexdigest()[:SUM_HEX]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:SUM_HEX]


def instance_sha(inst: Instance) -> str:
    return _sha(canonical(inst.model_dump(mode="json")).encode())


def models_sha(inst: Instance, base_dir: Path | None = None) -> str:
    """The contents of every model file the instance names (as resolved now, from the instance's own folder
    too) and of its data files (load CSV, profiles, bus table)."""
    from gplopt.library import find

    base_dir = base_dir if base_dir is not None else inst.base_dir
    h = hashlib.sha256()
    for block, attr, kind in MODEL_FIELDS:
        for obj in (inst.gpls if block == "gpl" else [getattr(inst, block, None)]):   # every lot's models
            name = getattr(obj, attr, None)
            if name is None:
                continue
            p = find(kind, str(name), base_dir)
            h.update(f"{kind}/{name}:".encode() + (p.read_bytes() if p is not None else b"<missing>") + b"\0")
    data_files = (inst.load.csv, inst.load.bus_table, inst.profiles.file if inst.profiles is not None else None)
    for f in data_files:
        if f:
            p = Path(f)
            h.update(b"file:" + (p.read_bytes() if p.is_file() else b"<missing>"))
    return h.hexdigest()[:SUM_HEX]


def _feed(h: Any, obj: Any) -> None:
    if isinstance(obj, np.ndarray):
        h.update(f"{obj.dtype.str}{obj.shape}".encode() + np.ascontiguousarray(obj).tobytes())
    elif is_dataclass(obj) and not isinstance(obj, type):
        for f in fields(obj):
            if f.metadata.get("fingerprint", True):
                h.update(f.name.encode())
                _feed(h, getattr(obj, f.name))
    elif isinstance(obj, tuple | list):
        h.update(b"(")
        for x in obj:
            _feed(h, x)
        h.update(b")")
    else:
        h.update(repr(obj).encode() + b";")


def content_sha(obj: Any) -> str:
    """sha256 (hex) of every array and scalar of ``obj`` (dataclasses, tuples and lists walked through)."""
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()


def system_sha(system: Any) -> str:
    """Every array and scalar of a built System (so also the resolved model contents it holds)."""
    h = hashlib.sha256()
    _feed(h, system)
    grid = getattr(system, "grid", None)
    if grid is not None and (grid.customers is not None or any(
            b.normally_open or b.protection != "device" or b.mttf_h or b.failure_rate_per_year
            or b.failure_rate_per_km_year for b in grid.branches)):
        # branch outages and customers (System.grid, read by gplopt.distribution): hashed only when given,
        # so systems without them keep their hash
        h.update(repr((grid.sectioning_h, None if grid.customers is None else grid.customers.tolist(),
                       [b.model_dump() for b in grid.branches])).encode())
    return h.hexdigest()[:SUM_HEX]


def run_identity(inst: Instance, seed: int, method: dict[str, Any], system: Any = None,
                 base_dir: Path | None = None) -> dict[str, Any]:
    """What makes a journal belong to a run: everything its answer depends on, and nothing else."""
    import gplopt

    out = {"gplopt_version": gplopt.__version__, "instance_sha256": instance_sha(inst),
           "models_sha256": models_sha(inst, base_dir), "seed": seed, "method": method}
    if system is not None:
        out["system_sha256"] = system_sha(system)
    return json.loads(canonical(out))  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------ the journal
class JsonlJournal:
    """The shared reader/writer. ``records`` holds (line number, record) of every verified record."""

    def __init__(self, path: str | Path, run_info: dict[str, Any], kind: str, kinds: tuple[str, ...]) -> None:
        self.path = Path(path)
        self.where = f"--journal {self.path}"
        self.kind, self.kinds = kind, kinds
        self.records: list[tuple[int, dict[str, Any]]] = []
        info = json.loads(canonical(run_info))
        data = self._read()
        if not data:
            self._create({"kind": "run", "journal": self.kind, "format": FORMAT, "info": info})
            return
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        good_end = self._check(lines, info)
        if good_end < len(data):
            self._drop_tail(good_end, len(lines))
        elif not data.endswith(b"\n"):
            self._append_raw("\n")

    def _read(self) -> bytes:
        p = self.path
        if p.is_dir():
            raise InstanceError(self.where, "a file", "a directory")
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            return p.read_bytes() if p.exists() else b""
        except OSError as exc:
            raise InstanceError(self.where, "a readable file in a folder that can be created",
                                exc.strerror or type(exc).__name__) from None

    def _create(self, header: dict[str, Any]) -> None:
        try:
            write_text_atomic(self.path, self._line(header))
        except OSError as exc:
            raise InstanceError(self.where, "a writable file", exc.strerror or type(exc).__name__) from None

    def _check(self, lines: list[bytes], info: dict[str, Any]) -> int:
        """Verify every line; returns the byte offset where the good lines end."""
        header = _verified(lines[0])
        if (header is None or header.get("kind") != "run" or not isinstance(header.get("info"), dict)
                or set(header) != {"kind", "journal", "format", "info", "sum"}):
            raise InstanceError(f"{self.where}:1", "a gplopt journal header with a matching checksum "
                                "(a missing, torn or edited header is never trusted)", _show(lines[0]))
        if header["journal"] != self.kind or header["format"] != FORMAT:
            raise InstanceError(f"{self.where}:1", f"a format-{FORMAT} journal of `{self.kind}`",
                                f"a format-{header['format']} journal of `{header['journal']}`")
        if header["info"] != info:
            raise GploptError(f"{self.where}: must be a journal of this run (same instance, models, seed, settings "
                              f"and gplopt version), got a journal of another run: "
                              f"{_differences(header['info'], info)}")
        end = len(lines[0]) + 1
        for n, raw in enumerate(lines[1:], start=2):
            rec = _verified(raw)
            if rec is None or rec.get("kind") not in self.kinds:
                if n == len(lines):
                    return end          # the torn tail of a killed write
                raise InstanceError(f"{self.where}:{n}", "a journal record with a matching checksum (the "
                                    "journal was edited or corrupted; delete it to start over)", _show(raw))
            self.records.append((n, rec))
            end += len(raw) + 1
        return end

    def _drop_tail(self, good_end: int, n: int) -> None:
        print(f"warning: {self.where}: line {n} is torn (a write cut short), dropped; that work is redone",
              file=sys.stderr)
        with open(self.path, "r+b") as fh:
            fh.truncate(good_end)
            fh.flush()
            os.fsync(fh.fileno())

    @staticmethod
    def _line(rec: dict[str, Any]) -> str:
        rec = json.loads(json.dumps(rec, default=_plain))    # plain JSON types, the writer's key order
        return json.dumps({**rec, "sum": checksum(rec)}, default=_plain) + "\n"

    def _append_raw(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    def write(self, rec: dict[str, Any]) -> None:
        self._append_raw(self._line(rec))

    def bad(self, n: int, field: str, rule: str, value: Any) -> InstanceError:
        return InstanceError(f"{self.where}:{n}: {field}", rule, value)


def _verified(raw: bytes) -> dict[str, Any] | None:
    """The record on a line, or None if it is not UTF-8 JSON object text whose checksum matches."""
    try:
        rec = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("sum"), str) or rec["sum"] != checksum(rec):
        return None
    return rec


def _show(raw: bytes) -> str:
    return raw[:60].decode("utf-8", "replace") + ("..." if len(raw) > 60 else "")


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    keys = sorted(set(old) | set(new), key=str)
    diff = [f"{k} {_short(old.get(k))} in the journal, {_short(new.get(k))} now" for k in keys
            if old.get(k) != new.get(k)]
    return "; ".join(diff) or "different header"


def _short(v: Any) -> str:
    s = canonical(v)
    return s if len(s) <= 40 else s[:37] + "..."


# ------------------------------------------------------------------------------------------ typed fields
def need(jr: JsonlJournal, n: int, rec: dict[str, Any], key: str, kind: str, length: int | None = None) -> Any:
    """``rec[key]``, checked: ``int`` (an integer, not a bool), ``num`` (a number), ``str``, ``nums``/``ints``
    (a list of those, of ``length`` if given), ``dict``. Anything else is refused with the line number."""
    if key not in rec:
        raise jr.bad(n, key, "present (a record lacks a field)", "missing")
    v = rec[key]
    if kind in ("nums", "ints"):
        if not isinstance(v, list) or (length is not None and len(v) != length):
            rule = f"a list of {length} numbers" if length is not None else "a list of numbers"
            raise jr.bad(n, key, rule, f"{type(v).__name__} of length {len(v)}" if isinstance(v, list) else v)
        for x in v:
            _scalar(jr, n, key, kind[:-1], x)
        return v
    if kind == "dict":
        if not isinstance(v, dict):
            raise jr.bad(n, key, "an object", v)
        return v
    _scalar(jr, n, key, kind, v)
    return v


def _scalar(jr: JsonlJournal, n: int, key: str, kind: str, v: Any) -> None:
    ok = {"int": _is_int(v), "num": isinstance(v, int | float) and not isinstance(v, bool),
          "str": isinstance(v, str)}.get(kind, False)
    if not ok:
        raise jr.bad(n, key, {"int": "an integer", "num": "a number", "str": "a string"}.get(kind, kind), v)


def _is_int(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and math.isfinite(v) and v.is_integer())


def unique(jr: JsonlJournal, items: Iterator[tuple[int, Any, Any]]) -> dict[Any, Any]:
    """key -> value from (line, key, value); the same key on two lines whose records differ is corruption."""
    raw = dict(jr.records)
    out: dict[Any, Any] = {}
    first: dict[Any, int] = {}
    for n, k, v in items:
        if k in first and canonical(raw[first[k]]) != canonical(raw[n]):
            raise jr.bad(n, str(k), f"recorded once (or identically; see line {first[k]})", "a different record")
        first.setdefault(k, n)
        out[k] = v
    return out


# ------------------------------------------------------------------------------------------ per command
HOUR_OF_DAY = ("ens_by_hour_of_day_kwh", "lol_by_hour_of_day")
INTERRUPTIONS = ("interruptions_by_bus", "interrupted_h_by_bus")   # distribution reliability (issue 14)


class YearJournal(JsonlJournal):
    """Finished sample years of ``assess`` (``evaluate``)."""

    def __init__(self, path: str | Path, run_info: dict[str, Any], n_bus: int | None = None) -> None:
        super().__init__(path, run_info, "evaluate", ("year",))
        self.years: dict[int, YearResult] = unique(self, ((n, r.year, r) for n, r in (
            (n, self._year(n, rec, n_bus)) for n, rec in self.records)))

    def _year(self, n: int, rec: dict[str, Any], n_bus: int | None) -> YearResult:
        vals = {k: need(self, n, rec, k, "int" if k in INTS else "num") for k in SCALARS}
        if vals["year"] < 0:
            raise self.bad(n, "year", ">= 0", vals["year"])
        vals["year"] = int(vals["year"])
        by_bus = need(self, n, rec, "ens_by_bus_kwh", "nums", n_bus)
        failed = need(self, n, rec, "failed_hours", "ints")
        by_lot = need(self, n, rec, "v2g_kwh_by_lot", "nums") if "v2g_kwh_by_lot" in rec else []
        ens_hod, lol_hod = (np.asarray(need(self, n, rec, k, "nums", 24) if k in rec else [], float)
                            for k in HOUR_OF_DAY)
        n_int, h_int = (np.asarray(need(self, n, rec, k, "nums", n_bus) if k in rec else [], float)
                        for k in INTERRUPTIONS)
        branch = float(need(self, n, rec, "branch_ens_kwh", "num")) if "branch_ens_kwh" in rec else 0.0
        return YearResult(**vals, ens_by_bus_kwh=np.asarray(by_bus, float), ens_kw=np.zeros(0),
                          failed_hours=list(failed), v2g_kwh_by_lot=np.asarray(by_lot, float),
                          ens_by_hour_of_day_kwh=ens_hod, lol_by_hour_of_day=lol_hod, branch_ens_kwh=branch,
                          interruptions_by_bus=n_int, interrupted_h_by_bus=h_int,
                          by_cause=self._causes(n, rec))

    def _causes(self, n: int, rec: dict[str, Any]) -> np.ndarray:
        """(3, entries) ENS, LOL hours and V2G by cause (gplopt.causes), or empty for a record without them."""
        if "by_cause" not in rec:
            return np.zeros((0, 0))
        d = need(self, n, rec, "by_cause", "dict")
        if set(d) == set(ENTRIES) - {"branch_outage"}:
            # written before branch_outage existed: only years without branch outages had a split then
            # (the distribution path wrote none), so their branch_outage part is exactly 0
            d = {**d, "branch_outage": [0.0, 0.0, 0.0]}
        if set(d) != set(ENTRIES):
            raise self.bad(n, "by_cause", f"one entry per cause: {', '.join(ENTRIES)}", sorted(d))
        return np.array([need(self, n, d, c, "nums", 3) for c in ENTRIES], float).T

    def append(self, r: YearResult) -> None:
        self.write({"kind": "year", **{k: getattr(r, k) for k in SCALARS}, "ens_by_bus_kwh": r.ens_by_bus_kwh,
                     "failed_hours": r.failed_hours, "v2g_kwh_by_lot": r.v2g_kwh_by_lot,
                     **{k: getattr(r, k) for k in HOUR_OF_DAY if getattr(r, k).size == 24},
                     **{k: getattr(r, k) for k in INTERRUPTIONS if getattr(r, k).size},
                     **({"branch_ens_kwh": r.branch_ens_kwh} if r.interruptions_by_bus.size else {}),
                     **({"by_cause": {c: r.by_cause[:, j] for j, c in enumerate(ENTRIES)}}
                        if r.by_cause.shape == (3, len(ENTRIES)) else {})})
        self.years[r.year] = r


POINT_NUMBERS, BOOT_KEY, MAX_BOOT = ("ecc_kw", "net_benefit", "ecc_per_cost", "years"), "_ecc_boot", 100_000


class PointJournal(JsonlJournal):
    """Finished study points (``sweep``, ``paper``) keyed by their overrides."""

    def __init__(self, path: str | Path, run_info: dict[str, Any]) -> None:
        super().__init__(path, run_info, "points", ("point",))
        self.points: dict[str, dict[str, Any]] = unique(self, (
            (n, need(self, n, rec, "key", "str"), self._row(n, rec)) for n, rec in self.records))

    def _row(self, n: int, rec: dict[str, Any]) -> dict[str, Any]:
        row = need(self, n, rec, "row", "dict")
        for k in POINT_NUMBERS:
            need(self, n, row, k, "num")
        for k, v in row.items():   # scalars, and the bootstrap replicates (gplopt.paired.BOOT) kept for paired CIs
            if k == BOOT_KEY and not (isinstance(v, list) and len(v) <= MAX_BOOT and all(
                    isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in v)):
                raise self.bad(n, f"row.{k}", f"a list of at most {MAX_BOOT:,} finite numbers", type(v).__name__)
            if k != BOOT_KEY and not (v is None or isinstance(v, str | int | float | bool)):
                raise self.bad(n, f"row.{k}", "a number, string, boolean or null", v)
        return dict(row)

    @staticmethod
    def key(overrides: dict[str, Any]) -> str:
        return json.dumps(overrides, sort_keys=True, default=str)

    def append(self, key: str, row: dict[str, Any]) -> None:
        self.write({"kind": "point", "key": key, "row": row})
        self.points[key] = dict(row)
