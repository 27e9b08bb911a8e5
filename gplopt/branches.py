"""Branch outages: the failing branches of a radial network, their chronologies and what each outage
configuration disconnects (docs/distribution.md).

Every tree branch with outage data (:func:`gplopt.branch_checks.branch_times`) is a two-state component with
exponential up and down times, drawn like a unit's (:mod:`gplopt.streams`) from its own stream, purpose
``BRANCH`` keyed by a hash of the branch id: adding a branch never shifts another draw.

Protection and restoration. A fault on branch k opens the branch's *trip point*: k itself when its protection
is ``"device"``, else the nearest upstream branch with a device, else the feeder's head branch (a feeder
breaker at the substation is always assumed). Everything downstream of the trip point is interrupted. After
``network.sectioning_h`` hours (or at repair if sooner) disconnectors isolate k alone and the trip point
recloses: only what is downstream of k stays cut off, and normally-open tie lines then close to resupply a
cut-off part from an energized bus (one tie per part, within the tie's rating in each hour).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from gplopt.branch_checks import branch_times
from gplopt.grid_outages import GridOutages
from gplopt.streams import PURPOSES, chronology_budget, down_times, hour_index, overflow_rng, uniforms
from gplopt.system import Network

BRANCH = PURPOSES["branch"]   # stream purpose of branch chronologies
PRE, POST = 0, 1    # before / after sectioning


def branch_key(branch_id: int) -> int:
    return zlib.crc32(f"branch:{branch_id}".encode())


@dataclass(frozen=True)
class Tie:
    a: int                          # bus indices of its ends
    b: int
    rating_kva: float               # inf when unlimited
    id: int


@dataclass(frozen=True)
class BranchModel:
    """The failing tree branches (index k), each feeding bus ``bus[k]``, and the tie lines."""
    ids: np.ndarray                 # (K,) branch ids
    bus: np.ndarray                 # (K,) bus index fed by the branch
    trip: np.ndarray                # (K,) bus index whose feeding branch opens on the fault (the trip point)
    mttf_h: np.ndarray
    mttr_h: np.ndarray
    ties: tuple[Tie, ...]
    sectioning_h: float
    parent: np.ndarray              # (B,) of the network
    subtree: np.ndarray             # (B, B) bool: subtree[j] = buses downstream of j, j included
    _effects: dict[frozenset[tuple[int, int]], ConfigEffect] = field(default_factory=dict, repr=False,
                                                                     compare=False)

    @property
    def n(self) -> int:
        return int(self.ids.size)

    def effect(self, config: frozenset[tuple[int, int]]) -> ConfigEffect:
        """What a set of (branch index, phase) disconnects; cached per configuration."""
        eff = self._effects.get(config)
        if eff is None:
            eff = self._effects[config] = configuration_effect(self, config)
        return eff


def subtree_masks(net: Network) -> np.ndarray:
    sub = np.eye(net.n_bus, dtype=bool)
    for j in net.order[::-1]:
        if net.parent[j] >= 0:
            sub[net.parent[j]] |= sub[j]
    return sub


def build_branch_model(grid: GridOutages, net: Network) -> BranchModel:
    by_id = {b.id: b for b in grid.branches}
    feeds = {int(net.branch_ids[j]): j for j in range(net.n_bus) if net.branch_ids[j] >= 0}
    ks = [(bid, j, t) for bid, j in feeds.items() if (t := branch_times(by_id[bid])) is not None]
    ks.sort(key=lambda x: x[1])
    prot = {b.id: b.protection for b in grid.branches}
    trip = np.array([_trip_point(net, int(j), prot) for _, j, _ in ks], dtype=np.int64)
    ties = tuple(Tie(net.index(b.from_bus), net.index(b.to_bus),
                     float(b.rating_kva) if b.rating_kva is not None else float("inf"), b.id)
                 for b in grid.branches if b.normally_open)
    return BranchModel(ids=np.array([k[0] for k in ks], int), bus=np.array([k[1] for k in ks], int), trip=trip,
                       mttf_h=np.array([k[2][0] for k in ks], float), mttr_h=np.array([k[2][1] for k in ks], float),
                       ties=ties, sectioning_h=grid.sectioning_h, parent=net.parent,
                       subtree=subtree_masks(net))


def _trip_point(net: Network, j: int, protection: Mapping[int, str]) -> int:
    """Bus whose feeding branch opens on a fault of the branch feeding bus ``j``: the nearest branch with a
    device at or above it, else the feeder's head branch (a feeder breaker at the substation)."""
    x = j
    while protection[int(net.branch_ids[x])] != "device" and net.parent[x] != net.root:
        x = int(net.parent[x])
    return x


def outages(model: BranchModel, seed: int, year0: int, n_years: int,
            hours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(year offset, branch index, start, end) of every branch outage in years ``year0 ..``, continuous hours."""
    ys, ks, ss, es = [], [], [], []
    for k in range(model.n):
        mttf, mttr = float(model.mttf_h[k]), float(model.mttr_h[k])
        key = branch_key(int(model.ids[k]))
        u = uniforms(seed, BRANCH, key, year0, n_years, chronology_budget(mttf, mttr, hours))
        r, s, e = down_times(u, mttf, mttr, hours, _overflow(seed, key, year0))
        ys.append(r)
        ks.append(np.full(r.size, k))
        ss.append(s)
        es.append(e)
    if not ys:
        z = np.zeros(0)
        return z.astype(int), z.astype(int), z, z
    return np.concatenate(ys), np.concatenate(ks), np.concatenate(ss), np.concatenate(es)


def _overflow(seed: int, key: int, year0: int) -> Callable[[int], np.random.Generator]:
    return lambda row: overflow_rng(seed, BRANCH, key, year0 + row)


def phase_hours(model: BranchModel, k: np.ndarray, s: np.ndarray, e: np.ndarray,
                hours: int) -> Iterator[tuple[int, int, int, int]]:
    """(branch, first hour, first hour after sectioning, first hour after repair) of each outage: the first
    hour whose midpoint is at or after the fault, the sectioning (or the repair, if sooner) and the repair."""
    cut = s + np.minimum(model.sectioning_h, e - s)
    return zip(k.tolist(), hour_index(s, hours).tolist(), hour_index(cut, hours).tolist(),
               hour_index(e, hours).tolist(), strict=True)


def phases(model: BranchModel, k: np.ndarray, s: np.ndarray, e: np.ndarray,
           hours: int) -> list[tuple[int, int, tuple[int, int]]]:
    """Hour intervals (h0, h1, (branch, phase)) of one year's outages: PRE from the fault to sectioning (or
    repair), POST from sectioning to repair; an hour belongs to the phase covering its midpoint."""
    out = []
    for kk, a, c, b in phase_hours(model, k, s, e, hours):
        if c > a:
            out.append((a, c, (kk, PRE)))
        if b > c:
            out.append((c, b, (kk, POST)))
    return out


def unseen(model: BranchModel, k: np.ndarray, s: np.ndarray, e: np.ndarray, hours: int,
           local: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The interruptions of one year's outages that the hour grid does not see: (hour, bus mask) for the buses a
    fault interrupts for a time that covers no hour's midpoint, ``hour`` the first midpoint after the fault.

    A fault interrupts its protection zone (the PRE configuration) at once. Buses that wait for the repair are
    out over [fault, repair), the others (upstream of the isolating disconnector, or re-fed through a tie) over
    [fault, sectioning): each such interval that covers no midpoint is an interruption the grid misses
    (:func:`phases` puts hours on midpoints). Counting them makes the interruption count the number of faults
    that reach a bus, as IEEE 1366 counts sustained interruptions, while durations stay on the hour grid
    (unbiased there: an interval of length D covers D midpoints on average). Tie transfers are taken as made
    (the tie's rating is checked per hour only on the hours the grid sees). ``local`` (B,) marks the buses with
    a local unit or a lot: an island holding one is left to the grid's count (whether it holds for the moment
    is not evaluated)."""
    out = []
    for kk, a, c, b in phase_hours(model, k, s, e, hours):
        if c > a or a >= hours:          # the zone's interruption covers a midpoint (or starts after the year)
            continue
        label = model.effect(frozenset({(kk, PRE)})).label
        zone = (label >= 0) & ~np.isin(label, label[local & (label >= 0)])
        if b == a:                        # the whole outage between two midpoints: every bus of the zone
            out.append((a, zone))
            continue
        post = model.effect(frozenset({(kk, POST)}))
        waits = post.label >= 0
        for mask, _ in post.restored:
            waits &= ~mask
        if (zone & ~waits).any():         # re-fed at sectioning, before the next midpoint
            out.append((a, zone & ~waits))
    return out


def segments(items: list[tuple[int, int, tuple[int, int]]]) -> list[tuple[int, int, frozenset[tuple[int, int]]]]:
    """Split overlapping phase intervals into hour segments with a constant configuration."""
    if not items:
        return []
    cuts = sorted({h for a, b, _ in items for h in (a, b)})
    out = []
    for h0, h1 in zip(cuts[:-1], cuts[1:], strict=True):
        cfg = frozenset(x for a, b, x in items if a <= h0 and b >= h1)
        if cfg:
            out.append((h0, h1, cfg))
    return out


@dataclass(frozen=True)
class ConfigEffect:
    """Buses cut off from the substation in one configuration."""
    label: np.ndarray               # (B,) island label (its top bus) of each cut-off bus, -1 if supplied
    restored: tuple[tuple[np.ndarray, float], ...]   # (bus mask, tie rating) resupplied through a tie


def _open_top(model: BranchModel, opened: np.ndarray, cut: np.ndarray, x: int) -> int:
    while not opened[x] and model.parent[x] >= 0 and cut[model.parent[x]]:
        x = int(model.parent[x])
    return x


def configuration_effect(model: BranchModel, config: frozenset[tuple[int, int]]) -> ConfigEffect:
    n = model.parent.size
    opened = np.zeros(n, bool)
    blocked = np.zeros(n, bool)
    for k, ph in config:
        opened[model.bus[k]] = True
        if ph == PRE:
            opened[model.trip[k]] = True
            blocked |= model.subtree[model.trip[k]]
    cut: np.ndarray = np.asarray(model.subtree[opened].any(axis=0), bool)
    label = np.full(n, -1)
    for j in np.flatnonzero(cut).tolist():
        label[j] = _open_top(model, opened, cut, j)
    restored: list[tuple[np.ndarray, float]] = []
    if any(ph == POST for _, ph in config):
        live: np.ndarray = ~cut
        changed = True
        while changed:
            changed = False
            for t in model.ties:
                if live[t.a] == live[t.b]:
                    continue
                x = int(t.b if live[t.a] else t.a)
                part = label == label[x]
                if label[x] < 0 or (part & blocked).any():
                    continue
                restored.append((part, t.rating_kva))
                live |= part
                changed = True
    return ConfigEffect(label=label, restored=tuple(restored))
