"""What a design search returns: the recommendation (reported on fresh sample years), with siting its per-lot and
joint ECC, the Pareto front of ECC vs cost over the evaluated designs, and the result files."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.design.advice import Bound
from gplopt.design.evaluate import Evaluation
from gplopt.design.space import Design


@dataclass
class DesignResult:
    best: Evaluation               # the chosen design re-evaluated on a second fresh set: the reported value
    best_search: Evaluation        # the same design's search evaluation
    selection: Evaluation          # the same design on the confirmation years it was chosen on (biased upward)
    posterior_mean: float
    confirmations: list[Evaluation]
    evaluations: list[Evaluation]
    pareto: list[Evaluation]
    stopped_by: str
    seconds: float
    resumed: int
    lattice_size: int
    objective: str
    trace: list[dict[str, Any]] = field(default_factory=list)
    bounds: list[Bound] = field(default_factory=list)        # best design's variables on a range edge
    comparison: dict[str, Any] = field(default_factory=dict)  # cost per kW: GPL vs conventional storage
    dropped: tuple[str, ...] = ()                             # grid values the instance cannot offer
    budget_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        b = self.best
        return {
            "best": {**b.design.to_dict(), "ecc_kw": b.ecc_kw, "annual_cost": b.annual_cost,
                     "ecc_per_cost": b.ecc_per_cost, "net_benefit": b.net_benefit,
                     "ci_low": b.ecc_ci[0], "ci_high": b.ecc_ci[1],
                     "ecc_per_cost_sd": b.ecc_per_cost_sd, "ecc_se_kw": ecc_se_kw(b), "years": b.years,
                     "first_year": b.first_year, "at_bound": [x.name for x in self.bounds],
                     "ecc_per_cost_ci": list(ecc_per_cost_ci(b)), "siting": b.design.siting() or None,
                     "per_lot": b.lots},
            "bounds": [asdict(x) for x in self.bounds], "comparison": self.comparison,
            "grid_values_dropped": list(self.dropped), "budget_note": self.budget_note,
            "selection": {"ecc_kw": self.selection.ecc_kw, "ecc_per_cost": self.selection.ecc_per_cost,
                          "net_benefit": self.selection.net_benefit,
                          "first_year": self.selection.first_year, "years": self.selection.years},
            "objective": self.objective, "posterior_mean": self.posterior_mean,
            "pareto": [{**e.design.to_dict(), "ecc_kw": e.ecc_kw, "annual_cost": e.annual_cost}
                       for e in self.pareto],
            "evaluations": len(self.evaluations), "confirmations": [c.to_dict() for c in self.confirmations],
            "stopped_by": self.stopped_by, "seconds": self.seconds, "resumed": self.resumed,
            "lattice_size": self.lattice_size, "trace": self.trace,
        }


def ecc_per_cost_ci(e: Evaluation) -> tuple[float, float]:
    """The bootstrap interval of ECC per cost (the ECC's interval over the fixed annual cost, as in
    :func:`gplopt.economics.economics`)."""
    if e.annual_cost <= 0:
        return (float("inf"), float("inf"))
    return (e.ecc_ci[0] / e.annual_cost * 1e6, e.ecc_ci[1] / e.annual_cost * 1e6)


def flat_design(d: Design) -> dict[str, Any]:
    """A design as one table row: with siting, ``siting`` in words and ``<lot>_bus``, ``<lot>_n_chargers``."""
    row: dict[str, Any] = {k: v for k, v in d.to_dict().items() if k != "sites"}
    if d.sites:
        row["siting"] = d.siting()
        for s in d.sites:
            row[f"{s.id}_bus"], row[f"{s.id}_n_chargers"] = s.bus, s.n_chargers
    return row


def ecc_se_kw(e: Evaluation) -> float:
    """Standard error of an evaluation's ECC: the bootstrap spread of ECC per cost times the (fixed) cost."""
    return e.ecc_per_cost_sd * e.annual_cost / 1e6


def pareto_front(evals: list[Evaluation]) -> list[Evaluation]:
    """Designs not dominated in (higher ECC, lower annual cost); the latest evaluation of each design."""
    latest: dict[Design, Evaluation] = {}
    for e in evals:
        if e.design not in latest or e.years >= latest[e.design].years:
            latest[e.design] = e
    pts = sorted(latest.values(), key=lambda e: (e.annual_cost, -e.ecc_kw))
    front, best_ecc = [], -np.inf
    for e in pts:
        if e.ecc_kw > best_ecc:
            front.append(e)
            best_ecc = e.ecc_kw
    return front


def write_results(res: DesignResult, out_dir: Path, extra: dict[str, Any] | None = None) -> None:
    import pandas as pd

    from gplopt import strict_json
    from gplopt.io import write_text_atomic

    rows = [{**flat_design(e.design), **{k: v for k, v in e.to_dict().items() if k not in ("design", "lots")}}
            for e in res.evaluations]
    write_text_atomic(out_dir / "evaluations.csv", pd.DataFrame(rows).to_csv(index=False))
    write_text_atomic(out_dir / "pareto.csv", pd.DataFrame(
        [{**flat_design(e.design), "ecc_kw": e.ecc_kw, "annual_cost": e.annual_cost} for e in res.pareto]
    ).to_csv(index=False))
    write_text_atomic(out_dir / "result.json",    # strict JSON: NaN -> null with a reason
                      strict_json.dumps({"kind": "design", **res.to_dict(), **(extra or {})}))
