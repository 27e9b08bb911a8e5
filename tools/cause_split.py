"""EENS, LOLE and V2G by cause without and with V2G on the same sample years, and the paired EENS reduction by
cause, as Markdown tables (docs/validation.md, "EENS by cause").

    python tools/cause_split.py instances/beijing.json instances/beijing_calibrated.json --years 30

Each instance runs ``assess`` twice on the same seed and years (the instance's seed unless ``--seed``): V2G off
(the lot present and charging; ``evaluate --no-v2g``) and on (``evaluate``); the numbers are those of
``gplopt evaluate FILE --years N --json [--no-v2g]`` (``by_cause``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gplopt.causes import paired_reduction  # noqa: E402
from gplopt.formatting import num, pm  # noqa: E402
from gplopt.instance import load_instance  # noqa: E402
from gplopt.reliability import Execution, SequentialMonteCarlo, assess  # noqa: E402
from gplopt.system import build_system  # noqa: E402


def tables(path: Path, years: int, seed: int | None, workers: int) -> str:
    inst = load_instance(path)
    system = build_system(inst)
    spec = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed)
    ex = Execution.from_instance(inst, workers=workers)
    off, on = assess(system, dataclasses.replace(spec, v2g=False), execution=ex), assess(system, spec, execution=ex)
    rows = paired_reduction(off.per_year, on.per_year)
    base, red = off.eens_kwh_per_year.mean, sum(r["reduction_kwh"] for r in rows)
    out = [f"**{inst.name}** ({years} sample years, seed {spec.seed}; MWh/yr and h/yr, value ± s.e.)\n",
           "| cause | EENS no V2G | EENS V2G | reduction (paired) | % of the cause's EENS | share of the "
           "reduction | LOLE no V2G | LOLE V2G | V2G energy |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pct = r["reduction_pct_of_cause"]
        d = pm(r["reduction_kwh"], r["reduction_se"], 1e-3)
        share = f"{'–' if pct is None else f'{pct:.1f} %'} | {100 * r['reduction_kwh'] / red:.1f} %"
        out.append(f"| {r['cause']} | {pm(r['eens_no_v2g_kwh'], r['eens_no_v2g_se'], 1e-3)} | "
                   f"{pm(r['eens_v2g_kwh'], r['eens_v2g_se'], 1e-3)} | {d} | {share} | "
                   f"{num(r['lole_no_v2g_h'])} | {num(r['lole_v2g_h'])} | {num(r['v2g_kwh'] / 1e3)} |")
    out.append(f"| **total** | {pm(base, off.eens_kwh_per_year.stderr, 1e-3)} | "
               f"{pm(on.eens_kwh_per_year.mean, on.eens_kwh_per_year.stderr, 1e-3)} | {num(red / 1e3)} | "
               f"{100 * red / base:.1f} % | 100 % | {num(off.lole_h_per_year.mean)} | {num(on.lole_h_per_year.mean)} | "
               f"{num(on.v2g_kwh_per_year.mean / 1e3)} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("instances", nargs="+", type=Path)
    ap.add_argument("--years", type=int, default=30)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    for p in a.instances:
        print(tables(p, a.years, a.seed, a.workers))


if __name__ == "__main__":
    main()
