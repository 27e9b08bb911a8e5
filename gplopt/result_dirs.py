"""Result directories of the studies and the design search, as ``gplopt report`` reads them: the study's frames,
the per-year ENS and worst day of the case it ran on (computed here, on the same seed and years), and the
provenance record (version, seed, years, model files) of the instance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gplopt.instance import Instance

if TYPE_CHECKING:
    from gplopt.design.loop import DesignResult, DesignSpec
    from gplopt.reliability import SequentialMonteCarlo
    from gplopt.studies import PaperResult


def save_paper(res: PaperResult, out_dir: Path, inst: Instance, mc: SequentialMonteCarlo, base_dir: Path) -> None:
    """The paper's tables, plus the per-year ENS and worst day of its base case (``studies.BASE``)."""
    from gplopt.instance import with_overrides
    from gplopt.provenance import record
    from gplopt.studies import BASE, annual_ens_and_worst_day

    per_year, worst = annual_ens_and_worst_day(with_overrides(inst, BASE), mc)
    res.write(out_dir, inst, mc, {"per_year": per_year, "worst_day": worst},
              record(inst, mc.seed, res.years, base_dir))


def save_study(out_dir: Path, kind: str, inst: Instance, mc: SequentialMonteCarlo, points: pd.DataFrame,
               params: dict[str, Any], base_dir: Path) -> None:
    """A sweep, two-way sweep, tornado or phase study (``kind``), plus the per-year ENS and worst day of the
    instance as given; ``params`` (e.g. the swept paths) go into result.json."""
    from gplopt.provenance import record
    from gplopt.studies import annual_ens_and_worst_day, write_study

    per_year, worst = annual_ens_and_worst_day(inst, mc)
    write_study(out_dir, kind, inst, mc, {"points": points, "per_year": per_year, "worst_day": worst},
                {**params, **record(inst, mc.seed, mc.years, base_dir)})


def save_design(res: DesignResult, out_dir: Path, inst: Instance, spec: DesignSpec, base_dir: Path) -> None:
    """evaluations.csv, pareto.csv and result.json (with the instance's name, notes, seed, years, provenance)."""
    from gplopt.design.loop import write_results
    from gplopt.provenance import record

    write_results(res, out_dir, {"instance": inst.name, "notes": inst.notes, "seed": spec.seed, "years": spec.years,
                                 **record(inst, spec.seed, spec.years, base_dir)})
