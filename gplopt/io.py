"""Atomic file output: write to a temporary name in the same folder, then rename. A reader never sees a
half-written file, an interrupted write leaves the old file (or nothing) behind, and the new file gets the
permissions an ordinary ``open(path, "w")`` would give: those of the file it replaces, else 0666 minus the
umask (``mkstemp`` alone would leave 0600)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from gplopt.errors import GploptError


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(p: Path) -> int:
    try:
        return stat.S_IMODE(p.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def write_bytes_atomic(path: str | Path, data: bytes, option: str = "--out") -> None:
    p = Path(path)
    if p.is_symlink():
        if not p.exists():
            raise GploptError(f"{option} {p}: must be a file or a new path, got a dangling symlink to {os.readlink(p)}")
        p = p.resolve()            # replace the file the link points to, not the link
    ensure_dir(p.parent, option)
    if p.is_dir():
        raise GploptError(f"{option} {p}: must be a file path, got an existing directory")
    mode = _mode_for(p)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    except OSError as exc:
        raise GploptError(f"{option} {p}: must be in a writable directory, got {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_dir(p: Path, option: str = "--out") -> Path:
    """``p`` as an existing directory (made with its parents if needed), or GploptError naming why not: a
    dangling symlink, a path under a file, a file in the way, no permission."""
    if p.is_symlink() and not p.exists():
        raise GploptError(f"{option} {p}: must be a directory, got a dangling symlink to {os.readlink(p)}")
    if p.exists() and not p.is_dir():
        raise GploptError(f"{option} {p}: must be a directory, got an existing file")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise GploptError(f"{option} {p}: must be a directory, got a path through an existing file or a "
                          "dangling symlink") from None
    except NotADirectoryError:
        raise GploptError(f"{option} {p}: must be a directory, got a path under an existing file") from None
    except OSError as exc:
        raise GploptError(f"{option} {p}: must be a directory gplopt can create, got {exc.strerror or exc}") \
            from None
    return p


def prepare_out_dir(path: str | Path, force: bool = False) -> Path:
    """A result directory that is new, empty, or explicitly allowed to be overwritten with ``force``."""
    p = Path(path)
    if p.is_dir() and not force:
        try:
            non_empty = any(p.iterdir())
        except OSError as exc:
            raise GploptError(f"--out {p}: must be a readable directory, got {exc.strerror or exc}") from None
        if non_empty:
            raise GploptError(f"--out {p}: must be a new or empty directory (use --force to overwrite), "
                              "got a non-empty directory")
    return ensure_dir(p)
