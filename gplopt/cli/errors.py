"""How the command line ends: expected errors and usage errors become one line on stderr and exit code 2,
Ctrl-C becomes one line saying what was saved and how to resume, and exit code 130. Never a traceback for
either. Typer vendors Click (``typer._click``); nothing here needs ``import click``."""

from __future__ import annotations

import re
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gplopt.errors import GploptError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
_BUILT: dict[int, tuple[Any, Any]] = {}


def say(line: str) -> None:
    """Exactly one line on stderr: newlines inside a message are folded, and characters that would break or
    hide the line (control characters, U+2028, ...) written as escapes, e.g. ``\x1e``."""
    text = " ".join(line.split("\n")).rstrip()
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def exit_process(code: int) -> None:
    """``sys.exit(code)`` for the console script; after Ctrl-C a second one must not print a traceback from
    the interpreter's shutdown (joining threads, atexit handlers)."""
    if code == EXIT_INTERRUPTED:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def run(app: Any, argv: list[str] | None = None) -> int:
    """Run the Typer ``app`` on ``argv`` (default ``sys.argv[1:]``) and return the process exit code."""
    import typer
    from typer._click import exceptions as cx

    from gplopt.cli.options import install_checks

    args = list(sys.argv[1:] if argv is None else argv)
    built = _BUILT.get(id(app))
    if built is None or built[0] is not app:      # Typer builds the Click tree anew on every call: once is enough
        group: Any = typer.main.get_command(app)
        install_checks(group)
        _BUILT[id(app)] = built = (app, group)
    group = built[1]
    try:
        with notices():
            rv = group.main(args=args, prog_name="gplopt", standalone_mode=False)
    except GploptError as exc:
        say(f"error: {exc}")
        return EXIT_USAGE
    except (KeyboardInterrupt, typer.Abort):
        return interrupted(group, args)
    except cx.NoArgsIsHelpError:      # Typer has printed the help on stdout
        say(f"error: COMMAND: must be one of {', '.join(sorted(group.commands))}, got nothing")
        return EXIT_USAGE
    except cx.ClickException as exc:
        say(f"error: {usage_line(exc)}")
        return EXIT_USAGE
    if rv == EXIT_INTERRUPTED:       # Typer turns a KeyboardInterrupt inside a command into Exit(130)
        return interrupted(group, args)
    return rv if isinstance(rv, int) else 0


@contextmanager
def notices() -> Iterator[None]:
    """Deprecation notices (an old money name read, :mod:`gplopt.currency`) as one ``warning:`` line each on
    stderr, once per field; every other warning as Python shows it."""
    from gplopt.currency import DeprecatedName

    with warnings.catch_warnings():
        warnings.simplefilter("default", DeprecatedName)
        shown = warnings.showwarning

        def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
            if isinstance(category, type) and issubclass(category, DeprecatedName):
                say(f"warning: {message}")
            else:
                shown(message, category, *rest, **kw)

        warnings.showwarning = show
        yield


# ------------------------------------------------------------------------------------------ usage errors
def usage_line(exc: Any) -> str:
    """``FIELD: must be RULE, got VALUE`` for Click's usage errors."""
    from typer._click import exceptions as cx

    msg = exc.format_message() if not isinstance(exc, cx.BadParameter) else str(exc.message)
    if isinstance(exc, cx.NoSuchOption):
        hint = f" (did you mean {', '.join(sorted(exc.possibilities))}?)" if exc.possibilities else ""
        return f"{exc.option_name}: must be an option of {_command(exc)}{hint}, got {exc.option_name!r}"
    if isinstance(exc, cx.MissingParameter):
        name = _param_label(exc)
        help_text = getattr(exc.param, "help", None)
        what = f" ({help_text})" if help_text else ""
        return f"{name}: must be given{what}, got nothing"
    if isinstance(exc, cx.BadParameter):
        return f"{_param_label(exc)}: must be {_rule(exc)}, got {_value(exc)!r}"
    if isinstance(exc, cx.BadOptionUsage):
        if "requires an argument" in msg:
            return f"{exc.option_name}: must be followed by a value, got nothing"
        if "does not take a value" in msg:
            return f"{exc.option_name}: must be a flag without a value, got a value"
        return f"{exc.option_name}: must be used as --help says, got {msg!r}"
    m = re.match(r"No such command '(.*)'", msg)
    if m:
        names = ", ".join(sorted(exc.ctx.command.commands)) if exc.ctx is not None else "a gplopt command"
        return f"COMMAND: must be one of {names}, got {m.group(1)!r}"
    m = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", msg)
    if m:
        return f"arguments: must be the ones {_command(exc)} takes (see --help), got extra {m.group(1)!r}"
    return f"{_command(exc)}: must be used as its --help says, got {msg!r}"


def _command(exc: Any) -> str:
    ctx = getattr(exc, "ctx", None)
    return f"'{ctx.command_path}'" if ctx is not None else "'gplopt'"


def _param_label(exc: Any) -> str:
    param = getattr(exc, "param", None)
    if param is None:
        return str(exc.param_hint or "option")
    from gplopt.cli.options import param_label

    return param_label(param)


def _rule(exc: Any) -> str:
    """Pydantic's 'Input should be a valid integer, unable to parse ...' -> 'a valid integer'."""
    cause = exc.__cause__
    text = str(exc.message)
    if cause is not None and hasattr(cause, "errors"):
        errs = cause.errors()
        if errs:
            text = str(errs[0].get("msg", text))
    text = re.sub(r"^Input should be\s+", "", text).split(", unable")[0].strip().rstrip(".")
    return text or "valid"


def _value(exc: Any) -> Any:
    cause = exc.__cause__
    if cause is not None and hasattr(cause, "errors"):
        errs = cause.errors()
        if errs and "input" in errs[0]:
            return errs[0]["input"]
    return None


# ------------------------------------------------------------------------------------------ Ctrl-C
def interrupted(group: Any, args: list[str]) -> int:
    """One line: what was saved (a journal to pass back, or nothing) and how to resume; exit code 130."""
    name = next((a for a in args if not a.startswith("-")), "")
    command = getattr(group, "commands", {}).get(name)
    takes_journal = command is not None and any(p.name == "journal" for p in command.params)
    journal = _option_value(args, "--journal")
    if journal is not None and Path(journal).is_file():
        say(f"interrupted: finished work is saved in the journal {journal}; run the same command again "
            f"(with --journal {journal}) to resume where it stopped")
    elif journal is not None:
        say(f"interrupted: nothing was saved yet (the journal {journal} was not started); run the same command "
            "again to start over")
    elif takes_journal:
        say(f"interrupted: nothing was saved (no --journal; result files are written only at the end); "
            f"rerun 'gplopt {name}' with --journal FILE to make the run resumable")
    else:
        say(f"interrupted: nothing was saved ('gplopt {name or '...'}' keeps no journal); run it again to "
            "start over")
    return EXIT_INTERRUPTED


def _option_value(args: list[str], option: str) -> str | None:
    value = None
    for i, a in enumerate(args):
        if a == option and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith(option + "="):
            value = a.split("=", 1)[1]
    return value
