"""``--set PATH=VALUE`` overrides on raw instance data.

Path syntax (docs/quickstart.md): dotted keys; on a list whose items have an ``id`` (buses, branches, units) a
plain segment is an **id** (``network.buses.18`` is the bus with ``"id": 18``, ``units.gas_turbine`` the unit
named so); ``[i]`` is always a 0-based **position** (``network.buses[17]``, ``units[0]``), the form error
messages print. On a list without ids (``design.incentive_grades``) a plain number is a position too. A
missing id, a position out of range, an id that two items share, or a key through a number is an error
naming the path. A block left at its defaults is filled with them before the override is merged into it, so
``gpl.sessions.arrival_h.std=2`` changes the standard deviation only.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel

from gplopt import jsonstrict
from gplopt.errors import InstanceError

_SEGMENT = re.compile(r"^(?P<key>[^\[\]]*)(?P<idx>(\[[^\[\]]*\])*)$")


def parse_value(text: str, where: str = "--set") -> Any:
    """A ``--set`` value: strict JSON if it parses (numbers, true/false/null, lists), else a plain string."""
    try:
        return jsonstrict.loads(text, where, root=where)
    except ValueError as exc:
        if isinstance(exc, InstanceError):
            raise
        jsonstrict.scan(text, where)   # a plain string: still no lone surrogates
        return text


def split_path(path: str) -> list[str | int]:
    """``network.buses[3].p_kw`` -> ``["network", "buses", 3, "p_kw"]`` (ints are positions)."""
    where = f"--set {path}"
    if not path.strip():
        raise InstanceError("--set", "non-empty dotted path", path)
    out: list[str | int] = []
    for seg in path.strip().split("."):
        m = _SEGMENT.match(seg)
        if m is None or (not m["key"] and not m["idx"]):
            raise InstanceError(where, "dotted keys, ids or [position] (e.g. network.buses[0].p_kw)", seg)
        if m["key"]:
            out.append(m["key"])
        for pos in re.findall(r"\[([^\[\]]*)\]", m["idx"]):
            if not pos.isdigit():
                raise InstanceError(where, "a position [i] with i a whole number >= 0", f"[{pos}]")
            out.append(int(pos))
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, unions, Annotated, list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _pick(models: list[type[BaseModel]], node: Any) -> type[BaseModel] | None:
    if len(models) > 1 and isinstance(node, dict):   # a discriminated union: the item's "type" chooses
        for m in models:
            tag = m.model_fields.get("type")
            if tag is not None and tag.default == node.get("type"):
                return m
    return models[0] if models else None


def _child(model: type[BaseModel] | None, key: str) -> list[type[BaseModel]]:
    if key == "gpl" and model is not None and "gpls" in model.model_fields:   # the 1.0 shorthand: one lot
        key = "gpls"
    field = model.model_fields.get(key) if model is not None else None
    return _models_in(field.annotation) if field is not None else []


def _default_block(model: type[BaseModel] | None, key: str) -> Any:
    """The schema default of ``model.key`` as raw data when it is a block, else an empty block."""
    field = model.model_fields.get(key) if model is not None else None
    if field is not None and not field.is_required():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            return default.model_dump(mode="json")
    return {}


def _list_index(items: list[Any], key: str | int, where: str, walked: str) -> int:
    """Position of the addressed item: ``int`` = position; ``str`` = id (or a position on a list without ids)."""
    if isinstance(key, int):
        if key >= len(items):
            raise InstanceError(where, f"a position < {len(items)} in '{walked}'", f"[{key}]")
        return key
    if any(isinstance(it, dict) and "id" in it for it in items) or not items:
        hits = [i for i, it in enumerate(items) if isinstance(it, dict) and str(it.get("id")) == key]
        if not hits:
            raise InstanceError(where, f"an existing id in '{walked}' (use [i] for a position)", key)
        if len(hits) > 1:
            raise InstanceError(where, f"an id that names one item of '{walked}' (ambiguous: items "
                                f"{hits}; use [i] for a position)", key)
        return hits[0]
    if key.isdigit() and int(key) < len(items):
        return int(key)
    raise InstanceError(where, f"a position < {len(items)} in '{walked}'", key)


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` in raw instance data, merging into schema defaults on the way."""
    from gplopt.currency import rename_path
    from gplopt.instance import Instance
    from gplopt.migrate import override_path, set_shorthand

    path = rename_path(path)     # an old money name (``incentive.price_per_kwh``): the new one, with a notice
    if path.strip() == "gpl" and set_shorthand(data, value):   # the whole 1.0 shorthand: replace the lot set
        return
    where = f"--set {path}"
    keys = split_path(override_path(data, path))
    node: Any = data
    cands: list[type[BaseModel]] = [Instance]   # the models the current node (or list item) may be
    walked = ""
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            idx = _list_index(node, key, where, walked)
            if last:
                node[idx] = value
                return
            node = node[idx]
        elif isinstance(node, dict) and isinstance(key, str):
            if last:
                node[key] = value
                return
            model = _pick(cands, node)
            if key not in node or node[key] is None:
                node[key] = _default_block(model, key)
            cands = _child(model, key)
            node = node[key]
        else:
            kind = "an object" if isinstance(node, dict) else "a list or an object"
            raise InstanceError(where, f"'{walked or '<root>'}' to be {kind} for {key!r}", node)
        walked = f"{walked}[{key}]" if isinstance(key, int) else (f"{walked}.{key}" if walked else key)


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply ``PATH=VALUE`` to raw instance data (see the module docstring for the path syntax)."""
    if "=" not in assignment:
        raise InstanceError("--set", "PATH=VALUE", assignment)
    path, _, raw = assignment.partition("=")
    set_path(data, path, parse_value(raw, f"--set {path.strip()}"))
