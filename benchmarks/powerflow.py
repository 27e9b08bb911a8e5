"""Benchmark: the batched radial AC power flow on all 8,760 Beijing hours vs pandapower hour by hour.

Run from anywhere: ``python benchmarks/powerflow.py [--pp-hours 50] [--repeats 5] [--threads 1]
[--no-write]``.

gplopt solves every hour at once (``run_powerflow`` on an (8760, 33) array, best of ``--repeats``). pandapower
gets the same network built from the System arrays (buses at base_kv, lines of the scaled R and X in ohm,
constant-PQ loads, an external grid at the slack voltage) and ``pp.runpp`` is timed over ``--pp-hours`` hours
spread over the year; its per-hour mean x 8,760 is the time it would take for the year. Both must agree on the
voltages of those hours. BLAS is limited to ``--threads`` (default 1, so one core is compared with one core:
pandapower's per-hour solve is single-threaded). The figures go to docs/performance.md between the
``powerflow`` markers; other benchmarks keep their own sections.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import perfdoc  # noqa: E402

from gplopt.instance import load_instance
from gplopt.network.powerflow import run_powerflow
from gplopt.system import Network, build_system, bus_loads_kw

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instances" / "beijing.json"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- powerflow:begin -->", "<!-- powerflow:end -->"
GOAL = 1000.0


def build_pandapower(net: Network):  # type: ignore[no-untyped-def]
    """The same feeder in pandapower: one 1-km line per branch with the per-unit impedance back in ohm."""
    import pandapower as pp

    z_base = net.base_kv**2 / (net.base_kva / 1000.0)
    pnet = pp.create_empty_network(sn_mva=net.base_kva / 1000.0)
    buses = [pp.create_bus(pnet, vn_kv=net.base_kv, name=int(b)) for b in net.bus_ids]
    pp.create_ext_grid(pnet, buses[net.root], vm_pu=net.v_ref, va_degree=0.0)
    for j in range(net.n_bus):
        if net.parent[j] >= 0:
            pp.create_line_from_parameters(
                pnet, buses[net.parent[j]], buses[j], length_km=1.0, r_ohm_per_km=float(net.r_pu[j] * z_base),
                x_ohm_per_km=float(net.x_pu[j] * z_base), c_nf_per_km=0.0, max_i_ka=1e3)
    loads = [pp.create_load(pnet, buses[j], p_mw=0.0, q_mvar=0.0) for j in range(net.n_bus)]
    return pnet, np.asarray(buses), np.asarray(loads)


def time_gplopt(net: Network, p: np.ndarray, q: np.ndarray, repeats: int) -> tuple[float, object]:
    run_powerflow(net, p[:24], q[:24])  # warm-up (imports, BLAS threads)
    best, res = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = run_powerflow(net, p, q)
        best = min(best, time.perf_counter() - t0)
    return best, res


def time_pandapower(net: Network, p: np.ndarray, q: np.ndarray, hours: np.ndarray
                    ) -> tuple[float, np.ndarray, str]:
    import pandapower as pp

    pnet, buses, loads = build_pandapower(net)
    vm = np.empty((hours.size, net.n_bus))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        pnet.load.loc[loads, "p_mw"] = p[hours[0]] / 1000.0  # warm-up run (lazy imports, ppc build)
        pnet.load.loc[loads, "q_mvar"] = q[hours[0]] / 1000.0
        pp.runpp(pnet, numba=False)
        t0 = time.perf_counter()
        for k, h in enumerate(hours):
            pnet.load.loc[loads, "p_mw"] = p[h] / 1000.0
            pnet.load.loc[loads, "q_mvar"] = q[h] / 1000.0
            pp.runpp(pnet, numba=False)
            vm[k] = pnet.res_bus.vm_pu.loc[buses].to_numpy()
        per_hour = (time.perf_counter() - t0) / hours.size
    return per_hour, vm, pp.__version__


def write_section(text: str) -> None:
    perfdoc.write_section("powerflow", text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pp-hours", type=int, default=50, help="hours timed with pandapower")
    ap.add_argument("--repeats", type=int, default=5, help="gplopt runs (best is kept)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for gplopt (0 = library default)")
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/performance.md alone")
    args = ap.parse_args()

    system = build_system(load_instance(INSTANCE), base_dir=INSTANCE.parent)
    net = system.network
    p, q = bus_loads_kw(net, system.load_kw)
    n_hours = p.shape[0]

    limit: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if args.threads > 0:
        try:
            from threadpoolctl import threadpool_limits

            limit = threadpool_limits(limits=args.threads, user_api="blas")
        except ImportError:
            print("threadpoolctl not installed: BLAS threads not limited")
    with limit:
        t_ours, res = time_gplopt(net, p, q, args.repeats)
    threads = "BLAS default threads" if args.threads <= 0 else f"BLAS threads {args.threads}"
    assert res.converged.all(), "gplopt power flow did not converge"  # type: ignore[attr-defined]
    hours = np.unique(np.r_[np.linspace(0, n_hours - 1, args.pp_hours - 1).round().astype(int),
                            int(np.argmax(system.load_kw))])
    t_pp, vm_pp, pp_version = time_pandapower(net, p, q, hours)
    vm_ours = res.vm_pu[hours]  # type: ignore[attr-defined]
    dv = float(np.abs(vm_ours - vm_pp).max())
    dvmin = float(np.abs(vm_ours.min(axis=1) - vm_pp.min(axis=1)).max())
    t_pp_year = t_pp * n_hours
    ratio = t_pp_year / t_ours

    sweeps = res.iterations  # type: ignore[attr-defined]
    met = "met" if ratio >= GOAL else "NOT met"
    lines = [
        f"gplopt  run_powerflow, {n_hours} hours x {net.n_bus} buses at once: {t_ours * 1e3:.1f} ms "
        f"(best of {args.repeats}, {sweeps} sweeps, {threads}; {t_ours / n_hours * 1e6:.2f} us/hour)",
        f"pandapower {pp_version} runpp, mean of {hours.size} hours: {t_pp * 1e3:.2f} ms/hour "
        f"-> x {n_hours} = {t_pp_year:.1f} s",
        f"speed-up: {ratio:,.0f}x (goal >= {GOAL:,.0f}x: {met})",
        f"agreement over those hours: max |dV| {dv:.2e} pu, max |d Vmin| {dvmin:.2e} pu",
    ]
    print("\n".join(lines))

    if not args.no_write:
        machine = (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}, numpy {np.__version__}, pandapower {pp_version}")
        write_section("\n".join([
            "## Power flow: a year of hours at once",
            "",
            f"`python benchmarks/powerflow.py` on {dt.date.today().isoformat()} ({machine}).",
            "",
            "Beijing feeder (33 buses, the instance's 8,760 hourly bus loads). gplopt solves the whole year "
            f"as one (8760 x 33) batched backward/forward sweep ({sweeps} sweeps, {threads}); pandapower "
            "(Newton-Raphson, `numba=False` as numba is not installed) is timed hour by hour on the same "
            "network built from the System arrays, and its per-hour mean is scaled to the year. One BLAS "
            "thread compares one core with one core (`--threads 0` leaves BLAS at its default).",
            "",
            "| | time | per hour |",
            "|---|---|---|",
            f"| gplopt `run_powerflow`, {n_hours} h at once (best of {args.repeats}) | {t_ours * 1e3:.1f} ms "
            f"| {t_ours / n_hours * 1e6:.2f} µs |",
            f"| pandapower `runpp`, mean of {hours.size} h, x {n_hours} | {t_pp_year:.1f} s | "
            f"{t_pp * 1e3:.2f} ms |",
            f"| **speed-up** | **{ratio:,.0f}x** | goal >= {GOAL:,.0f}x: {met} |",
            "",
            f"Agreement on the {hours.size} hours solved by both: max |ΔV| = {dv:.1e} pu over all buses, "
            f"max |ΔVmin| = {dvmin:.1e} pu.",
        ]))
        print(f"updated {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
