"""The command line attacked class by class (issue 10): each attack exits 2 with one line naming the field, the
rule and the value, within seconds, with no traceback; Ctrl-C exits 130 with one line; --json is strict JSON;
files respect the umask and are never half-written; powerflow names every violated limit.

Most cases run ``gplopt.cli.main()`` in-process (tests/cli_harness.py); Ctrl-C, the missing ``click`` module
and the NaN-producing ``ecc`` run the real ``python -m gplopt`` in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from cli_harness import assert_one_line_error, run_main, strict_json

from gplopt.cli import app
from gplopt.cli.options import RANGES, Range
from gplopt.parallel import CONNECT_TIMEOUT_S, HANDSHAKE_TIMEOUT_S

ROOT = Path(__file__).resolve().parent.parent
IEEE33 = ROOT / "instances" / "ieee33.json"
BEIJING = ROOT / "instances" / "beijing.json"
RESULT_DIR = ROOT / "docs" / "results" / "tornado"


# ------------------------------------------------------------------------------------------ 1. usage errors
@pytest.mark.parametrize(("args", "needles"), [
    (["validate", IEEE33, "--bogus"], ["--bogus", "must be an option of 'gplopt validate'"]),
    (["evaluate", IEEE33, "--years", "abc"], ["--years", "a valid integer", "'abc'"]),
    (["evaluate", IEEE33, "--cov", "lots"], ["--cov", "a valid number", "'lots'"]),
    (["evaluate", IEEE33, "--years"], ["--years", "followed by a value", "nothing"]),
    (["validate", IEEE33, "--json=yes"], ["--json", "a flag without a value"]),
    (["frob", IEEE33], ["COMMAND", "one of design, ecc, evaluate", "'frob'"]),
    (["validate"], ["FILE", "must be given", "got nothing"]),
    (["validate", IEEE33, "extra.json"], ["arguments", "'extra.json'"]),
    (["report"], ["RESULT_DIR", "must be given"]),
])
def test_usage_errors_are_one_line(args: list[Any], needles: list[str]) -> None:
    res = run_main(*args)
    assert_one_line_error(res, *needles)
    assert res.out == "" and res.seconds < 5


def test_file_that_is_a_directory_or_missing(tmp_path: Path) -> None:
    for cmd in ("validate", "powerflow", "evaluate", "ecc", "paper", "design", "sweep"):
        assert_one_line_error(run_main(cmd, tmp_path), "FILE", "an existing file", "(a directory)")
        assert_one_line_error(run_main(cmd, tmp_path / "nosuch.json"), "FILE", "nosuch.json (not found)")


def test_no_command_prints_help_and_one_error_line() -> None:
    res = run_main()
    assert res.code == 2 and "Commands" in res.out
    assert res.err.count("\n") == 1 and res.err.startswith("error: COMMAND: must be one of")


def test_usage_errors_need_no_click_module(tmp_path: Path) -> None:
    """typer vendors click; with ``import click`` failing, usage errors are still one line and exit 2."""
    code = ("import sys; sys.modules['click'] = None; sys.argv = ['gplopt', 'validate', '--bogus', 'x.json']; "
            "from gplopt.cli import main; main()")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=False)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: --bogus: must be an option") and res.stderr.count("\n") == 1


# ------------------------------------------------------------------------------------------ 2. Ctrl-C
def _interrupt(args: list[str], ready: Any, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Start ``gplopt ARGS`` in its own process group, wait until ``ready()``, then send SIGINT to the whole
    group, as a terminal's Ctrl-C does (the workers get it too)."""
    p = subprocess.Popen([sys.executable, "-m", "gplopt", *args], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.monotonic()
    try:
        while not ready() and time.monotonic() - t0 < timeout and p.poll() is None:
            time.sleep(0.1)
        assert p.poll() is None, "the run ended before it could be interrupted"
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=90)   # generous: a loaded CI machine shuts the pool down slowly
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_ctrl_c_with_two_workers_names_the_journal_and_exits_130(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"

    def a_year_done() -> bool:
        return journal.is_file() and len(journal.read_text().splitlines()) >= 2   # the header and a year

    res = _interrupt(["evaluate", str(IEEE33), "--years", "2000", "--workers", "2", "--journal", str(journal),
                      "--json"], a_year_done)
    assert res.returncode == 130, res.stderr
    assert res.stdout == ""
    assert res.stderr.count("\n") == 1, res.stderr            # the workers print nothing
    assert "Traceback" not in res.stderr and "KeyboardInterrupt" not in res.stderr
    assert res.stderr.startswith("interrupted: ") and str(journal) in res.stderr and "resume" in res.stderr


@pytest.mark.slow
def test_ctrl_c_without_a_journal_says_nothing_was_saved(tmp_path: Path) -> None:
    t0 = time.monotonic()
    res = _interrupt(["evaluate", str(IEEE33), "--years", "2000", "--workers", "1", "--json"],
                     lambda: time.monotonic() - t0 > 4.0)
    assert res.returncode == 130, res.stderr
    assert res.stderr.count("\n") == 1 and "nothing was saved" in res.stderr and "--journal" in res.stderr


# ------------------------------------------------------------------------------------------ 3. strict JSON
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")   # numpy on the +inf ratio
def test_ecc_json_without_a_lot_is_strict() -> None:
    """A unit's ECC has no annual cost: ECC per cost is +Infinity, written as null with a reason."""
    res = run_main("ecc", ROOT / "instances" / "rbts.json", "--resource", "hydro_5_1", "--years", "2", "--workers",
                   "1", "--json")
    assert res.code == 0, res.err
    eco = strict_json(res.out)["economics"]
    assert eco["ecc_per_cost"] is None and "Infinity" in eco["ecc_per_cost_null_reason"]


def test_strict_json_nulls_every_non_finite_value() -> None:
    import numpy as np

    from gplopt.strict_json import dumps

    text = dumps({"a": np.float64("nan"), "b": [1.0, -np.inf], "c": {"d": np.array([np.inf])}, "e": 2.5})
    d = strict_json(text)
    assert d["a"] is None and "NaN" in d["a_null_reason"]
    assert d["b"] == [1.0, None] and d["b_null_reason"].startswith("items [1]")
    assert d["c"] == {"d": [None], "d_null_reason": d["c"]["d_null_reason"]} and d["e"] == 2.5


# ------------------------------------------------------------------------------------------ 4. umask
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_output_files_respect_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        assert run_main("schema", "--out", tmp_path / "schema.json").code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "schema.json").stat().st_mode) == 0o666 & ~umask


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text("old")
    target.chmod(0o640)
    assert run_main("schema", "--out", target).code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text().startswith("{")


# ------------------------------------------------------------------------------------------ 5. numeric caps
def _numeric_options() -> list[tuple[str, str, str]]:
    group: Any = typer.main.get_command(app)
    return [(name, p.name, next(o for o in p.opts if o.startswith("--")))
            for name, cmd in sorted(group.commands.items()) for p in cmd.params if p.name in RANGES]


def _outside(r: Range) -> list[str]:
    below = r.low if r.low_open else r.low - 1
    above = r.high if r.high_open else r.high + 1
    return [str(int(below)) if float(below).is_integer() else str(below),
            str(int(above)) if float(above).is_integer() else str(above), "nan", "inf"]


@pytest.mark.parametrize(("command", "name", "option"), _numeric_options())
def test_every_numeric_option_is_capped(command: str, name: str, option: str) -> None:
    r = RANGES[name]
    for value in _outside(r):
        res = run_main(command, IEEE33, option, value)
        if value in ("nan", "inf") and name not in ("cov", "tolerance", "time_limit", "ecc_rel_precision"):
            assert_one_line_error(res, option, "a valid integer")
        else:
            assert_one_line_error(res, option, r.rule)
        assert res.seconds < 5


def test_years_one_billion_is_refused_like_the_in_file_cap() -> None:
    assert_one_line_error(run_main("evaluate", IEEE33, "--years", "1000000000"), "--years", "in [1, 100000]",
                          "1000000000")


def test_help_states_every_range() -> None:
    for command, name, option in _numeric_options():
        res = run_main(command, "--help")
        flat = "".join(res.out.replace("│", " ").split())          # Rich wraps help text inside a box
        allowed = f"(allowed:{RANGES[name].rule.removeprefix('in ')})"
        assert res.code == 0 and "".join(allowed.split()) in flat, (command, option)


# ------------------------------------------------------------------------------------------ 6. --scheduler
def test_scheduler_garbage_is_refused_at_once() -> None:
    res = run_main("evaluate", IEEE33, "--scheduler", "garbage")
    assert_one_line_error(res, "--scheduler", "tcp://HOST:PORT", "'garbage'")
    assert res.seconds < 2


@pytest.mark.parametrize(("address", "limit_s"), [("tcp://127.0.0.1:1", 2.0),           # refuses at once
                                                  ("tcp://192.0.2.1:8786", CONNECT_TIMEOUT_S + 2.0)])  # unroutable
def test_unreachable_scheduler_fails_within_seconds(address: str, limit_s: float) -> None:
    res = run_main("evaluate", IEEE33, "--years", "2", "--scheduler", address)
    assert_one_line_error(res, f"--scheduler {address}", "a reachable Dask scheduler")
    assert res.seconds < limit_s


@pytest.mark.slow
def test_a_server_that_is_not_dask_fails_within_the_handshake_timeout() -> None:
    """A loopback server answering garbage bytes (Dask once read a length of 3 EiB from such bytes)."""
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve() -> None:
        conns = []
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.sendall(b"\xff" * 8 + b"not dask\r\n" * 10)
            conns.append(c)

    threading.Thread(target=serve, daemon=True).start()
    try:
        res = run_main("evaluate", IEEE33, "--years", "2", "--workers", "1", "--json",   # --json: no progress bar
                       "--scheduler", f"tcp://127.0.0.1:{port}")
    finally:
        srv.close()
    assert_one_line_error(res, "--scheduler", "a reachable Dask scheduler")
    assert res.seconds < HANDSHAKE_TIMEOUT_S + 5


# ------------------------------------------------------------------------------------------ 7. --out
def test_out_through_a_dangling_symlink_or_under_a_file(tmp_path: Path) -> None:
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    a_file = tmp_path / "a_file"
    a_file.write_text("keep")
    for args, needle in (
        (["report", RESULT_DIR, "--out", dangling], "dangling symlink"),
        (["report", RESULT_DIR, "--out", a_file / "sub"], "under an existing file"),
        (["paper", IEEE33, "--out", dangling], "dangling symlink"),
        (["design", IEEE33, "--out", a_file / "x" / "y"], "under an existing file"),
        (["sweep", IEEE33, "--tornado", "--out", a_file], "an existing file"),
        (["schema", "--out", dangling], "dangling symlink"),
        (["schema", "--out", a_file / "schema.json"], "must be a directory"),
    ):
        res = run_main(*args)
        assert_one_line_error(res, "--out", needle)
        assert res.seconds < 2, args          # checked while parsing, before the instance is even read
    assert not (tmp_path / "nowhere").exists() and a_file.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "dangling"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gplopt.io import write_text_atomic

    target = tmp_path / "result.json"
    target.write_text("old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_text_atomic(target, "new" * 1000)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["result.json"]


# ------------------------------------------------------------------------------------------ 8. powerflow
def test_powerflow_names_every_violated_limit(tmp_path: Path) -> None:
    data = json.loads(IEEE33.read_text())
    data["network"]["vmin_pu"] = 0.95
    first = data["network"]["branches"][0]
    first["rating_kva"] = 1000.0
    data["units"][0]["capacity_kw"] = 3000.0
    path = tmp_path / "tight.json"
    path.write_text(json.dumps(data))
    res = run_main("powerflow", path, "--json")
    assert res.code == 0, res.err
    out = strict_json(res.out)
    assert out["within_limits"] is False
    by = {(v["element"], v["id"]): v for v in out["violations"]}
    low = {int(b) for b, vm in out["vm_pu"].items() if vm < 0.95}
    assert low and {i for e, i in by if e == "bus"} == low                    # every low bus, by bus id
    assert by[("branch", first["id"])]["limit"] == 1000.0 and by[("branch", first["id"])]["value"] > 1000.0
    sub = by[("external_grid", "substation")]
    assert sub["limit"] == 3000.0 and sub["value"] == pytest.approx(out["substation_mva"] * 1000.0)
    table = " ".join(run_main("powerflow", path).out.replace("│", " ").split())
    assert f"branch {first['id']}: apparent power" in table and "external_grid substation" in table


def test_powerflow_within_limits_has_no_violations() -> None:
    res = run_main("powerflow", IEEE33, "--json")
    out = strict_json(res.out)
    assert res.code == 0 and out["within_limits"] is True and out["violations"] == []


def test_interrupt_message_names_what_was_saved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gplopt.cli.errors import EXIT_INTERRUPTED, interrupted

    group: Any = typer.main.get_command(app)
    journal = tmp_path / "j.jsonl"
    journal.write_text('{"run": {}}\n')
    cases = [(["evaluate", "x.json", f"--journal={journal}"], f"saved in the journal {journal}"),
             (["design", "x.json", "--journal", str(tmp_path / "new.jsonl")], "was not started"),
             (["sweep", "x.json", "--tornado"], "rerun 'gplopt sweep' with --journal FILE"),
             (["ecc", "x.json"], "'gplopt ecc' keeps no journal")]
    for args, needle in cases:
        assert interrupted(group, args) == EXIT_INTERRUPTED
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("interrupted: ") and needle in err, (args, err)


def test_pool_shut_down_during_an_exception_stops_its_workers_at_once() -> None:
    from gplopt.parallel import make_executor

    ex = make_executor(2)
    futures = [ex.submit(time.sleep, 60) for _ in range(4)]
    time.sleep(0.5)
    processes = list(ex._processes.values())  # type: ignore[attr-defined]
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        try:
            raise KeyboardInterrupt
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
    assert time.monotonic() - t0 < 10 and not any(p.is_alive() for p in processes)
    assert all(f.cancelled() or f.done() for f in futures)
