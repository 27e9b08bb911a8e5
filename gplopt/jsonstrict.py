"""Strict JSON for instances and ``--set`` values: what ``json.loads`` lets through silently, rejected by name.

``json.loads`` keeps the last of duplicate keys, turns a 5,000-digit integer into a ``ValueError``, 3,000 levels
of nesting into a ``RecursionError``, and accepts lone UTF-16 surrogates (``"\\ud800"``) that later crash any
print. Here each becomes an :class:`InstanceError` naming the JSON path, the rule and the value:

- duplicate keys in one object;
- integers of more than :data:`MAX_INT_DIGITS` digits (no instance number needs more);
- nesting deeper than :data:`MAX_DEPTH` levels (instances need fewer than 10);
- strings holding lone surrogates (not Unicode text);
- NaN and +-Infinity (``NaN``, ``Infinity`` literals or overflowing numbers such as ``1e999``).

The walk is iterative, so no input can exhaust the Python stack.
"""

from __future__ import annotations

import json
import math
from typing import Any

from gplopt.errors import InstanceError

MAX_DEPTH = 32
MAX_INT_DIGITS = 15


class _BigInt:
    """Placeholder for an integer literal too long to be a number the instance needs (found by ``scan``)."""

    def __init__(self, text: str) -> None:
        self.text = text


class _DupDict(dict):  # type: ignore[type-arg]
    """An object in which ``key`` appeared more than once (found by ``scan``, which knows the path)."""

    dup_key: str = ""


def _parse_int(text: str) -> Any:
    return _BigInt(text) if len(text.lstrip("-")) > MAX_INT_DIGITS else int(text)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            dup = _DupDict(out)
            dup.dup_key = k
            return dup
        out[k] = v
    return out


def loads(text: str, where: str, root: str = "") -> Any:
    """Parse ``text`` (from ``where``: a file name or ``--set PATH``) and ``scan`` it (paths under ``root``)."""
    try:
        data = json.loads(text, parse_int=_parse_int, object_pairs_hook=_pairs,
                          parse_constant=lambda c: float(c))
    except RecursionError:
        raise InstanceError(where, f"JSON nested at most {MAX_DEPTH} levels deep", "deeper") from None
    scan(data, root)
    return data


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def scan(obj: Any, root: str) -> None:
    """Raise on the first duplicate key, long integer, excessive depth, lone surrogate or non-finite number."""
    stack: list[tuple[Any, str, int]] = [(obj, root, 0)]
    while stack:
        node, path, depth = stack.pop()
        where = path or "<root>"
        if isinstance(node, _BigInt):
            raise InstanceError(where, f"an integer of at most {MAX_INT_DIGITS} digits",
                                f"{len(node.text.lstrip('-'))} digits")
        if isinstance(node, int) and not isinstance(node, bool) and abs(node) >= 10**MAX_INT_DIGITS:
            raise InstanceError(where, f"an integer of at most {MAX_INT_DIGITS} digits",
                                f"about {int(abs(node).bit_length() * math.log10(2)) + 1} digits")
        if isinstance(node, float) and not math.isfinite(node):
            raise InstanceError(where, "finite number", node)
        if isinstance(node, str) and _has_surrogate(node):
            raise InstanceError(where, "Unicode text (a lone surrogate is not)",
                                node.encode("utf-8", "backslashreplace").decode("ascii"))
        if isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                raise InstanceError(where, f"JSON nested at most {MAX_DEPTH} levels deep", "deeper")
            if isinstance(node, _DupDict):
                raise InstanceError(_join(path, node.dup_key), "a key given once (duplicate JSON keys are "
                                    "rejected)", node.dup_key)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for k, v in items:
                if isinstance(k, str) and _has_surrogate(k):
                    raise InstanceError(where, "keys of Unicode text (a lone surrogate is not)",
                                        k.encode("utf-8", "backslashreplace").decode("ascii"))
                stack.append((v, _join(path, k), depth + 1))
