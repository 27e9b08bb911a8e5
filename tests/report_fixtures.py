"""Fixtures shared by the report tests: one result directory of every kind, without a long Monte Carlo run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_design import SMALL, Synthetic

from gplopt import load_instance
from gplopt.design.loop import DesignSpec, optimize, write_results
from gplopt.design.space import DesignSpace
from gplopt.provenance import record

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "results"
KINDS = ("paper", "tornado", "phases", "sweep", "sweep2", "design")


@pytest.fixture(scope="module")
def small() -> Any:
    return load_instance(ROOT / "instances" / "beijing.json", [f"{k}={json.dumps(v)}" for k, v in SMALL.items()])


@pytest.fixture(scope="module")
def synthetic_design(small: Any) -> Any:
    return optimize(small, DesignSpec(budget=12, seed=5), evaluator=Synthetic(DesignSpace.from_instance(small)))


@pytest.fixture(scope="module")
def result_dirs(tmp_path_factory: pytest.TempPathFactory, small: Any, synthetic_design: Any) -> dict[str, Path]:
    """One result directory of every kind: the committed study results, sweeps built from their points, and a
    design run through the synthetic evaluator (written with provenance, as the CLI writes it)."""
    base = tmp_path_factory.mktemp("results")
    dirs = {k: RESULTS / k for k in ("paper", "tornado", "phases")}
    paper = json.loads((RESULTS / "paper" / "result.json").read_text(encoding="utf-8"))
    pts = paper["table5"]
    for kind, rows, extra in (("sweep", pts, {"param": "gpl.discharge_kw", "param2": None}),
                              ("sweep2", [{**r, "value2": v2} for r in pts[:3] for v2 in (1.0, 2.0)],
                               {"param": "gpl.discharge_kw", "param2": "incentive.price_per_kwh"})):
        d = base / kind
        d.mkdir()
        shutil.copy(RESULTS / "paper" / "worst_day.csv", d)
        body = {**{k: paper[k] for k in ("instance", "seed", "years")}, "notes": small.notes, "kind": kind,
                "points": rows,
                **extra, **record(small, paper["seed"], paper["years"])}
        (d / "result.json").write_text(json.dumps(body), encoding="utf-8")
        dirs[kind] = d
    dirs["design"] = base / "design"
    dirs["design"].mkdir()
    write_results(synthetic_design, dirs["design"], {"instance": small.name, "notes": small.notes, "seed": 5,
                                                     "years": 10, **record(small, 5, 10)})
    return dirs
