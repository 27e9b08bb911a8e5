"""Consistency rules of branch reliability data, tie lines and customer counts (issue 14).

Each raises :class:`gplopt.errors.InstanceError` naming the JSON path, the rule and the value. The radial-tree
rule itself (over the closed branches) is :func:`gplopt.checks.check_radial_tree`.
"""

from __future__ import annotations

from gplopt.errors import InstanceError
from gplopt.instance import Branch, Instance

HOURS_PER_YEAR = 8760.0


def branch_times(b: Branch) -> tuple[float, float] | None:
    """(mttf_h, mttr_h) of a branch, or None when it never fails (no data, or a zero failure rate).

    ``mttf_h``/``mttr_h`` as given; ``failure_rate_per_year`` with ``mttr_h``: mttf = 8760 / rate;
    ``failure_rate_per_km_year`` with ``length_km`` and ``repair_h``: rate = rate per km x length,
    mttf = 8760 / rate, mttr = repair_h."""
    if b.mttf_h is not None and b.mttr_h is not None:
        return float(b.mttf_h), float(b.mttr_h)
    rate, mttr = None, b.mttr_h
    if b.failure_rate_per_year is not None:
        rate = b.failure_rate_per_year
    elif b.failure_rate_per_km_year is not None and b.length_km is not None:
        rate, mttr = b.failure_rate_per_km_year * b.length_km, b.repair_h
    if rate is None or mttr is None or rate <= 0:
        return None
    return HOURS_PER_YEAR / rate, float(mttr)


def check_branch_reliability(inst: Instance) -> None:
    """One complete way of giving a branch's outage data, or none."""
    for i, b in enumerate(inst.network.branches):
        where = f"network.branches[{i}]"
        if b.mttf_h is not None and b.mttr_h is None:
            raise InstanceError(f"{where}.mttr_h", "required with mttf_h", "missing")
        if b.mttr_h is not None and b.mttf_h is None and b.failure_rate_per_year is None:
            raise InstanceError(f"{where}.mttf_h", "required with mttr_h (or failure_rate_per_year)", "missing")
        if b.failure_rate_per_year is not None and b.mttr_h is None:
            raise InstanceError(f"{where}.mttr_h", "required with failure_rate_per_year", "missing")
        if b.mttf_h is not None and (b.failure_rate_per_year is not None or b.failure_rate_per_km_year is not None):
            raise InstanceError(where, "one of mttf_h, failure_rate_per_year, failure_rate_per_km_year",
                                "several given")
        if b.failure_rate_per_km_year is not None:
            if b.failure_rate_per_year is not None:
                raise InstanceError(where, "one of failure_rate_per_year, failure_rate_per_km_year", "both given")
            for name in ("length_km", "repair_h"):
                if getattr(b, name) is None:
                    raise InstanceError(f"{where}.{name}", "required with failure_rate_per_km_year", "missing")
        elif b.repair_h is not None:
            raise InstanceError(f"{where}.failure_rate_per_km_year", "required with repair_h", "missing")
        if b.normally_open and b.protection != "device":
            raise InstanceError(f"{where}.protection", "'device' on a normally_open tie line", b.protection)


def check_tie_lines(inst: Instance) -> None:
    """A normally_open branch joins two buses of the radial tree that no closed branch already joins, and no two
    ties join the same pair."""
    net = inst.network
    closed = {frozenset((b.from_bus, b.to_bus)) for b in net.branches if not b.normally_open}
    seen: set[frozenset[int]] = set()
    for i, b in enumerate(net.branches):
        if not b.normally_open:
            continue
        pair = frozenset((b.from_bus, b.to_bus))
        if len(pair) == 1 or pair in closed or pair in seen:
            raise InstanceError(f"network.branches[{i}]", "a normally_open tie line between two otherwise-radial "
                                "parts (two different buses not joined by another branch)", f"{b.from_bus}-{b.to_bus}")
        seen.add(pair)


BRANCH_RULES = (check_branch_reliability, check_tie_lines)
