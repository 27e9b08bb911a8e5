"""Run ``gplopt.cli.main()`` in this process with a patched argv, as the console script would (same error
contract: exit code, one line on stderr), but in milliseconds instead of a subprocess start."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from gplopt.cli import main


class Hang(BaseException):
    """A command that ran longer than the test allows (raised from SIGALRM, so no handler swallows it)."""


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    seconds: float


def run_main(*args: Any, limit_s: float = 30.0) -> Outcome:
    """``main()`` on ``gplopt ARGS``; raises Hang after ``limit_s`` seconds. Other exceptions propagate (a
    traceback the user would have seen)."""
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"gplopt {' '.join(argv)} ran longer than {limit_s} s")

    old_argv, old_handler = sys.argv, signal.signal(signal.SIGALRM, on_alarm)
    old_sigint = signal.getsignal(signal.SIGINT)
    sys.argv = ["gplopt", *argv]
    code: int | None = None
    t0 = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) or exc.code is None else 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        signal.signal(signal.SIGINT, old_sigint)
        sys.argv = old_argv
    return Outcome(code, out.getvalue(), err.getvalue(), time.perf_counter() - t0)


def assert_one_line_error(res: Outcome, *needles: str) -> str:
    """Exit code 2, exactly one line on stderr (``error: FIELD: must be RULE, got VALUE``), no traceback."""
    assert res.code == 2, (res.code, res.err)
    assert "Traceback" not in res.err, res.err
    assert res.err.startswith("error: ") and res.err.count("\n") == 1, repr(res.err)
    assert ": must be " in res.err and ", got " in res.err, res.err
    for needle in needles:
        assert needle in res.err, (needle, res.err)
    return res.err


def strict_json(text: str) -> Any:
    """Parse as RFC 8259 JSON: NaN, Infinity and -Infinity are errors."""
    def refuse(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)
