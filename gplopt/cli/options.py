"""Option rules shared by every command, checked while the command line is parsed (before any work starts).

Each numeric option has one stated range, whatever the command; the instance FILE must be an existing regular
file; ``--scheduler`` must be ``local`` or a Dask address. The rules are attached to the Click parameters that
Typer builds (``install_checks``), so a command's signature stays a plain Typer signature and an option added
later under one of these names gets the same rule."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gplopt.errors import GploptError, InstanceError
from gplopt.parallel import probe_scheduler

MAX_YEARS = 100_000          # the instance file's cap on simulation.max_years (gplopt/checks.py)
MAX_WORKERS = 256
MAX_SEED = 2**32 - 1         # numpy SeedSequence takes more, scikit-learn and Optuna seeds do not
MAX_BUDGET = 10_000
MAX_TIME_LIMIT_S = 30 * 86400.0


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    low_open: bool = False   # (low, high] instead of [low, high]
    high_open: bool = False

    def holds(self, v: float) -> bool:
        if isinstance(v, float) and not math.isfinite(v):
            return False
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        return above and below

    @property
    def rule(self) -> str:
        lo, hi = _fmt(self.low), _fmt(self.high)
        return f"in {'(' if self.low_open else '['}{lo}, {hi}{')' if self.high_open else ']'}"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# Option (Python parameter name) -> range. Every numeric option of every command is listed here.
RANGES: dict[str, Range] = {
    "years": Range(1, MAX_YEARS),
    "max_years": Range(1, MAX_YEARS),
    "seed": Range(0, MAX_SEED),
    "workers": Range(1, MAX_WORKERS),
    "budget": Range(1, MAX_BUDGET),
    "cov": Range(0.0, 1.0, low_open=True, high_open=True),
    "tolerance": Range(0.0, 1.0, low_open=True, high_open=True),
    "ecc_rel_precision": Range(0.0, 1.0, low_open=True, high_open=True),
    "time_limit": Range(0.0, MAX_TIME_LIMIT_S, low_open=True),
}

def check_range(name: str, option: str, value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    r = RANGES[name]
    if not r.holds(value):
        raise InstanceError(option, r.rule, value)
    return value


def check_file(option: str, value: Path | None) -> Path | None:
    if value is None:
        return value
    p = Path(value)
    if p.is_dir():
        raise InstanceError(option, "an existing file", f"{value} (a directory)")
    if not p.exists():
        raise InstanceError(option, "an existing file", f"{value} (not found)")
    if not p.is_file():
        raise InstanceError(option, "an existing regular file", f"{value} (not a regular file)")
    return value


def check_out(value: Path | None, is_dir: bool) -> Path | None:
    """``--out`` before any work: not a dangling symlink, not under a file, and (for a result directory) not a
    file. gplopt/io.py checks again when it writes (the file system may change meanwhile)."""
    if value is None:
        return value
    p = Path(value)
    if p.is_symlink() and not p.exists():
        raise GploptError(f"--out {p}: must be a directory or a new path, got a dangling symlink to "
                          f"{os.readlink(p)}")
    if is_dir and p.exists() and not p.is_dir():
        raise GploptError(f"--out {p}: must be a directory, got an existing file")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise GploptError(f"--out {p}: must be a directory, got a path under an existing file ({parent})")
            break
    return value


def check_scheduler(value: str | None) -> str | None:
    """Checked before anything is loaded: a bad address exits 2 at once, an unreachable one within seconds."""
    if value is not None:
        probe_scheduler(value)
    return value


def _chain(param: Any, check: Any) -> None:
    previous = param.callback

    def callback(ctx: Any, p: Any, value: Any) -> Any:
        if previous is not None:
            value = previous(ctx, p, value)
        return check(value)

    param.callback = callback


def param_label(param: Any) -> str:
    """How the user wrote it: ``--years`` for an option, ``FILE`` for an argument."""
    if getattr(param, "param_type_name", "") == "argument":
        return str(getattr(param, "display_name_raw", None) or param.name).upper()
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0] if longs else str(param.opts[0])


# commands whose --out is a file, not a result directory
OUT_IS_FILE = {"schema", "pandapower", "matpower", "simbench"}


def install_checks(group: Any) -> None:
    """Attach the rules above to every command's Click parameters (idempotent per built command tree)."""
    for command in getattr(group, "commands", {}).values():
        if getattr(command, "commands", None):      # a sub-group (e.g. ``gplopt import ...``): its commands too
            install_checks(command)
        for param in command.params:
            label = param_label(param)
            if param.name in RANGES:
                _chain(param, lambda v, n=param.name, lab=label: check_range(n, lab, v))
                allowed = f"(allowed: {RANGES[param.name].rule.removeprefix('in ')})"
                if param.help and allowed not in param.help:   # no '[in ...' in help: Rich would read a tag
                    param.help = f"{param.help} {allowed}"
            elif param.name == "file":
                _chain(param, lambda v, lab=label: check_file(lab, v))
            elif param.name == "out":
                _chain(param, lambda v, d=(command.name not in OUT_IS_FILE): check_out(v, d))
            elif param.name == "scheduler":
                _chain(param, check_scheduler)
