"""Append-only JSONL run journal: every evaluation's design, seed keys, results and timing.

Lines: ``{"kind": "run", ...}`` once, ``{"kind": "start", "key": ...}`` before an evaluation and
``{"kind": "eval", "key": ..., "evaluation": {...}}`` after it. On resume, finished evaluations are read back
and never re-run; a started-but-unfinished one is simply run again (same design, seed and years, so the
same numbers). A torn last line (a kill mid-write) is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gplopt.design.evaluate import Evaluation
from gplopt.errors import GploptError


def eval_key(design_key: str, seed: int, first_year: int, years: int) -> str:
    return f"{design_key}|seed{seed}|y{first_year}+{years}"


class Journal:
    def __init__(self, path: str | Path | None, run_info: dict[str, Any]) -> None:
        self.path = Path(path) if path is not None else None
        self.done: dict[str, Evaluation] = {}
        self.started: set[str] = set()
        self.loaded = 0
        if self.path is None:
            return
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue   # a torn line from an interrupted write
                if rec.get("kind") == "run" and rec.get("info") != run_info:
                    raise GploptError(f"--journal {self.path}: must belong to this run (same instance, seed, "
                                      f"objective and budget), got a journal of another run")
                if rec.get("kind") == "eval":
                    self.done[rec["key"]] = Evaluation.from_dict(rec["evaluation"])
                elif rec.get("kind") == "start":
                    self.started.add(rec["key"])
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._append({"kind": "run", "info": run_info})
        self.loaded = len(self.done)

    @property
    def resumed(self) -> int:
        """Evaluations read back from an earlier run's journal (not those this run added)."""
        return self.loaded

    def _append(self, rec: dict[str, Any]) -> None:
        if self.path is None:
            return
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def start(self, key: str) -> None:
        self._append({"kind": "start", "key": key})

    def finish(self, key: str, ev: Evaluation) -> None:
        self.done[key] = ev
        self._append({"kind": "eval", "key": key, "evaluation": ev.to_dict()})
