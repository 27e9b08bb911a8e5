"""What every command shares: the option types (``--set``, ``--json``, ``--seed``, ``--workers``, ...), loading
an instance with its overrides, strict JSON on stdout, the worker count, the consoles and the progress reporter
(from gplopt/cli/format.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gplopt.cli.format import console, err_console, progress
from gplopt.errors import InstanceError
from gplopt.formatting import pm

if TYPE_CHECKING:
    from gplopt.instance import Instance
    from gplopt.system import System

__all__ = ["FileArg", "ForceOpt", "JournalOpt", "JsonOpt", "SchedulerOpt", "SeedOpt", "SetOpt", "SolverOpt",
           "WorkersOpt", "console", "emit_json", "err_console", "load", "n_workers", "pm", "progress",
           "written_to"]

FileArg = Annotated[Path, typer.Argument(help="Instance JSON file", show_default=False)]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override PATH=VALUE (repeatable), "
                                                 "e.g. --set gpl.discharge_kw=2.5")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]
SeedOpt = Annotated[int | None, typer.Option(help="Master seed (default: the instance's)")]
WorkersOpt = Annotated[int | None, typer.Option(help="Worker processes (default: the number of cores, or 1 for a "
                                                 "copper-plate system of two-state units, whose years are cheaper "
                                                 "than sending them between processes; results never depend on it)")]
SolverOpt = Annotated[str, typer.Option(help="OPF solver: highs | gurobi")]
SchedulerOpt = Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local' for a local Dask "
                                                  "cluster (default: local processes)")]
JournalOpt = Annotated[Path | None, typer.Option(help="Checkpoint journal (JSONL): a killed run restarted "
                                                 "with it resumes and ends with the same answer")]
ForceOpt = Annotated[bool, typer.Option(help="Overwrite a non-empty --out directory")]


def emit_json(obj: Any) -> None:
    """Strict JSON on stdout: a non-finite number is written as null with a ``<key>_null_reason`` beside it."""
    from gplopt.strict_json import dumps

    sys.stdout.write(dumps(obj) + "\n")


def load(file: Path, sets: list[str] | None) -> tuple[Instance, System]:
    """The instance in ``file`` with the ``--set`` overrides applied, and its system (models found beside it)."""
    from gplopt.instance import load_instance
    from gplopt.system import build_system

    inst = load_instance(file, sets or [])
    return inst, build_system(inst, base_dir=file.resolve().parent)


def n_workers(workers: int | None, system: System | None = None) -> int:
    """``--workers``, or when not given the number of cores (1 for a ``system`` on the event-based HL-I path:
    about 15 us a year there, less than the main process spends receiving a year from a worker)."""
    if workers is None:
        from gplopt import distribution, hl1

        if system is not None and hl1.eligible(system) and not distribution.active(system):
            return 1
        return os.cpu_count() or 1
    if workers < 1:
        raise InstanceError("--workers", ">= 1", workers)
    return workers


def written_to(out_dir: Path | None) -> None:
    """The last line of a command that wrote a result directory."""
    if out_dir is not None:
        console.print(f"written to {out_dir}")
