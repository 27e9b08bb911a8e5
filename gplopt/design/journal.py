"""The design run's journal: every evaluation's design, seed keys, results and timing, on the shared
self-certifying journal of :mod:`gplopt.checkpoint` (fingerprinted header, a checksum per line).

Records: ``{"kind": "start", "key": ...}`` before an evaluation and ``{"kind": "eval", "key": ...,
"evaluation": {...}}`` after it. On resume, finished evaluations are read back and never re-run; a
started-but-unfinished one is simply run again (same design, seed and years, so the same numbers). A torn last
line (a kill mid-write) is dropped with a warning; any other damaged line, a missing or torn header, or a journal
of another run is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gplopt.checkpoint import JsonlJournal, need, unique
from gplopt.design.evaluate import Evaluation
from gplopt.design.space import NAMES

EVAL_INTS = ("seed", "first_year", "years")
EVAL_NUMS = ("ecc_kw", "annual_cost", "ecc_per_cost", "ecc_per_cost_sd", "net_benefit", "net_benefit_sd",
             "eens_kwh_per_year", "v2g_kwh_per_year", "seconds")
SITE_FIELDS = {"id": "str", "bus": "int", "n_chargers": "int"}
LOT_FIELDS = {"value_kw": "num", "ci_low_kw": "num", "ci_high_kw": "num", "se_kw": "num", "converged": "bool",
              "note": "str"}


def eval_key(design_key: str, seed: int, first_year: int, years: int) -> str:
    return f"{design_key}|seed{seed}|y{first_year}+{years}"


class Journal:
    def __init__(self, path: str | Path | None, run_info: dict[str, Any]) -> None:
        self.path = Path(path) if path is not None else None
        self.done: dict[str, Evaluation] = {}
        self.started: set[str] = set()
        self.jr: JsonlJournal | None = None
        if self.path is not None:
            self.jr = JsonlJournal(self.path, run_info, "design", ("start", "eval"))
            self.started = {need(self.jr, n, r, "key", "str") for n, r in self.jr.records if r["kind"] == "start"}
            self.done = unique(self.jr, ((n, need(self.jr, n, r, "key", "str"), self._evaluation(n, r))
                                         for n, r in self.jr.records if r["kind"] == "eval"))
        self.loaded = len(self.done)

    def _evaluation(self, n: int, rec: dict[str, Any]) -> Evaluation:
        assert self.jr is not None
        d = need(self.jr, n, rec, "evaluation", "dict")
        design = need(self.jr, n, d, "design", "dict")
        for k in NAMES:
            need(self.jr, n, design, k, "int" if k == "n_chargers" else "num")
        for k in EVAL_INTS:
            need(self.jr, n, d, k, "int")
        for k in EVAL_NUMS:
            need(self.jr, n, d, k, "num")
        need(self.jr, n, d, "ecc_ci", "nums", 2)
        sites = self._sites(n, design)
        if "lots" in d:
            self._lots(n, need(self.jr, n, d, "lots", "dict"))
        extra = set(d) - {"design", "ecc_ci", "lots", *EVAL_INTS, *EVAL_NUMS} or set(design) - {*NAMES, "sites"}
        if extra:
            raise self.jr.bad(n, "evaluation", "an evaluation's known fields", sorted(extra))
        ev = Evaluation.from_dict({**d, "design": {**{k: design[k] for k in NAMES}, "sites": sites}})
        key = eval_key(ev.design.key(), ev.seed, ev.first_year, ev.years)
        if rec["key"] not in (key, key + "|lots"):
            raise self.jr.bad(n, "key", f"the evaluation's own key {key}", rec["key"])
        return ev

    def _sites(self, n: int, design: dict[str, Any]) -> list[dict[str, Any]]:
        """A siting design's lots, each ``{"id": str, "bus": int, "n_chargers": int}`` and nothing else."""
        assert self.jr is not None
        if "sites" not in design:
            return []
        sites = design["sites"]
        if not isinstance(sites, list) or not all(isinstance(s, dict) and set(s) == set(SITE_FIELDS) for s in sites):
            raise self.jr.bad(n, "design.sites", "a list of {id, bus, n_chargers} objects", sites)
        for s in sites:
            for k, kind in SITE_FIELDS.items():
                need(self.jr, n, s, k, kind)
        return sites

    def _lots(self, n: int, lots: dict[str, Any]) -> None:
        """Each lot's (and the joint) ECC of a reported siting: numbers, a flag and a note per lot."""
        assert self.jr is not None
        for row in lots.values():
            if not isinstance(row, dict) or set(row) != set(LOT_FIELDS):
                raise self.jr.bad(n, "lots", f"objects with exactly {', '.join(LOT_FIELDS)}", row)
            for k, kind in LOT_FIELDS.items():
                if kind == "bool":
                    if not isinstance(row[k], bool):
                        raise self.jr.bad(n, f"lots.{k}", "true or false", row[k])
                else:
                    need(self.jr, n, row, k, kind)

    @property
    def resumed(self) -> int:
        """Evaluations read back from an earlier run's journal (not those this run added)."""
        return self.loaded

    def _append(self, rec: dict[str, Any]) -> None:
        if self.jr is not None:
            self.jr.write(rec)

    def start(self, key: str) -> None:
        self._append({"kind": "start", "key": key})

    def finish(self, key: str, ev: Evaluation) -> None:
        self.done[key] = ev
        self._append({"kind": "eval", "key": key, "evaluation": ev.to_dict()})
