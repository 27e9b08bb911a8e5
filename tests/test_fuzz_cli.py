"""Property-based fuzzing of the whole command line: every command's options (read from the Typer app itself,
so a new option is fuzzed without editing this file) with random values of random types, instance files
(valid, broken, missing, a directory), result directories, and model libraries through ``GPLOPT_MODELS``.

Each case runs ``gplopt.cli.main()`` in-process (tests/cli_harness.py) and must end with exit code 0 or 2, a
usage or input error as exactly one ``error: FIELD: must be RULE, got VALUE`` line, strict JSON under --json,
no traceback and within 30 s. The Monte Carlo engines (``assess``, ``capacity_value``, the studies, the design
loop, report rendering) are replaced by a sentinel that records that the command got past option and input
validation: the fuzz targets the surface, and 10,000 real simulations would take days. Everything before them
(parsing, range checks, instance loading, --set, specs, --out preparation) runs for real.

Corrupted ``result.json`` contents and model files that are not JSON objects are not generated here; they have
their own tests (tests/test_output.py for ``report``, tests/test_packaging.py for model files)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from cli_harness import Hang, run_main, strict_json
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gplopt.cli import app

ROOT = Path(__file__).resolve().parent.parent
N_DEFAULT = int(os.environ.get("GPLOPT_FUZZ_CLI_EXAMPLES", "300"))
GROUP: Any = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)
OPTIONS = {name: [(p.opts[0] if p.opts[0].startswith("--") else next((o for o in p.opts if o.startswith("--")),
                   p.opts[0]), bool(getattr(p, "is_flag", False)))
                  for p in cmd.params if p.param_type_name == "option"]
           for name, cmd in GROUP.commands.items()}
STATS: dict[str, int] = {"exit0": 0, "exit2": 0, "reached_engine": 0}


class Reached(BaseException):
    """The command validated everything and called the engine (replaced in the fuzz)."""


ENGINES = [("gplopt.reliability", "assess"), ("gplopt.capacity_value", "capacity_value"),
           ("gplopt.studies", "paper_tables"), ("gplopt.studies", "sweep"), ("gplopt.studies", "tornado"),
           ("gplopt.studies", "phase_study"), ("gplopt.design.loop", "optimize"), ("gplopt.report", "render"),
           ("gplopt.screen", "screen")]


# ------------------------------------------------------------------------------------------ fixtures on disk
def _model_libraries(base: Path) -> dict[str, Path]:
    """A few GPLOPT_MODELS folders: a faithful copy, and copies with one odd value in one model each."""
    libs: dict[str, Path] = {}
    variants: dict[str, tuple[str, str, Any]] = {
        "copy": ("", "", None),
        "negative_battery": ("ev", "battery_kwh", -20.5),
        "string_battery": ("ev", "battery_kwh", "big"),
        "huge_battery": ("ev", "battery_kwh", 1e308),
        "unknown_field": ("ev", "unexpected_field", 1),
        "null_cost": ("chargers", "*", None),
    }
    for name, (kind, field, value) in variants.items():
        d = base / f"models_{name}"
        shutil.copytree(ROOT / "models", d)
        if kind:
            f = next((d / kind).glob("*.json"))
            data = json.loads(f.read_text())
            if field == "*":
                data = {k: (None if isinstance(v, int | float) and not isinstance(v, bool) else v)
                        for k, v in data.items()}
            else:
                data[field] = value
            f.write_text(json.dumps(data))
        libs[name] = d
    libs["empty"] = base / "models_empty"
    libs["empty"].mkdir()
    libs["missing"] = base / "models_missing"
    return libs


def _files(base: Path) -> dict[str, Path]:
    """Every path the fuzz may name is a copy under ``base``: ``schema --out FILE`` or ``--force`` may write
    over any of them (an early version overwrote instances/beijing.json with the schema)."""
    files: dict[str, Path] = {}
    for name in ("ieee33", "rbts", "beijing"):
        files[name] = base / "instances" / f"{name}.json"
        files[name].parent.mkdir(exist_ok=True)
        shutil.copyfile(ROOT / "instances" / f"{name}.json", files[name])
    files["dir"] = base
    files["missing"] = base / "nosuch.json"
    for name, content in (("broken", b'{"name": "x",,}'), ("list", b"[1, 2]"), ("empty", b""),
                          ("binary", b"\xff\xfe\x00\x01"), ("deep", b"[" * 50 + b"]" * 50)):
        (base / f"{name}.json").write_bytes(content)
        files[name] = base / f"{name}.json"
    for name in ("tornado", "paper"):
        files[f"results_{name}"] = base / "results" / name
        shutil.copytree(ROOT / "docs" / "results" / name, files[f"results_{name}"])
    dangling = base / "dangling"
    dangling.symlink_to(base / "nowhere")
    files["dangling"] = dangling
    files["under_file"] = files["broken"] / "sub"
    return files


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("fuzz_cli")
    return {"files": _files(base), "models": _model_libraries(base), "work": base / "work"}


# ------------------------------------------------------------------------------------------ strategies
TEXT = st.text(alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)), max_size=12)
NUMBERS = st.one_of(st.integers(-3, 12), st.sampled_from([0, -1, 10**5, 10**5 + 1, 2**32, 2**63, 10**30]),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["1e308", "-0", "0x10", "1_0"]))
WORDS = st.sampled_from(["peak", "ecc", "efc", "elcc", "gpl", "substation", "hydro_5_1", "gp", "random", "grid",
                         "optuna", "highs", "gurobi", "pareto", "net_benefit", "default", "local", "garbage",
                         "tcp://127.0.0.1:1", "127.0.0.1:0", "tcp://[::1]:99999", "gpl.discharge_kw", "2,3.5,5",
                         ",", "gpl.discharge_kw=2.5", "units.0.mttr_h=-1", "load.peak_kw=1e308", "nosuch=1",
                         "simulation.seed=7", "gpl.n_chargers=true", "=", "", " ", "-", "--", "--json"])


@st.composite
def values(draw: Any, files: dict[str, Path]) -> str:
    kind = draw(st.sampled_from(["plausible", "plausible", "number", "word", "text", "file"]))
    if kind == "plausible":                  # values an option accepts, so that more cases get past parsing
        return str(draw(st.sampled_from(["1", "2", "3", "7", "0.05", "0.5", "peak", "ecc", "gpl", "gp",
                                         "gpl.discharge_kw", "2,3", "gpl.discharge_kw=2.5", "default"])))
    if kind == "number":
        return str(draw(NUMBERS))
    if kind == "word":
        return str(draw(WORDS))
    if kind == "file":
        return str(files[draw(st.sampled_from(sorted(files)))])
    return str(draw(TEXT))


@st.composite
def command_lines(draw: Any, files: dict[str, Path]) -> list[str]:
    cmd = draw(st.one_of(st.sampled_from(COMMANDS), st.sampled_from(COMMANDS), st.sampled_from(COMMANDS),
                         TEXT, st.just("--help")))
    argv = [cmd]
    if draw(st.integers(0, 9)) > 0:        # usually a positional FILE / RESULT_DIR, often a valid one
        valid = ["ieee33", "rbts", "beijing", "results_tornado", "results_paper"]
        pick = draw(st.one_of(st.sampled_from(valid), st.sampled_from(sorted(files))))
        argv.append(str(files[pick]))
    for _ in range(draw(st.integers(0, 5))):
        what = draw(st.sampled_from(["option"] * 6 + ["bogus", "token"]))
        known = OPTIONS.get(cmd, [])
        if what == "option" and known:
            opt, is_flag = draw(st.sampled_from(known))
            argv += [opt] if is_flag else [opt, draw(values(files))]
        elif what == "bogus":
            argv.append("--" + draw(TEXT))
        else:
            argv.append(draw(values(files)))
    return argv


# ------------------------------------------------------------------------------------------ the property
def check_case(argv: list[str], models: Path | None, record: bool = True) -> None:
    note = event if record else (lambda _: None)
    saved = os.environ.get("GPLOPT_MODELS")
    if models is None:
        os.environ.pop("GPLOPT_MODELS", None)
    else:
        os.environ["GPLOPT_MODELS"] = str(models)
    try:
        res = run_main(*argv, limit_s=30.0)
    except Reached:
        STATS["reached_engine"] += 1
        note("outcome: validated, engine reached")
        return
    except Hang as exc:
        raise AssertionError(f"hang: {exc}") from None
    finally:
        if saved is None:
            os.environ.pop("GPLOPT_MODELS", None)
        else:
            os.environ["GPLOPT_MODELS"] = saved
    assert res.code in (0, 2), (argv, res.code, res.err)
    assert "Traceback" not in res.err and "Traceback" not in res.out, (argv, res.err)
    if res.code == 2:
        lines = res.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and ": must be " in lines[0], (argv, res.err)
        STATS["exit2"] += 1
        note("outcome: exit 2")
    else:
        STATS["exit0"] += 1
        note("outcome: exit 0")
        if "--json" in argv and "--help" not in argv and res.out.strip():
            strict_json(res.out)


def _run(disk: dict[str, Any], monkeypatch: pytest.MonkeyPatch, data: Any) -> None:
    import importlib

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise Reached

    for module, name in ENGINES:
        monkeypatch.setattr(importlib.import_module(module), name, reached)
    for name in ("ieee33", "rbts", "beijing"):       # a previous case may have written over a copy
        shutil.copyfile(ROOT / "instances" / f"{name}.json", disk["files"][name])
    work = disk["work"]
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    monkeypatch.chdir(work)                 # relative --out / --journal / schema --out land here
    argv = data.draw(command_lines(disk["files"]))
    lib = data.draw(st.sampled_from([None, *sorted(disk["models"])]))
    check_case(argv, None if lib is None else disk["models"][lib])


@settings(max_examples=N_DEFAULT, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_cli(disk: dict[str, Any], monkeypatch: pytest.MonkeyPatch, data: Any) -> None:
    _run(disk, monkeypatch, data)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_cli_slow(disk: dict[str, Any], monkeypatch: pytest.MonkeyPatch, data: Any) -> None:
    _run(disk, monkeypatch, data)


def test_fuzz_reaches_every_outcome(disk: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator is not degenerate: hand-picked lines of it end in exit 0, exit 2 and the engine."""
    import importlib

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise Reached

    for module, name in ENGINES:
        monkeypatch.setattr(importlib.import_module(module), name, reached)
    monkeypatch.chdir(disk["files"]["dir"])
    before = dict(STATS)
    f = disk["files"]
    check_case(["validate", str(f["ieee33"]), "--json"], None, record=False)
    check_case(["schema", "--out", str(f["rbts"])], None, record=False)  # writes over the copy, not the project
    check_case(["validate", str(f["rbts"])], None, record=False)
    check_case(["evaluate", str(f["ieee33"]), "--years", "2", "--workers", "1"], None, record=False)
    check_case(["evaluate", str(f["ieee33"]), "--years", "0"], None, record=False)
    check_case(["validate", str(f["beijing"])], disk["models"]["negative_battery"], record=False)
    assert STATS["exit0"] == before["exit0"] + 2
    assert STATS["reached_engine"] == before["reached_engine"] + 1
    assert STATS["exit2"] == before["exit2"] + 3
    assert ROOT not in f["rbts"].parents and json.loads((ROOT / "instances" / "rbts.json").read_text())["name"]
