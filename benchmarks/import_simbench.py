"""Benchmark: importing a SimBench MV grid with its year of profiles, and evaluating it.

Run from anywhere: ``python benchmarks/import_simbench.py [--code 1-MV-semiurb--0-sw] [--years 3] [--no-write]``.

Import: wall time of ``gplopt import simbench`` as a library call (net from the simbench package, mapping,
profiles made hourly, validation and writing), against its peer measured in the same run: simbench's own
``get_simbench_net`` + ``get_absolute_values`` (what any SimBench study pays first). Evaluate: seconds per sample
year of ``assess`` on the imported grid against the same on instances/ieee33.json-sized Beijing case in the same
run (one worker each). Figures go to docs/performance.md between the ``import`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--code", default="1-MV-semiurb--0-sw")
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    import simbench as sb

    from gplopt.importers.simbench import import_simbench
    from gplopt.importers.write import write_imported
    from gplopt.instance import load_instance
    from gplopt.reliability import SequentialMonteCarlo, assess
    from gplopt.system import build_system

    t0 = time.perf_counter()
    net = sb.get_simbench_net(a.code)
    sb.get_absolute_values(net, profiles_instead_of_study_cases=True)
    t_peer = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sb.json"
        t0 = time.perf_counter()
        summary = write_imported(import_simbench(a.code), out)
        t_import = time.perf_counter() - t0
        system = build_system(load_instance(out), base_dir=out.parent)
        t_pf, t_pf0 = powerflow_times(system)
        spec = SequentialMonteCarlo(years=a.years)
        t0 = time.perf_counter()
        res = assess(system, spec)
        t_eval = (time.perf_counter() - t0) / a.years
    peer_sys = build_system(load_instance(ROOT / "instances" / "beijing.json"), base_dir=ROOT / "instances")
    t0 = time.perf_counter()
    assess(peer_sys, spec)
    t_peer_eval = (time.perf_counter() - t0) / a.years
    row_import = (f"| import ({summary['buses']} buses, {summary['units']} units, profiles) | {t_import:.1f} s | "
                  f"simbench load + absolute profiles {t_peer:.1f} s | {t_import / t_peer:.2f} |")
    row_pf = (f"| AC power flow, 8,760 hours at once, with the imported shunts | {t_pf:.2f} s | "
              f"same grid without shunts "
              f"{t_pf0:.2f} s | {t_pf / t_pf0:.2f} |")
    text = f"""## Import and evaluation of a SimBench MV grid

`python benchmarks/import_simbench.py --code {a.code} --years {a.years}` ({dt.date.today()}, one worker, a
2-core machine shared with other jobs: ratios are the figures to compare, seconds move with the load).

| step | gplopt | peer (same run) | ratio |
|---|---|---|---|
{row_import}
| evaluate, per sample year | {t_eval:.1f} s | Beijing 33-bus case {t_peer_eval:.1f} s | {t_eval / t_peer_eval:.2f} |
{row_pf}

EENS of the imported grid over {a.years} years: {res.eens_kwh_per_year} kWh/yr, OPF solves {res.opf_solves},
certified hours {res.hours_certified}. The import is dominated by simbench's own loading (its CSV tables); the
mapping, the hourly profiles and validation add the rest.
"""
    print(text)
    if not a.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import perfdoc

        perfdoc.write_section("import", text)


def powerflow_times(system: Any) -> tuple[float, float]:
    """Best of 3 of the batched AC power flow over the year's bus loads, with and without the bus shunts."""
    import dataclasses

    import numpy as np

    from gplopt.network.powerflow import run_powerflow
    from gplopt.system import system_bus_loads

    p, q = system_bus_loads(system)
    net = system.network
    bare = dataclasses.replace(net, shunt_g_pu=np.zeros(net.n_bus), shunt_b_pu=np.zeros(net.n_bus))
    out = []
    for n in (net, bare):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            run_powerflow(n, p, q)
            best = min(best, time.perf_counter() - t0)
        out.append(best)
    return out[0], out[1]


if __name__ == "__main__":
    main()
