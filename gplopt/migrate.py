"""Older instance data -> the current format, in one place (docs/instance-format.md, "Migration").

schema_version 1.0 -> 1.1:

- ``gpl: {...}`` (one parking lot) is shorthand for ``gpls: [{"id": "gpl", ...}]``; ``gpl: null`` for
  ``gpls: []``. The shorthand's lot has the id ``gpl``, so its random streams (keyed by lot id,
  :mod:`gplopt.sampling`) are exactly those of 1.0 and an old instance gives the same numbers.
- ``--set gpl.X=V`` on an instance with exactly one lot addresses that lot (:func:`override_path`).

schema_version 1.1 -> 1.2:

- money fields lose ``cny`` from their names (``incentive.price_per_kwh``, ``economics.storage_power_cost_per_kw``;
  the map of old to new names is :data:`gplopt.currency.RENAMED`) and a top-level ``currency`` (default
  :data:`gplopt.currency.DEFAULT`) names the unit. An old name is read as the new one with a deprecation notice;
  both at once is an error.

Migration runs on raw data before validation, so an error still names the field the user wrote.
"""

from __future__ import annotations

from typing import Any

from gplopt.currency import rename_keys
from gplopt.errors import InstanceError

SHORTHAND_ID = "gpl"


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of ``data`` in the current format (``data`` itself is not changed)."""
    data = rename_keys(data)
    if "gpl" not in data:
        return data
    out = dict(data)
    gpl = out.pop("gpl")
    if "gpls" in out:
        raise InstanceError("gpl", "absent when 'gpls' is given (gpl is shorthand for a one-lot gpls list)",
                            "both given")
    out["gpls"] = _lots(gpl, "gpl")
    return out


def _lots(gpl: Any, where: str) -> list[dict[str, Any]]:
    """The ``gpls`` list the shorthand ``gpl`` stands for: ``null`` = no lot, an object = one lot with id ``gpl``."""
    if gpl is None:
        return []
    if isinstance(gpl, dict):
        return [{"id": SHORTHAND_ID, **gpl}]
    raise InstanceError(where, "an object (one parking lot) or null", gpl)


def set_shorthand(data: dict[str, Any], value: Any) -> bool:
    """``--set gpl=VALUE`` on data holding a ``gpls`` list: the whole lot set, as the shorthand reads
    (``null`` = no lot, an object = one lot with id ``gpl``). False when ``data`` still uses ``gpl`` itself."""
    if "gpl" in data or not isinstance(data.get("gpls"), list):
        return False
    data["gpls"] = _lots(value, "--set gpl")
    return True


def override_path(data: dict[str, Any], path: str) -> str:
    """``gpl.X`` -> ``gpls[0].X`` when ``data`` holds its lots as a ``gpls`` list of exactly one lot."""
    head, dot, rest = path.strip().partition(".")
    if head != "gpl" or "gpl" in data or not isinstance(data.get("gpls"), list):
        return path
    lots = data["gpls"]
    if not lots:   # no lot yet (``gpl: null``): ``gpl.X`` places one with id ``gpl``, as it did on 1.0 data
        lots.append({"id": SHORTHAND_ID})
    if len(lots) != 1:
        raise InstanceError(f"--set {path.strip()}", "'gpls.<id>.X' on an instance with several lots (gpl.X "
                            "addresses the only lot)", f"{len(lots)} lots")
    return "gpls[0]" + (dot + rest if dot else "")
