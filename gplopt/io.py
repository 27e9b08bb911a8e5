"""Atomic file output: write to a temporary name in the same folder, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gplopt.errors import GploptError


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prepare_out_dir(path: str | Path, force: bool = False) -> Path:
    """A result directory that is new, empty, or explicitly allowed to be overwritten with ``force``."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise GploptError(f"--out {p}: must be a directory, got an existing file")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise GploptError(f"--out {p}: must be a new or empty directory (use --force to overwrite), "
                          "got a non-empty directory")
    p.mkdir(parents=True, exist_ok=True)
    return p
