"""Benchmark: the cost of ``by_cause`` (gplopt/causes.py) on Beijing, against the year it splits.

Run from the repository root: ``python benchmarks/causes.py [--years 8] [--rounds 3] [--no-write]``.

In one process, on the same sample years, each round times (a) the sample year as ``assess`` ran it before
``by_cause`` existed (``sample_year`` + ``evaluate_year``) and (b) the split: ``plan_causes`` after each year
and one ``finish_causes`` for the batch (the copper-plate split, the hour's network part and the
no-failure re-simulation of the short days with a V2G participant's charger down, for the batch's years in one
call), interleaved, so both see the same machine load. Reports sample years per second with and without the
split, its cost as a share of a year (best round, and every round's), and how many days were re-simulated.
Goal (issue 15): the split costs at most ~10 % of a year. The figures go to docs/performance.md between the
``causes`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import perfdoc  # noqa: E402

from gplopt.adequacy import evaluate_year  # noqa: E402
from gplopt.causes import finish_causes, plan_causes  # noqa: E402
from gplopt.instance import load_instance  # noqa: E402
from gplopt.network.opf import SheddingOPF  # noqa: E402
from gplopt.sampling import sample_year  # noqa: E402
from gplopt.system import build_system  # noqa: E402


def one_round(system, opf, years: list[int], seed: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """(seconds of the years alone, seconds of the split alone, days re-simulated), as ``assess`` runs a batch:
    each year planned after it is evaluated, the batch's counterfactual re-simulation at the end."""
    t_year = t_split = 0.0
    plans = []
    for y in years:
        t0 = time.perf_counter()
        hist = sample_year(system, seed, y)
        r = evaluate_year(system, hist, opf)
        t1 = time.perf_counter()
        plans.append(plan_causes(system, hist, r, v2g=True))
        t_year += t1 - t0
        t_split += time.perf_counter() - t1
    t2 = time.perf_counter()
    finish_causes(system, plans, v2g=True)
    t_split += time.perf_counter() - t2
    return t_year, t_split, sum(int(p.days.size) for p in plans)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, default=8, help="one batch (assess's default batch_years)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    system = build_system(load_instance(ROOT / "instances" / "beijing.json"))
    lots = tuple(int(f.bus) for f in system.lots)
    opf = SheddingOPF(system.network, system.units, lots, "highs")
    years = list(range(a.years))
    one_round(system, opf, years[:1], a.seed)        # warm-up: imports, solver
    rounds = [one_round(system, opf, years, a.seed) for _ in range(a.rounds)]
    shares = [s / y for y, s, _ in rounds]
    best = min(range(len(rounds)), key=lambda k: rounds[k][0] + rounds[k][1])
    ty, ts, days = rounds[best]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""## by_cause: the cost of the split (`benchmarks/causes.py`)

Run {when} at commit {commit}, Beijing, seed {a.seed}, {a.years} sample years, one process, {a.rounds} rounds
(the machine is shared by several engineers: the best round is shown, every round's share in brackets).

| | sample years/s | s per year |
|---|---|---|
| year without the split (`sample_year` + `evaluate_year`) | {a.years / ty:.2f} | {ty / a.years:.3f} |
| year with `by_cause` (+ `plan_causes` + `finish_causes`) | {a.years / (ty + ts):.2f} | {(ty + ts) / a.years:.3f} |
| the split alone | | {ts / a.years:.4f} |

The split costs **{100 * ts / ty:.1f} %** of a year (rounds: {", ".join(f"{100 * s:.1f} %" for s in shares)}),
against the goal of at most ~10 %, so it is always on (no flag). Its charger counterfactual re-simulated
{days / a.years:.0f} days per year (the short days on which a V2G participant's charger was down while its PEV was
present, before the day's last shedding hour).
"""
    print(text)
    if not a.no_write:
        perfdoc.write_section("causes", text)


if __name__ == "__main__":
    main()
