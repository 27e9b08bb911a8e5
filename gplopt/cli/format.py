"""Terminal output conventions shared by every command (documented in docs/quickstart.md):

- one uncertainty convention: ``value ± standard error`` (s.e. of the Monte Carlo estimate; for ECC and the
  figures derived from it, the bootstrap standard deviation over sample years), stated in every table title;
- numbers with thousands separators and no e-notation (gplopt/formatting.py, shared with reports), units in
  column headers, tables that fit 80 columns;
- progress: a bar on a terminal; otherwise periodic plain log lines (elapsed, done/total, current best);
- Python ``logging`` under the ``gplopt`` logger (``--verbose``, ``--quiet``, ``--log-file``).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

log = logging.getLogger("gplopt")
console = Console()
err_console = Console(stderr=True)


# ------------------------------------------------------------------------------------------ tables
def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str | None = None,
          header: bool = True) -> Any:
    """A compact table (no inner rules; numeric columns right-aligned) with its title above and its caption
    below as paragraphs (a Rich title or caption would wrap to the table's width)."""
    from rich.console import Group
    from rich.text import Text

    t = Table(show_header=header, box=box.SIMPLE_HEAD if header else None, pad_edge=False)
    for k, c in enumerate(columns):
        numeric = header and bool(rows) and all(_numeric(r[k]) or r[k] in ("", "–") for r in rows)
        t.add_column(c, justify="right" if numeric else "left", overflow="fold",
                     min_width=max(len(r[k]) for r in rows) if numeric else None,   # numbers never wrap
                     style="bold" if not header and k == 0 else None)
    for r in rows:
        t.add_row(*r)
    parts: list[Any] = [Text(title, style="bold"), t] + ([Text(caption, style="dim")] if caption else [])
    return Group(*parts)


def _numeric(cell: str) -> bool:
    s = cell.replace(",", "").replace("±", "").replace(" ", "").replace("%", "").lstrip("+-–")
    return bool(s) and s.replace(".", "", 2).isdigit()


def show(*items: Any) -> None:
    for it in items:
        console.print(it)
        if not isinstance(it, str):
            console.print()


# ------------------------------------------------------------------------------------------ logging
def setup_logging(verbose: bool = False, quiet: bool = False, log_file: Path | None = None) -> None:
    """The ``gplopt`` logger: INFO to stderr (DEBUG with --verbose, WARNING with --quiet), and every record
    at DEBUG to --log-file when given."""
    log.handlers.clear()
    log.setLevel(logging.DEBUG)
    log.propagate = False
    h = logging.StreamHandler(sys.stderr)
    h.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    h.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(h)
    if log_file is not None:
        try:
            fh = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            from gplopt.errors import InstanceError

            raise InstanceError("--log-file", f"a writable file ({exc.strerror})", str(log_file)) from None
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(fh)


# ------------------------------------------------------------------------------------------ progress
class Reporter:
    """Progress of a long run: a Rich bar on a terminal, else a plain log line every ``interval`` seconds
    (also while one long step runs) and at the end: ``design: 12/40 done, 00:03:10 elapsed, best: ...``."""

    def __init__(self, label: str, bar: Any, interval: float) -> None:
        self.label, self.bar, self.interval = label, bar, interval
        self.t0 = time.monotonic()
        self.last = -math.inf
        self.task = bar.add_task(label, total=None, info="") if bar is not None else None
        self.state: tuple[int, int | None, str] = (0, None, "")

    def update(self, done: int, total: int | None, info: str = "") -> None:
        self.state = (done, total, info)
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total, info=info)
            log.debug("%s", self._line())
            return
        now = time.monotonic()
        if now - self.last >= self.interval or (total is not None and done >= total):
            self._emit(now)

    def _emit(self, now: float) -> None:
        self.last = now
        log.info("%s", self._line())

    def heartbeat(self, stop: threading.Event) -> None:
        """Between updates (a long evaluation), repeat the last state every ``interval`` seconds."""
        while not stop.wait(max(self.interval, 1.0)):
            now = time.monotonic()
            if now - self.last >= self.interval:
                self._emit(now)

    def _line(self) -> str:
        done, total, info = self.state
        el = int(time.monotonic() - self.t0)
        of = f"/{total}" if total else ""
        return (f"{self.label}: {done}{of} done, {el // 3600:02d}:{el // 60 % 60:02d}:{el % 60:02d} elapsed"
                + (f", {info}" if info else ""))


@contextmanager
def progress(label: str, enabled: bool = True) -> Iterator[Reporter | None]:
    """A Reporter (None when disabled, e.g. for --json). The interval of the plain lines is
    ``$GPLOPT_PROGRESS_SECONDS`` (default 30 s)."""
    if not enabled:
        yield None
        return
    interval = float(os.environ.get("GPLOPT_PROGRESS_SECONDS", "30"))
    if not err_console.is_terminal:
        rep, stop = Reporter(label, None, interval), threading.Event()
        beat = threading.Thread(target=rep.heartbeat, args=(stop,), daemon=True)
        beat.start()
        try:
            yield rep
        finally:
            stop.set()
            beat.join()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"[bold]{label}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=err_console) as bar:
        yield Reporter(label, bar, interval)
