"""Shared fixtures: paths to the instances and a runner of the real command line.

``run_cli`` starts ``python -m gplopt`` in a subprocess (cwd = project root) rather than invoking the Typer
app in-process, because the error contract (exit code 2, one line on stderr, no traceback) lives in
``gplopt.cli.main()``, which ``CliRunner`` would bypass.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# When a Hypothesis test fails, its pytest plugin imports libcst to print a patch; libcst's import warns
# (mypy_extensions.TypedDict DeprecationWarning) and, with warnings as errors, that turns the failure report
# into an INTERNALERROR. Import it once here with exactly that warning silenced so failures stay readable.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"mypy_extensions\.TypedDict is deprecated",
                            category=DeprecationWarning)
    with contextlib.suppress(ImportError):
        import hypothesis.extra._patching  # noqa: F401


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def beijing_path(root: Path) -> Path:
    return root / "instances" / "beijing.json"


@pytest.fixture(scope="session")
def ieee33_path(root: Path) -> Path:
    return root / "instances" / "ieee33.json"


@pytest.fixture(scope="session")
def rbts_path(root: Path) -> Path:
    return root / "instances" / "rbts.json"


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GPLOPT_MODELS"}  # only the library lookup under test
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@pytest.fixture(scope="session")
def run_cli(root: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_cli("powerflow", "instances/ieee33.json", "--json")`` -> CompletedProcess with text output."""

    def run(*args: str | Path, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gplopt", *map(str, args)], cwd=root, env=_cli_env(),
                              capture_output=True, text=True, timeout=timeout, check=False)

    return run
