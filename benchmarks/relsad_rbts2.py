"""Run relsad's own RBTS Bus 2 example (``relsad.examples.RBTS2``) as a sequential Monte Carlo on one process with
hourly steps, and print one JSON line: sample years, seconds (start-up excluded: network built and loads set before
the clock starts), years per second, relsad's version and its system indices averaged over the years.

Run with an interpreter that has relsad installed (relsad 0.2.15 needs Python < 3.11), e.g.
``/work/venv-relsad/bin/python benchmarks/relsad_rbts2.py --years 5``. ``benchmarks/relsad_compare.py`` calls it in a
subprocess. This file imports nothing from gplopt.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time


def indices(save_dir: str) -> dict[str, list[float]]:
    """relsad's system indices (``monte_carlo/ps1/<INDEX>.csv``, one row per iteration): mean and standard error
    over the iterations."""
    import pandas as pd

    out: dict[str, list[float]] = {}
    for name in ("SAIFI", "SAIDI", "CAIDI", "ASAI", "ENS"):
        path = os.path.join(save_dir, "monte_carlo", "ps1", f"{name}.csv")
        if os.path.isfile(path):
            col = pd.read_csv(path)["ps1"].astype(float)
            err = float(col.std(ddof=1) / len(col) ** 0.5) if len(col) > 1 else float("nan")
            out[name] = [float(col.mean()), err]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2837314)
    args = ap.parse_args()
    import importlib.metadata

    from relsad.examples.RBTS2.load_and_prod import set_network_load_and_prod
    from relsad.examples.RBTS2.network import initialize_network
    from relsad.simulation import Simulation
    from relsad.Time import Time, TimeStamp, TimeUnit

    ps = set_network_load_and_prod(power_system=initialize_network())
    sim = Simulation(ps, random_seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        sink = io.StringIO()   # relsad prints a line per iteration
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            sim.run_monte_carlo(iterations=args.years,
                                start_time=TimeStamp(year=2019, month=1, day=1, hour=0, minute=0, second=0),
                                stop_time=TimeStamp(year=2020, month=1, day=1, hour=0, minute=0, second=0),
                                time_step=Time(1, TimeUnit.HOUR), time_unit=TimeUnit.HOUR, save_iterations=[],
                                save_dir=tmp, n_procs=1, debug=True, save_flag=True)
        seconds = time.perf_counter() - t0
        found = indices(tmp)
    print(json.dumps({"years": args.years, "seconds": seconds, "years_per_s": args.years / seconds,
                      "version": importlib.metadata.version("relsad"), "python": sys.version.split()[0],
                      "indices": found}))


if __name__ == "__main__":
    main()
