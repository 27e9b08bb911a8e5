"""Closed-form (failure modes and effects) reliability indices of a radial feeder with branch outages: the exact
expected values the sequential Monte Carlo must reproduce, computed independently of gplopt's engine.

For every branch that can fail (rate lambda per year, mean repair time r) and every customer bus, the expected
interruption duration of one failure is found from the topology alone, in the textbook way (Billinton & Allan,
*Reliability Evaluation of Power Systems*, ch. 7):

- a failure trips the branch's own protective device (``protection: device``) or the nearest upstream one
  (``none``); every bus below that device is interrupted (one interruption each);
- buses not downstream of the faulted branch are restored after the sectioning time ``s`` (disconnectors);
- buses downstream of it are resupplied after ``s`` through a normally-open tie line whose other end is still
  supplied, if one reaches them; otherwise they wait for the repair.

Two disconnector arrangements (``switches``):

- ``"branch"``: the faulted branch alone is isolated (a disconnector at both ends of every branch): everything
  downstream of it that a tie reaches is resupplied. This is gplopt's schema (``network.sectioning_h``).
- ``"sending_end"``: one disconnector at the sending end of every branch, as drawn in the RBTS Bus 2 diagram:
  the faulted branch's receiving node goes with it, so what hangs directly at that node (laterals, load) waits
  for the repair and a tie resupplies only branches leaving that node whose subtree it reaches.

``durations``: ``"fixed"`` counts the sectioning time as ``s`` (the published convention, repair assumed longer);
``"min"`` counts ``E[min(R, s)] = r (1 - exp(-s/r))`` for exponential repair times R of mean r (service returns
at the repair if it comes first), which is what a simulation with exponential repairs sees. ``counting``:
``"event"`` counts every interruption (published), ``"hourly"`` as an hourly simulation sees it (an interruption
shorter than an hour may cover no hour's midpoint: it counts E[min(D, 1)]). ``frequency``:
``"rate"`` uses lambda per year (the published convention); ``"cycle"`` uses 8760 / (MTTF + MTTR), the long-run
number of failures per calendar year of an alternating up/down component with MTTF = 8760 / lambda.

SAIFI = sum(lambda_i N_i) / sum(N_i), SAIDI = sum(U_i N_i) / sum(N_i), CAIDI = SAIDI / SAIFI,
ASAI = 1 - SAIDI / 8760, ENS = sum(U_i L_i) with L_i the bus's average load (IEEE 1366 definitions).

Usage: ``python tools/radial_fmea.py instances/rbts_bus2.json [--switches branch] [--durations min]
[--frequency cycle] [--counting hourly] [--set PATH=VALUE ...]`` prints the indices as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

HOURS = 8760.0


@dataclass
class Feeder:
    """A radial tree of buses with failing branches and ties (plain numbers, no gplopt objects)."""
    slack: int
    parent: dict[int, tuple[int, int]] = field(default_factory=dict)   # bus -> (branch id, parent bus)
    device: dict[int, bool] = field(default_factory=dict)               # branch id -> protective device at it
    to_bus: dict[int, int] = field(default_factory=dict)                 # branch id -> receiving bus
    outage: dict[int, tuple[float, float]] = field(default_factory=dict)  # branch id -> (rate /yr, mean repair h)
    ties: list[tuple[int, int]] = field(default_factory=list)
    customers: dict[int, int] = field(default_factory=dict)
    load_kw: dict[int, float] = field(default_factory=dict)               # average load per bus

    def subtree(self, bus: int) -> set[int]:
        out, stack = {bus}, [bus]
        kids: dict[int, list[int]] = {}
        for b, (_, p) in self.parent.items():
            kids.setdefault(p, []).append(b)
        while stack:
            for c in kids.get(stack.pop(), []):
                out.add(c)
                stack.append(c)
        return out

    def trip_root(self, branch: int) -> int:
        """Receiving bus of the device that clears a fault on ``branch``: the nearest device at or above it, else
        the feeder's head branch (a feeder breaker at the substation is assumed, as gplopt does)."""
        bus = self.to_bus[branch]
        while True:
            br, up = self.parent[bus]
            if self.device[br] or up == self.slack:
                return bus
            bus = up


def feeder_from_instance(data: dict[str, Any], mean_load_kw: dict[int, float]) -> Feeder:
    """The tree of an instance's ``network`` (raw JSON data) with each bus's average load."""
    net = data["network"]
    fd = Feeder(slack=int(net.get("slack_bus", 1)), load_kw=dict(mean_load_kw))
    for b in net["buses"]:
        fd.customers[int(b["id"])] = int(b.get("customers") or 0)
    for br in net["branches"]:
        if br.get("normally_open"):
            fd.ties.append((int(br["from_bus"]), int(br["to_bus"])))
            continue
        bid = int(br["id"])
        fd.parent[int(br["to_bus"])] = (bid, int(br["from_bus"]))
        fd.to_bus[bid] = int(br["to_bus"])
        fd.device[bid] = br.get("protection", "device") == "device"
        rate_repair = branch_rate_repair(br)
        if rate_repair is not None:
            fd.outage[bid] = rate_repair
    return fd


def branch_rate_repair(br: dict[str, Any]) -> tuple[float, float] | None:
    """(failures per year, mean repair h) of a branch's data in any of the schema's three forms."""
    if br.get("mttf_h") is not None:
        return HOURS / float(br["mttf_h"]), float(br["mttr_h"])
    if br.get("failure_rate_per_year") is not None:
        rate, repair = float(br["failure_rate_per_year"]), float(br["mttr_h"])
    elif br.get("failure_rate_per_km_year") is not None:
        rate, repair = float(br["failure_rate_per_km_year"]) * float(br["length_km"]), float(br["repair_h"])
    else:
        return None
    return (rate, repair) if rate > 0 else None


def restorable(fd: Feeder, branch: int, switches: str) -> set[int]:
    """Buses downstream of a fault on ``branch`` that a tie resupplies after sectioning."""
    below = fd.subtree(fd.to_bus[branch])
    if switches == "branch":
        parts = [below]
    else:   # the receiving node stays with the fault: only whole child subtrees can be re-fed
        parts = [fd.subtree(b) for b, (_, p) in fd.parent.items() if p == fd.to_bus[branch]]
    out: set[int] = set()
    for part in parts:
        if any((a in part) != (b in part) and (a not in below or b not in below) for a, b in fd.ties):
            out |= part
    return out


def _e_min(repair: float, t: float) -> float:
    """E[min(R, t)] for R exponential with mean ``repair``."""
    return repair * (1.0 - math.exp(-t / repair))


def bus_indices(fd: Feeder, switches: str = "branch", durations: str = "fixed", frequency: str = "rate",
                counting: str = "event", sectioning_h: float = 1.0) -> dict[int, tuple[float, float]]:
    """Per bus: (interruptions per year, interruption hours per year).

    ``counting``: ``"event"`` counts every interruption; ``"hourly"`` counts one as a simulation on the hour
    grid sees it: an interruption of duration D covers an hour's midpoint with probability min(D, 1) (D
    uniformly placed), so it counts E[min(D, 1)]; its hours are counted without bias either way."""
    lam = dict.fromkeys(fd.customers, 0.0)
    unav = dict.fromkeys(fd.customers, 0.0)
    fixed = durations == "fixed"
    for br, (rate, repair) in fd.outage.items():
        f = rate if frequency == "rate" else HOURS / (HOURS / rate + repair)
        s = sectioning_h if fixed else _e_min(repair, sectioning_h)
        short = min(sectioning_h, 1.0)
        seen = {True: 1.0, False: 1.0} if counting == "event" else {   # True: waits for the repair
            True: _e_min(repair, 1.0), False: short if fixed else _e_min(repair, short)}
        below = fd.subtree(fd.to_bus[br])
        refed = restorable(fd, br, switches)
        for bus in fd.subtree(fd.trip_root(br)):
            waits = bus in below and bus not in refed
            lam[bus] += f * seen[waits]
            unav[bus] += f * (repair if waits else s)
    return {b: (lam[b], unav[b]) for b in fd.customers}


def system_indices(fd: Feeder, per_bus: dict[int, tuple[float, float]]) -> dict[str, float]:
    n = sum(fd.customers.values())
    saifi = sum(per_bus[b][0] * c for b, c in fd.customers.items()) / n
    saidi = sum(per_bus[b][1] * c for b, c in fd.customers.items()) / n
    ens = sum(per_bus[b][1] * fd.load_kw.get(b, 0.0) for b in fd.customers)
    return {"saifi": saifi, "saidi_h": saidi, "caidi_h": saidi / saifi if saifi else math.nan,
            "asai": 1.0 - saidi / HOURS, "ens_kwh_per_year": ens}


def instance_indices(path: str, overrides: Iterable[str] = (), **kw: Any) -> dict[str, Any]:
    """Closed-form indices of an instance file (after ``--set`` overrides), average bus loads from gplopt's own
    load model (the mean of each bus's hourly load), sectioning time from the instance."""
    from gplopt.instance import load_instance
    from gplopt.system import build_system

    inst = load_instance(path, list(overrides))
    system = build_system(inst, base_dir=inst.base_dir)
    shares = [b.p_kw for b in inst.network.buses]
    total = sum(shares)
    mean_load = float(system.load_kw.mean())
    loads = {b.id: mean_load * b.p_kw / total for b in inst.network.buses}
    data = inst.model_dump(mode="json")
    fd = feeder_from_instance(data, loads)
    per_bus = bus_indices(fd, sectioning_h=float(inst.network.sectioning_h), **kw)
    out: dict[str, Any] = system_indices(fd, per_bus)
    out["by_bus"] = {str(b): {"lambda_per_year": v[0], "u_h_per_year": v[1]} for b, v in per_bus.items()
                     if fd.customers[b] > 0}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--switches", choices=("branch", "sending_end"), default="branch")
    ap.add_argument("--durations", choices=("fixed", "min"), default="fixed")
    ap.add_argument("--frequency", choices=("rate", "cycle"), default="rate")
    ap.add_argument("--counting", choices=("event", "hourly"), default="event")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    print(json.dumps(instance_indices(args.instance, args.overrides, switches=args.switches,
                                      durations=args.durations, frequency=args.frequency,
                                      counting=args.counting), indent=1))


if __name__ == "__main__":
    main()
