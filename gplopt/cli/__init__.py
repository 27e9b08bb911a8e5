"""The ``gplopt`` command line: parse -> call the library -> print. Every command has ``--json``.

One module per command group, each only parsing, calling the library and printing: ``inspect`` (validate,
schema, powerflow), ``evaluate``, ``capacity`` (ecc), ``studies`` (paper, sweep), ``design``, ``report``, ``screen`` and
``imports`` (the ``gplopt import ...`` sub-group). ``common`` holds the shared options and helpers, ``format``
the terminal conventions, ``options`` the option rules checked while parsing, ``errors`` how a run ends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gplopt.cli import capacity, design, evaluate, inspect, report, screen, studies
from gplopt.cli.common import console, emit_json
from gplopt.cli.imports import import_app

__all__ = ["app", "console", "emit_json", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Capacity value and design of grid-connected EV parking lots (V2G).")
app.add_typer(import_app, name="import")
for command in (inspect.validate, inspect.schema, inspect.powerflow, evaluate.evaluate, capacity.ecc,
                studies.paper, design.design, studies.sweep, report.report, screen.screen):
    app.command()(command)


def main() -> None:
    """Entry point: expected and usage errors become one line on stderr and exit code 2, Ctrl-C one line and
    exit code 130; never a traceback (gplopt/cli/errors.py)."""
    from gplopt.cli.errors import exit_process, run

    exit_process(run(app))


@app.callback()
def _logging(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug messages on stderr")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Warnings and errors only on stderr")] = False,
    log_file: Annotated[Path | None, typer.Option(help="Also write every log record to this file")] = None,
) -> None:
    """Capacity value and design of grid-connected EV parking lots (V2G)."""
    from gplopt.cli.format import setup_logging

    setup_logging(verbose, quiet, log_file)
