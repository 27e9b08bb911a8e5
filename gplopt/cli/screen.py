"""``gplopt screen``: rank feeders by what a parking lot is worth on each (library: gplopt/screen.py). The
function ``screen`` is registered on the app by gplopt/cli (``app.command()(screen)``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from gplopt.errors import InstanceError

FeedersArg = Annotated[list[Path] | None, typer.Argument(
    help="Instance files, or directories of them (*.json)", show_default=False, metavar="FEEDERS")]


def screen(
    feeders: FeedersArg = None,
    budget: Annotated[int | None, typer.Option(help="Design evaluations per feeder (default: no search, the lot "
                                               "as placed)")] = None,
    years: Annotated[int, typer.Option(help="Sample years per feeder (>= 2: a standard error needs two)")] = 10,
    seed: Annotated[int | None, typer.Option(help="Master seed for every feeder (default: each feeder's own)")]
    = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: the number of cores; results "
                                                "never depend on it)")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local' for a local Dask "
                                                  "cluster (default: local processes)")] = None,
    journal: Annotated[Path | None, typer.Option(help="Checkpoint journal (JSONL) of finished feeders: a killed "
                                                 "screening restarted with it does not redo them")] = None,
    out: Annotated[Path | None, typer.Option(help="Result directory (ranking.csv, result.json) for "
                                             "`gplopt report`")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a non-empty --out directory")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")] = False,
) -> None:
    """Screen feeders: place a lot on each (its own, or at the bus with the most unserved energy), estimate
    its ECC and ECC per cost with standard errors, and rank the feeders by ECC per cost."""
    from gplopt.cli.format import progress
    from gplopt.io import prepare_out_dir
    from gplopt.screen import ScreenSpec, feeder_files, load_feeders, write_result
    from gplopt.screen import screen as run

    if workers is not None and workers < 1:
        raise InstanceError("--workers", ">= 1", workers)
    spec = ScreenSpec(years=years, seed=seed, budget=budget or 0)
    files = feeder_files(list(feeders or []))
    insts = load_feeders(files)
    out_dir = prepare_out_dir(out, force) if out is not None else None
    with progress("screen", not as_json) as bar:

        def on_progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(done, total, "feeders")

        res = run(files, spec, workers or os.cpu_count() or 1, scheduler, journal, on_progress, insts)
    if out_dir is not None:
        write_result(out_dir, res, insts)
    if as_json:
        from gplopt.strict_json import dumps

        print(dumps({**res.to_dict(), "out": str(out_dir) if out_dir else None}))
        return
    print_ranking(res.to_dict())
    if out_dir is not None:
        print(f"written to {out_dir}")


def print_ranking(res: dict[str, Any]) -> None:
    from gplopt.cli.format import show, table
    from gplopt.currency import DEFAULT
    from gplopt.formatting import SE, num, pm

    rows = []
    for r in res["ranking"]:
        name = Path(r["file"]).stem
        if r["status"] != "ok":
            rows.append(["–", name, "–", "–", "–", "–", r["status"][:30]])
            continue
        rows.append([str(r["rank"]), name, f"{r['lot_bus']} {r['lot']}", num(r["n_chargers"]),
                     pm(r["ecc_kw"], r["ecc_se_kw"]), pm(r["ecc_per_cost"], r["ecc_per_cost_se"]),
                     "" if r["vs_next"] is None else f"{'>' if r['vs_next'] == 'distinct' else '≈'} "
                     f"{num(r['z_next'], 1)}"])
    seed = "each feeder's own seed" if res["seed"] is None else f"seed {res['seed']}"
    show(table(f"Feeders ranked by ECC per cost ({res['years']} sample years per feeder, {seed}; {SE})",
               ["rank", "feeder", "lot bus", "chargers", "ECC kW", f"kW/M{res.get('currency', DEFAULT)}/yr",
                "z next"], rows,
               caption=f"z next: the gap to the next feeder in standard errors; '≈' = statistically "
               f"indistinguishable (under {res['z_distinct']:g}), '>' = distinct. Lot: given by the instance or "
               "placed by the screening rule (docs/quickstart.md)."))
