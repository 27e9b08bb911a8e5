"""Currency-neutral money names: the instance's ``currency`` code and the one map of renamed fields.

Money fields are named for their unit without a currency (``price_per_kwh``, ``annual_cost``); the currency is
the instance's top-level ``currency`` (an ISO 4217 code, default ``CNY``), and every label of every output
(``kW per MCNY/yr``, ``USD/kWh``) is built from it. Before schema 1.2 the names carried ``cny``.

:data:`RENAMED` (old name -> new name) is the single copy of the rename. It drives

- the deprecation layer: instance files, model files, participation CSV headers and ``--set`` paths with an old
  name are read under the new one, with one ``warning: field 'X' is deprecated; use 'Y'`` per field
  (a :class:`FutureWarning`, printed as one line by the CLI); giving both names is an error;
- ``tools/rename_currency.py``, which rewrites source, tests, docs and data with word-boundary regexes and checks
  (``--check``) that no old name is left.

Two old names map to one new name only when they mean the same quantity (the storage cost model's
``power_cost_cny_per_kw`` and the provenance record's ``power_cny_per_kw`` are both the storage power cost).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from pydantic_core import PydanticCustomError

from gplopt.errors import InstanceError

DEFAULT = "CNY"
PAPER = "CNY"           # the GPL paper's own money figures (studies.PAPER), whatever the instance's currency
CODE = re.compile(r"^[A-Z]{3}$")
CODE_RULE = "an ISO 4217 currency code: 3 capital letters (e.g. CNY, USD, EUR)"

RENAMED: dict[str, str] = {
    # instance: incentive, economics, buses
    "price_cny_per_kwh": "price_per_kwh",
    "operator_reserve_price_cny_per_kwh": "operator_reserve_price_per_kwh",
    "voll_cny_per_kwh": "voll_per_kwh",
    "storage_power_cost_cny_per_kw": "storage_power_cost_per_kw",
    "storage_energy_cost_cny_per_kwh": "storage_energy_cost_per_kwh",
    "storage_om_cny_per_kwh_year": "storage_om_per_kwh_year",
    "charging_margin_cny_per_kwh": "charging_margin_per_kwh",
    # model files: storage costs and chargers
    "power_cost_cny_per_kw": "power_cost_per_kw",
    "energy_cost_cny_per_kwh": "energy_cost_per_kwh",
    "om_cny_per_kwh_year": "om_per_kwh_year",
    "capital_fixed_cny": "capital_fixed",
    "capital_per_kw_cny": "capital_per_kw",
    # provenance assumptions (the same quantities as the model files' storage costs)
    "incentive_cny_per_kwh": "incentive_per_kwh",
    "power_cny_per_kw": "power_cost_per_kw",
    "energy_cny_per_kwh": "energy_cost_per_kwh",
    # outputs: economics, studies, design, screen, journals
    "charger_cost_cny_per_year": "charger_cost_per_year",
    "charger_cost_cny": "charger_cost_annual",
    "storage_capex_annual_cny": "storage_capex_annual",
    "storage_om_annual_cny": "storage_om_annual",
    "v2g_payments_cny": "v2g_payments",
    "v2g_payments_stderr_cny": "v2g_payments_stderr",
    "load_reduction_payments_cny": "load_reduction_payments",
    "load_reduction_payments_stderr_cny": "load_reduction_payments_stderr",
    "battery_wear_cny": "battery_wear_cost",
    "battery_wear_stderr_cny": "battery_wear_cost_stderr",
    "annual_cost_cny": "annual_cost",
    "net_benefit_cny": "net_benefit",
    "net_benefit_ci_cny": "net_benefit_ci",
    "cost_per_kw_cny": "cost_per_kw",
    "storage_cost_per_kw_cny": "storage_cost_per_kw",
    "economic_benefit_cny": "economic_benefit",
    "paper_benefit_cny": "paper_benefit",
    "benefit_cny": "benefit",
}

_OLD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, RENAMED), key=len, reverse=True)) + r")\b")


def check_code(value: str) -> str:
    """Pydantic validator of ``currency``: three capital letters."""
    if not CODE.match(value):
        raise PydanticCustomError("currency_code", CODE_RULE)
    return value


def per_cost_unit(currency: str) -> str:
    """The unit of ECC per cost: ``kW per MCNY/yr`` (kW per million units of ``currency`` per year)."""
    return f"kW per M{currency}/yr"


class DeprecatedName(FutureWarning):
    """An old money name was read (the CLI prints it as one ``warning:`` line on stderr)."""


def deprecated(field: str, new: str) -> None:
    """The one-line notice for an old name (a FutureWarning: shown to users by default, once per field)."""
    warnings.warn(f"field '{field}' is deprecated; use '{new}'", DeprecatedName, stacklevel=3)


def rename_keys(data: Any, where: str = "", notice: bool = True) -> Any:
    """``data`` with every old key renamed (a copy where anything changed; ``data`` itself is not changed).
    One notice per field (list positions shown as ``[*]``); an object holding both names is an error. ``where``
    prefixes the field paths (``"file.json: "`` for a model file); ``notice=False`` renames silently (result
    files a report reads)."""
    return _walk(data, where, set() if notice else None)


def _walk(node: Any, where: str, seen: set[str] | None) -> Any:
    if isinstance(node, list):
        items = [_walk(x, f"{where}[*]", seen) for x in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    changed = False
    for key, value in node.items():
        path = f"{where}{key}" if where.endswith(" ") or not where else f"{where}.{key}"
        new = RENAMED.get(key) if isinstance(key, str) else None
        if new is not None:
            if new in node or new in out:     # the new name itself, or a synonym already read
                raise InstanceError(path, f"absent when '{new}' is given ('{key}' is its deprecated name)",
                                    "both given")
            if seen is not None and path not in seen:
                seen.add(path)
                deprecated(path, new)
            key, changed = new, True
        walked = _walk(value, path, seen)
        changed = changed or walked is not value
        out[key] = walked
    return out if changed else node


def rename_path(path: str) -> str:
    """A ``--set`` path with old names replaced, with the notice for each."""
    for old in dict.fromkeys(_OLD.findall(path)):
        deprecated(path.strip(), RENAMED[old])
    return apply(path)


def leftovers(text: str) -> list[str]:
    """The old names in ``text`` (for ``tools/rename_currency.py --check``)."""
    return _OLD.findall(text)


def apply(text: str) -> str:
    """``text`` with every old name (as a whole word) replaced by its new name."""
    return _OLD.sub(lambda m: RENAMED[m.group(1)], text)
