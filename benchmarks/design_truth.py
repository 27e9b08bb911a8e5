"""Ground truth for the design-optimizer benchmark: every design of a reduced Beijing lattice, evaluated once.

    python benchmarks/design_truth.py [--lattice reduced|siting] [--years 10] [--seed 2021] [--workers 2]

``--lattice siting`` (written to ``benchmarks/data/design_siting_truth.json``): the design block of
``instances/beijing_two_lots.json`` itself, two lots each at one of the buses 18, 22, 27, 30 with 100 or 200
chargers, at most 300 chargers in all (the shared budget): 48 designs. Run with ``--years 5``: a design whose lots
overload a 500 kVA branch needs the OPF in many hours (one such design took 500-900 s on 10 years on the shared
machine), so the siting truth uses 5 sample years per design.

All designs are evaluated by the real inner evaluator (``gplopt.design.evaluate.evaluate_design``) on common
random numbers: the same seed and the same sample years ``0 .. years-1`` for every design. The results (one
``Evaluation.to_dict()`` per design, no hourly data) and the lattice definition are written to
``benchmarks/data/design_truth.json``; ``benchmarks/design.py`` replays optimizers against this file, so the
benchmark itself runs in seconds. A partial file is kept while running and an interrupted run resumes from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "data" / "design_truth.json"

# The reduced lattice: 5 x 3 x 4 x 3 = 180 designs.
LATTICE: dict[str, list[float]] = {
    "incentive_grades": [1.0, 1.25, 1.5, 1.75, 2.0],
    "n_chargers": [200, 300, 400],
    "discharge_kw": [2.0, 3.0, 4.0, 5.0],
    "soc_threshold": [0.80, 0.85, 0.90],
}


# The siting lattice: the design block of this instance as it is (no overrides).
SITING = {"instance": "instances/beijing_two_lots.json", "out": ROOT / "benchmarks" / "data" /
          "design_siting_truth.json"}


def lattice_overrides(lat: dict[str, list[float]]) -> dict[str, Any]:
    """``with_overrides`` paths that make the instance's ``design`` block this lattice."""
    return {"design.incentive_grades": lat["incentive_grades"],
            "design.n_chargers": {"values": lat["n_chargers"]},
            "design.discharge_kw": {"values": lat["discharge_kw"]},
            "design.soc_threshold": {"values": lat["soc_threshold"]}}


def reduced_instance(lat: dict[str, list[float]] | None = None) -> Any:
    from gplopt.instance import load_instance, with_overrides

    return with_overrides(load_instance(ROOT / "instances" / "beijing.json"), lattice_overrides(lat or LATTICE))


def lattice_instance(kind: str) -> Any:
    from gplopt.instance import load_instance

    return reduced_instance() if kind == "reduced" else load_instance(ROOT / SITING["instance"])


def _evaluate(args: tuple[dict[str, Any], int, int, str]) -> dict[str, Any]:
    from gplopt.design.evaluate import evaluate_design
    from gplopt.design.space import Design
    from gplopt.reliability import SequentialMonteCarlo

    design, years, seed, kind = args
    inst = lattice_instance(kind)
    ev = evaluate_design(inst, Design.from_dict(design),
                         SequentialMonteCarlo.from_instance(inst, years=years, seed=seed))
    return ev.to_dict()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--lattice", choices=("reduced", "siting"), default="reduced")
    args = ap.parse_args(argv)
    args.out = args.out or (OUT if args.lattice == "reduced" else SITING["out"])

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from gplopt.design.space import DesignSpace

    inst = lattice_instance(args.lattice)
    lattice = DesignSpace.from_instance(inst).lattice()
    partial = args.out.with_suffix(".partial.jsonl")
    done: dict[str, dict[str, Any]] = {}
    if partial.exists():
        for line in partial.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec["years"] == args.years and rec["seed"] == args.seed:
                done[json.dumps(rec["design"], sort_keys=True)] = rec
    todo = [d for d in lattice if json.dumps(d.to_dict(), sort_keys=True) not in done]
    print(f"{len(lattice)} designs, {len(done)} already in {partial.name}, {len(todo)} to evaluate "
          f"({args.years} sample years, seed {args.seed}, {args.workers} workers)", flush=True)
    t0 = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.workers) as ex, open(partial, "a") as fh:
        futs = [ex.submit(_evaluate, (d.to_dict(), args.years, args.seed, args.lattice)) for d in todo]
        for k, f in enumerate(as_completed(futs), 1):
            rec = f.result()
            done[json.dumps(rec["design"], sort_keys=True)] = rec
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            if k % 10 == 0 or k == len(todo):
                el = time.perf_counter() - t0
                print(f"  {k}/{len(todo)} in {el:.0f} s (eta {el / k * (len(todo) - k):.0f} s)", flush=True)
    wall = time.perf_counter() - t0
    evals = [done[json.dumps(d.to_dict(), sort_keys=True)] for d in lattice]
    prev_wall = 0.0
    if args.out.exists():   # a resumed run adds the wall time already spent
        with open(args.out) as fh:
            old = json.load(fh)
        if old.get("years") == args.years and old.get("seed") == args.seed and len(done) > len(todo):
            prev_wall = 0.0
    import numpy as np
    import sklearn

    truth = {
        "kind": "design_truth",
        "instance": "instances/beijing.json" if args.lattice == "reduced" else SITING["instance"],
        "lattice": LATTICE if args.lattice == "reduced" else inst.design.model_dump(mode="json"),
        "overrides": lattice_overrides(LATTICE) if args.lattice == "reduced" else {},
        "lattice_kind": args.lattice,
        "size": len(lattice),
        "years": args.years,
        "first_year": 0,
        "seed": args.seed,
        "objective": "ecc_per_cost",
        "workers": args.workers,
        "wall_seconds": round(wall + prev_wall, 1),
        "resumed_designs": len(lattice) - len(todo),
        "cpu_seconds_per_design": round(float(np.mean([e["seconds"] for e in evals])), 2),
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
                    f"{platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}",
        "evaluations": evals,
    }
    args.out.write_text(json.dumps(truth, indent=None, separators=(",", ":")) + "\n")
    best = max(evals, key=lambda e: e["ecc_per_cost"])
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB) in {wall:.0f} s; best {best['design']} "
          f"{best['ecc_per_cost']:.2f} kW/MCNY")
    if len(todo) == len(lattice):
        partial.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
