"""Errors gplopt raises on purpose. The CLI turns each into one line and exit code 2."""

from __future__ import annotations

from typing import Any


class GploptError(Exception):
    """Base class: an expected, explainable failure (bad input, unavailable solver, ...)."""


class InstanceError(GploptError, ValueError):
    """An instance (or an override) breaks a rule. Names the JSON path, the rule and the value."""

    def __init__(self, path: str, rule: str, value: Any) -> None:
        self.path, self.rule, self.value = path, rule, value
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{path}: must be {rule}, got {shown}")


class SolverError(GploptError, RuntimeError):
    """A solver is missing, unlicensed, or failed in a way that cannot be recovered soundly."""
