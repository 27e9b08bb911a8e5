"""Printing the IEEE 1366 customer indices of ``evaluate`` (docs/distribution.md)."""

from __future__ import annotations

from typing import Any

from gplopt.cli.format import show, table
from gplopt.customer_indices import CustomerIndices
from gplopt.formatting import SE, num, pm


def print_customer_indices(name: str, ci: CustomerIndices) -> None:
    rows = [[label, pm(est.mean, est.stderr), unit] for label, est, unit in (
        ("SAIFI", ci.saifi, "interruptions/customer/yr"), ("SAIDI", ci.saidi_h, "h/customer/yr"),
        ("CAIDI", ci.caidi_h, "h/interruption"), ("ASAI", ci.asai, "-"), ("ENS", ci.ens_kwh, "kWh/yr"),
        ("ENS from branch outages", ci.branch_ens_kwh, "kWh/yr"))]
    show(table(f"{name}: customer indices, IEEE 1366 ({SE})", ["index", "value ± s.e.", "unit"], rows,
               caption="hourly resolution: interruptions shorter than an hour are not seen (docs/distribution.md)"))
    bus_rows = [[str(b), num(x.customers), pm(x.frequency.mean, x.frequency.stderr),
                 pm(x.duration_h.mean, x.duration_h.stderr), pm(x.ens_kwh.mean, x.ens_kwh.stderr)]
                for b, x in ci.by_bus.items() if x.customers > 0 or x.ens_kwh.mean > 0]
    show(table(f"{name}: by bus ({SE})", ["bus", "customers", "interruptions/yr", "hours/yr", "ENS kWh/yr"],
               bus_rows))


def print_reliability_effect(name: str, resource: str, effect: dict[str, Any]) -> None:
    rows = [[label, pm(effect[k]["mean"], effect[k]["stderr"]), unit] for label, k, unit in (
        ("SAIDI change", "d_saidi_h", "h/customer/yr"), ("SAIFI change", "d_saifi", "interruptions/customer/yr"),
        ("EENS change", "d_eens_kwh", "kWh/yr"))]
    show(table(f"{name}: what {resource} does to the customer indices ({SE})", ["", "with - without", "unit"], rows,
               caption=f"paired on {effect['years']} common sample years (negative = fewer interruptions)"))
