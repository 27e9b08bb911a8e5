"""Runs the reliability benchmark times in fresh processes: the bare-numpy referee, gplopt before and after a
change (a git revision unpacked with ``git archive``), and Beijing to its 5 % CoV stopping rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFEREE = ROOT.parent / "shared" / "bench" / "hl1_referee.py"


def referee(years: int, seed: int, data: Path | None = None) -> dict[str, Any] | None:
    """The referee's own timing (start-up excluded) of ``years`` years of its RBTS data, or of ``data`` (its
    format: units with capacity_mw, mttf_h, mttr_h and the load in MW), or None when it is absent."""
    if not REFEREE.is_file():
        return None
    extra = ["--data", str(data)] if data is not None else []
    out = subprocess.run([sys.executable, str(REFEREE), "--years", str(years), "--seed", str(seed), "--json", *extra],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def unpack(rev: str, dest: Path) -> Path | None:
    """The tree of git revision ``rev`` under ``dest`` (None when it cannot be read)."""
    try:
        blob = subprocess.run(["git", "archive", "--format=tar", rev], capture_output=True, check=True, cwd=ROOT)
    except (OSError, subprocess.CalledProcessError):
        return None
    path = dest / rev
    path.mkdir(parents=True, exist_ok=True)
    tar = dest / f"{rev}.tar"
    tar.write_bytes(blob.stdout)
    with tarfile.open(tar) as t:
        t.extractall(path, filter="data")
    return path


def _run(code: str, tree: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tree, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def beijing_years(tree: Path, years: int, seed: int) -> dict[str, Any]:
    """``assess`` of Beijing on ``years`` fixed years, one process, in the code of ``tree`` (warm-up excluded)."""
    code = (
        "import json\n"
        "from pathlib import Path\n"
        "from gplopt.instance import load_instance\n"
        "from gplopt.reliability import SequentialMonteCarlo, assess\n"
        "from gplopt.system import build_system\n"
        "p = Path('instances/beijing.json')\n"
        "inst = load_instance(p)\n"
        "s = build_system(inst, base_dir=p.parent)\n"
        "assess(s, SequentialMonteCarlo.from_instance(inst, years=1, seed=1))\n"
        "import time\n"
        "c0 = time.process_time()\n"
        f"r = assess(s, SequentialMonteCarlo.from_instance(inst, years={years}, seed={seed}))\n"
        "cpu = time.process_time() - c0\n"
        "print(json.dumps({'seconds': r.seconds, 'cpu': cpu, 'years': r.years, 'opf_solves': r.opf_solves,\n"
        "  'eens': [r.eens_kwh_per_year.mean, r.eens_kwh_per_year.stderr]}))\n")
    return _run(code, tree)


def to_cov(tree: Path, instance: str, workers: int) -> dict[str, Any]:
    """Wall time to the instance's stopping rule (5 % CoV of EENS) in a fresh process, start-up included.

    Peak memory of that process is its VmHWM (reset by exec; ``ru_maxrss`` is not: Linux carries the peak of
    the forking parent across fork + exec). For worker processes only ``RUSAGE_CHILDREN`` is available, an
    upper bound for the same reason."""
    code = (
        "import json, resource, time\n"
        "t0 = time.perf_counter()\n"
        "def hwm_mb():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "from pathlib import Path\n"
        "from gplopt.instance import load_instance\n"
        "from gplopt.reliability import SequentialMonteCarlo, assess\n"
        "from gplopt.system import build_system\n"
        f"p = Path('instances/{instance}.json')\n"
        "inst = load_instance(p)\n"
        "system = build_system(inst, base_dir=p.parent)\n"
        "try:   # the engine after the method/execution split\n"
        "    from gplopt.reliability import Execution\n"
        "    spec = SequentialMonteCarlo.from_instance(inst)\n"
        f"    kw = {{'execution': Execution.from_instance(inst, workers={workers})}}\n"
        "except ImportError:   # an older engine (--before): workers were part of the method\n"
        f"    spec, kw = SequentialMonteCarlo.from_instance(inst, workers={workers}), {{}}\n"
        "r = assess(system, spec, **kw)\n"
        "wall = time.perf_counter() - t0\n"
        "print(json.dumps({'wall': wall, 'assess': r.seconds, 'years': r.years, 'stopped_by': r.stopped_by,\n"
        "  'cov': r.eens_kwh_per_year.cov, 'eens': [r.eens_kwh_per_year.mean, r.eens_kwh_per_year.stderr],\n"
        "  'target_cov': spec.target_cov, 'rss_self_mb': hwm_mb(),\n"
        "  'rss_children_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n")
    return _run(code, tree)


def temp_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="gplopt-bench-")
