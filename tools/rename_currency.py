"""Rename the money fields that carried ``cny`` to their currency-neutral names, across the whole tree.

    python tools/rename_currency.py            # rewrite every file that holds an old name (idempotent)
    python tools/rename_currency.py --check    # exit 1 listing every leftover; exit 0 on a clean tree
    python tools/rename_currency.py --root DIR # another checkout (default: this file's checkout)

The map is :data:`gplopt.currency.RENAMED` (one copy; the deprecation layer reading old instance and model files
uses the same). Old names are replaced as whole words (``\\bprice_cny_per_kwh\\b``) in source, tests, tools,
benchmarks, docs, instances, model files, benchmark data and the recorded results in ``docs/results/`` (which
tests read) (``.py .json .md .csv .toml .txt .html .yml``); ``build/``, ``dist/``, virtual environments and the
files that must name the old names (the map, this tool, its test, ``docs/currency.md``) are left alone. Running
it again changes nothing.

``--check`` also lists a hard-coded currency (``CNY``/``MCNY`` as a word) in gplopt's Python code: labels take the
instance's ``currency`` (``gplopt.currency.per_cost_unit``), so a merged branch cannot bring a fixed one back.
The default suite runs ``--check`` (tests/test_currency.py).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gplopt.currency import DEFAULT, RENAMED, apply, leftovers  # noqa: E402

SUFFIXES = {".py", ".json", ".md", ".csv", ".toml", ".txt", ".html", ".yml", ".yaml", ".cfg"}
SKIP_DIRS = {".git", "build", "dist", "venv", ".venv", "__pycache__", "node_modules", ".mypy_cache", ".ruff_cache",
             ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}
EXEMPT = {"gplopt/currency.py", "tools/rename_currency.py", "tests/test_currency.py", "docs/currency.md"}
HARD_CODED = re.compile(rf"\bM?{DEFAULT}\b")


def files(root: Path) -> list[Path]:
    """Every file the rename covers, sorted (symlinks are not followed: models/ links to gplopt/models/)."""
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in names:
            p = Path(folder) / name
            rel = p.relative_to(root).as_posix()
            if p.suffix in SUFFIXES and not p.is_symlink() and rel not in EXEMPT:
                out.append(p)
    return sorted(out)


def read(p: Path) -> str | None:
    try:
        with open(p, encoding="utf-8", newline="") as fh:
            return fh.read()
    except (UnicodeDecodeError, OSError):
        return None


def rename(root: Path) -> dict[str, int]:
    """Rewrite every covered file holding an old name; returns {relative path: names replaced}."""
    changed: dict[str, int] = {}
    for p in files(root):
        text = read(p)
        if text is None or not leftovers(text):
            continue
        changed[p.relative_to(root).as_posix()] = len(leftovers(text))
        tmp = p.with_name(p.name + ".rename-tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(apply(text))
        shutil.copymode(p, tmp)
        os.replace(tmp, p)       # all or nothing per file
    return changed


def check(root: Path) -> list[str]:
    """``path:line: problem`` for every old name and every hard-coded currency in gplopt's code."""
    problems = []
    for p in files(root):
        text = read(p)
        if text is None:
            continue
        rel = p.relative_to(root).as_posix()
        code = rel.startswith("gplopt/") and p.suffix == ".py"
        for n, line in enumerate(text.splitlines(), start=1):
            problems += [f"{rel}:{n}: old name '{old}' (now '{RENAMED[old]}')" for old in leftovers(line)]
            hit = HARD_CODED.search(line) if code else None
            if hit is not None:
                problems.append(f"{rel}:{n}: hard-coded currency '{hit.group(0)}' (labels use the instance's currency)")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Rename the money fields that carried 'cny' (gplopt.currency.RENAMED).")
    ap.add_argument("--check", action="store_true", help="list leftovers and exit 1 if any (changes nothing)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to work on")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    if args.check:
        problems = check(root)
        for line in problems:
            print(line)
        print(f"{len(problems)} leftover(s)" if problems else "no old currency names left", file=sys.stderr)
        return 1 if problems else 0
    changed = rename(root)
    for rel, n in changed.items():
        print(f"{rel}: {n} renamed")
    print(f"{sum(changed.values())} name(s) renamed in {len(changed)} file(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
